/** Watching a batch, its job and its worker's connections while faults are injected. */
import { sql } from 'kysely';
import { Redis } from 'ioredis';
import { sleep, type WorkerChild } from '../helpers/processes.ts';
import { QUEUE_NAME, jobIdFor } from '../../src/queue/queue.ts';
import type { Rig } from './rig.ts';

export interface BatchProgress {
  status: string;
  staged: boolean;
  bytes_read: number;
  applied_through: number;
}

export async function batchProgress(rig: Rig, batchId: number): Promise<BatchProgress> {
  return rig.db.db
    .selectFrom('batch')
    .select(['status', 'staged', 'bytes_read', 'applied_through'])
    .where('id', '=', batchId)
    .executeTakeFirstOrThrow();
}

const progressKey = (p: BatchProgress) => `${p.status}|${p.staged}|${p.bytes_read}|${p.applied_through}`;
export const isEnded = (status: string) => !['queued', 'validating', 'applying'].includes(status);

/** Backends of these application names on the test database. */
export async function backendsOf(rig: Rig, applicationNames: string[]): Promise<{ pid: number; application_name: string; state: string | null; query: string }[]> {
  if (applicationNames.length === 0) return [];
  const { rows } = await sql<{ pid: number; application_name: string; state: string | null; query: string }>`
    SELECT pid, application_name, state, query FROM pg_stat_activity
    WHERE datname = ${rig.db.name} AND application_name = ANY(${applicationNames}::text[]) AND pid <> pg_backend_pid()
  `.execute(rig.db.db);
  return rows;
}

/**
 * Time from a fault (`faultAt`) to the batch making progress again: once the victim's PostgreSQL backends are
 * gone (so a write it had in flight cannot count), the first change of the batch's status, bytes read (phase 1) or
 * checkpoint (phase 2), or its end. Null after `timeoutMs`.
 */
export async function recoveryTime(
  rig: Rig,
  batchId: number,
  faultAt: number,
  victims: string[],
  timeoutMs = 60_000,
): Promise<number | null> {
  const deadline = faultAt + timeoutMs;
  while ((await backendsOf(rig, victims)).length > 0) {
    if (Date.now() > deadline) return null;
    await sleep(25);
  }
  const before = await batchProgress(rig, batchId);
  if (isEnded(before.status)) return Date.now() - faultAt;
  const key = progressKey(before);
  for (;;) {
    const now = await batchProgress(rig, batchId);
    if (progressKey(now) !== key) return Date.now() - faultAt;
    if (Date.now() > deadline) return null;
    await sleep(25);
  }
}

/**
 * The worker that is working on a batch right now, as PostgreSQL sees it: the one whose backends are most often
 * active or inside a transaction over a few samples (the reconciler's short queries aside).
 */
export async function busyWorker(rig: Rig, samples = 8): Promise<WorkerChild | undefined> {
  const workers = rig.workers();
  const score = new Map<string, number>();
  for (let i = 0; i < samples; i++) {
    for (const b of await backendsOf(rig, workers.map((w) => w.applicationName))) {
      const busy = b.state === 'idle in transaction' || (b.state === 'active' && !/"status" in|purged_at/i.test(b.query));
      if (busy) score.set(b.application_name, (score.get(b.application_name) ?? 0) + 1);
    }
    await sleep(15);
  }
  let best: WorkerChild | undefined;
  let bestScore = 0;
  for (const w of workers) {
    const s = score.get(w.applicationName) ?? 0;
    if (s > bestScore) {
      best = w;
      bestScore = s;
    }
  }
  return best;
}

export async function waitForBatchEnd(rig: Rig, batchId: number, timeoutMs: number): Promise<BatchProgress> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const p = await batchProgress(rig, batchId);
    if (isEnded(p.status)) return p;
    if (Date.now() > deadline) {
      throw new Error(`batch ${batchId} still ${progressKey(p)} after ${timeoutMs} ms\n${rig.group.diagnostics()}`);
    }
    await sleep(100);
  }
}

/** Waits until the batch is in `status` (or has ended), for at most `timeoutMs`. */
export async function waitForPhase(rig: Rig, batchId: number, status: string, timeoutMs = 60_000): Promise<BatchProgress> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const p = await batchProgress(rig, batchId);
    if (p.status === status || isEnded(p.status) || Date.now() > deadline) return p;
    await sleep(25);
  }
}

/** Waits until the batch's job is in `state` in BullMQ (e.g. 'active'). */
export async function waitForJobState(rig: Rig, batchId: number, states: string[], timeoutMs: number): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const job = await rig.queue().getJob(jobIdFor(batchId));
    const state = job ? await job.getState() : 'missing';
    if (states.includes(state)) return state;
    if (Date.now() > deadline) throw new Error(`job of batch ${batchId} is ${state}, not ${states.join('/')}, after ${timeoutMs} ms`);
    await sleep(25);
  }
}

/** How many passes of the reconciler re-drove a batch, from the workers' logs. */
export function redrives(rig: Rig): number {
  return rig.group.children.reduce((n, c) => n + (c.output().match(/reconciler re-drove batches/g)?.length ?? 0), 0);
}

/** BullMQ's event stream of the queue: how many times jobs failed for stalling past maxStalledCount, and stalled. */
export async function jobEvents(rig: Rig): Promise<{ stalled: number; stallLimitFailures: number; failed: number }> {
  const client = (await rig.queue().client) as unknown as Redis;
  const entries = (await client.xrange(`${rig.env.QUEUE_PREFIX}:${QUEUE_NAME}:events`, '-', '+')) as [string, string[]][];
  let stalled = 0;
  let stallLimitFailures = 0;
  let failed = 0;
  for (const [, fields] of entries) {
    const event = fields[fields.indexOf('event') + 1];
    if (event === 'stalled') stalled++;
    if (event === 'failed') {
      failed++;
      if (fields.some((f) => f.includes('stalled more than allowable limit'))) stallLimitFailures++;
    }
  }
  return { stalled, stallLimitFailures, failed };
}

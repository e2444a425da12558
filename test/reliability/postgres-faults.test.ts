/**
 * RELIABILITY A7: the workers' PostgreSQL connections terminated (pg_terminate_backend) mid-batch, several times,
 * in phase 1 and in phase 2. The transaction rolls back, the job is retried, no chunk is half applied, and the
 * worker processes do not crash.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { sleep } from '../helpers/processes.ts';
import {
  backendsOf, createRig, createWorld, expectMatchesOracle, importFile, isEnded, recoveryTime,
  redrives, report, waitForBatchEnd, waitForPhase, type Rig, uploadScenario } from './support.ts';

/** Terminates every backend of the rig's workers on the test database; returns how many. */
async function terminateWorkerBackends(rig: Rig): Promise<number> {
  const names = rig.workers().map((w) => w.applicationName);
  const { rows } = await sql<{ terminated: boolean }>`
    SELECT pg_terminate_backend(pid) AS terminated FROM pg_stat_activity
    WHERE datname = ${rig.db.name} AND pid <> pg_backend_pid() AND application_name = ANY(${names}::text[])
  `.execute(rig.db.db);
  return rows.filter((r) => r.terminated).length;
}

/** Respawns the workers that died (as a process supervisor would); returns how many had died. */
async function respawnDead(rig: Rig, known: Set<string>): Promise<number> {
  const dead = rig.group.children.filter((c) => c.name.startsWith('w') && !c.alive() && !known.has(c.name));
  for (const c of dead) known.add(c.name);
  await Promise.all(dead.map(() => rig.startWorker()));
  return dead.length;
}

describe('A7: PostgreSQL connections of the workers terminated mid-batch', () => {
  let rig: Rig | undefined;
  afterAll(async () => {
    await rig?.close();
  });

  it('completes as the oracle says after 4 rounds of pg_terminate_backend (crashed workers respawned)', async () => {
    // Small chunks: the apply lasts long enough for two rounds whatever the machine's speed.
    rig = await createRig({ workers: 2, env: { CHUNK_SIZE: '10' } });
    const { world, expected, batchId } = await uploadScenario(rig, { accounts: 30_000, rows: 30_000, seed: 701, importSeed: 702 });
    const started = Date.now();
    const recoveries: number[] = [];
    const phases: string[] = [];
    const deadSeen = new Set<string>();
    let rounds = 0;
    let backends = 0;
    let crashes = 0;
    const plan = ['validating', 'validating', 'applying', 'applying'];
    for (const [i, phase] of plan.entries()) {
      const p = await waitForPhase(rig, batchId, phase);
      if (isEnded(p.status)) break;
      if (phase === 'validating') {
        // Phase 1 of 30,000 rows lasts about a second: strike while its COPY is open — the first attempt's, then
        // its retry's (the batch stays in phase 1 meanwhile) — not after a fixed delay.
        await waitForQuery(rig, 'COPY staged_row', 30_000);
      } else {
        await sleep(600);
      }
      // Wait for a worker to hold a connection (none for a moment after a retry's backoff).
      const deadline = Date.now() + 20_000;
      while ((await backendsOf(rig, rig.workers().map((w) => w.applicationName))).length === 0 && Date.now() < deadline) await sleep(50);
      const at = Date.now();
      backends += await terminateWorkerBackends(rig);
      rounds++;
      phases.push(p.status);
      // A worker that crashed (see the next test) is restarted, as systemd or Kubernetes would.
      await sleep(300);
      crashes += await respawnDead(rig, deadSeen);
      // The next round strikes the retry's phase 1 itself: no waiting for it to recover first.
      if (plan[i + 1] === 'validating') continue;
      const recovery = await recoveryTime(rig, batchId, at, [], 60_000);
      crashes += await respawnDead(rig, deadSeen);
      if (recovery !== null) recoveries.push(recovery);
    }
    const end = await waitForBatchEnd(rig, batchId, 150_000);
    expect(end.status, rig.group.diagnostics()).toBe('completed');
    const verdict = await expectMatchesOracle(rig, batchId, world.firm.declarantId, expected);
    const failedAttempts = rig.group.children.reduce((n, c) => n + (c.output().match(/job attempt failed/g)?.length ?? 0), 0);

    report('A7 pg_terminate_backend', {
      rows: expected.results.length,
      rounds,
      backends_terminated: backends,
      round_phases: phases.join(','),
      failed_attempts_retried: failedAttempts,
      reconciler_redrives: redrives(rig),
      rows_lost: verdict.rowsLost,
      rows_doubled: verdict.eventsDoubled,
      partial_chunks: verdict.eventsMissing + verdict.outcomeMismatches,
      worker_process_crashes: crashes,
      batch_seconds: ((Date.now() - started) / 1000).toFixed(1),
    }, recoveries);
    expect(rounds).toBe(4);
  }, 300_000);

  // pool.on('error') only covers idle clients: a checked-out client (the COPY, a chunk's transaction) needs a
  // listener of its own (src/db/connect.ts), or a dropped connection crashes the worker.
  it('keeps the worker process alive when its connections are terminated during phase 1', async () => {
    const local = await createRig({ workers: 1, env: { CHUNK_SIZE: '500' } });
    try {
      const world = await createWorld(local, { accounts: 20_000, seed: 711 });
      const up = await world.api.upload(importFile(world.registry, 20_000, 712));
      expect(up.status).toBe(202);
      const [worker] = local.workers();
      // Terminate while phase 1's COPY is open (its client is checked out for the whole of phase 1).
      await waitForQuery(local, 'COPY staged_row', 30_000);
      await terminateWorkerBackends(local);
      await sleep(2000);
      report('A7b worker survives pg_terminate_backend', {
        alive: worker.alive(),
        exit: JSON.stringify(worker.exit() ?? null),
        error: /Unhandled 'error' event/.test(worker.output()) ? 'unhandled_error_event_on_pg_Client' : 'none',
      });
      expect(worker.alive(), worker.output().slice(-2000)).toBe(true);
      const end = await waitForBatchEnd(local, up.body.id, 90_000);
      expect(end.status).toBe('completed');
    } finally {
      await local.close();
    }
  }, 120_000);
});

/** Waits until a worker's connection runs a statement starting with `start`. */
async function waitForQuery(rig: Rig, start: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await backendsOf(rig, rig.workers().map((w) => w.applicationName))).some((b) => b.query.startsWith(start))) {
    if (Date.now() > deadline) throw new Error(`no worker statement starting with ${start} seen`);
    await sleep(20);
  }
}

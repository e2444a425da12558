/**
 * The reliability rig (RELIABILITY.md): a database of the test's own, a private redis-server, a web process and
 * worker processes as real children; a world built from the deterministic generator (registry, a starting
 * portfolio, an import file) and THE ORACLE's expectations for it; and the checks every fault test ends with.
 */
import { randomBytes } from 'node:crypto';
import { expect } from 'vitest';
import { sql } from 'kysely';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { createTestDb, type TestDb } from '../helpers/db.ts';
import { startRedisServer, type RedisServer } from '../helpers/redis-server.ts';
import {
  ProcessGroup, sleep, startWebProcess, startWorkerProcess, type ProcessEnv, type WebChild, type WorkerChild,
} from '../helpers/processes.ts';
import { apiClient } from '../helpers/api.ts';
import { createFirm } from '../factories/world.ts';
import { createRandom, generateImportLines, generateRegistry, type RegistryAccount } from '../../src/demo/generate.ts';
import { upsertAccounts } from '../../src/registry/account.repository.ts';
import { DEFAULT_CATALOGUE, type Outcome } from '../../src/domain/types.ts';
import { QUEUE_NAME, jobIdFor } from '../../src/queue/queue.ts';
import { emptyOracleState, oracleForFile, type OracleFileResult, type OracleState } from '../oracle/oracle.ts';

export const NIR_HASH_KEY = 'reliability-nir-key';

/** Worker settings of every fault test: short locks and reconciler passes, so recovery fits in a test. */
export const FAULT_ENV = {
  JOB_LOCK_MS: '3000',
  RECONCILE_INTERVAL_SECONDS: '1',
  CHUNK_SIZE: '500',
  WORKER_CONCURRENCY: '2',
};

export interface Rig {
  db: TestDb;
  redis: RedisServer;
  env: ProcessEnv;
  group: ProcessGroup;
  web: WebChild;
  /** Starts one more worker process, named w1, w2, … in order. */
  startWorker(extraEnv?: Record<string, string>): Promise<WorkerChild>;
  workers(): WorkerChild[];
  /** The BullMQ queue, seen from the test (through the private Redis). */
  queue(): Queue;
  close(): Promise<void>;
}

export async function createRig(opts: { env?: Record<string, string>; workers?: number } = {}): Promise<Rig> {
  const db = await createTestDb();
  let redis: RedisServer | undefined;
  const group = new ProcessGroup();
  let queue: Queue | undefined;
  let queueConnection: Redis | undefined;
  let n = 0;
  const workerSet = new Set<WorkerChild>();
  const tag = randomBytes(3).toString('hex');
  try {
    redis = await startRedisServer();
    const env: ProcessEnv = {
      DATABASE_URL: db.url,
      REDIS_URL: redis.url,
      QUEUE_PREFIX: `pi-rel-${tag}`,
      NIR_HASH_KEY,
      ...FAULT_ENV,
      ...opts.env,
    };
    const webStarting = startWebProcess(`web-${tag}`, env).then((w) => group.add(w));
    const startWorker = (extraEnv: Record<string, string> = {}) =>
      startWorkerProcess(`w${++n}-${tag}`, { ...env, ...extraEnv }).then((w) => {
        workerSet.add(w);
        return group.add(w);
      });
    // Children start in parallel: each one is a few seconds of tsx compiling.
    const started = await Promise.allSettled([webStarting, ...Array.from({ length: opts.workers ?? 0 }, () => startWorker())]);
    for (const s of started) if (s.status === 'rejected') throw s.reason;
    const web = await webStarting;
    const rig: Rig = {
      db,
      redis,
      env,
      group,
      web,
      startWorker,
      workers: () => [...workerSet].filter((w) => w.alive()),
      queue() {
        if (!queue) {
          queueConnection = new Redis(redis!.url, { maxRetriesPerRequest: null });
          queueConnection.on('error', () => {});
          queue = new Queue(QUEUE_NAME, { connection: queueConnection, prefix: env.QUEUE_PREFIX });
          queue.on('error', () => {});
        }
        return queue;
      },
      async close() {
        await group.stopAll('SIGKILL');
        await queue?.close().catch(() => {});
        queueConnection?.disconnect();
        await redis?.close();
        await db.drop();
      },
    };
    return rig;
  } catch (err) {
    await group.stopAll('SIGKILL');
    await redis?.close();
    await db.drop();
    throw err;
  }
}

// The world -----------------------------------------------------------------------------------------------------------

export interface World {
  firm: Awaited<ReturnType<typeof createFirm>>;
  api: ReturnType<typeof apiClient>;
  registry: RegistryAccount[];
  /** The oracle's state before the first upload: registry, the starting portfolio, no failed proof. */
  state: OracleState;
}

/**
 * A firm with an API token, a registry of `accounts` accounts, and a starting portfolio holding a seeded share
 * of them (with random services), so that a file's adds meet `unchanged`/`updated` and its removes `removed`.
 */
export async function createWorld(rig: Rig, opts: { accounts: number; seed: number; portfolioShare?: number }): Promise<World> {
  const { db } = rig.db;
  const firm = await createFirm(db, `Cabinet ${opts.seed}`);
  const registry = [...generateRegistry({ count: opts.accounts, seed: opts.seed })];
  for (let i = 0; i < registry.length; i += 5000) await upsertAccounts(db, registry.slice(i, i + 5000), NIR_HASH_KEY);

  const state = emptyOracleState(registry);
  const random = createRandom(opts.seed + 1);
  const online = [...DEFAULT_CATALOGUE.online];
  const email = [...DEFAULT_CATALOGUE.email];
  const subset = (codes: string[]) => codes.filter(() => random.chance(0.3)).sort();
  const clients = [];
  for (const a of registry) {
    if (!random.chance(opts.portfolioShare ?? 0.3)) continue;
    const entry = { case: a.kind, siren: a.siren, onlineServices: subset(online), emailServices: subset(email) };
    state.portfolio.set(a.accountNumber, entry);
    clients.push({
      declarant_id: firm.declarantId,
      account_number: a.accountNumber,
      client_case: a.kind,
      siren: a.siren,
      name: a.name,
      online_services: entry.onlineServices,
      email_services: entry.emailServices,
    });
  }
  for (let i = 0; i < clients.length; i += 2000) await db.insertInto('portfolio_client').values(clients.slice(i, i + 2000)).execute();
  const api = apiClient(rig.web.baseUrl, firm.token);
  // A failed request says what the web process printed (a crash, a limit hit).
  const upload = api.upload.bind(api);
  api.upload = async (...args: Parameters<typeof upload>) => {
    try {
      return await upload(...args);
    } catch (err) {
      throw new Error(`upload failed: ${(err as Error).message} (${(err as Error).cause ?? ''})\n${rig.group.diagnostics(40)}`);
    }
  };
  return { firm, api, registry, state };
}

/** An import file of `rows` records over the registry, from the generator (LF line endings, UTF-8). */
export function importFile(registry: readonly RegistryAccount[], rows: number, seed: number): Buffer {
  return Buffer.from([...generateImportLines(registry, { rows, seed })].join(''), 'utf8');
}

export function expectedFor(bytes: Uint8Array, state: OracleState): Promise<OracleFileResult> {
  return oracleForFile(bytes, state, { dryRun: false });
}

// Watching a batch ------------------------------------------------------------------------------------------------------

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

// Checking a batch against the oracle ---------------------------------------------------------------------------------

export interface Verdict {
  rows: number;
  /** Lines the oracle has and batch_row lacks. */
  rowsLost: number;
  /** batch_row lines the oracle does not have. */
  rowsExtra: number;
  outcomeMismatches: number;
  countsMismatch: boolean;
  /** Events beyond one per added/updated/removed row (by client and kind), and rows whose event is missing. */
  eventsDoubled: number;
  eventsMissing: number;
  proofFailuresOff: number;
  samples: string[];
}

const sortedCodes = (codes: readonly string[]) => [...codes].sort().join(',');

/**
 * Everything a fault test checks about one completed batch: the rows (each line once, outcome and codes as the
 * oracle says), the counts, the events and the failed proofs.
 */
export async function verifyBatch(rig: Rig, batchId: number, expected: OracleFileResult): Promise<Verdict> {
  const { db } = rig.db;
  const samples: string[] = [];
  const note = (s: string) => samples.length < 10 && samples.push(s);
  const rows = await db.selectFrom('batch_row').select(['line', 'outcome', 'codes', 'client_key']).where('batch_id', '=', batchId).orderBy('line').execute();
  const got = new Map<number, (typeof rows)[number]>();
  let duplicateLines = 0;
  for (const r of rows) {
    if (got.has(r.line)) duplicateLines++;
    got.set(r.line, r);
  }
  let rowsLost = 0;
  let outcomeMismatches = 0;
  const want = new Map(expected.results.map((r) => [r.line, r]));
  for (const e of expected.results) {
    const r = got.get(e.line);
    if (!r) {
      rowsLost++;
      note(`line ${e.line} missing`);
      continue;
    }
    if (r.outcome !== e.outcome || sortedCodes(r.codes) !== sortedCodes(e.codes)) {
      outcomeMismatches++;
      note(`line ${e.line}: got ${r.outcome} [${r.codes}] want ${e.outcome} [${e.codes}]`);
    }
  }
  const rowsExtra = rows.filter((r) => !want.has(r.line)).length + duplicateLines;

  const batch = await db.selectFrom('batch').selectAll().where('id', '=', batchId).executeTakeFirstOrThrow();
  const tally: Record<Outcome, number> = { added: 0, removed: 0, updated: 0, unchanged: 0, rejected: 0 };
  for (const e of expected.results) tally[e.outcome]++;
  const sum = batch.added + batch.removed + batch.updated + batch.unchanged + batch.rejected;
  const countsMismatch =
    batch.total !== expected.results.length || sum !== batch.total ||
    (Object.keys(tally) as Outcome[]).some((o) => batch[o] !== tally[o]);
  if (countsMismatch) note(`counts ${JSON.stringify({ total: batch.total, added: batch.added, removed: batch.removed, updated: batch.updated, unchanged: batch.unchanged, rejected: batch.rejected })} want ${JSON.stringify(tally)}`);

  // One event per added/updated/removed line, of that kind.
  const events = await db.selectFrom('portfolio_event').select(['line', 'kind', 'account_number']).where('batch_id', '=', batchId).execute();
  const eventsByLine = new Map<number, number>();
  for (const ev of events) eventsByLine.set(ev.line, (eventsByLine.get(ev.line) ?? 0) + 1);
  let eventsMissing = 0;
  let eventsDoubled = 0;
  const changing = expected.results.filter((e) => e.outcome === 'added' || e.outcome === 'updated' || e.outcome === 'removed');
  for (const e of changing) {
    const n = eventsByLine.get(e.line) ?? 0;
    if (n === 0) {
      eventsMissing++;
      note(`no event for line ${e.line} (${e.outcome})`);
    }
    if (n > 1) eventsDoubled += n - 1;
  }
  const changingLines = new Set(changing.map((e) => e.line));
  eventsDoubled += events.filter((ev) => !changingLines.has(ev.line)).length;
  // Doubles by client too: a client changed twice in the same batch would be a row applied twice.
  const byClient = new Map<string, number>();
  for (const ev of events) byClient.set(`${ev.account_number}|${ev.kind}`, (byClient.get(`${ev.account_number}|${ev.kind}`) ?? 0) + 1);
  for (const [k, n] of byClient) if (n > 1) {
    eventsDoubled += n - 1;
    note(`client event doubled ${k} ×${n}`);
  }

  // One failed proof per row that failed its proof.
  const proofs = await db.selectFrom('proof_failure').select(['line']).where('batch_id', '=', batchId).execute();
  const wantProofs = new Set(
    expected.results.filter((e) => e.codes.some((c) => c === 'AMOUNT_MISMATCH' || c === 'NIR_MISMATCH')).map((e) => e.line),
  );
  const proofCounts = new Map<number, number>();
  for (const p of proofs) proofCounts.set(p.line, (proofCounts.get(p.line) ?? 0) + 1);
  let proofFailuresOff = 0;
  for (const line of wantProofs) if (proofCounts.get(line) !== 1) proofFailuresOff++;
  for (const line of proofCounts.keys()) if (!wantProofs.has(line)) proofFailuresOff++;
  if (proofFailuresOff) note(`proof_failure: ${proofs.length} rows, ${wantProofs.size} expected, ${proofFailuresOff} lines off`);

  return { rows: rows.length, rowsLost, rowsExtra, outcomeMismatches, countsMismatch, eventsDoubled, eventsMissing, proofFailuresOff, samples };
}

/** The firm's portfolio as canonical lines, and the oracle's. Differences (up to 10) are returned. */
export async function portfolioDifferences(rig: Rig, declarantId: number, expected: OracleState['portfolio']): Promise<{ count: number; samples: string[] }> {
  const rows = await rig.db.db
    .selectFrom('portfolio_client')
    .select(['account_number', 'client_case', 'siren', 'online_services', 'email_services'])
    .where('declarant_id', '=', declarantId)
    .execute();
  const line = (acc: string, kase: string, siren: string | null, online: readonly string[], email: readonly string[]) =>
    `${acc}|${kase}|${siren ?? ''}|${[...online].sort().join('+')}|${[...email].sort().join('+')}`;
  const got = new Set(rows.map((r) => line(r.account_number, r.client_case, r.siren, r.online_services, r.email_services)));
  const want = new Set([...expected].map(([acc, e]) => line(acc, e.case, e.siren, e.onlineServices, e.emailServices)));
  const samples: string[] = [];
  let count = 0;
  for (const g of got) if (!want.has(g)) {
    count++;
    if (samples.length < 10) samples.push(`unexpected ${g}`);
  }
  for (const w of want) if (!got.has(w)) {
    count++;
    if (samples.length < 10) samples.push(`missing ${w}`);
  }
  return { count, samples };
}

/** verifyBatch and portfolioDifferences, asserted: every figure must be zero. */
export async function expectMatchesOracle(
  rig: Rig,
  batchId: number,
  declarantId: number,
  expected: OracleFileResult,
  /** The portfolio expected now; null when a later batch has changed it since (it is checked after that one). */
  portfolio: OracleState['portfolio'] | null = expected.portfolio,
) {
  const verdict = await verifyBatch(rig, batchId, expected);
  const portfolioDiff = portfolio === null ? { count: 0, samples: [] } : await portfolioDifferences(rig, declarantId, portfolio);
  const detail = [...verdict.samples, ...portfolioDiff.samples].join('\n');
  expect(verdict.rows, detail).toBe(expected.results.length);
  expect(verdict.rowsLost, detail).toBe(0);
  expect(verdict.rowsExtra, detail).toBe(0);
  expect(verdict.outcomeMismatches, detail).toBe(0);
  expect(verdict.countsMismatch, detail).toBe(false);
  expect(verdict.eventsDoubled, detail).toBe(0);
  expect(verdict.eventsMissing, detail).toBe(0);
  expect(verdict.proofFailuresOff, detail).toBe(0);
  expect(portfolioDiff.count, detail).toBe(0);
  return verdict;
}

// Figures ----------------------------------------------------------------------------------------------------------------

export function percentile(values: number[], p: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

const seconds = (ms: number | null) => (ms === null ? 'n/a' : `${(ms / 1000).toFixed(2)}s`);

/** One summary line per test, for the lead to quote. */
export function report(name: string, figures: Record<string, string | number | boolean | null>, recoveries?: number[]): void {
  const parts = Object.entries(figures).map(([k, v]) => `${k}=${v}`);
  if (recoveries) {
    parts.push(`recovery_p50=${seconds(percentile(recoveries, 50))}`, `recovery_max=${seconds(recoveries.length ? Math.max(...recoveries) : null)}`);
  }
  console.log(`[reliability] ${name}: ${parts.join(' ')}`);
}

/** The usual start of a fault scenario: a world, an import file, the oracle's expectations, the upload accepted. */
export async function uploadScenario(rig: Rig, opts: { accounts: number; rows: number; seed: number; importSeed: number }) {
  const world = await createWorld(rig, { accounts: opts.accounts, seed: opts.seed });
  const bytes = importFile(world.registry, opts.rows, opts.importSeed);
  const expected = await expectedFor(bytes, world.state);
  const up = await world.api.upload(bytes);
  expect(up.status).toBe(202);
  const batchId: number = up.body.id;
  return { world, bytes, expected, batchId };
}

/**
 * End-to-end benchmark: `npm run bench -- --rows N` (default 1,000,000).
 * Generates a registry, an import file of N rows (Windows-1252, `;`: ~70 % adds over the four cases, 20 %
 * removes, 10 % bad rows) and the firm's portfolio before it (the clients the removes name), runs the real
 * pipeline — upload through the HTTP API → BullMQ → a worker process → PostgreSQL — until the batch completes,
 * and, in the same run, a baseline: COPY of the same file into an unindexed table. Prints figures, then one JSON
 * line last.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createReadStream, createWriteStream, readFileSync, rmSync, mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createInterface } from 'node:readline';
import { request, type IncomingMessage } from 'node:http';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import iconv from 'iconv-lite';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { Redis } from 'ioredis';
import { generateImportRecords, generateRegistry, importLine, IMPORT_HEADER, type RegistryAccount } from '../src/demo/generate.ts';
import { ensureDatabase, migrateToLatest } from '../src/db/migrate.ts';
import { connectDb } from '../src/db/connect.ts';
import { createApiToken, createUser } from '../src/users/user.repository.ts';
import { hashNir } from '../src/users/secret.ts';

const { values } = parseArgs({
  options: {
    rows: { type: 'string', default: '1000000' },
    /** Accounts in the registry (default: as many as rows): a typical file against a registry of millions. */
    registry: { type: 'string' },
    'database-url': { type: 'string', default: process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/pi_bench' },
    'redis-url': { type: 'string', default: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379' },
    port: { type: 'string', default: '3977' },
    /** Lines applied per transaction; the worker's default (CHUNK_SIZE) when not given. */
    'chunk-size': { type: 'string' },
  },
});
const ROWS = Number(values.rows);
const REGISTRY = Number(values.registry ?? values.rows);
const DB_URL = values['database-url']!;
const NIR_KEY = 'bench-nir-key';
const log = (msg: string) => process.stderr.write(msg + '\n');

async function recreateDatabase(url: string) {
  const u = new URL(url);
  const name = u.pathname.slice(1);
  u.pathname = '/postgres';
  const admin = new pg.Client({ connectionString: u.toString() });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  await admin.end();
  await ensureDatabase(url);
  await migrateToLatest(url);
}

/** COPYs rows of text (one line each, ending with its LF) into a table, 64 KB at a time. */
async function copyLines(pool: pg.Pool, statement: string, rows: Iterable<string>) {
  const client = await pool.connect();
  try {
    async function* chunks() {
      let buf = '';
      for (const row of rows) {
        buf += row;
        if (buf.length > 65536) {
          yield buf;
          buf = '';
        }
      }
      if (buf) yield buf;
    }
    await pipeline(Readable.from(chunks()), client.query(copyFrom(statement)));
  } finally {
    client.release();
  }
}

const copyName = (name: string) => name.replace(/[\\\t\n\r]/g, ' ');

function loadRegistry(pool: pg.Pool, accounts: RegistryAccount[]) {
  return copyLines(
    pool,
    'COPY account (account_number, kind, siren, nir_hash, reference_amount_cents, status, name) FROM STDIN',
    (function* () {
      for (const a of accounts) {
        yield `${a.accountNumber}\t${a.kind}\t${a.siren ?? '\\N'}\t${a.nir ? hashNir(NIR_KEY, a.nir) : '\\N'}\t${a.referenceAmountCents ?? '\\N'}\t${a.status}\t${copyName(a.name)}\n`;
      }
    })(),
  );
}

/** Writes the import file; returns the registry indexes of the accounts its removes name. */
async function writeImportFile(path: string, accounts: RegistryAccount[]): Promise<number[]> {
  const removed: number[] = [];
  async function* chunks() {
    let buf = IMPORT_HEADER.join(';') + '\n';
    for (const record of generateImportRecords(accounts, { rows: ROWS, seed: 7 })) {
      if (record.account !== undefined) removed.push(record.account);
      buf += importLine(record.cells);
      if (buf.length > 65536) {
        yield iconv.encode(buf, 'windows-1252');
        buf = '';
      }
    }
    if (buf) yield iconv.encode(buf, 'windows-1252');
  }
  await pipeline(Readable.from(chunks()), createWriteStream(path));
  return removed;
}

/**
 * The firm's portfolio before the import: the clients its removes name, as a firm cleaning out its portfolio
 * removes clients it has (so that removes delete clients and write their history, rather than find nothing).
 */
async function seedPortfolio(pool: pg.Pool, declarantId: number, accounts: RegistryAccount[], indexes: number[]) {
  await copyLines(
    pool,
    'COPY portfolio_client (declarant_id, account_number, client_case, siren, name) FROM STDIN',
    (function* () {
      for (const i of new Set(indexes)) {
        const a = accounts[i];
        yield `${declarantId}\t${a.accountNumber}\t${a.kind}\t${a.siren ?? '\\N'}\t${copyName(a.name)}\n`;
      }
    })(),
  );
  await pool.query('ANALYZE portfolio_client');
}

/**
 * Uploads the file as a client program would (curl -F): the multipart body streamed from disk with its length.
 * (fetch with a FormData spent ~1.4 s of CPU on a 112 MB file, more than the web process receiving it.)
 */
async function uploadFile(url: string, token: string, file: string): Promise<{ id: number }> {
  const boundary = `bench${Date.now()}`;
  const head = Buffer.from(
    `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="import.csv"\r\nContent-Type: text/csv\r\n\r\n`,
  );
  const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
  const req = request(url, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${token}`,
      'content-type': `multipart/form-data; boundary=${boundary}`,
      'content-length': head.length + statSync(file).size + tail.length,
    },
  });
  const response = new Promise<IncomingMessage>((resolve, reject) => req.on('response', resolve).on('error', reject));
  req.write(head);
  await pipeline(createReadStream(file, { highWaterMark: 256 * 1024 }), req, { end: false });
  req.end(tail);
  const res = await response;
  let body = '';
  for await (const chunk of res) body += chunk;
  if (res.statusCode !== 202) throw new Error(`upload answered ${res.statusCode}: ${body}`);
  return JSON.parse(body) as { id: number };
}

/** Peak resident memory of a process (VmHWM), in MB. */
function peakRssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0);
  return Math.round(kb / 1024);
}

const ROOT = fileURLToPath(new URL('..', import.meta.url));

/**
 * The processes run exactly as `npm run web` / `npm run worker` run them: the node arguments (heap caps, bundle in
 * dist/) are read from package.json's scripts, after `npm run build`.
 */
function startProcess(script: 'web' | 'worker', env: Record<string, string>, onLog?: (entry: Record<string, unknown>) => void): ChildProcess {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
  const [command, ...args] = pkg.scripts[script].trim().split(/\s+/);
  if (command !== 'node') throw new Error(`package.json's "${script}" script does not start with node: ${pkg.scripts[script]}`);
  // BENCH_PROFILE=dir writes a V8 CPU profile of each process there (open it in Chrome's DevTools).
  const profile = process.env.BENCH_PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROFILE}`] : [];
  const child = spawn(process.execPath, [...profile, ...args], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', onLog ? 'pipe' : 'ignore', 'inherit'],
  });
  if (onLog) {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      try {
        onLog(JSON.parse(line) as Record<string, unknown>);
      } catch {
        /* not a log line */
      }
    });
  }
  return child;
}

async function waitHealthy(url: string) {
  for (let i = 0; i < 200; i++) {
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      /* not yet */
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('web did not become healthy');
}

async function copyBaseline(pool: pg.Pool, file: string): Promise<number> {
  const client = await pool.connect();
  try {
    await client.query('DROP TABLE IF EXISTS copy_baseline');
    // One text column per line: the file has rows of every shape (bad ones too), which a typed COPY would refuse.
    await client.query('CREATE TABLE copy_baseline (line text)');
    const started = performance.now();
    const copy = client.query(
      copyFrom(`COPY copy_baseline FROM STDIN WITH (FORMAT csv, DELIMITER E'\\x01', QUOTE E'\\x02', HEADER true, ENCODING 'WIN1252')`),
    );
    await pipeline(createReadStream(file, { highWaterMark: 64 * 1024 }), copy);
    const seconds = (performance.now() - started) / 1000;
    await client.query('DROP TABLE copy_baseline');
    return seconds;
  } finally {
    client.release();
  }
}

async function main() {
  const dir = mkdtempSync(join(tmpdir(), 'pi-bench-'));
  const file = join(dir, 'import.csv');
  log(`preparing: registry of ${REGISTRY} accounts, import of ${ROWS} rows`);
  await recreateDatabase(DB_URL);
  const accounts = [...generateRegistry({ count: REGISTRY, seed: 1 })];
  const { db, pool, close } = connectDb(DB_URL, { max: 4 });
  await loadRegistry(pool, accounts);
  await pool.query('ANALYZE account');
  const removed = await writeImportFile(file, accounts);
  const user = await createUser(db, { declarant: 'Cabinet Bench', email: 'bench@bench.test', password: 'bench-password' });
  await seedPortfolio(pool, user.declarant_id, accounts, removed);
  accounts.length = 0;
  const token = await createApiToken(db, user.id);
  const size = statSync(file).size;
  log(`import file: ${(size / 1e6).toFixed(1)} MB`);

  const prefix = `pi-bench-${Date.now()}`;
  const env = {
    DATABASE_URL: DB_URL,
    REDIS_URL: values['redis-url']!,
    QUEUE_PREFIX: prefix,
    PORT: values.port!,
    HOST: '127.0.0.1',
    LOG_LEVEL: 'warn',
    NIR_HASH_KEY: NIR_KEY,
    UPLOAD_MAX_BYTES: String(Math.max(size * 2, 100 * 1024 * 1024)),
    ...(values['chunk-size'] ? { CHUNK_SIZE: values['chunk-size'] } : {}),
    WORKER_CONCURRENCY: '1',
  };
  execFileSync('npm', ['run', '-s', 'build'], { cwd: ROOT, stdio: 'inherit' });
  const web = startProcess('web', env);
  // The worker logs how long each step of reading and judging took: kept for the phases.
  let readSteps: unknown = null;
  const worker = startProcess('worker', { ...env, LOG_LEVEL: 'info' }, (entry) => {
    if (entry.msg === 'batch read and judged') readSteps = entry.ms;
  });
  const redis = new Redis(values['redis-url']!);
  try {
    const base = `http://127.0.0.1:${values.port}`;
    await waitHealthy(`${base}/healthz`);
    await new Promise((r) => setTimeout(r, 1000)); // the worker's own start
    const redisBefore = Number(/used_memory:(\d+)/.exec(await redis.info('memory'))?.[1]);

    const started = performance.now();
    const { id } = await uploadFile(`${base}/api/v1/batches`, token, file);
    const uploaded = performance.now();
    let batch: any;
    let redisPeak = 0;
    for (;;) {
      batch = await (await fetch(`${base}/api/v1/batches/${id}`, { headers: { authorization: `Bearer ${token}` } })).json();
      redisPeak = Math.max(redisPeak, Number(/used_memory:(\d+)/.exec(await redis.info('memory'))?.[1]));
      if (!['queued', 'validating', 'applying'].includes(batch.status)) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const seconds = (performance.now() - started) / 1000;
    if (batch.status !== 'completed') throw new Error(`batch ended ${batch.status}: ${JSON.stringify(batch.error)}`);
    const t = await db.selectFrom('batch').select(['created_at', 'started_at', 'staged_at', 'resolved_at', 'finished_at']).where('id', '=', id).executeTakeFirstOrThrow();
    const span = (a: Date | null, b: Date | null) => (a && b ? Math.round((b.getTime() - a.getTime())) / 1000 : null);
    const workerRss = peakRssMb(worker.pid!);
    const webRss = peakRssMb(web.pid!);

    const copySeconds = await copyBaseline(pool, file);
    const rowsPerS = Math.round(ROWS / seconds);
    const copyRowsPerS = Math.round(ROWS / copySeconds);
    log(`upload: ${((uploaded - started) / 1000).toFixed(2)} s; counts ${JSON.stringify(batch.counts)}`);
    log(`pipeline: ${seconds.toFixed(2)} s = ${rowsPerS} rows/s; COPY baseline: ${copySeconds.toFixed(2)} s = ${copyRowsPerS} rows/s`);
    log(`peak RSS: worker ${workerRss} MB, web ${webRss} MB; Redis memory during the import: +${((redisPeak - redisBefore) / 1024).toFixed(0)} KiB`);
    console.log(
      JSON.stringify({
        rows: ROWS,
        seconds: Math.round(seconds * 100) / 100,
        rows_per_s: rowsPerS,
        copy_rows_per_s: copyRowsPerS,
        ratio: Math.round((rowsPerS / copyRowsPerS) * 1000) / 1000,
        worker_peak_rss_mb: workerRss,
        web_peak_rss_mb: webRss,
        phases: {
          upload: Math.round((uploaded - started) / 10) / 100,
          queue: span(t.created_at, t.started_at),
          read: span(t.started_at, t.staged_at),
          read_steps_ms: readSteps,
          check: span(t.staged_at, t.resolved_at),
          apply: span(t.resolved_at, t.finished_at),
        },
        redis_peak_delta_kb: Math.round((redisPeak - redisBefore) / 1024),
      }),
    );
  } finally {
    web.kill('SIGTERM');
    worker.kill('SIGTERM');
    redis.disconnect();
    await close();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});

import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import type { Outcome, ServiceCatalogue } from '../domain/types.ts';
import { openImportFile, FileError, type ImportRecord } from '../csv/read-import-file.ts';
import type { ScanResult } from '../csv/scan.ts';
import { StagedRowWriter, type StageRules } from './staged-rows.ts';
import { readInParallel } from './parallel-read.ts';
import {
  countJudged,
  createStagingTable,
  dropStagingTables,
  judgePart,
  prepareJudging,
  STAGED_COLUMNS,
  type BlockRange,
} from './judge-staged.ts';
import { KeyFilter } from './key-filter.ts';
import { inTransaction, withClient } from '../db/connect.ts';
import { attachBatchRowTable, batchRowTable, createBatchRowTable, indexBatchRowTable } from './batch-row-table.ts';

export { FileError };

export interface StageInput {
  batchId: number;
  declarantId: number;
  open: () => AsyncIterable<Uint8Array>;
  /** The upload's scan, when stored with it: saves a pass over the bytes. */
  scan?: ScanResult;
  catalogue: ServiceCatalogue;
  nirHashKey: string;
  onProgress?: (bytesRead: number) => void;
  /** Threads reading a large file (default 1): faster, for each thread's memory (README: READ_THREADS, Benchmarks). */
  readThreads?: number;
  /** The size of the parts a file is cut into for reading threads (tests: small parts on a small file). */
  partBytes?: number;
}

export interface StageResult {
  total: number;
  counts: Record<Outcome, number>;
  codeCounts: Record<string, number>;
  /** Threads the file was read on (more than one for a large file). */
  threads: number;
  /** Milliseconds each step took, in order (for the log). */
  steps: Record<string, number>;
  /** Parts the rows were judged in, each on a connection of its own. */
  parts: number;
}

/**
 * Reads the whole file and judges every row — stage 1 (format) in JS while reading, into a staging table; stage 2
 * (duplicates) in SQL over the whole file; stages 3 (registry, proof lock) and 4 (portfolio) in SQL, a part of the
 * file a connection, several at once — into the batch's own rows table, which is then indexed and attached to
 * batch_row in the transaction that marks the batch staged. The outcomes are the plan; nothing is applied to any
 * portfolio here. A file-level failure throws FileError and leaves no row behind.
 *
 * The caller runs this only once the declarant's earlier batches have ended, so the state every row is
 * judged against cannot move under it. Parsing overlaps with PostgreSQL taking the COPY.
 */
export async function stageBatch(pool: pg.Pool, input: StageInput): Promise<StageResult> {
  let bytesRead = 0;
  const countingOpen = () => {
    const source = input.open();
    return (async function* () {
      for await (const chunk of source) {
        bytesRead += chunk.length;
        input.onProgress?.(bytesRead);
        yield chunk;
      }
    })();
  };
  const { meta, batches } = await openImportFile(countingOpen, input.scan);
  const rules: StageRules = { columns: meta.columns, catalogue: input.catalogue, nirHashKey: input.nirHashKey };
  // The threads connect with the pool's own connection string.
  let threads = pool.options.connectionString ? readThreads(input) : 1;
  let total = 0;
  let candidateLines: number[] = [];

  /** The records read on this thread, as COPY text. */
  async function* oneThread(records: AsyncGenerator<ImportRecord[]>): AsyncGenerator<Buffer> {
    const keys = new KeyFilter();
    const lines: number[] = [];
    const writer = new StagedRowWriter(rules, (line, key) => {
      if (keys.addAndTest(key)) lines.push(line);
    });
    for await (const batch of records) for (const full of writer.add(batch)) yield full;
    for (const full of writer.end()) yield full;
    total = writer.rows;
    candidateLines = lines;
  }

  let counts: Record<Outcome, number> = { added: 0, removed: 0, updated: 0, unchanged: 0, rejected: 0 };
  let codeCounts: Record<string, number> = {};
  const client = await pool.connect();
  let broken: Error | undefined;
  let locked = false;
  const steps: Record<string, number> = {};
  let parts = 0;
  let stepStart = performance.now();
  const step = (name: string) => {
    const now = performance.now();
    steps[name] = Math.round(now - stepStart);
    stepStart = now;
  };
  try {
    // Two attempts at one batch (a stalled job taken over while its first worker still runs) read the file one
    // after the other; the second finds the rows staged and stops, instead of judging them again against a
    // portfolio the first may already have started to change. A session lock, held across the steps below and
    // released with the connection if the process dies. (A row lock on the batch would also block the progress
    // and cancel updates for the whole read.)
    await client.query('SELECT pg_advisory_lock($1, $2)', [STAGE_LOCK_CLASS, input.batchId]);
    locked = true;
    const { rows: current } = await client.query<{ staged: boolean }>('SELECT staged FROM batch WHERE id = $1', [input.batchId]);
    if (current[0]?.staged) {
      await batches.return(undefined);
      return { total: 0, counts, codeCounts, threads: 0, steps, parts: 0 };
    }
    // The batch's rows table and the staged rows are committed as they are written (several connections judge
    // them), but nobody sees them until the last transaction attaches the one and drops the other; what an
    // attempt that died leaves behind, the next one drops first.
    const table = await createBatchRowTable(client, input.batchId);
    const staging = await createStagingTable(client, input.batchId);
    // Read on this thread: the rows go in frozen (COPY FREEZE, in the transaction that empties the table), so the
    // scans that judge them find them visible to all instead of each setting every row's hint bits and writing
    // every page back once more.
    const readHere = (records: AsyncGenerator<ImportRecord[]>) =>
      inTransaction(client, async () => {
        await client.query(`TRUNCATE ${staging}`);
        await pipeline(Readable.from(oneThread(records)), client.query(copyFrom(`COPY ${staging} (${STAGED_COLUMNS}) FROM STDIN (FREEZE)`)));
      });
    if (threads > 1) {
      await batches.return(undefined);
      const read = await readInParallel({
        open: countingOpen,
        meta,
        rules,
        threads,
        partBytes: input.partBytes ?? PART_BYTES,
        databaseUrl: pool.options.connectionString!,
        table: staging,
        copyColumns: STAGED_COLUMNS,
      });
      ({ rows: total, candidateLines } = read);
      if (read.miscut) {
        // Not cut between records (see readInParallel): read again from the start, on this thread.
        threads = 1;
        await readHere((await openImportFile(countingOpen, input.scan)).batches);
      }
    } else {
      await readHere(batches);
    }
    step('read');
    const ranges = await prepareJudging(client, pool, input.batchId, input.declarantId, candidateLines, JUDGE_LANES);
    parts = ranges.length;
    step('prepare');
    await judgeParts(pool, client, ranges, (c, part) => judgePart(c, table, input.batchId, input.declarantId, part));
    step('judge');
    await inTransaction(client, async () => {
      // The counts on a connection of their own while this one indexes the rows.
      [{ counts, codeCounts }] = await Promise.all([withClient(pool, (c) => countJudged(c, table)), indexBatchRowTable(client, input.batchId)]);
      step('count');
      await attachBatchRowTable(client, input.batchId);
      await dropStagingTables(client, input.batchId);
      await client.query(
        `UPDATE batch SET staged = true, staged_at = clock_timestamp(), total = $2, bytes_read = size, encoding = $3,
           delimiter = $4, line_ending = $5, bom = $6, header_cells = $7, columns = $8, warnings = $9, code_counts = $10
         WHERE id = $1`,
        [
          input.batchId,
          total,
          meta.encoding,
          meta.delimiter,
          meta.lineEnding,
          meta.bom,
          JSON.stringify(meta.headerCells),
          JSON.stringify(meta.columns),
          JSON.stringify(meta.warnings),
          JSON.stringify(codeCounts),
        ],
      );
    });
    step('attach');
  } catch (err) {
    // A file that cannot be read ends its batch: nothing of it is kept. (After any other failure the retry drops
    // what is left.) Under the lock still, so as not to drop what another attempt writes.
    if (err instanceof FileError) await discardStaging(client, input.batchId).catch(() => {});
    broken = err as Error;
    throw err;
  } finally {
    // After an aborted COPY the connection's state is not worth trusting: it is discarded, which also releases
    // the lock; otherwise the lock is released before the connection goes back to the pool.
    if (locked && !broken) await client.query('SELECT pg_advisory_unlock($1, $2)', [STAGE_LOCK_CLASS, input.batchId]).catch((e: Error) => (broken = e));
    client.release(broken);
  }
  return { total, counts, codeCounts, threads, steps, parts };
}

/** Files smaller than this are read on one thread: starting threads would cost more than they save. */
const THREADS_FROM_BYTES = 2 * 1024 * 1024;
/** The size of the parts a file is cut into for reading threads. */
const PART_BYTES = 4 * 1024 * 1024;

function readThreads(input: StageInput): number {
  const scan = input.scan;
  const wanted = input.readThreads ?? 1;
  // A file marked UTF-8 that is not is read on one thread, which finds the first bad character's line.
  if (wanted < 2 || !scan || (scan.bom && !scan.validUtf8)) return 1;
  return scan.size >= THREADS_FROM_BYTES || input.partBytes !== undefined ? wanted : 1;
}

/** Connections judging a batch's parts at once: PostgreSQL uses a core a connection. */
const JUDGE_LANES = 2;

/**
 * Runs `judge` on every part, the first on the reading connection and each other one on a connection of its own,
 * all at once. Every part has ended (committed or not) when this returns or throws.
 */
async function judgeParts(
  pool: pg.Pool,
  own: pg.PoolClient,
  parts: BlockRange[],
  judge: (client: pg.PoolClient, part: BlockRange) => Promise<void>,
): Promise<void> {
  const settled = await Promise.allSettled(parts.map((part, i) => (i === 0 ? judge(own, part) : withClient(pool, (c) => judge(c, part)))));
  const failed = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (failed) throw failed.reason;
}

/**
 * Drops what reading a batch left — the staged rows and the batch's rows table, when it was never attached (a
 * staged batch's rows are kept). For a batch whose file failed or that was cancelled before it was staged.
 */
async function discardStaging(client: pg.PoolClient, batchId: number): Promise<void> {
  await dropStagingTables(client, batchId);
  const { rows } = await client.query<{ attached: boolean }>(
    `SELECT relispartition AS attached FROM pg_class WHERE oid = to_regclass($1)`,
    [batchRowTable(batchId)],
  );
  if (rows[0] && !rows[0].attached) await client.query(`DROP TABLE ${batchRowTable(batchId)}`);
}

/** discardStaging from outside a reading: waits for one that may still run (another worker's) to end first. */
export async function abandonStaging(pool: pg.Pool, batchId: number): Promise<void> {
  await withClient(pool, async (client) => {
    await client.query('SELECT pg_advisory_lock($1, $2)', [STAGE_LOCK_CLASS, batchId]);
    try {
      await discardStaging(client, batchId);
    } finally {
      await client.query('SELECT pg_advisory_unlock($1, $2)', [STAGE_LOCK_CLASS, batchId]);
    }
  });
}

/** The first key of the advisory lock that serialises the reading of one batch (the second is the batch id). */
export const STAGE_LOCK_CLASS = 7301;

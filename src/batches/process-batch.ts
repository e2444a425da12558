import { sql, type Kysely } from 'kysely';
import type pg from 'pg';
import type { Batch, Database } from '../db/database.ts';
import type { ServiceCatalogue } from '../domain/types.ts';
import type { Logger } from '../logger.ts';
import { FileError } from '../csv/read-import-file.ts';
import { abandonStaging, stageBatch } from './stage-batch.ts';
import { advanceCheckpoint, applyChunk, pendingChunks, planChunks } from './apply-chunk.ts';
import { buildSearchIndexes } from './batch-row-table.ts';
import { findUploadScan, uploadCopyReader } from './upload.repository.ts';
import { UNFINISHED_STATUSES } from './batch.repository.ts';

export interface ProcessDeps {
  db: Kysely<Database>;
  pool: pg.Pool;
  log: Logger;
  chunkSize: number;
  /** Threads reading a large file (default 1: this one). */
  readThreads?: number;
  nirHashKey: string;
  /** True once the process is shutting down: the batch stops between two chunks and is resumed elsewhere. */
  isStopping?: () => boolean;
}

/** done: the batch reached an end (completed, failed, cancelled); wait: an earlier batch of its firm must end first. */
export type ProcessResult = 'done' | 'wait' | 'file_failed';

export async function loadCatalogue(db: Kysely<Database>): Promise<ServiceCatalogue> {
  const rows = await db.selectFrom('service').select(['code', 'channel']).execute();
  return {
    online: new Set(rows.filter((r) => r.channel === 'online').map((r) => r.code)),
    email: new Set(rows.filter((r) => r.channel === 'email').map((r) => r.code)),
  };
}

const isFinished = (b: Batch) => !(UNFINISHED_STATUSES as readonly string[]).includes(b.status);

/**
 * Runs a batch as far as it can go. Safe to call again at any point (another worker, a retry after a crash):
 * every step re-reads the batch and skips what is already done.
 */
export async function processBatch(deps: ProcessDeps, batchId: number): Promise<ProcessResult> {
  const { db } = deps;
  let batch = await db.selectFrom('batch').selectAll().where('id', '=', batchId).executeTakeFirst();
  if (!batch || isFinished(batch)) return 'done';
  if (batch.cancel_requested && !batch.staged) {
    await finish(db, batchId, 'cancelled');
    // What an attempt that died while reading the file left behind.
    await abandonStaging(deps.pool, batchId);
    return 'done';
  }

  // Every row is judged against the registry and portfolio as they stand once the firm's earlier batches
  // have ended: wait for them first.
  const earlier = await db
    .selectFrom('batch')
    .select('id')
    .where('declarant_id', '=', batch.declarant_id)
    .where('id', '<', batchId)
    .where('status', 'in', UNFINISHED_STATUSES)
    .limit(1)
    .executeTakeFirst();
  if (earlier) return 'wait';

  if (!batch.staged) {
    await db
      .updateTable('batch')
      .set({ status: 'validating', started_at: batch.started_at ?? new Date() })
      .where('id', '=', batchId)
      .where('status', 'in', UNFINISHED_STATUSES)
      .execute();
    const failed = await stage(deps, batch);
    if (failed) return 'file_failed';
  }

  // The search indexes are built beside the apply, on another connection; the batch completes once they exist.
  let searchable = false;
  let indexFailure: unknown;
  const searchIndexes = buildSearchIndexes(deps.pool, batchId).then(
    () => void (searchable = true),
    (err: unknown) => void (indexFailure = err ?? new Error('search indexes failed')),
  );
  try {
    for (;;) {
      const entered = await db.transaction().execute(async (trx): Promise<'ended' | 'apply'> => {
        const b = await trx.selectFrom('batch').selectAll().where('id', '=', batchId).forUpdate().executeTakeFirstOrThrow();
        if (isFinished(b)) return 'ended';
        // Cancelled once applying: chunks a crash left out below applied ones are applied first (applyChunks).
        if (b.cancel_requested && b.status !== 'applying') {
          await finish(trx, batchId, 'cancelled');
          return 'ended';
        }
        if (b.status !== 'applying') {
          await trx.updateTable('batch').set({ status: 'applying', resolved_at: sql<Date>`clock_timestamp()` }).where('id', '=', batchId).execute();
        }
        return 'apply';
      });
      if (entered === 'ended') return 'done';

      const stop = await applyChunks(deps, await planChunks(db, batchId, deps.chunkSize));
      if (stop === 'wait') return 'wait';

      const step = await db.transaction().execute(async (trx): Promise<'ended' | 'again' | 'indexing'> => {
        await trx.selectFrom('batch').select('id').where('id', '=', batchId).forUpdate().executeTakeFirstOrThrow();
        const b = await advanceCheckpoint(trx, batchId);
        if (isFinished(b)) return 'ended';
        if (b.cancel_requested) {
          await finish(trx, batchId, 'cancelled');
          return 'ended';
        }
        // A chunk another worker had claimed and then lost: apply it now.
        if (b.applied_through < b.last_line!) return 'again';
        if (!searchable) return 'indexing';
        await finish(trx, batchId, 'completed');
        return 'ended';
      });
      if (step === 'ended') return 'done';
      if (step === 'indexing') {
        await searchIndexes;
        // Not completed without its indexes: the job fails and its retry builds them again.
        if (indexFailure !== undefined) throw indexFailure;
      }
    }
  } finally {
    // Whatever ends the loop, the indexes are not left building behind it.
    await searchIndexes;
  }
}

/** Connections applying a batch's chunks at once: PostgreSQL uses a core a connection. */
const APPLY_LANES = 2;

/**
 * Applies the batch's pending chunks in order, APPLY_LANES at a time, each in its own transaction, moving the
 * checkpoint after each. Stops between chunks when the process is stopping ('wait') or the batch is cancelled
 * ('cancel') — except for chunks below one already applied (left by a crash), so that what is applied is always
 * the file's first lines.
 */
async function applyChunks(deps: ProcessDeps, plan: Batch): Promise<'done' | 'wait' | 'cancel'> {
  const { db } = deps;
  const { pending, highestApplied } = await pendingChunks(db, plan);
  let next = 0;
  let stop: 'wait' | 'cancel' | 'error' | null = null;
  const lane = async () => {
    try {
      while (stop === null && next < pending.length) {
        if (deps.isStopping?.()) {
          stop = 'wait';
          return;
        }
        const first = pending[next++];
        const outcome = await db.transaction().execute(async (trx) => {
          const b = await trx.selectFrom('batch').selectAll().where('id', '=', plan.id).executeTakeFirstOrThrow();
          if (isFinished(b) || (b.cancel_requested && first > highestApplied)) return 'cancel' as const;
          await applyChunk(trx, b, first);
          return 'applied' as const;
        });
        if (outcome === 'cancel') {
          stop = 'cancel';
          return;
        }
        await advanceCheckpoint(db, plan.id);
      }
    } catch (err) {
      stop = 'error';
      throw err;
    }
  };
  const lanes = await Promise.allSettled(Array.from({ length: APPLY_LANES }, lane));
  const failed = lanes.find((l): l is PromiseRejectedResult => l.status === 'rejected');
  if (failed) throw failed.reason;
  return stop === 'wait' ? 'wait' : stop === 'cancel' ? 'cancel' : 'done';
}

async function finish(db: Kysely<Database>, batchId: number, status: 'completed' | 'cancelled'): Promise<void> {
  await db.updateTable('batch').set({ status, finished_at: sql<Date>`now()` }).where('id', '=', batchId).execute();
}

/** Phase 1; true when the file failed (the batch is then marked failed with its code, message and line). */
async function stage(deps: ProcessDeps, batch: Batch): Promise<boolean> {
  const { db } = deps;
  let lastWrite = 0;
  try {
    const staged = await stageBatch(deps.pool, {
      batchId: batch.id,
      declarantId: batch.declarant_id,
      open: uploadCopyReader(deps.pool, batch.upload_id),
      scan: await findUploadScan(db, batch.upload_id),
      catalogue: await loadCatalogue(db),
      nirHashKey: deps.nirHashKey,
      readThreads: deps.readThreads,
      onProgress: (bytes) => {
        const now = Date.now();
        if (now - lastWrite < 500) return;
        lastWrite = now;
        db.updateTable('batch').set({ bytes_read: bytes }).where('id', '=', batch.id).execute().catch(() => {});
      },
    });
    deps.log.info({ batchId: batch.id, rows: staged.total, threads: staged.threads, parts: staged.parts, ms: staged.steps }, 'batch read and judged');
    return false;
  } catch (err) {
    if (!(err instanceof FileError)) throw err;
    await db
      .updateTable('batch')
      .set({
        status: 'failed',
        error_code: err.code,
        error_message: err.message,
        error_line: err.line,
        total: 0,
        finished_at: sql<Date>`now()`,
      })
      .where('id', '=', batch.id)
      .execute();
    deps.log.info({ batchId: batch.id, code: err.code, line: err.line }, 'batch file rejected');
    return true;
  }
}

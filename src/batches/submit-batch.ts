import type { Kysely } from 'kysely';
import type pg from 'pg';
import type { Queue } from 'bullmq';
import type { Batch, BatchMode, Database } from '../db/database.ts';
import type { Actor } from '../users/user.repository.ts';
import type { Logger } from '../logger.ts';
import { createBatch } from './batch.repository.ts';
import { deleteUpload, storeUpload, type StoredUpload } from './upload.repository.ts';
import { enqueueBatch, type JobDataMap } from '../queue/queue.ts';

export interface SubmitDeps {
  db: Kysely<Database>;
  pool: pg.Pool;
  queue: Queue<JobDataMap['import-batch']>;
  log: Logger;
  uploadMaxBytes: number;
}

/**
 * Enqueues a stored batch. When Redis is away the batch stays `queued` in PostgreSQL and the reconciler
 * enqueues it later: the upload is never lost and the client never has a reason to send it twice.
 */
export async function enqueueOrLeaveQueued(deps: Pick<SubmitDeps, 'queue' | 'log'>, batch: Batch): Promise<void> {
  try {
    await enqueueBatch(deps.queue, batch.id);
  } catch (err) {
    deps.log.warn({ err, batchId: batch.id }, 'enqueue failed; the reconciler will enqueue the batch');
  }
}

/** Streams an uploaded file into storage (bounded); the batch is created afterwards, once the form's fields are known. */
export function storeBatchUpload(deps: SubmitDeps, actor: Actor, filename: string, body: AsyncIterable<Uint8Array>) {
  return storeUpload(deps.pool, { declarantId: actor.declarantId, filename, body, maxBytes: deps.uploadMaxBytes });
}

/** Forgets a stored upload that will get no batch. */
export function discardBatchUpload(deps: SubmitDeps, stored: StoredUpload): Promise<void> {
  return deleteUpload(deps.db, stored.uploadId);
}

/** Creates the batch of a stored upload, queued, and enqueues its job. */
export async function submitBatch(
  deps: SubmitDeps,
  input: { actor: Actor; filename: string; mode: BatchMode; stored: StoredUpload },
): Promise<Batch> {
  const batch = await createBatch(deps.db, {
    declarantId: input.actor.declarantId,
    userId: input.actor.userId,
    uploadId: input.stored.uploadId,
    mode: input.mode,
    filename: input.filename,
    sha256: input.stored.sha256,
    size: input.stored.size,
  });
  await enqueueOrLeaveQueued(deps, batch);
  return batch;
}

/** A completed dry run, applied as it stands: a new apply batch of the same stored file, checked again. */
export async function applyDryRun(deps: SubmitDeps, actor: Actor, dryRun: Batch): Promise<Batch> {
  const batch = await createBatch(deps.db, {
    declarantId: dryRun.declarant_id,
    userId: actor.userId,
    uploadId: dryRun.upload_id,
    mode: 'apply',
    filename: dryRun.filename,
    sha256: dryRun.sha256,
    size: dryRun.size,
    sourceBatchId: dryRun.id,
  });
  await enqueueOrLeaveQueued(deps, batch);
  return batch;
}

import { Worker } from 'bullmq';
import type { Config } from '../src/config.ts';
import type { Logger } from '../src/logger.ts';
import { connectDb } from '../src/db/connect.ts';
import { createBatchQueue, producerConnection, QUEUE_NAME, workerConnection } from '../src/queue/queue.ts';
import { reconcileBatches } from '../src/queue/reconcile.ts';
import { purgeOldUploads } from '../src/batches/upload.repository.ts';
import { importBatchProcessor } from './processors/import-batch.processor.ts';

export interface RunningWorker {
  close(): Promise<void>;
}

/** Starts one worker process's parts: the BullMQ worker, the reconciler and the retention purge. */
export async function startWorker(config: Config, log: Logger): Promise<RunningWorker> {
  const { db, pool, close: closeDb } = connectDb(config.databaseUrl, {
    // a batch at a time per concurrency slot: two applying connections and one building indexes; plus reconciler and purge
    max: config.workerConcurrency * 3 + 2,
    onError: (err) => log.warn({ err }, 'idle PostgreSQL client error'),
  });
  const connection = workerConnection(config.redisUrl);
  connection.on('error', (err) => log.warn({ err: err.message }, 'redis (worker) error'));
  const producer = producerConnection(config.redisUrl);
  producer.on('error', (err) => log.warn({ err: err.message }, 'redis (producer) error'));
  const queue = createBatchQueue(producer, config.queuePrefix);
  queue.on('error', (err) => log.warn({ err: err.message }, 'queue error'));

  let stopping = false;
  const worker = new Worker(
    QUEUE_NAME,
    importBatchProcessor({
      db,
      pool,
      log,
      chunkSize: config.chunkSize,
      readThreads: config.readThreads,
      nirHashKey: config.nirHashKey,
      isStopping: () => stopping,
    }),
    {
      connection,
      prefix: config.queuePrefix,
      concurrency: config.workerConcurrency,
      lockDuration: config.jobLockMs,
      stalledInterval: Math.max(1000, Math.floor(config.jobLockMs / 2)),
      maxStalledCount: 3,
    },
  );
  worker.on('error', (err) => log.warn({ err: err.message }, 'worker error'));
  worker.on('failed', (job, err) => {
    if (err.name !== 'UnrecoverableError') log.warn({ jobId: job?.id, err: err.message }, 'job attempt failed');
  });

  const tick = async () => {
    try {
      await reconcileBatches(db, queue, log, { olderThanSeconds: Math.ceil(config.reconcileIntervalSeconds) });
      await purgeOldUploads(db, config.retentionDays);
    } catch (err) {
      log.warn({ err: (err as Error).message }, 'reconciler pass failed');
    }
  };
  void tick();
  const timer = setInterval(tick, config.reconcileIntervalSeconds * 1000);
  timer.unref();
  log.info({ concurrency: config.workerConcurrency }, 'worker started');

  return {
    async close() {
      clearInterval(timer);
      // A running batch stops after its current chunk commits and goes back to the queue (delayed), so another
      // worker resumes it from the checkpoint. Reading a file is one transaction: if that outlasts the grace
      // period we stop waiting, closing the connections aborts it, and the next worker reads the file again.
      stopping = true;
      const graceful = worker.close();
      const timeout = new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), 10_000).unref());
      if ((await Promise.race([graceful, timeout])) === 'timeout') log.warn('worker did not drain in time; leaving its job to another worker');
      await queue.close();
      connection.disconnect();
      producer.disconnect();
      await closeDb();
    },
  };
}


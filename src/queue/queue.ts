import { Queue, type ConnectionOptions, type JobsOptions } from 'bullmq';
import { Redis, type RedisOptions } from 'ioredis';

/** Job names and their data: payloads carry ids only, never file bytes or rows. */
export interface JobDataMap {
  'import-batch': { batchId: number };
}
export type JobName = keyof JobDataMap;

export const QUEUE_NAME = 'batches';

export function assertImportBatchData(data: unknown): asserts data is JobDataMap['import-batch'] {
  const id = (data as { batchId?: unknown } | null)?.batchId;
  if (typeof id !== 'number' || !Number.isSafeInteger(id) || id <= 0) {
    throw new Error(`Invalid import-batch job data: ${JSON.stringify(data)}`);
  }
}

/** One job per batch, with an id derived from the batch: adding it twice is a no-op. */
export function jobIdFor(batchId: number): string {
  return `batch-${batchId}`;
}

export const IMPORT_JOB_OPTIONS: JobsOptions = {
  attempts: 10,
  backoff: { type: 'exponential', delay: 1000 },
  removeOnComplete: { age: 3600, count: 1000 },
  removeOnFail: { age: 7 * 24 * 3600 },
};

/** Producers (web, CLI) fail fast when Redis is away; the upload is kept and the reconciler enqueues it later. */
export function producerConnection(redisUrl: string): Redis {
  return new Redis(redisUrl, { maxRetriesPerRequest: 1, enableOfflineQueue: false, lazyConnect: false } satisfies RedisOptions);
}

/** Workers wait for Redis as long as it takes (BullMQ requires maxRetriesPerRequest: null). */
export function workerConnection(redisUrl: string): Redis {
  return new Redis(redisUrl, { maxRetriesPerRequest: null, enableReadyCheck: false } satisfies RedisOptions);
}

export function createBatchQueue(connection: ConnectionOptions, prefix: string): Queue<JobDataMap['import-batch']> {
  return new Queue(QUEUE_NAME, { connection, prefix });
}

export async function enqueueBatch(queue: Queue<JobDataMap['import-batch']>, batchId: number): Promise<void> {
  await queue.add('import-batch', { batchId }, { ...IMPORT_JOB_OPTIONS, jobId: jobIdFor(batchId) });
}

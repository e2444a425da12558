import { DelayedError, UnrecoverableError, type Job } from 'bullmq';
import { assertImportBatchData } from '../../src/queue/queue.ts';
import { processBatch, type ProcessDeps } from '../../src/batches/process-batch.ts';

/** How long a batch waits before looking again whether its firm's earlier batches have ended. */
const WAIT_FOR_EARLIER_MS = 500;

/**
 * Thin: asserts the job's data and hands over to processBatch, which re-reads the batch and resumes where it
 * stands. A bad file is data (the batch is failed with its code) and an UnrecoverableError for BullMQ; a lost
 * connection is an ordinary error that BullMQ retries with backoff.
 */
export function importBatchProcessor(deps: ProcessDeps) {
  return async (job: Job, token?: string): Promise<string> => {
    assertImportBatchData(job.data);
    const log = deps.log.child({ batchId: job.data.batchId, jobId: job.id });
    const result = await processBatch({ ...deps, log }, job.data.batchId);
    if (result === 'wait') {
      await job.moveToDelayed(Date.now() + WAIT_FOR_EARLIER_MS, token);
      throw new DelayedError();
    }
    if (result === 'file_failed') throw new UnrecoverableError('file rejected');
    return result;
  };
}

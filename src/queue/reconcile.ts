import { sql, type Kysely } from 'kysely';
import type { Queue } from 'bullmq';
import type { Database } from '../db/database.ts';
import type { Logger } from '../logger.ts';
import { enqueueBatch, jobIdFor, type JobDataMap } from './queue.ts';

/**
 * PostgreSQL is the truth, Redis only carries work. Any batch that is unfinished but has no live job (a web
 * process that died between storing and enqueueing, Redis restarted or flushed, a job failed past its
 * attempts) gets its job back. Returns the ids re-driven.
 */
export async function reconcileBatches(
  db: Kysely<Database>,
  queue: Queue<JobDataMap['import-batch']>,
  log: Logger,
  opts: { olderThanSeconds: number },
): Promise<number[]> {
  const unfinished = await db
    .selectFrom('batch')
    .select('id')
    .where('status', 'in', ['queued', 'validating', 'applying'])
    .where('created_at', '<', sql<Date>`now() - make_interval(secs => ${opts.olderThanSeconds})`)
    .orderBy('id')
    .limit(1000)
    .execute();
  const redriven: number[] = [];
  for (const { id } of unfinished) {
    const job = await queue.getJob(jobIdFor(id));
    const state = job ? await job.getState() : 'missing';
    if (state === 'failed') {
      await job!.retry('failed');
    } else if (state === 'completed' || state === 'missing' || state === 'unknown') {
      if (job) await job.remove().catch(() => {});
      await enqueueBatch(queue, id);
    } else {
      continue; // waiting, active, delayed, prioritized: alive
    }
    redriven.push(id);
  }
  if (redriven.length > 0) log.warn({ batchIds: redriven }, 'reconciler re-drove batches');
  return redriven;
}

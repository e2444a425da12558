import type { Kysely } from 'kysely';
import type pg from 'pg';
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Config } from '../src/config.ts';
import type { Database } from '../src/db/database.ts';
import type { Logger } from '../src/logger.ts';
import type { Actor } from '../src/users/user.repository.ts';
import type { JobDataMap } from '../src/queue/queue.ts';
import type { SubmitDeps } from '../src/batches/submit-batch.ts';

/** What the web app needs, built once by main.ts (or a test) and passed in. */
export interface AppDeps {
  config: Config;
  db: Kysely<Database>;
  pool: pg.Pool;
  queue: Queue<JobDataMap['import-batch']>;
  redis: Redis;
  log: Logger;
}

/** What storing and submitting a batch needs of the app's dependencies (pages and API alike). */
export function submitDepsOf(deps: AppDeps): SubmitDeps {
  return { db: deps.db, pool: deps.pool, queue: deps.queue, log: deps.log, uploadMaxBytes: deps.config.uploadMaxBytes };
}

export interface AppEnv {
  Variables: {
    actor: Actor;
    sessionId: string | undefined;
    nonce: string;
    requestId: string;
  };
}

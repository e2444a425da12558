/**
 * The reliability rig (RELIABILITY.md): a database of the test's own, a private redis-server, a web process and
 * worker processes as real children.
 */
import { randomBytes } from 'node:crypto';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { createTestDb, type TestDb } from '../helpers/db.ts';
import { startRedisServer, type RedisServer } from '../helpers/redis-server.ts';
import {
  ProcessGroup, startWebProcess, startWorkerProcess, type ProcessEnv, type WebChild, type WorkerChild,
} from '../helpers/processes.ts';
import { QUEUE_NAME } from '../../src/queue/queue.ts';

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

import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { loadConfig, type Config } from '../../src/config.ts';
import { createLogger } from '../../src/logger.ts';
import { startWeb, type RunningWeb } from '../../web/server.ts';
import { startWorker, type RunningWorker } from '../../worker/worker.ts';
import { createTestDb, type TestDb } from './db.ts';
import { TEST_REDIS_URL } from './env.ts';

export interface Stack {
  config: Config;
  db: TestDb;
  baseUrl: string;
  web: RunningWeb;
  worker: RunningWorker | undefined;
  close(): Promise<void>;
}

/** A test's own config: its own database, its own queue prefix, short intervals. */
export function testConfig(databaseUrl: string, overrides: Record<string, string> = {}): Config {
  return loadConfig({
    DATABASE_URL: databaseUrl,
    REDIS_URL: TEST_REDIS_URL,
    PORT: '0',
    HOST: '127.0.0.1',
    QUEUE_PREFIX: `pi-test-${randomBytes(4).toString('hex')}`,
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    CHUNK_SIZE: '500',
    RECONCILE_INTERVAL_SECONDS: '2',
    NIR_HASH_KEY: 'test-nir-key',
    ...overrides,
  });
}

/** The real thing, in this process: web server on a free port and a worker, on a fresh database. */
export async function startStack(opts: { worker?: boolean; env?: Record<string, string> } = {}): Promise<Stack> {
  const db = await createTestDb();
  const config = testConfig(db.url, opts.env);
  const log = createLogger(config.logLevel);
  const worker = opts.worker === false ? undefined : await startWorker(config, log);
  const web = await startWeb(config, log);
  return {
    config,
    db,
    baseUrl: `http://127.0.0.1:${web.port}`,
    web,
    worker,
    async close() {
      await web.close();
      await worker?.close();
      await clearQueue(config.queuePrefix);
      await db.drop();
    },
  };
}

export async function clearQueue(prefix: string): Promise<void> {
  const redis = new Redis(TEST_REDIS_URL);
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      if (keys.length) await redis.del(...keys);
      cursor = next;
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}

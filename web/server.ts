import { serve, type ServerType } from '@hono/node-server';
import type { Config } from '../src/config.ts';
import type { Logger } from '../src/logger.ts';
import { connectDb } from '../src/db/connect.ts';
import { createBatchQueue, producerConnection } from '../src/queue/queue.ts';
import { createApp } from './app.tsx';

export interface RunningWeb {
  port: number;
  close(): Promise<void>;
}

export async function startWeb(config: Config, log: Logger): Promise<RunningWeb> {
  const { db, pool, close: closeDb } = connectDb(config.databaseUrl, {
    max: 10,
    onError: (err) => log.warn({ err }, 'idle PostgreSQL client error'),
  });
  const redis = producerConnection(config.redisUrl);
  redis.on('error', (err) => log.warn({ err: err.message }, 'redis error'));
  const queue = createBatchQueue(redis, config.queuePrefix);
  queue.on('error', (err) => log.warn({ err: err.message }, 'queue error'));
  const app = createApp({ config, db, pool, queue, redis, log });
  const server: ServerType = await new Promise((resolve) => {
    const s = serve({ fetch: app.fetch, port: config.port, hostname: config.host }, () => resolve(s));
  });
  // A slow or stalled upload cannot hold a connection for ever.
  const http = server as import('node:http').Server;
  http.requestTimeout = 10 * 60_000;
  http.headersTimeout = 30_000;
  const address = http.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  log.info({ port }, 'web started');
  return {
    port,
    async close() {
      await new Promise<void>((resolve) => http.close(() => resolve()));
      await queue.close();
      redis.disconnect();
      await closeDb();
    },
  };
}

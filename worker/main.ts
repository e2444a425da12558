import { loadConfig } from '../src/config.ts';
import { createLogger } from '../src/logger.ts';
import { migrateToLatest } from '../src/db/migrate.ts';
import { startWorker } from './worker.ts';

/** One worker process: run as many as wanted, on any machine that reaches PostgreSQL and Redis. */
async function main() {
  const config = loadConfig();
  const log = createLogger(config.logLevel, 'worker');
  await migrateToLatest(config.databaseUrl);
  const running = await startWorker(config, log);
  const stop = async (signal: string) => {
    log.info({ signal }, 'worker stopping');
    await running.close();
    process.exit(0);
  };
  process.once('SIGTERM', () => void stop('SIGTERM'));
  process.once('SIGINT', () => void stop('SIGINT'));
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});

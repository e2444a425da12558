import { loadConfig, type Config } from './config.ts';
import { createLogger, type Logger } from './logger.ts';
import { migrateToLatest } from './db/migrate.ts';

export interface Running {
  close(): Promise<void>;
}

/**
 * The life of a process (web, worker, or both): configuration, logger, migrations, start; on SIGTERM or SIGINT,
 * close what was started (servers and workers first, then Redis, then PostgreSQL — each part's close() does
 * that in order) and exit. A failure to start prints one line and exits non-zero.
 */
export function runProcess(name: string, start: (config: Config, log: Logger) => Promise<Running>): void {
  const main = async () => {
    const config = loadConfig();
    const log = createLogger(config.logLevel, name);
    await migrateToLatest(config.databaseUrl);
    const running = await start(config, log);
    const stop = async (signal: string) => {
      log.info({ signal }, 'stopping');
      await running.close();
      process.exit(0);
    };
    process.once('SIGTERM', () => void stop('SIGTERM'));
    process.once('SIGINT', () => void stop('SIGINT'));
  };
  main().catch((err) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  });
}

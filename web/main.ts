import { loadConfig } from '../src/config.ts';
import { createLogger } from '../src/logger.ts';
import { migrateToLatest } from '../src/db/migrate.ts';
import { startWeb } from './server.ts';

/** One web process (UI and API): run as many as wanted behind a load balancer. */
async function main() {
  const config = loadConfig();
  const log = createLogger(config.logLevel, 'web');
  await migrateToLatest(config.databaseUrl);
  const web = await startWeb(config, log);
  const stop = async (signal: string) => {
    log.info({ signal }, 'web stopping');
    await web.close();
    process.exit(0);
  };
  process.once('SIGTERM', () => void stop('SIGTERM'));
  process.once('SIGINT', () => void stop('SIGINT'));
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});

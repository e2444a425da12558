/**
 * `npm start`: the whole product in one process for a first run — migrates, seeds the demo data on an empty
 * database, starts the web server and one worker, and prints where to go and how to log in.
 * In production run `npm run web` and `npm run worker` separately, as many of each as needed.
 */
import { loadConfig } from '../src/config.ts';
import { createLogger } from '../src/logger.ts';
import { connectDb } from '../src/db/connect.ts';
import { migrateToLatest } from '../src/db/migrate.ts';
import { DEMO_USERS, isEmptyDatabase, seedDemo } from '../src/demo/seed.ts';
import { startWeb } from '../web/server.ts';
import { startWorker } from '../worker/worker.ts';

async function main() {
  const config = loadConfig();
  const log = createLogger(config.logLevel);
  await migrateToLatest(config.databaseUrl);
  const { db, close } = connectDb(config.databaseUrl, { max: 2 });
  let seeded = false;
  try {
    if (await isEmptyDatabase(db)) {
      await seedDemo(db, config);
      seeded = true;
    }
  } finally {
    await close();
  }
  const worker = await startWorker(config, log);
  const web = await startWeb(config, log);
  const lines = [
    '',
    `  Import de portefeuille : http://localhost:${web.port}`,
    seeded ? '  Données de démonstration chargées (référentiel de 10 000 comptes).' : '',
    '  Un fichier à importer pour essayer : npm run cli -- demo:file --rows 500 --out demo-import.csv',
    '  Comptes de démonstration :',
    ...DEMO_USERS.map((u) => `    ${u.role === 'admin' ? 'admin  ' : 'cabinet'}  ${u.email.padEnd(20)} ${u.password}   (${u.declarant})`),
    '',
  ].filter((l) => l !== '');
  console.log(lines.join('\n') + '\n');
  const stop = async (signal: string) => {
    log.info({ signal }, 'stopping');
    await web.close();
    await worker.close();
    process.exit(0);
  };
  process.once('SIGTERM', () => void stop('SIGTERM'));
  process.once('SIGINT', () => void stop('SIGINT'));
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});

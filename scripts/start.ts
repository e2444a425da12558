/**
 * `npm start`: the whole product in one process for a first run — migrates, seeds the demo data on an empty
 * database, starts the web server and one worker, and prints where to go and how to log in.
 * In production run `npm run web` and `npm run worker` separately, as many of each as needed.
 */
import { connectDb } from '../src/db/connect.ts';
import { runProcess } from '../src/lifecycle.ts';
import { DEMO_USERS, isEmptyDatabase, seedDemo } from '../src/demo/seed.ts';
import { startWeb } from '../web/server.ts';
import { startWorker } from '../worker/worker.ts';

// A first run shows the URL and the logins, not a stream of JSON logs (LOG_LEVEL=info brings them back).
process.env.LOG_LEVEL ??= 'warn';

runProcess('portfolio-import', async (config, log) => {
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
  return {
    async close() {
      await web.close();
      await worker.close();
    },
  };
});

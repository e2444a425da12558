import pg from 'pg';
import { migrateToLatest } from '../../src/db/migrate.ts';
import { TEMPLATE_DB, TEST_PG_URL, databaseUrl } from './env.ts';

/** Once per run: a template database, migrated; every test file clones it (CREATE DATABASE … TEMPLATE). */
export async function setup(): Promise<void> {
  const admin = new pg.Client({ connectionString: TEST_PG_URL });
  await admin.connect();
  try {
    // Databases left behind by an interrupted run over an hour ago (names carry their creation time);
    // a run going on beside this one keeps its own.
    const { rows } = await admin.query<{ datname: string }>(`SELECT datname FROM pg_database WHERE datname ~ '^pi_test_[0-9]+_'`);
    const hourAgo = Math.floor(Date.now() / 1000) - 3600;
    for (const r of rows) {
      if (Number(r.datname.split('_')[2]) < hourAgo) await admin.query(`DROP DATABASE IF EXISTS "${r.datname}" WITH (FORCE)`);
    }
  } finally {
    await admin.end();
  }
  await migrateToLatest(databaseUrl(TEMPLATE_DB));
}

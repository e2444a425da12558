import pg from 'pg';
import { randomBytes } from 'node:crypto';
import { connectDb, type Db } from '../../src/db/connect.ts';
import { TEMPLATE_DB, TEST_PG_URL, databaseUrl } from './env.ts';

export interface TestDb extends Db {
  url: string;
  name: string;
  drop(): Promise<void>;
}

async function adminQuery(text: string): Promise<void> {
  const admin = new pg.Client({ connectionString: TEST_PG_URL });
  await admin.connect();
  try {
    await admin.query(text);
  } finally {
    await admin.end();
  }
}

/** A fresh database of our own, cloned from the migrated template. */
export async function createTestDb(): Promise<TestDb> {
  const name = `pi_test_${Math.floor(Date.now() / 1000)}_${randomBytes(4).toString('hex')}`;
  // Cloning needs the template to have no other session; a concurrent clone may hold it for a moment.
  for (let attempt = 0; ; attempt++) {
    try {
      await adminQuery(`CREATE DATABASE "${name}" TEMPLATE "${TEMPLATE_DB}"`);
      break;
    } catch (err) {
      if (attempt > 50 || !String((err as Error).message).includes('being accessed by other users')) throw err;
      await new Promise((r) => setTimeout(r, 100 + Math.random() * 200));
    }
  }
  const url = databaseUrl(name);
  const conn = connectDb(url, { max: 8 });
  return {
    ...conn,
    url,
    name,
    async drop() {
      await conn.close().catch(() => {});
      await adminQuery(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    },
  };
}

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { randomBytes } from 'node:crypto';
import { Migrator, sql } from 'kysely';
import { connectDb, type Db } from '../../src/db/connect.ts';
import { ensureDatabase } from '../../src/db/migrate.ts';
import { migrations } from '../../src/db/migrations/index.ts';
import { TEST_PG_URL, databaseUrl } from '../helpers/env.ts';

// Migrations meet databases written by earlier versions: this one starts from the first schema with rows in it.
const name = `pi_test_migr_${randomBytes(4).toString('hex')}`;
let conn: Db;
const migrator = () => new Migrator({ db: conn.db, provider: { getMigrations: async () => migrations } });

beforeAll(async () => {
  await ensureDatabase(databaseUrl(name));
  conn = connectDb(databaseUrl(name), { max: 2 });
});

afterAll(async () => {
  await conn.close();
  const admin = new pg.Client({ connectionString: TEST_PG_URL });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  await admin.end();
});

describe('migrations', () => {
  it('moves the rows of existing batches into tables of their own, indexed, with what applying them needs', async () => {
    const first = await migrator().migrateTo('2026_11_27_0500_create_schema');
    expect(first.error).toBeUndefined();
    await sql`
      INSERT INTO declarant (id, name) VALUES (1, 'Cabinet A');
      INSERT INTO app_user (id, declarant_id, email, password_hash) VALUES (1, 1, 'a@a.test', 'x');
      INSERT INTO upload (id, declarant_id, filename, size, sha256) VALUES (1, 1, 'a.csv', 10, 'h'), (2, 1, 'b.csv', 10, 'h');
      INSERT INTO batch (id, declarant_id, user_id, upload_id, mode, filename, sha256, size)
        VALUES (7, 1, 1, 1, 'apply', 'a.csv', 'h', 10), (9, 1, 1, 2, 'apply', 'b.csv', 'h', 10);
      INSERT INTO account (account_number, kind, siren, status, name) VALUES ('117000000000000001', 'employer', '732829320', 'active', 'Société A');
      INSERT INTO batch_row (batch_id, line, action, account_number, client_key, outcome, codes) VALUES
        (7, 2, 'add', '117000000000000001', '117000000000000001', 'added', '{}'),
        (7, 3, 'add', '999', NULL, 'rejected', '{ACCOUNT_INVALID}'),
        (9, 2, 'remove', '117000000000000001', '117000000000000001', 'removed', '{}');
      INSERT INTO portfolio_event (declarant_id, account_number, kind, batch_id, line) VALUES (1, '117000000000000001', 'added', 7, 2);
    `.execute(conn.db);

    const rest = await migrator().migrateToLatest();
    expect(rest.error).toBeUndefined();

    const rows = await conn.db.selectFrom('batch_row').select(['batch_id', 'line', 'outcome', 'client_siren', 'client_name'])
      .orderBy('batch_id').orderBy('line').execute();
    expect(rows).toEqual([
      { batch_id: 7, line: 2, outcome: 'added', client_siren: '732829320', client_name: 'Société A' },
      { batch_id: 7, line: 3, outcome: 'rejected', client_siren: null, client_name: null },
      { batch_id: 9, line: 2, outcome: 'removed', client_siren: null, client_name: null },
    ]);
    const partitions = await sql<{ table: string; indexes: string[] }>`
      SELECT c.relname AS table, array_agg(i.relname::text ORDER BY i.relname) AS indexes
      FROM pg_inherits h JOIN pg_class c ON c.oid = h.inhrelid JOIN pg_index x ON x.indrelid = c.oid
      JOIN pg_class i ON i.oid = x.indexrelid
      WHERE h.inhparent = 'batch_row'::regclass GROUP BY c.relname ORDER BY 1`.execute(conn.db);
    expect(partitions.rows).toEqual(
      [7, 9].map((id) => ({
        table: `batch_row_${id}`,
        indexes: ['account', 'line', 'rejected', 'siren'].map((s) => `batch_row_${id}_${s}_idx`),
      })),
    );
    // A query of one batch reads that batch's table only.
    const plan = await sql<{ 'QUERY PLAN': string }>`EXPLAIN SELECT * FROM batch_row WHERE batch_id = 9 AND line > 1`.execute(conn.db);
    expect(plan.rows.map((r) => r['QUERY PLAN']).join('\n')).not.toContain('batch_row_7');
    // History survives, without its former key (a chunk writes its events once, with its checkpoint).
    expect(await conn.db.selectFrom('portfolio_event').selectAll().execute()).toHaveLength(1);
    // An add written before adds were kept on client rows stays in the history once, as its own event.
    expect(await conn.db.selectFrom('portfolio_history').select(['kind', 'batch_id', 'line']).execute()).toEqual([
      { kind: 'added', batch_id: 7, line: 2 },
    ]);
  });

  it('keeps every add in the history when adds on client rows are rolled back, and again when redone', async () => {
    await sql`
      INSERT INTO portfolio_client (declarant_id, account_number, client_case, added_by_user_id, added_by_batch_id, added_line)
        VALUES (1, '117000000000000002', 'employer', 1, 9, 5);
      INSERT INTO portfolio_event (declarant_id, account_number, kind, user_id, batch_id, line, added_at, added_by_user_id, added_by_batch_id, added_line)
        VALUES (1, '117000000000000003', 'removed', 1, 9, 6, now() - interval '1 day', 1, 7, 4);
    `.execute(conn.db);
    const history = () =>
      conn.db.selectFrom('portfolio_history').select(['account_number', 'kind', 'batch_id', 'line'])
        .orderBy('account_number').orderBy('batch_id').execute();
    const want = [
      { account_number: '117000000000000001', kind: 'added', batch_id: 7, line: 2 },
      { account_number: '117000000000000002', kind: 'added', batch_id: 9, line: 5 },
      { account_number: '117000000000000003', kind: 'added', batch_id: 7, line: 4 },
      { account_number: '117000000000000003', kind: 'removed', batch_id: 9, line: 6 },
    ];
    expect(await history()).toEqual(want);
    expect((await migrator().migrateTo('2026_11_27_1400_batch_row_without_nir_hash')).error).toBeUndefined();
    const events = await conn.db.selectFrom('portfolio_event').select(['account_number', 'kind', 'batch_id', 'line'])
      .orderBy('account_number').orderBy('batch_id').execute();
    expect(events).toEqual(want);
    expect((await migrator().migrateToLatest()).error).toBeUndefined();
    // Redone: the adds are the explicit events the rollback wrote (the rows' added_line comes back empty), once each.
    expect(await history()).toEqual(want);
  });
});

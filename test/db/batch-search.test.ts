import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDb, type TestDb } from '../helpers/db.ts';
import { createFirm } from '../factories/world.ts';
import { ADMIN_SCOPE, declarantScope, listBatches } from '../../src/batches/batch.repository.ts';
import { createBatchRowTable, indexAndAttachBatchRowTable } from '../../src/batches/batch-row-table.ts';

// The admin's search by SIREN or account number looks through every batch's rows, a window of batch tables at
// a time (one query over all of them would lock every table at once): results must not depend on the windows.
let t: TestDb;
const SIREN = '732829320';
const ACCOUNT = '117000000000000042';
const ids: number[] = [];
let firmId = 0;
const otherFirmBatches: number[] = [];

beforeAll(async () => {
  t = await createTestDb();
  const firm = await createFirm(t.db, 'Cabinet Recherche');
  firmId = firm.declarantId;
  const other = await createFirm(t.db, 'Cabinet Voisin');
  const upload = await t.db.insertInto('upload').values({ declarant_id: firm.declarantId, filename: 'f.csv', size: 1, sha256: 'h' })
    .returning('id').executeTakeFirstOrThrow();
  const client = await t.pool.connect();
  try {
    for (let i = 0; i < 230; i++) {
      const { id } = await t.db.insertInto('batch').values({
        declarant_id: firm.declarantId, user_id: firm.user.id, upload_id: upload.id, mode: 'apply',
        filename: `lot-${i}.csv`, sha256: 'h', size: 1, staged: true, status: 'completed',
      }).returning('id').executeTakeFirstOrThrow();
      ids.push(id);
      const table = await createBatchRowTable(client, id);
      // The identifiers sit in the oldest batch, one in the middle, and the newest.
      const siren = i === 0 || i === 120 || i === 229 ? SIREN : '552100554';
      const account = i === 120 ? ACCOUNT : '117000000000000001';
      await client.query(`INSERT INTO ${table} (batch_id, line, siren, account_number) VALUES ($1, 2, $2, $3)`, [id, siren, account]);
      await indexAndAttachBatchRowTable(client, id);
    }
    // Two newer batches of another firm carry the same SIREN.
    for (let i = 0; i < 2; i++) {
      const { id } = await t.db.insertInto('batch').values({
        declarant_id: other.declarantId, user_id: other.user.id, upload_id: upload.id, mode: 'apply',
        filename: 'voisin.csv', sha256: 'h', size: 1, staged: true, status: 'completed',
      }).returning('id').executeTakeFirstOrThrow();
      otherFirmBatches.unshift(id);
      const table = await createBatchRowTable(client, id);
      await client.query(`INSERT INTO ${table} (batch_id, line, siren) VALUES ($1, 2, $2)`, [id, SIREN]);
      await indexAndAttachBatchRowTable(client, id);
    }
  } finally {
    client.release();
  }
}, 120_000);

afterAll(async () => {
  await t?.drop();
});

describe('admin search by identifier', () => {
  it('finds every batch carrying a SIREN, newest first, page by page across windows of batch tables', async () => {
    const seen: number[] = [];
    let after: number | undefined;
    for (;;) {
      const page = await listBatches(t.db, ADMIN_SCOPE, { q: '732 829 320', after, limit: 1 });
      seen.push(...page.batches.map((b) => b.id));
      if (page.next === null) break;
      after = page.next;
    }
    expect(seen).toEqual([...otherFirmBatches, ids[229], ids[120], ids[0]]);
  });

  it('a firm’s search finds its own batches only, however many of another firm’s come first', async () => {
    const page = await listBatches(t.db, declarantScope(firmId), { q: SIREN, limit: 1 });
    expect(page.batches.map((b) => b.id)).toEqual([ids[229]]);
  });

  it('finds a batch by account number, and still by file name', async () => {
    expect((await listBatches(t.db, ADMIN_SCOPE, { q: ACCOUNT, limit: 10 })).batches.map((b) => b.id)).toEqual([ids[120]]);
    expect((await listBatches(t.db, ADMIN_SCOPE, { q: 'lot-7.csv', limit: 10 })).batches.map((b) => b.id)).toEqual([ids[7]]);
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { startStack, type Stack } from '../helpers/stack.ts';
import { apiClient } from '../helpers/api.ts';
import { createAccount, createFirm } from '../factories/world.ts';
import { processBatch, loadCatalogue } from '../../src/batches/process-batch.ts';
import { stageBatch } from '../../src/batches/stage-batch.ts';
import { findUploadScan, uploadCopyReader } from '../../src/batches/upload.repository.ts';
import { createLogger } from '../../src/logger.ts';

// A file is judged in parts, each on a connection of its own, after stage 2 (duplicates) has been settled over
// the whole file: a duplicate whose first row is in another part is still a duplicate. Reading leaves no scratch
// table behind, whether it ends staged, failed or cancelled.
describe('judging a file in parts', () => {
  let stack: Stack;

  beforeAll(async () => {
    stack = await startStack({ worker: false });
  });
  afterAll(async () => {
    await stack?.close();
  });

  async function scratchTables(id: number): Promise<string[]> {
    const { rows } = await sql<{ relname: string; attached: boolean }>`
      SELECT relname, relispartition AS attached FROM pg_class
      WHERE relname IN (${`staged_row_${id}`}, ${`staged_siren_${id}`}, ${`staged_duplicate_${id}`}, ${`batch_row_${id}`})
    `.execute(stack.db.db);
    return rows.filter((r) => !r.attached).map((r) => r.relname).sort();
  }

  async function upload(text: string) {
    const { db } = stack.db;
    const firm = await createFirm(db);
    const up = await apiClient(stack.baseUrl, firm.token).upload(text);
    expect(up.status).toBe(202);
    return up.body.id as number;
  }

  /** Reads and judges an uploaded batch, as the worker's first phase does. */
  async function stage(id: number, options: { readThreads?: number; partBytes?: number } = {}) {
    const { db, pool } = stack.db;
    const batch = await db.selectFrom('batch').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
    return stageBatch(pool, {
      batchId: id,
      declarantId: batch.declarant_id,
      open: uploadCopyReader(pool, batch.upload_id),
      scan: await findUploadScan(db, batch.upload_id),
      catalogue: await loadCatalogue(db),
      nirHashKey: stack.config.nirHashKey,
      ...options,
    });
  }

  it('finds a duplicate of the first row in the last row, judged in another part', async () => {
    const { db } = stack.db;
    const key = stack.config.nirHashKey;
    const accounts = [];
    for (let i = 0; i < 150; i++) accounts.push(await createAccount(db, key));
    const rows = accounts.map((a) => `ajout;employer;${a.siren};${a.accountNumber};1 234,56`);
    // Lines 2..151 add every account; line 152 adds the first again.
    rows.push(rows[0]);
    const id = await upload(['action;cas;siren;numero de compte;montant', ...rows].join('\n') + '\n');
    const staged = await stage(id);
    expect(staged.parts).toBe(2);
    expect(staged.total).toBe(151);
    expect(staged.counts).toEqual({ added: 150, removed: 0, updated: 0, unchanged: 0, rejected: 1 });
    const judged = await db.selectFrom('batch_row').select(['line', 'outcome', 'codes', 'message']).where('batch_id', '=', id).where('line', 'in', [2, 152]).orderBy('line').execute();
    expect(judged.map((r) => [r.line, r.outcome, r.codes])).toEqual([
      [2, 'added', []],
      [152, 'rejected', ['DUPLICATE_IN_FILE']],
    ]);
    expect(judged[1].message).toContain('ligne 2');
    expect(await scratchTables(id)).toEqual([]);
  });

  it('reads a file on two threads, and again on one when a part was not cut between two records', async () => {
    const { db } = stack.db;
    const key = stack.config.nirHashKey;
    const accounts = [];
    for (let i = 0; i < 60; i++) accounts.push(await createAccount(db, key));
    // `a"b` is literal (a quote inside an unquoted cell of an ignored column); the quoted name then spans two lines,
    // so cutting by counting quotes lands inside it.
    const header = 'action;cas;siren;numero de compte;montant;note;nom';
    const plain = accounts.map((a) => `ajout;employer;${a.siren};${a.accountNumber};1 234,56;ok;Client`);
    const tricky = accounts.map((a) => `ajout;employer;${a.siren};${a.accountNumber};1 234,56;a"b;"X\nY"`);
    for (const [rows, threads] of [[plain, 2], [tricky, 1]] as const) {
      const id = await upload([header, ...rows].join('\n') + '\n');
      const staged = await stage(id, { readThreads: 2, partBytes: 300 });
      expect(staged.threads).toBe(threads);
      expect(staged.counts).toEqual({ added: 60, removed: 0, updated: 0, unchanged: 0, rejected: 0 });
      const lines = await db.selectFrom('batch_row').select(['line', 'name']).where('batch_id', '=', id).orderBy('line').execute();
      const step = threads === 2 ? 1 : 2;
      expect(lines.map((r) => r.line)).toEqual(accounts.map((_, i) => 2 + i * step));
      expect(lines[59].name).toBe(threads === 2 ? 'Client' : 'X\nY');
      expect(await scratchTables(id)).toEqual([]);
    }
  });

  it('leaves nothing behind when the file fails while it is read', async () => {
    const { db } = stack.db;
    const deps = { db, pool: stack.db.pool, log: createLogger('silent'), chunkSize: 10, nirHashKey: stack.config.nirHashKey };
    const rows = Array.from({ length: 200 }, (_, i) => `ajout;employer;;${String(i).padStart(18, '0')};1`);
    const id = await upload(['action;cas;siren;numero de compte;montant', ...rows, 'ajout;"employer'].join('\n') + '\n');
    expect(await processBatch(deps, id)).toBe('file_failed');
    const batch = await db.selectFrom('batch').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
    expect([batch.status, batch.error_code, batch.error_line]).toEqual(['failed', 'FILE_MALFORMED', 202]);
    expect(await scratchTables(id)).toEqual([]);
  });

  it('drops what a reading that died left behind when the batch is then cancelled', async () => {
    const { db } = stack.db;
    const deps = { db, pool: stack.db.pool, log: createLogger('silent'), chunkSize: 10, nirHashKey: stack.config.nirHashKey };
    const id = await upload('action;siren\nretrait;123456782\n');
    // What a worker killed while judging leaves: the staged rows and an unattached rows table.
    await sql.raw(`CREATE UNLOGGED TABLE staged_row_${id} (line int); CREATE TABLE batch_row_${id} (LIKE batch_row)`).execute(db);
    expect(await scratchTables(id)).toEqual([`batch_row_${id}`, `staged_row_${id}`]);
    await db.updateTable('batch').set({ cancel_requested: true }).where('id', '=', id).execute();
    expect(await processBatch(deps, id)).toBe('done');
    expect((await db.selectFrom('batch').select('status').where('id', '=', id).executeTakeFirstOrThrow()).status).toBe('cancelled');
    expect(await scratchTables(id)).toEqual([]);
  });
});

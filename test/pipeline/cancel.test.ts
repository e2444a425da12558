import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { startStack, type Stack } from '../helpers/stack.ts';
import { apiClient } from '../helpers/api.ts';
import { createAccount, createFirm } from '../factories/world.ts';
import { processBatch } from '../../src/batches/process-batch.ts';
import { createLogger } from '../../src/logger.ts';

// Chunks are applied two at a time, each in its own transaction. Stopping or cancelling between chunks must
// leave what is applied a prefix of the file, shown as such: counts, checkpoint, portfolio and rows agree.
describe('stopping and cancelling between chunks', () => {
  let stack: Stack;
  const CHUNK = 4;

  beforeAll(async () => {
    stack = await startStack({ worker: false });
  });
  afterAll(async () => {
    await stack?.close();
  });

  /** A firm uploads a file adding `count` clients (lines 2 to count + 1); the batch waits in the queue. */
  async function uploadAdds(firmName: string, count: number) {
    const { db } = stack.db;
    const firm = await createFirm(db, firmName);
    const api = apiClient(stack.baseUrl, firm.token);
    const accounts = [];
    for (let i = 0; i < count; i++) accounts.push(await createAccount(db, stack.config.nirHashKey));
    const text = ['action;cas;siren;numero de compte;montant', ...accounts.map((a) => `ajout;employer;${a.siren};${a.accountNumber};1 234,56`)].join('\n') + '\n';
    const up = await api.upload(text);
    expect(up.status).toBe(202);
    const deps = { db, pool: stack.db.pool, log: createLogger('silent'), chunkSize: CHUNK, nirHashKey: stack.config.nirHashKey };
    return { db, firm, api, accounts, id: up.body.id as number, deps };
  }

  it('a batch stopped after a few chunks, then cancelled, keeps exactly its first chunks applied', async () => {
    const { db, api, firm, accounts, id, deps } = await uploadAdds('Cabinet Annule', 30);
    // The process is told to stop after four chunks have been taken (two lanes: each takes two).
    let taken = 0;
    expect(await processBatch({ ...deps, isStopping: () => ++taken > 4 }, id)).toBe('wait');
    const stopped = await db.selectFrom('batch').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
    expect(stopped.status).toBe('applying');
    // Lines 2..31; chunks of 4 lines from line 0: (0,4] (4,8] (8,12] (12,16] applied.
    expect(stopped.applied_through).toBe(16);
    expect(stopped.added).toBe(15);

    await db.updateTable('batch').set({ cancel_requested: true }).where('id', '=', id).execute();
    expect(await processBatch(deps, id)).toBe('done');
    const end = await db.selectFrom('batch').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
    expect(end.status).toBe('cancelled');
    expect(end.applied_through).toBe(16);
    expect(end.added).toBe(15);
    const clients = await db.selectFrom('portfolio_client').select('account_number').where('declarant_id', '=', firm.declarantId).execute();
    expect(clients.map((c) => c.account_number).sort()).toEqual(accounts.slice(0, 15).map((a) => a.accountNumber).sort());
    const rows = await api.rows(id);
    expect(rows.filter((r: { outcome: string | null }) => r.outcome === 'added').map((r: { line: number }) => r.line)).toEqual(
      Array.from({ length: 15 }, (_, i) => i + 2),
    );
  });

  it('a chunk lost in a crash below applied ones is applied even after a cancel, so the applied lines stay a prefix', async () => {
    const { db, firm, id, deps } = await uploadAdds('Cabinet Trou', 12);
    expect(await processBatch({ ...deps, isStopping: () => true }, id)).toBe('wait'); // staged, nothing applied
    // As if a crash had rolled back chunk (0,4] while (4,8] committed: apply (4,8] alone.
    await db.transaction().execute(async (trx) => {
      const { applyChunk, planChunks } = await import('../../src/batches/apply-chunk.ts');
      await planChunks(db, id, CHUNK);
      const b = await trx.selectFrom('batch').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
      await applyChunk(trx, b, 4);
    });
    await db.updateTable('batch').set({ cancel_requested: true }).where('id', '=', id).execute();
    expect(await processBatch(deps, id)).toBe('done');
    const end = await db.selectFrom('batch').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
    expect(end.status).toBe('cancelled');
    expect(end.applied_through).toBe(8);
    const applied = await sql<{ n: number }>`SELECT count(*)::int AS n FROM portfolio_client WHERE declarant_id = ${firm.declarantId}`.execute(db);
    expect(applied.rows[0].n).toBe(7); // lines 2..8
    expect(end.added).toBe(7);
  });
});

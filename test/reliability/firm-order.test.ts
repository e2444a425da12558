/**
 * RELIABILITY A13 (and D2): batches of one firm are applied in upload order, whatever worker takes which job.
 * Batch 1 adds client X (among 20,000 rows), batch 2 removes X, batch 3 adds X again; two workers, uploaded back
 * to back. Each batch is judged against the state its predecessor left, so the end state is the oracle's.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { generateImportRecords, IMPORT_HEADER } from '../../src/demo/generate.ts';
import { nextOracleState } from '../oracle/oracle.ts';
import {
  createRig, createWorld, expectedFor, expectMatchesOracle, importFile, report, waitForBatchEnd, type Rig,
} from './support.ts';

const ACCOUNT = IMPORT_HEADER.indexOf('numero de compte');

describe('A13: concurrent batches of the same firm', () => {
  let rig: Rig | undefined;
  afterAll(async () => {
    await rig?.close();
  });

  it('applies add X, remove X, add X again in upload order with 2 workers; final state deterministic', async () => {
    rig = await createRig({ workers: 2 });
    const world = await createWorld(rig, { accounts: 25_000, seed: 1301 });
    const first = importFile(world.registry, 20_000, 1302);
    const expected1 = await expectedFor(first, world.state);
    // X: the first client batch 1 adds.
    const records = [...generateImportRecords(world.registry, { rows: 20_000, seed: 1302 })];
    const addedLine = expected1.results.find((r) => r.outcome === 'added')!.line;
    const x = records[addedLine - 2].cells[ACCOUNT];
    const account = world.registry.find((a) => a.accountNumber === x)!;
    expect(world.state.portfolio.has(x)).toBe(false);

    // Batch 2: removes X first thing, then 2,000 generated rows; batch 3 adds X again (amount or NIR as the registry has it).
    const second = Buffer.concat([
      Buffer.from(`${IMPORT_HEADER.join(';')}\nsupprimer;;;;${x};;;;;\n`),
      importFile(world.registry, 2_000, 1303).subarray(IMPORT_HEADER.join(';').length + 1),
    ]);
    const proof = account.kind === 'independent' ? `;${account.nir}` : `${(account.referenceAmountCents! / 100).toFixed(2).replace('.', ',')};`;
    const third = Buffer.from(`${IMPORT_HEADER.join(';')}\najout;${account.kind};${account.siren ?? ''};;${x};${proof};;;\n`);
    const state2 = nextOracleState(world.state, expected1);
    const expected2 = await expectedFor(second, state2);
    const expected3 = await expectedFor(third, nextOracleState(state2, expected2));
    expect(expected2.results[0]).toMatchObject({ line: 2, outcome: 'removed' });
    expect(expected3.results[0]).toMatchObject({ line: 2, outcome: 'added' });

    const ids: number[] = [];
    for (const file of [first, second, third]) {
      const up = await world.api.upload(file);
      expect(up.status).toBe(202);
      ids.push(up.body.id);
    }
    for (const id of ids) expect((await waitForBatchEnd(rig, id, 120_000)).status, rig.group.diagnostics()).toBe('completed');

    const { db } = rig.db;
    const batches = await db.selectFrom('batch').select(['id', 'started_at', 'staged_at', 'finished_at']).where('id', 'in', ids).orderBy('id').execute();
    // Each batch is judged (staged) only after its predecessor has finished.
    let orderViolations = 0;
    for (let i = 1; i < batches.length; i++) {
      if (batches[i].staged_at! < batches[i - 1].finished_at!) orderViolations++;
    }
    await expectMatchesOracle(rig, ids[0], world.firm.declarantId, expected1, null);
    await expectMatchesOracle(rig, ids[1], world.firm.declarantId, expected2, null);
    await expectMatchesOracle(rig, ids[2], world.firm.declarantId, expected3);
    const history = await db
      .selectFrom('portfolio_history')
      .select(['kind', 'batch_id', 'line'])
      .where('declarant_id', '=', world.firm.declarantId)
      .where('account_number', '=', x)
      .orderBy('at')
      .orderBy('batch_id')
      .execute();
    const client = await db.selectFrom('portfolio_client').select(['added_by_batch_id']).where('account_number', '=', x).execute();

    report('A13 same-firm order', {
      batches: ids.length,
      rows: expected1.results.length + expected2.results.length + expected3.results.length,
      order_violations: orderViolations,
      x_history: history.map((h) => `${h.kind}@b${ids.indexOf(h.batch_id) + 1}`).join(','),
      workers: rig.workers().length,
      wait_b2_ms: batches[1].staged_at!.getTime() - batches[0].finished_at!.getTime(),
    });
    expect(orderViolations).toBe(0);
    expect(history).toEqual([
      { kind: 'added', batch_id: ids[0], line: addedLine },
      { kind: 'removed', batch_id: ids[1], line: 2 },
      { kind: 'added', batch_id: ids[2], line: 2 },
    ]);
    expect(client).toEqual([{ added_by_batch_id: ids[2] }]);
  }, 240_000);
});

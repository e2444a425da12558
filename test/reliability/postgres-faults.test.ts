/**
 * RELIABILITY A7: the workers' PostgreSQL connections terminated (pg_terminate_backend) mid-batch, several times,
 * in phase 1 and in phase 2. The transaction rolls back, the job is retried, no chunk is half applied, and the
 * worker processes do not crash.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { sleep } from '../helpers/processes.ts';
import {
  backendsOf, createRig, createWorld, expectedFor, expectMatchesOracle, importFile, isEnded, jobEvents, recoveryTime,
  redrives, report, waitForBatchEnd, waitForPhase, type Rig,
} from './support.ts';

/** Terminates every backend of the rig's workers on the test database; returns how many. */
async function terminateWorkerBackends(rig: Rig): Promise<number> {
  const names = rig.workers().map((w) => w.applicationName);
  const { rows } = await sql<{ terminated: boolean }>`
    SELECT pg_terminate_backend(pid) AS terminated FROM pg_stat_activity
    WHERE datname = ${rig.db.name} AND pid <> pg_backend_pid() AND application_name = ANY(${names}::text[])
  `.execute(rig.db.db);
  return rows.filter((r) => r.terminated).length;
}

describe('A7: PostgreSQL connections of the workers terminated mid-batch', () => {
  let rig: Rig | undefined;
  afterAll(async () => {
    await rig?.close();
  });

  it('completes as the oracle says after 4 rounds of pg_terminate_backend, and no worker process crashes', async () => {
    rig = await createRig({ workers: 2, env: { CHUNK_SIZE: '100' } });
    const world = await createWorld(rig, { accounts: 30_000, seed: 701 });
    const bytes = importFile(world.registry, 30_000, 702);
    const expected = await expectedFor(bytes, world.state);

    const up = await world.api.upload(bytes);
    expect(up.status).toBe(202);
    const batchId: number = up.body.id;
    const started = Date.now();
    const recoveries: number[] = [];
    const phases: string[] = [];
    let rounds = 0;
    let backends = 0;
    for (const phase of ['validating', 'validating', 'applying', 'applying']) {
      const p = await waitForPhase(rig, batchId, phase);
      if (isEnded(p.status)) break;
      await sleep(600);
      // Wait for the worker to hold a connection (it has none for a moment after a retry's backoff).
      const deadline = Date.now() + 20_000;
      while ((await backendsOf(rig, rig.workers().map((w) => w.applicationName))).length === 0 && Date.now() < deadline) await sleep(50);
      const at = Date.now();
      const n = await terminateWorkerBackends(rig);
      backends += n;
      rounds++;
      phases.push(p.status);
      const recovery = await recoveryTime(rig, batchId, at, [], 90_000);
      if (recovery !== null) recoveries.push(recovery);
    }
    const end = await waitForBatchEnd(rig, batchId, 150_000);
    expect(end.status, rig.group.diagnostics()).toBe('completed');
    const crashed = rig.group.children.filter((c) => !c.alive());
    const verdict = await expectMatchesOracle(rig, batchId, world.firm.declarantId, expected);
    const failedAttempts = rig.group.children.reduce((n, c) => n + (c.output().match(/job attempt failed/g)?.length ?? 0), 0);

    report('A7 pg_terminate_backend', {
      rows: expected.results.length,
      rounds,
      backends_terminated: backends,
      round_phases: phases.join(','),
      failed_attempts_retried: failedAttempts,
      bullmq_failed_events: (await jobEvents(rig)).failed,
      reconciler_redrives: redrives(rig),
      rows_lost: verdict.rowsLost,
      rows_doubled: verdict.eventsDoubled,
      partial_chunks: verdict.eventsMissing + verdict.outcomeMismatches,
      process_crashes: crashed.length,
      batch_seconds: ((Date.now() - started) / 1000).toFixed(1),
    }, recoveries);
    expect(crashed.map((c) => `${c.name} ${JSON.stringify(c.exit())}\n${c.output().slice(-3000)}`)).toEqual([]);
    expect(rounds).toBe(4);
  }, 300_000);
});

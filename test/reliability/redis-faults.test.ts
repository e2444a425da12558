/**
 * RELIABILITY A5 (the private Redis shut down without saving, then started again, mid-batch) and A6 (FLUSHALL
 * mid-batch). PostgreSQL is the truth: the reconciler rebuilds whatever Redis lost, the batch completes as THE
 * ORACLE says, and an upload made while Redis is down is still answered 202 (its batch queued) and completes.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { jobIdFor } from '../../src/queue/queue.ts';
import { emptyOracleState } from '../oracle/oracle.ts';
import { createFirm } from '../factories/world.ts';
import { apiClient } from '../helpers/api.ts';
import { sleep } from '../helpers/processes.ts';
import {
  batchProgress, createRig, createWorld, expectedFor, expectMatchesOracle, importFile, isEnded, jobEvents,
  recoveryTime, redrives, report, waitForBatchEnd, waitForPhase, type Rig, uploadScenario } from './support.ts';

/** Time from `since` until the batch's job exists in Redis again (enqueued by the web or re-driven). */
async function jobBackAfter(rig: Rig, batchId: number, since: number, timeoutMs = 30_000): Promise<number | null> {
  for (;;) {
    const job = await rig.queue().getJob(jobIdFor(batchId)).catch(() => undefined);
    if (job) return Date.now() - since;
    if (isEnded((await batchProgress(rig, batchId)).status)) return Date.now() - since;
    if (Date.now() - since > timeoutMs) return null;
    await sleep(50);
  }
}

describe('A5: Redis restarted mid-batch (SHUTDOWN NOSAVE)', () => {
  let rig: Rig | undefined;
  afterAll(async () => {
    await rig?.close();
  });

  it('resumes after two restarts, and an upload made while Redis is down is answered 202 and completes', async () => {
    // Small chunks keep phase 2 long enough (seconds) for the second restart to land in it, however fast judging is.
    rig = await createRig({ workers: 2, env: { CHUNK_SIZE: '10' } });
    const world = await createWorld(rig, { accounts: 30_000, seed: 501 });
    const first = importFile(world.registry, 30_000, 502);
    const expectedFirst = await expectedFor(first, world.state);
    // Another firm uploads while Redis is down: its batch does not wait for the first one, so it shows when the
    // workers take jobs again.
    const other = await createFirm(rig.db.db, 'Cabinet pendant la panne');
    const otherApi = apiClient(rig.web.baseUrl, other.token);
    const second = importFile(world.registry, 3_000, 503);
    const expectedSecond = await expectedFor(second, emptyOracleState(world.registry));

    const up = await world.api.upload(first);
    expect(up.status).toBe(202);
    const batchId: number = up.body.id;
    const started = Date.now();
    let workerResumeMs: number | null = null;
    let progressAfterRestart2Ms: number | null = null;

    // Restart 1, during phase 1, down 4 s (longer than the job lock), with an upload meanwhile.
    await waitForPhase(rig, batchId, 'validating');
    await sleep(800);
    await rig.redis.shutdownNoSave();
    const downAt = Date.now();
    const health = await fetch(`${rig.web.baseUrl}/healthz`);
    const uploadStart = Date.now();
    const during = await otherApi.upload(second);
    const uploadMs = Date.now() - uploadStart;
    expect(during.status, JSON.stringify(during.body)).toBe(202);
    expect(during.body.status).toBe('queued');
    const secondId: number = during.body.id;
    await sleep(Math.max(0, 4000 - (Date.now() - downAt)));
    await rig.redis.start();
    const backAt = Date.now();
    const secondEnqueued = await jobBackAfter(rig, secondId, backAt);
    // Worker resume time: Redis back → the queued batch taken by a worker.
    const secondStarted = await waitForPhase(rig, secondId, 'validating', 30_000);
    if (secondStarted.status !== 'queued') workerResumeMs = Date.now() - backAt;

    // Restart 2, as soon as phase 2 has begun, down 1.5 s.
    const p = await waitForPhase(rig, batchId, 'applying');
    let checkpointAtRestart2: number | null = null;
    if (!isEnded(p.status)) {
      await rig.redis.shutdownNoSave();
      checkpointAtRestart2 = (await batchProgress(rig, batchId)).applied_through;
      await sleep(1500);
      await rig.redis.start();
      const back2 = Date.now();
      progressAfterRestart2Ms = await recoveryTime(rig, batchId, back2, []);
    }

    const end = await waitForBatchEnd(rig, batchId, 120_000);
    const end2 = await waitForBatchEnd(rig, secondId, 120_000);
    expect(end.status, rig.group.diagnostics()).toBe('completed');
    expect(end2.status, rig.group.diagnostics()).toBe('completed');
    const v1 = await expectMatchesOracle(rig, batchId, world.firm.declarantId, expectedFirst);
    const v2 = await expectMatchesOracle(rig, secondId, other.declarantId, expectedSecond);
    for (const w of rig.workers()) expect(w.alive()).toBe(true);
    expect(rig.workers()).toHaveLength(2);
    expect(rig.web.alive()).toBe(true);

    report('A5 Redis restart', {
      rows: expectedFirst.results.length + expectedSecond.results.length,
      redis_restarts: rig.redis.restarts,
      second_restart_at_checkpoint: checkpointAtRestart2,
      healthz_while_down: health.status,
      upload_while_down: `${during.status}/${during.body.status}`,
      upload_while_down_ms: uploadMs,
      queued_batch_enqueued_after: secondEnqueued === null ? 'never' : `${(secondEnqueued / 1000).toFixed(2)}s`,
      reconciler_redrives: redrives(rig),
      stalled_events: (await jobEvents(rig)).stalled,
      rows_lost: v1.rowsLost + v2.rowsLost,
      rows_doubled: v1.eventsDoubled + v2.eventsDoubled,
      worker_crashes: rig.group.children.filter((c) => !c.alive()).length,
      worker_resume_after_restart: workerResumeMs === null ? 'never' : `${(workerResumeMs / 1000).toFixed(2)}s`,
      progress_after_restart2: progressAfterRestart2Ms === null ? 'n/a' : `${(progressAfterRestart2Ms / 1000).toFixed(2)}s`,
      batch_seconds: ((Date.now() - started) / 1000).toFixed(1),
    });
    expect(workerResumeMs).not.toBeNull();
    expect(health.status).toBe(503);
    expect(secondEnqueued).not.toBeNull();
    expect(rig.redis.restarts).toBe(2);
  }, 300_000);
});

describe('A6: Redis flushed mid-batch (FLUSHALL)', () => {
  let rig: Rig | undefined;
  afterAll(async () => {
    await rig?.close();
  });

  it('completes as the oracle says after a flush in phase 1 and another in phase 2', async () => {
    rig = await createRig({ workers: 2, env: { CHUNK_SIZE: '100' } });
    const { world, expected, batchId } = await uploadScenario(rig, { accounts: 30_000, rows: 30_000, seed: 601, importSeed: 602 });
    const started = Date.now();
    const rebuilt: number[] = [];
    let flushes = 0;
    for (const phase of ['validating', 'applying']) {
      const p = await waitForPhase(rig, batchId, phase);
      if (isEnded(p.status)) break;
      await sleep(700);
      await rig.redis.flushAll();
      flushes++;
      const at = Date.now();
      const back = await jobBackAfter(rig, batchId, at);
      if (back !== null) rebuilt.push(back);
    }
    const end = await waitForBatchEnd(rig, batchId, 120_000);
    expect(end.status, rig.group.diagnostics()).toBe('completed');
    const verdict = await expectMatchesOracle(rig, batchId, world.firm.declarantId, expected);
    for (const w of rig.workers()) expect(w.alive()).toBe(true);
    expect(rig.workers()).toHaveLength(2);

    report('A6 Redis FLUSHALL', {
      rows: expected.results.length,
      flushes,
      reconciler_redrives: redrives(rig),
      job_rebuilt_after: rebuilt.map((ms) => `${(ms / 1000).toFixed(2)}s`).join(','),
      rows_lost: verdict.rowsLost,
      rows_doubled: verdict.eventsDoubled,
      worker_crashes: rig.group.children.filter((c) => !c.alive()).length,
      time_to_full_recovery: `${((Date.now() - started) / 1000).toFixed(1)}s`,
    });
    expect(flushes).toBe(2);
  }, 300_000);
});

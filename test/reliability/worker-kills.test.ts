/**
 * RELIABILITY A1 (kill -9 storm) and A2 (the same job killed twice in a row, then past maxStalledCount), with
 * D1 (one event per applied line): workers are real processes, SIGKILLed at seeded random points and respawned;
 * the batch must complete exactly as THE ORACLE says, nothing lost, nothing doubled.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { createRandom } from '../../src/demo/generate.ts';
import { jobIdFor } from '../../src/queue/queue.ts';
import { sleep, type WorkerChild } from '../helpers/processes.ts';
import {
  batchProgress, busyWorker, createRig, expectMatchesOracle, isEnded, jobEvents,
  recoveryTime, redrives, report, waitForBatchEnd, waitForPhase, type Rig, uploadScenario } from './support.ts';

describe('A1: kill -9 storm', () => {
  let rig: Rig | undefined;
  afterAll(async () => {
    await rig?.close();
  });

  it('completes a 40,000-row batch through 8 SIGKILLs of the busy worker, as the oracle says', async () => {
    // Small chunks: phase 2 lasts long enough for kills to land in it too, whatever the machine's speed.
    rig = await createRig({ workers: 2, env: { CHUNK_SIZE: '10' } });
    const { world, expected, batchId } = await uploadScenario(rig, { accounts: 40_000, rows: 40_000, seed: 101, importSeed: 102 });
    expect(expected.fileError).toBeNull();
    const random = createRandom(103);
    const started = Date.now();
    const recoveries: number[] = [];
    const phases: string[] = [];
    let kills = 0;
    let respawns = 0;
    let unrecovered = 0;
    const target = 8;
    while (kills < target && Date.now() - started < 150_000) {
      // The first kills land anywhere (phase 1 mostly, which starts again from the first row); the others wait
      // for phase 2, so that chunks are cut too.
      if (kills >= 3) await waitForPhase(rig, batchId, 'applying');
      await sleep(random.int(kills >= 3 ? 50 : 300, kills >= 3 ? 600 : 2500));
      const before = await batchProgress(rig, batchId);
      if (isEnded(before.status)) break;
      const workers = rig.workers();
      const victim: WorkerChild = (await busyWorker(rig)) ?? workers[random.int(0, workers.length - 1)];
      const killAt = Date.now();
      await victim.stop('SIGKILL');
      kills++;
      phases.push(before.status === 'applying' ? `apply@${before.applied_through}` : before.status);
      // A supervisor restarts the dead worker at once; recovery is measured meanwhile.
      const respawn = rig.startWorker().then(
        () => void respawns++,
        (err: Error) => err,
      );
      const recovery = await recoveryTime(rig, batchId, killAt, [victim.applicationName]);
      const failedRespawn = await respawn;
      if (failedRespawn) throw failedRespawn;
      if (recovery === null) unrecovered++;
      else recoveries.push(recovery);
    }
    const end = await waitForBatchEnd(rig, batchId, 120_000);
    const seconds = (Date.now() - started) / 1000;
    expect(end.status, rig.group.diagnostics()).toBe('completed');
    const job = await rig.queue().getJob(jobIdFor(batchId));
    const verdict = await expectMatchesOracle(rig, batchId, world.firm.declarantId, expected);

    report('A1 kill -9 storm', {
      rows: expected.results.length,
      workers: 2,
      kills,
      respawns,
      kill_phases: phases.join(','),
      rows_lost: verdict.rowsLost,
      rows_doubled: verdict.eventsDoubled,
      outcome_mismatches: verdict.outcomeMismatches,
      unrecovered,
      job_stalled_count: job?.stalledCounter ?? 'removed',
      stall_limit_failures: (await jobEvents(rig)).stallLimitFailures,
      reconciler_redrives: redrives(rig),
      batch_seconds: seconds.toFixed(1),
    }, recoveries);
    expect(kills).toBeGreaterThanOrEqual(5);
    expect(unrecovered).toBe(0);
    for (const w of rig.workers()) expect(w.alive()).toBe(true);
  }, 300_000);
});

describe('A2: the same job killed twice in a row, then past maxStalledCount', () => {
  let rig: Rig | undefined;
  afterAll(async () => {
    await rig?.close();
  });

  it('completes after 4 kills of the worker that holds the job, each as soon as it has taken the job again', async () => {
    // One worker at a time, so the worker that holds the job is known for sure.
    rig = await createRig({ workers: 1, env: { CHUNK_SIZE: '200' } });
    const { world, expected, batchId } = await uploadScenario(rig, { accounts: 25_000, rows: 25_000, seed: 201, importSeed: 202 });
    const jobId = jobIdFor(batchId);
    const queue = rig.queue();
    const started = Date.now();
    const recoveries: number[] = [];
    const retakes: number[] = [];
    let kills = 0;
    let sawFailed = false;
    let failedAt = 0;
    let redriveMs: number | null = null;
    // Wait for the job to be active on the worker (its backends busy on the batch).
    const waitTaken = async (since: number, afterToken: string | null) => {
      const deadline = Date.now() + 60_000;
      for (;;) {
        const job = await queue.getJob(jobId);
        const state = job ? await job.getState() : 'missing';
        if (state === 'failed' && !sawFailed) {
          sawFailed = true;
          failedAt = Date.now();
        }
        // Active under a new lock: the old lock of the killed worker is gone once its job was moved back.
        const token = await queue.client.then((c) => c.get(`${rig!.env.QUEUE_PREFIX}:batches:${jobId}:lock`));
        if (state === 'active' && token !== null && token !== afterToken) {
          if (sawFailed && redriveMs === null) redriveMs = Date.now() - failedAt;
          retakes.push(Date.now() - since);
          return token;
        }
        if (Date.now() > deadline) throw new Error(`job ${jobId} not taken again (state ${state})\n${rig!.group.diagnostics()}`);
        await sleep(20);
      }
    };
    let token = await waitTaken(started, null);
    for (let i = 0; i < 4; i++) {
      await sleep(150); // let processBatch start: the kill lands inside the job, not before it
      if (isEnded((await batchProgress(rig, batchId)).status)) break;
      const [victim] = rig.workers();
      const killAt = Date.now();
      await victim.stop('SIGKILL');
      kills++;
      const respawn = rig.startWorker();
      token = await waitTaken(killAt, token);
      await respawn;
      const recovery = await recoveryTime(rig, batchId, killAt, [victim.applicationName]);
      if (recovery !== null) recoveries.push(recovery);
    }
    const end = await waitForBatchEnd(rig, batchId, 120_000);
    expect(end.status, rig.group.diagnostics()).toBe('completed');
    const verdict = await expectMatchesOracle(rig, batchId, world.firm.declarantId, expected);
    const job = await queue.getJob(jobId);
    report('A2 same job killed in a row', {
      rows: expected.results.length,
      kills,
      job_stalled_count: job?.stalledCounter ?? 'removed',
      stall_limit_failures: (await jobEvents(rig)).stallLimitFailures,
      went_failed: sawFailed,
      reconciler_redrives: redrives(rig),
      redrive_after_failed: redriveMs === null ? 'n/a' : `${(redriveMs / 1000).toFixed(2)}s`,
      retake_p50: `${((retakes.slice(1).sort((a, b) => a - b)[Math.floor((retakes.length - 1) / 2)] ?? 0) / 1000).toFixed(2)}s`,
      rows_lost: verdict.rowsLost,
      rows_doubled: verdict.eventsDoubled,
      batch_seconds: ((Date.now() - started) / 1000).toFixed(1),
    }, recoveries);
    expect(kills).toBe(4);
  }, 300_000);
});

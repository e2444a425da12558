/**
 * RELIABILITY A10 (graceful deploy: SIGTERM every worker mid-batch, then start new ones) and A11 (a web process
 * killed between committing the batch and enqueueing its job: the reconciler enqueues the orphan).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { createBatch } from '../../src/batches/batch.repository.ts';
import { storeUpload } from '../../src/batches/upload.repository.ts';
import { jobIdFor } from '../../src/queue/queue.ts';
import { sleep } from '../helpers/processes.ts';
import {
  batchProgress, createRig, createWorld, expectedFor, expectMatchesOracle, importFile, isEnded, jobEvents, recoveryTime,
  redrives, report, waitForBatchEnd, waitForPhase, type Rig, uploadScenario } from './support.ts';

/** The deploy tool's grace period before it SIGKILLs a worker that has not exited (Kubernetes' default is 30 s). */
const DEPLOY_GRACE_MS = 15_000;

describe('A10: graceful deploy, every worker SIGTERMed mid-batch', () => {
  let rig: Rig | undefined;
  afterAll(async () => {
    await rig?.close();
  });

  it('completes as the oracle says with new workers, nothing doubled, after SIGTERM (then SIGKILL past the grace period)', async () => {
    // Tiny chunks: phase 2 outlasts the grace period, as a large batch would.
    rig = await createRig({ workers: 2, env: { CHUNK_SIZE: '8' } });
    const { world, expected, batchId } = await uploadScenario(rig, { accounts: 25_000, rows: 25_000, seed: 1001, importSeed: 1002 });
    const started = Date.now();
    await waitForPhase(rig, batchId, 'applying');
    await sleep(300);
    const atTerm = await batchProgress(rig, batchId);
    const old = rig.workers();
    const termAt = Date.now();
    const exits = await Promise.all(
      old.map(async (w) => {
        const exit = await w.stop('SIGTERM', DEPLOY_GRACE_MS);
        return { exit, ms: Date.now() - termAt };
      }),
    );
    const afterDrain = await batchProgress(rig, batchId);
    // New workers (the deploy's new version).
    const newAt = Date.now();
    await Promise.all([rig.startWorker(), rig.startWorker()]);
    const resume = isEnded(afterDrain.status) ? 0 : await recoveryTime(rig, batchId, newAt, []);
    const end = await waitForBatchEnd(rig, batchId, 150_000);
    expect(end.status, rig.group.diagnostics()).toBe('completed');
    const verdict = await expectMatchesOracle(rig, batchId, world.firm.declarantId, expected);
    const events = await jobEvents(rig);
    const drains = exits.map((e) => e.ms);

    report('A10 graceful deploy', {
      rows: expected.results.length,
      sigtermed_workers: old.length,
      exits: exits.map((e) => e.exit.code ?? e.exit.signal).join(','),
      drain_ms: drains.join(','),
      drain_max: `${(Math.max(...drains) / 1000).toFixed(2)}s`,
      checkpoint_at_sigterm: atTerm.applied_through,
      checkpoint_after_drain: `${afterDrain.status}@${afterDrain.applied_through}`,
      new_workers_resume: resume === null ? 'never' : `${(resume / 1000).toFixed(2)}s`,
      stalled_events: events.stalled,
      reconciler_redrives: redrives(rig),
      rows_lost: verdict.rowsLost,
      rows_doubled: verdict.eventsDoubled,
      batch_seconds: ((Date.now() - started) / 1000).toFixed(1),
    });
    expect(resume).not.toBeNull();
  }, 300_000);

  // A stopping worker hands its batch back between two chunks (worker/worker.ts close(), processBatch's isStopping).
  it('a SIGTERMed worker exits within its grace period (10 s, plus slack) even in the middle of a batch', async () => {
    const local = await createRig({ workers: 1, env: { CHUNK_SIZE: '5' } });
    try {
      const world = await createWorld(local, { accounts: 15_000, seed: 1011 });
      const up = await world.api.upload(importFile(world.registry, 15_000, 1012));
      expect(up.status).toBe(202);
      await waitForPhase(local, up.body.id, 'applying');
      await sleep(300);
      const [worker] = local.workers();
      const termAt = Date.now();
      const exit = await worker.stop('SIGTERM', 14_000);
      const ms = Date.now() - termAt;
      const p = await batchProgress(local, up.body.id);
      report('A10b bounded shutdown', { exit: exit.code ?? exit.signal, drain_ms: ms, batch_at_exit: `${p.status}@${p.applied_through}` });
      expect(exit).toEqual({ code: 0, signal: null });
    } finally {
      await local.close();
    }
  }, 120_000);
});

describe('A11: web killed between storing the batch and enqueueing it', () => {
  let rig: Rig | undefined;
  afterAll(async () => {
    await rig?.close();
  });

  it('has the orphan batch enqueued by a worker’s reconciler, and completes it as the oracle says', async () => {
    rig = await createRig({ workers: 1 });
    const world = await createWorld(rig, { accounts: 10_000, seed: 1101 });
    const bytes = importFile(world.registry, 10_000, 1102);
    const expected = await expectedFor(bytes, world.state);

    // What the web does before `queue.add` — and nothing after it, as if the process had died right there.
    const { db, pool } = rig.db;
    const stored = await storeUpload(pool, {
      declarantId: world.firm.declarantId,
      filename: 'orphelin.csv',
      body: (async function* () {
        for (let i = 0; i < bytes.length; i += 256 * 1024) yield bytes.subarray(i, i + 256 * 1024);
      })(),
      maxBytes: 100 * 1024 * 1024,
    });
    const batch = await createBatch(db, {
      declarantId: world.firm.declarantId,
      userId: world.firm.user.id,
      uploadId: stored.uploadId,
      mode: 'apply',
      filename: 'orphelin.csv',
      sha256: stored.sha256,
      size: stored.size,
    });
    const createdAt = Date.now();
    expect(await rig.queue().getJob(jobIdFor(batch.id))).toBeUndefined();

    let enqueuedMs: number | null = null;
    while (Date.now() - createdAt < 30_000) {
      if (await rig.queue().getJob(jobIdFor(batch.id))) {
        enqueuedMs = Date.now() - createdAt;
        break;
      }
      if (isEnded((await batchProgress(rig, batch.id)).status)) {
        enqueuedMs = Date.now() - createdAt;
        break;
      }
      await sleep(50);
    }
    const end = await waitForBatchEnd(rig, batch.id, 90_000);
    expect(end.status, rig.group.diagnostics()).toBe('completed');
    const verdict = await expectMatchesOracle(rig, batch.id, world.firm.declarantId, expected);
    const orphans = await db.selectFrom('batch').select('id').where('status', '=', 'queued').execute();

    report('A11 orphan batch', {
      rows: expected.results.length,
      reconcile_interval_s: Number(rig.env.RECONCILE_INTERVAL_SECONDS),
      enqueued_after: enqueuedMs === null ? 'never' : `${(enqueuedMs / 1000).toFixed(2)}s`,
      completed_after: `${((Date.now() - createdAt) / 1000).toFixed(2)}s`,
      reconciler_redrives: redrives(rig),
      orphans_after_T: orphans.length,
      rows_lost: verdict.rowsLost,
      rows_doubled: verdict.eventsDoubled,
    });
    expect(enqueuedMs).not.toBeNull();
    // The reconciler looks at batches older than one interval, every interval: two intervals and some slack.
    expect(enqueuedMs!).toBeLessThan(5_000);
    expect(orphans).toEqual([]);
  }, 180_000);
});

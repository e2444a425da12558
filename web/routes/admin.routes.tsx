import { Hono } from 'hono';
import { serveStatic } from '@hono/node-server/serve-static';
import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { HonoAdapter } from '@bull-board/hono';
import type { AppDeps, AppEnv } from '../context.ts';
import { ADMIN_SCOPE, listBatches } from '../../src/batches/batch.repository.ts';
import { requireAdmin } from '../session.ts';
import { parseId } from '../format.ts';
import { AdminPage, adminQuery, type QueueHealth } from '../views/admin.tsx';
import { BatchList } from '../views/batch-list.tsx';

export const BULL_BOARD_PATH = '/admin/queues';
const BATCHES_PER_PAGE = 50;

/** Every route here is for admins; a firm user gets the same 404 as for a page that does not exist. */
export function adminRoutes(deps: AppDeps) {
  const app = new Hono<AppEnv>();
  app.use('/admin', requireAdmin);
  app.use('/admin/*', requireAdmin);

  const search = (q: string | undefined, after: number | undefined) =>
    listBatches(deps.db, ADMIN_SCOPE, { q: q?.trim().slice(0, 100) || undefined, after, limit: BATCHES_PER_PAGE });

  const queueHealth = async (): Promise<QueueHealth> => {
    // Redis may be down: the page still answers, and says so.
    const timeout = <T,>(p: Promise<T>) =>
      Promise.race([p, new Promise<never>((_, reject) => setTimeout(() => reject(new Error('timeout')), 2000).unref())]);
    const [counts, workers] = await Promise.allSettled([
      timeout(deps.queue.getJobCounts('waiting', 'active', 'delayed', 'failed')),
      timeout(deps.queue.getWorkers()),
    ]);
    return {
      counts:
        counts.status === 'fulfilled'
          ? { waiting: counts.value.waiting ?? 0, active: counts.value.active ?? 0, delayed: counts.value.delayed ?? 0, failed: counts.value.failed ?? 0 }
          : undefined,
      workers: workers.status === 'fulfilled' ? workers.value.length : undefined,
    };
  };

  app.get('/admin', async (c) => {
    const q = c.req.query('q');
    const after = parseId(c.req.query('after'));
    const [{ batches, next }, health] = await Promise.all([search(q, after), queueHealth()]);
    return c.html(<AdminPage nonce={c.get('nonce')} actor={c.get('actor')} q={q?.trim()} batches={batches} next={next} health={health} />);
  });

  /** The admin's batches table alone, polled while a batch runs. */
  app.get('/admin/batches', async (c) => {
    const q = c.req.query('q')?.trim();
    const after = parseId(c.req.query('after'));
    const { batches, next } = await search(q, after);
    const qs = (a?: number) => adminQuery(q, a);
    return c.html(<BatchList batches={batches} next={next} showFirm pollUrl={`/admin/batches${qs(after)}`} pageUrl={(n) => `/admin${qs(n)}`} />);
  });

  const board = new HonoAdapter(serveStatic).setBasePath(BULL_BOARD_PATH);
  createBullBoard({
    queues: [new BullMQAdapter(deps.queue, { readOnlyMode: false })],
    // @bull-board/hono pins its own copy of @bull-board/api (9.10.1 beside our 9.10.2): same shape, distinct types.
    serverAdapter: board as unknown as Parameters<typeof createBullBoard>[0]['serverAdapter'],
    options: { uiConfig: { boardTitle: 'Import de portefeuille' } },
  });
  app.route(BULL_BOARD_PATH, board.registerPlugin());

  return app;
}

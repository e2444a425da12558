import { Hono } from 'hono';
import type { AppDeps, AppEnv } from '../context.ts';
import { requireUser } from '../session.ts';
import { batchRoutes } from './batches.routes.tsx';
import { portfolioRoutes } from './portfolio.routes.tsx';
import { adminRoutes } from './admin.routes.tsx';

/** The pages people use (cookie session): batches, portfolio and, for admins, every firm's batches and the queue. */
export function uiRoutes(deps: AppDeps) {
  const app = new Hono<AppEnv>();
  app.use('*', requireUser(deps));
  app.route('/', batchRoutes(deps));
  app.route('/', portfolioRoutes(deps));
  app.route('/', adminRoutes(deps));
  return app;
}

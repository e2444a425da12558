import { Hono } from 'hono';
import type { AppDeps, AppEnv } from '../context.ts';
import { requireUser } from '../session.ts';
import { Layout } from '../views/layout.tsx';

/** Placeholder until the pages land: the home page of a signed-in user. */
export function uiRoutes(deps: AppDeps) {
  const app = new Hono<AppEnv>();
  app.use('*', requireUser(deps));
  app.get('/', (c) =>
    c.html(
      <Layout title="Accueil" nonce={c.get('nonce')} actor={c.get('actor')}>
        <main>
          <h1>Lots</h1>
        </main>
      </Layout>,
    ),
  );
  return app;
}

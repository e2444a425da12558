import { Hono } from 'hono';
import { HTTPException } from 'hono/http-exception';
import { secureHeaders, NONCE } from 'hono/secure-headers';
import { csrf } from 'hono/csrf';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { sql } from 'kysely';
import type { AppDeps, AppEnv } from './context.ts';
import { apiRoutes, apiError } from './routes/api.routes.ts';
import { authRoutes } from './routes/auth.routes.tsx';
import { uiRoutes } from './routes/ui.routes.tsx';
import { BULL_BOARD_PATH } from './routes/admin.routes.tsx';
import { notFoundPage } from './routes/batches.routes.tsx';

const require = createRequire(import.meta.url);
const HTMX = readFileSync(require.resolve('htmx.org/dist/htmx.min.js'));
// '../web/static/…' resolves the same from web/app.tsx and from the bundle, dist/web.mjs (npm run build).
const CSS = readFileSync(new URL('../web/static/app.css', import.meta.url));

const ERROR_CODES: Record<number, string> = {
  400: 'BAD_REQUEST',
  401: 'UNAUTHORIZED',
  403: 'FORBIDDEN',
  404: 'NOT_FOUND',
  409: 'CONFLICT',
  410: 'GONE',
  413: 'FILE_TOO_LARGE',
  415: 'UNSUPPORTED_MEDIA_TYPE',
  429: 'TOO_MANY_REQUESTS',
};

export function createApp(deps: AppDeps) {
  const app = new Hono<AppEnv>();

  app.use('*', async (c, next) => {
    c.set('requestId', c.req.header('x-request-id')?.slice(0, 64) || randomUUID());
    await next();
  });

  const csp = {
    defaultSrc: ["'self'"],
    scriptSrc: ["'self'", NONCE],
    styleSrc: ["'self'"],
    imgSrc: ["'self'", 'data:'],
    connectSrc: ["'self'"],
    formAction: ["'self'"],
    frameAncestors: ["'none'"],
    baseUri: ["'none'"],
    objectSrc: ["'none'"],
  };
  const headers = {
    strictTransportSecurity: deps.config.cookieSecure ? 'max-age=31536000; includeSubDomains' : false,
    referrerPolicy: 'same-origin',
  } as const;
  const pageHeaders = secureHeaders({ contentSecurityPolicy: csp, ...headers });
  // bull-board (admins only) is a prebuilt React page: it needs its <base href> and applies inline styles.
  // Only there does the policy allow them; scripts stay 'self' and its Google Fonts link stays blocked.
  const boardHeaders = secureHeaders({
    contentSecurityPolicy: { ...csp, styleSrc: ["'self'", "'unsafe-inline'"], baseUri: ["'self'"] },
    ...headers,
  });
  app.use('*', (c, next) => (c.req.path.startsWith(`${BULL_BOARD_PATH}/`) || c.req.path === BULL_BOARD_PATH ? boardHeaders : pageHeaders)(c, next));
  app.use('*', async (c, next) => {
    c.set('nonce', (c.get('secureHeadersNonce' as never) as string | undefined) ?? '');
    await next();
  });

  app.get('/healthz', async (c) => {
    const [pgOk, redisOk] = await Promise.all([
      sql`SELECT 1`.execute(deps.db).then(() => true, () => false),
      deps.redis.ping().then((r) => r === 'PONG', () => false),
    ]);
    return c.json({ postgres: pgOk, redis: redisOk }, pgOk && redisOk ? 200 : 503);
  });

  app.get('/static/htmx.min.js', (c) => {
    c.header('Content-Type', 'text/javascript; charset=utf-8');
    c.header('Cache-Control', 'public, max-age=86400');
    return c.body(HTMX);
  });
  app.get('/static/app.css', (c) => {
    c.header('Content-Type', 'text/css; charset=utf-8');
    c.header('Cache-Control', 'public, max-age=3600');
    return c.body(CSS);
  });

  app.route('/api/v1', apiRoutes(deps));

  // Pages use cookies, so every state-changing request must come from our own origin.
  const checkOrigin = csrf(deps.config.publicOrigin ? { origin: deps.config.publicOrigin } : undefined);
  app.use('*', (c, next) => (c.req.path.startsWith('/api/') ? next() : checkOrigin(c, next)));
  app.route('/', authRoutes(deps));
  app.route('/', uiRoutes(deps));

  app.notFound((c) =>
    c.req.path.startsWith('/api/') ? apiError(c, 404, 'NOT_FOUND', 'Not found') : notFoundPage(c),
  );

  app.onError((err, c) => {
    const status = err instanceof HTTPException ? err.status : 500;
    if (status >= 500) deps.log.error({ err, requestId: c.get('requestId'), path: c.req.path }, 'request failed');
    const message = err instanceof HTTPException ? err.message : 'Internal error';
    // A refused upload was not read to its end: close the connection rather than reuse it.
    if (status === 413 || status === 415 || (status === 400 && c.req.method === 'POST')) c.header('Connection', 'close');
    if (c.req.path.startsWith('/api/')) {
      const code = ERROR_CODES[status] ?? 'INTERNAL_ERROR';
      return apiError(c, status as 500, code, message);
    }
    return c.text(status >= 500 ? 'Erreur interne' : message, status as 500);
  });

  return app;
}

import { Hono } from 'hono';
import type { AppDeps, AppEnv } from '../context.ts';
import { clearSessionCookie, readSessionId, setSessionCookie } from '../session.ts';
import { findUserByEmail, normaliseEmail } from '../../src/users/user.repository.ts';
import { dummyPasswordHash, verifyPassword } from '../../src/users/password.ts';
import {
  clearLoginFailures,
  createSession,
  deleteSession,
  isLoginBlocked,
  recordLoginFailure,
} from '../../src/users/session.repository.ts';
import { LoginPage } from '../views/login.tsx';
import { clientIp } from '../client-ip.ts';

export function authRoutes(deps: AppDeps) {
  const app = new Hono<AppEnv>();

  app.get('/login', (c) => c.html(<LoginPage nonce={c.get('nonce')} />));

  app.post('/login', async (c) => {
    const form = await c.req.parseBody();
    const email = typeof form.email === 'string' ? normaliseEmail(form.email).slice(0, 320) : '';
    const password = typeof form.password === 'string' ? form.password.slice(0, 1024) : '';
    const accountKey = `account:${email}`;
    const ipKey = `ip:${clientIp(c, deps.config.trustProxy)}`;
    // Throttling comes before any hashing, so a flood of guesses costs us a lookup, not a scrypt.
    if (await isLoginBlocked(deps.db, [accountKey, ipKey])) {
      return c.html(<LoginPage nonce={c.get('nonce')} email={email} error="Trop de tentatives. Réessayez dans quelques minutes." />, 429);
    }
    const user = email ? await findUserByEmail(deps.db, email) : undefined;
    // The same work whether or not the account exists: timing does not tell.
    const ok = await verifyPassword(password, user?.password_hash ?? (await dummyPasswordHash()));
    if (!user || !ok) {
      await recordLoginFailure(deps.db, [
        { key: accountKey, limit: deps.config.loginLimitPerAccount },
        { key: ipKey, limit: deps.config.loginLimitPerIp },
      ]);
      deps.log.info({ requestId: c.get('requestId') }, 'login failed');
      return c.html(<LoginPage nonce={c.get('nonce')} email={email} error="E-mail ou mot de passe incorrect." />, 401);
    }
    await clearLoginFailures(deps.db, accountKey);
    // A new session id at every login (an id set before login is never promoted).
    const previous = readSessionId(c, deps);
    if (previous) await deleteSession(deps.db, previous);
    setSessionCookie(c, deps, await createSession(deps.db, user.id));
    deps.log.info({ requestId: c.get('requestId'), userId: user.id }, 'login');
    return c.redirect('/', 303);
  });

  app.post('/logout', async (c) => {
    const id = readSessionId(c, deps);
    if (id) await deleteSession(deps.db, id);
    clearSessionCookie(c, deps);
    return c.redirect('/login', 303);
  });

  return app;
}

import type { Context, MiddlewareHandler } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import type { AppDeps, AppEnv } from './context.ts';
import { findSessionActor } from '../src/users/session.repository.ts';

/** `__Host-` prefix over HTTPS (it requires Secure); a plain name on http://localhost for development. */
export function sessionCookieName(secure: boolean): string {
  return secure ? '__Host-pi_session' : 'pi_session';
}

export function setSessionCookie(c: Context, deps: AppDeps, id: string): void {
  setCookie(c, sessionCookieName(deps.config.cookieSecure), id, {
    httpOnly: true,
    sameSite: 'Lax',
    secure: deps.config.cookieSecure,
    path: '/',
    maxAge: deps.config.sessionAbsoluteHours * 3600,
  });
}

export function clearSessionCookie(c: Context, deps: AppDeps): void {
  deleteCookie(c, sessionCookieName(deps.config.cookieSecure), { path: '/', secure: deps.config.cookieSecure });
}

export function readSessionId(c: Context, deps: AppDeps): string | undefined {
  return getCookie(c, sessionCookieName(deps.config.cookieSecure)) || undefined;
}

/** Pages need a signed-in user: a plain request goes to the login page, an htmx one is told to go there. */
export function requireUser(deps: AppDeps): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const id = readSessionId(c, deps);
    const actor = id
      ? await findSessionActor(deps.db, id, { idleMinutes: deps.config.sessionIdleMinutes, absoluteHours: deps.config.sessionAbsoluteHours })
      : undefined;
    if (!actor) {
      if (c.req.header('hx-request')) {
        c.header('HX-Redirect', '/login');
        return c.body(null, 401);
      }
      return c.redirect('/login', 303);
    }
    c.set('actor', actor);
    c.set('sessionId', id);
    await next();
  };
}

/** Admin pages: a firm user gets the same 404 as for a page that does not exist. */
export const requireAdmin: MiddlewareHandler<AppEnv> = async (c, next) => {
  if (!c.get('actor')?.isAdmin) return c.notFound();
  await next();
};

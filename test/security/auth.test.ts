import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, type Stack } from '../helpers/stack.ts';
import { login } from '../helpers/session.ts';
import { createUser } from '../../src/users/user.repository.ts';
import { hashPassword, verifyPassword } from '../../src/users/password.ts';
import { createApp } from '../../web/app.tsx';
import { createLogger } from '../../src/logger.ts';
import { createBatchQueue, producerConnection } from '../../src/queue/queue.ts';

describe('accounts, sessions and CSRF', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ worker: false });
    await createUser(stack.db.db, { declarant: 'Cabinet Gamma', email: 'gamma@gamma.test', password: 'gamma-password-1' });
    await createUser(stack.db.db, { declarant: 'Cabinet Gamma', email: 'victim@gamma.test', password: 'victim-password-1' });
  });
  afterAll(async () => {
    await stack?.close();
  });

  it('stores passwords as salted scrypt at an OWASP strength and verifies them', async () => {
    const started = performance.now();
    const hash = await hashPassword('un mot de passe');
    const ms = performance.now() - started;
    const [alg, N, r, p, salt, key] = hash.split('$');
    expect([alg, N, r, p]).toEqual(['scrypt', '16384', '8', '5']);
    expect(Buffer.from(salt, 'base64')).toHaveLength(16);
    expect(Buffer.from(key, 'base64')).toHaveLength(32);
    expect(await verifyPassword('un mot de passe', hash)).toBe(true);
    expect(await verifyPassword('un mot de passE', hash)).toBe(false);
    expect(await hashPassword('un mot de passe')).not.toBe(hash);
    const row = await stack.db.db.selectFrom('app_user').select('password_hash').where('email', '=', 'gamma@gamma.test').executeTakeFirstOrThrow();
    expect(row.password_hash).toMatch(/^scrypt\$16384\$8\$5\$/);
    console.log(`scrypt N=16384 r=8 p=5: ${ms.toFixed(0)} ms per hash`);
  });

  it('sets a HttpOnly SameSite=Lax session cookie, new at each login, destroyed at logout', async () => {
    const first = await login(stack.baseUrl, 'gamma@gamma.test', 'gamma-password-1');
    expect(first.status).toBe(303);
    expect(first.setCookie).toMatch(/^pi_session=[A-Za-z0-9_-]{40,};/);
    expect(first.setCookie).toMatch(/HttpOnly/i);
    expect(first.setCookie).toMatch(/SameSite=Lax/i);
    expect(first.setCookie).toMatch(/Path=\//);
    expect(first.setCookie).not.toMatch(/Domain=/i);
    const home = await fetch(`${stack.baseUrl}/`, { headers: { cookie: first.cookie! }, redirect: 'manual' });
    expect(home.status).toBe(200);

    const second = await login(stack.baseUrl, 'gamma@gamma.test', 'gamma-password-1');
    expect(second.cookie).not.toBe(first.cookie);

    const out = await fetch(`${stack.baseUrl}/logout`, {
      method: 'POST',
      redirect: 'manual',
      headers: { cookie: second.cookie!, origin: stack.baseUrl, 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(out.status).toBe(303);
    const after = await fetch(`${stack.baseUrl}/`, { headers: { cookie: second.cookie! }, redirect: 'manual' });
    expect(after.status).toBe(303);
    expect(after.headers.get('location')).toBe('/login');
  });

  it('ends a session after its idle time and after its absolute lifetime', async () => {
    const home = (cookie: string) => fetch(`${stack.baseUrl}/`, { headers: { cookie }, redirect: 'manual' });
    const idle = (await login(stack.baseUrl, 'gamma@gamma.test', 'gamma-password-1')).cookie!;
    const old = (await login(stack.baseUrl, 'gamma@gamma.test', 'gamma-password-1')).cookie!;
    expect((await home(idle)).status).toBe(200);
    const { hashSecret } = await import('../../src/users/secret.ts');
    const idHash = (c: string) => hashSecret(decodeURIComponent(c.split('=')[1]));
    await stack.db.db
      .updateTable('web_session')
      .set({ last_seen_at: new Date(Date.now() - (stack.config.sessionIdleMinutes + 1) * 60_000) })
      .where('id_hash', '=', idHash(idle))
      .execute();
    await stack.db.db
      .updateTable('web_session')
      .set({ created_at: new Date(Date.now() - (stack.config.sessionAbsoluteHours * 60 + 1) * 60_000) })
      .where('id_hash', '=', idHash(old))
      .execute();
    for (const c of [idle, old]) {
      const res = await home(c);
      expect(res.status).toBe(303);
      expect(res.headers.get('location')).toBe('/login');
    }
  });

  it('marks the cookie Secure with the __Host- prefix behind HTTPS', async () => {
    const secure = await startStack({ worker: false, env: { COOKIE_SECURE: 'true' } });
    try {
      await createUser(secure.db.db, { declarant: 'Cabinet S', email: 's@s.test', password: 's-password-1' });
      const res = await login(secure.baseUrl, 's@s.test', 's-password-1');
      expect(res.setCookie).toMatch(/^__Host-pi_session=/);
      expect(res.setCookie).toMatch(/Secure/);
    } finally {
      await secure.close();
    }
  });

  it('says the same thing for an unknown e-mail and a wrong password', async () => {
    const unknown = await fetch(`${stack.baseUrl}/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: stack.baseUrl },
      body: 'email=nobody%40x.test&password=whatever1',
    });
    const wrong = await fetch(`${stack.baseUrl}/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: stack.baseUrl },
      body: 'email=gamma%40gamma.test&password=whatever1',
    });
    expect(unknown.status).toBe(401);
    expect(wrong.status).toBe(401);
    const msg = (html: string) => /<p class="error"[^>]*>([^<]*)</.exec(html)?.[1];
    expect(msg(await unknown.text())).toBe(msg(await wrong.text()));
  });

  it('blocks an account after 10 failed logins with 429, the right password too', async () => {
    const perAccount = stack.config.loginLimitPerAccount;
    expect(perAccount).toBe(10);
    const statuses: number[] = [];
    for (let i = 0; i < perAccount + 1; i++) {
      statuses.push((await login(stack.baseUrl, 'victim@gamma.test', `wrong-${i}`)).status);
    }
    expect(statuses.slice(0, perAccount)).toEqual(Array(perAccount).fill(401));
    expect(statuses[perAccount]).toBe(429);
    expect((await login(stack.baseUrl, 'victim@gamma.test', 'victim-password-1')).status).toBe(429);
  });

  it('blocks an IP address after its failed logins across accounts, whatever the account', async () => {
    // The same rule as the default 100 per IP, with a limit small enough for a test (each failure costs a scrypt).
    const strict = await startStack({ worker: false, env: { LOGIN_LIMIT_PER_IP: '6' } });
    try {
      await createUser(strict.db.db, { declarant: 'Cabinet IP', email: 'ip@ip.test', password: 'ip-password-1' });
      const statuses: number[] = [];
      for (let i = 0; i < 6; i++) statuses.push((await login(strict.baseUrl, `nobody${i}@ip.test`, 'wrong-1')).status);
      expect(statuses).toEqual([401, 401, 401, 401, 401, 401]);
      expect((await login(strict.baseUrl, 'someone-else@ip.test', 'wrong-1')).status).toBe(429);
      expect((await login(strict.baseUrl, 'ip@ip.test', 'ip-password-1')).status).toBe(429);
      const throttled = await strict.db.db.selectFrom('login_throttle').select('key').where('blocked_until', 'is not', null).execute();
      expect(throttled.map((t) => t.key)).toContain('ip:127.0.0.1');
    } finally {
      await strict.close();
    }
  });

  it('behind a proxy, checks origins against PUBLIC_ORIGIN and throttles the forwarded address', async () => {
    const proxied = await startStack({ worker: false, env: { PUBLIC_ORIGIN: 'https://import.example.test', TRUST_PROXY: 'true' } });
    try {
      const post = (origin: string) =>
        fetch(`${proxied.baseUrl}/logout`, {
          method: 'POST',
          redirect: 'manual',
          headers: { origin, 'content-type': 'application/x-www-form-urlencoded' },
        });
      expect((await post(proxied.baseUrl)).status).toBe(403);
      expect((await post('https://import.example.test')).status).toBe(303);
      await fetch(`${proxied.baseUrl}/login`, {
        method: 'POST',
        headers: { origin: 'https://import.example.test', 'content-type': 'application/x-www-form-urlencoded', 'x-forwarded-for': '6.6.6.6, 203.0.113.7' },
        body: 'email=x%40x.test&password=wrong-pass',
      });
      const keys = await proxied.db.db.selectFrom('login_throttle').select('key').execute();
      expect(keys.map((k) => k.key)).toContain('ip:203.0.113.7');
    } finally {
      await proxied.close();
    }
  });

  it('refuses every cross-site state-changing request (the CSRF matrix)', async () => {
    const redis = producerConnection(stack.config.redisUrl);
    const app = createApp({ config: stack.config, db: stack.db.db, pool: stack.db.pool, queue: createBatchQueue(redis, 'unused'), redis, log: createLogger('silent') });
    const unsafe = app.routes.filter((r) => ['POST', 'PUT', 'PATCH', 'DELETE'].includes(r.method) && !r.path.startsWith('/api/'));
    redis.disconnect();
    expect(unsafe.length).toBeGreaterThanOrEqual(2);
    const { cookie } = await login(stack.baseUrl, 'gamma@gamma.test', 'gamma-password-1');
    const attempts: [string, Record<string, string>][] = [
      ['application/x-www-form-urlencoded', { origin: 'https://evil.example' }],
      ['multipart/form-data; boundary=x', { origin: 'https://evil.example' }],
      ['text/plain', { origin: 'https://evil.example' }],
      ['application/x-www-form-urlencoded', { 'sec-fetch-site': 'cross-site' }],
      ['application/x-www-form-urlencoded', {}],
    ];
    let checked = 0;
    const bypasses: string[] = [];
    for (const r of unsafe) {
      const path = r.path.replace(/:id\b/, '1').replace(/:account\b/, '117000000000000001');
      for (const [type, headers] of attempts) {
        const res = await fetch(stack.baseUrl + path, {
          method: r.method,
          redirect: 'manual',
          headers: { cookie: cookie!, 'content-type': type, ...headers },
          body: type.startsWith('multipart') ? '--x--\r\n' : 'a=b',
        });
        checked++;
        if (res.status !== 403) bypasses.push(`${r.method} ${r.path} ${type} ${JSON.stringify(headers)} → ${res.status}`);
      }
    }
    console.log(`CSRF matrix: ${unsafe.length} routes × ${attempts.length} attempts = ${checked}, bypasses: ${bypasses.length}`);
    expect(bypasses).toEqual([]);
    // The same request from our own origin passes the check (logging out answers 303).
    const own = await fetch(`${stack.baseUrl}/logout`, {
      method: 'POST',
      redirect: 'manual',
      headers: { cookie: cookie!, origin: stack.baseUrl, 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(own.status).toBe(303);
  });

  it('sends a CSP without unsafe-eval or unsafe-inline, and framing is refused', async () => {
    const res = await fetch(`${stack.baseUrl}/login`);
    const csp = res.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("default-src 'self'");
    expect(csp).toMatch(/script-src 'self' 'nonce-[A-Za-z0-9+/=]+'/);
    expect(csp).not.toMatch(/unsafe-eval|unsafe-inline/);
    expect(csp).toContain("frame-ancestors 'none'");
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    const html = await res.text();
    const nonce = /script-src 'self' 'nonce-([^']+)'/.exec(csp)![1];
    expect(html).toContain(`nonce="${nonce}"`);
  });
});

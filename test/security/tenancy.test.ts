import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, type Stack } from '../helpers/stack.ts';
import { apiClient } from '../helpers/api.ts';
import { login } from '../helpers/session.ts';
import { createAccount, createFirm } from '../factories/world.ts';
import { createApp } from '../../web/app.tsx';
import { createLogger } from '../../src/logger.ts';
import { createBatchQueue, producerConnection } from '../../src/queue/queue.ts';
import { createUser } from '../../src/users/user.repository.ts';

/**
 * A firm never sees another firm's data: for every route of the app (UI and API) that names a batch, a row,
 * a file, an export or a client, firm B asking for firm A's gets a 404, exactly as for something that does
 * not exist, and no byte of A's data.
 */
describe('tenancy: the cross-tenant matrix', () => {
  let stack: Stack;
  let routes: { method: string; path: string }[];
  const a = { batchId: 0, account: '', filename: 'secret-portefeuille-alpha.csv', token: '' };
  const b = { token: '', cookie: '' };

  beforeAll(async () => {
    stack = await startStack();
    const { db } = stack.db;
    const firmA = await createFirm(db, 'Cabinet Alpha');
    const firmB = await createFirm(db, 'Cabinet Beta');
    await createUser(db, { declarant: 'Cabinet Beta', email: 'beta-ui@beta.test', password: 'beta-password-1' });
    const account = await createAccount(db, stack.config.nirHashKey);
    const api = apiClient(stack.baseUrl, firmA.token);
    const body = `action;cas;siren;numero de compte;montant\r\najout;employeur;${account.siren};${account.accountNumber};1 234,56\r\najout;employeur;123;;\r\n`;
    const batch = await api.uploadAndWait(body, { filename: a.filename, mode: 'dry_run' });
    const applied = await api.uploadAndWait(body, { filename: a.filename });
    expect(batch.status).toBe('completed');
    expect(applied.counts.added).toBe(1);
    a.batchId = batch.id;
    a.account = account.accountNumber;
    a.token = firmA.token;
    b.token = firmB.token;
    b.cookie = (await login(stack.baseUrl, 'beta-ui@beta.test', 'beta-password-1')).cookie!;
    expect(b.cookie).toBeTruthy();

    const redis = producerConnection(stack.config.redisUrl);
    const app = createApp({ config: stack.config, db, pool: stack.db.pool, queue: createBatchQueue(redis, 'unused'), redis, log: createLogger('silent') });
    routes = app.routes.filter((r) => r.method !== 'ALL').map((r) => ({ method: r.method, path: r.path }));
    redis.disconnect();
  });
  afterAll(async () => {
    await stack?.close();
  });

  it('answers 404 to firm B for every route naming firm A’s batch or client', async () => {
    const named = routes.filter((r) => /:(id|account)\b/.test(r.path));
    expect(named.length).toBeGreaterThan(5);
    const leaks: string[] = [];
    for (const r of named) {
      const path = r.path.replace(/:id\b/, String(a.batchId)).replace(/:account\b/, a.account);
      const api = path.startsWith('/api/');
      const res = await fetch(stack.baseUrl + path, {
        method: r.method,
        redirect: 'manual',
        headers: api
          ? { authorization: `Bearer ${b.token}` }
          : { cookie: b.cookie, origin: stack.baseUrl, 'content-type': 'application/x-www-form-urlencoded' },
        body: r.method === 'GET' || r.method === 'HEAD' ? undefined : '',
      });
      const text = await res.text();
      if (res.status !== 404 || text.includes(a.filename) || text.includes(a.account)) {
        leaks.push(`${r.method} ${r.path} → ${res.status}`);
      }
    }
    console.log(`cross-tenant matrix: ${named.length} routes with an id checked, leaks: ${leaks.length}`);
    expect(leaks).toEqual([]);
  });

  it('lists nothing of firm A to firm B', async () => {
    const apiB = apiClient(stack.baseUrl, b.token);
    const lists = [await apiB.get('/batches'), await apiB.get('/portfolio'), await apiB.get(`/portfolio?q=${a.account}`)];
    for (const l of lists) {
      expect(l.status).toBe(200);
      expect(JSON.stringify(l.body)).not.toContain(a.filename);
      expect(JSON.stringify(l.body)).not.toContain(a.account);
    }
    const pages = routes.filter((r) => r.method === 'GET' && !r.path.includes(':') && !r.path.startsWith('/api/') && !r.path.startsWith('/static'));
    for (const r of pages) {
      for (const q of ['', `?q=${a.account}`]) {
        const res = await fetch(`${stack.baseUrl}${r.path}${q}`, { headers: { cookie: b.cookie }, redirect: 'manual' });
        // A search form echoes what was typed: that is B's own input, not A's data.
        const text = (await res.text()).replaceAll(`value="${a.account}"`, '');
        expect(text, r.path).not.toContain(a.filename);
        expect(text, r.path).not.toContain(a.account);
      }
    }
  });

  it('still serves firm A its own batch (the matrix is not vacuous)', async () => {
    const apiA = apiClient(stack.baseUrl, a.token);
    expect((await apiA.get(`/batches/${a.batchId}`)).status).toBe(200);
    expect((await apiA.raw(`/batches/${a.batchId}/report.csv`)).status).toBe(200);
  });

  it('refuses the API without a valid token', async () => {
    for (const auth of [undefined, 'Bearer nope', `Basic ${b.token}`]) {
      const res = await fetch(`${stack.baseUrl}/api/v1/batches`, { headers: auth ? { authorization: auth } : {} });
      expect(res.status).toBe(401);
      expect(((await res.json()) as any).error.code).toBe('UNAUTHORIZED');
    }
  });
});

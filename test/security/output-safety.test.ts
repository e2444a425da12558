import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { parse } from 'csv-parse/sync';
import { startStack, type Stack } from '../helpers/stack.ts';
import { apiClient } from '../helpers/api.ts';
import { login } from '../helpers/session.ts';
import { createAccount, createFirm } from '../factories/world.ts';
import { nir as makeNir } from '../factories/identifiers.ts';
import { createUser, revokeApiToken } from '../../src/users/user.repository.ts';
import { purgeOldUploads } from '../../src/batches/upload.repository.ts';
import { hashNir } from '../../src/users/secret.ts';

const PAYLOADS = [
  '=HYPERLINK("http://evil.example","clic")',
  '+33 1 23',
  '-2+3',
  '@SUM(A1:A2)',
  '\tTAB',
  '＝1+1',
  '<script>alert(1)</script>',
  '<img src=x onerror=alert(1)>',
  '" hx-get="/admin" hx-trigger="load',
];
const TRIGGERS = ['=', '+', '-', '@', '\t', '\r', '＝', '＋', '－', '＠'];

describe('output safety: formulas, HTML, NIRs, upload limits, retention', () => {
  let stack: Stack;
  let api: ReturnType<typeof apiClient>;
  let firm: Awaited<ReturnType<typeof createFirm>>;
  let cookie: string;
  let batchId: number;
  const secretNir = makeNir('1850775101123');

  beforeAll(async () => {
    stack = await startStack({ env: { UPLOAD_MAX_BYTES: String(64 * 1024) } });
    const { db } = stack.db;
    firm = await createFirm(db, 'Cabinet Delta');
    await createUser(db, { declarant: 'Cabinet Delta', email: 'delta-ui@delta.test', password: 'delta-password-1' });
    cookie = (await login(stack.baseUrl, 'delta-ui@delta.test', 'delta-password-1')).cookie!;
    api = apiClient(stack.baseUrl, firm.token);
    const rows: string[] = [];
    for (const name of PAYLOADS) {
      const a = await createAccount(db, stack.config.nirHashKey);
      rows.push(['ajout', 'employeur', a.siren, a.accountNumber, '1 234,56', '', `"${name.replace(/"/g, '""')}"`].join(';'));
      rows.push(['ajout', 'employeur', '123456789', a.accountNumber, '1 234,56', '', `"${name.replace(/"/g, '""')}"`].join(';'));
    }
    const indep = await createAccount(db, stack.config.nirHashKey, { kind: 'independent' });
    rows.push(['ajout', 'indépendant', indep.siren, indep.accountNumber, '', secretNir, 'Wrong NIR'].join(';')); // NIR_MISMATCH
    const b = await api.uploadAndWait(['action;cas;siren;numero de compte;montant;nir;nom', ...rows].join('\n') + '\n');
    expect(b.status).toBe('completed');
    batchId = b.id;
  });
  afterAll(async () => {
    await stack?.close();
  });

  it('neutralises every formula cell of the exported CSV files, and they read back as uploaded', async () => {
    for (const path of [`/batches/${batchId}/rejections.csv`, `/batches/${batchId}/report.csv`]) {
      const res = await api.raw(path);
      expect(res.status).toBe(200);
      const text = (await res.text()).replace(/^\uFEFF/, '');
      const cells: string[][] = parse(text, { delimiter: ';', relax_column_count: true });
      let formulas = 0;
      for (const row of cells) for (const cell of row) if (cell.length > 0 && TRIGGERS.includes(cell[0])) formulas++;
      expect(formulas, path).toBe(0);
      // The report shows names as checked (trimmed); the rejections file keeps cells exactly as read.
      for (const p of path.endsWith('report.csv') ? PAYLOADS.filter((x) => x.trim() === x) : PAYLOADS) {
        const expected = TRIGGERS.includes(p[0]) ? `'${p}` : p;
        expect(cells.some((row) => row.includes(expected)), `${path}: ${p}`).toBe(true);
      }
    }
    const cleanup = await fetch(`${stack.baseUrl}/portefeuille/nettoyage.csv`, { headers: { cookie } });
    expect(cleanup.status).toBe(200);
  });

  it('renders user data as inert text in every page', async () => {
    for (const path of [`/batches/${batchId}`, `/batches/${batchId}/rows`, '/portefeuille', '/']) {
      const res = await fetch(stack.baseUrl + path, { headers: { cookie } });
      expect(res.status, path).toBe(200);
      const html = await res.text();
      expect(html, path).not.toContain('<script>alert');
      expect(html, path).not.toContain('<img src=x');
      expect(html, path).not.toMatch(/hx-get="\/admin"/);
    }
    const page = await (await fetch(`${stack.baseUrl}/portefeuille`, { headers: { cookie } })).text();
    expect(page).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
  });

  it('never shows a NIR in full outside the firm’s own rejections file', async () => {
    const rows = await api.rows(batchId);
    expect(JSON.stringify(rows)).not.toContain(secretNir);
    expect(rows.some((r) => r.codes.includes('NIR_MISMATCH'))).toBe(true);
    const report = await (await api.raw(`/batches/${batchId}/report.csv`)).text();
    expect(report).not.toContain(secretNir);
    expect(report).toContain(`${secretNir[0]} ${secretNir.slice(1, 3)} ${secretNir.slice(3, 5)} ••`);
    for (const path of [`/batches/${batchId}`, `/batches/${batchId}/rows?outcome=rejected`]) {
      expect(await (await fetch(stack.baseUrl + path, { headers: { cookie } })).text()).not.toContain(secretNir);
    }
    const rejections = await (await api.raw(`/batches/${batchId}/rejections.csv`)).text();
    expect(rejections).toContain(secretNir);
    // Kept with the batch's rows: the masked NIR only, neither the NIR nor its keyed hash (needed only while judging).
    const { rows: stored } = await sql<{ row: unknown }>`SELECT to_jsonb(r) AS row FROM batch_row r WHERE batch_id = ${batchId}`.execute(stack.db.db);
    expect(stored.length).toBeGreaterThan(0);
    expect(JSON.stringify(stored)).toContain(`${secretNir[0]} ${secretNir.slice(1, 3)}`);
    expect(JSON.stringify(stored)).not.toContain(secretNir);
    expect(JSON.stringify(stored)).not.toContain(hashNir(stack.config.nirHashKey, secretNir));
  });

  it('bounds uploads while streaming: chunked bodies, several files, compressed bodies', async () => {
    const big = 'x'.repeat(1024);
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        const enc = new TextEncoder();
        controller.enqueue(enc.encode('--b\r\nContent-Disposition: form-data; name="file"; filename="big.csv"\r\n\r\n'));
        for (let i = 0; i < 200; i++) controller.enqueue(enc.encode(big));
        controller.enqueue(enc.encode('\r\n--b--\r\n'));
        controller.close();
      },
    });
    const chunked = await fetch(`${stack.baseUrl}/api/v1/batches`, {
      method: 'POST',
      headers: { authorization: `Bearer ${firm.token}`, 'content-type': 'multipart/form-data; boundary=b' },
      body,
      duplex: 'half',
    } as RequestInit);
    expect(chunked.status).toBe(413);
    expect(((await chunked.json()) as any).error.code).toBe('FILE_TOO_LARGE');

    const two = new FormData();
    two.append('file', new Blob(['action;siren\n']), 'a.csv');
    two.append('file', new Blob(['action;siren\n']), 'b.csv');
    const twoRes = await fetch(`${stack.baseUrl}/api/v1/batches`, { method: 'POST', headers: { authorization: `Bearer ${firm.token}` }, body: two });
    expect(twoRes.status).toBe(400);

    const gz = await fetch(`${stack.baseUrl}/api/v1/batches`, {
      method: 'POST',
      headers: { authorization: `Bearer ${firm.token}`, 'content-encoding': 'gzip', 'content-type': 'multipart/form-data; boundary=b' },
      body: 'whatever',
    });
    expect(gz.status).toBe(415);

    const orphans = await stack.db.db.selectFrom('upload').leftJoin('batch', 'batch.upload_id', 'upload.id').select('upload.id').where('batch.id', 'is', null).execute();
    expect(orphans).toEqual([]);
  });

  it('answers 410 for the rejections file once retention has purged the upload, and revoked tokens are refused', async () => {
    await stack.db.db.updateTable('upload').set({ created_at: new Date(Date.now() - 100 * 86_400_000) }).execute();
    expect(await purgeOldUploads(stack.db.db, 90)).toBeGreaterThan(0);
    const gone = await api.raw(`/batches/${batchId}/rejections.csv`);
    expect(gone.status).toBe(410);
    expect((await api.raw(`/batches/${batchId}/report.csv`)).status).toBe(200);

    const token = await stack.db.db.selectFrom('api_token').select(['id', 'last_used_at']).where('user_id', '=', firm.user.id).executeTakeFirstOrThrow();
    // A token's use is recorded, at most once a minute however often the client polls.
    expect(token.last_used_at).not.toBeNull();
    const xmin = async () => (await sql<{ xmin: string }>`SELECT xmin::text FROM api_token WHERE id = ${token.id}`.execute(stack.db.db)).rows[0].xmin;
    const version = await xmin();
    for (let i = 0; i < 3; i++) expect((await api.get('/batches')).status).toBe(200);
    expect(await xmin()).toBe(version);
    await stack.db.db.updateTable('api_token').set({ last_used_at: new Date(Date.now() - 2 * 60_000) }).where('id', '=', token.id).execute();
    expect((await api.get('/batches')).status).toBe(200);
    const used = await stack.db.db.selectFrom('api_token').select('last_used_at').where('id', '=', token.id).executeTakeFirstOrThrow();
    expect(Date.now() - used.last_used_at!.getTime()).toBeLessThan(60_000);

    expect(await revokeApiToken(stack.db.db, firm.user.id, token.id)).toBe(true);
    expect((await api.get('/batches')).status).toBe(401);
  });
});

/// <reference lib="dom" />
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import iconv from 'iconv-lite';
import type { Page } from 'playwright-core';
import { startStack, type Stack } from '../helpers/stack.ts';
import { launchBrowser, type TestBrowser } from '../helpers/browser.ts';
import { apiClient } from '../helpers/api.ts';
import { createAccount, createFirm } from '../factories/world.ts';
import { siren } from '../factories/identifiers.ts';
import { createUser } from '../../src/users/user.repository.ts';
import { upsertAccounts, type AccountInput } from '../../src/registry/account.repository.ts';
import { createLogger } from '../../src/logger.ts';
import { startWorker, type RunningWorker } from '../../worker/worker.ts';
import { STAGE_LOCK_CLASS } from '../../src/batches/stage-batch.ts';

const PASSWORD = 'correct horse battery';
const UNKNOWN_ROWS = 20_000;

/** The firm's messy file, as French Excel writes it: Windows-1252, `;`, CRLF, an unknown column. */
function messyFile(good: AccountInput[], struckOff: AccountInput) {
  const header = 'action;cas;siren;numéro de compte;montant;raison sociale;commentaire';
  const rows: string[] = [];
  for (const a of good) rows.push(`ajout;employeur;${a.siren};${a.accountNumber};1 234,56;Société Élan ${a.accountNumber.slice(-3)};ok`);
  rows.push(`ajout;employeur;123456780;${good[0].accountNumber.replace(/^117/, '118')};1 234,56;=1+1;clé fausse`); // SIREN_CHECKSUM
  rows.push(`ajout;employeur;${good[0].siren};${good[0].accountNumber.replace(/^117/, '119')};12,345;Montant ambigu;à revoir`); // AMOUNT_INVALID
  rows.push(`ajout;employeur;${struckOff.siren};${struckOff.accountNumber};1 234,56;Radiée SA;`); // ACCOUNT_STRUCK_OFF
  for (let i = 0; i < UNKNOWN_ROWS; i++) {
    rows.push(`ajout;employeur;${siren(String(60_000_000 + i))};999${String(i).padStart(15, '0')};1 234,56;Inconnue ${i};`); // ACCOUNT_UNKNOWN
  }
  return iconv.encode([header, ...rows].join('\r\n') + '\r\n', 'windows-1252');
}

describe('the web UI in a real browser', () => {
  let stack: Stack;
  let worker: RunningWorker | undefined;
  let browser: TestBrowser;
  let page: Page;
  let dir: string;
  let firm: Awaited<ReturnType<typeof createFirm>>;
  let otherFirmBatchId: number;
  const adminEmail = `admin-${Date.now()}@urssaf.test`;
  const good: AccountInput[] = [];
  let struckOff: AccountInput;
  let later: AccountInput[] = [];
  let batchId: number;

  const url = (path: string) => `${stack.baseUrl}${path}`;
  const shot = (name: string, p: Page = page) => browser.screenshot(p, name);

  async function login(email: string) {
    await page.goto(url('/login'));
    await page.fill('#email', email);
    await page.fill('#password', PASSWORD);
    await Promise.all([page.waitForURL(url('/')), page.click('button[type=submit]')]);
  }

  async function upload(path: string, mode: 'apply' | 'dry_run') {
    await page.goto(url('/'));
    await page.setInputFiles('#file', path);
    await page.check(mode === 'apply' ? '#mode-apply' : '#mode-dry-run');
    await Promise.all([page.waitForURL(/\/batches\/\d+$/), page.click('form.upload button[type=submit]')]);
    return Number(/\/batches\/(\d+)$/.exec(page.url())![1]);
  }

  async function waitForEnd(p: Page = page) {
    await p.waitForFunction(() => !document.querySelector('[hx-trigger]') && /Terminé|Échec|Annulé/.test(document.querySelector('#progress-text')?.textContent ?? ''), null, { timeout: 60_000 });
  }

  beforeAll(async () => {
    stack = await startStack({ worker: false, env: { UPLOAD_MAX_BYTES: String(4 * 1024 * 1024) } });
    const { db } = stack.db;
    const key = stack.config.nirHashKey;
    firm = await createFirm(db, 'Cabinet Dupré & Fils');
    await createUser(db, { declarant: 'Urssaf exploitation', email: adminEmail, password: PASSWORD, isAdmin: true });
    for (let i = 0; i < 12; i++) good.push(await createAccount(db, key));
    struckOff = await createAccount(db, key, { status: 'struck_off' });
    later = [await createAccount(db, key), await createAccount(db, key)];
    // Another firm's batch, through the API: firm users must meet a 404 for it.
    const other = await createFirm(db, 'Cabinet Autre');
    const res = await apiClient(stack.baseUrl, other.token).upload('action;siren\r\nsuppression;732829320\r\n');
    otherFirmBatchId = res.body.id;
    dir = await mkdtemp(join(tmpdir(), 'pi-e2e-files-'));
    browser = await launchBrowser();
    page = await browser.newPage();
  });

  afterAll(async () => {
    await browser?.close();
    await worker?.close();
    await stack?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('logs in, uploads a Windows-1252 file and watches it run to the end without a reload', async () => {
    await page.goto(url('/'));
    expect(page.url()).toBe(url('/login'));
    await shot('01-login');
    await login(firm.email);
    await expect(page.locator('h1').textContent()).resolves.toContain('Import de clients');

    // The template link serves the SPEC's French headers.
    const template = await (await page.request.get(url('/modele.csv'))).text();
    expect(template.startsWith('\uFEFFaction;cas;siren;siret;numéro de compte;montant;nir')).toBe(true);

    const path = join(dir, 'portefeuille-janvier.csv');
    await writeFile(path, messyFile(good, struckOff));
    batchId = await upload(path, 'apply');
    // No worker yet: the batch waits, and the page says so.
    await expect(page.locator('#progress-text').textContent()).resolves.toContain('En attente');
    await expect(page.locator('#batch-live').getAttribute('hx-trigger')).resolves.toBe('every 1s');
    await shot('02-batch-queued');

    // A second tab on the home page, to see the list live too.
    const home = await browser.context.newPage();
    await home.goto(url('/'));
    await expect(home.locator(`#batch-${batchId}`).textContent()).resolves.toContain('En attente');
    await expect(home.locator('#batch-list').getAttribute('hx-trigger')).resolves.toBe('every 1s');
    await shot('03-home-queued', home);

    await page.evaluate(() => ((window as any).__notReloaded = true));
    await home.evaluate(() => ((window as any).__notReloaded = true));
    // The batch is held in its reading step (the lock a reading takes), so that the page is seen showing it
    // whatever the machine's speed; then let go.
    const hold = await stack.db.pool.connect();
    await hold.query('SELECT pg_advisory_lock($1, $2)', [STAGE_LOCK_CLASS, batchId]);
    worker = await startWorker(stack.config, createLogger(stack.config.logLevel));
    const seen = new Set<string>();
    try {
      await page.locator('#progress-text', { hasText: 'Lecture du fichier' }).waitFor({ timeout: 20_000 });
      seen.add('Lecture du fichier');
      await shot('04-batch-reading');
    } finally {
      await hold.query('SELECT pg_advisory_unlock($1, $2)', [STAGE_LOCK_CLASS, batchId]);
      hold.release();
    }

    // Sample what the page shows while the worker runs.
    const started = Date.now();
    while (Date.now() - started < 60_000) {
      const text = (await page.locator('#progress-text').textContent()) ?? '';
      seen.add(text.replace(/\d[\d\s\u202f]*/g, 'N'));
      if (text.includes('Terminé')) break;
      if (text.includes('Application')) await shot('04-batch-applying').catch(() => {});
      await page.waitForTimeout(150);
    }
    await waitForEnd();
    expect(await page.evaluate(() => (window as any).__notReloaded)).toBe(true);
    expect([...seen].some((s) => /Lecture|Application/.test(s))).toBe(true);
    await expect(page.locator('#progress-text').textContent()).resolves.toContain('Terminé');

    const total = good.length + 3 + UNKNOWN_ROWS;
    const counts = await page.locator('table.counts tbody td').allTextContents();
    expect(counts.map((t) => Number(t.replace(/\D/g, '')))).toEqual([total, good.length, 0, 0, 0, 3 + UNKNOWN_ROWS]);
    const detected = await page.locator('#batch-live').textContent();
    expect(detected).toContain('Lu en Windows-1252, séparateur « ; »');
    expect(detected).toContain('commentaire');
    expect(detected).toContain('ACCOUNT_UNKNOWN');
    // The rows table arrived out of band when the batch ended; the polling stopped.
    await expect(page.locator('#rows-section table.rows tbody tr').count()).resolves.toBe(100);
    expect(await page.locator('[hx-trigger]').count()).toBe(0);
    await shot('05-batch-completed');

    // The home tab followed too, and stopped polling.
    await home.waitForFunction((id) => document.querySelector(`#batch-${id}`)?.textContent?.includes('Terminé'), batchId, { timeout: 10_000 });
    await home.waitForFunction(() => !document.querySelector('#batch-list')?.hasAttribute('hx-trigger'), null, { timeout: 5_000 });
    expect(await home.evaluate(() => (window as any).__notReloaded)).toBe(true);
    await shot('06-home-completed', home);
    await home.close();
  });

  it('filters rows by code and pages through them, in place', async () => {
    await page.selectOption('#f-code', 'SIREN_CHECKSUM');
    await Promise.all([page.waitForURL(/code=SIREN_CHECKSUM/), page.click('#rows-section button[type=submit]')]);
    await page.waitForFunction(() => document.querySelectorAll('#rows-section table.rows tbody tr').length === 1);
    const row = await page.locator('#rows-section table.rows tbody tr').textContent();
    expect(row).toContain('SIREN_CHECKSUM');
    expect(row).toContain('clé de contrôle');
    expect(await page.evaluate(() => (window as any).__notReloaded)).toBe(true);
    await shot('07-batch-filtered-code');

    await page.selectOption('#f-code', 'ACCOUNT_UNKNOWN');
    await Promise.all([page.waitForURL(/code=ACCOUNT_UNKNOWN/), page.click('#rows-section button[type=submit]')]);
    await page.waitForFunction(() => document.querySelectorAll('#rows-section table.rows tbody tr').length === 100);
    const lastLine = Number(await page.locator('#rows-section table.rows tbody tr:last-child th').textContent());
    await Promise.all([page.waitForURL(/after=/), page.click('text=Lignes suivantes')]);
    await page.waitForFunction((n) => Number(document.querySelector('#rows-section table.rows tbody tr th')?.textContent) > n, lastLine);
    const codes = await page.locator('#rows-section table.rows tbody code').allTextContents();
    expect(new Set(codes)).toEqual(new Set(['ACCOUNT_UNKNOWN']));
    expect(await page.evaluate(() => (window as any).__notReloaded)).toBe(true);

    // Search by SIREN, and the NIR never appears (there is none here, but the column is not even offered).
    await page.fill('#f-q', good[3].siren!);
    await page.selectOption('#f-code', '');
    await Promise.all([page.waitForURL(/q=/), page.click('#rows-section button[type=submit]')]);
    await page.waitForFunction(() => document.querySelectorAll('#rows-section table.rows tbody tr').length === 1);
    await expect(page.locator('#rows-section table.rows tbody').textContent()).resolves.toContain(good[3].accountNumber);
    await shot('07b-batch-searched-siren');
  });

  it('downloads the rejected rows in the upload’s own encoding, ready to fix', async () => {
    await page.goto(url(`/batches/${batchId}`));
    const [download] = await Promise.all([page.waitForEvent('download'), page.click(`a[href="/batches/${batchId}/rejets.csv"]`)]);
    const bytes = await readFile((await download.path())!);
    expect(bytes.includes(Buffer.from('Soci\xe9t\xe9', 'latin1'))).toBe(false); // good rows are not in it
    expect(bytes.includes(Buffer.from('cl\xe9 fausse', 'latin1'))).toBe(true); // Windows-1252 bytes, as uploaded
    const text = iconv.decode(bytes, 'windows-1252');
    const lines = text.split('\r\n').filter(Boolean);
    expect(lines[0]).toBe('ligne;action;cas;siren;numéro de compte;montant;raison sociale;commentaire;codes;motif');
    expect(lines).toHaveLength(1 + 3 + UNKNOWN_ROWS);
    const [line, action, , sirenCell, , , name, comment, codes, motif] = lines[1].split(';');
    expect(line).toBe(String(2 + good.length));
    expect(action).toBe('ajout');
    expect(sirenCell).toBe('123456780');
    expect(name).toBe("'=1+1"); // formula neutralised
    expect(comment).toBe('clé fausse');
    expect(codes).toBe('SIREN_CHECKSUM');
    expect(motif).toContain('SIREN invalide');
    expect(lines[2]).toContain('AMOUNT_INVALID');
    expect(lines[3]).toContain('ACCOUNT_STRUCK_OFF');
    expect(lines[4]).toContain('ACCOUNT_UNKNOWN');
  });

  it('refuses a file over the size limit with a French message', async () => {
    const path = join(dir, 'trop-gros.csv');
    await writeFile(path, 'action;siren\r\n' + 'suppression;732829320\r\n'.repeat(230_000));
    await page.goto(url('/'));
    await page.setInputFiles('#file', path);
    const [response] = await Promise.all([page.waitForNavigation(), page.click('form.upload button[type=submit]')]);
    expect(response?.status()).toBe(413);
    await expect(page.locator('.error[role=alert]').textContent()).resolves.toContain('Fichier trop volumineux');
    await shot('08-home-too-large');
  });

  it('runs a dry run, then applies it', async () => {
    const removed = good[0];
    const path = join(dir, 'simulation.csv');
    const rows = [
      'action,cas,siren,numero de compte,montant',
      ...later.map((a) => `ajout,1,${a.siren},${a.accountNumber},"1 234,56"`),
      `suppression,,,${removed.accountNumber},`,
    ];
    await writeFile(path, rows.join('\n') + '\n');
    const dryId = await upload(path, 'dry_run');
    await waitForEnd();
    await expect(page.locator('#batch-live').textContent()).resolves.toContain('Simulation');
    await expect(page.locator('#batch-live').textContent()).resolves.toContain('Lu en UTF-8, séparateur « , »');
    const dryCounts = await page.locator('table.counts tbody td').allTextContents();
    expect(dryCounts.map(Number)).toEqual([3, 2, 1, 0, 0, 0]);
    await shot('09-dry-run-completed');
    await Promise.all([page.waitForURL((u) => /\/batches\/\d+$/.test(u.pathname) && !u.pathname.endsWith(`/${dryId}`)), page.click('#apply-batch')]);
    await waitForEnd();
    await expect(page.locator('#batch-live').textContent()).resolves.toContain(`lot n° ${dryId}`);
    await expect(page.locator('#batch-live').textContent()).resolves.toContain('Fichier déjà importé le');
    const counts = await page.locator('table.counts tbody td').allTextContents();
    expect(counts.map(Number)).toEqual([3, 2, 1, 0, 0, 0]);
    await shot('10-applied');
  });

  it('shows the portfolio, a client’s history and the clean-up file', async () => {
    // One of the firm's clients is struck off in the registry since it was added.
    await upsertAccounts(stack.db.db, [{ ...good[5], status: 'struck_off' }], stack.config.nirHashKey);
    await page.goto(url('/portefeuille'));
    const rows = page.locator('table.clients tbody tr');
    await expect(rows.count()).resolves.toBe(good.length - 1 + later.length);
    await shot('11-portfolio');
    await page.check('#p-struck');
    await Promise.all([page.waitForURL(/radies=1/), page.click('#portfolio-results button[type=submit]')]);
    await page.waitForFunction(() => document.querySelectorAll('table.clients tbody tr').length === 1);
    await expect(rows.first().textContent()).resolves.toContain(good[5].accountNumber);

    const [download] = await Promise.all([page.waitForEvent('download'), page.click('a[href="/portefeuille/nettoyage.csv"]')]);
    const text = (await readFile((await download.path())!)).toString('utf8');
    expect(text).toBe(`\uFEFFaction;numero de compte;siren;nom\r\nsuppression;${good[5].accountNumber};${good[5].siren};Société Élan ${good[5].accountNumber.slice(-3)}\r\n`);

    await page.goto(url(`/portefeuille/${good[0].accountNumber}`));
    const history = await page.locator('table.history tbody').textContent();
    expect(history).toContain('Ajouté');
    expect(history).toContain('Supprimé');
    expect(history).toContain(`lot n° ${batchId}`);
    expect(history).toContain(firm.email);
    await shot('12-client-history');
  });

  it('keeps admin pages and other firms’ batches out of a firm user’s reach', async () => {
    for (const path of ['/admin', '/admin/queues', '/admin/batches', `/batches/${otherFirmBatchId}`, `/batches/${otherFirmBatchId}/rejets.csv`]) {
      const res = await page.goto(url(path));
      expect(res?.status(), path).toBe(404);
    }
    await shot('13-not-found');
    expect(await page.locator('nav a[href="/admin"]').count()).toBe(0);
  });

  it('gives the admin every firm’s batches, the queue health and bull-board', async () => {
    await page.click('button:has-text("Se déconnecter")');
    await page.waitForURL(url('/login'));
    await login(adminEmail);
    await page.goto(url('/admin'));
    const list = await page.locator('#batch-list').textContent();
    expect(list).toContain('Cabinet Dupré & Fils');
    expect(list).toContain('Cabinet Autre');
    await expect(page.locator('dl.health').textContent()).resolves.toMatch(/Workers actifs\s*1/);
    await shot('14-admin');

    await page.fill('#a-q', good[2].accountNumber);
    await Promise.all([page.waitForURL(/q=/), page.click('form[role=search] button[type=submit]')]);
    const found = await page.locator('#batch-list tbody tr').allTextContents();
    expect(found).toHaveLength(1);
    expect(found[0]).toContain(`n° ${batchId}`);

    const res = await page.goto(url(`/batches/${otherFirmBatchId}`));
    expect(res?.status()).toBe(200);
    await expect(page.locator('h1').textContent()).resolves.toContain(`Lot n° ${otherFirmBatchId}`);

    const before = browser.problems.length;
    const board = await page.goto(url('/admin/queues'));
    expect(board?.status()).toBe(200);
    await page.waitForSelector('text=batches', { timeout: 15_000 });
    // Under its relaxed policy bull-board only misses its Google Fonts (blocked on purpose: no third party).
    const boardProblems = browser.problems.slice(before).filter((p) => !p.includes('fonts.googleapis.com'));
    expect(boardProblems).toEqual([]);
    await shot('15-bull-board');
    // Our own pages raised no console error (CSP violations included); bull-board's are reported apart.
    const ours = browser.problems.slice(0, before).filter((p) => !/Failed to load resource: the server responded with a status of (404|413)/.test(p));
    expect(ours).toEqual([]);
  });
});

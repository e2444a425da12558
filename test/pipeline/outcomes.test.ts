import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CompiledQuery, sql } from 'kysely';
import { startStack, type Stack } from '../helpers/stack.ts';
import { apiClient } from '../helpers/api.ts';
import { createAccount, createFirm } from '../factories/world.ts';
import { accountNumber, nir, siren, siret } from '../factories/identifiers.ts';
import type { AccountInput } from '../../src/registry/account.repository.ts';
import { whereIdentifier } from '../../src/batches/batch.repository.ts';

const HEADER = 'action;cas;siren;siret;numero de compte;montant;nir;services en ligne;services courriel;nom';

interface Cells {
  action?: string;
  cas?: string;
  siren?: string;
  siret?: string;
  compte?: string;
  montant?: string;
  nir?: string;
  online?: string;
  email?: string;
  nom?: string;
}
const line = (c: Cells) =>
  [c.action, c.cas, c.siren, c.siret, c.compte, c.montant, c.nir, c.online, c.email, c.nom].map((v) => v ?? '').join(';');
const file = (rows: string[]) => [HEADER, ...rows].join('\r\n') + '\r\n';
const addOf = (a: AccountInput, extra: Cells = {}): Cells => ({
  action: 'ajout',
  cas: a.kind,
  siren: a.siren ?? '',
  compte: a.accountNumber,
  montant: a.referenceAmountCents !== null ? '1 234,56' : '',
  nir: a.nir ?? '',
  ...extra,
});

describe('a firm imports files through the API and a real worker', () => {
  let stack: Stack;
  let api: ReturnType<typeof apiClient>;
  let firm: Awaited<ReturnType<typeof createFirm>>;
  const acc: Record<string, AccountInput> = {};
  const sharedSiren = siren('55512345');

  beforeAll(async () => {
    stack = await startStack();
    const { db } = stack.db;
    firm = await createFirm(db, 'Cabinet Alpha');
    api = apiClient(stack.baseUrl, firm.token);
    const key = stack.config.nirHashKey;
    for (const name of ['e1', 'e3', 'e6', 'e7', 'e8', 'e9', 'e10', 'e11']) acc[name] = await createAccount(db, key);
    acc.e2 = await createAccount(db, key, { status: 'struck_off' });
    acc.e12 = await createAccount(db, key, { status: 'struck_off' });
    acc.e4 = await createAccount(db, key, { siren: sharedSiren });
    acc.e5 = await createAccount(db, key, { siren: sharedSiren });
    acc.i1 = await createAccount(db, key, { kind: 'independent' });
    acc.i2 = await createAccount(db, key, { kind: 'independent' });
    acc.l1 = await createAccount(db, key, { kind: 'liberal_regulated' });
    acc.m1 = await createAccount(db, key, { kind: 'manager_without_siret' });
  });
  afterAll(async () => {
    await stack?.close();
  });

  it('adds clients of the four cases, then judges every outcome and code of a messy file', async () => {
    const first = await api.uploadAndWait(
      file([
        line(addOf(acc.e1, { online: 'DECLARER_PAYER' })),
        line(addOf(acc.i1, { cas: 'indépendant' })),
        line(addOf(acc.l1, { cas: '3' })),
        line(addOf(acc.m1, { cas: '3', siren: '' })),
        line(addOf(acc.e4)),
        line(addOf(acc.e5)),
        line(addOf(acc.e6)),
        line(addOf(acc.e7, { online: 'DECLARER_PAYER', email: 'COURRIEL_ECHEANCES' })),
      ]),
    );
    expect(first.status).toBe('completed');
    expect(first.counts).toEqual({ total: 8, added: 8, removed: 0, updated: 0, unchanged: 0, rejected: 0 });
    expect(first.encoding).toBe('utf-8');
    expect(first.delimiter).toBe(';');
    // The portfolio finds clients by SIREN (the registry's accounts carrying it: e4 and e5 share one) and by account number.
    type Client = { account_number: string; siren: string; name: string };
    const bySiren = (await api.get(`/portfolio?q=${acc.e4.siren}`)).body.clients as Client[];
    expect(bySiren.map((c) => [c.account_number, c.siren, c.name])).toEqual(
      [acc.e4, acc.e5].map((a) => [a.accountNumber, a.siren, a.name]).sort(),
    );
    const byAccount = (await api.get(`/portfolio?q=${acc.e4.accountNumber}`)).body.clients as Client[];
    expect(byAccount.map((c) => c.account_number)).toEqual([acc.e4.accountNumber]);

    const unknownAccount = accountNumber().replace(/^117/, '999');
    const otherSiren = siren('44455566');
    const rows: [number, Cells, string, string[]][] = [];
    let n = 2;
    const expect_ = (c: Cells, outcome: string, codes: string[]) => rows.push([n++, c, outcome, codes]);
    expect_(addOf(acc.e7, { online: 'declarer_payer', email: 'COURRIEL_ECHEANCES' }), 'unchanged', ['ALREADY_IN_PORTFOLIO']);
    expect_(addOf(acc.e1, { online: 'DECLARER_PAYER|ATTESTATIONS' }), 'updated', []);
    expect_({ action: 'suppression', siren: acc.e6.siren! }, 'removed', []);
    expect_({ action: 'r', siren: sharedSiren }, 'rejected', ['CLIENT_AMBIGUOUS']);
    expect_({ action: '-', compte: unknownAccount }, 'rejected', ['ACCOUNT_UNKNOWN']);
    expect_({ action: 'remove', compte: acc.e2.accountNumber }, 'unchanged', ['NOT_IN_PORTFOLIO']);
    expect_(addOf(acc.e12), 'rejected', ['ACCOUNT_STRUCK_OFF']);
    expect_(addOf(acc.e3, { cas: 'independent', montant: '', nir: nir('1850775101123') }), 'rejected', ['CASE_MISMATCH']);
    expect_(addOf(acc.e8, { siren: otherSiren }), 'rejected', ['ACCOUNT_SIREN_MISMATCH']);
    expect_(addOf(acc.e9, { montant: '1 234,57' }), 'rejected', ['AMOUNT_MISMATCH']);
    expect_(addOf(acc.i2, { nir: nir('2900213055321') }), 'rejected', ['NIR_MISMATCH']);
    expect_(addOf(acc.e9), 'rejected', ['DUPLICATE_IN_FILE']);
    rows.push([n++, { action: 'ajout', cas: 'employer' }, 'rejected', ['ROW_MALFORMED']]); // written short below
    expect_({ ...addOf(acc.e10), action: 'bogus' }, 'rejected', ['ACTION_INVALID']);
    expect_({ ...addOf(acc.e10), cas: '' }, 'rejected', ['CASE_REQUIRED']);
    expect_({ ...addOf(acc.e10), cas: 'zzz' }, 'rejected', ['CASE_INVALID']);
    expect_({ ...addOf(acc.e10), siren: '' }, 'rejected', ['SIREN_REQUIRED']);
    expect_({ ...addOf(acc.e10), siren: '12345678' }, 'rejected', ['SIREN_INVALID']);
    expect_({ ...addOf(acc.e10), siren: '123456780' }, 'rejected', ['SIREN_CHECKSUM']);
    expect_({ ...addOf(acc.e10), siren: '', siret: '1234567890123' }, 'rejected', ['SIRET_INVALID']);
    expect_({ ...addOf(acc.e10), siren: '', siret: acc.e10.siren + '00010' }, 'rejected', ['SIRET_CHECKSUM']);
    expect_({ ...addOf(acc.e10), siret: siret(otherSiren, '0001') }, 'rejected', ['SIREN_SIRET_MISMATCH']);
    expect_({ ...addOf(acc.e10), compte: '' }, 'rejected', ['ACCOUNT_REQUIRED']);
    expect_({ ...addOf(acc.e10), compte: '12345' }, 'rejected', ['ACCOUNT_INVALID']);
    expect_({ ...addOf(acc.e10), montant: '' }, 'rejected', ['AMOUNT_REQUIRED']);
    expect_({ ...addOf(acc.e10), montant: '12,345' }, 'rejected', ['AMOUNT_INVALID']);
    expect_({ ...addOf(acc.i2), nir: '' }, 'rejected', ['NIR_REQUIRED']);
    expect_({ ...addOf(acc.i2), nir: '585077510112345' }, 'rejected', ['NIR_INVALID']);
    expect_({ ...addOf(acc.i2), nir: '185077510112300' }, 'rejected', ['NIR_CHECKSUM']);
    expect_({ ...addOf(acc.e10), online: 'FOO' }, 'rejected', ['SERVICE_UNKNOWN']);
    expect_({ action: 'remove' }, 'rejected', ['KEY_REQUIRED']);
    expect_(addOf(acc.e10), 'added', []);

    const text = file(rows.map(([, c, , codes]) => (codes[0] === 'ROW_MALFORMED' ? 'ajout;employer;' : line(c))));
    const batch = await api.uploadAndWait(text, { filename: 'portefeuille.csv' });
    expect(batch.status).toBe('completed');
    // A completed batch's rows are in a table of their own, with every index the batch page's searches use.
    const indexes = await sql<{ name: string }>`
      SELECT indexrelid::regclass::text AS name FROM pg_index WHERE indrelid = ${`batch_row_${batch.id}`}::regclass ORDER BY 1
    `.execute(stack.db.db);
    expect(indexes.rows.map((r) => r.name)).toEqual(
      ['account_hash', 'line', 'rejected', 'siren_hash'].map((s) => `batch_row_${batch.id}_${s}_idx`),
    );
    // The searches' condition is the one those indexes are built on (else every search would read the whole batch).
    for (const column of ['siren', 'account_number'] as const) {
      const search = stack.db.db.selectFrom('batch_row').select('line').where('batch_id', '=', batch.id)
        .$call((qb) => whereIdentifier(qb, column, '123456789')).compile();
      const plan = await stack.db.db.transaction().execute(async (trx) => {
        await sql`SET LOCAL enable_seqscan = off`.execute(trx);
        return trx.executeQuery<{ 'QUERY PLAN': string }>(CompiledQuery.raw(`EXPLAIN ${search.sql}`, [...search.parameters]));
      });
      expect(plan.rows.map((r) => r['QUERY PLAN']).join('\n')).toContain(`batch_row_${batch.id}_${column === 'siren' ? 'siren' : 'account'}_hash_idx`);
    }
    const got = await api.rows(batch.id);
    expect(got.map((r) => [r.line, r.outcome, r.codes])).toEqual(rows.map(([l, , o, c]) => [l, o, c]));
    for (const r of got) if (r.codes.length > 0) expect(r.message).not.toBe('');
    expect(got.find((r) => r.codes[0] === 'DUPLICATE_IN_FILE').message).toContain('ligne 11');
    expect(got.find((r) => r.codes[0] === 'SIREN_INVALID').message).toContain('zéro initial perdu');

    const c = batch.counts;
    expect(c.total).toBe(rows.length);
    expect(c.added + c.removed + c.updated + c.unchanged + c.rejected).toBe(c.total);
    expect(c).toMatchObject({ added: 1, removed: 1, updated: 1, unchanged: 2 });

    // The database agrees: portfolio, history, services.
    const { db } = stack.db;
    const portfolio = await db.selectFrom('portfolio_client').selectAll().where('declarant_id', '=', firm.declarantId).execute();
    const accounts = portfolio.map((p) => p.account_number).sort();
    expect(accounts).toEqual(
      [acc.e1, acc.i1, acc.l1, acc.m1, acc.e4, acc.e5, acc.e7, acc.e10].map((a) => a.accountNumber).sort(),
    );
    const e1 = portfolio.find((p) => p.account_number === acc.e1.accountNumber)!;
    expect(e1.online_services.sort()).toEqual(['ATTESTATIONS', 'DECLARER_PAYER']);
    const m1 = portfolio.find((p) => p.account_number === acc.m1.accountNumber)!;
    expect(m1.client_case).toBe('manager_without_siret');
    const l1 = portfolio.find((p) => p.account_number === acc.l1.accountNumber)!;
    expect(l1.client_case).toBe('liberal_regulated');
    const history = await db
      .selectFrom('portfolio_history')
      .select(['kind', 'batch_id', 'line'])
      .where('account_number', '=', acc.e6.accountNumber)
      .orderBy('batch_id')
      .execute();
    expect(history).toEqual([
      { kind: 'added', batch_id: first.id, line: 8 },
      { kind: 'removed', batch_id: batch.id, line: 4 },
    ]);
    const failures = await db.selectFrom('proof_failure').select('account_number').execute();
    expect(failures.map((f) => f.account_number).sort()).toEqual([acc.e9.accountNumber, acc.i2.accountNumber].sort());

    // Filters of the rows API.
    const dupes = await api.get(`/batches/${batch.id}/rows?code=DUPLICATE_IN_FILE`);
    expect(dupes.status, JSON.stringify(dupes.body)).toBe(200);
    expect(dupes.body.rows.map((r: any) => r.line)).toEqual([13]);
    const rejected = await api.rows(batch.id, '&outcome=rejected');
    expect(rejected).toHaveLength(c.rejected);
    const page = await api.get(`/batches/${batch.id}/rows?limit=5`);
    expect(page.body.rows).toHaveLength(5);
    expect(page.body.next).toBe(6);

    // Re-applying the same file changes nothing and says it came before.
    const again = await api.uploadAndWait(text, { filename: 'portefeuille.csv' });
    expect(again.duplicate_of).toBe(batch.id);
    expect(again.counts.added + again.counts.removed + again.counts.updated).toBe(0);
    expect(again.counts.unchanged + again.counts.rejected).toBe(again.counts.total);
  });

  it('locks the proof of an account after 5 failed proofs, across dry runs', async () => {
    const wrong = file([line(addOf(acc.e11, { montant: '1,00' }))]);
    for (let i = 0; i < 5; i++) {
      const b = await api.uploadAndWait(wrong, { mode: 'dry_run' });
      expect((await api.rows(b.id))[0].codes).toEqual(['AMOUNT_MISMATCH']);
    }
    const right = await api.uploadAndWait(file([line(addOf(acc.e11))]));
    expect((await api.rows(right.id))[0].codes).toEqual(['PROOF_LOCKED']);
  });

  it('fails a bad file with its code and line, applying nothing', async () => {
    const cases: [string | Uint8Array, string, number | null][] = [
      ['', 'FILE_EMPTY', null],
      [HEADER + '\n', 'FILE_EMPTY', null],
      [new Uint8Array([0x61, 0x00, 0x62, 0x00, 0x0a, 0x00]), 'FILE_BINARY', null],
      ['siren;nom\n' + acc.e1.siren + ';x\n', 'FILE_MISSING_COLUMN', null],
      ['action;siren;SIREN\nadd;1;1\n', 'FILE_DUPLICATE_COLUMN', null],
      [file([line(addOf(acc.e10)), 'ajout;"employer;;;;;;;;', 'x;y']), 'FILE_MALFORMED', 3],
    ];
    const before = await stack.db.db.selectFrom('portfolio_history').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    for (const [content, code, lineNo] of cases) {
      const b = await api.uploadAndWait(content);
      expect(b.status, code).toBe('failed');
      expect(b.error.code).toBe(code);
      if (lineNo !== null) expect(b.error.line).toBe(lineNo);
      expect(b.error.message).not.toBe('');
      expect(b.counts.total).toBe(0);
    }
    const after = await stack.db.db.selectFrom('portfolio_history').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    expect(Number(after.n)).toBe(Number(before.n));
  });
});

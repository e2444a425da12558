import { describe, expect, it } from 'vitest';
import { luhnCheckDigit, nirKey } from '../../src/demo/check-digits.ts';
import type { RegistryAccount } from '../../src/demo/generate.ts';
import { emptyOracleState, nextOracleState, oracleForFile, type OracleState } from './oracle.ts';

const siren = (body: string) => body + luhnCheckDigit(body);
const nir = (first13: string) => first13 + nirKey(first13);

const S1 = siren('73282932');
const S2 = siren('55210055');
const S3 = siren('40148395');
const S_UNKNOWN = siren('81234567');
const N1 = nir('1850775123456');
const N_OTHER = nir('2920375987654');
const E1 = '117000000000000001';
const E2 = '117000000000000002';
const L3 = '117000000000000003';
const I1 = '117000000000000004';
const M1 = '117000000000000005';
const X1 = '117000000000000006';
const UNKNOWN = '999000000000000001';

const account = (a: Partial<RegistryAccount> & Pick<RegistryAccount, 'accountNumber' | 'kind'>): RegistryAccount => ({
  siren: null, nir: null, referenceAmountCents: null, status: 'active', name: 'SARL TEST', ...a,
});
const REGISTRY = [
  account({ accountNumber: E1, kind: 'employer', siren: S1, referenceAmountCents: 123_456 }),
  account({ accountNumber: E2, kind: 'employer', siren: S2, referenceAmountCents: 10_000 }),
  account({ accountNumber: L3, kind: 'liberal_regulated', siren: S2, referenceAmountCents: 20_050 }),
  account({ accountNumber: I1, kind: 'independent', siren: S3, nir: N1 }),
  account({ accountNumber: M1, kind: 'manager_without_siret', referenceAmountCents: 50_000 }),
  account({ accountNumber: X1, kind: 'employer', siren: S3, referenceAmountCents: 1_000, status: 'struck_off' }),
];

const HEADER = 'action;cas;siren;numero de compte;montant;nir;services en ligne;services courriel';

function state(opts: { portfolio?: string[]; failedProofs?: Record<string, number> } = {}): OracleState {
  const base = emptyOracleState(REGISTRY);
  for (const accountNumber of opts.portfolio ?? []) {
    const a = base.registry.get(accountNumber)!;
    base.portfolio.set(accountNumber, { case: a.kind, siren: a.siren, onlineServices: ['ATTESTATIONS'], emailServices: [] });
  }
  base.failedProofs = new Map(Object.entries(opts.failedProofs ?? {}));
  return base;
}

async function run(rows: string[], start: OracleState, opts: { dryRun?: boolean; header?: string } = {}) {
  const text = [opts.header ?? HEADER, ...rows].join('\n') + '\n';
  const result = await oracleForFile(new TextEncoder().encode(text), start, { dryRun: opts.dryRun ?? false });
  expect(result.fileError).toBeNull();
  return result;
}

/** Each row's outcome and codes, as `outcome:CODE,CODE`. */
async function outcomes(rows: string[], start: OracleState, opts: { dryRun?: boolean; header?: string } = {}) {
  const { results } = await run(rows, start, opts);
  return results.map((r) => (r.codes.length === 0 ? r.outcome : `${r.outcome}:${r.codes.join(',')}`));
}

describe('oracle, stage 4 outcomes', () => {
  it.each([
    ['add, not in the portfolio → added', [`add;1;${S1};${E1};1 234,56;;ATTESTATIONS;`], [], ['added']],
    ['add, same services → unchanged', [`add;1;${S1};${E1};1234,56;;ATTESTATIONS;`], [E1], ['unchanged:ALREADY_IN_PORTFOLIO']],
    ['add, other services → updated', [`add;1;${S1};${E1};1234,56;;MESSAGERIE;`], [E1], ['updated']],
    ['remove, in the portfolio → removed', [`remove;;;${E1};;;;`], [E1], ['removed']],
    ['remove, not in it → unchanged', [`remove;;;${E1};;;;`], [], ['unchanged:NOT_IN_PORTFOLIO']],
    ['remove of a struck-off account → removed', [`remove;;;${X1};;;;`], [X1], ['removed']],
    ['add manager_without_siret, no SIREN → added', [`add;gérant;;${M1};500;;;`], [], ['added']],
  ])('%s', async (_name, rows, portfolio, expected) => {
    expect(await outcomes(rows, state({ portfolio }))).toEqual(expected);
  });

  it('stores the row services on add, keeps them when the file has no services column', async () => {
    const added = await run([`add;1;${S1};${E1};1234,56;;ATTESTATIONS|MESSAGERIE;COURRIEL_ECHEANCES`], state());
    expect(added.portfolio.get(E1)).toEqual({
      case: 'employer', siren: S1, onlineServices: ['ATTESTATIONS', 'MESSAGERIE'], emailServices: ['COURRIEL_ECHEANCES'],
    });
    const header = 'action;cas;siren;numero de compte;montant';
    const kept = await run([`add;1;${S1};${E1};1234,56`], nextOracleState(state(), added), { header });
    expect(kept.results[0]).toMatchObject({ outcome: 'unchanged', codes: ['ALREADY_IN_PORTFOLIO'] });
    expect(kept.portfolio.get(E1)?.onlineServices).toEqual(['ATTESTATIONS', 'MESSAGERIE']);
    const none = await run([`add;1;${S2};${E2};100`], state(), { header });
    expect(none.portfolio.get(E2)).toMatchObject({ onlineServices: [], emailServices: [] });
  });

  it('an empty services cell on a client with services → updated to none', async () => {
    const result = await run([`add;1;${S1};${E1};1234,56;;;`], state({ portfolio: [E1] }));
    expect(result.results[0].outcome).toBe('updated');
    expect(result.portfolio.get(E1)?.onlineServices).toEqual([]);
  });
});

describe('oracle, stage 3 registry', () => {
  it.each([
    ['unknown account, alone even with a wrong case', [`add;2;${S1};${UNKNOWN};;${N1};;`], ['rejected:ACCOUNT_UNKNOWN']],
    ['case mismatch: proof not compared', [`add;2;${S1};${E1};;${N1};;`], ['rejected:CASE_MISMATCH']],
    ['SIREN mismatch', [`add;1;${S3};${E1};1234,56;;;`], ['rejected:ACCOUNT_SIREN_MISMATCH']],
    ['amount mismatch, to the cent', [`add;1;${S1};${E1};1234,55;;;`], ['rejected:AMOUNT_MISMATCH']],
    ['NIR mismatch', [`add;2;${S3};${I1};;${N_OTHER};;`], ['rejected:NIR_MISMATCH']],
    ['NIR compared normalised', [`add;2;${S3};${I1};;${N1.slice(0, 1)} ${N1.slice(1, 5)} ${N1.slice(5)};;`], ['added']],
    ['struck off', [`add;1;${S3};${X1};10;;;`], ['rejected:ACCOUNT_STRUCK_OFF']],
    ['every failing code, in SPEC order', [`add;1;${S1};${X1};11;;;`], ['rejected:ACCOUNT_SIREN_MISMATCH,AMOUNT_MISMATCH,ACCOUNT_STRUCK_OFF']],
    ['case and SIREN mismatch together', [`add;3;${S1};${E2};100;;;`], ['rejected:CASE_MISMATCH,ACCOUNT_SIREN_MISMATCH']],
    ['a SIREN given for an account without one', [`add;1;${S1};${M1};500;;;`], ['rejected:CASE_MISMATCH,ACCOUNT_SIREN_MISMATCH']],
    ['remove: unknown account', [`remove;;;${UNKNOWN};;;;`], ['rejected:ACCOUNT_UNKNOWN']],
    ['remove: SIREN mismatch', [`remove;;${S2};${E1};;;;`], ['rejected:ACCOUNT_SIREN_MISMATCH']],
    ['remove: case mismatch', [`remove;2;;${E1};;;;`], ['rejected:CASE_MISMATCH']],
    ['remove by SIREN: unknown to the registry', [`remove;;${S_UNKNOWN};;;;;`], ['rejected:ACCOUNT_UNKNOWN']],
    ['remove by SIREN: no client with it', [`remove;;${S2};;;;;`], ['unchanged:NOT_IN_PORTFOLIO']],
  ])('%s', async (_name, rows, expected) => {
    expect(await outcomes(rows, state())).toEqual(expected);
  });

  it('remove by SIREN alone: one client → removed, several → CLIENT_AMBIGUOUS, case checked against the one', async () => {
    expect(await outcomes([`remove;;${S1};;;;;`], state({ portfolio: [E1] }))).toEqual(['removed']);
    expect(await outcomes([`remove;;${S2};;;;;`], state({ portfolio: [E2, L3] }))).toEqual(['rejected:CLIENT_AMBIGUOUS']);
    expect(await outcomes([`remove;3;${S2};;;;;`], state({ portfolio: [L3] }))).toEqual(['removed']);
    expect(await outcomes([`remove;1;${S2};;;;;`], state({ portfolio: [L3] }))).toEqual(['rejected:CASE_MISMATCH']);
  });

  it('counts each failed proof, also in a dry run, and not for a case mismatch', async () => {
    const result = await run([`add;1;${S1};${E1};1;;;`, `add;2;${S3};${I1};;${N_OTHER};;`, `add;2;${S2};${E2};;${N1};;`], state(), { dryRun: true });
    expect(Object.fromEntries(result.newFailedProofs)).toEqual({ [E1]: 1, [I1]: 1 });
  });
});

describe('oracle, proof lock', () => {
  it('locks at the 5th failure: PROOF_LOCKED alone, proof not compared nor counted', async () => {
    let current = state({ failedProofs: { [E1]: 4 } });
    const fifth = await run([`add;1;${S1};${E1};1;;;`], current);
    expect(fifth.results[0].codes).toEqual(['AMOUNT_MISMATCH']);
    current = nextOracleState(current, fifth);
    expect(current.failedProofs.get(E1)).toBe(5);

    const locked = await run([`add;1;${S1};${E1};1234,56;;;`], current);
    expect(locked.results[0]).toMatchObject({ outcome: 'rejected', codes: ['PROOF_LOCKED'] });
    const lockedWrong = await run([`add;2;${S3};${E1};;${N1};;`], current);
    expect(lockedWrong.results[0].codes).toEqual(['PROOF_LOCKED']);
    expect(lockedWrong.newFailedProofs.size).toBe(0);
    // Removes are not locked.
    expect(await outcomes([`remove;;;${E1};;;;`], current)).toEqual(['unchanged:NOT_IN_PORTFOLIO']);
  });

  it('4 failures do not lock', async () => {
    expect(await outcomes([`add;1;${S1};${E1};1234,56;;;`], state({ failedProofs: { [E1]: 4 } }))).toEqual(['added']);
  });
});

describe('oracle, stage 2 duplicates', () => {
  it('the second row for one account is DUPLICATE_IN_FILE and names the first', async () => {
    const { results } = await run([`add;1;${S1};${E1};1234,56;;;`, `remove;;;${E1};;;;`], state());
    expect(results.map((r) => r.outcome)).toEqual(['added', 'rejected']);
    expect(results[1]).toMatchObject({ codes: ['DUPLICATE_IN_FILE'], duplicateOf: 2 });
  });

  it('a row that failed stage 1 takes no key', async () => {
    expect(await outcomes([`add;1;${S1};${E1};1.234,56;;;`, `add;1;${S1};${E1};1234,56;;;`], state()))
      .toEqual(['rejected:AMOUNT_INVALID', 'added']);
  });

  it('a row that failed stage 3 still takes its key', async () => {
    expect(await outcomes([`add;1;${S1};${E1};1;;;`, `add;1;${S1};${E1};1234,56;;;`], state()))
      .toEqual(['rejected:AMOUNT_MISMATCH', 'rejected:DUPLICATE_IN_FILE']);
  });

  it('a remove by SIREN alone takes the key of the one client it names', async () => {
    expect(await outcomes([`remove;;${S1};;;;;`, `add;1;${S1};${E1};1234,56;;MESSAGERIE;`], state({ portfolio: [E1] })))
      .toEqual(['removed', 'rejected:DUPLICATE_IN_FILE']);
  });

  it('an unresolved SIREN is its own key', async () => {
    expect(await outcomes([`remove;;${S2};;;;;`, `remove;;${S2};;;;;`, `remove;;;${E2};;;;`], state({ portfolio: [E2, L3] })))
      .toEqual(['rejected:CLIENT_AMBIGUOUS', 'rejected:DUPLICATE_IN_FILE', 'removed']);
  });

  it('judges every row against the state at the start', async () => {
    // E2 is added by line 2, yet the remove by SIREN on line 3 still sees no client with S2.
    expect(await outcomes([`add;1;${S2};${E2};100;;;`, `remove;;${S2};;;;;`], state()))
      .toEqual(['added', 'unchanged:NOT_IN_PORTFOLIO']);
  });
});

describe('oracle, batches', () => {
  const FILE = [
    `add;1;${S1};${E1};1234,56;;ATTESTATIONS;`,
    `add;2;${S3};${I1};;${N1};;COURRIEL_ECHEANCES`,
    `add;1;${S2};${E2};99;;;`,
    `remove;;;${L3};;;;`,
    `add;1;${S3};${X1};10;;;`,
    `frobnicate;1;${S1};${E1};;;;`,
  ];

  it('a dry run computes the outcomes and leaves the portfolio as it was', async () => {
    const start = state({ portfolio: [L3] });
    const dry = await run(FILE, start, { dryRun: true });
    expect(dry.results.map((r) => r.outcome)).toEqual(['added', 'added', 'rejected', 'removed', 'rejected', 'rejected']);
    expect(dry.portfolio).toEqual(start.portfolio);
    expect([...start.portfolio.keys()]).toEqual([L3]);
  });

  it('re-applying the same file changes nothing: only unchanged or rejected rows', async () => {
    const start = state({ portfolio: [L3] });
    const first = await run(FILE, start);
    expect([...first.portfolio.keys()].sort()).toEqual([E1, I1].sort());
    const second = await run(FILE, nextOracleState(start, first));
    expect(second.results.map((r) => r.outcome)).toEqual(['unchanged', 'unchanged', 'rejected', 'unchanged', 'rejected', 'rejected']);
    expect(second.portfolio).toEqual(first.portfolio);
  });

  it('SPEC edge: a remove by SIREN before an add of that SIREN\'s only account acts on the re-application', async () => {
    // First pass: the remove sees an empty portfolio (NOT_IN_PORTFOLIO), the add adds E1. Second pass: the SIREN
    // now names E1, so the remove takes E1's key first and removes it, and the add is the duplicate.
    const rows = [`remove;;${S1};;;;;`, `add;1;${S1};${E1};1234,56;;;`];
    const first = await run(rows, state());
    expect(first.results.map((r) => r.outcome)).toEqual(['unchanged', 'added']);
    const second = await run(rows, nextOracleState(state(), first));
    expect(second.results.map((r) => r.outcome)).toEqual(['removed', 'rejected']);
  });

  it('a failed file judges no row and counts no failed proof', async () => {
    const result = await oracleForFile(new TextEncoder().encode('cas;siren\n1;123\n'), state(), { dryRun: false });
    expect(result.fileError).toEqual({ code: 'FILE_MISSING_COLUMN', line: null });
    expect(result.results).toEqual([]);
    const malformed = await oracleForFile(new TextEncoder().encode(`${HEADER}\nadd;"1;x\n`), state(), { dryRun: false });
    expect(malformed.fileError?.code).toBe('FILE_MALFORMED');
  });
});

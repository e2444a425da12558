import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parse } from 'csv-parse/sync';
import iconv from 'iconv-lite';
import { describe, expect, it } from 'vitest';
import { openImportFile } from '../../src/csv/read-import-file.ts';
import {
  BAD_ROW_KINDS, generateImportLines, generateImportRecords, generateRegistry, registryCsvLines, REGISTRY_HEADER,
  type RegistryAccount,
} from '../../src/demo/generate.ts';
import { DEFAULT_CATALOGUE } from '../../src/domain/types.ts';
import { checkRow } from '../../src/rows/check-row.ts';
import { emptyOracleState, runOracle } from '../oracle/oracle.ts';

/** Luhn written the other way round from the generator's: from the left, doubling where the length says. */
function luhnValid(digits: string): boolean {
  const parity = digits.length % 2;
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    const d = Number(digits[i]) * (i % 2 === parity ? 2 : 1);
    sum += Math.floor(d / 10) + (d % 10);
  }
  return sum % 10 === 0;
}

// sex, year, month, place (department + commune, Corsica, 96 + commune, 97x/98x + commune, 99 + country), order, key
const NIR_SHAPE = /^[123478]\d{2}(0[1-9]|1[0-2]|2\d|3\d|4[0-2]|[5-9]\d)((0[1-9]|[1-8]\d|9[0-6]|2[AB])\d{3}|9[7-9]\d{3})\d{3}\d{2}$/;

function nirValid(nir: string): boolean {
  const match = NIR_SHAPE.exec(nir);
  if (match === null || nir.slice(10, 13) === '000') return false;
  const numeric = BigInt(nir.slice(0, 13).replace('2A', '19').replace('2B', '18'));
  return 97n - (numeric % 97n) === BigInt(nir.slice(13));
}

async function readThrough(bytes: Uint8Array) {
  const { meta, records } = await openImportFile(async function* () { yield bytes; });
  const rows = [];
  for await (const record of records) rows.push({ line: record.line, checked: checkRow(meta.columns, record.cells, DEFAULT_CATALOGUE) });
  return { meta, rows };
}

const GENERATE_MODULE = fileURLToPath(new URL('../../src/demo/generate.ts', import.meta.url));
const REGISTRY = [...generateRegistry({ count: 20_000, seed: 42 })];

describe('generateRegistry', () => {
  it('is deterministic for a seed and differs between seeds', () => {
    const again = [...generateRegistry({ count: 20_000, seed: 42 })];
    expect(again).toEqual(REGISTRY);
    const other = [...generateRegistry({ count: 100, seed: 43 })];
    expect(other.map((a) => a.accountNumber)).not.toEqual(REGISTRY.slice(0, 100).map((a) => a.accountNumber));
    expect(REGISTRY).toHaveLength(20_000);
  });

  it('gives unique 18-digit account numbers and Luhn-valid SIRENs, shared by 2 or 3 accounts at times', () => {
    expect(new Set(REGISTRY.map((a) => a.accountNumber)).size).toBe(REGISTRY.length);
    const perSiren = new Map<string, number>();
    for (const a of REGISTRY) {
      expect(a.accountNumber).toMatch(/^\d{18}$/);
      if (a.kind === 'manager_without_siret') {
        expect(a.siren).toBeNull();
        continue;
      }
      expect(a.siren).toMatch(/^[1-9]\d{8}$/);
      expect(luhnValid(a.siren!), a.siren!).toBe(true);
      perSiren.set(a.siren!, (perSiren.get(a.siren!) ?? 0) + 1);
    }
    const sizes = [...perSiren.values()];
    expect(sizes.filter((n) => n === 2).length).toBeGreaterThan(50);
    expect(sizes.filter((n) => n === 3).length).toBeGreaterThan(10);
    expect(Math.max(...sizes)).toBe(3);
  });

  it('gives NIRs of the strict structure with a valid key to independents only, Corsica included', () => {
    for (const a of REGISTRY) {
      if (a.kind === 'independent') expect(nirValid(a.nir!), a.nir!).toBe(true);
      else expect(a.nir).toBeNull();
    }
    expect(REGISTRY.some((a) => a.nir?.slice(5, 7) === '2A')).toBe(true);
    expect(REGISTRY.some((a) => a.nir?.slice(5, 7) === '2B')).toBe(true);
  });

  it('gives reference amounts to non-independents, ~5% struck off, French names', () => {
    for (const a of REGISTRY) {
      if (a.kind === 'independent') expect(a.referenceAmountCents).toBeNull();
      else expect(Number.isSafeInteger(a.referenceAmountCents) && a.referenceAmountCents! >= 0).toBe(true);
    }
    const struckOff = REGISTRY.filter((a) => a.status === 'struck_off').length / REGISTRY.length;
    expect(struckOff).toBeGreaterThan(0.04);
    expect(struckOff).toBeLessThan(0.06);
    const names = REGISTRY.map((a) => a.name);
    expect(names.some((n) => /[éèêàçôîï]/i.test(n))).toBe(true);
    expect(names.some((n) => n.includes("'"))).toBe(true);
    expect(names.some((n) => n.includes('"'))).toBe(true);
    expect(names.some((n) => /^(SARL|SAS|EURL) /.test(n))).toBe(true);
  });

  it('writes a registry file that parses back to the same accounts', () => {
    const text = [...registryCsvLines(REGISTRY)].join('');
    expect(text.startsWith(REGISTRY_HEADER + '\n')).toBe(true);
    expect(text).not.toContain('\r');
    const rows: string[][] = parse(text, { delimiter: ';', from_line: 2 });
    expect(rows).toHaveLength(REGISTRY.length);
    rows.forEach(([accountNumber, kind, siren, nir, amount, status, name], i) => {
      const a: RegistryAccount = REGISTRY[i];
      expect({ accountNumber, kind, siren, nir, status, name }).toEqual({
        accountNumber: a.accountNumber, kind: a.kind, siren: a.siren ?? '', nir: a.nir ?? '', status: a.status, name: a.name,
      });
      expect(amount).toMatch(/^$|^\d{1,3}( \d{3})*,\d{2}$|^\d+,\d{2}$/);
      expect(amount === '' ? null : Number(amount.replace(/ /g, '').replace(',', '')))
        .toBe(a.referenceAmountCents);
    });
  });
});

describe('generateImportLines', () => {
  it('is deterministic for a seed', () => {
    const first = [...generateImportLines(REGISTRY, { rows: 2_000, seed: 7 })];
    expect([...generateImportLines(REGISTRY, { rows: 2_000, seed: 7 })]).toEqual(first);
    expect([...generateImportLines(REGISTRY, { rows: 2_000, seed: 8 })]).not.toEqual(first);
    expect(first).toHaveLength(2_001);
    expect(first[0]).toBe('action;cas;siren;siret;numero de compte;montant;nir;services en ligne;services courriel;raison sociale\n');
  });

  it('follows the mix roughly', () => {
    const counts = { add: 0, remove: 0, bad: 0 };
    for (const record of generateImportRecords(REGISTRY, { rows: 10_000, seed: 3 })) counts[record.kind]++;
    expect(counts.add / 10_000).toBeCloseTo(0.7, 1);
    expect(counts.remove / 10_000).toBeCloseTo(0.2, 1);
    expect(counts.bad / 10_000).toBeCloseTo(0.1, 1);
    const custom = { add: 0, remove: 0, bad: 0 };
    for (const record of generateImportRecords(REGISTRY, { rows: 5_000, seed: 3, mix: { add: 0.2, remove: 0.3, bad: 0.5 } })) custom[record.kind]++;
    expect(custom.bad / 5_000).toBeCloseTo(0.5, 1);
  });

  it('reads back: good rows pass stage 1 and every bad row gets the code it was built for', async () => {
    const records = [...generateImportRecords(REGISTRY, { rows: 6_000, seed: 11 })];
    const text = [...generateImportLines(REGISTRY, { rows: 6_000, seed: 11 })].join('');
    const { meta, rows } = await readThrough(new TextEncoder().encode(text));
    expect(meta.delimiter).toBe(';');
    expect(meta.columns).toEqual(['action', 'case', 'siren', 'siret', 'account_number', 'amount', 'nir', 'online_services', 'email_services', 'name']);
    expect(rows).toHaveLength(records.length);
    const { results } = runOracle(rows, emptyOracleState(REGISTRY), { dryRun: true });
    const seenBad = new Set<string>();
    records.forEach((record, i) => {
      const where = `line ${rows[i].line}: ${record.cells.join(';')} → ${results[i].codes.join(',')}`;
      if (record.kind === 'bad') {
        seenBad.add(record.bad!);
        expect(results[i].outcome, where).toBe('rejected');
        expect(results[i].codes, where).toContain(BAD_ROW_KINDS[record.bad!]);
      } else {
        expect(rows[i].checked.codes, where).toEqual([]);
        expect(rows[i].checked.action, where).toBe(record.kind);
        expect(results[i].codes.filter((c) => c !== 'NOT_IN_PORTFOLIO'), where).toEqual([]);
      }
    });
    expect([...seenBad].sort()).toEqual(Object.keys(BAD_ROW_KINDS).sort());
    expect(rows.some(({ checked }) => checked.action === 'remove' && checked.accountNumber === null)).toBe(true);
    expect(records.some((r) => r.kind === 'add' && r.cells[2] === '' && r.cells[3] !== '')).toBe(true);
  });

  it('tells which account each remove names, by account number or as the first account of its SIREN', async () => {
    const records = [...generateImportRecords(REGISTRY, { rows: 6_000, seed: 13 })];
    const { rows } = await readThrough(new TextEncoder().encode([...generateImportLines(REGISTRY, { rows: 6_000, seed: 13 })].join('')));
    let bySiren = 0;
    records.forEach((record, i) => {
      if (record.kind !== 'remove') return expect(record.account).toBeUndefined();
      const account = REGISTRY[record.account!];
      const { accountNumber, siren } = rows[i].checked;
      if (accountNumber !== null) return expect(accountNumber).toBe(account.accountNumber);
      bySiren++;
      expect(siren).toBe(account.siren);
      expect(REGISTRY.findIndex((a) => a.siren === siren)).toBe(record.account);
    });
    expect(bySiren).toBeGreaterThan(0);
  });

  it('reads back from Windows-1252 with the same names', async () => {
    const text = [...generateImportLines(REGISTRY, { rows: 500, seed: 5 })].join('');
    const { meta, rows } = await readThrough(iconv.encode(text, 'windows-1252'));
    expect(meta.encoding).toBe('windows-1252');
    const utf8 = await readThrough(new TextEncoder().encode(text));
    expect(rows.map((r) => r.checked.name)).toEqual(utf8.rows.map((r) => r.checked.name));
    expect(rows.some((r) => /[éèç]/.test(r.checked.name ?? ''))).toBe(true);
  });

  it('is lazy: the first lines of a billion-row file come at once', () => {
    const lines = generateImportLines(REGISTRY, { rows: 1_000_000_000, seed: 9 });
    const started = performance.now();
    for (let i = 0; i < 10; i++) lines.next();
    expect(performance.now() - started).toBeLessThan(1_000);
  });

  it('streams 400,000 rows (~40 MB of text) in a 48 MB heap', () => {
    const script = `
      const { generateRegistry, generateImportLines } = await import(${JSON.stringify(GENERATE_MODULE)});
      const registry = [...generateRegistry({ count: 2000, seed: 1 })];
      let rows = 0, chars = 0;
      for (const line of generateImportLines(registry, { rows: 400000, seed: 2 })) { rows++; chars += line.length; }
      console.log(JSON.stringify({ rows, chars }));`;
    const output = execFileSync(process.execPath, ['--max-old-space-size=48', '--import', 'tsx', '--input-type=module', '-e', script], {
      encoding: 'utf8',
      cwd: fileURLToPath(new URL('../..', import.meta.url)),
    });
    const { rows, chars } = JSON.parse(output.trim().split('\n').pop()!);
    expect(rows).toBe(400_001);
    expect(chars).toBeGreaterThan(35_000_000);
  }, 60_000);
});

import { describe, expect, it } from 'vitest';
import { DEFAULT_CATALOGUE, type Column, type RejectionCode } from '../../src/domain/types.ts';
import { checkRow } from '../../src/rows/check-row.ts';
import { validNir, validSiren, validSiret, wrongLastDigit } from '../identifiers/check-digits.ts';

const SIREN = validSiren('73282932');
const OTHER_SIREN = validSiren('44306184');
const SIRET = validSiret(SIREN, '0001');
const ACCOUNT = '117000000012345678';
const NIR = validNir('1850775056123');

const COLUMNS: Column[] = ['action', 'case', 'siren', 'siret', 'account_number', 'amount', 'nir', 'online_services', 'email_services', 'name'];

type Cells = Partial<Record<Column, string>>;

/** A row of the full header from the cells given, every other cell empty. */
function check(cells: Cells, columns: readonly (Column | null)[] = COLUMNS) {
  return checkRow(columns, columns.map((column) => (column === null ? 'ignored' : (cells[column] ?? ''))), DEFAULT_CATALOGUE);
}

const employer: Cells = { action: 'ajout', case: '1', siren: SIREN, account_number: ACCOUNT, amount: '1 234,56' };

describe('checkRow: rows that pass stage 1', () => {
  it('reads an employer add', () => {
    expect(check({ ...employer, online_services: 'DECLARER_PAYER|attestations', email_services: '', name: ' Boulangerie Hélène ' })).toEqual({
      action: 'add',
      clientCase: 'employer',
      siren: SIREN,
      siret: null,
      accountNumber: ACCOUNT,
      amountCents: 123456,
      nir: null,
      onlineServices: ['ATTESTATIONS', 'DECLARER_PAYER'],
      emailServices: [],
      name: 'Boulangerie Hélène',
      codes: [],
      message: '',
    });
  });

  it('reads an independent add by SIRET, with NIR and no amount', () => {
    const row = check({ action: 'Ajout', case: 'Indépendant', siret: SIRET, account_number: ACCOUNT, nir: NIR, amount: 'ignored' });
    expect(row).toMatchObject({ action: 'add', clientCase: 'independent', siren: SIREN, siret: SIRET, nir: NIR, amountCents: null, codes: [] });
  });

  it('reads a manager without SIRET, ignoring a SIREN it carries', () => {
    const row = check({ action: 'ajout', case: 'gérant', siren: 'not a siren', account_number: ACCOUNT, amount: '312,50' });
    expect(row).toMatchObject({ clientCase: 'manager_without_siret', siren: null, siret: null, amountCents: 31250, codes: [] });
  });

  it('reads a remove by account alone, ignoring amount, NIR and services', () => {
    const row = check({ action: 'suppression', account_number: ACCOUNT, amount: 'abc', nir: 'abc', online_services: 'NOPE' });
    expect(row).toMatchObject({ action: 'remove', clientCase: null, accountNumber: ACCOUNT, amountCents: null, nir: null, onlineServices: null, emailServices: null, codes: [] });
  });

  it('leaves services null when the file has no such column', () => {
    const columns: Column[] = ['action', 'case', 'siren', 'account_number', 'amount'];
    expect(check(employer, columns)).toMatchObject({ onlineServices: null, emailServices: null, codes: [] });
  });

  it('skips ignored columns', () => {
    const columns = ['action', null, 'case', 'siren', 'account_number', 'amount', null] as const;
    expect(check(employer, columns).codes).toEqual([]);
  });
});

describe('checkRow: keywords', () => {
  it.each([
    ['add', 'add'], ['AJOUT', 'add'], ['Ajouter', 'add'], [' inscrire ', 'add'], ['a', 'add'], ['+', 'add'], ["'+", 'add'],
    ['remove', 'remove'], ['Suppression', 'remove'], ['supprimer', 'remove'], ['Résilier', 'remove'], ['RESILIER', 'remove'], ['r', 'remove'], ['-', 'remove'], ["'-", 'remove'],
  ])('action %j → %s', (action, expected) => {
    expect(check({ ...employer, action }).action).toBe(expected);
  });

  it.each([
    ['1', 'employer'], ['employer', 'employer'], ['Employeur', 'employer'],
    ['2', 'independent'], ['indépendant', 'independent'], ['INDEPENDANT', 'independent'], ['Travailleur  indépendant', 'independent'], ['TI', 'independent'], ['independent', 'independent'],
    ['profession libérale réglementée', 'liberal_regulated'], ['PL Réglementée', 'liberal_regulated'], ['liberal_regulated', 'liberal_regulated'],
    ['gérant majoritaire', 'manager_without_siret'], ['Gérant majoritaire sans SIRET', 'manager_without_siret'], ['GERANT', 'manager_without_siret'], ['manager_without_siret', 'manager_without_siret'],
  ])('case %j → %s', (clientCase, expected) => {
    expect(check({ ...employer, case: clientCase }).clientCase).toBe(expected);
  });

  it('case 3 is liberal_regulated with a SIREN or SIRET, else manager_without_siret', () => {
    expect(check({ ...employer, case: '3' }).clientCase).toBe('liberal_regulated');
    expect(check({ ...employer, case: '3', siren: '', siret: SIRET }).clientCase).toBe('liberal_regulated');
    expect(check({ ...employer, case: '3', siren: '  ' })).toMatchObject({ clientCase: 'manager_without_siret', siren: null, codes: [] });
  });

  it('matches service codes ignoring case, accents and spaces, in either separator', () => {
    const row = check({ ...employer, online_services: ' déclarer_payer , Messagerie+consulter compte|', email_services: 'courriel_échéances|COURRIEL_ECHEANCES' });
    expect(row.onlineServices).toEqual(['CONSULTER_COMPTE', 'DECLARER_PAYER', 'MESSAGERIE']);
    expect(row.emailServices).toEqual(['COURRIEL_ECHEANCES']);
  });

  it('drops the formula guard on every cell', () => {
    const row = check({ ...employer, name: "'=SUM(A1)", account_number: `'-${ACCOUNT}` });
    expect(row).toMatchObject({ name: '=SUM(A1)', accountNumber: ACCOUNT, codes: [] });
    expect(check({ ...employer, name: "'Hello" }).name).toBe("'Hello");
  });
});

describe('checkRow: stage-1 codes', () => {
  const cases: [string, Cells, RejectionCode[]][] = [
    ['ACTION_INVALID alone (empty)', { ...employer, action: '', siren: '1' }, ['ACTION_INVALID']],
    ['ACTION_INVALID alone (unknown)', { ...employer, action: 'modifier', amount: 'x' }, ['ACTION_INVALID']],
    ['CASE_REQUIRED, no _REQUIRED code', { action: 'ajout' }, ['CASE_REQUIRED']],
    ['CASE_INVALID, no _REQUIRED code', { action: 'ajout', case: 'cas 9', siren: SIREN }, ['CASE_INVALID']],
    ['CASE_REQUIRED plus malformed values', { action: 'ajout', siren: '123', account_number: '1', amount: '-1', nir: 'x', online_services: 'FOO' }, ['CASE_REQUIRED', 'SIREN_INVALID', 'ACCOUNT_INVALID', 'AMOUNT_INVALID', 'NIR_INVALID', 'SERVICE_UNKNOWN']],
    ['CASE_INVALID plus SIREN/SIRET mismatch', { action: 'ajout', case: '9', siren: OTHER_SIREN, siret: SIRET, account_number: ACCOUNT }, ['CASE_INVALID', 'SIREN_SIRET_MISMATCH']],
    ['SIREN_REQUIRED', { ...employer, siren: '' }, ['SIREN_REQUIRED']],
    ['SIREN_INVALID', { ...employer, siren: '12345678' }, ['SIREN_INVALID']],
    ['SIREN_CHECKSUM', { ...employer, siren: wrongLastDigit(SIREN) }, ['SIREN_CHECKSUM']],
    ['SIRET_INVALID', { ...employer, siren: '', siret: '1234' }, ['SIRET_INVALID']],
    ['SIRET_CHECKSUM', { ...employer, siren: '', siret: wrongLastDigit(SIRET) }, ['SIRET_CHECKSUM']],
    ['SIREN_SIRET_MISMATCH', { ...employer, siret: validSiret(OTHER_SIREN, '0002') }, ['SIREN_SIRET_MISMATCH']],
    ['ACCOUNT_REQUIRED', { ...employer, account_number: ' ' }, ['ACCOUNT_REQUIRED']],
    ['ACCOUNT_INVALID', { ...employer, account_number: '1,17E+17' }, ['ACCOUNT_INVALID']],
    ['AMOUNT_REQUIRED (employer)', { ...employer, amount: '' }, ['AMOUNT_REQUIRED']],
    ['AMOUNT_REQUIRED (manager)', { action: 'ajout', case: 'gérant', account_number: ACCOUNT }, ['AMOUNT_REQUIRED']],
    ['AMOUNT_INVALID', { ...employer, amount: '1.234,56' }, ['AMOUNT_INVALID']],
    ['NIR_REQUIRED', { action: 'ajout', case: '2', siren: SIREN, account_number: ACCOUNT }, ['NIR_REQUIRED']],
    ['NIR_INVALID', { action: 'ajout', case: '2', siren: SIREN, account_number: ACCOUNT, nir: '185' }, ['NIR_INVALID']],
    ['NIR_CHECKSUM', { action: 'ajout', case: '2', siren: SIREN, account_number: ACCOUNT, nir: wrongLastDigit(NIR) }, ['NIR_CHECKSUM']],
    ['SERVICE_UNKNOWN (online)', { ...employer, online_services: 'DECLARER_PAYER|PAYER_TOUT' }, ['SERVICE_UNKNOWN']],
    ['SERVICE_UNKNOWN (online code in e-mail column)', { ...employer, email_services: 'DECLARER_PAYER' }, ['SERVICE_UNKNOWN']],
    ['every add code at once, in SPEC order', { action: 'ajout', case: '2', siren: '1', account_number: '', nir: '', online_services: 'X' }, ['SIREN_INVALID', 'ACCOUNT_REQUIRED', 'NIR_REQUIRED', 'SERVICE_UNKNOWN']],
    ['KEY_REQUIRED', { action: 'suppression', name: 'Boulangerie' }, ['KEY_REQUIRED']],
    ['remove with unknown case', { action: 'suppression', case: 'client', account_number: ACCOUNT }, ['CASE_INVALID']],
    ['remove with unknown case and no key', { action: 'r', case: 'x' }, ['CASE_INVALID', 'KEY_REQUIRED']],
    ['remove format codes', { action: 'r', siren: wrongLastDigit(SIREN), siret: '12', account_number: '12' }, ['SIREN_CHECKSUM', 'SIRET_INVALID', 'ACCOUNT_INVALID']],
    ['remove SIREN/SIRET mismatch', { action: 'r', siren: OTHER_SIREN, siret: SIRET }, ['SIREN_SIRET_MISMATCH']],
    ['remove of a manager by SIREN alone: the SIREN is ignored', { action: 'r', case: 'gérant', siren: SIREN }, ['KEY_REQUIRED']],
  ];
  it.each(cases)('%s', (_label, cells, codes) => {
    expect(check(cells).codes).toEqual(codes);
  });

  it('ROW_MALFORMED alone when the row has more or fewer cells than the header', () => {
    for (const cells of [['ajout', '1'], [...COLUMNS.map(() => ''), 'extra']]) {
      expect(checkRow(COLUMNS, cells, DEFAULT_CATALOGUE)).toEqual({
        action: null, clientCase: null, siren: null, siret: null, accountNumber: null, amountCents: null, nir: null,
        onlineServices: null, emailServices: null, name: null, codes: ['ROW_MALFORMED'],
        message: 'Ligne mal formée : elle n’a pas le même nombre de champs que l’en-tête',
      });
    }
  });

  it('keeps the well-formed identifiers of an ACTION_INVALID row for display', () => {
    expect(check({ ...employer, action: '?' })).toMatchObject({ action: null, clientCase: 'employer', siren: SIREN, accountNumber: ACCOUNT, amountCents: null });
  });
});

describe('checkRow: messages', () => {
  it('gives the lost-zero hint of an 8-digit SIREN', () => {
    expect(check({ ...employer, siren: SIREN.slice(1) }).message).toBe('SIREN invalide : 9 chiffres attendus (zéro initial perdu ?)');
  });

  it('joins the messages of every code with " ; "', () => {
    const row = check({ ...employer, siren: wrongLastDigit(SIREN), amount: '' });
    expect(row.message).toBe(
      'SIREN invalide : la clé de contrôle ne correspond pas ; Montant manquant : indiquez le montant à payer de la dernière déclaration (employeur) ou de la première échéance de l’année',
    );
  });

  it('names the unknown service codes', () => {
    expect(check({ ...employer, online_services: 'PAYER_TOUT', email_services: 'DECLARER_PAYER' }).message).toBe(
      'Service inconnu : « PAYER_TOUT » (services en ligne), « DECLARER_PAYER » (services courriel)',
    );
  });

  it('explains Excel scientific notation', () => {
    expect(check({ ...employer, account_number: '1,17E+17' }).message).toContain('notation scientifique');
  });
});

describe('checkRow: catalogue', () => {
  it('uses the catalogue given, so an operator can add codes', () => {
    const catalogue = { online: new Set([...DEFAULT_CATALOGUE.online, 'PAIEMENT_CB']), email: DEFAULT_CATALOGUE.email };
    const row = checkRow(COLUMNS, COLUMNS.map((c) => (c === 'online_services' ? 'paiement cb' : (employer[c] ?? ''))), catalogue);
    expect(row).toMatchObject({ onlineServices: ['PAIEMENT_CB'], codes: [] });
    expect(check({ ...employer, online_services: 'PAIEMENT_CB' }).codes).toEqual(['SERVICE_UNKNOWN']);
  });

  it('returns service arrays the caller may change', () => {
    const first = check({ ...employer, online_services: 'MESSAGERIE' });
    first.onlineServices?.push('X');
    expect(check({ ...employer, online_services: 'MESSAGERIE' }).onlineServices).toEqual(['MESSAGERIE']);
  });
});

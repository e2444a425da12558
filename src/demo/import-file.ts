/**
 * Synthetic import files (SPEC §2) over a generated registry: good adds and removes in the many spellings French
 * users write, and bad rows of every kind, each tagged so that tests know what the row was meant to be.
 *
 * Rows that pass format checks take their account from a permutation of the registry, so no two of them name the
 * same client until the registry is used up (a file with more such rows than registry accounts then repeats
 * clients, i.e. gets natural in-file duplicates). Rows meant to fail format checks borrow any account.
 */
import { DEFAULT_CATALOGUE, type ClientCase, type RejectionCode } from '../domain/types.ts';
import {
  csvCell, formatFrenchAmount, generateNir, generateSiren, siretOf, UNKNOWN_ACCOUNT_PREFIX, type AmountStyle,
  type RegistryAccount,
} from './registry.ts';
import { createRandom, padDigits, type Random } from './random.ts';

export const IMPORT_HEADER = [
  'action', 'cas', 'siren', 'siret', 'numero de compte', 'montant', 'nir', 'services en ligne', 'services courriel',
  'raison sociale',
] as const;
const ACTION = 0, CASE = 1, SIREN = 2, SIRET = 3, ACCOUNT = 4, AMOUNT = 5, NIR = 6, ONLINE = 7, EMAIL = 8, NAME = 9;

export interface ImportMix { add: number; remove: number; bad: number }
export const DEFAULT_IMPORT_MIX: ImportMix = { add: 0.7, remove: 0.2, bad: 0.1 };

export type ImportRowKind = 'add' | 'remove' | 'bad';

/** Each kind of bad row and the code it is built to get (with an empty portfolio and no earlier failed proof). */
export const BAD_ROW_KINDS = {
  siren_checksum: 'SIREN_CHECKSUM',
  siren_8_digits: 'SIREN_INVALID',
  scientific_notation: 'ACCOUNT_INVALID',
  amount_invalid: 'AMOUNT_INVALID',
  nir_checksum: 'NIR_CHECKSUM',
  service_unknown: 'SERVICE_UNKNOWN',
  case_empty: 'CASE_REQUIRED',
  action_invalid: 'ACTION_INVALID',
  field_count: 'ROW_MALFORMED',
  duplicate: 'DUPLICATE_IN_FILE',
  account_unknown: 'ACCOUNT_UNKNOWN',
  case_mismatch: 'CASE_MISMATCH',
  amount_mismatch: 'AMOUNT_MISMATCH',
  nir_mismatch: 'NIR_MISMATCH',
  struck_off: 'ACCOUNT_STRUCK_OFF',
} as const satisfies Record<string, RejectionCode>;
export type BadRowKind = keyof typeof BAD_ROW_KINDS;
const BAD_KIND_LIST = Object.keys(BAD_ROW_KINDS) as BadRowKind[];

export interface ImportRecord {
  kind: ImportRowKind;
  bad: BadRowKind | null;
  cells: string[];
  /** For a remove: the registry index of the account it names (by account number, or as the first of its SIREN). */
  account?: number;
}

const ADD_ACTIONS = ['add', 'add', 'ajout', 'Ajouter', 'inscrire', 'AJOUT', 'a'];
const REMOVE_ACTIONS = ['remove', 'remove', 'suppression', 'Supprimer', 'résilier', 'resilier', 'r', '-'];
const BAD_ACTIONS = ['', 'modifier', 'ajout client', 'x', 'mettre à jour'];
const CASE_LABELS: Record<ClientCase, readonly string[]> = {
  employer: ['employer', '1', 'employeur', 'Employeur'],
  independent: ['independent', '2', 'indépendant', 'Travailleur indépendant', 'TI'],
  liberal_regulated: ['liberal_regulated', '3', 'profession libérale réglementée', 'PL réglementée'],
  manager_without_siret: ['manager_without_siret', '3', 'gérant majoritaire', 'Gérant majoritaire sans SIRET', 'gérant'],
};
const BAD_AMOUNTS = ['1.234,56', '1,234.56', '12,345', '1234,', ',50', '1 23,45', '-12,00', '12,345 €'];
const SERVICE_SEPARATORS = ['|', '|', ',', '+'];
const ONLINE_CODES = [...DEFAULT_CATALOGUE.online];
const EMAIL_CODES = [...DEFAULT_CATALOGUE.email];

/**
 * The import file as lines, header first, each ending with its LF. The text is the same whatever the file's
 * encoding (every character is in Windows-1252): encoding is the writer's business, `encoding` is accepted for
 * symmetry with the CLI.
 */
export function* generateImportLines(
  registry: readonly RegistryAccount[],
  opts: { rows: number; seed: number; mix?: ImportMix; encoding?: 'utf-8' },
): Generator<string> {
  yield IMPORT_HEADER.join(';') + '\n';
  for (const record of generateImportRecords(registry, opts)) yield importLine(record.cells);
}

/** A generated record's cells as a line of the import file, ending with its LF. */
export function importLine(cells: readonly string[]): string {
  // Only the name is free text: every other cell is built here from digits, codes and fixed spellings, none of
  // which holds `;`, `"` or a line break. Quoting one cell instead of ten halves the cost of a line.
  if (cells.length > NAME && csvCell(cells[NAME]) !== cells[NAME]) {
    const quoted = [...cells];
    quoted[NAME] = csvCell(cells[NAME]);
    return quoted.join(';') + '\n';
  }
  return cells.join(';') + '\n';
}

export function* generateImportRecords(
  registry: readonly RegistryAccount[],
  opts: { rows: number; seed: number; mix?: ImportMix },
): Generator<ImportRecord> {
  if (registry.length === 0) throw new Error('generateImportRecords needs a non-empty registry');
  const random = createRandom(opts.seed);
  const mix = opts.mix ?? DEFAULT_IMPORT_MIX;
  const total = mix.add + mix.remove + mix.bad;
  const source = accountSource(registry, random);
  const recentGood: string[][] = [];
  for (let i = 0; i < opts.rows; i++) {
    const roll = random.next() * total;
    let record: ImportRecord | null = null;
    if (roll < mix.add) {
      const account = source.active((a) => a.status === 'active');
      if (account !== null) record = { kind: 'add', bad: null, cells: addRow(account, random) };
    } else if (roll >= mix.add + mix.remove) {
      const bad = random.pick(BAD_KIND_LIST);
      const cells = badRow(bad, registry, source, random, recentGood);
      if (cells !== null) record = { kind: 'bad', bad, cells };
    }
    // A remove is also the fallback when the registry has no account fit for the row drawn.
    if (record === null) {
      const fromStruckOff = random.chance(0.1);
      const index = fromStruckOff ? source.struckOffIndex() : -1;
      const chosen = index >= 0 ? index : source.activeIndex();
      const account = chosen >= 0 ? chosen : source.anyIndex();
      record = { kind: 'remove', bad: null, cells: removeRow(registry, account, random), account };
    }
    if (record.kind !== 'bad') rememberGoodRow(recentGood, record.cells, random);
    yield record;
  }
}

interface AccountSource {
  /** An unused active account that `accept`s, or null when none is found. */
  active(accept?: (account: RegistryAccount) => boolean): RegistryAccount | null;
  activeIndex(): number;
  struckOffIndex(): number;
  /** Any account, used or not: for rows that fail format checks, which take no client key. */
  anyIndex(): number;
}

function accountSource(registry: readonly RegistryAccount[], random: Random): AccountSource {
  const active: number[] = [];
  const struckOff: number[] = [];
  registry.forEach((account, index) => (account.status === 'active' ? active : struckOff).push(index));
  const activeCursor = permutationCursor(Int32Array.from(active), registry, random);
  const struckOffCursor = permutationCursor(Int32Array.from(struckOff), registry, random);
  return {
    active: (accept) => {
      const index = activeCursor(accept);
      return index < 0 ? null : registry[index];
    },
    activeIndex: () => activeCursor(),
    struckOffIndex: () => struckOffCursor(),
    anyIndex: () => random.int(0, registry.length - 1),
  };
}

/**
 * Walks `indices` in a seeded order, each once per cycle. An account passed over by a picky caller is set aside for
 * the next caller instead of being lost, so a cycle really uses every account once.
 */
function permutationCursor(indices: Int32Array, registry: readonly RegistryAccount[], random: Random) {
  const size = indices.length;
  const stride = coprimeStride(size);
  let position = size > 0 ? random.int(0, size - 1) : 0;
  const setAside: number[] = [];
  return (accept: (account: RegistryAccount) => boolean = () => true): number => {
    if (size === 0) return -1;
    for (let i = 0; i < setAside.length; i++) {
      if (accept(registry[setAside[i]])) return setAside.splice(i, 1)[0];
    }
    for (let tries = 0; tries < 1000; tries++) {
      const index = indices[position];
      position = (position + stride) % size;
      if (accept(registry[index])) return index;
      if (setAside.length < 4096) setAside.push(index);
    }
    return -1;
  };
}

function coprimeStride(size: number): number {
  if (size <= 1) return 1;
  let stride = Math.max(1, Math.floor(size * 0.6180339887));
  while (gcd(stride, size) !== 1) stride++;
  return stride;
}

function gcd(a: number, b: number): number {
  return b === 0 ? a : gcd(b, a % b);
}

function rememberGoodRow(recent: string[][], cells: string[], random: Random): void {
  if (recent.length < 64) recent.push(cells);
  else recent[random.int(0, 63)] = cells;
}

function addRow(account: RegistryAccount, random: Random): string[] {
  const cells = new Array<string>(IMPORT_HEADER.length).fill('');
  cells[ACTION] = random.pick(ADD_ACTIONS);
  if (account.siren !== null) placeSiren(cells, account.siren, random);
  cells[CASE] = caseLabel(account.kind, cells, random);
  cells[ACCOUNT] = account.accountNumber;
  if (account.nir !== null) cells[NIR] = formatNir(account.nir, random);
  if (account.referenceAmountCents !== null) cells[AMOUNT] = formatFrenchAmount(account.referenceAmountCents, amountStyle(random));
  cells[ONLINE] = serviceList(ONLINE_CODES, random);
  cells[EMAIL] = serviceList(EMAIL_CODES, random);
  cells[NAME] = account.name;
  return cells;
}

function removeRow(registry: readonly RegistryAccount[], index: number, random: Random): string[] {
  const account = registry[index];
  const cells = new Array<string>(IMPORT_HEADER.length).fill('');
  cells[ACTION] = random.pick(REMOVE_ACTIONS);
  // By SIREN alone only for the first account of a SIREN group (generated groups are adjacent), so that two removes
  // of one file never name the same SIREN before the registry is used up.
  const firstOfSiren = account.siren !== null && (index === 0 || registry[index - 1].siren !== account.siren);
  if (firstOfSiren && random.chance(0.2)) {
    placeSiren(cells, account.siren!, random);
  } else {
    cells[ACCOUNT] = account.accountNumber;
    if (account.siren !== null && random.chance(0.2)) placeSiren(cells, account.siren, random);
  }
  if (random.chance(0.3)) cells[CASE] = caseLabel(account.kind, cells, random);
  if (random.chance(0.5)) cells[NAME] = account.name;
  return cells;
}

function badRow(
  kind: BadRowKind,
  registry: readonly RegistryAccount[],
  source: AccountSource,
  random: Random,
  recentGood: readonly string[][],
): string[] | null {
  // Rows that fail format checks take no client key, so they may borrow any account, used or not.
  const borrow = (accept: (account: RegistryAccount) => boolean): RegistryAccount | null => {
    for (let tries = 0; tries < 200; tries++) {
      const account = registry[source.anyIndex()];
      if (accept(account)) return account;
    }
    return null;
  };
  const withRow = (account: RegistryAccount | null, spoil: (cells: string[], account: RegistryAccount) => void) => {
    if (account === null) return null;
    const cells = addRow(account, random);
    spoil(cells, account);
    return cells;
  };
  switch (kind) {
    case 'siren_checksum':
      return withRow(borrow(hasSiren), (cells, a) => {
        cells[SIREN] = a.siren!.slice(0, 8) + String((Number(a.siren![8]) + 1) % 10);
        cells[SIRET] = '';
      });
    case 'siren_8_digits':
      return withRow(borrow(hasSiren), (cells, a) => {
        cells[SIREN] = a.siren!.slice(1);
        cells[SIRET] = '';
      });
    case 'scientific_notation':
      return withRow(borrow(any), (cells, a) => {
        cells[ACCOUNT] = `${a.accountNumber[0]},${a.accountNumber.slice(1, 3)}E+17`;
      });
    case 'amount_invalid':
      return withRow(borrow(needsAmount), (cells) => {
        cells[AMOUNT] = random.pick(BAD_AMOUNTS);
      });
    case 'nir_checksum':
      return withRow(borrow(isIndependent), (cells, a) => {
        cells[NIR] = a.nir!.slice(0, 13) + padDigits((Number(a.nir!.slice(13)) % 97) + 1, 2);
      });
    case 'service_unknown':
      return withRow(borrow(any), (cells) => {
        // An online code in the e-mail column is unknown there too.
        if (random.chance(0.5)) cells[EMAIL] = random.pick(['ATTESTATIONS', 'COURRIEL_ECHEANCES|FACTURES']);
        else cells[ONLINE] = random.pick(['DECLARER', 'DECLARER_PAYER|PAYER_EN_LIGNE']);
      });
    case 'case_empty':
      return withRow(borrow(any), (cells) => {
        cells[CASE] = '';
      });
    case 'action_invalid':
      return withRow(borrow(any), (cells) => {
        cells[ACTION] = random.pick(BAD_ACTIONS);
      });
    case 'field_count':
      return withRow(borrow(any), (cells) => {
        if (random.chance(0.5)) cells.pop();
        else cells.push('en trop');
      });
    case 'duplicate':
      return recentGood.length === 0 ? null : [...random.pick(recentGood)];
    case 'account_unknown':
      return withRow(borrow(isActive), (cells) => {
        cells[ACCOUNT] = UNKNOWN_ACCOUNT_PREFIX + random.digits(15);
      });
    case 'case_mismatch':
      return withRow(source.active(), (cells, a) => claimOtherCase(cells, a, random));
    case 'amount_mismatch':
      return withRow(source.active(needsAmount), (cells, a) => {
        const reference = a.referenceAmountCents!;
        const delta = random.int(1, 50_000);
        cells[AMOUNT] = formatFrenchAmount(reference > delta && random.chance(0.5) ? reference - delta : reference + delta, amountStyle(random));
      });
    case 'nir_mismatch':
      return withRow(source.active(isIndependent), (cells, a) => {
        let other = generateNir(random);
        while (other === a.nir) other = generateNir(random);
        cells[NIR] = other;
      });
    case 'struck_off': {
      const index = source.struckOffIndex();
      return index < 0 ? null : addRow(registry[index], random);
    }
  }
}

const any = (): boolean => true;
const hasSiren = (account: RegistryAccount): boolean => account.siren !== null;
const isActive = (account: RegistryAccount): boolean => account.status === 'active';
const isIndependent = (account: RegistryAccount): boolean => account.kind === 'independent';
const needsAmount = (account: RegistryAccount): boolean => account.kind !== 'independent';

/** Turns a correct add into one that claims another case, with the proof that case asks for. */
function claimOtherCase(cells: string[], account: RegistryAccount, random: Random): void {
  const others = (['employer', 'independent', 'liberal_regulated'] as const).filter((kind) => kind !== account.kind);
  const claimed = random.pick(others);
  if (cells[SIREN] === '' && cells[SIRET] === '') cells[SIREN] = generateSiren(random);
  if (claimed === 'independent') {
    cells[NIR] = account.nir ?? generateNir(random);
    cells[AMOUNT] = '';
  } else {
    cells[AMOUNT] = formatFrenchAmount(account.referenceAmountCents ?? random.int(1_000, 3_000_000), amountStyle(random));
    cells[NIR] = '';
  }
  cells[CASE] = caseLabel(claimed, cells, random);
}

function placeSiren(cells: string[], siren: string, random: Random): void {
  const roll = random.next();
  if (roll < 0.1) {
    cells[SIRET] = siretOf(siren, random);
  } else if (roll < 0.13) {
    cells[SIREN] = siren;
    cells[SIRET] = siretOf(siren, random);
  } else {
    cells[SIREN] = random.chance(0.05) ? `${siren.slice(0, 3)} ${siren.slice(3, 6)} ${siren.slice(6)}` : siren;
  }
}

/** A spelling of the case; `3` only where it reads as meant (liberal_regulated with a SIREN, manager without). */
function caseLabel(kind: ClientCase, cells: readonly string[], random: Random): string {
  const hasSiren = cells[SIREN] !== '' || cells[SIRET] !== '';
  const threeMeans = hasSiren ? 'liberal_regulated' : 'manager_without_siret';
  const labels = CASE_LABELS[kind].filter((label) => label !== '3' || kind === threeMeans);
  return random.pick(labels);
}

function amountStyle(random: Random): AmountStyle {
  const roll = random.next();
  if (roll < 0.45) return 'plain';
  if (roll < 0.8) return 'grouped';
  return random.pick(['nbsp', 'dot', 'euro', 'integer'] as const);
}

function formatNir(nir: string, random: Random): string {
  const roll = random.next();
  if (roll < 0.15) return `${nir[0]} ${nir.slice(1, 3)} ${nir.slice(3, 5)} ${nir.slice(5, 7)} ${nir.slice(7, 10)} ${nir.slice(10, 13)} ${nir.slice(13)}`;
  if (roll < 0.2) return nir.toLowerCase();
  return nir;
}

function serviceList(codes: readonly string[], random: Random): string {
  if (random.chance(0.3)) return '';
  const count = random.int(1, Math.min(3, codes.length));
  const separator = random.pick(SERVICE_SEPARATORS);
  let list = '';
  for (let i = 0, used = 0; i < count; i++) {
    let j = random.int(0, codes.length - 1);
    while ((used & (1 << j)) !== 0) j = random.int(0, codes.length - 1);
    used |= 1 << j;
    list += i === 0 ? codes[j] : separator + codes[j];
  }
  return random.chance(0.05) ? list.toLowerCase() : list;
}


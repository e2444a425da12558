/**
 * The synthetic registry (référentiel): valid accounts only, and the registry file of SPEC §6.
 */
import type { ClientCase } from '../domain/types.ts';
import type { AccountInput } from '../registry/account.repository.ts';
import { luhnCheckDigit, nirKey } from './check-digits.ts';
import { companyName, personName } from './names.ts';
import { createRandom, padDigits, type Random } from './random.ts';

/** A registry account as the registry file describes it (the NIR in clear, as a registry import reads it). */
export type RegistryAccount = AccountInput;

export const REGISTRY_HEADER = 'account_number;kind;siren;nir;reference_amount;status;name';

/** Urssaf organisation codes that start a registry account number. */
const ORGANISATION_CODES = ['117', '217', '267', '537', '727', '827', '917'] as const;
/** No registry account starts with it: a sure way to write an unknown account. */
export const UNKNOWN_ACCOUNT_PREFIX = '999';

const LA_POSTE_SIREN_BODY = '35600000';
// SIREN bodies are 8 digits from 10000000: no leading zero, so no generated SIREN looks like Excel's damage.
const SIREN_BODY_SPACE = 90_000_000;
// Prime and coprime to 2, 3 and 5, hence to SIREN_BODY_SPACE: company index → SIREN body is a bijection.
const SIREN_STRIDE = 27_182_819;

export function* generateRegistry(opts: { count: number; seed: number }): Generator<RegistryAccount> {
  const random = createRandom(opts.seed);
  const nextSiren = sirenSequence(random.int(0, SIREN_BODY_SPACE - 1));
  let sequence = random.int(10_000_000_000_000, 50_000_000_000_000);
  let emitted = 0;
  const account = (kind: ClientCase, siren: string | null, name: string): RegistryAccount => {
    sequence += random.int(1, 60);
    return {
      accountNumber: random.pick(ORGANISATION_CODES) + padDigits(sequence, 15),
      kind,
      siren,
      nir: kind === 'independent' ? generateNir(random) : null,
      referenceAmountCents: kind === 'independent' ? null : referenceAmount(random),
      status: random.chance(0.05) ? 'struck_off' : 'active',
      name,
    };
  };
  while (emitted < opts.count) {
    const kind = pickKind(random);
    if (kind === 'manager_without_siret') {
      yield account(kind, null, personName(random));
      emitted++;
      continue;
    }
    // A SIREN shared by 2 or 3 accounts (an artisan who also employs staff, a firm with several establishments)
    // is what makes a remove by SIREN alone ambiguous.
    const siren = nextSiren();
    const name = kind === 'independent' ? personName(random) : companyName(random);
    const size = Math.min(opts.count - emitted, random.chance(0.05) ? (random.chance(0.3) ? 3 : 2) : 1);
    for (let i = 0; i < size; i++) {
      yield account(i === 0 || kind !== 'independent' ? kind : 'employer', siren, name);
      emitted++;
    }
  }
}

function sirenSequence(offset: number): () => string {
  let company = 0;
  return () => {
    for (;;) {
      const body = String(10_000_000 + ((company++ * SIREN_STRIDE + offset) % SIREN_BODY_SPACE));
      if (body !== LA_POSTE_SIREN_BODY) return body + luhnCheckDigit(body);
    }
  };
}

function pickKind(random: Random): ClientCase {
  const roll = random.next();
  if (roll < 0.45) return 'employer';
  if (roll < 0.75) return 'independent';
  if (roll < 0.9) return 'liberal_regulated';
  return 'manager_without_siret';
}

function referenceAmount(random: Random): number {
  if (random.chance(0.1)) return random.int(0, 30_000) * 100;
  return random.int(1_000, 3_000_000);
}

export function generateSiren(random: Random): string {
  const body = String(random.int(10_000_000, 99_999_999));
  return body === LA_POSTE_SIREN_BODY ? generateSiren(random) : body + luhnCheckDigit(body);
}

/** A SIRET of that SIREN: a 4-digit establishment number and the Luhn digit over all 14. */
export function siretOf(siren: string, random: Random): string {
  const body = siren + padDigits(random.int(1, 9999), 4);
  return body + luhnCheckDigit(body);
}

/** A NIR of the strict structure of SPEC §2, with a valid key. */
export function generateNir(random: Random): string {
  const roll = random.next();
  const sex = roll < 0.01 ? random.pick(['3', '4', '7', '8']) : random.pick(['1', '2']);
  const year = padDigits(random.int(0, 99), 2);
  const month = random.chance(0.02) ? padDigits(random.pick([random.int(20, 42), random.int(50, 99)]), 2)
    : padDigits(random.int(1, 12), 2);
  const first13 = sex + year + month + birthPlace(random) + padDigits(random.int(1, 999), 3);
  return first13 + nirKey(first13);
}

/** Five characters: department + commune, Corsica, overseas (97x/98x + 2 digits) or abroad (99 + country). */
function birthPlace(random: Random): string {
  const roll = random.next();
  if (roll < 0.04) return random.pick(['2A', '2B']) + padDigits(random.int(1, 366), 3);
  if (roll < 0.08) return random.pick(['971', '972', '973', '974', '976', '987', '988']) + padDigits(random.int(1, 99), 2);
  if (roll < 0.15) return '99' + padDigits(random.int(100, 999), 3);
  let department = random.int(1, 95);
  if (department === 20) department = 21; // Corsica is written 2A/2B
  return padDigits(department, 2) + padDigits(random.int(1, 999), 3);
}

export type AmountStyle = 'plain' | 'grouped' | 'nbsp' | 'dot' | 'euro' | 'integer';

/** A §2 amount: `1234,56`, `1 234,56`, `1 234,56` (NBSP), `1234.56`, `1 234,56 €`, or `1234` for whole euros. */
export function formatFrenchAmount(cents: number, style: AmountStyle = 'plain'): string {
  const euros = String(Math.floor(cents / 100));
  const fraction = padDigits(cents % 100, 2);
  switch (style) {
    case 'plain': return `${euros},${fraction}`;
    case 'grouped': return `${groupThousands(euros, ' ')},${fraction}`;
    case 'nbsp': return `${groupThousands(euros, '\u00a0')},${fraction}`;
    case 'dot': return `${euros}.${fraction}`;
    case 'euro': return `${groupThousands(euros, ' ')},${fraction} €`;
    case 'integer': return cents % 100 === 0 ? euros : `${euros},${fraction}`;
  }
}

function groupThousands(digits: string, separator: string): string {
  const head = digits.length % 3 || 3;
  let out = digits.slice(0, head);
  for (let i = head; i < digits.length; i += 3) out += separator + digits.slice(i, i + 3);
  return out;
}

/** A CSV cell for a `;` file: quoted when it holds the delimiter, a quote or a line break. */
export function csvCell(value: string): string {
  const quote = value.includes(';') || value.includes('"') || value.includes('\n') || value.includes('\r');
  return quote ? `"${value.replace(/"/g, '""')}"` : value;
}

/** The registry file of SPEC §6, one string per line, each ending with its LF. */
export function* registryCsvLines(accounts: Iterable<RegistryAccount>): Generator<string> {
  yield REGISTRY_HEADER + '\n';
  for (const account of accounts) {
    const amount = account.referenceAmountCents === null ? ''
      : formatFrenchAmount(account.referenceAmountCents, account.referenceAmountCents % 2 === 0 ? 'grouped' : 'plain');
    yield [
      account.accountNumber, account.kind, account.siren ?? '', account.nir ?? '', amount, account.status,
      csvCell(account.name),
    ].join(';') + '\n';
  }
}

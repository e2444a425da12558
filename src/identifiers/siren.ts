import { isLuhnValid } from './luhn.ts';
import { identifierHint, isAllDigits, normalizeIdentifier } from './normalize.ts';

export type SirenCheck =
  | { ok: true; value: string }
  | { ok: false; code: 'SIREN_INVALID' | 'SIREN_CHECKSUM'; hint?: string };

const EIGHT_DIGITS = [8];

/** SPEC §2: 9 digits (never `000000000`), Luhn-valid. */
export function checkSiren(raw: string): SirenCheck {
  const value = normalizeIdentifier(raw);
  if (value.length !== 9 || !isAllDigits(value) || value === '000000000') {
    const hint = identifierHint(raw, value, EIGHT_DIGITS);
    return hint === undefined ? { ok: false, code: 'SIREN_INVALID' } : { ok: false, code: 'SIREN_INVALID', hint };
  }
  if (!isLuhnValid(value)) return { ok: false, code: 'SIREN_CHECKSUM' };
  return { ok: true, value };
}

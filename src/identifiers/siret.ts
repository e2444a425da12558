import { isLuhnValid } from './luhn.ts';
import { identifierHint, isAllDigits, normalizeIdentifier } from './normalize.ts';

export type SiretCheck =
  | { ok: true; value: string; siren: string }
  | { ok: false; code: 'SIRET_INVALID' | 'SIRET_CHECKSUM'; hint?: string };

/** La Poste's establishments share one SIREN and do not follow Luhn; their head office does. */
const LA_POSTE_SIREN = '356000000';
const LA_POSTE_HEAD_OFFICE = '35600000000048';
const LOST_ZERO_LENGTHS = [8, 13];

/**
 * SPEC §2: 14 digits; Luhn over the 14 digits and a Luhn-valid SIREN in the first 9 —
 * except La Poste, where the digit sum being a multiple of 5 alone decides.
 */
export function checkSiret(raw: string): SiretCheck {
  const value = normalizeIdentifier(raw);
  if (value.length !== 14 || !isAllDigits(value) || value.startsWith('000000000')) {
    const hint = identifierHint(raw, value, LOST_ZERO_LENGTHS);
    return hint === undefined ? { ok: false, code: 'SIRET_INVALID' } : { ok: false, code: 'SIRET_INVALID', hint };
  }
  const valid =
    value.startsWith(LA_POSTE_SIREN) && value !== LA_POSTE_HEAD_OFFICE
      ? digitSum(value) % 5 === 0
      : isLuhnValid(value) && isLuhnValid(value, 9);
  if (!valid) return { ok: false, code: 'SIRET_CHECKSUM' };
  return { ok: true, value, siren: value.slice(0, 9) };
}

function digitSum(digits: string): number {
  let sum = 0;
  for (let i = 0; i < digits.length; i++) sum += digits.charCodeAt(i) - 48;
  return sum;
}

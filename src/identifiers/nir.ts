import { identifierHint, normalizeIdentifier } from './normalize.ts';

export type NirCheck = { ok: true; value: string } | { ok: false; code: 'NIR_INVALID' | 'NIR_CHECKSUM'; hint?: string };

const NO_LENGTH_HINT: readonly number[] = [];

/**
 * SPEC §2: 15 characters — sex `1 2 3 4 7 8`, year, month `01-12 20-42 50-99`, place (department `01-95`, `2A`, `2B`,
 * `96` + commune, `97x`/`98x` + 2-digit commune, `99` + country), order `001-999`, then the key
 * 97 − (first 13 as a number mod 97) with 2A→19, 2B→18. The key is checked only on a well-formed NIR.
 * Written by hand: stdnum's NIR check tests the key but not this structure.
 */
export function checkNir(raw: string): NirCheck {
  let value = normalizeIdentifier(raw);
  if (value.length !== 15) {
    const hint = identifierHint(raw, value, NO_LENGTH_HINT) ?? (value.length === 13 ? 'clé manquante ?' : undefined);
    return hint === undefined ? { ok: false, code: 'NIR_INVALID' } : { ok: false, code: 'NIR_INVALID', hint };
  }
  const corsica = corsicaDigits(value.charCodeAt(5), value.charCodeAt(6));
  if (corsica !== 0 && (value.charCodeAt(6) === 97 || value.charCodeAt(6) === 98)) value = value.toUpperCase();
  if (!isWellFormed(value, corsica)) return { ok: false, code: 'NIR_INVALID' };

  let remainder = 0;
  for (let i = 0; i < 13; i++) {
    const digit = i === 5 && corsica !== 0 ? 1 : i === 6 && corsica !== 0 ? corsica - 10 : value.charCodeAt(i) - 48;
    remainder = (remainder * 10 + digit) % 97;
  }
  const key = (value.charCodeAt(13) - 48) * 10 + (value.charCodeAt(14) - 48);
  if (key !== 97 - remainder) return { ok: false, code: 'NIR_CHECKSUM' };
  return { ok: true, value };
}

/** `2A` stands for 19 and `2B` for 18 in the key; 0 when the department is not one of them. */
function corsicaDigits(first: number, second: number): number {
  if (first !== 50) return 0; // '2'
  if (second === 65 || second === 97) return 19; // A, a
  if (second === 66 || second === 98) return 18; // B, b
  return 0;
}

function digitAt(value: string, index: number): number {
  const code = value.charCodeAt(index) - 48;
  return code >= 0 && code <= 9 ? code : -1;
}

function numberAt(value: string, index: number, length: number): number {
  let n = 0;
  for (let i = index; i < index + length; i++) {
    const digit = digitAt(value, i);
    if (digit < 0) return -1;
    n = n * 10 + digit;
  }
  return n;
}

function isWellFormed(value: string, corsica: number): boolean {
  const sex = digitAt(value, 0);
  if (sex !== 1 && sex !== 2 && sex !== 3 && sex !== 4 && sex !== 7 && sex !== 8) return false;
  if (numberAt(value, 1, 2) < 0) return false;
  const month = numberAt(value, 3, 2);
  if (!((month >= 1 && month <= 12) || (month >= 20 && month <= 42) || (month >= 50 && month <= 99))) return false;
  // Place: 2A/2B + commune, or 2 digits 01-99 (01-95 departments, 96, 97x/98x overseas, 99 abroad) + 3 digits.
  if (corsica === 0 && numberAt(value, 5, 2) < 1) return false;
  if (numberAt(value, 7, 3) < 0) return false;
  if (numberAt(value, 10, 3) < 1) return false;
  return numberAt(value, 13, 2) >= 0;
}

/** `1 85 07 •• ••• ••• 23`: sex, year, month and key shown; place and order hidden. Never shows more of a bad value. */
export function maskNir(nir: string): string {
  const value = normalizeIdentifier(nir);
  if (value.length !== 15) return '•'.repeat(value.length);
  return `${value[0]} ${value.slice(1, 3)} ${value.slice(3, 5)} •• ••• ••• ${value.slice(13, 15)}`;
}

/**
 * Identifier clean-up shared by SIREN, SIRET, account number and NIR (SPEC §2 "Identifiers"):
 * spaces, NBSP (U+00A0), narrow NBSP (U+202F), `.` and `-` are removed before checking.
 * Written as plain loops: these run several times per row on files of millions of rows.
 */

const SPACE = 0x20;
const TAB = 0x09;
const NBSP = 0xa0;
const NARROW_NBSP = 0x202f;
const DOT = 0x2e;
const HYPHEN = 0x2d;

export function isIdentifierSeparator(code: number): boolean {
  return code === SPACE || code === DOT || code === HYPHEN || code === NBSP || code === NARROW_NBSP || code === TAB;
}

/** Removes the separators an identifier may be written with; returns the input itself when it has none. */
export function normalizeIdentifier(raw: string): string {
  const length = raw.length;
  let i = 0;
  while (i < length && !isIdentifierSeparator(raw.charCodeAt(i))) i++;
  if (i === length) return raw;
  let out = raw.slice(0, i);
  for (i++; i < length; i++) {
    const code = raw.charCodeAt(i);
    if (!isIdentifierSeparator(code)) out += raw[i];
  }
  return out;
}

export function isAllDigits(value: string): boolean {
  const length = value.length;
  if (length === 0) return false;
  for (let i = 0; i < length; i++) {
    const code = value.charCodeAt(i);
    if (code < 48 || code > 57) return false;
  }
  return true;
}

/** Only spaces (any Unicode white space): an empty cell for every check. */
export function isBlank(value: string): boolean {
  const length = value.length;
  for (let i = 0; i < length; i++) {
    const code = value.charCodeAt(i);
    if (code !== SPACE && code !== TAB && code !== NBSP && code !== NARROW_NBSP && value[i].trim() !== '') return false;
  }
  return true;
}

const SCIENTIFIC = /^\s*[+-]?\d+(?:[.,]\d+)?\s*[eE]\s*[+-]?\d+\s*$/;

/** Excel's damage to long numbers (`1,17E+17`): the digits are lost for good. */
export function looksScientific(raw: string): boolean {
  return SCIENTIFIC.test(raw);
}

export const HINT_LEADING_ZERO = 'zéro initial perdu ?';
export const HINT_SCIENTIFIC = 'nombre abîmé par Excel en notation scientifique : formatez la colonne en texte';

/** The hint for a value that failed its format check, computed only on that failure path. */
export function identifierHint(raw: string, normalized: string, leadingZeroLengths: readonly number[]): string | undefined {
  if (looksScientific(raw)) return HINT_SCIENTIFIC;
  if (isAllDigits(normalized) && leadingZeroLengths.includes(normalized.length)) return HINT_LEADING_ZERO;
  return undefined;
}

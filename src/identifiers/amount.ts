/**
 * French amounts (SPEC §2 "amount") → integer cents. Accepted: `1234`, `1234,5`, `1234.56`, `1 234,56` (groups of
 * exactly 3 digits after the first, separated by one space, NBSP or narrow NBSP), an optional `€` or `EUR` before or
 * after. Refused: negatives, ambiguous forms (`1.234,56`, `1,234.56`, `12,345`), `1234,`, `,50`, `1 23,45`.
 * A hand-written scanner: no regular expression on the hot path, and exact cents with no floating point.
 */

export type AmountCheck = { ok: true; cents: number } | { ok: false; code: 'AMOUNT_INVALID' };

const INVALID: AmountCheck = Object.freeze({ ok: false, code: 'AMOUNT_INVALID' }) as AmountCheck;

/** 13 integer digits (under 10 000 milliards d'euros) keep cents an exact JavaScript integer. */
const MAX_INTEGER_DIGITS = 13;

function isSpace(code: number): boolean {
  return code === 0x20 || code === 0x09 || code === 0xa0 || code === 0x202f;
}

function isGroupSeparator(code: number): boolean {
  return code === 0x20 || code === 0xa0 || code === 0x202f;
}

function isDigit(code: number): boolean {
  return code >= 48 && code <= 57;
}

/** Length of a currency mark (`€`, `EUR` in any case) at `index`, else 0. */
function currencyAt(raw: string, index: number, end: number): number {
  const code = raw.charCodeAt(index);
  if (code === 0x20ac) return 1;
  if (index + 3 <= end && (code === 69 || code === 101)) {
    const u = raw.charCodeAt(index + 1) | 0x20;
    const r = raw.charCodeAt(index + 2) | 0x20;
    if (u === 117 && r === 114) return 3;
  }
  return 0;
}

export function parseAmountCents(raw: string): AmountCheck {
  let start = 0;
  let end = raw.length;
  while (start < end && isSpace(raw.charCodeAt(start))) start++;
  while (end > start && isSpace(raw.charCodeAt(end - 1))) end--;
  if (start === end) return INVALID;

  // Currency before or after (not both), with optional spaces between it and the number.
  const before = currencyAt(raw, start, end);
  if (before > 0) {
    start += before;
    while (start < end && isSpace(raw.charCodeAt(start))) start++;
  } else {
    const last = raw.charCodeAt(end - 1);
    let after = 0;
    if (last === 0x20ac) after = 1;
    else if (end - start >= 3 && currencyAt(raw, end - 3, end) === 3) after = 3;
    if (after > 0) {
      end -= after;
      while (end > start && isSpace(raw.charCodeAt(end - 1))) end--;
    }
  }
  if (start === end) return INVALID;

  // Integer part: digits, optionally grouped by 3 with a single separator.
  let i = start;
  let euros = 0;
  let integerDigits = 0;
  let groupDigits = 0;
  let grouped = false;
  while (i < end) {
    const code = raw.charCodeAt(i);
    if (isDigit(code)) {
      euros = euros * 10 + (code - 48);
      integerDigits++;
      groupDigits++;
      i++;
    } else if (isGroupSeparator(code)) {
      // Closes a group: the first one has 1-3 digits, the next ones exactly 3.
      if (grouped ? groupDigits !== 3 : groupDigits < 1 || groupDigits > 3) return INVALID;
      grouped = true;
      groupDigits = 0;
      i++;
    } else {
      break;
    }
  }
  if (integerDigits === 0 || integerDigits > MAX_INTEGER_DIGITS) return INVALID;
  if (grouped && groupDigits !== 3) return INVALID;

  let cents = 0;
  if (i < end) {
    const separator = raw.charCodeAt(i);
    if (separator !== 44 && separator !== 46) return INVALID; // ',' or '.'
    i++;
    const decimals = end - i;
    if (decimals < 1 || decimals > 2) return INVALID;
    for (let j = i; j < end; j++) {
      const code = raw.charCodeAt(j);
      if (!isDigit(code)) return INVALID;
      cents = cents * 10 + (code - 48);
    }
    if (decimals === 1) cents *= 10;
  }
  return { ok: true, cents: euros * 100 + cents };
}

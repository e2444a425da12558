import { identifierHint, isAllDigits, normalizeIdentifier } from './normalize.ts';

export type AccountNumberCheck = { ok: true; value: string } | { ok: false; code: 'ACCOUNT_INVALID'; hint?: string };

const LOST_ZERO_LENGTHS = [17];

/** SPEC §2: an Urssaf account number is exactly 18 digits (no check digit to verify). */
export function checkAccountNumber(raw: string): AccountNumberCheck {
  const value = normalizeIdentifier(raw);
  if (value.length === 18 && isAllDigits(value)) return { ok: true, value };
  const hint = identifierHint(raw, value, LOST_ZERO_LENGTHS);
  return hint === undefined ? { ok: false, code: 'ACCOUNT_INVALID' } : { ok: false, code: 'ACCOUNT_INVALID', hint };
}

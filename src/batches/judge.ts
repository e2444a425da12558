import type { Outcome, RowCode } from '../domain/types.ts';
import { REJECTION_CODES } from '../domain/types.ts';

/** Failed proofs in the sliding window at which a declarant's adds on an account are locked. */
export const PROOF_LOCK_THRESHOLD = 5;

/** What a staged row and the state it is judged against look like (stages 3 and 4 of the rules). */
export interface RowToJudge {
  line: number;
  action: string | null;
  clientCase: string | null;
  siren: string | null;
  accountNumber: string | null;
  amountCents: number | null;
  nirHash: string | null;
  onlineServices: string[] | null;
  emailServices: string[] | null;
  /** Codes found earlier (stage 1, duplicates, ambiguity): the row is rejected with them. */
  codes: string[];
  /** The registry account the row designates (by its account number, or the one portfolio client its SIREN names). */
  account: {
    kind: string;
    siren: string | null;
    nirHash: string | null;
    referenceAmountCents: number | null;
    status: string;
  } | null;
  /** For a remove by SIREN alone that names no portfolio client: does the registry know that SIREN? */
  sirenKnown: boolean;
  portfolio: { onlineServices: string[]; emailServices: string[] } | null;
  recentProofFailures: number;
}

export interface Judgement {
  outcome: Outcome;
  codes: RowCode[];
  /** An AMOUNT_MISMATCH or NIR_MISMATCH: counts toward the proof lock. */
  proofFailed: boolean;
}

const CODE_ORDER = new Map<string, number>(REJECTION_CODES.map((c, i) => [c, i]));
const byCodeOrder = (a: string, b: string) => (CODE_ORDER.get(a) ?? 99) - (CODE_ORDER.get(b) ?? 99);

function sameSet(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  const s = new Set(a);
  return b.every((x) => s.has(x));
}

export function judgeRow(row: RowToJudge): Judgement {
  if (row.codes.length > 0) return { outcome: 'rejected', codes: row.codes as RowCode[], proofFailed: false };
  return row.action === 'add' ? judgeAdd(row) : judgeRemove(row);
}

function judgeAdd(row: RowToJudge): Judgement {
  const a = row.account;
  if (!a) return { outcome: 'rejected', codes: ['ACCOUNT_UNKNOWN'], proofFailed: false };
  if (row.recentProofFailures >= PROOF_LOCK_THRESHOLD) {
    return { outcome: 'rejected', codes: ['PROOF_LOCKED'], proofFailed: false };
  }
  const codes: RowCode[] = [];
  const caseMatches = a.kind === row.clientCase;
  if (!caseMatches) codes.push('CASE_MISMATCH');
  if (row.siren !== null && a.siren !== row.siren) codes.push('ACCOUNT_SIREN_MISMATCH');
  let proofFailed = false;
  if (caseMatches) {
    if (row.clientCase === 'independent') {
      if (row.nirHash === null || a.nirHash !== row.nirHash) {
        codes.push('NIR_MISMATCH');
        proofFailed = true;
      }
    } else if (row.amountCents === null || a.referenceAmountCents !== row.amountCents) {
      codes.push('AMOUNT_MISMATCH');
      proofFailed = true;
    }
  }
  if (a.status === 'struck_off') codes.push('ACCOUNT_STRUCK_OFF');
  if (codes.length > 0) return { outcome: 'rejected', codes: codes.sort(byCodeOrder), proofFailed };

  const p = row.portfolio;
  if (!p) return { outcome: 'added', codes: [], proofFailed: false };
  const same =
    (row.onlineServices === null || sameSet(row.onlineServices, p.onlineServices)) &&
    (row.emailServices === null || sameSet(row.emailServices, p.emailServices));
  return same
    ? { outcome: 'unchanged', codes: ['ALREADY_IN_PORTFOLIO'], proofFailed: false }
    : { outcome: 'updated', codes: [], proofFailed: false };
}

function judgeRemove(row: RowToJudge): Judgement {
  const a = row.account;
  const codes: RowCode[] = [];
  if (row.accountNumber !== null || a) {
    if (!a) return { outcome: 'rejected', codes: ['ACCOUNT_UNKNOWN'], proofFailed: false };
    if (row.accountNumber !== null && row.siren !== null && a.siren !== row.siren) codes.push('ACCOUNT_SIREN_MISMATCH');
    if (row.clientCase !== null && a.kind !== row.clientCase) codes.push('CASE_MISMATCH');
  } else if (!row.sirenKnown) {
    return { outcome: 'rejected', codes: ['ACCOUNT_UNKNOWN'], proofFailed: false };
  }
  if (codes.length > 0) return { outcome: 'rejected', codes: codes.sort(byCodeOrder), proofFailed: false };
  return row.portfolio
    ? { outcome: 'removed', codes: [], proofFailed: false }
    : { outcome: 'unchanged', codes: ['NOT_IN_PORTFOLIO'], proofFailed: false };
}

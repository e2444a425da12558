/**
 * THE ORACLE: SPEC §3 stages 2–4 written as plainly as possible, apart from the pipeline and without a database, so
 * that reliability tests can compare what the product did with what the contract says. Stage 1 is `checkRow`.
 *
 * It never mutates the state it is given. Where SPEC is silent the decision is written next to the code
 * (look for "Decision:").
 */
import { FileError, openImportFile } from '../../src/csv/read-import-file.ts';
import type { RegistryAccount } from '../../src/demo/generate.ts';
import {
  DEFAULT_CATALOGUE, REJECTION_CODES, type ClientCase, type FileCode, type InfoCode, type Outcome,
  type RejectionCode, type ServiceCatalogue,
} from '../../src/domain/types.ts';
import { checkRow, type CheckedRow } from '../../src/rows/check-row.ts';

export interface PortfolioEntry {
  case: ClientCase;
  siren: string | null;
  onlineServices: string[];
  emailServices: string[];
}

export interface OracleState {
  registry: Map<string /* account */, RegistryAccount>;
  portfolio: Map<string /* account */, PortfolioEntry>;
  /** Failed proofs (AMOUNT_MISMATCH, NIR_MISMATCH) of this declarant in the last 24 hours, by account. */
  failedProofs: Map<string /* account */, number>;
}

export interface OracleRowResult {
  line: number;
  outcome: Outcome;
  codes: (RejectionCode | InfoCode)[];
  /** For DUPLICATE_IN_FILE: the line of the earlier row that took the client key. */
  duplicateOf?: number;
}

export interface OracleResult {
  results: OracleRowResult[];
  /** The portfolio after the batch (a new map; the input's own on a dry run). */
  portfolio: OracleState['portfolio'];
  /** The failed proofs this batch adds, by account (not the running totals: see `nextOracleState`). */
  newFailedProofs: Map<string, number>;
}

export const PROOF_LOCK_THRESHOLD = 5;

const CODE_ORDER = new Map<string, number>(REJECTION_CODES.map((code, index) => [code, index]));

export function runOracle(
  rows: readonly { line: number; checked: CheckedRow }[],
  state: OracleState,
  opts: { dryRun: boolean },
): OracleResult {
  const portfolio = new Map(state.portfolio);
  const newFailedProofs = new Map<string, number>();
  const clientsBySiren = portfolioClientsBySiren(state.portfolio);
  const registrySirens = new Set<string>();
  for (const account of state.registry.values()) if (account.siren !== null) registrySirens.add(account.siren);
  const keyTakenAt = new Map<string, number>();

  const results = rows.map(({ line, checked }): OracleRowResult => {
    if (checked.codes.length > 0) return rejected(line, checked.codes);
    const key = clientKey(checked, clientsBySiren);
    const earlier = keyTakenAt.get(key);
    if (earlier !== undefined) return { ...rejected(line, ['DUPLICATE_IN_FILE']), duplicateOf: earlier };
    keyTakenAt.set(key, line);
    const judged = checked.action === 'add'
      ? judgeAdd(checked, state, portfolio, newFailedProofs)
      : judgeRemove(checked, state, registrySirens, clientsBySiren, portfolio);
    return { line, ...judged };
  });
  return { results, portfolio: opts.dryRun ? new Map(state.portfolio) : portfolio, newFailedProofs };
}

/** The state a following batch starts from: this batch's portfolio and the failed proofs added up. */
export function nextOracleState(state: OracleState, result: OracleResult): OracleState {
  const failedProofs = new Map(state.failedProofs);
  for (const [account, count] of result.newFailedProofs) failedProofs.set(account, (failedProofs.get(account) ?? 0) + count);
  return { registry: state.registry, portfolio: result.portfolio, failedProofs };
}

export function emptyOracleState(registry: Iterable<RegistryAccount>): OracleState {
  return {
    registry: new Map([...registry].map((account) => [account.accountNumber, account])),
    portfolio: new Map(),
    failedProofs: new Map(),
  };
}

// Stage 2 ----------------------------------------------------------------------------------------------------------

function portfolioClientsBySiren(portfolio: OracleState['portfolio']): Map<string, string[]> {
  const bySiren = new Map<string, string[]>();
  for (const [account, entry] of portfolio) {
    if (entry.siren === null) continue;
    const accounts = bySiren.get(entry.siren) ?? [];
    accounts.push(account);
    bySiren.set(entry.siren, accounts);
  }
  return bySiren;
}

/**
 * The account number when the row has one; for a remove by SIREN alone, the one portfolio client with that SIREN,
 * else the SIREN. Decision: "the account that SIREN names in the portfolio" is read from the SIREN stored with each
 * portfolio client (the registry's SIREN when it was added).
 */
function clientKey(row: CheckedRow, clientsBySiren: Map<string, string[]>): string {
  if (row.accountNumber !== null) return `account:${row.accountNumber}`;
  if (row.siren === null) throw new Error('oracle: a row that passed stage 1 has neither account number nor SIREN');
  const clients = clientsBySiren.get(row.siren) ?? [];
  return clients.length === 1 ? `account:${clients[0]}` : `siren:${row.siren}`;
}

// Stages 3 and 4 ---------------------------------------------------------------------------------------------------

type Judgement = Omit<OracleRowResult, 'line'>;

function judgeAdd(
  row: CheckedRow,
  state: OracleState,
  portfolio: OracleState['portfolio'],
  newFailedProofs: Map<string, number>,
): Judgement {
  const accountNumber = row.accountNumber!;
  const account = state.registry.get(accountNumber);
  if (account === undefined) return { outcome: 'rejected', codes: ['ACCOUNT_UNKNOWN'] };
  // Decision: the lock is looked at once the account is known (an unknown account has nothing to guess at), and
  // before anything else, since the add then gets PROOF_LOCKED alone.
  if ((state.failedProofs.get(accountNumber) ?? 0) >= PROOF_LOCK_THRESHOLD) return { outcome: 'rejected', codes: ['PROOF_LOCKED'] };

  const codes: RejectionCode[] = [];
  const caseMatches = row.clientCase === account.kind;
  if (!caseMatches) codes.push('CASE_MISMATCH');
  // checkRow leaves the SIREN null on a manager_without_siret row (it is ignored there). Decision: a SIREN given
  // for an account that has none in the registry does not match it.
  if (row.siren !== null && row.siren !== account.siren) codes.push('ACCOUNT_SIREN_MISMATCH');
  if (caseMatches) {
    const proofFails = account.kind === 'independent'
      ? normaliseNir(row.nir) !== normaliseNir(account.nir)
      : row.amountCents !== account.referenceAmountCents;
    if (proofFails) {
      codes.push(account.kind === 'independent' ? 'NIR_MISMATCH' : 'AMOUNT_MISMATCH');
      newFailedProofs.set(accountNumber, (newFailedProofs.get(accountNumber) ?? 0) + 1);
    }
  }
  if (account.status === 'struck_off') codes.push('ACCOUNT_STRUCK_OFF');
  if (codes.length > 0) return { outcome: 'rejected', codes: inSpecOrder(codes) };

  const existing = state.portfolio.get(accountNumber);
  const onlineServices = row.onlineServices ?? existing?.onlineServices ?? [];
  const emailServices = row.emailServices ?? existing?.emailServices ?? [];
  // Decision: the client keeps the registry's case and SIREN (they matched the row, or the row had none).
  const entry: PortfolioEntry = {
    case: account.kind,
    siren: account.siren,
    onlineServices: sortedUnique(onlineServices),
    emailServices: sortedUnique(emailServices),
  };
  if (existing === undefined) {
    portfolio.set(accountNumber, entry);
    return { outcome: 'added', codes: [] };
  }
  if (sameSet(existing.onlineServices, entry.onlineServices) && sameSet(existing.emailServices, entry.emailServices)) {
    return { outcome: 'unchanged', codes: ['ALREADY_IN_PORTFOLIO'] };
  }
  portfolio.set(accountNumber, { ...existing, onlineServices: entry.onlineServices, emailServices: entry.emailServices });
  return { outcome: 'updated', codes: [] };
}

function judgeRemove(
  row: CheckedRow,
  state: OracleState,
  registrySirens: ReadonlySet<string>,
  clientsBySiren: Map<string, string[]>,
  portfolio: OracleState['portfolio'],
): Judgement {
  let accountNumber: string;
  if (row.accountNumber !== null) {
    accountNumber = row.accountNumber;
    const account = state.registry.get(accountNumber);
    if (account === undefined) return { outcome: 'rejected', codes: ['ACCOUNT_UNKNOWN'] };
    const codes: RejectionCode[] = [];
    if (row.clientCase !== null && row.clientCase !== account.kind) codes.push('CASE_MISMATCH');
    if (row.siren !== null && row.siren !== account.siren) codes.push('ACCOUNT_SIREN_MISMATCH');
    if (codes.length > 0) return { outcome: 'rejected', codes: inSpecOrder(codes) };
  } else {
    const siren = row.siren!;
    if (!registrySirens.has(siren)) return { outcome: 'rejected', codes: ['ACCOUNT_UNKNOWN'] };
    const clients = clientsBySiren.get(siren) ?? [];
    // Decision: with several clients the row is ambiguous whatever its case says, and with none it is
    // NOT_IN_PORTFOLIO without looking at the case (there is no one account whose case it could contradict).
    if (clients.length > 1) return { outcome: 'rejected', codes: ['CLIENT_AMBIGUOUS'] };
    if (clients.length === 0) return { outcome: 'unchanged', codes: ['NOT_IN_PORTFOLIO'] };
    accountNumber = clients[0];
    // Decision: the case is compared with the registry's kind, or the portfolio's case if the registry lost it.
    const kind = state.registry.get(accountNumber)?.kind ?? state.portfolio.get(accountNumber)!.case;
    if (row.clientCase !== null && row.clientCase !== kind) return { outcome: 'rejected', codes: ['CASE_MISMATCH'] };
  }
  if (!state.portfolio.has(accountNumber)) return { outcome: 'unchanged', codes: ['NOT_IN_PORTFOLIO'] };
  portfolio.delete(accountNumber);
  return { outcome: 'removed', codes: [] };
}

function rejected(line: number, codes: readonly RejectionCode[]): OracleRowResult {
  return { line, outcome: 'rejected', codes: inSpecOrder(codes) };
}

function inSpecOrder(codes: readonly RejectionCode[]): RejectionCode[] {
  return [...codes].sort((a, b) => CODE_ORDER.get(a)! - CODE_ORDER.get(b)!);
}

function normaliseNir(nir: string | null): string | null {
  return nir === null ? null : nir.replace(/[\s.\-\u00a0\u202f]/g, '').toUpperCase();
}

function sortedUnique(codes: readonly string[]): string[] {
  return [...new Set(codes)].sort();
}

function sameSet(a: readonly string[], b: readonly string[]): boolean {
  const left = new Set(a);
  const right = new Set(b);
  return left.size === right.size && [...left].every((code) => right.has(code));
}

// A whole file ------------------------------------------------------------------------------------------------------

export interface OracleFileResult extends OracleResult {
  /** A file-level failure: no row judged, nothing changed, no failed proof counted. */
  fileError: { code: FileCode; line: number | null } | null;
}

/** Reads `bytes` as an upload (through openImportFile and checkRow) and runs the oracle on its rows. */
export async function oracleForFile(
  bytes: Uint8Array,
  state: OracleState,
  opts: { dryRun: boolean; catalogue?: ServiceCatalogue; chunkSize?: number },
): Promise<OracleFileResult> {
  const chunkSize = opts.chunkSize ?? 64 * 1024;
  const open = async function* (): AsyncGenerator<Uint8Array> {
    for (let offset = 0; offset < bytes.length; offset += chunkSize) yield bytes.subarray(offset, offset + chunkSize);
  };
  const rows: { line: number; checked: CheckedRow }[] = [];
  try {
    const { meta, records } = await openImportFile(open);
    for await (const record of records) {
      rows.push({ line: record.line, checked: checkRow(meta.columns, record.cells, opts.catalogue ?? DEFAULT_CATALOGUE) });
    }
  } catch (error) {
    if (!(error instanceof FileError)) throw error;
    return { fileError: { code: error.code, line: error.line }, results: [], portfolio: new Map(state.portfolio), newFailedProofs: new Map() };
  }
  return { fileError: null, ...runOracle(rows, state, opts) };
}

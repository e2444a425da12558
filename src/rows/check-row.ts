import { joinMessages, messageFor } from '../domain/messages.ts';
import type { Action, ClientCase, Column, RejectionCode, ServiceCatalogue } from '../domain/types.ts';
import { checkAccountNumber } from '../identifiers/account-number.ts';
import { parseAmountCents } from '../identifiers/amount.ts';
import { checkNir } from '../identifiers/nir.ts';
import { isBlank } from '../identifiers/normalize.ts';
import { checkSiren } from '../identifiers/siren.ts';
import { checkSiret } from '../identifiers/siret.ts';
import { parseAction, parseCase, parseServices, type ParsedServices } from './keywords.ts';

/** A row after stage 1 of SPEC §3 (format). Values are canonical; a value the row does not need is null. */
export interface CheckedRow {
  action: Action | null;
  clientCase: ClientCase | null;
  /** 9 digits, from the SIREN cell or the SIRET's first 9. */
  siren: string | null;
  siret: string | null;
  /** 18 digits. */
  accountNumber: string | null;
  amountCents: number | null;
  /** 15 characters, `2A`/`2B` upper case; only on an add of an independent. */
  nir: string | null;
  /** Canonical codes, sorted and unique; null when the file has no such column, or on a remove. */
  onlineServices: string[] | null;
  emailServices: string[] | null;
  name: string | null;
  /** Stage-1 codes in the SPEC's order; empty when the row passed stage 1. */
  codes: RejectionCode[];
  /** The French messages of `codes` joined by ' ; ', '' when none. */
  message: string;
}

/** The cells of one row, by column, after dropping a formula-neutralising `'`. */
interface RowCells {
  action: string;
  case: string;
  siren: string;
  siret: string;
  account: string;
  amount: string;
  nir: string;
  online: string | null;
  email: string | null;
  name: string;
}

/** Collects codes (pushed in SPEC order by construction) and the detail each message needs. */
class Findings {
  readonly codes: RejectionCode[] = [];
  private hints: (string | undefined)[] | null = null;

  add(code: RejectionCode, hint?: string): void {
    if (hint !== undefined) {
      this.hints ??= [];
      this.hints[this.codes.length] = hint;
    }
    this.codes.push(code);
  }

  message(): string {
    const codes = this.codes;
    if (codes.length === 0) return '';
    if (codes.length === 1 && this.hints === null) return messageFor(codes[0]);
    const parts: string[] = [];
    for (let i = 0; i < codes.length; i++) {
      const hint = this.hints?.[i];
      parts.push(hint === undefined ? messageFor(codes[i]) : messageFor(codes[i], codes[i] === 'SERVICE_UNKNOWN' ? { column: hint } : { hint }));
    }
    return joinMessages(parts);
  }
}

const FORMULA_STARTS = new Set([0x3d, 0x2b, 0x2d, 0x40]); // = + - @

/** SPEC §2: a leading `'` before `=`, `+`, `-`, `@` is how exports neutralise formulas; reading drops it. */
export function dropFormulaQuote(cell: string): string {
  return cell.length >= 2 && cell.charCodeAt(0) === 0x27 && FORMULA_STARTS.has(cell.charCodeAt(1)) ? cell.slice(1) : cell;
}

function readCells(columns: readonly (Column | null)[], cells: readonly string[]): RowCells {
  const row: RowCells = { action: '', case: '', siren: '', siret: '', account: '', amount: '', nir: '', online: null, email: null, name: '' };
  for (let i = 0; i < columns.length; i++) {
    const column = columns[i];
    if (column === null) continue;
    const cell = dropFormulaQuote(cells[i]);
    switch (column) {
      case 'action': row.action = cell; break;
      case 'case': row.case = cell; break;
      case 'siren': row.siren = cell; break;
      case 'siret': row.siret = cell; break;
      case 'account_number': row.account = cell; break;
      case 'amount': row.amount = cell; break;
      case 'nir': row.nir = cell; break;
      case 'online_services': row.online = cell; break;
      case 'email_services': row.email = cell; break;
      case 'name': row.name = cell; break;
    }
  }
  return row;
}

function emptyRow(codes: RejectionCode[], message: string): CheckedRow {
  return {
    action: null, clientCase: null, siren: null, siret: null, accountNumber: null, amountCents: null, nir: null,
    onlineServices: null, emailServices: null, name: null, codes, message,
  };
}

/** A case cell read: `undefined` when blank, null when unknown. */
function readCase(row: RowCells): ClientCase | null | undefined {
  if (isBlank(row.case)) return undefined;
  const keyword = parseCase(row.case);
  if (keyword !== 'case_3') return keyword;
  return isBlank(row.siren) && isBlank(row.siret) ? 'manager_without_siret' : 'liberal_regulated';
}

/** SIREN and SIRET cells checked together: their codes, then the SIREN they agree on. */
function checkCompany(row: RowCells, out: CheckedRow, findings: Findings | null): void {
  let sirenFromSiren: string | null = null;
  if (!isBlank(row.siren)) {
    const siren = checkSiren(row.siren);
    if (siren.ok) sirenFromSiren = siren.value;
    else findings?.add(siren.code, siren.hint);
  }
  let sirenFromSiret: string | null = null;
  if (!isBlank(row.siret)) {
    const siret = checkSiret(row.siret);
    if (siret.ok) {
      out.siret = siret.value;
      sirenFromSiret = siret.siren;
    } else {
      findings?.add(siret.code, siret.hint);
    }
  }
  if (sirenFromSiren !== null && sirenFromSiret !== null && sirenFromSiren !== sirenFromSiret) {
    findings?.add('SIREN_SIRET_MISMATCH');
  }
  out.siren = sirenFromSiren ?? sirenFromSiret;
}

function checkAccount(row: RowCells, out: CheckedRow, findings: Findings | null, required: boolean): void {
  if (isBlank(row.account)) {
    if (required) findings?.add('ACCOUNT_REQUIRED');
    return;
  }
  const account = checkAccountNumber(row.account);
  if (account.ok) out.accountNumber = account.value;
  else findings?.add(account.code, account.hint);
}

function checkAmount(row: RowCells, out: CheckedRow, findings: Findings, required: boolean): void {
  if (isBlank(row.amount)) {
    if (required) findings.add('AMOUNT_REQUIRED');
    return;
  }
  const amount = parseAmountCents(row.amount);
  if (amount.ok) out.amountCents = amount.cents;
  else findings.add(amount.code);
}

function checkNirCell(row: RowCells, out: CheckedRow, findings: Findings, required: boolean): void {
  if (isBlank(row.nir)) {
    if (required) findings.add('NIR_REQUIRED');
    return;
  }
  const nir = checkNir(row.nir);
  if (nir.ok) out.nir = nir.value;
  else findings.add(nir.code, nir.hint);
}

function unknownServices(kind: string, services: ParsedServices): string {
  return `${services.unknown.map((code) => `« ${code} »`).join(', ')} (${kind})`;
}

function checkServices(row: RowCells, out: CheckedRow, findings: Findings, catalogue: ServiceCatalogue): void {
  let unknown: string | null = null;
  if (row.online !== null) {
    const online = parseServices(catalogue, 'online', row.online);
    out.onlineServices = online.codes.slice();
    if (online.unknown.length > 0) unknown = unknownServices('services en ligne', online);
  }
  if (row.email !== null) {
    const email = parseServices(catalogue, 'email', row.email);
    out.emailServices = email.codes.slice();
    if (email.unknown.length > 0) {
      const hint = unknownServices('services courriel', email);
      unknown = unknown === null ? hint : `${unknown}, ${hint}`;
    }
  }
  if (unknown !== null) findings.add('SERVICE_UNKNOWN', unknown);
}

function needsAmount(clientCase: ClientCase): boolean {
  return clientCase !== 'independent';
}

/**
 * Stage 1 of SPEC §3. `columns[i]` is the column of `cells[i]` (null for an ignored column).
 * Never throws: every problem of a row is data in `codes`.
 */
export function checkRow(columns: readonly (Column | null)[], cells: readonly string[], catalogue: ServiceCatalogue): CheckedRow {
  if (cells.length !== columns.length) return emptyRow(['ROW_MALFORMED'], messageFor('ROW_MALFORMED'));

  const row = readCells(columns, cells);
  const out = emptyRow([], '');
  const name = row.name.trim();
  out.name = name === '' ? null : name;
  const action = parseAction(row.action);
  const clientCase = readCase(row);

  if (action === null) {
    // Rejected alone; the identifiers that are well formed are kept so people can tell which client it was.
    out.clientCase = clientCase ?? null;
    checkCompany(row, out, null);
    checkAccount(row, out, null, false);
    out.codes = ['ACTION_INVALID'];
    out.message = messageFor('ACTION_INVALID');
    return out;
  }
  out.action = action;
  out.clientCase = clientCase ?? null;
  const findings = new Findings();

  if (action === 'remove') {
    if (clientCase === null) findings.add('CASE_INVALID');
    const ignoresCompany = clientCase === 'manager_without_siret';
    if (!ignoresCompany) checkCompany(row, out, findings);
    checkAccount(row, out, findings, false);
    const hasKey = (!ignoresCompany && (!isBlank(row.siren) || !isBlank(row.siret))) || !isBlank(row.account);
    if (!hasKey) findings.add('KEY_REQUIRED');
  } else if (clientCase === undefined || clientCase === null) {
    // The case decides what is required: without it only the values the row carries are judged.
    findings.add(clientCase === undefined ? 'CASE_REQUIRED' : 'CASE_INVALID');
    checkCompany(row, out, findings);
    checkAccount(row, out, findings, false);
    const proofs = emptyRow([], '');
    checkAmount(row, proofs, findings, false);
    checkNirCell(row, proofs, findings, false);
    checkServices(row, out, findings, catalogue);
  } else {
    if (clientCase !== 'manager_without_siret') {
      if (isBlank(row.siren) && isBlank(row.siret)) findings.add('SIREN_REQUIRED');
      else checkCompany(row, out, findings);
    }
    checkAccount(row, out, findings, true);
    if (needsAmount(clientCase)) checkAmount(row, out, findings, true);
    if (clientCase === 'independent') checkNirCell(row, out, findings, true);
    checkServices(row, out, findings, catalogue);
  }
  out.codes = findings.codes;
  out.message = findings.message();
  return out;
}

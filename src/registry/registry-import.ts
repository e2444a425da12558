import type { Kysely } from 'kysely';
import type { Database } from '../db/database.ts';
import type { ClientCase } from '../domain/types.ts';
import { messageFor } from '../domain/messages.ts';
import { FileError, openCsvFile } from '../csv/read-import-file.ts';
import { foldKeyword, parseCase } from '../rows/keywords.ts';
import { dropFormulaQuote } from '../rows/check-row.ts';
import { checkAccountNumber } from '../identifiers/account-number.ts';
import { checkSiren } from '../identifiers/siren.ts';
import { checkNir } from '../identifiers/nir.ts';
import { parseAmountCents } from '../identifiers/amount.ts';
import { upsertAccounts, type AccountInput } from './account.repository.ts';

/** The registry file's columns (SPEC: account_number;kind;siren;nir;reference_amount;status;name). */
const REGISTRY_COLUMNS = ['account_number', 'kind', 'siren', 'nir', 'reference_amount', 'status', 'name'] as const;
type RegistryColumn = (typeof REGISTRY_COLUMNS)[number];
const REQUIRED: RegistryColumn[] = ['account_number', 'kind', 'status'];

const STATUS: Record<string, AccountInput['status']> = {
  active: 'active',
  actif: 'active',
  struck_off: 'struck_off',
  radie: 'struck_off',
};

export interface RegistryRejection {
  line: number;
  message: string;
}

export interface RegistryImportResult {
  inserted: number;
  updated: number;
  rejections: RegistryRejection[];
}

function mapRegistryHeader(cells: string[]): { index: Partial<Record<RegistryColumn, number>> } {
  const index: Partial<Record<RegistryColumn, number>> = {};
  cells.forEach((cell, i) => {
    const name = foldKeyword(cell).replace(/[\s-]+/g, '_') as RegistryColumn;
    if (!(REGISTRY_COLUMNS as readonly string[]).includes(name)) return;
    if (index[name] !== undefined) {
      throw new FileError('FILE_DUPLICATE_COLUMN', messageFor('FILE_DUPLICATE_COLUMN', { column: name }), null);
    }
    index[name] = i;
  });
  const missing = REQUIRED.filter((c) => index[c] === undefined);
  if (missing.length > 0) throw new FileError('FILE_MISSING_COLUMN', messageFor('FILE_MISSING_COLUMN', { column: missing.join(', ') }), null);
  return { index };
}

/** Checks one registry row; an account ready to store, or why not (in French). */
export function checkRegistryRow(get: (c: RegistryColumn) => string): AccountInput | { problem: string } {
  const problems: string[] = [];
  const account = checkAccountNumber(get('account_number'));
  if (!account.ok) problems.push(messageFor(account.code, { hint: account.hint }));
  const sirenCell = get('siren').trim();
  let kind: ClientCase | null = null;
  const parsedKind = parseCase(get('kind'));
  if (parsedKind === 'case_3') kind = sirenCell === '' ? 'manager_without_siret' : 'liberal_regulated';
  else kind = parsedKind;
  if (kind === null) problems.push(`Type de compte « ${get('kind')} » inconnu`);
  let siren: string | null = null;
  if (kind !== 'manager_without_siret') {
    const s = checkSiren(sirenCell);
    if (s.ok) siren = s.value;
    else problems.push(sirenCell === '' ? messageFor('SIREN_REQUIRED') : messageFor(s.code, { hint: s.hint }));
  }
  let nir: string | null = null;
  if (kind === 'independent') {
    const n = checkNir(get('nir'));
    if (n.ok) nir = n.value;
    else problems.push(get('nir').trim() === '' ? messageFor('NIR_REQUIRED') : messageFor(n.code, { hint: n.hint }));
  }
  let amount: number | null = null;
  if (kind !== null && kind !== 'independent') {
    const raw = get('reference_amount');
    const a = parseAmountCents(raw);
    if (a.ok && raw.trim() !== '') amount = a.cents;
    else problems.push(raw.trim() === '' ? messageFor('AMOUNT_REQUIRED') : messageFor('AMOUNT_INVALID'));
  }
  const status = STATUS[foldKeyword(get('status')).replace(/\s+/g, '_')];
  if (!status) problems.push(`Statut « ${get('status')} » inconnu (active ou struck_off)`);
  if (problems.length > 0 || !account.ok || kind === null || !status) return { problem: problems.join(' ; ') };
  return { accountNumber: account.value, kind, siren, nir, referenceAmountCents: amount, status, name: get('name').trim() };
}

/**
 * Upserts the accounts of a registry file (same encoding and delimiter rules as import files). Bad rows are
 * reported and skipped; the good ones are stored together in one transaction, so a failure stores none.
 */
export async function importRegistryFile(
  db: Kysely<Database>,
  open: () => AsyncIterable<Uint8Array>,
  nirHashKey: string,
): Promise<RegistryImportResult> {
  const { meta, records } = await openCsvFile(open, undefined, mapRegistryHeader);
  const rejections: RegistryRejection[] = [];
  const seen = new Map<string, number>();
  let inserted = 0;
  let updated = 0;
  await db.transaction().execute(async (trx) => {
    let pending: AccountInput[] = [];
    const flush = async () => {
      const r = await upsertAccounts(trx, pending, nirHashKey);
      inserted += r.inserted;
      updated += r.updated;
      pending = [];
    };
    for await (const { line, cells } of records) {
      const get = (c: RegistryColumn) => {
        const i = meta.index[c];
        return i === undefined ? '' : dropFormulaQuote(cells[i] ?? '');
      };
      const checked = checkRegistryRow(get);
      if ('problem' in checked) {
        rejections.push({ line, message: checked.problem });
        continue;
      }
      const earlier = seen.get(checked.accountNumber);
      if (earlier !== undefined) {
        rejections.push({ line, message: `Compte déjà présent à la ligne ${earlier} du fichier` });
        continue;
      }
      // A copy: the cell may be a slice of a whole decoded chunk, which the map would keep alive.
      seen.set(Buffer.from(checked.accountNumber, 'latin1').toString('latin1'), line);
      pending.push(checked);
      if (pending.length >= 5000) await flush();
    }
    await flush();
  });
  return { inserted, updated, rejections };
}

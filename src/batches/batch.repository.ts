import { rowMessage } from '../domain/messages.ts';
import { sql, type Kysely, type SelectQueryBuilder } from 'kysely';
import type { Batch, BatchMode, BatchStatus, Database } from '../db/database.ts';
import { REJECTION_CODES } from '../domain/types.ts';
import { SEARCH_HASH, searchKey } from './batch-row-table.ts';

/**
 * Tenancy lives here, in the data layer: every read of a batch or its rows takes a scope. A firm's scope only
 * ever matches its own declarant; another firm's batch is simply not found (the routes answer 404).
 */
export type Scope = { kind: 'declarant'; declarantId: number } | { kind: 'admin' };

export const declarantScope = (declarantId: number): Scope => ({ kind: 'declarant', declarantId });
export const ADMIN_SCOPE: Scope = { kind: 'admin' };

/** The declarant a scope is limited to; undefined for an admin, who sees every firm. */
function scopeDeclarant(scope: Scope): number | undefined {
  return scope.kind === 'declarant' ? scope.declarantId : undefined;
}

export const UNFINISHED_STATUSES = ['queued', 'validating', 'applying'] as const;

export async function createBatch(
  db: Kysely<Database>,
  input: {
    declarantId: number;
    userId: number;
    uploadId: number;
    mode: BatchMode;
    filename: string;
    sha256: string;
    size: number;
    sourceBatchId?: number;
  },
): Promise<Batch> {
  const previous = await db
    .selectFrom('batch')
    .select('id')
    .where('declarant_id', '=', input.declarantId)
    .where('sha256', '=', input.sha256)
    .orderBy('id', 'desc')
    .limit(1)
    .executeTakeFirst();
  return db
    .insertInto('batch')
    .values({
      declarant_id: input.declarantId,
      user_id: input.userId,
      upload_id: input.uploadId,
      mode: input.mode,
      filename: input.filename,
      sha256: input.sha256,
      size: input.size,
      duplicate_of: previous?.id ?? null,
      source_batch_id: input.sourceBatchId ?? null,
    })
    .returningAll()
    .executeTakeFirstOrThrow();
}

export function findBatch(db: Kysely<Database>, scope: Scope, id: number): Promise<Batch | undefined> {
  if (!Number.isSafeInteger(id) || id <= 0) return Promise.resolve(undefined);
  const declarantId = scopeDeclarant(scope);
  return db
    .selectFrom('batch')
    .selectAll()
    .where('id', '=', id)
    .$if(declarantId !== undefined, (qb) => qb.where('declarant_id', '=', declarantId!))
    .executeTakeFirst();
}

export interface BatchListFilter {
  after?: number;
  limit: number;
  /** Admin search: a firm's name, or a SIREN / account number that appears in the batch. */
  q?: string;
}

export async function listBatches(
  db: Kysely<Database>,
  scope: Scope,
  filter: BatchListFilter,
): Promise<{ batches: (Batch & { declarant_name: string; user_email: string })[]; next: number | null }> {
  const declarantId = scopeDeclarant(scope);
  let qb = db
    .selectFrom('batch')
    .innerJoin('declarant', 'declarant.id', 'batch.declarant_id')
    .innerJoin('app_user', 'app_user.id', 'batch.user_id')
    .selectAll('batch')
    .select(['declarant.name as declarant_name', 'app_user.email as user_email'])
    .$if(declarantId !== undefined, (qb) => qb.where('batch.declarant_id', '=', declarantId!));
  if (filter.after) qb = qb.where('batch.id', '<', filter.after);
  const q = filter.q?.trim();
  if (q) {
    const digits = q.replace(/[\s.\-\u00a0\u202f]/g, '');
    const carrying = /^\d{9}$|^\d{18}$/.test(digits)
      ? await batchesCarrying(db, declarantId, digits.length === 9 ? 'siren' : 'account_number', digits, filter.after, filter.limit + 1)
      : [];
    qb = qb.where((eb) =>
      eb.or([
        eb('declarant.name', 'ilike', `%${q.replace(/[\\%_]/g, '\\$&')}%`),
        eb('batch.filename', 'ilike', `%${q.replace(/[\\%_]/g, '\\$&')}%`),
        ...(carrying.length > 0 ? [eb('batch.id', 'in', carrying)] : []),
      ]),
    );
  }
  const rows = await qb.orderBy('batch.id', 'desc').limit(filter.limit + 1).execute();
  const next = rows.length > filter.limit ? rows[filter.limit - 1].id : null;
  return { batches: rows.slice(0, filter.limit), next };
}

/** Batch tables one search query may open: each is a table (and its indexes) PostgreSQL locks while planning. */
const SEARCH_WINDOW = 100;

/**
 * The newest `want` batches below `before` whose rows carry `value`, looked for a window of batches at a time:
 * one query over every batch's rows would open every batch's table at once.
 */
async function batchesCarrying(
  db: Kysely<Database>,
  /** Only this firm's batches, when the search is a firm's. */
  declarantId: number | undefined,
  column: 'siren' | 'account_number',
  value: string,
  before: number | undefined,
  want: number,
): Promise<number[]> {
  const found: number[] = [];
  let cursor = before ?? Number.MAX_SAFE_INTEGER;
  while (found.length < want) {
    const window = await db.selectFrom('batch').select('id').where('id', '<', cursor).where('staged', '=', true)
      .$if(declarantId !== undefined, (qb) => qb.where('declarant_id', '=', declarantId!))
      .orderBy('id', 'desc').limit(SEARCH_WINDOW).execute();
    if (window.length === 0) break;
    const ids = window.map((b) => b.id);
    const hits = await db.selectFrom('batch_row').select('batch_id').distinct()
      .where('batch_id', '=', sql<number>`ANY(${ids}::bigint[])`).$call((qb) => whereIdentifier(qb, column, value)).execute();
    found.push(...hits.map((h) => h.batch_id).sort((a, b) => b - a));
    cursor = ids[ids.length - 1];
  }
  return found.slice(0, want);
}

/**
 * Batch rows whose SIREN or account number is `value`: the value and its hash, which a batch's search index holds
 * (buildSearchIndexes; batches indexed on the values themselves use those indexes for the same query).
 */
export function whereIdentifier<O>(qb: SelectQueryBuilder<Database, 'batch_row', O>, column: 'siren' | 'account_number', value: string) {
  return qb.where(sql.raw<number>(searchKey(column)), '=', sql<number>`${sql.raw(SEARCH_HASH)}(${value})`).where(column, '=', value);
}

export interface RowFilter {
  outcome?: string;
  code?: string;
  /** A SIREN or an account number. */
  q?: string;
  after?: number;
  limit: number;
}

/**
 * A batch's rows in line order. Outcomes are planned when the file is read and become real chunk by chunk:
 * until the batch has completed, a row past the checkpoint shows no outcome yet (nor does a cancelled batch's).
 */
export async function listBatchRows(db: Kysely<Database>, batchId: number, filter: RowFilter) {
  const batch = await db.selectFrom('batch').select(['status', 'applied_through']).where('id', '=', batchId).executeTakeFirst();
  const visibleThrough = batch?.status === 'completed' ? 2_147_483_647 : (batch?.applied_through ?? 0);
  let qb = db
    .selectFrom('batch_row')
    .select(['line', 'action', 'client_case', 'account_number', 'siren', 'siret', 'name', 'nir_masked', 'outcome', 'codes', 'message'])
    .where('batch_id', '=', batchId);
  if (filter.after !== undefined) qb = qb.where('line', '>', filter.after);
  if (filter.outcome || filter.code) qb = qb.where('line', '<=', visibleThrough);
  if (filter.outcome) qb = qb.where('outcome', '=', filter.outcome);
  if (filter.code) {
    qb = qb.where(sql<boolean>`codes @> ARRAY[${filter.code}]::text[]`);
    // Rejection codes live on rejected rows only: walking those (an index of their own) finds a rare code fast.
    if ((REJECTION_CODES as readonly string[]).includes(filter.code)) qb = qb.where('outcome', '=', 'rejected');
  }
  const q = filter.q?.replace(/[\s.\-\u00a0\u202f]/g, '');
  if (q && q.length === 14) qb = whereIdentifier(qb, 'siren', q.slice(0, 9)).where('siret', '=', q);
  else if (q && q.length === 9) qb = whereIdentifier(qb, 'siren', q);
  else if (q) qb = whereIdentifier(qb, 'account_number', q);
  const rows = await qb.orderBy('line').limit(filter.limit + 1).execute();
  const next = rows.length > filter.limit ? rows[filter.limit - 1].line : null;
  const page = rows.slice(0, filter.limit).map((r) =>
    r.line <= visibleThrough
      ? { ...r, message: rowMessage(r.message, r.codes) }
      : { ...r, outcome: null, codes: [] as string[], message: '' },
  );
  return { rows: page, next };
}

/** Asks a queued or running batch to stop; false when it has already ended. */
export async function requestCancel(db: Kysely<Database>, scope: Scope, id: number): Promise<Batch | undefined> {
  const batch = await findBatch(db, scope, id);
  if (!batch || !(UNFINISHED_STATUSES as readonly string[]).includes(batch.status)) return undefined;
  // A batch not yet started is cancelled at once; a running one stops between two chunks.
  return db
    .updateTable('batch')
    .set({
      cancel_requested: true,
      status: sql<BatchStatus>`CASE WHEN status = 'queued' THEN 'cancelled' ELSE status END`,
      finished_at: sql<Date>`CASE WHEN status = 'queued' THEN now() ELSE finished_at END`,
    })
    .where('id', '=', batch.id)
    .where('status', 'in', UNFINISHED_STATUSES)
    .returningAll()
    .executeTakeFirst();
}

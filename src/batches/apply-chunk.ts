import { sql, type Transaction } from 'kysely';
import type { Batch, Database } from '../db/database.ts';

/**
 * Applies the next chunk of a staged batch in the caller's transaction, set-based: the rows' planned outcomes
 * (judged when the batch was read) become portfolio changes and history, failed proofs are recorded, and the
 * live counts and the checkpoint move — all in one commit. A chunk retried after a crash either finds its
 * checkpoint moved (and does nothing) or starts clean. The caller holds the batch row locked (FOR UPDATE),
 * which serialises any two workers on one batch.
 * Returns false when no row was left to apply.
 */
export async function applyNextChunk(trx: Transaction<Database>, batch: Batch, chunkSize: number): Promise<boolean> {
  const from = batch.applied_through;
  // A chunk is a window of line numbers (blank lines make some windows hold fewer rows): finding "the next N
  // rows" instead re-scanned every row past the checkpoint, once per chunk — quadratic at a million rows.
  const to = from + chunkSize;
  const left = await sql<{ more: boolean }>`
    SELECT EXISTS (SELECT 1 FROM batch_row WHERE batch_id = ${batch.id} AND line > ${from}) AS more
  `.execute(trx);
  if (!left.rows[0].more) return false;
  // A lost commit (asynchronous commit, PostgreSQL crash) loses this whole chunk and its checkpoint together,
  // never part of it: the chunk simply runs again. It saves a WAL flush per chunk.
  await sql`SET LOCAL synchronous_commit = off`.execute(trx);
  const range = sql`r.batch_id = ${batch.id} AND r.line > ${from} AND r.line <= ${to}`;

  await sql`
    INSERT INTO proof_failure (declarant_id, account_number, batch_id, line)
    SELECT ${batch.declarant_id}, r.client_key, r.batch_id, r.line FROM batch_row r
    WHERE ${range} AND r.codes && '{AMOUNT_MISMATCH,NIR_MISMATCH}'::text[]
    ON CONFLICT (batch_id, line) DO NOTHING
  `.execute(trx);

  if (batch.mode === 'apply') {
    // Whether a services column exists is a property of the file: without it, an existing client's services
    // stay as they are and a new client gets none.
    const columns = (batch.columns ?? []) as (string | null)[];
    // 'added' rows were judged not in the portfolio, and no other batch of this firm runs meanwhile: a plain
    // insert (cheaper than an upsert's speculative insertion). 'updated' rows change their services only.
    await sql`
      INSERT INTO portfolio_client (declarant_id, account_number, client_case, siren, name, online_services,
        email_services, added_by_user_id, added_by_batch_id)
      SELECT ${batch.declarant_id}, r.client_key, r.client_case, r.client_siren, r.client_name,
        coalesce(r.online_services, '{}'), coalesce(r.email_services, '{}'), ${batch.user_id}, ${batch.id}
      FROM batch_row r
      WHERE ${range} AND r.outcome = 'added'
      ORDER BY r.client_key -- neighbouring keys land on the same index pages
    `.execute(trx);
    await sql`
      UPDATE portfolio_client p SET
        online_services = ${columns.includes('online_services') ? sql`coalesce(r.online_services, '{}')` : sql`p.online_services`},
        email_services = ${columns.includes('email_services') ? sql`coalesce(r.email_services, '{}')` : sql`p.email_services`},
        updated_at = now(), updated_by_batch_id = ${batch.id}
      FROM batch_row r
      WHERE ${range} AND r.outcome = 'updated' AND p.declarant_id = ${batch.declarant_id} AND p.account_number = r.client_key
    `.execute(trx);
    await sql`
      DELETE FROM portfolio_client p USING batch_row r
      WHERE ${range} AND r.outcome = 'removed' AND p.declarant_id = ${batch.declarant_id} AND p.account_number = r.client_key
    `.execute(trx);
    await sql`
      INSERT INTO portfolio_event (declarant_id, account_number, kind, user_id, batch_id, line)
      SELECT ${batch.declarant_id}, r.client_key, r.outcome, ${batch.user_id}, r.batch_id, r.line FROM batch_row r
      WHERE ${range} AND r.outcome IN ('added', 'updated', 'removed')
      ORDER BY r.client_key
    `.execute(trx);
  }

  await sql`
    UPDATE batch b SET applied_through = ${to},
      added = b.added + c.added, removed = b.removed + c.removed, updated = b.updated + c.updated,
      unchanged = b.unchanged + c.unchanged, rejected = b.rejected + c.rejected
    FROM (
      SELECT count(*) FILTER (WHERE outcome = 'added')::int AS added,
        count(*) FILTER (WHERE outcome = 'removed')::int AS removed,
        count(*) FILTER (WHERE outcome = 'updated')::int AS updated,
        count(*) FILTER (WHERE outcome = 'unchanged')::int AS unchanged,
        count(*) FILTER (WHERE outcome = 'rejected')::int AS rejected
      FROM batch_row r WHERE ${range}
    ) c
    WHERE b.id = ${batch.id}
  `.execute(trx);
  return true;
}

import { sql, type Kysely, type Transaction } from 'kysely';
import type { Batch, Database } from '../db/database.ts';

/** A chunk's rows by planned outcome, and how many of them failed a proof. */
interface ChunkCounts {
  added: number;
  removed: number;
  updated: number;
  unchanged: number;
  rejected: number;
  failed_proofs: number;
}

/**
 * Applies one chunk of a staged batch — the lines in (first, first + chunk_lines] — in the caller's transaction,
 * set-based: the rows' planned outcomes (judged when the batch was read) become portfolio changes and history
 * (portfolio_history: adds on the client rows, updates and removals as events),
 * failed proofs are recorded and the live counts move, all in one commit together with the chunk's record in
 * batch_chunk. That record's key makes a chunk apply once: a second attempt (another worker, a retry after a
 * crash) waits for the first to commit, then finds it and does nothing; a crash rolls both back.
 * Chunks are independent (one row a client, duplicates being rejected), so two connections apply two at once.
 * Returns false when the chunk was already applied.
 */
export async function applyChunk(trx: Transaction<Database>, batch: Batch, first: number): Promise<boolean> {
  const claimed = await sql`
    INSERT INTO batch_chunk (batch_id, first_line) VALUES (${batch.id}, ${first}) ON CONFLICT DO NOTHING RETURNING 1
  `.execute(trx);
  if (claimed.rows.length === 0) return false;
  const to = first + batch.chunk_lines!;
  // For this transaction, in one round trip:
  // - asynchronous commit: a lost commit (PostgreSQL crash) loses this whole chunk and its checkpoint together,
  //   never part of it, and the chunk simply runs again. It saves a WAL flush per chunk.
  // - work_mem: the added rows are sorted by key before they are inserted; a chunk's (50,000 lines, ~7 MB) sorts
  //   in memory instead of through temporary files (the apply alone at a million rows: 6.3–7.4 s against 6.6–7.8 s).
  await sql`SELECT set_config('synchronous_commit', 'off', true), set_config('work_mem', '32MB', true)`.execute(trx);
  const range = sql`r.batch_id = ${batch.id} AND r.line > ${first} AND r.line <= ${to}`;
  const failedProof = sql`r.codes && '{AMOUNT_MISMATCH,NIR_MISMATCH}'::text[]`;

  // The chunk's outcomes first, in one scan: the live counts move by them, and a statement with nothing to do in
  // this chunk (no update in a file of adds, no insert in a clean-up file) is not run at all.
  const { rows } = await sql<ChunkCounts>`
    SELECT count(*) FILTER (WHERE outcome = 'added')::int AS added,
      count(*) FILTER (WHERE outcome = 'removed')::int AS removed,
      count(*) FILTER (WHERE outcome = 'updated')::int AS updated,
      count(*) FILTER (WHERE outcome = 'unchanged')::int AS unchanged,
      count(*) FILTER (WHERE outcome = 'rejected')::int AS rejected,
      count(*) FILTER (WHERE ${failedProof})::int AS failed_proofs
    FROM batch_row r WHERE ${range}
  `.execute(trx);
  const c = rows[0];

  if (c.failed_proofs > 0) {
    await sql`
      INSERT INTO proof_failure (declarant_id, account_number, batch_id, line)
      SELECT ${batch.declarant_id}, r.client_key, r.batch_id, r.line FROM batch_row r
      WHERE ${range} AND ${failedProof}
      ON CONFLICT (batch_id, line) DO NOTHING
    `.execute(trx);
  }

  if (batch.mode === 'apply') {
    // Whether a services column exists is a property of the file: without it, an existing client's services
    // stay as they are and a new client gets none.
    const columns = (batch.columns ?? []) as (string | null)[];
    // 'added' rows were judged not in the portfolio, and no other batch of this firm runs meanwhile: a plain
    // insert (cheaper than an upsert's speculative insertion). 'updated' rows change their services only.
    if (c.added > 0) {
      // The add is recorded on the client's row (who, which batch and line; added_at is now): its history.
      await sql`
        INSERT INTO portfolio_client (declarant_id, account_number, client_case, siren, name, online_services,
          email_services, added_by_user_id, added_by_batch_id, added_line)
        SELECT ${batch.declarant_id}, r.client_key, r.client_case, r.client_siren, r.client_name,
          coalesce(r.online_services, '{}'), coalesce(r.email_services, '{}'), ${batch.user_id}, ${batch.id}, r.line
        FROM batch_row r
        WHERE ${range} AND r.outcome = 'added'
        ORDER BY r.client_key -- neighbouring keys land on the same index pages
      `.execute(trx);
    }
    if (c.updated > 0) {
      await sql`
        UPDATE portfolio_client p SET
          online_services = ${columns.includes('online_services') ? sql`coalesce(r.online_services, '{}')` : sql`p.online_services`},
          email_services = ${columns.includes('email_services') ? sql`coalesce(r.email_services, '{}')` : sql`p.email_services`},
          updated_at = now(), updated_by_batch_id = ${batch.id}
        FROM batch_row r
        WHERE ${range} AND r.outcome = 'updated' AND p.declarant_id = ${batch.declarant_id} AND p.account_number = r.client_key
      `.execute(trx);
      await sql`
        INSERT INTO portfolio_event (declarant_id, account_number, kind, user_id, batch_id, line)
        SELECT ${batch.declarant_id}, r.client_key, 'updated', ${batch.user_id}, r.batch_id, r.line FROM batch_row r
        WHERE ${range} AND r.outcome = 'updated'
      `.execute(trx);
    }
    if (c.removed > 0) {
      // A removed client's event keeps the add it ends, which leaves with the client's row.
      await sql`
        WITH gone AS (
          DELETE FROM portfolio_client p USING batch_row r
          WHERE ${range} AND r.outcome = 'removed' AND p.declarant_id = ${batch.declarant_id} AND p.account_number = r.client_key
          RETURNING p.account_number, p.added_at, p.added_by_user_id, p.added_by_batch_id, p.added_line, r.line
        )
        INSERT INTO portfolio_event (declarant_id, account_number, kind, user_id, batch_id, line, added_at,
          added_by_user_id, added_by_batch_id, added_line)
        SELECT ${batch.declarant_id}, account_number, 'removed', ${batch.user_id}, ${batch.id}, line, added_at,
          added_by_user_id, added_by_batch_id, added_line
        FROM gone
      `.execute(trx);
    }
  }

  await sql`
    UPDATE batch SET added = added + ${c.added}, removed = removed + ${c.removed}, updated = updated + ${c.updated},
      unchanged = unchanged + ${c.unchanged}, rejected = rejected + ${c.rejected}
    WHERE id = ${batch.id}
  `.execute(trx);
  return true;
}

/**
 * Fixes how the batch is cut into chunks, once: its chunk size, where the grid starts (0, or where a batch applied
 * the earlier way had got to) and its last line. Returns the batch as it then stands.
 */
export async function planChunks(db: Kysely<Database>, batchId: number, chunkLines: number): Promise<Batch> {
  return db
    .updateTable('batch')
    .set({
      chunk_lines: sql<number>`coalesce(chunk_lines, ${chunkLines})`,
      chunk_origin: sql<number>`coalesce(chunk_origin, applied_through)`,
      last_line: sql<number>`coalesce(last_line, (SELECT coalesce(max(line), 0) FROM batch_row WHERE batch_id = ${batchId}))`,
    })
    .where('id', '=', batchId)
    .returningAll()
    .executeTakeFirstOrThrow();
}

/** Chunk starts not applied yet, in order, and the highest one applied (chunks below it are never left out). */
export async function pendingChunks(db: Kysely<Database>, batch: Batch): Promise<{ pending: number[]; highestApplied: number }> {
  const { rows } = await sql<{ first: number; applied: boolean }>`
    SELECT s AS first, EXISTS (SELECT 1 FROM batch_chunk c WHERE c.batch_id = ${batch.id} AND c.first_line = s) AS applied
    FROM generate_series(${batch.chunk_origin}::int, ${batch.last_line}::int - 1, ${batch.chunk_lines}::int) AS s
    WHERE s >= ${batch.applied_through}
  `.execute(db);
  const applied = rows.filter((r) => r.applied).map((r) => r.first);
  return { pending: rows.filter((r) => !r.applied).map((r) => r.first), highestApplied: applied.length ? Math.max(...applied) : -1 };
}

/**
 * Moves the checkpoint — every line up to it applied — to the first chunk not applied yet (the last line when
 * none). Only forward: two connections may move it in either order.
 */
export async function advanceCheckpoint(db: Kysely<Database> | Transaction<Database>, batchId: number): Promise<Batch> {
  return db
    .updateTable('batch as b')
    .set({
      applied_through: sql<number>`greatest(b.applied_through, coalesce(
        (SELECT min(s) FROM generate_series(b.chunk_origin, b.last_line - 1, b.chunk_lines) AS s
         WHERE s >= b.applied_through AND NOT EXISTS (SELECT 1 FROM batch_chunk c WHERE c.batch_id = b.id AND c.first_line = s)),
        b.last_line))`,
    })
    .where('b.id', '=', batchId)
    .returningAll()
    .executeTakeFirstOrThrow();
}

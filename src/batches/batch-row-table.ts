import type pg from 'pg';
import { inTransaction, withClient } from '../db/connect.ts';

/**
 * Each batch's rows live in a table of their own, a partition of batch_row, written unindexed while the file is
 * judged, then indexed in bulk and attached when the batch is staged: sorted index builds instead of a random
 * insertion per row and per index (at a million rows, 8.4 s of index upkeep against 1.1 s for the rows).
 */
export function batchRowTable(batchId: number): string {
  if (!Number.isSafeInteger(batchId) || batchId <= 0) throw new Error(`not a batch id: ${batchId}`);
  return `batch_row_${batchId}`;
}

/** A fresh, unindexed table for the batch's rows, seen by no other session until it is attached. */
export async function createBatchRowTable(client: pg.PoolClient, batchId: number): Promise<string> {
  const table = batchRowTable(batchId);
  await client.query(`DROP TABLE IF EXISTS ${table}`);
  // The CHECK constraint proves the partition bound, so attaching does not scan the rows again.
  await client.query(`CREATE TABLE ${table} (LIKE batch_row INCLUDING DEFAULTS, CHECK (batch_id = ${batchId}))`);
  return table;
}

/**
 * Indexes the rows in line order (what applying them walks), with planner statistics on the columns the apply and
 * the batch page filter on: ~0.1 s, where every column's (the service arrays, the names) took ~0.25–0.35 s
 * whatever the batch's size — a tenth of a 50,000-row import. The sample is a quarter of the default (7,500 rows
 * instead of 30,000: 55–62 ms instead of 256–324 ms at a million rows): enough for columns of a few values
 * (outcomes, codes) and for identifiers that are mostly unique, and the batch page's plans stay the same.
 */
export async function indexBatchRowTable(client: pg.PoolClient, batchId: number): Promise<void> {
  const table = batchRowTable(batchId);
  // SET LOCAL: for the caller's transaction, or this one string of statements (an implicit transaction).
  await client.query(
    `CREATE UNIQUE INDEX ${table}_line_idx ON ${table} (line); SET LOCAL default_statistics_target = 25;
     ANALYZE ${table} (line, outcome, codes, account_number, siren, siret, client_key);`,
  );
}

/** Makes the rows part of batch_row. Takes a lock that only other attachments wait for: commit soon after. */
export async function attachBatchRowTable(client: pg.PoolClient, batchId: number): Promise<void> {
  await client.query(`ALTER TABLE batch_row ATTACH PARTITION ${batchRowTable(batchId)} FOR VALUES IN (${batchId})`);
}

export async function indexAndAttachBatchRowTable(client: pg.PoolClient, batchId: number): Promise<void> {
  await indexBatchRowTable(client, batchId);
  await attachBatchRowTable(client, batchId);
}

/**
 * The indexes the batch page's searches and filters need — by account number, by SIREN, the rejected rows —
 * built on a connection of their own while the batch is applied (they lock out writes to the rows, which the
 * apply does not make, and use the core the apply leaves idle). Idempotent: a resumed batch builds what is
 * missing; two workers on one batch take turns.
 *
 * The searches are exact, so the identifiers are indexed by their 32-bit hash (searchKey), the query testing the
 * value itself beside it: a sort of integers instead of strings, and a smaller index — at a million rows 0.65 s
 * instead of 1.09 s for the account numbers (21 MB instead of 36), 0.60 s instead of 0.71 s for the SIRENs. Batches
 * indexed before (on the values) are searched through those indexes by the same query.
 */
export async function buildSearchIndexes(pool: pg.Pool, batchId: number): Promise<void> {
  const table = batchRowTable(batchId);
  await withClient(pool, (client) =>
    inTransaction(client, async () => {
      await client.query('SELECT pg_advisory_xact_lock($1, $2)', [SEARCH_INDEX_LOCK_CLASS, batchId]);
      await client.query(`
        CREATE INDEX IF NOT EXISTS ${table}_account_hash_idx ON ${table} (${searchKey('account_number')});
        CREATE INDEX IF NOT EXISTS ${table}_siren_hash_idx ON ${table} (${searchKey('siren')});
        CREATE INDEX IF NOT EXISTS ${table}_rejected_idx ON ${table} (line) WHERE outcome = 'rejected';`);
    }),
  );
}

/** The function a batch's search indexes hash identifiers with: a search hashes its value with it too. */
export const SEARCH_HASH = 'hashtext';

/** The expression a batch's rows are indexed by for searching a column (buildSearchIndexes). */
export function searchKey(column: 'account_number' | 'siren'): string {
  return `${SEARCH_HASH}(${column})`;
}

/** The first key of the advisory lock taken while a batch's search indexes are built (the second is its id). */
const SEARCH_INDEX_LOCK_CLASS = 7302;

import type pg from 'pg';
import { inTransaction, withClient } from '../db/connect.ts';
import type { Outcome } from '../domain/types.ts';
import { messageFor } from '../domain/messages.ts';

/** Failed proofs in the sliding window at which a declarant's adds on an account are locked (SPEC §3). */
export const PROOF_LOCK_THRESHOLD = 5;

const LINE_MARK = 987654321;

/** Columns a row brings out of stage 1, in COPY order. */
export const STAGED_COLUMNS =
  'line, action, client_case, siren, siret, account_number, amount_cents, nir_hash, nir_masked, ' +
  'online_services, email_services, name, codes, message';

/**
 * The staging table's columns: batch_row's, types and all, and the NIR's keyed hash, which judging compares with
 * the registry's and batch_row does not keep.
 */
const STAGED_SELECT = STAGED_COLUMNS.replace('nir_hash', 'NULL::text AS nir_hash');

/** The scratch tables of one batch's reading: its stage-1 rows, then the few facts every part of the judging shares. */
export function stagingTables(batchId: number) {
  if (!Number.isSafeInteger(batchId) || batchId <= 0) throw new Error(`not a batch id: ${batchId}`);
  return { rows: `staged_row_${batchId}`, sirens: `staged_siren_${batchId}`, duplicates: `staged_duplicate_${batchId}` };
}

/**
 * A fresh table for the rows of one file after stage 1: batch_row's stage-1 columns, types and all. Unlogged (no
 * WAL: it is scratch, rebuilt from the file after a crash) and an ordinary table, so that several connections
 * judge its parts at once. Dropped once the batch is staged (dropStagingTables).
 */
export async function createStagingTable(client: pg.PoolClient, batchId: number): Promise<string> {
  await dropStagingTables(client, batchId);
  const { rows } = stagingTables(batchId);
  await client.query(`CREATE UNLOGGED TABLE ${rows} AS SELECT ${STAGED_SELECT} FROM batch_row WITH NO DATA`);
  return rows;
}

export async function dropStagingTables(client: pg.PoolClient, batchId: number): Promise<void> {
  const t = stagingTables(batchId);
  await client.query(`DROP TABLE IF EXISTS ${t.rows}, ${t.sirens}, ${t.duplicates}`);
}

export interface JudgedCounts {
  counts: Record<Outcome, number>;
  codeCounts: Record<string, number>;
}

/** A part of the staged rows, by heap blocks (COPY wrote them in line order): [from, to). */
export type BlockRange = [number, number];

/**
 * Before the parts are judged: planner statistics for the staged rows, and what every part needs of the whole file
 * — the facts of the removes by SIREN alone, and stage 2 (duplicates) — into two small tables. Returns the staged
 * rows cut into `parts` ranges of heap blocks.
 *
 * Stage 2 looks only at the rows `duplicateCandidates` (lines of keys the reader's filter had seen before) and
 * removes by SIREN can concern: the keys of those lines, removes by SIREN alone, and rows naming the one client such a remove
 * found. The first row of a key keeps its judgement; the later ones are DUPLICATE_IN_FILE, whatever they were
 * judged.
 */
export async function prepareJudging(
  client: pg.PoolClient,
  pool: pg.Pool,
  batchId: number,
  declarantId: number,
  duplicateCandidates: number[],
  parts: number,
): Promise<BlockRange[]> {
  const t = stagingTables(batchId);
  // The SIREN facts (an index look-up or two a SIREN) on a connection of their own, while this one gathers the
  // planner's statistics and the candidates' keys; stage 2 needs both. Settled (never rejected) before this returns.
  const sirens = withClient(pool, (other) => withJoinSettings(other, () => sirenFacts(other, t, declarantId))).then(
    () => undefined,
    (err: unknown) => err ?? new Error('SIREN facts failed'),
  );
  try {
    await withJoinSettings(client, async () => {
      // Planner statistics for the staged rows (a file of ten rows probes indexes, a file of a million hashes), on
      // the join keys only: the whole sample of every column costs twice as much. A quarter of the default sample
      // (7,500 rows, as for the batch's rows): 38–40 ms instead of 170–420 ms at a million rows, the same plans.
      await client.query(`SET LOCAL default_statistics_target = 25; ANALYZE ${t.rows} (account_number, siren)`);
      const keys = await candidateKeys(client, t, duplicateCandidates);
      const failed = await sirens;
      if (failed !== undefined) throw failed;
      await duplicates(client, t, keys);
      await client.query(`ANALYZE ${t.sirens}; ANALYZE ${t.duplicates}`);
    });
  } finally {
    await sirens;
  }
  const { rows } = await client.query<{ blocks: number }>(`SELECT pg_relation_size($1)::bigint / current_setting('block_size')::int AS blocks`, [t.rows]);
  const blocks = Number(rows[0].blocks);
  const step = Math.max(1, Math.ceil(blocks / parts));
  const ranges: BlockRange[] = [];
  for (let from = 0; from < blocks; from += step) ranges.push([from, Math.min(blocks, from + step)]);
  return ranges;
}

type StagingTables = ReturnType<typeof stagingTables>;

/** Removes by SIREN alone: does the registry know the SIREN, and which clients of this portfolio it names. */
async function sirenFacts(client: pg.PoolClient, t: StagingTables, declarantId: number): Promise<void> {
  await client.query(
    `CREATE UNLOGGED TABLE ${t.sirens} AS
     SELECT o.siren,
       EXISTS (SELECT 1 FROM account a WHERE a.siren = o.siren) AS known,
       ARRAY(SELECT p.account_number FROM account a
             JOIN portfolio_client p ON p.declarant_id = $1 AND p.account_number = a.account_number
             WHERE a.siren = o.siren ORDER BY 1 LIMIT 2) AS clients
     FROM (SELECT DISTINCT siren FROM ${t.rows} WHERE account_number IS NULL AND cardinality(codes) = 0) o`,
    [declarantId],
  );
}

/** The candidates' keys, as a list whose length the planner then knows: it hashes them, not the file. */
async function candidateKeys(client: pg.PoolClient, t: StagingTables, lines: number[]): Promise<string[]> {
  if (lines.length === 0) return [];
  const { rows } = await client.query<{ key: string }>(
    `SELECT DISTINCT c.account_number AS key FROM ${t.rows} c WHERE c.line IN (SELECT unnest($1::int[]))`,
    [lines],
  );
  return rows.map((r) => r.key);
}

/** Stage 2: every row of a key taken by an earlier row, with that first row's line. */
async function duplicates(client: pg.PoolClient, t: StagingTables, candidateKeys: string[]): Promise<void> {
  await client.query(
    `CREATE UNLOGGED TABLE ${t.duplicates} AS
     WITH keys AS (
       SELECT unnest($1::text[]) AS key
       UNION
       SELECT clients[1] FROM ${t.sirens} WHERE cardinality(clients) = 1
     ),
     -- joined, not tested row by row: a subquery too big for memory would be run again for every row
     candidates AS (
       SELECT s.line, s.account_number, s.siren FROM ${t.rows} s WHERE s.account_number IS NULL AND cardinality(s.codes) = 0
       UNION ALL
       SELECT s.line, s.account_number, s.siren FROM ${t.rows} s JOIN keys k ON k.key = s.account_number
       WHERE cardinality(s.codes) = 0
     )
     SELECT line, first FROM (
       SELECT c.line, min(c.line) OVER (PARTITION BY
         coalesce(c.account_number, CASE WHEN cardinality(f.clients) = 1 THEN f.clients[1] ELSE c.siren END)) AS first
       FROM candidates c LEFT JOIN ${t.sirens} f ON c.account_number IS NULL AND f.siren = c.siren
     ) d WHERE line <> first`,
    [candidateKeys],
  );
}

/**
 * Stages 3 and 4 of SPEC §3 (and stage 2's verdicts, from prepareJudging) for the staged rows in one range of
 * blocks, as hash joins of those rows against the registry, the portfolio and the recent failed proofs (row-by-row
 * index probes cost ~18 µs a row at a million rows), into the batch's rows table with the client key, codes,
 * planned outcome and message. Parts are independent: several connections judge several parts at once. One scan of
 * the part with every fact joined to it, then the checks and the outcome each computed once a row: at a million
 * rows ~10 % less time than a statement that scanned the part twice (removes by SIREN alone apart) and carried
 * every row through three more levels.
 *
 * Mirrors the rules as they read: a row that failed stage 1 keeps its codes; a later row of a key already taken
 * is a duplicate; otherwise one code alone (CLIENT_AMBIGUOUS, ACCOUNT_UNKNOWN, PROOF_LOCKED) when it applies; then
 * every failing registry check, in the codes' order; then the portfolio decides.
 */
export async function judgePart(
  client: pg.PoolClient,
  table: string,
  batchId: number,
  declarantId: number,
  [from, to]: BlockRange,
): Promise<void> {
  const t = stagingTables(batchId);
  const part = `s.ctid >= '(${from},0)'::tid AND s.ctid < '(${to},0)'::tid`;
  // The message names the first row's line: the text around it, for SQL to put the line in.
  const duplicateMessage = messageFor('DUPLICATE_IN_FILE', { line: LINE_MARK }).split(String(LINE_MARK));
  await withJoinSettings(client, async () => {
    // Most firms have no failed proof in the window: then no row needs joining with them (a join that finds
    // nothing still costs ~0.7 µs a row). None can appear meanwhile: the firm's other batches wait for this one.
    const { rows } = await client.query<{ any: boolean }>(
      `SELECT EXISTS (SELECT 1 FROM proof_failure WHERE declarant_id = $1 AND at > now() - interval '24 hours') AS any`,
      [declarantId],
    );
    const failures = rows[0].any;
    // The client key a row is looked up by: its account number; for a remove by SIREN alone, the one client of
    // the portfolio its SIREN names. Rows without one (malformed, SIREN naming no or several clients) look up
    // '#line', which matches nothing: NULL keys would all share one hash bucket.
    const joinKey = `coalesce(CASE WHEN s.message = '' THEN coalesce(s.account_number,
      CASE WHEN cardinality(f.clients) = 1 THEN f.clients[1] END) END, '#' || s.line)`;
    await client.query(
      `WITH failures AS (
         SELECT account_number, count(*) AS n FROM proof_failure
         WHERE declarant_id = $2 AND at > now() - interval '24 hours' GROUP BY account_number
       ),
       -- One scan of the part, every fact a row is judged on joined to it. A row failed stage 1 when it has a
       -- message (its codes'); a judged row's message is composed when read (see rowMessage).
       facts AS (
         SELECT s.*, s.message <> '' AS malformed, f.known AS siren_known, f.clients AS siren_clients,
           d.first AS duplicate_of,
           a.account_number IS NOT NULL AS known, a.kind, a.siren AS account_siren, a.name AS account_name,
           a.nir_hash AS account_nir_hash, a.reference_amount_cents AS reference_amount, a.status,
           p.account_number IS NOT NULL AS in_portfolio, p.online_services AS portfolio_online,
           p.email_services AS portfolio_email, ${failures ? 'coalesce(fl.n, 0)' : '0'} AS failures
         FROM ${t.rows} s
         -- the SIREN facts, for removes by SIREN alone; any other row looks up a value no SIREN has, never NULL
         -- (were the file ever the hashed side, its rows without a SIREN would otherwise share one bucket)
         LEFT JOIN ${t.sirens} f ON f.siren =
           CASE WHEN s.account_number IS NULL AND s.message = '' THEN s.siren ELSE coalesce(s.account_number, '#' || s.line) END
         LEFT JOIN ${t.duplicates} d ON d.line = s.line
         LEFT JOIN account a ON a.account_number = ${joinKey}
         LEFT JOIN portfolio_client p ON p.declarant_id = $2 AND p.account_number = ${joinKey}
         ${failures ? `LEFT JOIN failures fl ON fl.account_number = ${joinKey}` : ''}
         WHERE ${part}
       ),
       -- Stage 3. A later row of a key already taken is a duplicate, whatever else it is.
       checks AS (
         SELECT x.*,
           CASE WHEN malformed OR duplicate_of IS NOT NULL THEN NULL
                WHEN action = 'remove' AND account_number IS NULL AND siren_known AND cardinality(siren_clients) > 1 THEN 'CLIENT_AMBIGUOUS'
                WHEN NOT known AND (action = 'add' OR account_number IS NOT NULL OR NOT coalesce(siren_known, false)) THEN 'ACCOUNT_UNKNOWN'
                WHEN action = 'add' AND failures >= ${PROOF_LOCK_THRESHOLD} THEN 'PROOF_LOCKED' END AS sole_code,
           -- a remove names its client by account number, or by a SIREN that found exactly one: then "known"
           known AND client_case IS NOT NULL AND kind <> client_case AS case_mismatch,
           known AND account_number IS NOT NULL AND siren IS NOT NULL AND account_siren IS DISTINCT FROM siren AS siren_mismatch,
           -- the proof is compared only when the case matches
           action = 'add' AND known AND kind = client_case AND client_case <> 'independent'
             AND (amount_cents IS NULL OR reference_amount IS DISTINCT FROM amount_cents) AS amount_mismatch,
           action = 'add' AND known AND kind = client_case AND client_case = 'independent'
             AND (nir_hash IS NULL OR account_nir_hash IS DISTINCT FROM nir_hash) AS nir_mismatch,
           action = 'add' AND known AND status = 'struck_off' AS struck_off
         FROM facts x
         OFFSET 0 -- a fence: each check is computed once a row, not once in every expression that uses it
       ),
       -- Stage 4.
       judged AS (
         SELECT c.*,
           CASE WHEN malformed OR duplicate_of IS NOT NULL OR sole_code IS NOT NULL
                  OR case_mismatch OR siren_mismatch OR amount_mismatch OR nir_mismatch OR struck_off THEN 'rejected'
                WHEN action = 'add' AND NOT in_portfolio THEN 'added'
                -- a file without a services column leaves the client's services as they are
                WHEN action = 'add' AND (online_services IS NULL
                    OR (cardinality(online_services) = cardinality(portfolio_online) AND portfolio_online <@ online_services))
                  AND (email_services IS NULL
                    OR (cardinality(email_services) = cardinality(portfolio_email) AND portfolio_email <@ email_services)) THEN 'unchanged'
                WHEN action = 'add' THEN 'updated'
                WHEN in_portfolio THEN 'removed'
                ELSE 'unchanged' END AS outcome
         FROM checks c
         OFFSET 0 -- a fence: the outcome is computed once a row
       )
       INSERT INTO ${table} (batch_id, line, action, client_case, siren, siret, account_number, amount_cents,
         nir_masked, online_services, email_services, name, client_key, codes, outcome, message, client_siren, client_name)
       SELECT $1, line, action, client_case, siren, siret, account_number, amount_cents, nir_masked,
         online_services, email_services, name,
         CASE WHEN NOT malformed THEN coalesce(account_number, CASE WHEN cardinality(siren_clients) = 1 THEN siren_clients[1] END, siren) END,
         CASE WHEN malformed THEN codes
              WHEN duplicate_of IS NOT NULL THEN '{DUPLICATE_IN_FILE}'
              WHEN sole_code IS NOT NULL THEN ARRAY[sole_code]
              -- every failing check of stage 3, in the codes' order
              WHEN outcome = 'rejected' THEN array_remove(ARRAY[
                CASE WHEN case_mismatch THEN 'CASE_MISMATCH' END,
                CASE WHEN siren_mismatch THEN 'ACCOUNT_SIREN_MISMATCH' END,
                CASE WHEN amount_mismatch THEN 'AMOUNT_MISMATCH' END,
                CASE WHEN nir_mismatch THEN 'NIR_MISMATCH' END,
                CASE WHEN struck_off THEN 'ACCOUNT_STRUCK_OFF' END], NULL)
              WHEN outcome = 'unchanged' AND action = 'add' THEN '{ALREADY_IN_PORTFOLIO}'
              WHEN outcome = 'unchanged' THEN '{NOT_IN_PORTFOLIO}'
              ELSE '{}' END::text[],
         outcome,
         CASE WHEN duplicate_of IS NOT NULL THEN $3 || duplicate_of || $4 WHEN malformed THEN message ELSE '' END,
         -- what an added client takes from the registry, so that applying it needs no second look-up
         CASE WHEN outcome = 'added' THEN account_siren END,
         CASE WHEN outcome = 'added' THEN coalesce(name, account_name, '') END
       FROM judged`,
      [batchId, declarantId, ...duplicateMessage],
    );
  });
}

/** Runs `work` in a transaction with the settings of statements joining a whole file, committed if it succeeds. */
function withJoinSettings(client: pg.PoolClient, work: () => Promise<void>): Promise<void> {
  return inTransaction(client, async () => {
    // Hash tables of a million-row file mostly in memory (the registry's spills to a second batch; more measured no
    // faster); only this transaction.
    // JIT compiling these statements' many expressions costs more than it saves (~0.4 s).
    // Index look-ups priced as on SSD or cached data (the default, 4, prices a spinning disk): a file small beside
    // the registry looks its accounts up instead of hashing the whole registry — 50,000 rows against 1,000,000
    // accounts: judging 0.35–0.42 s instead of 0.84–0.91 s; a file as large as the registry still hashes it.
    await client.query(`SET LOCAL work_mem = '64MB'; SET LOCAL jit = off; SET LOCAL random_page_cost = 1.1`);
    await work();
  });
}

/** The outcome and code counts of a batch's judged rows. */
export async function countJudged(client: pg.PoolClient, table: string): Promise<JudgedCounts> {
  // Counted afterwards: cheaper than RETURNING every row into a tuple store for the same count.
  const { rows } = await client.query<{ outcome: Outcome; codes: string[]; n: number }>(
    `SELECT outcome, codes, count(*)::int AS n FROM ${table} GROUP BY outcome, codes`,
  );
  const counts: Record<Outcome, number> = { added: 0, removed: 0, updated: 0, unchanged: 0, rejected: 0 };
  const codeCounts: Record<string, number> = {};
  for (const r of rows) {
    counts[r.outcome] += r.n;
    for (const c of r.codes) codeCounts[c] = (codeCounts[c] ?? 0) + r.n;
  }
  return { counts, codeCounts };
}

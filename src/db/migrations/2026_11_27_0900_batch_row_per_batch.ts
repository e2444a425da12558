import { type Kysely, sql } from 'kysely';

// Frozen: never import application code here, never change once landed.

// A million-row file spent more time keeping batch_row's search indexes up to date, one random insertion at a
// time, than writing the rows (8.4 s against 1.1 s measured). batch_row becomes a table partitioned by batch:
// each batch's rows go into a table of their own, written unindexed, then indexed in bulk (a sorted build) and
// attached. The indexes live on each batch's table, without the batch id in them.
//
// The rows of an added client also carry what the portfolio takes from the registry (siren, name), so that
// applying them needs no second look-up per row in the registry.
//
// Chunks of a batch are applied by two connections at once, each chunk recorded in batch_chunk (its key makes
// a chunk apply once); the batch keeps how it is cut (chunk_lines from chunk_origin up to last_line).
//
// Upload chunks are compressed with lz4 rather than pglz where the server has it: pglz took ~1 s of the server's
// time to store a 100 MB upload and again to read it back; lz4 is several times faster for about the same size.
//
// portfolio_client loses its index by SIREN (a random insertion per added client, ~2 s a million): a SIREN names
// the registry's accounts that carry it (account_siren_idx), whose clients are then found by primary key.
//
// portfolio_event loses its primary key: a chunk writes its events in the same transaction as its checkpoint, so
// a chunk never writes them twice, and the key cost one more random index insertion per event.

export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    ALTER TABLE batch_row RENAME TO batch_row_legacy;
    CREATE TABLE batch_row (
      batch_id bigint NOT NULL,
      line integer NOT NULL,
      action text,
      client_case text,
      siren text,
      siret text,
      account_number text,
      amount_cents bigint,
      nir_hash text,
      nir_masked text,
      online_services text[],
      email_services text[],
      name text,
      client_key text,
      codes text[] NOT NULL DEFAULT '{}',
      outcome text,
      message text NOT NULL DEFAULT '',
      client_siren text,
      client_name text
    ) PARTITION BY LIST (batch_id);
  `.execute(db);

  const { rows } = await sql<{ batch_id: string }>`SELECT DISTINCT batch_id FROM batch_row_legacy ORDER BY 1`.execute(db);
  for (const { batch_id } of rows) {
    const id = Number(batch_id);
    const table = sql.raw(`batch_row_${id}`);
    await sql`CREATE TABLE ${table} (LIKE batch_row INCLUDING DEFAULTS, CHECK (batch_id = ${sql.lit(id)}))`.execute(db);
    await sql`
      INSERT INTO ${table} (batch_id, line, action, client_case, siren, siret, account_number, amount_cents, nir_hash,
        nir_masked, online_services, email_services, name, client_key, codes, outcome, message, client_siren, client_name)
      SELECT r.batch_id, r.line, r.action, r.client_case, r.siren, r.siret, r.account_number, r.amount_cents, r.nir_hash,
        r.nir_masked, r.online_services, r.email_services, r.name, r.client_key, r.codes, r.outcome, r.message,
        a.siren, CASE WHEN r.outcome = 'added' THEN coalesce(r.name, a.name, '') END
      FROM batch_row_legacy r LEFT JOIN account a ON r.outcome = 'added' AND a.account_number = r.client_key
      WHERE r.batch_id = ${id}
    `.execute(db);
    await sql`
      CREATE UNIQUE INDEX ${sql.raw(`batch_row_${id}_line_idx`)} ON ${table} (line);
      CREATE INDEX ${sql.raw(`batch_row_${id}_account_idx`)} ON ${table} (account_number);
      CREATE INDEX ${sql.raw(`batch_row_${id}_siren_idx`)} ON ${table} (siren);
      CREATE INDEX ${sql.raw(`batch_row_${id}_rejected_idx`)} ON ${table} (line) WHERE outcome = 'rejected';
      ALTER TABLE batch_row ATTACH PARTITION ${table} FOR VALUES IN (${sql.lit(id)});
    `.execute(db);
  }
  await sql`
    DROP TABLE batch_row_legacy;
    ALTER TABLE portfolio_event DROP CONSTRAINT portfolio_event_pkey;
    DROP INDEX portfolio_client_siren_idx;
    ALTER TABLE batch ADD COLUMN chunk_lines integer, ADD COLUMN chunk_origin integer, ADD COLUMN last_line integer;
    CREATE TABLE batch_chunk (
      batch_id bigint NOT NULL,
      first_line integer NOT NULL,
      PRIMARY KEY (batch_id, first_line)
    );
    DO $$ BEGIN
      ALTER TABLE upload_chunk ALTER COLUMN data SET COMPRESSION lz4;
    EXCEPTION WHEN OTHERS THEN
      RAISE NOTICE 'lz4 not available (%): upload chunks stay compressed with pglz', SQLERRM;
    END $$;
  `.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`
    ALTER TABLE upload_chunk ALTER COLUMN data SET COMPRESSION default;
    DROP TABLE batch_chunk;
    ALTER TABLE batch DROP COLUMN chunk_lines, DROP COLUMN chunk_origin, DROP COLUMN last_line;
    ALTER TABLE portfolio_event ADD PRIMARY KEY (batch_id, line);
    CREATE INDEX portfolio_client_siren_idx ON portfolio_client (declarant_id, siren);
    CREATE TABLE batch_row_flat (LIKE batch_row INCLUDING DEFAULTS);
    INSERT INTO batch_row_flat SELECT * FROM batch_row;
    DROP TABLE batch_row;
    ALTER TABLE batch_row_flat RENAME TO batch_row;
    ALTER TABLE batch_row DROP COLUMN client_siren, DROP COLUMN client_name;
    ALTER TABLE batch_row ADD PRIMARY KEY (batch_id, line);
    CREATE INDEX batch_row_account_idx ON batch_row (batch_id, account_number);
    CREATE INDEX batch_row_siren_idx ON batch_row (batch_id, siren);
    CREATE INDEX batch_row_rejected_idx ON batch_row (batch_id, line) WHERE outcome = 'rejected';
  `.execute(db);
}

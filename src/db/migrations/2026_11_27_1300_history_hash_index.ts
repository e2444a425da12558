import { type Kysely, sql } from 'kysely';

// Frozen: never import application code here, never change once landed.

// A client's history is only ever looked up by its account number (then its firm), never by a range: a hash index
// on the account number serves it, and costs an applied chunk less than a B-tree on (firm, account, time) — no
// descent with comparisons per row. Measured inserting 700,000 events in random order: 1.6–1.8 s against 3.0–3.2 s
// (the table alone: 0.7 s).

export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    DROP INDEX portfolio_event_client_idx;
    CREATE INDEX portfolio_event_account_idx ON portfolio_event USING hash (account_number);
  `.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`
    DROP INDEX portfolio_event_account_idx;
    CREATE INDEX portfolio_event_client_idx ON portfolio_event (declarant_id, account_number, at);
  `.execute(db);
}

import { type Kysely, sql } from 'kysely';

// Frozen: never import application code here, never change once landed.

// A client's add is recorded once, on its portfolio row (who, when, which batch and line), instead of also as an
// 'added' history row: a portfolio takeover is mostly adds, and their history rows (a heap row and a hash-index
// entry each) were ~4 of ~19 s of a million-row apply's database time. When the client is removed, its 'removed'
// event keeps the add it ends. portfolio_history puts the three together as one list of events: explicit events
// (updates, removals, and the 'added' events written before this migration), the adds of current clients, the
// adds of removed ones. A row added before this migration has no added_line: its add is its explicit event.

export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    ALTER TABLE portfolio_client ADD COLUMN added_line integer;
    ALTER TABLE portfolio_event ADD COLUMN added_at timestamptz, ADD COLUMN added_by_user_id bigint,
      ADD COLUMN added_by_batch_id bigint, ADD COLUMN added_line integer;
    CREATE VIEW portfolio_history AS
      SELECT declarant_id, account_number, kind, at, user_id, batch_id, line FROM portfolio_event
      UNION ALL
      SELECT declarant_id, account_number, 'added', added_at, added_by_user_id, added_by_batch_id, added_line
      FROM portfolio_client WHERE added_line IS NOT NULL
      UNION ALL
      SELECT declarant_id, account_number, 'added', added_at, added_by_user_id, added_by_batch_id, added_line
      FROM portfolio_event WHERE kind = 'removed' AND added_line IS NOT NULL;
  `.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`
    INSERT INTO portfolio_event (declarant_id, account_number, kind, at, user_id, batch_id, line)
      SELECT declarant_id, account_number, 'added', added_at, added_by_user_id, added_by_batch_id, added_line
      FROM portfolio_client WHERE added_line IS NOT NULL
      UNION ALL
      SELECT declarant_id, account_number, 'added', added_at, added_by_user_id, added_by_batch_id, added_line
      FROM portfolio_event WHERE kind = 'removed' AND added_line IS NOT NULL;
    DROP VIEW portfolio_history;
    ALTER TABLE portfolio_event DROP COLUMN added_at, DROP COLUMN added_by_user_id, DROP COLUMN added_by_batch_id,
      DROP COLUMN added_line;
    ALTER TABLE portfolio_client DROP COLUMN added_line;
  `.execute(db);
}

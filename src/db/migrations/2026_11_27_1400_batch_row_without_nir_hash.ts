import { type Kysely, sql } from 'kysely';

// Frozen: never import application code here, never change once landed.

// A row's NIR hash is needed only while its batch is judged (compared with the registry's): it stays in the
// scratch staging table and is no longer kept with the batch's rows for as long as they are. Less personal data
// kept, and ~13 bytes less a row on average to write, scan and apply.

export async function up(db: Kysely<any>): Promise<void> {
  await sql`ALTER TABLE batch_row DROP COLUMN nir_hash`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`ALTER TABLE batch_row ADD COLUMN nir_hash text`.execute(db);
}

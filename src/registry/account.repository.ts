import { sql, type Kysely } from 'kysely';
import type { Database } from '../db/database.ts';
import type { ClientCase } from '../domain/types.ts';
import { hashNir } from '../users/secret.ts';

export interface AccountInput {
  accountNumber: string;
  kind: ClientCase;
  siren: string | null;
  /** In clear here; stored only as a keyed hash. */
  nir: string | null;
  referenceAmountCents: number | null;
  status: 'active' | 'struck_off';
  name: string;
}

/** Inserts or updates registry accounts in one statement; returns how many were new and how many updated. */
export async function upsertAccounts(
  db: Kysely<Database>,
  accounts: readonly AccountInput[],
  nirHashKey: string,
): Promise<{ inserted: number; updated: number }> {
  if (accounts.length === 0) return { inserted: 0, updated: 0 };
  const { rows } = await sql<{ inserted: boolean }>`
    INSERT INTO account AS a (account_number, kind, siren, nir_hash, reference_amount_cents, status, name, updated_at)
    SELECT u.account_number, u.kind, u.siren, u.nir_hash, u.amount, u.status, u.name, now()
    FROM unnest(${accounts.map((a) => a.accountNumber)}::text[], ${accounts.map((a) => a.kind)}::text[],
      ${accounts.map((a) => a.siren)}::text[], ${accounts.map((a) => (a.nir ? hashNir(nirHashKey, a.nir) : null))}::text[],
      ${accounts.map((a) => a.referenceAmountCents)}::bigint[], ${accounts.map((a) => a.status)}::text[],
      ${accounts.map((a) => a.name)}::text[]) AS u(account_number, kind, siren, nir_hash, amount, status, name)
    ON CONFLICT (account_number) DO UPDATE SET kind = excluded.kind, siren = excluded.siren, nir_hash = excluded.nir_hash,
      reference_amount_cents = excluded.reference_amount_cents, status = excluded.status, name = excluded.name, updated_at = now()
    RETURNING (xmax = 0) AS inserted
  `.execute(db);
  const inserted = rows.filter((r) => r.inserted).length;
  return { inserted, updated: rows.length - inserted };
}

import { sql, type Transaction } from 'kysely';
import type { Database } from '../db/database.ts';
import { joinMessages, messageFor } from '../domain/messages.ts';

/**
 * Stage 2, once for the whole batch, under the batch's row lock, against the portfolio as it stands when the
 * batch starts applying: gives every row that passed stage 1 its client key, marks later rows of a key
 * DUPLICATE_IN_FILE, and a remove by SIREN alone that names several clients CLIENT_AMBIGUOUS.
 * Rows with an account number got their key (the account) when staged.
 */
export async function resolveClientKeys(trx: Transaction<Database>, batchId: number, declarantId: number): Promise<void> {
  // A remove by SIREN alone: the one portfolio client that SIREN names, else the SIREN itself.
  const bySiren = await sql<{ line: number; siren: string; accounts: string[] | null }>`
    SELECT r.line, r.siren,
      (SELECT array_agg(p.account_number ORDER BY p.account_number) FROM portfolio_client p
        WHERE p.declarant_id = ${declarantId} AND p.siren = r.siren) AS accounts
    FROM batch_row r
    WHERE r.batch_id = ${batchId} AND r.codes = '{}' AND r.action = 'remove' AND r.account_number IS NULL
  `.execute(trx);
  const ambiguous = new Set<number>();
  if (bySiren.rows.length > 0) {
    const lines: number[] = [];
    const keys: string[] = [];
    for (const r of bySiren.rows) {
      lines.push(r.line);
      keys.push(r.accounts?.length === 1 ? r.accounts[0] : r.siren);
      if ((r.accounts?.length ?? 0) > 1) ambiguous.add(r.line);
    }
    await sql`
      UPDATE batch_row r SET client_key = k.key
      FROM unnest(${lines}::int[], ${keys}::text[]) AS k(line, key)
      WHERE r.batch_id = ${batchId} AND r.line = k.line
    `.execute(trx);
  }

  const duplicates = await sql<{ line: number; first: number }>`
    SELECT line, first FROM (
      SELECT line, min(line) OVER (PARTITION BY client_key) AS first
      FROM batch_row WHERE batch_id = ${batchId} AND codes = '{}'
    ) d WHERE line <> first
  `.execute(trx);
  const marks = new Map<number, { code: string; message: string }>();
  for (const d of duplicates.rows) {
    marks.set(d.line, { code: 'DUPLICATE_IN_FILE', message: messageFor('DUPLICATE_IN_FILE', { line: d.first }) });
  }
  for (const line of ambiguous) {
    if (!marks.has(line)) marks.set(line, { code: 'CLIENT_AMBIGUOUS', message: joinMessages([messageFor('CLIENT_AMBIGUOUS')]) });
  }
  if (marks.size > 0) {
    const lines = [...marks.keys()];
    await sql`
      UPDATE batch_row r SET codes = ARRAY[m.code], message = m.message
      FROM unnest(${lines}::int[], ${lines.map((l) => marks.get(l)!.code)}::text[], ${lines.map((l) => marks.get(l)!.message)}::text[])
        AS m(line, code, message)
      WHERE r.batch_id = ${batchId} AND r.line = m.line
    `.execute(trx);
  }
}

import { sql, type Transaction } from 'kysely';
import type { Batch, Database } from '../db/database.ts';
import type { Outcome } from '../domain/types.ts';
import { joinMessages, messageFor } from '../domain/messages.ts';
import { judgeRow, type RowToJudge } from './judge.ts';

export interface ChunkResult {
  /** Rows judged in this chunk (0: the batch had none left). */
  rows: number;
  appliedThrough: number;
}

interface JoinedRow {
  line: number;
  action: string | null;
  client_case: string | null;
  siren: string | null;
  account_number: string | null;
  amount_cents: number | null;
  nir_hash: string | null;
  online_services: string[] | null;
  email_services: string[] | null;
  name: string | null;
  client_key: string | null;
  codes: string[];
  message: string;
  a_account: string | null;
  a_kind: string | null;
  a_siren: string | null;
  a_nir_hash: string | null;
  a_amount: number | null;
  a_status: string | null;
  a_name: string | null;
  siren_known: boolean;
  p_account: string | null;
  p_online: string[] | null;
  p_email: string[] | null;
  failures: number;
}

/**
 * Judges (stages 3–4) and applies the next chunk of a batch in the caller's transaction: outcomes, portfolio
 * changes and their history, failed proofs, live counts and the checkpoint all commit together, so a chunk
 * that is retried after a crash either finds its checkpoint moved (and does nothing) or starts clean.
 * The caller holds the batch row locked (FOR UPDATE), which serialises any two workers on one batch.
 */
export async function applyNextChunk(trx: Transaction<Database>, batch: Batch, chunkSize: number): Promise<ChunkResult> {
  const dryRun = batch.mode === 'dry_run';
  const { rows } = await sql<JoinedRow>`
    SELECT r.line, r.action, r.client_case, r.siren, r.account_number, r.amount_cents, r.nir_hash,
      r.online_services, r.email_services, r.name, r.client_key, r.codes, r.message,
      a.account_number AS a_account, a.kind AS a_kind, a.siren AS a_siren, a.nir_hash AS a_nir_hash,
      a.reference_amount_cents AS a_amount, a.status AS a_status, a.name AS a_name,
      (r.action = 'remove' AND r.account_number IS NULL AND a.account_number IS NULL AND r.codes = '{}'
        AND EXISTS (SELECT 1 FROM account s WHERE s.siren = r.siren)) AS siren_known,
      p.account_number AS p_account, p.online_services AS p_online, p.email_services AS p_email,
      CASE WHEN r.action = 'add' AND r.codes = '{}' AND a.account_number IS NOT NULL THEN
        (SELECT count(*)::int FROM proof_failure f
          WHERE f.declarant_id = ${batch.declarant_id} AND f.account_number = a.account_number
            AND f.at > now() - interval '24 hours')
      ELSE 0 END AS failures
    FROM (
      SELECT * FROM batch_row WHERE batch_id = ${batch.id} AND line > ${batch.applied_through}
      ORDER BY line LIMIT ${chunkSize}
    ) r
    LEFT JOIN account a ON r.codes = '{}' AND a.account_number = r.client_key
    LEFT JOIN portfolio_client p ON r.codes = '{}' AND p.declarant_id = ${batch.declarant_id}
      AND p.account_number = r.client_key
    ORDER BY r.line
  `.execute(trx);
  if (rows.length === 0) return { rows: 0, appliedThrough: batch.applied_through };

  const lines: number[] = [];
  const outcomes: Outcome[] = [];
  const codesOut: string[] = [];
  const messages: string[] = [];
  const counts: Record<Outcome, number> = { added: 0, removed: 0, updated: 0, unchanged: 0, rejected: 0 };
  const codeCounts: Record<string, number> = { ...batch.code_counts };
  const upserts: { account: string; kind: string; siren: string | null; name: string; online: string[] | null; email: string[] | null; line: number; added: boolean }[] = [];
  const removals: { account: string; line: number }[] = [];
  const proofFailures: { account: string; line: number }[] = [];

  for (const r of rows) {
    const toJudge: RowToJudge = {
      line: r.line,
      action: r.action,
      clientCase: r.client_case,
      siren: r.siren,
      accountNumber: r.account_number,
      amountCents: r.amount_cents,
      nirHash: r.nir_hash,
      onlineServices: r.online_services,
      emailServices: r.email_services,
      codes: r.codes,
      account: r.a_account
        ? { kind: r.a_kind!, siren: r.a_siren, nirHash: r.a_nir_hash, referenceAmountCents: r.a_amount, status: r.a_status! }
        : null,
      sirenKnown: r.siren_known,
      portfolio: r.p_account ? { onlineServices: r.p_online ?? [], emailServices: r.p_email ?? [] } : null,
      recentProofFailures: r.failures,
    };
    const j = judgeRow(toJudge);
    lines.push(r.line);
    outcomes.push(j.outcome);
    codesOut.push(j.codes.join(','));
    // Stage 1, duplicates and ambiguity wrote their message when found; later codes get theirs now.
    messages.push(r.codes.length > 0 ? r.message : joinMessages(j.codes.map((c) => messageFor(c))));
    counts[j.outcome]++;
    for (const c of j.codes) codeCounts[c] = (codeCounts[c] ?? 0) + 1;
    if (j.proofFailed) proofFailures.push({ account: r.a_account!, line: r.line });
    if (j.outcome === 'added' || j.outcome === 'updated') {
      upserts.push({
        account: r.a_account!,
        kind: r.a_kind!,
        siren: r.a_siren,
        name: r.name ?? r.a_name ?? '',
        online: r.online_services,
        email: r.email_services,
        line: r.line,
        added: j.outcome === 'added',
      });
    } else if (j.outcome === 'removed') {
      removals.push({ account: r.p_account!, line: r.line });
    }
  }

  await sql`
    UPDATE batch_row r SET outcome = u.outcome, codes = string_to_array(u.codes, ','), message = u.message
    FROM unnest(${lines}::int[], ${outcomes}::text[], ${codesOut}::text[], ${messages}::text[])
      AS u(line, outcome, codes, message)
    WHERE r.batch_id = ${batch.id} AND r.line = u.line
  `.execute(trx);

  if (proofFailures.length > 0) {
    await sql`
      INSERT INTO proof_failure (declarant_id, account_number, batch_id, line)
      SELECT ${batch.declarant_id}, f.account, ${batch.id}, f.line
      FROM unnest(${proofFailures.map((f) => f.account)}::text[], ${proofFailures.map((f) => f.line)}::int[]) AS f(account, line)
      ON CONFLICT (batch_id, line) DO NOTHING
    `.execute(trx);
  }

  if (!dryRun) await applyPortfolioChanges(trx, batch, upserts, removals);

  const last = lines[lines.length - 1];
  await sql`
    UPDATE batch SET applied_through = ${last},
      added = added + ${counts.added}, removed = removed + ${counts.removed}, updated = updated + ${counts.updated},
      unchanged = unchanged + ${counts.unchanged}, rejected = rejected + ${counts.rejected},
      code_counts = ${JSON.stringify(codeCounts)}::jsonb
    WHERE id = ${batch.id}
  `.execute(trx);
  return { rows: rows.length, appliedThrough: last };
}

async function applyPortfolioChanges(
  trx: Transaction<Database>,
  batch: Batch,
  upserts: { account: string; kind: string; siren: string | null; name: string; online: string[] | null; email: string[] | null; line: number; added: boolean }[],
  removals: { account: string; line: number }[],
): Promise<void> {
  if (upserts.length > 0) {
    // Whether a services column exists is a property of the file: without it, an existing client's services
    // stay as they are and a new client gets none.
    const columns = (batch.columns ?? []) as (string | null)[];
    const hasOnline = columns.includes('online_services');
    const hasEmail = columns.includes('email_services');
    await sql`
      INSERT INTO portfolio_client AS p (declarant_id, account_number, client_case, siren, name, online_services,
        email_services, added_by_user_id, added_by_batch_id)
      SELECT ${batch.declarant_id}, u.account, u.kind, u.siren, u.name,
        coalesce(string_to_array(u.online, ','), '{}'), coalesce(string_to_array(u.email, ','), '{}'),
        ${batch.user_id}, ${batch.id}
      FROM unnest(${upserts.map((u) => u.account)}::text[], ${upserts.map((u) => u.kind)}::text[],
        ${upserts.map((u) => u.siren)}::text[], ${upserts.map((u) => u.name)}::text[],
        ${upserts.map((u) => u.online?.join(',') ?? null)}::text[], ${upserts.map((u) => u.email?.join(',') ?? null)}::text[])
        AS u(account, kind, siren, name, online, email)
      ON CONFLICT (declarant_id, account_number) DO UPDATE SET
        online_services = ${hasOnline ? sql`excluded.online_services` : sql`p.online_services`},
        email_services = ${hasEmail ? sql`excluded.email_services` : sql`p.email_services`},
        updated_at = now(), updated_by_batch_id = ${batch.id}
    `.execute(trx);
    await insertEvents(trx, batch, upserts.map((u) => ({ account: u.account, line: u.line, kind: u.added ? 'added' : 'updated' })));
  }
  if (removals.length > 0) {
    await sql`
      DELETE FROM portfolio_client
      WHERE declarant_id = ${batch.declarant_id} AND account_number = ANY(${removals.map((r) => r.account)}::text[])
    `.execute(trx);
    await insertEvents(trx, batch, removals.map((r) => ({ account: r.account, line: r.line, kind: 'removed' })));
  }
}

async function insertEvents(
  trx: Transaction<Database>,
  batch: Batch,
  events: { account: string; line: number; kind: 'added' | 'updated' | 'removed' }[],
): Promise<void> {
  await sql`
    INSERT INTO portfolio_event (declarant_id, account_number, kind, user_id, batch_id, line)
    SELECT ${batch.declarant_id}, e.account, e.kind, ${batch.user_id}, ${batch.id}, e.line
    FROM unnest(${events.map((e) => e.account)}::text[], ${events.map((e) => e.kind)}::text[], ${events.map((e) => e.line)}::int[])
      AS e(account, kind, line)
    ON CONFLICT (batch_id, line) DO NOTHING
  `.execute(trx);
}

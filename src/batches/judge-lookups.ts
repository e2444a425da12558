import { sql, type Kysely } from 'kysely';
import type { Database } from '../db/database.ts';
import type { RowToJudge } from './judge.ts';

/** What the registry and the portfolio say of one account, as a row is judged against them. */
export interface AccountFacts {
  account: RowToJudge['account'];
  name: string | null;
  portfolio: RowToJudge['portfolio'];
  recentProofFailures: number;
}

export interface SirenFacts {
  /** Does any registry account carry this SIREN? */
  known: boolean;
  /** The declarant's current clients with this SIREN. */
  portfolioAccounts: string[];
}

/** One round trip for a whole chunk: registry account, portfolio entry and recent failed proofs of each account. */
export async function lookupAccounts(
  db: Kysely<Database>,
  declarantId: number,
  accounts: string[],
): Promise<Map<string, AccountFacts>> {
  const facts = new Map<string, AccountFacts>();
  if (accounts.length === 0) return facts;
  const { rows } = await sql<{
    acct: string;
    kind: string | null;
    siren: string | null;
    nir_hash: string | null;
    amount: number | null;
    status: string | null;
    name: string | null;
    in_portfolio: boolean;
    online: string[] | null;
    email: string[] | null;
    failures: number;
  }>`
    SELECT k.acct, a.kind, a.siren, a.nir_hash, a.reference_amount_cents AS amount, a.status, a.name,
      p.account_number IS NOT NULL AS in_portfolio, p.online_services AS online, p.email_services AS email,
      (SELECT count(*)::int FROM proof_failure f
        WHERE f.declarant_id = ${declarantId} AND f.account_number = k.acct AND f.at > now() - interval '24 hours') AS failures
    FROM unnest(${accounts}::text[]) AS k(acct)
    LEFT JOIN account a ON a.account_number = k.acct
    LEFT JOIN portfolio_client p ON p.declarant_id = ${declarantId} AND p.account_number = k.acct
  `.execute(db);
  for (const r of rows) {
    facts.set(r.acct, {
      account:
        r.kind === null
          ? null
          : { kind: r.kind, siren: r.siren, nirHash: r.nir_hash, referenceAmountCents: r.amount, status: r.status! },
      name: r.name,
      portfolio: r.in_portfolio ? { onlineServices: r.online ?? [], emailServices: r.email ?? [] } : null,
      recentProofFailures: r.failures,
    });
  }
  return facts;
}

/** For removes by SIREN alone: does the registry know the SIREN, and which of the declarant's clients carry it. */
export async function lookupSirens(
  db: Kysely<Database>,
  declarantId: number,
  sirens: string[],
): Promise<Map<string, SirenFacts>> {
  const facts = new Map<string, SirenFacts>();
  if (sirens.length === 0) return facts;
  const { rows } = await sql<{ siren: string; known: boolean; accounts: string[] | null }>`
    SELECT s.siren,
      EXISTS (SELECT 1 FROM account a WHERE a.siren = s.siren) AS known,
      (SELECT array_agg(p.account_number ORDER BY p.account_number) FROM portfolio_client p
        WHERE p.declarant_id = ${declarantId} AND p.siren = s.siren) AS accounts
    FROM unnest(${sirens}::text[]) AS s(siren)
  `.execute(db);
  for (const r of rows) facts.set(r.siren, { known: r.known, portfolioAccounts: r.accounts ?? [] });
  return facts;
}

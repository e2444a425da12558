import type { Kysely } from 'kysely';
import type { Database } from '../db/database.ts';

export interface ClientFilter {
  /** SIREN, account number, or part of the name. */
  q?: string;
  clientCase?: string;
  struckOffOnly?: boolean;
  /** Keyset: the last account number of the previous page. */
  after?: string;
  limit: number;
}

/** The declarant's current clients, by account number. Always scoped to one declarant. */
export async function listPortfolioClients(db: Kysely<Database>, declarantId: number, filter: ClientFilter) {
  let qb = db
    .selectFrom('portfolio_client as p')
    .leftJoin('account as a', 'a.account_number', 'p.account_number')
    .select([
      'p.account_number',
      'p.siren',
      'p.client_case',
      'p.name',
      'p.online_services',
      'p.email_services',
      'p.added_at',
      'p.added_by_batch_id',
      'a.status',
    ])
    .where('p.declarant_id', '=', declarantId);
  const q = filter.q?.trim();
  if (q) {
    const digits = q.replace(/[\s.\-\u00a0\u202f]/g, '');
    qb = /^\d+$/.test(digits)
      ? qb.where((eb) =>
          eb.or([
            eb('p.account_number', '=', digits),
            // by SIREN: the registry's accounts that carry it (as a remove by SIREN finds them)
            eb('p.account_number', 'in', eb.selectFrom('account as s').select('s.account_number').where('s.siren', '=', digits)),
          ]),
        )
      : qb.where('p.name', 'ilike', `%${q.replace(/[\\%_]/g, '\\$&')}%`);
  }
  if (filter.clientCase) qb = qb.where('p.client_case', '=', filter.clientCase);
  if (filter.struckOffOnly) qb = qb.where('a.status', '=', 'struck_off');
  if (filter.after) qb = qb.where('p.account_number', '>', filter.after);
  const rows = await qb.orderBy('p.account_number').limit(filter.limit + 1).execute();
  const page = rows.slice(0, filter.limit);
  return {
    clients: page.map((r) => ({
      account_number: r.account_number,
      siren: r.siren,
      case: r.client_case,
      name: r.name,
      online_services: r.online_services,
      email_services: r.email_services,
      struck_off: r.status === 'struck_off',
      added_at: r.added_at,
      added_by_batch: r.added_by_batch_id,
    })),
    next: rows.length > filter.limit ? page[page.length - 1].account_number : null,
  };
}

/** A client's history in this declarant's portfolio (added, updated, removed), oldest first. */
export function clientHistory(db: Kysely<Database>, declarantId: number, accountNumber: string) {
  return db
    .selectFrom('portfolio_history as e')
    .leftJoin('app_user as u', 'u.id', 'e.user_id')
    .select(['e.kind', 'e.at', 'e.batch_id', 'e.line', 'u.email as user_email'])
    .where('e.declarant_id', '=', declarantId)
    .where('e.account_number', '=', accountNumber)
    .orderBy('e.at')
    .orderBy('e.batch_id')
    .orderBy('e.line')
    .execute();
}

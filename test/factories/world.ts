import type { Kysely } from 'kysely';
import type { Database } from '../../src/db/database.ts';
import { createApiToken, createUser } from '../../src/users/user.repository.ts';
import { upsertAccounts, type AccountInput } from '../../src/registry/account.repository.ts';
import type { ClientCase } from '../../src/domain/types.ts';
import { accountNumber, nir, siren } from './identifiers.ts';

let n = 0;

/** A firm with one user and an API token. */
export async function createFirm(db: Kysely<Database>, name = `Cabinet ${++n}`) {
  const email = `user${n}-${Date.now()}@${name.toLowerCase().replace(/[^a-z0-9]+/g, '-')}.test`;
  const user = await createUser(db, { declarant: name, email, password: 'correct horse battery' });
  const token = await createApiToken(db, user.id);
  return { user, token, email, declarantId: user.declarant_id };
}

let body = 30_000_000;
/** A registry account with sensible defaults, inserted; returns what a file needs to add it. */
export async function createAccount(
  db: Kysely<Database>,
  nirKey: string,
  overrides: Partial<AccountInput> & { kind?: ClientCase } = {},
): Promise<AccountInput> {
  const kind = overrides.kind ?? 'employer';
  const account: AccountInput = {
    accountNumber: accountNumber(),
    kind,
    siren: kind === 'manager_without_siret' ? null : siren(String(++body)),
    nir: kind === 'independent' ? nir(`1850775${String(100 + (body % 800)).padStart(3, '0')}123`) : null,
    referenceAmountCents: kind === 'independent' ? null : 123_456,
    status: 'active',
    name: `Société ${body}`,
    ...overrides,
  };
  await upsertAccounts(db, [account], nirKey);
  return account;
}

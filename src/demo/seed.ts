import type { Kysely } from 'kysely';
import type { Config } from '../config.ts';
import type { Database } from '../db/database.ts';
import { generateRegistry } from './registry.ts';
import { upsertAccounts, type AccountInput } from '../registry/account.repository.ts';
import { createUser, findUserByEmail } from '../users/user.repository.ts';

export const DEMO_SEED = 20261127;
export const DEMO_REGISTRY_SIZE = 10_000;

export const DEMO_USERS = [
  { role: 'admin', declarant: 'Urssaf (administration)', email: 'admin@demo.test', password: 'admin-demo-2026', isAdmin: true },
  { role: 'cabinet', declarant: 'Cabinet Durand Expertise', email: 'durand@demo.test', password: 'durand-demo-2026', isAdmin: false },
  { role: 'cabinet', declarant: 'Fiduciaire Martin & Associés', email: 'martin@demo.test', password: 'martin-demo-2026', isAdmin: false },
] as const;

/** The demo registry and users; safe to run twice (existing users are kept). */
export async function seedDemo(db: Kysely<Database>, config: Config) {
  let batch: AccountInput[] = [];
  let accounts = 0;
  for (const a of generateRegistry({ count: DEMO_REGISTRY_SIZE, seed: DEMO_SEED })) {
    batch.push(a);
    if (batch.length === 2000) {
      await upsertAccounts(db, batch, config.nirHashKey);
      accounts += batch.length;
      batch = [];
    }
  }
  await upsertAccounts(db, batch, config.nirHashKey);
  accounts += batch.length;
  for (const u of DEMO_USERS) {
    if (!(await findUserByEmail(db, u.email))) await createUser(db, u);
  }
  return { accounts, users: DEMO_USERS };
}

/** An empty database: no user yet. */
export async function isEmptyDatabase(db: Kysely<Database>): Promise<boolean> {
  const row = await db.selectFrom('app_user').select('id').limit(1).executeTakeFirst();
  return row === undefined;
}

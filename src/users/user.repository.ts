import { sql, type Kysely } from 'kysely';
import type { Database, User } from '../db/database.ts';
import { hashPassword } from './password.ts';
import { hashSecret, newSecret } from './secret.ts';

export function normaliseEmail(email: string): string {
  return email.trim().toLowerCase();
}

export async function findOrCreateDeclarant(db: Kysely<Database>, name: string): Promise<number> {
  const inserted = await db
    .insertInto('declarant')
    .values({ name: name.trim() })
    .onConflict((oc) => oc.column('name').doNothing())
    .returning('id')
    .executeTakeFirst();
  if (inserted) return inserted.id;
  const row = await db.selectFrom('declarant').select('id').where('name', '=', name.trim()).executeTakeFirstOrThrow();
  return row.id;
}

export class UserExistsError extends Error {}

export async function createUser(
  db: Kysely<Database>,
  input: { declarant: string; email: string; password: string; isAdmin?: boolean },
): Promise<User> {
  const declarantId = await findOrCreateDeclarant(db, input.declarant);
  const passwordHash = await hashPassword(input.password);
  const user = await db
    .insertInto('app_user')
    .values({
      declarant_id: declarantId,
      email: normaliseEmail(input.email),
      password_hash: passwordHash,
      is_admin: input.isAdmin ?? false,
    })
    .onConflict((oc) => oc.column('email').doNothing())
    .returningAll()
    .executeTakeFirst();
  if (!user) throw new UserExistsError(`A user with e-mail ${normaliseEmail(input.email)} already exists`);
  return user;
}

export function findUserByEmail(db: Kysely<Database>, email: string): Promise<User | undefined> {
  return db.selectFrom('app_user').selectAll().where('email', '=', normaliseEmail(email)).executeTakeFirst();
}

/** Who is acting: the user, their declarant (the tenant every query is scoped by), and whether they administer. */
export interface Actor {
  userId: number;
  declarantId: number;
  declarantName: string;
  email: string;
  isAdmin: boolean;
}

export async function findActorByUserId(db: Kysely<Database>, userId: number): Promise<Actor | undefined> {
  const row = await db
    .selectFrom('app_user')
    .innerJoin('declarant', 'declarant.id', 'app_user.declarant_id')
    .select(['app_user.id', 'app_user.declarant_id', 'declarant.name', 'app_user.email', 'app_user.is_admin'])
    .where('app_user.id', '=', userId)
    .executeTakeFirst();
  return row && { userId: row.id, declarantId: row.declarant_id, declarantName: row.name, email: row.email, isAdmin: row.is_admin };
}

/** Creates an API token for the user; the clear token is returned once and stored only hashed. */
export async function createApiToken(db: Kysely<Database>, userId: number): Promise<string> {
  const token = newSecret('pit_');
  await db.insertInto('api_token').values({ user_id: userId, token_hash: hashSecret(token) }).execute();
  return token;
}

export async function revokeApiToken(db: Kysely<Database>, userId: number, tokenId: number): Promise<boolean> {
  const res = await db
    .updateTable('api_token')
    .set({ revoked_at: new Date() })
    .where('id', '=', tokenId)
    .where('user_id', '=', userId)
    .where('revoked_at', 'is', null)
    .executeTakeFirst();
  return res.numUpdatedRows > 0n;
}

/** How stale a token's last_used_at may get: a client polling its batch every 100 ms does not write as often. */
export const TOKEN_USE_RECORDED_EVERY_SECONDS = 60;

export async function findActorByToken(db: Kysely<Database>, token: string): Promise<Actor | undefined> {
  // One round trip: the token's user, and its last use moved forward only when older than the interval above.
  const { rows } = await sql<{ user_id: number }>`
    WITH t AS (
      SELECT id, user_id, last_used_at FROM api_token WHERE token_hash = ${hashSecret(token)} AND revoked_at IS NULL
    ),
    used AS (
      UPDATE api_token a SET last_used_at = now() FROM t
      WHERE a.id = t.id
        AND (t.last_used_at IS NULL OR t.last_used_at < now() - make_interval(secs => ${TOKEN_USE_RECORDED_EVERY_SECONDS}))
    )
    SELECT user_id FROM t
  `.execute(db);
  return rows[0] ? findActorByUserId(db, Number(rows[0].user_id)) : undefined;
}

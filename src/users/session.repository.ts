import { sql, type Kysely } from 'kysely';
import type { Database } from '../db/database.ts';
import { findActorByUserId, type Actor } from './user.repository.ts';
import { hashSecret, newSecret } from './secret.ts';

/** Server-side sessions: the cookie holds a random id, the database only its hash. */
export async function createSession(db: Kysely<Database>, userId: number): Promise<string> {
  const id = newSecret();
  await db.insertInto('web_session').values({ id_hash: hashSecret(id), user_id: userId }).execute();
  return id;
}

export async function findSessionActor(
  db: Kysely<Database>,
  id: string,
  limits: { idleMinutes: number; absoluteHours: number },
): Promise<Actor | undefined> {
  const row = await db
    .updateTable('web_session')
    .set({ last_seen_at: sql`now()` })
    .where('id_hash', '=', hashSecret(id))
    .where('last_seen_at', '>', sql<Date>`now() - make_interval(mins => ${limits.idleMinutes})`)
    .where('created_at', '>', sql<Date>`now() - make_interval(hours => ${limits.absoluteHours})`)
    .returning('user_id')
    .executeTakeFirst();
  return row ? findActorByUserId(db, row.user_id) : undefined;
}

export async function deleteSession(db: Kysely<Database>, id: string): Promise<void> {
  await db.deleteFrom('web_session').where('id_hash', '=', hashSecret(id)).execute();
}

export async function purgeExpiredSessions(db: Kysely<Database>, absoluteHours: number): Promise<void> {
  await db
    .deleteFrom('web_session')
    .where('created_at', '<', sql<Date>`now() - make_interval(hours => ${absoluteHours})`)
    .execute();
}

/** Login throttling, checked before any password hashing. */
export const THROTTLE = {
  windowMinutes: 15,
  blockMinutes: 15,
} as const;

export async function isLoginBlocked(db: Kysely<Database>, keys: string[]): Promise<boolean> {
  const row = await db
    .selectFrom('login_throttle')
    .select('key')
    .where('key', 'in', keys)
    .where('blocked_until', '>', sql<Date>`now()`)
    .executeTakeFirst();
  return row !== undefined;
}

/** Counts a failed login against each key (account, IP); a key over its limit is blocked for a while. */
export async function recordLoginFailure(db: Kysely<Database>, keys: { key: string; limit: number }[]): Promise<void> {
  for (const { key, limit } of keys) {
    await sql`
      INSERT INTO login_throttle (key, failures, window_start) VALUES (${key}, 1, now())
      ON CONFLICT (key) DO UPDATE SET
        failures = CASE WHEN login_throttle.window_start < now() - make_interval(mins => ${THROTTLE.windowMinutes})
                        THEN 1 ELSE login_throttle.failures + 1 END,
        window_start = CASE WHEN login_throttle.window_start < now() - make_interval(mins => ${THROTTLE.windowMinutes})
                            THEN now() ELSE login_throttle.window_start END,
        blocked_until = CASE WHEN login_throttle.window_start >= now() - make_interval(mins => ${THROTTLE.windowMinutes})
                              AND login_throttle.failures + 1 >= ${limit}
                             THEN now() + make_interval(mins => ${THROTTLE.blockMinutes})
                             ELSE login_throttle.blocked_until END
    `.execute(db);
  }
}

export async function clearLoginFailures(db: Kysely<Database>, key: string): Promise<void> {
  await db.deleteFrom('login_throttle').where('key', '=', key).execute();
}

// Accounts of the PostgreSQL store: users, their app passwords, and the one-statement credential
// lookup every authenticated request makes. Any change to a user's credentials bumps its
// credentials_version in the same transaction, so cached verifications on every node see it at once.
// Must not import DAV or HTTP.
import { UserExists } from '../errors.ts';
import { toUser, USER_COLUMNS } from '../sqlite/rows.ts';
import type { StoredAccount, StoredCredentials } from '../store.ts';
import type { AppPasswordRecord, UserRecord } from '../types.ts';
import type { PgSession } from './session.ts';
import type { PgStoreContext } from './store-context.ts';

export function createUser(c: PgStoreContext, input: { name: string; email: string | null; displayName: string | null; passwordHash: string | null }): Promise<UserRecord> {
  return c.write(async (q) => {
    const taken = await q.first(c.k.selectFrom('users').select('id').where('name', '=', input.name));
    if (taken !== undefined) throw new UserExists(`user ${input.name} already exists`);
    const row = await q.first(
      c.k
        .insertInto('users')
        .values({ name: input.name, email: input.email, display_name: input.displayName, password_hash: input.passwordHash, created_at: c.now() })
        .returning(USER_COLUMNS),
    );
    if (row === undefined) throw new Error('insert returned no row');
    return toUser(row);
  });
}

export function getUser(c: PgStoreContext, name: string): Promise<UserRecord | null> {
  return c.one(async (q) => {
    const row = await q.first(c.k.selectFrom('users').select(USER_COLUMNS).where('name', '=', name));
    return row === undefined ? null : toUser(row);
  });
}

export function listUsers(c: PgStoreContext): Promise<UserRecord[]> {
  return c.one(async (q) => (await q.all(c.k.selectFrom('users').select(USER_COLUMNS).orderBy('name'))).map(toUser));
}

export function setPasswordHash(c: PgStoreContext, name: string, passwordHash: string): Promise<boolean> {
  return c.write(
    async (q) =>
      (await q.run(
        c.k
          .updateTable('users')
          .set((eb) => ({ password_hash: passwordHash, credentials_version: eb('credentials_version', '+', 1) }))
          .where('name', '=', name),
      )) > 0,
  );
}

export function addAppPassword(c: PgStoreContext, userName: string, label: string, hash: string): Promise<AppPasswordRecord> {
  return c.write(async (q) => {
    const user = await q.first(c.k.selectFrom('users').select('id').where('name', '=', userName).forUpdate());
    if (user === undefined) throw new UserExists(`no user ${userName}`);
    const duplicate = await q.first(c.k.selectFrom('app_passwords').select('id').where('user_id', '=', user.id).where('label', '=', label));
    if (duplicate !== undefined) throw new UserExists(`user ${userName} already has an app password labelled ${label}`);
    const row = await q.first(
      c.k
        .insertInto('app_passwords')
        .values({ user_id: user.id, label, hash, created_at: c.now(), last_used_at: null })
        .returning(['id', 'label', 'created_at', 'last_used_at']),
    );
    if (row === undefined) throw new Error('insert returned no row');
    await bumpCredentials(c, q, user.id);
    return { id: row.id, label: row.label, createdAt: row.created_at, lastUsedAt: row.last_used_at };
  });
}

export function listAppPasswords(c: PgStoreContext, userName: string): Promise<AppPasswordRecord[]> {
  return c.one(async (q) =>
    (
      await q.all(
        c.k
          .selectFrom('app_passwords')
          .innerJoin('users', 'users.id', 'app_passwords.user_id')
          .select(['app_passwords.id', 'app_passwords.label', 'app_passwords.created_at', 'app_passwords.last_used_at'])
          .where('users.name', '=', userName)
          .orderBy('app_passwords.label'),
      )
    ).map((row) => ({ id: row.id, label: row.label, createdAt: row.created_at, lastUsedAt: row.last_used_at })),
  );
}

export function revokeAppPassword(c: PgStoreContext, userName: string, label: string): Promise<boolean> {
  return c.write(async (q) => {
    const user = await q.first(c.k.selectFrom('users').select('id').where('name', '=', userName).forUpdate());
    if (user === undefined) return false;
    const removed = (await q.run(c.k.deleteFrom('app_passwords').where('user_id', '=', user.id).where('label', '=', label))) > 0;
    if (removed) await bumpCredentials(c, q, user.id);
    return removed;
  });
}

/** Cached verifications on every node compare this version, so a change anywhere takes effect at once. */
async function bumpCredentials(c: PgStoreContext, q: PgSession, userId: number): Promise<void> {
  await q.run(c.k.updateTable('users').set((eb) => ({ credentials_version: eb('credentials_version', '+', 1) })).where('id', '=', userId));
}

/** lookupAccount without the user's record. */
export async function lookupCredentials(c: PgStoreContext, userName: string): Promise<StoredCredentials | null> {
  const account = await lookupAccount(c, userName);
  if (account === null) return null;
  const { user: _user, ...credentials } = account;
  return credentials;
}

/**
 * The credentials with the user's record, in one statement (one round trip, not a transaction of two):
 * every authenticated request asks this (see store.ts lookupAccount).
 */
export function lookupAccount(c: PgStoreContext, userName: string): Promise<StoredAccount | null> {
  return c.one(async (q) => {
    const rows = await q.raw<{ id: number; name: string; email: string | null; display_name: string | null; created_at: number; password_hash: string | null; credentials_version: number; app: { id: number; hash: string }[] }>(
      `SELECT u.id, u.name, u.email, u.display_name, u.created_at, u.password_hash, u.credentials_version,
              COALESCE((SELECT json_agg(json_build_object('id', a.id, 'hash', a.hash) ORDER BY a.id)
                        FROM app_passwords a WHERE a.user_id = u.id), '[]'::json) AS app
       FROM users u WHERE u.name = $1`,
      [userName],
    );
    const user = rows[0];
    if (user === undefined) return null;
    return { userId: user.id, userName: user.name, passwordHash: user.password_hash, appPasswordHashes: user.app, credentialsVersion: user.credentials_version, user: toUser(user) };
  });
}

import { type Generated, type Kysely, type Selectable, sql } from 'kysely';

/** How a sign-in opened its session. */
export type SignInMethod = 'sign_up' | 'password' | 'password_change';

/** Rows as stored. Only this file writes SQL for the auth schema. */
interface UsersTable {
  id: string;
  email: string;
  handle: string;
  display_name: string;
  password_hash: string;
  email_verified_at: Date | null;
  is_instance_admin: boolean;
  password_changed_at: Generated<Date>;
  created_at: Generated<Date>;
  updated_at: Generated<Date>;
  profile_version: Generated<number>;
}
export type UserRow = Selectable<UsersTable>;
export type TokenPurpose = 'verify_email' | 'reset_password';

export interface AuthTables {
  'auth.users': UsersTable;
  'auth.email_tokens': { token_hash: string; user_id: string; purpose: TokenPurpose; expires_at: Date; used_at: Date | null; created_at: Generated<Date> };
  'auth.known_ips': { user_id: string; ip: string; last_success_at: Date };
  'auth.sign_ins': { id: string; user_id: string; method: SignInMethod; session_id: string; ip: string | null; user_agent: string | null; at: Generated<Date> };
}

export type AuthDb = Kysely<AuthTables>;

export class AuthRepository {
  constructor(readonly db: AuthDb) {}

  transaction<T>(fn: (trx: AuthDb) => Promise<T>): Promise<T> {
    return this.db.transaction().execute(fn);
  }

  /** Serialises sign-ups long enough to decide who is first (and so becomes instance admin). */
  async lockFirstUserDecision(trx: AuthDb): Promise<void> {
    await sql`select pg_advisory_xact_lock(hashtext('auth:first-user'))`.execute(trx);
  }

  async hasAnyUser(trx: AuthDb = this.db): Promise<boolean> {
    const row = await trx.selectFrom('auth.users').select('id').limit(1).executeTakeFirst();
    return row !== undefined;
  }

  async insertUser(trx: AuthDb, row: Pick<UserRow, 'id' | 'email' | 'handle' | 'display_name' | 'password_hash' | 'is_instance_admin'>): Promise<UserRow> {
    return trx.insertInto('auth.users').values(row).returningAll().executeTakeFirstOrThrow();
  }

  /** A new handle and/or display name, with the profile version bumped. */
  updateProfile(trx: AuthDb, id: string, patch: { handle?: string; display_name?: string }): Promise<UserRow> {
    return trx
      .updateTable('auth.users')
      .set({ ...patch, profile_version: sql`profile_version + 1`, updated_at: new Date() })
      .where('id', '=', id)
      .returningAll()
      .executeTakeFirstOrThrow();
  }

  findById(id: string, trx: AuthDb = this.db): Promise<UserRow | undefined> {
    return trx.selectFrom('auth.users').selectAll().where('id', '=', id).executeTakeFirst();
  }

  findByIds(ids: readonly string[]): Promise<UserRow[]> {
    if (!ids.length) return Promise.resolve([]);
    return this.db.selectFrom('auth.users').selectAll().where('id', 'in', ids).execute();
  }

  findByEmail(email: string): Promise<UserRow | undefined> {
    return this.db.selectFrom('auth.users').selectAll().where(sql`lower(email)`, '=', email.toLowerCase()).executeTakeFirst();
  }

  findByHandle(handle: string): Promise<UserRow | undefined> {
    return this.db.selectFrom('auth.users').selectAll().where(sql`lower(handle)`, '=', handle.toLowerCase()).executeTakeFirst();
  }

  async markEmailVerified(trx: AuthDb, userId: string): Promise<void> {
    await trx.updateTable('auth.users').set({ email_verified_at: new Date(), updated_at: new Date() }).where('id', '=', userId).where('email_verified_at', 'is', null).execute();
  }

  async setPasswordHash(trx: AuthDb, userId: string, passwordHash: string): Promise<void> {
    const now = new Date();
    await trx.updateTable('auth.users').set({ password_hash: passwordHash, password_changed_at: now, updated_at: now }).where('id', '=', userId).execute();
  }

  async insertToken(trx: AuthDb, row: { token_hash: string; user_id: string; purpose: TokenPurpose; expires_at: Date }): Promise<void> {
    await trx.insertInto('auth.email_tokens').values(row).execute();
  }

  /** Marks a live token used and returns its owner, atomically: a second use of the same link finds nothing. */
  async consumeToken(trx: AuthDb, tokenHash: string, purpose: TokenPurpose): Promise<string | undefined> {
    const row = await trx
      .updateTable('auth.email_tokens')
      .set({ used_at: new Date() })
      .where('token_hash', '=', tokenHash)
      .where('purpose', '=', purpose)
      .where('used_at', 'is', null)
      .where('expires_at', '>', new Date())
      .returning('user_id')
      .executeTakeFirst();
    return row?.user_id;
  }

  /** Voids every unused token of that purpose (a new link replaces older ones). */
  async voidTokens(trx: AuthDb, userId: string, purpose: TokenPurpose): Promise<void> {
    await trx.updateTable('auth.email_tokens').set({ used_at: new Date() }).where('user_id', '=', userId).where('purpose', '=', purpose).where('used_at', 'is', null).execute();
  }

  async recordKnownIp(userId: string, ip: string): Promise<void> {
    await this.db
      .insertInto('auth.known_ips')
      .values({ user_id: userId, ip, last_success_at: new Date() })
      .onConflict((oc) => oc.columns(['user_id', 'ip']).doUpdateSet({ last_success_at: new Date() }))
      .execute();
  }

  /** One sign-in that opened a session; this account's entries older than 400 days go. */
  async recordSignIn(row: { id: string; user_id: string; method: SignInMethod; session_id: string; ip: string | null; user_agent: string | null }): Promise<void> {
    await this.db.insertInto('auth.sign_ins').values(row).execute();
    await this.db.deleteFrom('auth.sign_ins').where('user_id', '=', row.user_id).where('at', '<', sql<Date>`now() - interval '400 days'`).execute();
  }

  /** An account's sign-ins, newest first. */
  signIns(userId: string, limit: number) {
    return this.db.selectFrom('auth.sign_ins').select(['id', 'method', 'ip', 'user_agent', 'at']).where('user_id', '=', userId).orderBy('at', 'desc').orderBy('id', 'desc').limit(limit).execute();
  }

  async isKnownIp(userId: string, ip: string): Promise<boolean> {
    const row = await this.db.selectFrom('auth.known_ips').select('ip').where('user_id', '=', userId).where('ip', '=', ip).executeTakeFirst();
    return row !== undefined;
  }
}

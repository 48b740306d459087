import {
  type Identity,
  type Limiter,
  type ServiceDeps,
  type SessionRecord,
  type SignIn,
  type StoredMail,
  badInput,
  hashToken,
  isUniqueViolation,
  newId,
  newSecretToken,
  unauthenticated,
} from '@circles/platform';
import { emails } from './emails.ts';
import { authErrors } from './errors.ts';
import { changePasswordInput, emailOnly, handleOnly, logInInput, parse, resetPasswordInput, signUpInput, tokenOnly, updateProfileInput } from './inputs.ts';
import { checkPasswordPolicy, hashPassword, verifyPassword } from './passwords.ts';
import { AuthRepository, type AuthDb, type SignInMethod, type TokenPurpose, type UserRow } from './repo.ts';

const VERIFY_TTL_MS = 24 * 3_600_000;
const RESET_TTL_MS = 3_600_000;
const HOUR = 3_600_000;

export interface IssuedSession {
  user: UserRow;
  token: string;
  session: SessionRecord;
}

/** Events other services react to (through the outbox). */
export const authTopics = {
  userRegistered: 'auth.user.registered',
  /** A handle or display name changed: { userId, handle, displayName, version }. */
  profileChanged: 'auth.user.profile_changed',
  emailVerified: 'auth.user.email_verified',
  passwordChanged: 'auth.user.password_changed',
} as const;

/** The rules of accounts and sessions. Resolvers only translate to and from GraphQL. */
export class AuthService {
  private readonly repo: AuthRepository;
  private readonly limit: Record<'ip' | 'accountIp' | 'account' | 'resetIp' | 'resetEmail' | 'resend' | 'signupIp' | 'profile', Limiter>;

  constructor(private readonly deps: ServiceDeps) {
    this.repo = new AuthRepository(deps.db as AuthDb);
    const c = deps.config;
    const l = deps.limits;
    this.limit = {
      // Failed logins: per (account, address) blocks a guesser quickly; per address stops spraying many
      // accounts; per account stops a botnet, but only for addresses the owner has never logged in from.
      accountIp: l.limiter({ name: 'login-fail-account-ip', points: c.loginMaxFailuresPerAccountAndIp, windowMs: 15 * 60_000, blockMs: 15 * 60_000 }),
      ip: l.limiter({ name: 'login-fail-ip', points: c.loginMaxFailuresPerIp, windowMs: HOUR, blockMs: HOUR }),
      account: l.limiter({ name: 'login-fail-account', points: c.loginMaxFailuresPerAccount, windowMs: HOUR, blockMs: HOUR }),
      resetIp: l.limiter({ name: 'reset-ip', points: 20, windowMs: HOUR }),
      resetEmail: l.limiter({ name: 'reset-email', points: 5, windowMs: HOUR }),
      resend: l.limiter({ name: 'verify-resend', points: 5, windowMs: HOUR }),
      signupIp: l.limiter({ name: 'signup-ip', points: 30, windowMs: HOUR }),
      profile: l.limiter({ name: 'profile-change', points: 10, windowMs: HOUR }),
    };
  }

  // ---- queries -------------------------------------------------------------------------------------------

  async currentUser(identity: Identity): Promise<UserRow | null> {
    if (!identity.userId) return null;
    return (await this.repo.findById(identity.userId)) ?? null;
  }

  async requireUser(identity: Identity): Promise<UserRow> {
    const user = await this.currentUser(identity);
    if (!user) throw unauthenticated();
    return user;
  }

  userById(id: string) {
    return this.repo.findById(id);
  }

  usersByIds(ids: readonly string[]) {
    return this.repo.findByIds(ids);
  }

  async userByHandle(handle: string) {
    return this.repo.findByHandle(parse(handleOnly, handle));
  }

  async listSessions(identity: Identity): Promise<SessionRecord[]> {
    const user = await this.requireUser(identity);
    const sessions = await this.deps.sessions.list(user.id);
    return sessions.sort((a, b) => b.createdAt - a.createdAt);
  }

  async mySignIns(identity: Identity, first: number): Promise<SignIn[]> {
    if (!Number.isInteger(first) || first < 1 || first > 100) throw badInput('Ask for 1 to 100 sign-ins.', 'first');
    const user = await this.requireUser(identity);
    return this.signInHistory(user.id, first);
  }

  async mailOutbox(identity: Identity, opts: { limit: number; before?: Date }): Promise<{ delivery: string; messages: StoredMail[] }> {
    const user = await this.requireUser(identity);
    if (!user.is_instance_admin) throw authErrors.adminOnly();
    const limit = Math.min(Math.max(opts.limit, 1), 200);
    return { delivery: this.deps.mailer.delivery, messages: await this.deps.mailer.listOutbox({ limit, before: opts.before }) };
  }

  // ---- sign-up and email verification --------------------------------------------------------------------

  async signUp(raw: unknown, identity: Identity): Promise<IssuedSession> {
    const input = parse(signUpInput, raw);
    checkPasswordPolicy(input.password, input);
    await this.spend(this.limit.signupIp, identity.ip ?? 'unknown');
    const passwordHash = await hashPassword(input.password);
    let user: UserRow;
    let verifyToken: string;
    try {
      ({ user, verifyToken } = await this.repo.transaction(async (trx) => {
        await this.repo.lockFirstUserDecision(trx);
        // The first account on a fresh instance runs it.
        const first = !(await this.repo.hasAnyUser(trx));
        const user = await this.repo.insertUser(trx, {
          id: newId(),
          email: input.email,
          handle: input.handle,
          display_name: input.displayName,
          password_hash: passwordHash,
          is_instance_admin: first,
        });
        const verifyToken = await this.issueToken(trx, user.id, 'verify_email', VERIFY_TTL_MS);
        await this.deps.outbox.write(trx, authTopics.userRegistered, { userId: user.id, handle: user.handle, displayName: user.display_name, isInstanceAdmin: first, version: 0 });
        return { user, verifyToken };
      }));
    } catch (err) {
      if (isUniqueViolation(err, 'users_email_key')) throw authErrors.emailTaken();
      if (isUniqueViolation(err, 'users_handle_key')) throw authErrors.handleTaken();
      throw err;
    }
    this.deps.outbox.nudge();
    await this.sendMail(emails.verify(user.email, user.display_name, this.link('/verify-email', verifyToken)));
    const issued = await this.openSession(user.id, identity, 'sign_up');
    this.deps.log.info('account created', { userId: user.id, instanceAdmin: user.is_instance_admin });
    return { user, ...issued };
  }

  async verifyEmail(rawToken: string): Promise<boolean> {
    const token = parse(tokenOnly, rawToken);
    const userId = await this.repo.transaction(async (trx) => {
      const userId = await this.repo.consumeToken(trx, hashToken(token), 'verify_email');
      if (!userId) throw authErrors.invalidToken();
      await this.repo.markEmailVerified(trx, userId);
      await this.deps.outbox.write(trx, authTopics.emailVerified, { userId });
      return userId;
    });
    this.deps.outbox.nudge();
    this.deps.log.info('email verified', { userId });
    return true;
  }

  async resendVerification(identity: Identity): Promise<boolean> {
    const user = await this.requireUser(identity);
    if (user.email_verified_at) throw authErrors.alreadyVerified();
    await this.spend(this.limit.resend, user.id);
    const token = await this.repo.transaction(async (trx) => {
      await this.repo.voidTokens(trx, user.id, 'verify_email');
      return this.issueToken(trx, user.id, 'verify_email', VERIFY_TTL_MS);
    });
    await this.sendMail(emails.verify(user.email, user.display_name, this.link('/verify-email', token)));
    return true;
  }

  // ---- profile -------------------------------------------------------------------------------------------

  /**
   * A new handle and/or display name. Other services keep projections of them (mentions, the member directory)
   * and hear of it through `auth.user.profile_changed`. At most 10 changes an hour.
   */
  async updateProfile(raw: unknown, identity: Identity): Promise<UserRow> {
    const user = await this.requireUser(identity);
    const input = parse(updateProfileInput, raw);
    const patch: { handle?: string; display_name?: string } = {};
    if (input.handle !== undefined && input.handle !== user.handle) patch.handle = input.handle;
    if (input.displayName !== undefined && input.displayName !== user.display_name) patch.display_name = input.displayName;
    if (!Object.keys(patch).length) return user;
    await this.spend(this.limit.profile, user.id);
    let updated: UserRow;
    try {
      updated = await this.repo.transaction(async (trx) => {
        const updated = await this.repo.updateProfile(trx, user.id, patch);
        await this.deps.outbox.write(trx, authTopics.profileChanged, { userId: updated.id, handle: updated.handle, displayName: updated.display_name, version: updated.profile_version });
        return updated;
      });
    } catch (err) {
      if (isUniqueViolation(err, 'users_handle_key')) throw authErrors.handleTaken();
      throw err;
    }
    this.deps.outbox.nudge();
    this.deps.log.info('profile changed', { userId: user.id, handle: patch.handle !== undefined, displayName: patch.display_name !== undefined });
    return updated;
  }

  // ---- login and sessions --------------------------------------------------------------------------------

  async logIn(raw: unknown, identity: Identity): Promise<IssuedSession> {
    const input = parse(logInInput, raw);
    const ip = identity.ip ?? 'unknown';
    const email = input.email.toLowerCase();
    const user = await this.repo.findByEmail(email);
    const known = user ? await this.repo.isKnownIp(user.id, ip) : false;

    await this.refuseIfBlocked(this.limit.ip, ip);
    await this.refuseIfBlocked(this.limit.accountIp, `${email}|${ip}`);
    if (!known) await this.refuseIfBlocked(this.limit.account, email);

    const ok = await verifyPassword(user?.password_hash, input.password);
    if (!ok || !user) {
      await Promise.all([this.limit.ip.consume(ip), this.limit.accountIp.consume(`${email}|${ip}`), known ? null : this.limit.account.consume(email)]);
      this.deps.log.warn('login failed', { ip, knownIp: known, account: user?.id ?? null });
      throw authErrors.invalidCredentials();
    }
    await this.limit.accountIp.reset(`${email}|${ip}`);
    await this.repo.recordKnownIp(user.id, ip);
    // A login always gets a fresh token; the session this client held before (if any) ends (no fixation).
    if (identity.sessionId && identity.userId) await this.deps.sessions.revoke(identity.userId, identity.sessionId);
    const issued = await this.openSession(user.id, identity, 'password');
    this.deps.log.info('login', { userId: user.id, sessionId: issued.session.id });
    return { user, ...issued };
  }

  async logOut(identity: Identity): Promise<boolean> {
    if (!identity.userId || !identity.sessionId) return false;
    return this.deps.sessions.revoke(identity.userId, identity.sessionId);
  }

  async logOutEverywhereElse(identity: Identity): Promise<number> {
    const user = await this.requireUser(identity);
    return this.deps.sessions.revokeAll(user.id, identity.sessionId ?? undefined);
  }

  async revokeSession(identity: Identity, sessionId: string): Promise<boolean> {
    const user = await this.requireUser(identity);
    return this.deps.sessions.revoke(user.id, sessionId);
  }

  // ---- passwords -----------------------------------------------------------------------------------------

  async changePassword(raw: unknown, identity: Identity): Promise<IssuedSession> {
    const input = parse(changePasswordInput, raw);
    const user = await this.requireUser(identity);
    await this.refuseIfBlocked(this.limit.accountIp, `${user.email.toLowerCase()}|${identity.ip ?? 'unknown'}`);
    if (!(await verifyPassword(user.password_hash, input.currentPassword))) {
      await this.limit.accountIp.consume(`${user.email.toLowerCase()}|${identity.ip ?? 'unknown'}`);
      throw authErrors.invalidCredentials();
    }
    checkPasswordPolicy(input.newPassword, { email: user.email, handle: user.handle });
    await this.replacePassword(user, input.newPassword);
    const issued = await this.openSession(user.id, identity, 'password_change');
    return { user, ...issued };
  }

  async requestPasswordReset(rawEmail: string, identity: Identity): Promise<boolean> {
    const email = parse(emailOnly, rawEmail).toLowerCase();
    await this.spend(this.limit.resetIp, identity.ip ?? 'unknown');
    // Over the per-address budget we quietly send nothing: the answer must not differ for unknown addresses.
    if (!(await this.limit.resetEmail.consume(email)).allowed) return true;
    const user = await this.repo.findByEmail(email);
    if (!user) return true;
    const token = await this.repo.transaction(async (trx) => {
      await this.repo.voidTokens(trx, user.id, 'reset_password');
      return this.issueToken(trx, user.id, 'reset_password', RESET_TTL_MS);
    });
    await this.sendMail(emails.reset(user.email, user.display_name, this.link('/reset-password', token)));
    return true;
  }

  async resetPassword(raw: unknown): Promise<boolean> {
    const input = parse(resetPasswordInput, raw);
    const user = await this.repo.transaction(async (trx) => {
      const userId = await this.repo.consumeToken(trx, hashToken(input.token), 'reset_password');
      if (!userId) throw authErrors.invalidToken();
      const user = (await this.repo.findById(userId, trx))!;
      checkPasswordPolicy(input.newPassword, { email: user.email, handle: user.handle });
      // Following the link proved control of the mailbox.
      await this.repo.markEmailVerified(trx, userId);
      return user;
    });
    await this.replacePassword(user, input.newPassword);
    return true;
  }

  // ---- helpers -------------------------------------------------------------------------------------------

  /** A new session, recorded in the account's sign-in history (which outlives the session). */
  private async openSession(userId: string, identity: Identity, method: SignInMethod) {
    const issued = await this.deps.sessions.create(userId, { ip: identity.ip, userAgent: identity.userAgent });
    await this.repo.recordSignIn({ id: newId(), user_id: userId, method, session_id: issued.session.id, ip: identity.ip ?? null, user_agent: identity.userAgent ?? null });
    return issued;
  }

  /** Sign-ins of this account, newest first (at most `limit`, up to 400 days back). */
  async signInHistory(userId: string, limit: number): Promise<SignIn[]> {
    if (!/^[0-9a-f-]{36}$/i.test(userId)) return [];
    const rows = await this.repo.signIns(userId, Math.min(Math.max(Math.trunc(limit), 1), 500));
    return rows.map((r) => ({ id: r.id, method: r.method, ip: r.ip, userAgent: r.user_agent, at: new Date(r.at).toISOString() }));
  }

  /** New hash, every session ends, other services hear of it, the owner gets an email. */
  private async replacePassword(user: UserRow, newPassword: string): Promise<void> {
    const passwordHash = await hashPassword(newPassword);
    await this.repo.transaction(async (trx) => {
      await this.repo.setPasswordHash(trx, user.id, passwordHash);
      await this.repo.voidTokens(trx, user.id, 'reset_password');
      await this.deps.outbox.write(trx, authTopics.passwordChanged, { userId: user.id });
    });
    this.deps.outbox.nudge();
    const ended = await this.deps.sessions.revokeAll(user.id);
    this.deps.log.info('password changed', { userId: user.id, sessionsEnded: ended });
    await this.sendMail(emails.passwordChanged(user.email, user.display_name));
  }

  private async issueToken(trx: AuthDb, userId: string, purpose: TokenPurpose, ttlMs: number): Promise<string> {
    const token = newSecretToken();
    await this.repo.insertToken(trx, { token_hash: hashToken(token), user_id: userId, purpose, expires_at: new Date(Date.now() + ttlMs) });
    return token;
  }

  private link(path: string, token: string): string {
    return new URL(`${path}?token=${encodeURIComponent(token)}`, this.deps.config.publicUrl).toString();
  }

  /** Mail failures are logged, not thrown: the account change already happened and the user can ask again. */
  private async sendMail(message: Parameters<ServiceDeps['mailer']['send']>[0]): Promise<void> {
    try {
      await this.deps.mailer.send(message);
    } catch (err) {
      this.deps.log.error('sending mail failed', { subject: message.subject, err });
    }
  }

  private async refuseIfBlocked(limiter: Limiter, key: string): Promise<void> {
    const state = await limiter.peek(key);
    if (!state.allowed) throw authErrors.rateLimited(state.retryAfterMs);
  }

  private async spend(limiter: Limiter, key: string): Promise<void> {
    const state = await limiter.consume(key);
    if (!state.allowed) throw authErrors.rateLimited(state.retryAfterMs);
  }

  /** For other services (never clients): a person's address and name, e.g. to tell a creator about a dispute. */
  async contactOf(userId: string): Promise<{ email: string; displayName: string; verified: boolean } | null> {
    if (!/^[0-9a-f-]{36}$/i.test(userId)) return null;
    const [user] = await this.repo.findByIds([userId]);
    return user ? { email: user.email, displayName: user.display_name, verified: user.email_verified_at !== null } : null;
  }

  async isInstanceAdmin(userId: string): Promise<boolean> {
    if (!/^[0-9a-f-]{36}$/i.test(userId)) return false;
    const [user] = await this.repo.findByIds([userId]);
    return user?.is_instance_admin === true;
  }
}

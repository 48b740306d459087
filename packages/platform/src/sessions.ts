import { hashToken, newId, newSecretToken } from './ids.ts';
import type { SessionRecord, SessionStore } from './infra/sessions.ts';

export interface SessionPolicy {
  idleTimeoutMs: number;
  absoluteTimeoutMs: number;
}

/** Activity is recorded at most this often per session, so reads stay cheap. */
const TOUCH_EVERY_MS = 60_000;

/**
 * Session rules shared by the gateway (which resolves a token on every request) and the auth service
 * (which creates and ends sessions). Opaque 256-bit tokens; only hashes are stored.
 */
export class SessionManager {
  constructor(
    readonly store: SessionStore,
    private readonly policy: SessionPolicy,
    private readonly now: () => number = Date.now,
  ) {}

  async create(userId: string, meta: { ip: string | null; userAgent: string | null }): Promise<{ token: string; session: SessionRecord }> {
    const token = newSecretToken();
    const t = this.now();
    const session: SessionRecord = {
      id: newId(),
      userId,
      tokenHash: hashToken(token),
      createdAt: t,
      lastSeenAt: t,
      expiresAt: t + this.policy.absoluteTimeoutMs,
      idleExpiresAt: Math.min(t + this.policy.idleTimeoutMs, t + this.policy.absoluteTimeoutMs),
      ip: meta.ip,
      userAgent: meta.userAgent ? meta.userAgent.slice(0, 300) : null,
    };
    await this.store.put(session);
    return { token, session };
  }

  /** The live session for a token, or null. Extends the idle window on activity. */
  async resolve(token: string, meta: { ip: string | null } = { ip: null }): Promise<SessionRecord | null> {
    if (!token || token.length > 200) return null;
    const s = await this.store.getByTokenHash(hashToken(token));
    const t = this.now();
    if (!s || s.expiresAt <= t || s.idleExpiresAt <= t) return null;
    if (t - s.lastSeenAt >= TOUCH_EVERY_MS) {
      s.lastSeenAt = t;
      s.idleExpiresAt = Math.min(t + this.policy.idleTimeoutMs, s.expiresAt);
      if (meta.ip) s.ip = meta.ip;
      await this.store.put(s);
    }
    return s;
  }

  /** Whether a session is still live (for long-lived connections re-checking the one they were opened with). */
  async isActive(sessionId: string): Promise<boolean> {
    const s = await this.store.get(sessionId);
    const t = this.now();
    return !!s && s.expiresAt > t && s.idleExpiresAt > t;
  }

  list(userId: string) {
    return this.store.listForUser(userId);
  }

  /** Ends one session of the user; false when it is not theirs or already ended. */
  async revoke(userId: string, sessionId: string): Promise<boolean> {
    const s = await this.store.get(sessionId);
    if (!s || s.userId !== userId) return false;
    return this.store.delete(sessionId);
  }

  revokeAll(userId: string, exceptSessionId?: string) {
    return this.store.deleteForUser(userId, exceptSessionId);
  }
}

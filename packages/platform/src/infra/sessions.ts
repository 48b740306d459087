import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Redis } from 'ioredis';

/** A login session. The token itself is never stored: only its SHA-256 hash. */
export interface SessionRecord {
  id: string;
  userId: string;
  tokenHash: string;
  createdAt: number;
  lastSeenAt: number;
  /** Absolute expiry: the session ends then whatever the activity. */
  expiresAt: number;
  /** Idle expiry: pushed forward by activity, never past expiresAt. */
  idleExpiresAt: number;
  ip: string | null;
  userAgent: string | null;
}

export interface SessionStore {
  put(session: SessionRecord): Promise<void>;
  get(id: string): Promise<SessionRecord | null>;
  getByTokenHash(tokenHash: string): Promise<SessionRecord | null>;
  listForUser(userId: string): Promise<SessionRecord[]>;
  delete(id: string): Promise<boolean>;
  /** Deletes every session of the user except `exceptId`; returns how many ended. */
  deleteForUser(userId: string, exceptId?: string): Promise<number>;
  close(): Promise<void>;
}

const alive = (s: SessionRecord, now = Date.now()) => s.expiresAt > now && s.idleExpiresAt > now;

/**
 * In-process store for the embedded default. Kept in memory and mirrored to a JSON file in the data folder so
 * a restart does not log everyone out. Creations and deletions are written before returning; activity
 * updates are coalesced (losing a few seconds of "last seen" in a crash is harmless).
 */
export class MemorySessionStore implements SessionStore {
  private readonly byId = new Map<string, SessionRecord>();
  private readonly byHash = new Map<string, string>();
  private flushTimer: NodeJS.Timeout | undefined;

  constructor(private readonly file?: string) {
    if (!file) return;
    let rows: SessionRecord[] = [];
    try {
      rows = JSON.parse(readFileSync(file, 'utf8')) as SessionRecord[];
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    for (const s of rows) if (alive(s)) this.index(s);
  }

  private index(s: SessionRecord) {
    this.byId.set(s.id, s);
    this.byHash.set(s.tokenHash, s.id);
  }

  private flushNow() {
    if (!this.file) return;
    clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    mkdirSync(path.dirname(this.file), { recursive: true });
    const tmp = `${this.file}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify([...this.byId.values()]), { mode: 0o600 });
    renameSync(tmp, this.file);
  }

  private flushSoon() {
    if (this.file && !this.flushTimer) {
      this.flushTimer = setTimeout(() => this.flushNow(), 2000);
      this.flushTimer.unref();
    }
  }

  async put(session: SessionRecord): Promise<void> {
    const isNew = !this.byId.has(session.id);
    this.index({ ...session });
    if (isNew) this.flushNow();
    else this.flushSoon();
  }

  async get(id: string) {
    const s = this.byId.get(id);
    return s && alive(s) ? { ...s } : null;
  }

  async getByTokenHash(tokenHash: string) {
    const id = this.byHash.get(tokenHash);
    return id ? this.get(id) : null;
  }

  async listForUser(userId: string) {
    const now = Date.now();
    return [...this.byId.values()].filter((s) => s.userId === userId && alive(s, now)).map((s) => ({ ...s }));
  }

  async delete(id: string) {
    const s = this.byId.get(id);
    if (!s) return false;
    this.byId.delete(id);
    this.byHash.delete(s.tokenHash);
    this.flushNow();
    return true;
  }

  async deleteForUser(userId: string, exceptId?: string) {
    const now = Date.now();
    let removed = 0;
    let ended = 0;
    for (const s of [...this.byId.values()]) {
      if (s.userId === userId && s.id !== exceptId) {
        this.byId.delete(s.id);
        this.byHash.delete(s.tokenHash);
        removed++;
        // Already-expired records still sitting in memory are dropped but not counted, as in the Redis store.
        if (alive(s, now)) ended++;
      }
    }
    if (removed) this.flushNow();
    return ended;
  }

  async close() {
    if (this.flushTimer) this.flushNow();
  }
}

export class RedisSessionStore implements SessionStore {
  constructor(
    private readonly redis: Redis,
    private readonly prefix = 'circles:sess:',
  ) {}

  private k = {
    id: (id: string) => `${this.prefix}i:${id}`,
    hash: (h: string) => `${this.prefix}h:${h}`,
    user: (u: string) => `${this.prefix}u:${u}`,
  };

  async put(s: SessionRecord): Promise<void> {
    const until = Math.min(s.expiresAt, s.idleExpiresAt);
    await this.redis
      .multi()
      .set(this.k.id(s.id), JSON.stringify(s), 'PXAT', until)
      .set(this.k.hash(s.tokenHash), s.id, 'PXAT', until)
      .sadd(this.k.user(s.userId), s.id)
      // The user's index must outlive every session in it: NX gives a new set an expiry, GT only ever extends it.
      // (A plain PEXPIREAT let an activity update of an older, shorter-lived session expire the whole index, so
      // "log out everywhere" missed newer sessions. NX/GT need Redis 7.)
      .pexpireat(this.k.user(s.userId), s.expiresAt, 'NX')
      .pexpireat(this.k.user(s.userId), s.expiresAt, 'GT')
      .exec();
  }

  async get(id: string) {
    const raw = await this.redis.get(this.k.id(id));
    if (!raw) return null;
    const s = JSON.parse(raw) as SessionRecord;
    return alive(s) ? s : null;
  }

  async getByTokenHash(tokenHash: string) {
    const id = await this.redis.get(this.k.hash(tokenHash));
    return id ? this.get(id) : null;
  }

  async listForUser(userId: string) {
    const ids = await this.redis.smembers(this.k.user(userId));
    if (!ids.length) return [];
    const raws = await this.redis.mget(ids.map((id) => this.k.id(id)));
    const out: SessionRecord[] = [];
    const stale: string[] = [];
    raws.forEach((raw, i) => {
      const s = raw ? (JSON.parse(raw) as SessionRecord) : null;
      if (s && alive(s)) out.push(s);
      else stale.push(ids[i]!);
    });
    if (stale.length) await this.redis.srem(this.k.user(userId), ...stale);
    return out;
  }

  async delete(id: string) {
    const s = await this.get(id);
    if (!s) return false;
    await this.redis.multi().del(this.k.id(id), this.k.hash(s.tokenHash)).srem(this.k.user(s.userId), id).exec();
    return true;
  }

  async deleteForUser(userId: string, exceptId?: string) {
    const sessions = await this.listForUser(userId);
    let n = 0;
    for (const s of sessions) if (s.id !== exceptId && (await this.delete(s.id))) n++;
    return n;
  }

  async close() {}
}

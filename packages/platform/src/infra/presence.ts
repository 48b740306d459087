import type { Redis } from 'ioredis';

/** How present a person is. A person's status is the most present one over all their devices and nodes. */
export type PresenceStatus = 'online' | 'idle' | 'offline';
const rank: Record<PresenceStatus, number> = { offline: 0, idle: 1, online: 2 };
export const morePresent = (a: PresenceStatus, b: PresenceStatus): PresenceStatus => (rank[a] >= rank[b] ? a : b);

/**
 * Who is connected where. Every node that holds sockets reports its people (`put`) and refreshes them before the
 * TTL runs out; a node that dies stops refreshing, so its people read offline once the TTL has passed.
 */
export interface PresenceStore {
  /** This node's status for these people, valid for ttlMs. */
  put(nodeId: string, entries: { userId: string; status: Exclude<PresenceStatus, 'offline'> }[], ttlMs: number): Promise<void>;
  /** This node no longer holds these people. */
  remove(nodeId: string, userIds: string[]): Promise<void>;
  /** Each person's status over all live nodes (offline when none holds them). */
  statuses(userIds: string[]): Promise<Map<string, PresenceStatus>>;
  /** Everyone online or idle on some live node (whom @here reaches, before asking who may read the channel). */
  present(): Promise<string[]>;
}

export class MemoryPresenceStore implements PresenceStore {
  private readonly byUser = new Map<string, Map<string, { status: PresenceStatus; expiresAt: number }>>();

  async put(nodeId: string, entries: { userId: string; status: Exclude<PresenceStatus, 'offline'> }[], ttlMs: number) {
    const expiresAt = Date.now() + ttlMs;
    for (const e of entries) {
      let nodes = this.byUser.get(e.userId);
      if (!nodes) this.byUser.set(e.userId, (nodes = new Map()));
      nodes.set(nodeId, { status: e.status, expiresAt });
    }
  }

  async remove(nodeId: string, userIds: string[]) {
    for (const u of userIds) {
      const nodes = this.byUser.get(u);
      nodes?.delete(nodeId);
      if (nodes && !nodes.size) this.byUser.delete(u);
    }
  }

  async statuses(userIds: string[]) {
    const now = Date.now();
    const out = new Map<string, PresenceStatus>();
    for (const u of userIds) {
      let status: PresenceStatus = 'offline';
      for (const [node, e] of this.byUser.get(u) ?? []) {
        if (e.expiresAt > now) status = morePresent(status, e.status);
        else this.byUser.get(u)!.delete(node);
      }
      out.set(u, status);
    }
    return out;
  }

  async present() {
    const statuses = await this.statuses([...this.byUser.keys()]);
    return [...statuses].filter(([, s]) => s !== 'offline').map(([u]) => u);
  }
}

/**
 * One hash per person: field = node id, value = "<status>:<expiresAtMs>". Expired fields are ignored on read (and
 * the key itself expires with its newest field), so no node has to clean up after a dead one. A sorted set indexes
 * who may be present, scored by their latest expiry; `present` trims what has expired and checks the rest.
 */
export class RedisPresenceStore implements PresenceStore {
  private readonly index: string;

  constructor(
    private readonly redis: Redis,
    private readonly prefix = 'circles:presence:',
  ) {
    // Person keys end in a uuid, so this name cannot collide with one.
    this.index = `${prefix}index`;
  }

  async put(nodeId: string, entries: { userId: string; status: Exclude<PresenceStatus, 'offline'> }[], ttlMs: number) {
    if (!entries.length) return;
    const expiresAt = Date.now() + ttlMs;
    const multi = this.redis.multi();
    for (const e of entries) {
      multi.hset(this.prefix + e.userId, nodeId, `${e.status}:${expiresAt}`);
      // Never shorten what another node set (nodes may run with different TTLs): set when none, else only extend.
      multi.pexpire(this.prefix + e.userId, ttlMs, 'NX');
      multi.pexpire(this.prefix + e.userId, ttlMs, 'GT');
      multi.zadd(this.index, 'GT', expiresAt, e.userId);
    }
    await multi.exec();
  }

  async remove(nodeId: string, userIds: string[]) {
    if (!userIds.length) return;
    const multi = this.redis.multi();
    for (const u of userIds) multi.hdel(this.prefix + u, nodeId);
    await multi.exec();
  }

  async statuses(userIds: string[]) {
    const out = new Map<string, PresenceStatus>();
    if (!userIds.length) return out;
    const pipeline = this.redis.pipeline();
    for (const u of userIds) pipeline.hgetall(this.prefix + u);
    const results = (await pipeline.exec()) ?? [];
    const now = Date.now();
    userIds.forEach((u, i) => {
      const fields = (results[i]?.[1] ?? {}) as Record<string, string>;
      let status: PresenceStatus = 'offline';
      for (const v of Object.values(fields)) {
        const [s, exp] = v.split(':');
        if (Number(exp) > now && (s === 'online' || s === 'idle')) status = morePresent(status, s);
      }
      out.set(u, status);
    });
    return out;
  }

  async present() {
    const now = Date.now();
    await this.redis.zremrangebyscore(this.index, '-inf', now);
    const candidates = await this.redis.zrangebyscore(this.index, now, '+inf');
    const statuses = await this.statuses(candidates);
    return candidates.filter((u) => statuses.get(u) !== 'offline');
  }
}

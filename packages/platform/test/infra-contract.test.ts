import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { distributedServicesAvailable, REDIS_URL } from '@circles/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashToken } from '../src/ids.ts';
import { type Cache, MemoryCache, RedisCache } from '../src/infra/cache.ts';
import { MemoryPubSub, type PubSub, RedisPubSub } from '../src/infra/pubsub.ts';
import { MemoryRateLimiterFactory, type RateLimiterFactory, RedisRateLimiterFactory } from '../src/infra/ratelimit.ts';
import { connectRedis, type Redis } from '../src/infra/redis.ts';
import { MemoryPresenceStore, type PresenceStore, RedisPresenceStore } from '../src/infra/presence.ts';
import { MemorySessionStore, RedisSessionStore, type SessionRecord, type SessionStore } from '../src/infra/sessions.ts';
import { SessionManager } from '../src/sessions.ts';
import { deleteRedisPrefix, runId, sleep, waitFor } from './helpers.ts';

/**
 * One contract per infrastructure interface, run against both implementations: whatever a service observes
 * through the interface must not depend on whether it runs embedded (memory) or distributed (Redis).
 */

const canRunRedis = await distributedServicesAvailable();
const prefix = `circles-test:${runId()}:`;
type Impl = 'memory' | 'redis';
const impls: Impl[] = ['memory', 'redis'];

/** Redis connections for the whole file, opened lazily and cleaned up (keys and connections) at the end. */
const conns: Redis[] = [];
const redisConn = (name: string): Redis => {
  const c = connectRedis(REDIS_URL, `test-${name}`);
  conns.push(c);
  return c;
};
afterAll(async () => {
  if (conns[0]) await deleteRedisPrefix(conns[0], prefix);
  for (const c of conns) c.disconnect();
});

describe.each(impls)('Cache contract (%s)', (impl) => {
  const run = impl === 'memory' || canRunRedis;
  let cache: Cache;
  let make: (ns: string) => Cache;
  beforeAll(() => {
    if (!run) return;
    const redis = impl === 'redis' ? redisConn('cache') : null;
    make = (ns) => (redis ? new RedisCache(redis, `${prefix}${ns}:`) : new MemoryCache());
    cache = make('cache');
  });

  it.runIf(run)('gets what was set, overwrites, and returns undefined for missing keys', async () => {
    expect(await cache.get('missing')).toBeUndefined();
    await cache.set('greeting', { text: 'hello', n: 1, list: [1, 'two', null], flag: false }, 60_000);
    expect(await cache.get('greeting')).toEqual({ text: 'hello', n: 1, list: [1, 'two', null], flag: false });
    await cache.set('greeting', 'plain string', 60_000);
    expect(await cache.get('greeting')).toBe('plain string');
    await cache.set('zero', 0, 60_000);
    expect(await cache.get('zero')).toBe(0);
  });

  it.runIf(run)('hands out copies: mutating the stored or the returned object changes nothing', async () => {
    const value = { a: 1, nested: { list: [1, 2] } };
    await cache.set('copy', value, 60_000);
    value.nested.list.push(3);
    const first = await cache.get<typeof value>('copy');
    expect(first).toEqual({ a: 1, nested: { list: [1, 2] } });
    first!.a = 99;
    first!.nested.list.length = 0;
    expect(await cache.get('copy')).toEqual({ a: 1, nested: { list: [1, 2] } });
  });

  it.runIf(run)('expires entries after their TTL, leaving longer-lived ones', async () => {
    await cache.set('short', 'soon gone', 150);
    await cache.set('long', 'stays', 60_000);
    await waitFor(async () => (await cache.get('short')) === undefined, 'the short-lived entry to expire', 5_000);
    expect(await cache.get('long')).toBe('stays');
  });

  it.runIf(run)('deletes keys one or several at a time', async () => {
    await Promise.all(['d1', 'd2', 'd3'].map((k) => cache.set(k, k, 60_000)));
    await cache.delete('d1');
    expect(await cache.get('d1')).toBeUndefined();
    await cache.delete('d2', 'd3', 'never-existed');
    expect([await cache.get('d2'), await cache.get('d3')]).toEqual([undefined, undefined]);
    await cache.delete(); // nothing to delete is not an error
  });

  it.runIf(run)('deletePrefix removes exactly the keys starting with the prefix, glob characters taken literally', async () => {
    const keys = ['user:1:a', 'user:1:b', 'user:10:a', 'user:2:a', 'x*1', 'xy1', 'x?2', 'xz2', '[ab]c', 'ac'];
    await Promise.all(keys.map((k) => cache.set(k, k, 60_000)));
    await cache.deletePrefix('user:1:');
    await cache.deletePrefix('x*');
    await cache.deletePrefix('x?');
    await cache.deletePrefix('[ab]');
    const left = [];
    for (const k of keys) if ((await cache.get(k)) !== undefined) left.push(k);
    expect(left).toEqual(['user:10:a', 'user:2:a', 'xy1', 'xz2', 'ac']);
  });

  it.runIf(run)('keeps separate caches apart (deletePrefix of one never touches another)', async () => {
    const other = make('other-cache');
    await cache.set('shared:key', 'mine', 60_000);
    await other.set('shared:key', 'theirs', 60_000);
    await other.deletePrefix('shared:');
    expect(await cache.get('shared:key')).toBe('mine');
    expect(await other.get('shared:key')).toBeUndefined();
  });
});

describe.each(impls)('PubSub contract (%s)', (impl) => {
  const run = impl === 'memory' || canRunRedis;
  // Two instances as two processes would hold them; the in-process implementation is one bus per process.
  let a: PubSub;
  let b: PubSub;
  beforeAll(() => {
    if (!run) return;
    if (impl === 'memory') {
      a = b = new MemoryPubSub();
    } else {
      a = new RedisPubSub(redisConn('pub-a'), redisConn('sub-a'), `${prefix}ps:`);
      b = new RedisPubSub(redisConn('pub-b'), redisConn('sub-b'), `${prefix}ps:`);
    }
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
  });

  const collector = () => {
    const got: unknown[] = [];
    return { got, handler: (m: unknown) => void got.push(m) };
  };

  it.runIf(run)('fans a message out to every subscriber of the channel (across connections), and only them', async () => {
    const [s1, s2, s3, other] = [collector(), collector(), collector(), collector()];
    const offs = [await a.subscribe('room', s1.handler), await b.subscribe('room', s2.handler), await b.subscribe('room', s3.handler), await b.subscribe('elsewhere', other.handler)];
    await a.publish('room', { n: 1 });
    await b.publish('room', { n: 2 });
    await waitFor(() => [s1, s2, s3].every((s) => s.got.length === 2), 'all subscribers to get both messages');
    for (const s of [s1, s2, s3]) expect(s.got).toEqual([{ n: 1 }, { n: 2 }]);
    await a.publish('elsewhere', 'marker');
    await waitFor(() => other.got.length === 1, 'the other channel to get its message');
    expect(s1.got).toHaveLength(2);
    for (const off of offs) await off();
  });

  it.runIf(run)('stops delivering to an unsubscribed handler, keeps the others, and can subscribe again', async () => {
    const [s1, s2, s3] = [collector(), collector(), collector()];
    const off1 = await a.subscribe('unsub', s1.handler);
    const off2 = await b.subscribe('unsub', s2.handler);
    const off3 = await b.subscribe('unsub', s3.handler);
    await a.publish('unsub', 1);
    await waitFor(() => [s1, s2, s3].every((s) => s.got.length === 1), 'first message everywhere');

    await off2();
    await a.publish('unsub', 2);
    // s3 shares s2's connection: once s3 has message 2, s2 would have had it too.
    await waitFor(() => s3.got.length === 2 && s1.got.length === 2, 'second message at the remaining subscribers');
    expect(s2.got).toEqual([1]);

    // The last handler of a channel on a connection leaves it; subscribing again must work.
    await off1();
    const again = collector();
    const offAgain = await a.subscribe('unsub', again.handler);
    await b.publish('unsub', 3);
    await waitFor(() => again.got.length === 1 && s3.got.length === 3, 'third message');
    expect(s1.got).toEqual([1, 2]);
    expect(again.got).toEqual([3]);
    await offAgain();
    await off3();
  });

  it.runIf(run)('delivers a JSON round-trip copy, independent of what the publisher does afterwards', async () => {
    const s = collector();
    const off = await b.subscribe('json', s.handler);
    const message = { s: 'text', n: 1.5, t: true, nil: null, list: [1, '2', { deep: [] }], when: new Date(0), gone: undefined };
    await a.publish('json', message);
    message.list.push('mutated after publish');
    await a.publish('json', undefined);
    await waitFor(() => s.got.length === 2, 'both messages');
    expect(s.got[0]).toStrictEqual({ s: 'text', n: 1.5, t: true, nil: null, list: [1, '2', { deep: [] }], when: '1970-01-01T00:00:00.000Z' });
    expect(s.got[1]).toBeNull();
    await off();
  });
});

describe.each(impls)('rate limiter contract (%s)', (impl) => {
  const run = impl === 'memory' || canRunRedis;
  let limits: RateLimiterFactory;
  beforeAll(() => {
    if (run) limits = impl === 'memory' ? new MemoryRateLimiterFactory() : new RedisRateLimiterFactory(redisConn('rl'), `${prefix}rl:`);
  });
  const unique = (name: string) => `${name}-${runId()}`;

  it.runIf(run)('allows the configured points per window, then blocks with a positive retry-after', async () => {
    const limiter = limits.limiter({ name: unique('login'), points: 3, windowMs: 10_000 });
    const states = [];
    for (let i = 0; i < 3; i++) states.push(await limiter.consume('ip:1'));
    expect(states.map((s) => [s.allowed, s.remaining, s.retryAfterMs])).toEqual([
      [true, 2, 0],
      [true, 1, 0],
      [true, 0, 0],
    ]);
    const blocked = await limiter.consume('ip:1');
    expect(blocked.allowed).toBe(false);
    expect(blocked.remaining).toBe(0);
    expect(blocked.retryAfterMs).toBeGreaterThan(0);
    expect(blocked.retryAfterMs).toBeLessThanOrEqual(10_000);
    // Keys are independent.
    expect((await limiter.consume('ip:2')).allowed).toBe(true);
    // Spending several points at once counts them all.
    expect(await limiter.consume('ip:3', 3)).toMatchObject({ allowed: true, remaining: 0 });
    expect((await limiter.consume('ip:3')).allowed).toBe(false);
  });

  it.runIf(run)('peek reports the state without spending points', async () => {
    const limiter = limits.limiter({ name: unique('peek'), points: 2, windowMs: 10_000 });
    expect(await limiter.peek('k')).toEqual({ allowed: true, remaining: 2, retryAfterMs: 0 });
    await limiter.consume('k');
    expect(await limiter.peek('k')).toEqual({ allowed: true, remaining: 1, retryAfterMs: 0 });
    expect(await limiter.peek('k')).toEqual({ allowed: true, remaining: 1, retryAfterMs: 0 });
    await limiter.consume('k');
    const exhausted = await limiter.peek('k');
    expect(exhausted.allowed).toBe(false);
    expect(exhausted.remaining).toBe(0);
    expect(exhausted.retryAfterMs).toBeGreaterThan(0);
  });

  it.runIf(run)('reset clears a key so it may act again at once', async () => {
    const limiter = limits.limiter({ name: unique('reset'), points: 1, windowMs: 60_000 });
    await limiter.consume('k');
    expect((await limiter.consume('k')).allowed).toBe(false);
    await limiter.reset('k');
    expect(await limiter.peek('k')).toEqual({ allowed: true, remaining: 1, retryAfterMs: 0 });
    expect((await limiter.consume('k')).allowed).toBe(true);
  });

  it.runIf(run)('frees a key again once its window has passed', async () => {
    const limiter = limits.limiter({ name: unique('window'), points: 1, windowMs: 1_000 });
    await limiter.consume('k');
    expect((await limiter.consume('k')).allowed).toBe(false);
    await waitFor(async () => (await limiter.peek('k')).allowed, 'the window to pass', 5_000, 50);
    expect((await limiter.consume('k')).allowed).toBe(true);
  });

  it.runIf(run)('once exceeded, blocks for the block duration rather than the rest of the window', async () => {
    const limiter = limits.limiter({ name: unique('block'), points: 2, windowMs: 1_000, blockMs: 4_000 });
    await limiter.consume('k');
    await limiter.consume('k');
    const blocked = await limiter.consume('k');
    expect(blocked.allowed).toBe(false);
    // Well past the 1 s window: only the block can explain this.
    expect(blocked.retryAfterMs).toBeGreaterThan(2_000);
    expect(blocked.retryAfterMs).toBeLessThanOrEqual(4_000);
    await sleep(1_300); // the window is over, the block is not
    const later = await limiter.peek('k');
    expect(later.allowed).toBe(false);
    expect(later.retryAfterMs).toBeGreaterThan(1_000);
    expect((await limiter.consume('k')).allowed).toBe(false);
    await limiter.reset('k');
    expect((await limiter.consume('k')).allowed).toBe(true);
  });
});

describe.each(impls)('SessionStore and SessionManager contract (%s)', (impl) => {
  const run = impl === 'memory' || canRunRedis;
  let dir: string | undefined;
  let store: SessionStore;
  beforeAll(() => {
    if (!run) return;
    if (impl === 'redis') {
      store = new RedisSessionStore(redisConn('sessions'), `${prefix}sess:`);
    } else {
      dir = mkdtempSync(path.join(os.tmpdir(), 'circles-sessions-'));
      store = new MemorySessionStore(path.join(dir, 'sessions.json'));
    }
  });
  afterAll(async () => {
    await store?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const policy = { idleTimeoutMs: 30 * 60_000, absoluteTimeoutMs: 2 * 60 * 60_000 };
  // The injected clock starts at real time (stores expire records in real time too) and only moves forward.
  const clock = () => {
    let now = Date.now();
    return { now: () => now, advance: (ms: number) => void (now += ms) };
  };
  const meta = { ip: '203.0.113.7', userAgent: 'vitest' };
  const user = () => `user-${runId()}`;

  it.runIf(run)('creates a session and resolves its token; a wrong token resolves to nothing', async () => {
    const sessions = new SessionManager(store, policy, clock().now);
    const u = user();
    const { token, session } = await sessions.create(u, meta);
    expect(session).toMatchObject({ userId: u, ip: meta.ip, userAgent: 'vitest', tokenHash: hashToken(token) });
    expect(session.expiresAt - session.createdAt).toBe(policy.absoluteTimeoutMs);
    expect(session.idleExpiresAt - session.createdAt).toBe(policy.idleTimeoutMs);
    expect(JSON.stringify(session)).not.toContain(token); // only the hash is stored
    expect(await sessions.resolve(token)).toMatchObject({ id: session.id, userId: u });
    expect(await sessions.resolve(`${token}x`)).toBeNull();
    expect(await sessions.resolve('')).toBeNull();
    expect(await sessions.resolve('x'.repeat(500))).toBeNull();
    expect(await store.get(session.id)).toMatchObject({ id: session.id });
  });

  it.runIf(run)('ends a session after the idle timeout; activity pushes the idle expiry forward', async () => {
    const c = clock();
    const sessions = new SessionManager(store, policy, c.now);
    const idle = await sessions.create(user(), meta);
    const active = await sessions.create(user(), meta);
    c.advance(20 * 60_000);
    expect(await sessions.resolve(active.token, { ip: '198.51.100.1' })).not.toBeNull(); // activity at 20 min
    c.advance(11 * 60_000); // 31 min: past the idle timeout of the untouched one only
    expect(await sessions.resolve(idle.token)).toBeNull();
    const touched = await sessions.resolve(active.token); // activity at 31 min
    expect(touched).toMatchObject({ ip: '198.51.100.1', lastSeenAt: active.session.createdAt + 31 * 60_000 });
    expect(touched!.idleExpiresAt).toBe(active.session.createdAt + 31 * 60_000 + policy.idleTimeoutMs);
    c.advance(30_000); // activity is recorded at most once a minute
    expect((await sessions.resolve(active.token))!.lastSeenAt).toBe(touched!.lastSeenAt);
    c.advance(policy.idleTimeoutMs - 30_000); // 30 min after the last recorded activity
    expect(await sessions.resolve(active.token)).toBeNull();
  });

  it.runIf(run)('ends a session at the absolute timeout however active it is', async () => {
    const c = clock();
    const sessions = new SessionManager(store, policy, c.now);
    const { token, session } = await sessions.create(user(), meta);
    for (let t = 20; t < 120; t += 20) {
      c.advance(20 * 60_000);
      const s = await sessions.resolve(token);
      expect(s, `active at ${t} min`).not.toBeNull();
      expect(s!.idleExpiresAt).toBeLessThanOrEqual(session.expiresAt); // idle expiry never passes the absolute one
    }
    c.advance(20 * 60_000); // 120 min
    expect(await sessions.resolve(token)).toBeNull();
  });

  it.runIf(run)('revokes only the owner\'s session', async () => {
    const sessions = new SessionManager(store, policy, clock().now);
    const [alice, mallory] = [user(), user()];
    const a = await sessions.create(alice, meta);
    expect(await sessions.revoke(mallory, a.session.id)).toBe(false);
    expect(await sessions.resolve(a.token)).not.toBeNull();
    expect(await sessions.revoke(alice, 'no-such-session')).toBe(false);
    expect(await sessions.revoke(alice, a.session.id)).toBe(true);
    expect(await sessions.resolve(a.token)).toBeNull();
    expect(await sessions.revoke(alice, a.session.id)).toBe(false);
  });

  it.runIf(run)('lists a user\'s live sessions and revokes all but the current one', async () => {
    const sessions = new SessionManager(store, policy, clock().now);
    const [alice, bob] = [user(), user()];
    const mine = [await sessions.create(alice, meta), await sessions.create(alice, meta), await sessions.create(alice, meta)];
    const bobs = await sessions.create(bob, meta);
    expect((await sessions.list(alice)).map((s) => s.id).sort()).toEqual(mine.map((m) => m.session.id).sort());
    expect(await sessions.revokeAll(alice, mine[0]!.session.id)).toBe(2);
    expect(await sessions.resolve(mine[0]!.token)).not.toBeNull();
    expect(await sessions.resolve(mine[1]!.token)).toBeNull();
    expect(await sessions.resolve(mine[2]!.token)).toBeNull();
    expect((await sessions.list(alice)).map((s) => s.id)).toEqual([mine[0]!.session.id]);
    expect(await sessions.resolve(bobs.token)).not.toBeNull();
    expect(await sessions.revokeAll(alice)).toBe(1);
    expect(await sessions.list(alice)).toEqual([]);
    expect(await sessions.list(bob)).toHaveLength(1);
  });

  it.runIf(run)('store: a shorter-lived session\'s activity does not hide the user\'s other sessions', async () => {
    // Stores expire records in real time, so this one uses real, short lifetimes.
    const u = user();
    const record = (id: string, ttlMs: number): SessionRecord => {
      const t = Date.now();
      return { id, userId: u, tokenHash: `hash-${id}`, createdAt: t, lastSeenAt: t, expiresAt: t + ttlMs, idleExpiresAt: t + ttlMs, ip: null, userAgent: null };
    };
    const short = record(`short-${runId()}`, 300);
    const long = record(`long-${runId()}`, 60_000);
    await store.put(short);
    await store.put(long);
    await store.put({ ...short, lastSeenAt: Date.now() }); // an activity update of the older, shorter-lived session
    await waitFor(async () => (await store.get(short.id)) === null && Date.now() > short.expiresAt + 50, 'the short session to expire', 5_000);
    expect((await store.listForUser(u)).map((s) => s.id)).toEqual([long.id]);
    expect(await store.getByTokenHash(long.tokenHash)).toMatchObject({ id: long.id });
    // "Log out everywhere" (password change) must still find it.
    expect(await store.deleteForUser(u)).toBe(1);
    expect(await store.get(long.id)).toBeNull();
  });
});

describe.each(impls)('PresenceStore contract (%s)', (impl) => {
  const run = impl === 'memory' || canRunRedis;
  let store: PresenceStore;
  // Fresh ids per run: the Redis index is shared by everything under the prefix.
  const u = (): string => crypto.randomUUID();
  beforeAll(() => {
    if (!run) return;
    // One store per node in a real deployment; in Redis they share the keys, in memory one process is one node.
    store = impl === 'redis' ? new RedisPresenceStore(redisConn('presence'), `${prefix}presence:`) : new MemoryPresenceStore();
  });

  it.runIf(run)('a person is as present as their most present device over all nodes; unknown people are offline', async () => {
    const [ann, bob, cat] = [u(), u(), u()];
    await store.put('node-a', [{ userId: ann, status: 'idle' }, { userId: bob, status: 'online' }], 60_000);
    await store.put('node-b', [{ userId: ann, status: 'online' }], 60_000);
    expect(Object.fromEntries(await store.statuses([ann, bob, cat]))).toEqual({ [ann]: 'online', [bob]: 'online', [cat]: 'offline' });
    expect((await store.present()).filter((id) => [ann, bob, cat].includes(id)).sort()).toEqual([ann, bob].sort());
    // Leaving one node leaves what the other says.
    await store.remove('node-b', [ann]);
    expect((await store.statuses([ann])).get(ann)).toBe('idle');
    await store.remove('node-a', [ann, bob]);
    expect(Object.fromEntries(await store.statuses([ann, bob]))).toEqual({ [ann]: 'offline', [bob]: 'offline' });
    expect((await store.present()).filter((id) => [ann, bob].includes(id))).toEqual([]);
    expect(await store.statuses([])).toEqual(new Map());
  });

  it.runIf(run)("a dead node's people go offline when its entries expire, and present() forgets them", async () => {
    const [dee, eve] = [u(), u()];
    await store.put('node-dying', [{ userId: dee, status: 'online' }], 150);
    await store.put('node-alive', [{ userId: eve, status: 'idle' }], 60_000);
    expect((await store.present()).filter((id) => id === dee || id === eve).sort()).toEqual([dee, eve].sort());
    await waitFor(async () => (await store.statuses([dee])).get(dee) === 'offline', 'the dead node to expire', 5_000);
    expect((await store.present()).filter((id) => id === dee || id === eve)).toEqual([eve]);
    // A refresh from a live node keeps someone present past an earlier, shorter entry.
    await store.put('node-dying', [{ userId: eve, status: 'online' }], 100);
    await sleep(250);
    expect((await store.statuses([eve])).get(eve)).toBe('idle');
    expect(await store.present()).toContain(eve);
  });
});

describe('MemorySessionStore file persistence', () => {
  let dir: string;
  let file: string;
  beforeAll(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'circles-sessions-file-'));
    file = path.join(dir, 'sessions.json');
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const policy = { idleTimeoutMs: 30 * 60_000, absoluteTimeoutMs: 2 * 60 * 60_000 };
  const meta = { ip: '203.0.113.7', userAgent: 'vitest' };

  it('keeps sessions, revocations and activity across re-instantiation from its file; expired ones are not loaded', async () => {
    let now = Date.now();
    const clock = () => now;
    const store = new MemorySessionStore(file);
    const sessions = new SessionManager(store, policy, clock);
    const u = 'persisted-user';
    const kept = await sessions.create(u, meta);
    const revoked = await sessions.create(u, meta);
    await sessions.revoke(u, revoked.session.id);
    now += 5 * 60_000;
    await sessions.resolve(kept.token, { ip: '198.51.100.9' }); // a coalesced write, flushed on close
    await store.close();

    const reopened = new MemorySessionStore(file);
    const again = new SessionManager(reopened, policy, clock);
    expect(await again.resolve(kept.token)).toMatchObject({ id: kept.session.id, ip: '198.51.100.9', lastSeenAt: kept.session.createdAt + 5 * 60_000 });
    expect(await again.resolve(revoked.token)).toBeNull();
    expect((await again.list(u)).map((s) => s.id)).toEqual([kept.session.id]);

    const t = Date.now();
    await reopened.put({ id: 'stale', userId: u, tokenHash: 'stale-hash', createdAt: t, lastSeenAt: t, expiresAt: t + 100, idleExpiresAt: t + 100, ip: null, userAgent: null });
    await waitFor(() => Date.now() > t + 150, 'the stale session to expire');
    await reopened.close();
    const third = new MemorySessionStore(file);
    expect(await third.getByTokenHash('stale-hash')).toBeNull();
    expect((await third.listForUser(u)).map((s) => s.id)).toEqual([kept.session.id]);
    await third.close();
  });
});

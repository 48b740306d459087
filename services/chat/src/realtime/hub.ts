import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import {
  DomainError,
  type Identity,
  type Logger,
  morePresent,
  PERMISSIONS_CHANGED_TOPIC,
  type PermissionsChanged,
  type PresenceStatus,
  type PresenceStore,
  type PubSub,
  type SessionManager,
} from '@circles/platform';
import { WebSocket, WebSocketServer } from 'ws';
import type { ChatService } from '../service.ts';
import { liveTopics } from './live.ts';

export interface HubOptions {
  /** WebSocket ping interval; a socket that missed the previous pong is terminated. */
  heartbeatMs: number;
  /** A socket with more than this waiting in its send buffer is too slow and is closed (4008). */
  maxBufferedBytes: number;
  /** How often this node refreshes its people in the presence store, and re-reads watched people. */
  presenceRefreshMs: number;
  /** How long a node's presence entries live without a refresh (a dead node's people go offline after this). */
  presenceTtlMs: number;
  /** How often open sockets' sessions are checked (logout closes them). */
  sessionCheckMs: number;
  /**
   * Channel events for a socket are gathered for up to this long and written together (one system call for all
   * of them): the write, not the message, is what a fan-out costs. 0 writes each at once.
   */
  flushMs: number;
}

export const defaultHubOptions: HubOptions = {
  heartbeatMs: 25_000,
  maxBufferedBytes: 1024 * 1024,
  presenceRefreshMs: 10_000,
  presenceTtlMs: 30_000,
  sessionCheckMs: 60_000,
  flushMs: 0,
};

const MAX_FRAME_BYTES = 64 * 1024;
const MAX_SUBSCRIPTIONS = 200;
const MAX_WATCHED = 500;
const MAX_FOLLOWS = 50;
const WRITES_PER_TURN = 500;
const MAX_PENDING_SENDS = 100;
const TYPING_EVERY_MS = 3_000;
const SEND_RIGHT_TTL_MS = 30_000;

/** Close codes of docs/chat-protocol.md. */
export const closeCodes = { sessionEnded: 4001, tooSlow: 4008, goingAway: 1001, policy: 1008, tooBig: 1009 } as const;

type Frame = { t: string } & Record<string, unknown>;

/** One open socket. */
class Connection {
  readonly subs = new Map<string, { communityId: string | null }>();
  /** Communities whose channel lists this socket follows. */
  readonly follows = new Set<string>();
  watching = new Set<string>();
  status: Exclude<PresenceStatus, 'offline'> = 'online';
  /** Framed channel events waiting for the next flush. */
  out: Buffer[] = [];
  /** Heartbeats since the client last showed life (a pong or any frame). */
  missed = 0;
  pendingSends = 0;
  sendChain: Promise<unknown> = Promise.resolve();
  readonly typingAt = new Map<string, number>();
  readonly sendRight = new Map<string, { allowed: boolean; until: number }>();

  constructor(
    readonly ws: WebSocket,
    readonly identity: Identity,
  ) {}

  get userId() {
    return this.identity.userId!;
  }
}

/**
 * This node's sockets. Fan-out: a channel's events arrive once per node (one PubSub subscription per channel that
 * any local socket follows) as the string the producer serialized, are turned into bytes once, and those same
 * bytes are written to every local subscriber — no per-recipient serialization, resolver or permission check.
 * Rights are checked when subscribing and again when Community announces a change.
 */
export class ChatHub {
  readonly nodeId = randomUUID();
  private readonly wss = new WebSocketServer({ noServer: true, maxPayload: MAX_FRAME_BYTES, perMessageDeflate: false, clientTracking: false });
  private readonly conns = new Set<Connection>();
  private readonly byUser = new Map<string, Set<Connection>>();
  private readonly channels = new Map<string, { conns: Set<Connection>; unsubscribe: Promise<() => Promise<void>> }>();
  private readonly userTopics = new Map<string, Promise<() => Promise<void>>>();
  private readonly communities = new Map<string, { conns: Set<Connection>; unsubscribe: Promise<() => Promise<void>> }>();
  /** Watched person -> local sockets watching them, and the status this node last told them. */
  private readonly watchers = new Map<string, Set<Connection>>();
  private readonly known = new Map<string, PresenceStatus>();
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly globalSubs: Promise<() => Promise<void>>[] = [];
  private stopped = false;
  readonly stats = { connections: 0, framesOut: 0, closedTooSlow: 0 };

  constructor(
    private readonly service: ChatService,
    private readonly deps: { pubsub: PubSub; presence: PresenceStore; sessions: SessionManager; log: Logger },
    private readonly opts: HubOptions = defaultHubOptions,
  ) {
    this.timers.push(setInterval(() => this.heartbeat(), opts.heartbeatMs).unref());
    this.timers.push(setInterval(() => void this.refreshPresence(), opts.presenceRefreshMs).unref());
    this.timers.push(setInterval(() => void this.checkSessions(), opts.sessionCheckMs).unref());
    this.globalSubs.push(deps.pubsub.subscribe(liveTopics.presence, (m) => this.onPresence(m as { users: { id: string; status: PresenceStatus }[] })));
    this.globalSubs.push(deps.pubsub.subscribe(PERMISSIONS_CHANGED_TOPIC, (m) => void this.onPermissionsChanged(m as PermissionsChanged)));
  }

  /** Takes over an upgrade the gateway has authenticated. */
  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer, identity: Identity): void {
    if (this.stopped || !identity.userId) {
      socket.end('HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\n\r\n');
      return;
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => this.accept(ws, identity));
  }

  private accept(ws: WebSocket, identity: Identity) {
    const conn = new Connection(ws, identity);
    this.conns.add(conn);
    this.stats.connections = this.conns.size;
    let mine = this.byUser.get(conn.userId);
    const firstHere = !mine;
    if (!mine) this.byUser.set(conn.userId, (mine = new Set()));
    mine.add(conn);
    if (firstHere) {
      this.userTopics.set(
        conn.userId,
        this.deps.pubsub.subscribe(liveTopics.user(conn.userId), (m) => this.onUserFrame(conn.userId, m as string)),
      );
    }
    void this.presenceChanged(conn.userId);
    ws.on('pong', () => (conn.missed = 0));
    ws.on('message', (data, isBinary) => {
      conn.missed = 0;
      if (isBinary) return ws.close(closeCodes.policy, 'text frames only');
      let frame: Frame;
      try {
        frame = JSON.parse(data.toString()) as Frame;
        if (!frame || typeof frame !== 'object' || typeof frame.t !== 'string') throw new Error('no type');
      } catch {
        return ws.close(closeCodes.policy, 'frames are JSON objects with a type');
      }
      this.handle(conn, frame).catch((err: unknown) => {
        this.deps.log.error('chat frame failed', { t: frame.t, err: err instanceof Error ? err : new Error(String(err)) });
        this.reply(conn, { t: 'error', code: 'INTERNAL', message: 'Unexpected error.' });
      });
    });
    ws.on('error', (err) => {
      this.deps.log.warn('chat socket error', { userId: conn.userId, err });
      ws.terminate();
    });
    ws.on('close', () => this.drop(conn));
  }

  private drop(conn: Connection) {
    if (!this.conns.delete(conn)) return;
    this.dirty.delete(conn);
    conn.out = [];
    this.stats.connections = this.conns.size;
    for (const channelId of conn.subs.keys()) this.leaveChannel(conn, channelId);
    for (const communityId of conn.follows) this.unfollow(conn, communityId);
    this.setWatching(conn, []);
    const mine = this.byUser.get(conn.userId);
    mine?.delete(conn);
    if (mine && !mine.size) {
      this.byUser.delete(conn.userId);
      const unsub = this.userTopics.get(conn.userId);
      this.userTopics.delete(conn.userId);
      void unsub?.then((u) => u());
    }
    void this.presenceChanged(conn.userId);
  }

  private reply(conn: Connection, frame: Frame) {
    this.write(conn, Buffer.from(JSON.stringify(frame)));
  }

  /**
   * Writes bytes to a socket, unless it is too slow to keep up: then it is closed and will catch up by sequence.
   * Channel events already gathered for the socket go out first, so a reply (an ack, a revocation, a pong) never
   * overtakes an event this node had for the socket before it.
   */
  private write(conn: Connection, bytes: Buffer) {
    const ws = conn.ws;
    if (ws.readyState !== WebSocket.OPEN) return;
    if (conn.out.length) {
      const gathered = conn.out;
      conn.out = [];
      this.flushOne(conn, gathered);
      if (ws.readyState !== WebSocket.OPEN) return;
    }
    if (this.tooSlow(conn)) return;
    this.stats.framesOut++;
    ws.send(bytes, { binary: false });
  }

  private tooSlow(conn: Connection): boolean {
    const ws = conn.ws;
    if (ws.bufferedAmount <= this.opts.maxBufferedBytes) return false;
    this.stats.closedTooSlow++;
    this.deps.log.warn('chat socket too slow: closed', { userId: conn.userId, bufferedBytes: ws.bufferedAmount });
    conn.out = [];
    ws.close(closeCodes.tooSlow, 'too slow: reconnect and catch up');
    // A peer too slow to read is too slow to finish a closing handshake.
    setTimeout(() => ws.terminate(), 1000).unref();
    return true;
  }

  private readonly dirty = new Set<Connection>();
  private flushTimer: NodeJS.Timeout | null = null;

  /**
   * A channel event, already framed once for everyone (`frameText`): queued on the socket and written with the
   * others gathered in the flush window, as one write of the socket's raw stream. Frames are whole, so they never
   * interleave with what ws itself writes (pings, replies); `bufferedAmount` still counts them.
   */
  private writeFramed(conn: Connection, framed: Buffer) {
    if (conn.ws.readyState !== WebSocket.OPEN) return;
    if (this.opts.flushMs <= 0) return this.flushOne(conn, [framed]);
    conn.out.push(framed);
    this.dirty.add(conn);
    this.flushTimer ??= setTimeout(() => this.flush(), this.opts.flushMs);
  }

  private deferred = 0;

  private flush() {
    this.flushTimer = null;
    // Behind on a fan-out (more events than this node writes in a window): keep gathering, up to 4 windows, so
    // each socket's write carries several events instead of one — the writes are what a saturated node spends on.
    if (this.queue.length && this.deferred < 4) {
      this.deferred++;
      this.flushTimer = setTimeout(() => this.flush(), this.opts.flushMs);
      return;
    }
    this.deferred = 0;
    for (const conn of this.dirty) {
      const out = conn.out;
      conn.out = [];
      if (out.length && conn.ws.readyState === WebSocket.OPEN) this.flushOne(conn, out);
    }
    this.dirty.clear();
  }

  private flushOne(conn: Connection, frames: Buffer[]) {
    if (this.tooSlow(conn)) return;
    const raw = (conn.ws as unknown as { _socket?: import('node:net').Socket })._socket;
    if (!raw || raw.destroyed) return;
    this.stats.framesOut += frames.length;
    if (frames.length === 1) raw.write(frames[0]!);
    else {
      raw.cork();
      for (const f of frames) raw.write(f);
      raw.uncork();
    }
  }

  private async handle(conn: Connection, f: Frame) {
    switch (f.t) {
      case 'ping':
        return this.reply(conn, { t: 'pong' });
      case 'sub':
        return this.subscribe(conn, ids(f.channelIds));
      case 'unsub':
        for (const id of ids(f.channelIds)) this.leaveChannel(conn, id);
        return;
      case 'follow':
        return this.follow(conn, ids(f.communityIds));
      case 'unfollow':
        for (const id of ids(f.communityIds)) this.unfollow(conn, id);
        return;
      case 'send':
        return this.send(conn, f);
      case 'typing':
        return this.typing(conn, f);
      case 'watch':
        return this.watch(conn, ids(f.userIds));
      case 'status': {
        if (f.status !== 'online' && f.status !== 'idle') return this.reply(conn, { t: 'error', code: 'BAD_USER_INPUT', message: 'Status is online or idle.' });
        conn.status = f.status;
        return this.presenceChanged(conn.userId);
      }
      default:
        return this.reply(conn, { t: 'error', code: 'BAD_USER_INPUT', message: `Unknown frame type "${String(f.t).slice(0, 40)}".` });
    }
  }

  private async subscribe(conn: Connection, channelIds: string[]) {
    for (const channelId of channelIds) {
      if (conn.subs.has(channelId)) {
        const { channel } = await this.service.channelFor(conn.identity, channelId);
        this.reply(conn, { t: 'subbed', channelId, lastSeq: Number(channel.last_seq) });
        continue;
      }
      if (conn.subs.size >= MAX_SUBSCRIPTIONS) {
        this.reply(conn, { t: 'error', channelId, code: 'LIMIT', message: `At most ${MAX_SUBSCRIPTIONS} channels per connection.` });
        continue;
      }
      try {
        const { channel, access } = await this.service.channelFor(conn.identity, channelId);
        if (!access.readable) throw new DomainError('FORBIDDEN', 'You cannot read this channel.');
        if (conn.ws.readyState !== WebSocket.OPEN) return;
        conn.subs.set(channel.id, { communityId: channel.community_id ?? null });
        let entry = this.channels.get(channel.id);
        if (!entry) {
          const topic = liveTopics.channel(channel.id);
          const conns = new Set<Connection>();
          entry = { conns, unsubscribe: this.deps.pubsub.subscribe(topic, (m) => this.fanOut(channel.id, conns, m as string)) };
          this.channels.set(channel.id, entry);
        }
        entry.conns.add(conn);
        // Subscribed before answering, so nothing committed after `lastSeq` can be missed.
        await entry.unsubscribe;
        const fresh = await this.service.repo.channel(channel.id);
        this.reply(conn, { t: 'subbed', channelId: channel.id, lastSeq: Number(fresh?.last_seq ?? channel.last_seq) });
      } catch (err) {
        const e = err instanceof DomainError ? err : null;
        if (!e) throw err;
        this.reply(conn, { t: 'error', channelId, code: e.code, message: e.message });
      }
    }
  }

  private leaveChannel(conn: Connection, channelId: string) {
    conn.subs.delete(channelId);
    conn.typingAt.delete(channelId);
    conn.sendRight.delete(channelId);
    const entry = this.channels.get(channelId);
    if (!entry) return;
    entry.conns.delete(conn);
    if (!entry.conns.size) {
      this.channels.delete(channelId);
      void entry.unsubscribe.then((u) => u());
    }
  }

  /** Channel-list changes of communities this person may see (a `channels` frame: refetch the list). */
  private async follow(conn: Connection, communityIds: string[]) {
    for (const communityId of communityIds) {
      if (conn.follows.has(communityId)) continue;
      if (conn.follows.size >= MAX_FOLLOWS) return this.reply(conn, { t: 'error', communityId, code: 'LIMIT', message: `Follow at most ${MAX_FOLLOWS} communities per connection.` });
      const spaces = /^[0-9a-f-]{36}$/.test(communityId) ? await this.service.deps.apis.community.readableSpaces({ userId: conn.userId, communityId }) : null;
      if (!spaces) {
        this.reply(conn, { t: 'error', communityId, code: 'NOT_FOUND', message: 'No such community.' });
        continue;
      }
      if (conn.ws.readyState !== WebSocket.OPEN) return;
      conn.follows.add(communityId);
      let entry = this.communities.get(communityId);
      if (!entry) {
        const conns = new Set<Connection>();
        entry = { conns, unsubscribe: this.deps.pubsub.subscribe(liveTopics.community(communityId), (m) => this.fanOutTo(conns, m as string)) };
        this.communities.set(communityId, entry);
      }
      entry.conns.add(conn);
      await entry.unsubscribe;
      this.reply(conn, { t: 'following', communityId });
    }
  }

  private unfollow(conn: Connection, communityId: string) {
    conn.follows.delete(communityId);
    const entry = this.communities.get(communityId);
    if (!entry) return;
    entry.conns.delete(conn);
    if (!entry.conns.size) {
      this.communities.delete(communityId);
      void entry.unsubscribe.then((u) => u());
    }
  }

  private fanOutTo(conns: Set<Connection>, frame: string) {
    if (typeof frame !== 'string' || !conns.size) return;
    this.enqueue([...conns], frameText(frame));
  }

  /**
   * Writes go out in order, at most WRITES_PER_TURN per event-loop turn: a channel with thousands of sockets does
   * not hold up the database round trips of the next message (which hold its channel's lock) for a whole fan-out.
   */
  private readonly queue: { conns: Connection[]; bytes: Buffer; next: number; channelId: string | null }[] = [];
  private draining = false;

  private enqueue(conns: Connection[], bytes: Buffer, channelId: string | null = null) {
    this.queue.push({ conns, bytes, next: 0, channelId });
    if (!this.draining) this.drain();
  }

  private drain() {
    this.draining = true;
    let budget = WRITES_PER_TURN;
    while (this.queue.length && budget > 0) {
      const job = this.queue[0]!;
      const end = Math.min(job.conns.length, job.next + budget);
      for (let k = job.next; k < end; k++) {
        const c = job.conns[k]!;
        // Unsubscribed or revoked since the event arrived: not theirs any more.
        if (job.channelId === null || c.subs.has(job.channelId)) this.writeFramed(c, job.bytes);
      }
      budget -= end - job.next;
      job.next = end;
      if (job.next >= job.conns.length) this.queue.shift();
    }
    if (this.queue.length) setImmediate(() => this.drain());
    else this.draining = false;
  }

  /** One channel event to this node's subscribers: bytes made once, written to each. */
  private fanOut(channelId: string, conns: Set<Connection>, frame: string) {
    if (typeof frame !== 'string' || !conns.size) return;
    // A deleted channel's subscriptions end with it (its last frame still goes to everyone who was there).
    const deleted = frame.startsWith('{"t":"channel"') && frame.includes('"change":"deleted"');
    this.enqueue([...conns], frameText(frame), deleted ? null : channelId);
    if (deleted) for (const c of [...conns]) this.leaveChannel(c, channelId);
  }

  /** Frames for one person's devices; a revocation also ends the subscription here. */
  private onUserFrame(userId: string, frame: string) {
    if (typeof frame !== 'string') return;
    const mine = this.byUser.get(userId);
    if (!mine) return;
    let revoked: string | null = null;
    if (frame.startsWith('{"t":"revoked"')) revoked = (JSON.parse(frame) as { channelId: string }).channelId;
    const bytes = Buffer.from(frame);
    for (const c of mine) {
      if (revoked) {
        if (!c.subs.has(revoked)) continue;
        this.leaveChannel(c, revoked);
      }
      this.write(c, bytes);
    }
  }

  private send(conn: Connection, f: Frame) {
    const clientId = typeof f.clientId === 'string' ? f.clientId.slice(0, 64) : '';
    const channelId = typeof f.channelId === 'string' ? f.channelId : '';
    if (conn.pendingSends >= MAX_PENDING_SENDS) {
      return this.reply(conn, { t: 'nack', clientId, channelId, code: 'RATE_LIMITED', message: 'Too many messages waiting; slow down.', retryAfterSeconds: 1 });
    }
    conn.pendingSends++;
    // One at a time per socket: a client's messages are numbered in the order it sent them.
    conn.sendChain = conn.sendChain.then(async () => {
      try {
        const { t: _t, ...input } = f;
        const result = await this.service.send(conn.identity, input);
        this.reply(conn, { t: 'ack', clientId, channelId, id: result.message.id, seq: Number(result.message.seq), duplicate: result.duplicate });
      } catch (err) {
        if (!(err instanceof DomainError)) {
          this.deps.log.error('chat send failed', { err: err instanceof Error ? err : new Error(String(err)) });
          return this.reply(conn, { t: 'nack', clientId, channelId, code: 'INTERNAL', message: 'Unexpected error: send again with the same clientId.' });
        }
        const ext = err.details as { retryAfterSeconds?: number; field?: string } | undefined;
        this.reply(conn, { t: 'nack', clientId, channelId, code: err.code, message: err.message, ...(ext?.retryAfterSeconds ? { retryAfterSeconds: ext.retryAfterSeconds } : {}), ...(ext?.field ? { field: ext.field } : {}) });
      } finally {
        conn.pendingSends--;
      }
    });
  }

  private async typing(conn: Connection, f: Frame) {
    const channelId = typeof f.channelId === 'string' ? f.channelId : '';
    if (!conn.subs.has(channelId)) return this.reply(conn, { t: 'error', channelId, code: 'NOT_SUBSCRIBED', message: 'Subscribe to the channel first.' });
    const now = Date.now();
    if (now - (conn.typingAt.get(channelId) ?? 0) < TYPING_EVERY_MS) return;
    conn.typingAt.set(channelId, now);
    if (!(await this.maySend(conn, channelId))) return;
    const threadId = typeof f.threadId === 'string' && /^[0-9a-f-]{36}$/i.test(f.threadId) ? f.threadId : null;
    this.service.live.channel(channelId, { t: 'typing', channelId, userId: conn.userId, threadId });
  }

  /** Cached per socket for a short while: typing is frequent, and sending is checked in full anyway. */
  private async maySend(conn: Connection, channelId: string) {
    const hit = conn.sendRight.get(channelId);
    if (hit && hit.until > Date.now()) return hit.allowed;
    let allowed = false;
    try {
      const { channel } = await this.service.channelFor(conn.identity, channelId);
      allowed = await this.service.canSend(conn.identity, channel);
    } catch {
      allowed = false;
    }
    conn.sendRight.set(channelId, { allowed, until: Date.now() + SEND_RIGHT_TTL_MS });
    return allowed;
  }

  // ---- presence ----

  private localStatus(userId: string): PresenceStatus {
    let status: PresenceStatus = 'offline';
    for (const c of this.byUser.get(userId) ?? []) status = morePresent(status, c.status);
    return status;
  }

  /** After a connect, disconnect or status change: store this node's view, then tell everyone the person's status. */
  private async presenceChanged(userId: string) {
    const local = this.localStatus(userId);
    try {
      if (local === 'offline') await this.deps.presence.remove(this.nodeId, [userId]);
      else await this.deps.presence.put(this.nodeId, [{ userId, status: local }], this.opts.presenceTtlMs);
      const status = (await this.deps.presence.statuses([userId])).get(userId) ?? 'offline';
      await this.deps.pubsub.publish(liveTopics.presence, { users: [{ id: userId, status }] });
    } catch (err) {
      this.deps.log.warn('presence update failed', { err: err instanceof Error ? err : new Error(String(err)) });
    }
  }

  private onPresence(m: { users: { id: string; status: PresenceStatus }[] }) {
    const changed = (m?.users ?? []).filter((u) => this.watchers.has(u.id) && this.known.get(u.id) !== u.status);
    this.tellWatchers(changed);
  }

  private tellWatchers(changed: { id: string; status: PresenceStatus }[]) {
    if (!changed.length) return;
    const perConn = new Map<Connection, { id: string; status: PresenceStatus }[]>();
    for (const u of changed) {
      this.known.set(u.id, u.status);
      for (const c of this.watchers.get(u.id) ?? []) perConn.set(c, [...(perConn.get(c) ?? []), u]);
    }
    for (const [c, users] of perConn) this.reply(c, { t: 'presence', users });
  }

  private setWatching(conn: Connection, userIds: string[]) {
    for (const u of conn.watching) {
      const set = this.watchers.get(u);
      set?.delete(conn);
      if (set && !set.size) {
        this.watchers.delete(u);
        this.known.delete(u);
      }
    }
    conn.watching = new Set(userIds);
    for (const u of userIds) {
      let set = this.watchers.get(u);
      if (!set) this.watchers.set(u, (set = new Set()));
      set.add(conn);
    }
  }

  private async watch(conn: Connection, userIds: string[]) {
    if (userIds.length > MAX_WATCHED) return this.reply(conn, { t: 'error', code: 'LIMIT', message: `Watch at most ${MAX_WATCHED} people.` });
    const others = userIds.filter((u) => u !== conn.userId);
    // Presence is shown only to people who share a community.
    const shared = new Set(others.length ? await this.service.deps.apis.community.sharesCommunity({ userId: conn.userId, otherUserIds: others }) : []);
    const allowed = userIds.filter((u) => u === conn.userId || shared.has(u));
    this.setWatching(conn, allowed);
    const statuses = await this.deps.presence.statuses(allowed);
    for (const [id, status] of statuses) this.known.set(id, status);
    this.reply(conn, { t: 'presence', users: userIds.map((id) => ({ id, status: statuses.get(id) ?? 'offline' })) });
  }

  /** Keeps this node's people alive in the store, and notices people whose node died (their entries expired). */
  private async refreshPresence() {
    try {
      const entries = [...this.byUser.keys()].map((userId) => ({ userId, status: this.localStatus(userId) as Exclude<PresenceStatus, 'offline'> }));
      await this.deps.presence.put(this.nodeId, entries, this.opts.presenceTtlMs);
      const watched = [...this.watchers.keys()];
      if (!watched.length) return;
      const now = await this.deps.presence.statuses(watched);
      this.tellWatchers([...now].filter(([id, s]) => this.known.get(id) !== s).map(([id, status]) => ({ id, status })));
    } catch (err) {
      this.deps.log.warn('presence refresh failed', { err: err instanceof Error ? err : new Error(String(err)) });
    }
  }

  // ---- rights on open sockets ----

  /** Community changed who may do what: check the affected subscriptions again, now. */
  private async onPermissionsChanged(m: PermissionsChanged) {
    const conns = m.userId ? [...(this.byUser.get(m.userId) ?? [])] : [...this.conns];
    for (const conn of conns) {
      conn.sendRight.clear();
      if (conn.follows.has(m.communityId)) {
        const spaces = await this.service.deps.apis.community.readableSpaces({ userId: conn.userId, communityId: m.communityId }).catch(() => []);
        if (!spaces) this.unfollow(conn, m.communityId);
      }
      for (const [channelId, sub] of [...conn.subs]) {
        if (sub.communityId !== m.communityId) continue;
        let readable = false;
        try {
          readable = (await this.service.channelFor(conn.identity, channelId)).access.readable;
        } catch (err) {
          if (!(err instanceof DomainError)) {
            this.deps.log.warn('permission re-check failed', { err: err instanceof Error ? err : new Error(String(err)) });
            continue;
          }
        }
        if (!readable && conn.subs.has(channelId)) {
          this.leaveChannel(conn, channelId);
          this.reply(conn, { t: 'revoked', channelId });
        }
      }
    }
  }

  private lastBeat = Date.now();

  private heartbeat() {
    // A server that was itself stalled past a tick cannot tell who answered: skip judging this round.
    const now = Date.now();
    const late = now - this.lastBeat > this.opts.heartbeatMs * 1.5;
    this.lastBeat = now;
    // Decided after this turn's I/O is read, so pongs already waiting in the sockets count.
    setImmediate(() => this.checkAlive(late));
  }

  /** A client silent for two whole intervals (no pong, no frame) is gone: dropped without a closing handshake. */
  private checkAlive(late: boolean) {
    for (const c of this.conns) {
      if (!late && c.missed >= 2) {
        this.deps.log.info('chat socket missed a heartbeat: dropped', { userId: c.userId });
        c.ws.terminate();
        continue;
      }
      c.missed++;
      try {
        c.ws.ping();
      } catch {
        c.ws.terminate();
      }
    }
  }

  private async checkSessions() {
    const bySession = new Map<string, Connection[]>();
    for (const c of this.conns) if (c.identity.sessionId) bySession.set(c.identity.sessionId, [...(bySession.get(c.identity.sessionId) ?? []), c]);
    for (const [sessionId, conns] of bySession) {
      let active = true;
      try {
        active = await this.deps.sessions.isActive(sessionId);
      } catch {
        continue; // the store is unreachable: keep sockets rather than drop everyone
      }
      if (!active) for (const c of conns) c.ws.close(closeCodes.sessionEnded, 'session ended');
    }
  }

  /** Closes every socket (clients reconnect elsewhere) and leaves the presence store. */
  async stop() {
    if (this.stopped) return;
    this.stopped = true;
    for (const t of this.timers) clearInterval(t);
    if (this.flushTimer) clearTimeout(this.flushTimer);
    const users = [...this.byUser.keys()];
    for (const c of [...this.conns]) {
      c.ws.close(closeCodes.goingAway, 'server shutting down');
      this.drop(c);
    }
    await this.deps.presence.remove(this.nodeId, users).catch(() => {});
    for (const s of this.globalSubs) await (await s)().catch(() => {});
    this.wss.close();
  }
}

/** A server-to-client WebSocket text frame (final, unmasked) around a JSON string: built once per event. */
export function frameText(text: string): Buffer {
  const payload = Buffer.from(text);
  const n = payload.length;
  const header = n < 126 ? Buffer.from([0x81, n]) : n < 65_536 ? Buffer.from([0x81, 126, n >> 8, n & 0xff]) : Buffer.alloc(10);
  if (n >= 65_536) {
    header[0] = 0x81;
    header[1] = 127;
    header.writeBigUInt64BE(BigInt(n), 2);
  }
  return Buffer.concat([header, payload]);
}

/** A list of ids from a frame: strings only, de-duplicated, lower-cased, at most 500. */
function ids(v: unknown): string[] {
  if (!Array.isArray(v)) return [];
  return [...new Set(v.filter((x): x is string => typeof x === 'string' && x.length <= 64).map((x) => x.toLowerCase()))].slice(0, 500);
}

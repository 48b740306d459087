/**
 * The chat connection (docs/chat-protocol.md), without React: one WebSocket to `/chat/socket` on this origin,
 * authenticated by the session cookie.
 *
 * What it keeps exact across a flaky network:
 * - it reconnects with exponential backoff and jitter (so a restarted server is not hit by every tab at once),
 *   subscribes again, follows its communities' channel lists again and re-sends the people it watches and its idle
 *   status;
 * - per channel it tracks the highest sequence number held contiguously; a gap (events arrive out of order when
 *   several people send at once, and nothing arrives while disconnected) is filled with `catchUp` (the
 *   `messages(after:)` query) until the server says there is nothing more;
 * - every send has a clientId (crypto.randomUUID()); until its `ack` it stays in an outbox and is re-sent with the
 *   same clientId after a reconnect, which the server answers with the stored message, never a second one. A send
 *   that cannot go out on the socket for a while is handed to `sendFallback` (the sendMessage mutation, equally
 *   idempotent by clientId).
 *
 * And what keeps it light: typing is sent at most once every 3 s per channel and thread, the device's status
 * turns idle after 5 minutes without input or while the page is hidden, and an application-level ping every 20 s
 * (browsers cannot see protocol pings) notices a connection that died silently.
 */

/**
 * A file on a live message: metadata, and links signed once for everyone the frame reaches (about 15 minutes, like
 * the API's). `kind` is lower case on the wire (`image`); a null `url` means the server did not sign it.
 */
export interface WireAttachment {
  id: string;
  name: string;
  contentType: string;
  kind: string;
  bytes: number;
  width: number | null;
  height: number | null;
  url: string | null;
  thumbUrl: string | null;
}

/** A message as the socket carries it ("M" in the protocol). Fields the server adds later are optional here. */
export interface WireMessage {
  id: string;
  channelId: string;
  seq: number;
  authorId: string | null;
  clientId: string;
  body: string | null;
  replyToId: string | null;
  threadId?: string | null;
  createdAt: string;
  editedAt: string | null;
  deleted: boolean;
  /** hereUserIds: whom the @here reached (present and able to read when it was written). */
  mentions?: { userIds: string[]; everyone: boolean; here: boolean; hereUserIds?: string[] };
  attachments?: WireAttachment[];
  replyCount?: number;
  lastReplyAt?: string | null;
  pinned?: boolean;
}

export type PresenceStatus = 'online' | 'idle' | 'offline';

export type ServerFrame =
  | { t: 'subbed'; channelId: string; lastSeq: number }
  | { t: 'error'; channelId?: string; code: string; message: string }
  | { t: 'ack'; clientId: string; channelId: string; id: string; seq: number; duplicate: boolean }
  | { t: 'nack'; clientId: string; channelId: string; code: string; message: string; retryAfterSeconds?: number }
  | { t: 'msg'; channelId: string; message: WireMessage }
  | { t: 'edit'; channelId: string; message: WireMessage }
  | { t: 'del'; channelId: string; id: string; seq: number }
  | { t: 'react'; channelId: string; messageId: string; emoji: string; userId: string; added: boolean; count: number }
  | { t: 'pin'; channelId: string; messageId: string; pinned: boolean; by: string }
  | { t: 'thread'; channelId: string; rootId: string; replyCount: number; lastReplyAt: string | null }
  | { t: 'typing'; channelId: string; userId: string; threadId: string | null }
  | { t: 'channel'; channelId: string; change: 'updated' | 'deleted' }
  | { t: 'channels'; communityId: string }
  | { t: 'following'; communityId: string }
  | { t: 'revoked'; channelId: string }
  | { t: 'read'; channelId: string; seq: number }
  | { t: 'mention'; channelId: string; messageId: string; seq: number }
  | { t: 'dm'; channelId: string }
  | { t: 'presence'; users: { id: string; status: PresenceStatus }[] }
  | { t: 'pong' };

export interface SendInput {
  channelId: string;
  body: string;
  replyToId?: string | null;
  threadId?: string | null;
  attachmentIds?: string[];
}

/** A send waiting for its acknowledgement (or refused: `error` set, kept until retried or discarded). */
export interface OutboxEntry extends SendInput {
  clientId: string;
  createdAt: string;
  error?: { code: string; message: string; retryAfterSeconds?: number };
}

/**
 * - connecting: the first attempt; open: live; reconnecting: lost and trying again (show the banner);
 * - ended: the session is over (closed with 4001): nothing more will connect until the person logs in again.
 */
export type ConnectionState = 'connecting' | 'open' | 'reconnecting' | 'ended';

/** Something the catch-up query returned: only its sequence number matters here; the app keeps the rest. */
export interface Sequenced {
  seq: number | null;
}

export interface ChatEvents<H extends Sequenced> {
  state: ConnectionState;
  /** Every frame the server sent, parsed (the app handles the ones it shows). */
  frame: ServerFrame;
  /** Messages fetched to fill a gap or catch up after a reconnect, oldest first. */
  history: { channelId: string; messages: H[] };
  /** The outbox changed (a send was queued, acknowledged, refused, retried or discarded). */
  outbox: OutboxEntry[];
  /** A send was stored: the id and sequence number the server gave it. */
  ack: { clientId: string; channelId: string; id: string; seq: number; message?: H };
}

export interface ChatSocketOptions<H extends Sequenced> {
  /** Defaults to `${location.origin.replace(/^http/, 'ws')}/chat/socket`. */
  url?: string;
  /** One page of messages after `after`, oldest first (the `messages(channelId, after:)` query). */
  catchUp(channelId: string, after: number): Promise<{ messages: H[]; hasMoreAfter: boolean }>;
  /** The same send over HTTP (sendMessage), used when the socket has been down for a while. */
  sendFallback?(entry: OutboxEntry): Promise<{ id: string; seq: number; message?: H }>;
  /** Injected for tests; default WebSocket. */
  WebSocketImpl?: typeof WebSocket;
}

export const TYPING_INTERVAL_MS = 3_000;
export const IDLE_AFTER_MS = 5 * 60_000;
export const PING_INTERVAL_MS = 20_000;
/** No answer to a ping this long: the connection is dead even if the browser has not noticed. */
const PONG_TIMEOUT_MS = 10_000;
const BACKOFF_MIN_MS = 500;
const BACKOFF_MAX_MS = 30_000;
/** A gap this old is not an out-of-order arrival about to resolve itself: fetch what is missing. */
const GAP_WAIT_MS = 400;
/** A send not acknowledged this long while the socket is down goes over HTTP instead. */
const FALLBACK_AFTER_MS = 6_000;
const MAX_SUBS_PER_FRAME = 200;
const MAX_FOLLOWS_PER_FRAME = 50;

/** Random in [base/2, base): "equal jitter", so reconnects spread out but never come back instantly. */
export function backoffDelay(attempt: number, random = Math.random): number {
  const base = Math.min(BACKOFF_MAX_MS, BACKOFF_MIN_MS * 2 ** attempt);
  return Math.floor(base / 2 + (random() * base) / 2);
}

interface Track {
  /** Highest sequence number held with nothing missing below it. */
  contiguous: number;
  /** Numbers seen beyond a gap. */
  ahead: Set<number>;
  filling: boolean;
  /** The channel's last sequence number as the server reported it when subscribing. */
  serverLast: number;
  gapTimer: ReturnType<typeof setTimeout> | null;
}

type Listener<T> = (value: T) => void;

export class ChatSocket<H extends Sequenced> {
  private ws: WebSocket | null = null;
  private stateValue: ConnectionState = 'connecting';
  private attempt = 0;
  private reconnectTimer: ReturnType<typeof setTimeout> | null = null;
  private pingTimer: ReturnType<typeof setInterval> | null = null;
  private pongDeadline: ReturnType<typeof setTimeout> | null = null;
  private idleTimer: ReturnType<typeof setInterval> | null = null;
  private fallbackTimer: ReturnType<typeof setInterval> | null = null;
  private stopped = true;
  private readonly subs = new Set<string>();
  /** Communities whose channel list the app follows (`channels` frames). */
  private readonly follows = new Set<string>();
  private readonly tracks = new Map<string, Track>();
  private readonly outboxEntries = new Map<string, OutboxEntry>();
  private outboxSnapshot: OutboxEntry[] = [];
  /** When each unacknowledged send was first attempted (for the HTTP fallback). */
  private readonly queuedAt = new Map<string, number>();
  private readonly fallbackInFlight = new Set<string>();
  private readonly lastTyping = new Map<string, number>();
  private watched: string[] = [];
  private status: 'online' | 'idle' = 'online';
  private lastInput = Date.now();
  private readonly listeners: { [K in keyof ChatEvents<H>]: Set<Listener<ChatEvents<H>[K]>> } = {
    state: new Set(),
    frame: new Set(),
    history: new Set(),
    outbox: new Set(),
    ack: new Set(),
  };

  constructor(private readonly options: ChatSocketOptions<H>) {}

  get state(): ConnectionState {
    return this.stateValue;
  }

  /** Sends not acknowledged yet, oldest first (the same array until it changes, for useSyncExternalStore). */
  get outbox(): OutboxEntry[] {
    return this.outboxSnapshot;
  }

  private outboxChanged() {
    this.outboxSnapshot = [...this.outboxEntries.values()].map((e) => ({ ...e }));
    this.emit('outbox', this.outboxSnapshot);
  }

  on<K extends keyof ChatEvents<H>>(type: K, listener: Listener<ChatEvents<H>[K]>): () => void {
    (this.listeners[type] as Set<Listener<ChatEvents<H>[K]>>).add(listener);
    return () => (this.listeners[type] as Set<Listener<ChatEvents<H>[K]>>).delete(listener);
  }

  private emit<K extends keyof ChatEvents<H>>(type: K, value: ChatEvents<H>[K]) {
    for (const listener of [...this.listeners[type]] as Listener<ChatEvents<H>[K]>[]) listener(value);
  }

  // ---- lifecycle ----

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.connect();
    this.idleTimer = setInterval(() => this.checkIdle(), 15_000);
    this.fallbackTimer = setInterval(() => this.sendOverHttp(), 2_000);
    if (typeof document !== 'undefined') {
      for (const type of ['keydown', 'pointerdown', 'pointermove', 'wheel', 'touchstart', 'focus'] as const) window.addEventListener(type, this.onInput, { passive: true, capture: true });
      document.addEventListener('visibilitychange', this.onVisibility);
      window.addEventListener('online', this.onOnline);
    }
  }

  stop(): void {
    this.stopped = true;
    this.clearTimers();
    if (this.idleTimer) clearInterval(this.idleTimer);
    if (this.fallbackTimer) clearInterval(this.fallbackTimer);
    for (const t of this.tracks.values()) if (t.gapTimer) clearTimeout(t.gapTimer);
    if (typeof document !== 'undefined') {
      for (const type of ['keydown', 'pointerdown', 'pointermove', 'wheel', 'touchstart', 'focus'] as const) window.removeEventListener(type, this.onInput, { capture: true });
      document.removeEventListener('visibilitychange', this.onVisibility);
      window.removeEventListener('online', this.onOnline);
    }
    const ws = this.ws;
    this.ws = null;
    ws?.close(1000);
  }

  private url(): string {
    return this.options.url ?? `${location.origin.replace(/^http/, 'ws')}/chat/socket`;
  }

  private setState(state: ConnectionState) {
    if (state === this.stateValue) return;
    this.stateValue = state;
    this.emit('state', state);
  }

  private connect() {
    if (this.stopped) return;
    this.clearTimers();
    const Impl = this.options.WebSocketImpl ?? WebSocket;
    let ws: WebSocket;
    try {
      ws = new Impl(this.url());
    } catch {
      this.scheduleReconnect();
      return;
    }
    this.ws = ws;
    ws.onopen = () => {
      if (this.ws !== ws) return;
      this.attempt = 0;
      this.setState('open');
      this.sendSubs([...this.subs]);
      this.sendFollows([...this.follows]);
      if (this.watched.length) this.raw({ t: 'watch', userIds: this.watched });
      this.status = this.currentStatus();
      if (this.status === 'idle') this.raw({ t: 'status', status: 'idle' });
      for (const entry of this.outboxEntries.values()) if (!entry.error) this.raw(sendFrame(entry));
      this.pingTimer = setInterval(() => this.ping(), PING_INTERVAL_MS);
    };
    ws.onmessage = (event) => {
      if (this.ws !== ws) return;
      // Any frame shows the connection is alive.
      this.clearPongDeadline();
      let frame: ServerFrame;
      try {
        frame = JSON.parse(String(event.data)) as ServerFrame;
      } catch {
        return;
      }
      this.handle(frame);
    };
    ws.onclose = (event) => {
      if (this.ws !== ws) return;
      this.ws = null;
      this.clearTimers();
      if (event.code === 4001) {
        // Logged out or the session expired: reconnecting would only be refused.
        this.setState('ended');
        return;
      }
      this.scheduleReconnect();
    };
    // An error is always followed by close; the reconnect happens there.
    ws.onerror = () => {};
  }

  private scheduleReconnect() {
    if (this.stopped) return;
    this.setState('reconnecting');
    const delay = backoffDelay(this.attempt++);
    this.reconnectTimer = setTimeout(() => this.connect(), delay);
  }

  /** Reconnect at once rather than waiting out the backoff (the network came back, the tab became visible). */
  private reconnectNow() {
    if (this.stopped || this.ws || this.stateValue === 'ended') return;
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    this.reconnectTimer = null;
    this.connect();
  }

  private clearTimers() {
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    if (this.pingTimer) clearInterval(this.pingTimer);
    this.reconnectTimer = null;
    this.pingTimer = null;
    this.clearPongDeadline();
  }

  private clearPongDeadline() {
    if (this.pongDeadline) clearTimeout(this.pongDeadline);
    this.pongDeadline = null;
  }

  private ping() {
    if (!this.raw({ t: 'ping' })) return;
    if (this.pongDeadline) return;
    this.pongDeadline = setTimeout(() => {
      // Silent for too long: drop it and start over (onclose does not fire for a socket we abandon, so do it here).
      const ws = this.ws;
      this.ws = null;
      this.clearTimers();
      ws?.close(4000);
      this.scheduleReconnect();
    }, PONG_TIMEOUT_MS);
  }

  private raw(frame: object): boolean {
    const ws = this.ws;
    if (!ws || ws.readyState !== 1) return false;
    ws.send(JSON.stringify(frame));
    return true;
  }

  // ---- subscriptions and sequence tracking ----

  subscribe(channelIds: string[]): void {
    const fresh = channelIds.filter((id) => !this.subs.has(id));
    for (const id of fresh) this.subs.add(id);
    if (fresh.length) this.sendSubs(fresh);
  }

  unsubscribe(channelIds: string[]): void {
    const gone = channelIds.filter((id) => this.subs.delete(id));
    if (gone.length) this.raw({ t: 'unsub', channelIds: gone });
  }

  private sendSubs(ids: string[]) {
    for (let i = 0; i < ids.length; i += MAX_SUBS_PER_FRAME) this.raw({ t: 'sub', channelIds: ids.slice(i, i + MAX_SUBS_PER_FRAME) });
  }

  /** Hear when these communities' channel lists change (a `channels` frame: refetch the list). */
  follow(communityIds: string[]): void {
    const fresh = communityIds.filter((id) => !this.follows.has(id));
    for (const id of fresh) this.follows.add(id);
    if (fresh.length) this.sendFollows(fresh);
  }

  unfollow(communityIds: string[]): void {
    const gone = communityIds.filter((id) => this.follows.delete(id));
    if (gone.length) this.raw({ t: 'unfollow', communityIds: gone });
  }

  private sendFollows(ids: string[]) {
    for (let i = 0; i < ids.length; i += MAX_FOLLOWS_PER_FRAME) this.raw({ t: 'follow', communityIds: ids.slice(i, i + MAX_FOLLOWS_PER_FRAME) });
  }

  /**
   * The app holds this channel's history up to `seq` with nothing missing: from now on gaps are filled and a
   * reconnect catches up from there.
   */
  track(channelId: string, seq: number): void {
    const existing = this.tracks.get(channelId);
    if (existing) {
      if (seq > existing.contiguous) {
        existing.contiguous = seq;
        this.advance(channelId, existing);
      }
      return;
    }
    this.tracks.set(channelId, { contiguous: seq, ahead: new Set(), filling: false, serverLast: 0, gapTimer: null });
  }

  untrack(channelId: string): void {
    const t = this.tracks.get(channelId);
    if (t?.gapTimer) clearTimeout(t.gapTimer);
    this.tracks.delete(channelId);
  }

  /** Asks the server at once for anything after the contiguous position (a channel view was just opened). */
  catchUpNow(channelId: string): void {
    void this.fill(channelId);
  }

  /** The highest sequence number held contiguously, or null when the channel is not tracked. */
  contiguous(channelId: string): number | null {
    return this.tracks.get(channelId)?.contiguous ?? null;
  }

  private saw(channelId: string, seq: number) {
    const t = this.tracks.get(channelId);
    if (!t || seq <= t.contiguous) return;
    t.ahead.add(seq);
    this.advance(channelId, t);
  }

  private advance(channelId: string, t: Track) {
    while (t.ahead.has(t.contiguous + 1)) t.ahead.delete(++t.contiguous);
    for (const n of t.ahead) if (n <= t.contiguous) t.ahead.delete(n);
    if (t.ahead.size === 0) {
      if (t.gapTimer) clearTimeout(t.gapTimer);
      t.gapTimer = null;
    } else if (!t.gapTimer && !t.filling) {
      // Concurrent senders' events can arrive out of order: give the missing one a moment before fetching it.
      t.gapTimer = setTimeout(() => {
        t.gapTimer = null;
        void this.fill(channelId);
      }, GAP_WAIT_MS);
    }
  }

  /** Fetches everything after the contiguous position until the server has nothing more. */
  private async fill(channelId: string): Promise<void> {
    const t = this.tracks.get(channelId);
    if (!t || t.filling) return;
    t.filling = true;
    try {
      for (;;) {
        const from = t.contiguous;
        const page = await this.options.catchUp(channelId, from);
        if (this.tracks.get(channelId) !== t) return;
        if (page.messages.length) this.emit('history', { channelId, messages: page.messages });
        const last = page.messages.at(-1)?.seq ?? from;
        // The server's pages have no gaps: everything up to the last one returned is now held.
        if (last > t.contiguous) t.contiguous = last;
        while (t.ahead.has(t.contiguous + 1)) t.ahead.delete(++t.contiguous);
        for (const n of t.ahead) if (n <= t.contiguous) t.ahead.delete(n);
        if (!page.hasMoreAfter || page.messages.length === 0) {
          // The main timeline leaves thread replies out, so what is still "ahead" (replies, or numbers the
          // server reported when subscribing) is held as far as this timeline goes.
          t.contiguous = Math.max(t.contiguous, t.serverLast, ...t.ahead);
          t.ahead.clear();
          break;
        }
      }
    } catch {
      // Try again with the next event or reconnect; nothing is lost, it is all stored.
    } finally {
      t.filling = false;
    }
    if (t.ahead.size) this.advance(channelId, t);
  }

  // ---- frames in ----

  private handle(frame: ServerFrame) {
    switch (frame.t) {
      case 'subbed': {
        const t = this.tracks.get(frame.channelId);
        if (t) t.serverLast = Math.max(t.serverLast, frame.lastSeq);
        if (t && frame.lastSeq > t.contiguous) void this.fill(frame.channelId);
        break;
      }
      case 'msg':
      case 'edit':
        if (frame.t === 'msg') this.saw(frame.channelId, frame.message.seq);
        break;
      case 'del':
        this.saw(frame.channelId, frame.seq);
        break;
      case 'ack': {
        const entry = this.outboxEntries.get(frame.clientId);
        if (entry) this.settle(frame.clientId, { channelId: frame.channelId, id: frame.id, seq: frame.seq });
        this.saw(frame.channelId, frame.seq);
        break;
      }
      case 'nack': {
        const entry = this.outboxEntries.get(frame.clientId);
        if (entry) {
          entry.error = { code: frame.code, message: frame.message, ...(frame.retryAfterSeconds !== undefined ? { retryAfterSeconds: frame.retryAfterSeconds } : {}) };
          this.queuedAt.delete(frame.clientId);
          this.outboxChanged();
        }
        break;
      }
      case 'revoked':
        this.subs.delete(frame.channelId);
        this.untrack(frame.channelId);
        break;
      default:
        break;
    }
    this.emit('frame', frame);
  }

  private settle(clientId: string, ack: { channelId: string; id: string; seq: number; message?: H }) {
    if (!this.outboxEntries.delete(clientId)) return;
    this.queuedAt.delete(clientId);
    this.emit('ack', { clientId, ...ack });
    this.outboxChanged();
  }

  // ---- frames out ----

  /** Queues a message and sends it when it can; returns its clientId (the pending message's key). */
  send(input: SendInput): string {
    const clientId = crypto.randomUUID();
    const entry: OutboxEntry = { ...input, clientId, createdAt: new Date().toISOString() };
    this.outboxEntries.set(clientId, entry);
    this.queuedAt.set(clientId, Date.now());
    this.outboxChanged();
    this.raw(sendFrame(entry));
    return clientId;
  }

  /** Sends a refused message again, with the same clientId. */
  retry(clientId: string): void {
    const entry = this.outboxEntries.get(clientId);
    if (!entry) return;
    delete entry.error;
    this.queuedAt.set(clientId, Date.now());
    this.outboxChanged();
    this.raw(sendFrame(entry));
  }

  discard(clientId: string): void {
    if (this.outboxEntries.delete(clientId)) {
      this.queuedAt.delete(clientId);
      this.outboxChanged();
    }
  }

  /** While the socket is down, a send waiting too long goes over HTTP with the same clientId (idempotent). */
  private sendOverHttp() {
    const fallback = this.options.sendFallback;
    if (!fallback || this.stateValue === 'open') return;
    const now = Date.now();
    for (const [clientId, since] of this.queuedAt) {
      const entry = this.outboxEntries.get(clientId);
      if (!entry || entry.error || this.fallbackInFlight.has(clientId) || now - since < FALLBACK_AFTER_MS) continue;
      this.fallbackInFlight.add(clientId);
      fallback(entry).then(
        (stored) => this.settle(clientId, { channelId: entry.channelId, ...stored }),
        (err: unknown) => {
          const e = err as { code?: unknown; message?: unknown; retryAfterSeconds?: unknown };
          // Unreachable too: keep it queued for the socket. A refusal is final until retried.
          if (e.code !== 'NETWORK_ERROR' && typeof e.code === 'string') {
            entry.error = { code: e.code, message: typeof e.message === 'string' ? e.message : '', ...(typeof e.retryAfterSeconds === 'number' ? { retryAfterSeconds: e.retryAfterSeconds } : {}) };
            this.queuedAt.delete(clientId);
            this.outboxChanged();
          } else {
            this.queuedAt.set(clientId, Date.now());
          }
        },
      ).finally(() => this.fallbackInFlight.delete(clientId));
    }
  }

  /** "I am typing" for a channel (or a thread in it), at most once every 3 s. */
  typing(channelId: string, threadId: string | null = null): void {
    const key = `${channelId}:${threadId ?? ''}`;
    const now = Date.now();
    if (now - (this.lastTyping.get(key) ?? 0) < TYPING_INTERVAL_MS) return;
    if (this.raw(threadId ? { t: 'typing', channelId, threadId } : { t: 'typing', channelId })) this.lastTyping.set(key, now);
  }

  /** Stops throttling typing for a channel (a message was just sent: the next keystroke is a new "typing"). */
  typingDone(channelId: string, threadId: string | null = null): void {
    this.lastTyping.delete(`${channelId}:${threadId ?? ''}`);
  }

  /** The people whose presence to report (replaces the previous list). */
  watch(userIds: string[]): void {
    const next = [...new Set(userIds)].sort().slice(0, 500);
    if (next.length === this.watched.length && next.every((id, i) => id === this.watched[i])) return;
    this.watched = next;
    this.raw({ t: 'watch', userIds: next });
  }

  // ---- idle status ----

  private readonly onInput = () => {
    this.lastInput = Date.now();
    if (this.status === 'idle') this.checkIdle();
  };

  private readonly onVisibility = () => {
    if (document.visibilityState === 'visible') {
      this.lastInput = Date.now();
      this.reconnectNow();
    }
    this.checkIdle();
  };

  private readonly onOnline = () => this.reconnectNow();

  private currentStatus(): 'online' | 'idle' {
    const hidden = typeof document !== 'undefined' && document.visibilityState === 'hidden';
    return hidden || Date.now() - this.lastInput >= IDLE_AFTER_MS ? 'idle' : 'online';
  }

  private checkIdle() {
    const next = this.currentStatus();
    if (next === this.status) return;
    this.status = next;
    this.raw({ t: 'status', status: next });
  }
}

function sendFrame(entry: OutboxEntry) {
  return {
    t: 'send',
    channelId: entry.channelId,
    clientId: entry.clientId,
    body: entry.body,
    ...(entry.replyToId ? { replyToId: entry.replyToId } : {}),
    ...(entry.threadId ? { threadId: entry.threadId } : {}),
    ...(entry.attachmentIds?.length ? { attachmentIds: entry.attachmentIds } : {}),
  };
}

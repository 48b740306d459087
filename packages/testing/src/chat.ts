import { WebSocket } from 'ws';

export type ChatFrame = { t: string } & Record<string, any>;

/** How a test connects: bearer token (apps) or cookie + Origin (browsers). */
export interface ChatSocketOptions {
  token?: string;
  cookie?: string;
  origin?: string;
}

/**
 * A chat WebSocket client for tests (docs/chat-protocol.md): records every frame and waits for the ones a test
 * expects. `url` is the gateway's or the web app's http(s) address.
 */
export class ChatTestSocket {
  readonly frames: ChatFrame[] = [];
  private waiters: { pred: (f: ChatFrame) => boolean; resolve: (f: ChatFrame) => void }[] = [];
  closed: { code: number; reason: string } | null = null;
  private closedWaiters: ((c: { code: number; reason: string }) => void)[] = [];

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data) => {
      const f = JSON.parse(data.toString()) as ChatFrame;
      this.frames.push(f);
      for (const w of [...this.waiters]) {
        if (w.pred(f)) {
          this.waiters.splice(this.waiters.indexOf(w), 1);
          w.resolve(f);
        }
      }
    });
    ws.on('close', (code, reason) => {
      this.closed = { code, reason: reason.toString() };
      for (const w of this.closedWaiters) w(this.closed);
    });
  }

  /** Opens a socket; rejects with the HTTP status when the upgrade is refused. */
  static open(baseUrl: string, opts: ChatSocketOptions): Promise<ChatTestSocket> {
    const url = baseUrl.replace(/^http/, 'ws').replace(/\/$/, '') + '/chat/socket';
    const headers: Record<string, string> = {};
    if (opts.token) headers.authorization = `Bearer ${opts.token}`;
    if (opts.cookie) headers.cookie = opts.cookie;
    const ws = new WebSocket(url, { headers, ...(opts.origin ? { origin: opts.origin } : {}) });
    return new Promise((resolve, reject) => {
      ws.once('open', () => resolve(new ChatTestSocket(ws)));
      ws.once('unexpected-response', (_req, res) => {
        reject(Object.assign(new Error(`upgrade refused: ${res.statusCode}`), { status: res.statusCode }));
        ws.terminate();
      });
      ws.once('error', reject);
    });
  }

  send(frame: ChatFrame) {
    this.ws.send(JSON.stringify(frame));
  }

  /** The first frame (already received or to come) matching pred, after `since` frames. */
  next(pred: (f: ChatFrame) => boolean, timeoutMs = 10_000, since = 0): Promise<ChatFrame> {
    const seen = this.frames.slice(since).find(pred);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w.resolve !== done);
        reject(new Error(`no matching frame within ${timeoutMs} ms (socket ${this.closed ? `closed ${this.closed.code}` : 'open'}); got: ${JSON.stringify(this.frames.slice(-4))}`));
      }, timeoutMs);
      const done = (f: ChatFrame) => {
        clearTimeout(timer);
        resolve(f);
      };
      this.waiters.push({ pred, resolve: done });
    });
  }

  /** Subscribes and waits for every channel's answer. */
  async subscribe(channelIds: string[]): Promise<ChatFrame[]> {
    const since = this.frames.length;
    this.send({ t: 'sub', channelIds });
    return Promise.all(channelIds.map((id) => this.next((f) => (f.t === 'subbed' || f.t === 'error') && f.channelId === id, 10_000, since)));
  }

  /** Sends a message and waits for its ack or nack. */
  async sendMessage(channelId: string, body: string, clientId: string, extra: Record<string, unknown> = {}): Promise<ChatFrame> {
    const since = this.frames.length;
    this.send({ t: 'send', channelId, clientId, body, ...extra });
    return this.next((f) => (f.t === 'ack' || f.t === 'nack') && f.clientId === clientId, 15_000, since);
  }

  waitClosed(timeoutMs = 10_000): Promise<{ code: number; reason: string }> {
    if (this.closed) return Promise.resolve(this.closed);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`socket still open after ${timeoutMs} ms`)), timeoutMs);
      this.closedWaiters.push((c) => {
        clearTimeout(timer);
        resolve(c);
      });
    });
  }

  close() {
    this.ws.close();
  }
}

/**
 * The web app's chat connection module (apps/web/src/lib/chat-socket.ts) against a scripted socket: sequence
 * gaps filled from the catch-up query, catch-up after (re)subscribing, the outbox re-sent with the same clientId
 * after a reconnect, community channel lists followed again after a reconnect, the typing throttle, backoff bounds, and a session that ended (4001) not reconnecting. The
 * real server is exercised by tests/e2e/chat.browser.test.ts; this pins down the client's rules exactly.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { backoffDelay, ChatSocket, type ServerFrame } from '../../apps/web/src/lib/chat-socket.ts';

class FakeSocket {
  static all: FakeSocket[] = [];
  readyState = 0;
  sent: Record<string, unknown>[] = [];
  onopen: (() => void) | null = null;
  onmessage: ((e: { data: string }) => void) | null = null;
  onclose: ((e: { code: number }) => void) | null = null;
  onerror: (() => void) | null = null;
  constructor(readonly url: string) {
    FakeSocket.all.push(this);
  }
  send(data: string) {
    this.sent.push(JSON.parse(data) as Record<string, unknown>);
  }
  close(code = 1000) {
    this.readyState = 3;
    this.onclose?.({ code });
  }
  open() {
    this.readyState = 1;
    this.onopen?.();
  }
  receive(frame: ServerFrame) {
    this.onmessage?.({ data: JSON.stringify(frame) });
  }
  framesOf(t: string) {
    return this.sent.filter((f) => f.t === t);
  }
}

const last = () => FakeSocket.all.at(-1)!;
const wire = (channelId: string, seq: number) => ({ t: 'msg' as const, channelId, message: { id: `m${seq}`, channelId, seq, authorId: 'u2', clientId: `c${seq}-abcdefgh`, body: `#${seq}`, replyToId: null, createdAt: new Date().toISOString(), editedAt: null, deleted: false } });

describe('ChatSocket', () => {
  let catchUp: ReturnType<typeof vi.fn>;
  let socket: ChatSocket<{ seq: number }>;

  beforeEach(() => {
    vi.useFakeTimers();
    FakeSocket.all = [];
    catchUp = vi.fn();
    socket = new ChatSocket<{ seq: number }>({ url: 'ws://test/chat/socket', catchUp: catchUp as never, WebSocketImpl: FakeSocket as unknown as typeof WebSocket });
  });
  afterEach(() => {
    socket.stop();
    vi.useRealTimers();
  });

  it('fills a gap from the catch-up query after a short wait, and not for an arrival that was only out of order', async () => {
    socket.start();
    last().open();
    socket.subscribe(['ch']);
    socket.track('ch', 5);
    last().receive(wire('ch', 7));
    last().receive(wire('ch', 6));
    await vi.advanceTimersByTimeAsync(1_000);
    expect(catchUp).not.toHaveBeenCalled();
    expect(socket.contiguous('ch')).toBe(7);

    catchUp.mockResolvedValueOnce({ messages: [{ seq: 8 }, { seq: 9 }], hasMoreAfter: false });
    const history: number[][] = [];
    socket.on('history', (h) => history.push(h.messages.map((m) => m.seq)));
    last().receive(wire('ch', 10));
    await vi.advanceTimersByTimeAsync(1_000);
    expect(catchUp).toHaveBeenCalledWith('ch', 7);
    expect(history).toEqual([[8, 9]]);
    expect(socket.contiguous('ch')).toBe(10);
  });

  it('catches up page by page until hasMoreAfter is false when subscribing shows newer messages', async () => {
    catchUp.mockResolvedValueOnce({ messages: [{ seq: 3 }, { seq: 4 }], hasMoreAfter: true }).mockResolvedValueOnce({ messages: [{ seq: 5 }], hasMoreAfter: false });
    socket.track('ch', 2);
    socket.subscribe(['ch']);
    socket.start();
    last().open();
    expect(last().framesOf('sub')).toEqual([{ t: 'sub', channelIds: ['ch'] }]);
    last().receive({ t: 'subbed', channelId: 'ch', lastSeq: 5 });
    await vi.advanceTimersByTimeAsync(10);
    expect(catchUp.mock.calls).toEqual([
      ['ch', 2],
      ['ch', 4],
    ]);
    expect(socket.contiguous('ch')).toBe(5);
  });

  it('re-sends an unacknowledged message with the same clientId after reconnecting, re-subscribes, and settles on the ack', async () => {
    socket.start();
    last().open();
    socket.subscribe(['ch']);
    const clientId = socket.send({ channelId: 'ch', body: 'hello' });
    expect(last().framesOf('send')).toEqual([{ t: 'send', channelId: 'ch', clientId, body: 'hello' }]);
    const states: string[] = [];
    socket.on('state', (s) => states.push(s));
    last().close(1006);
    expect(states).toEqual(['reconnecting']);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(FakeSocket.all).toHaveLength(2);
    last().open();
    expect(last().framesOf('sub')).toEqual([{ t: 'sub', channelIds: ['ch'] }]);
    expect(last().framesOf('send')).toEqual([{ t: 'send', channelId: 'ch', clientId, body: 'hello' }]);
    const acks: unknown[] = [];
    socket.on('ack', (a) => acks.push(a));
    last().receive({ t: 'ack', clientId, channelId: 'ch', id: 'm1', seq: 1, duplicate: true });
    expect(acks).toEqual([{ clientId, channelId: 'ch', id: 'm1', seq: 1 }]);
    expect(socket.outbox).toEqual([]);
  });

  it("follows a community's channel list, follows it again after a reconnect, and stops on unfollow", async () => {
    socket.follow(['c1']);
    socket.start();
    last().open();
    expect(last().framesOf('follow')).toEqual([{ t: 'follow', communityIds: ['c1'] }]);
    socket.follow(['c1', 'c2']);
    expect(last().framesOf('follow')).toEqual([
      { t: 'follow', communityIds: ['c1'] },
      { t: 'follow', communityIds: ['c2'] },
    ]);
    const frames: string[] = [];
    socket.on('frame', (f) => frames.push(f.t === 'channels' ? `channels:${f.communityId}` : f.t));
    last().receive({ t: 'channels', communityId: 'c1' });
    expect(frames).toEqual(['channels:c1']);
    last().close(1006);
    await vi.advanceTimersByTimeAsync(1_000);
    last().open();
    expect(last().framesOf('follow')).toEqual([{ t: 'follow', communityIds: ['c1', 'c2'] }]);
    socket.unfollow(['c2', 'unknown']);
    expect(last().framesOf('unfollow')).toEqual([{ t: 'unfollow', communityIds: ['c2'] }]);
    last().close(1006);
    await vi.advanceTimersByTimeAsync(1_000);
    last().open();
    expect(last().framesOf('follow')).toEqual([{ t: 'follow', communityIds: ['c1'] }]);
  });

  it('keeps a refused send with its reason until retried (same clientId) or discarded', () => {
    socket.start();
    last().open();
    const clientId = socket.send({ channelId: 'ch', body: 'too fast' });
    last().receive({ t: 'nack', clientId, channelId: 'ch', code: 'RATE_LIMITED', message: 'Slow mode is on', retryAfterSeconds: 30 });
    expect(socket.outbox[0]!.error).toEqual({ code: 'RATE_LIMITED', message: 'Slow mode is on', retryAfterSeconds: 30 });
    socket.retry(clientId);
    expect(last().framesOf('send').map((f) => f.clientId)).toEqual([clientId, clientId]);
    expect(socket.outbox[0]!.error).toBeUndefined();
    socket.discard(clientId);
    expect(socket.outbox).toEqual([]);
  });

  it('sends typing at most once every 3 s per channel and thread', async () => {
    socket.start();
    last().open();
    socket.typing('ch');
    socket.typing('ch');
    socket.typing('ch', 'root');
    await vi.advanceTimersByTimeAsync(2_900);
    socket.typing('ch');
    await vi.advanceTimersByTimeAsync(200);
    socket.typing('ch');
    expect(last().framesOf('typing')).toEqual([{ t: 'typing', channelId: 'ch' }, { t: 'typing', channelId: 'ch', threadId: 'root' }, { t: 'typing', channelId: 'ch' }]);
  });

  it('pings every 20 s and reconnects when no answer comes', async () => {
    socket.start();
    last().open();
    await vi.advanceTimersByTimeAsync(20_000);
    expect(last().framesOf('ping')).toHaveLength(1);
    last().receive({ t: 'pong' });
    await vi.advanceTimersByTimeAsync(20_000);
    expect(FakeSocket.all).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(socket.state).toBe('reconnecting');
    await vi.advanceTimersByTimeAsync(1_000);
    expect(FakeSocket.all).toHaveLength(2);
  });

  it('stops for good when the session ended (4001)', async () => {
    socket.start();
    last().open();
    last().close(4001);
    expect(socket.state).toBe('ended');
    await vi.advanceTimersByTimeAsync(60_000);
    expect(FakeSocket.all).toHaveLength(1);
  });

  it('backs off exponentially with jitter, capped at 30 s', () => {
    expect(backoffDelay(0, () => 0)).toBe(250);
    expect(backoffDelay(0, () => 0.999)).toBeLessThan(500);
    expect(backoffDelay(3, () => 0)).toBe(2_000);
    expect(backoffDelay(20, () => 0)).toBe(15_000);
    expect(backoffDelay(20, () => 0.999)).toBeLessThan(30_000);
  });
});

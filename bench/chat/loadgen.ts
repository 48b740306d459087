/**
 * The load generator of `npm run bench:chat`, one process (the driver pins it to its own core). It opens N WebSockets
 * with the `ws` client to either stack, subscribes every one to one channel (Circles: `{"t":"sub"}` → `subbed`;
 * Socket.IO: the Engine.IO v4 / Socket.IO v5 protocol over a plain WebSocket, `join` → ack), then the first P sockets
 * publish at a fixed total rate, round robin, bodies of a fixed size that carry the message's number and its send
 * time. Every socket (publishers too) counts what it receives and records send-to-receive latency.
 *
 * Both stacks are driven by the same code on the same client library: only the few bytes of framing differ, so the
 * client's cost per received message is the same. Receiving reads the marker out of the raw frame bytes (no JSON
 * parse per delivery); the rare other frames (subbed, ack, errors) are parsed.
 *
 * Talks to the driver in JSON lines: reads its config as argv[2] (JSON); writes `{"type":"subscribed",…}` and waits
 * for a line `go` on stdin; writes `{"type":"window-start"}`, `{"type":"window-end"}` (with its own CPU and the server
 * process's CPU read from /proc at exactly those moments) and finally `{"type":"result",…}`. Progress goes to stderr.
 */
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import WebSocket from 'ws';

export interface LoadgenConfig {
  stack: 'circles' | 'socketio';
  /** ws:// URL of the socket endpoint. */
  url: string;
  clients: number;
  publishers: number;
  /** Messages per second, all publishers together. */
  rate: number;
  bodyBytes: number;
  warmupSeconds: number;
  windowSeconds: number;
  drainSeconds: number;
  channelId: string;
  /** Bearer tokens: publisher i uses tokens[i % length]; the other sockets take them round robin too. */
  tokens: string[];
  /** Handshakes in flight while connecting. */
  connectConcurrency: number;
  /** The server process, for CPU at the window's edges. */
  serverPid: number;
}

const cfg = JSON.parse(process.argv[2] ?? '') as LoadgenConfig;
const log = (line: string) => process.stderr.write(`    [loadgen ${cfg.stack} ${cfg.clients}] ${line}\n`);
const emit = (m: object) => process.stdout.write(`${JSON.stringify(m)}\n`);
const now = () => performance.timeOrigin + performance.now();
const CLK_TCK = 100;

/** utime + stime of a process, in seconds (all its threads). */
export function cpuSeconds(pid: number): { user: number; system: number; total: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // After the command: state is field 3, utime 14, stime 15 (1-based) → indexes 11 and 12 here.
  const user = Number(fields[11]) / CLK_TCK;
  const system = Number(fields[12]) / CLK_TCK;
  return { user, system, total: user + system };
}

/** Busy seconds per core (everything but idle and iowait), from /proc/stat: shows other work on the machine. */
export function coreBusySeconds(): number[] {
  const out: number[] = [];
  for (const line of readFileSync('/proc/stat', 'utf8').split('\n')) {
    const m = /^cpu(\d+)\s+(.*)$/.exec(line);
    if (!m) continue;
    const f = m[2]!.trim().split(/\s+/).map(Number);
    const total = f.slice(0, 8).reduce((a, b) => a + b, 0);
    out[Number(m[1])] = (total - f[3]! - f[4]!) / CLK_TCK;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// Messages: body = MARK + "<n>|<sendTimeMs>|" + padding to bodyBytes. The marker never appears elsewhere in a frame.

const MARK = '~bench|';
const MARK_BYTES = Buffer.from(MARK);
const runTag = Math.random().toString(36).slice(2, 8);
const MAX_MESSAGES = Math.ceil(cfg.rate * (cfg.warmupSeconds + cfg.windowSeconds + 5)) + 1000;
const sentAt = new Float64Array(MAX_MESSAGES);
const received = new Uint32Array(MAX_MESSAGES);

function body(n: number, t: number): string {
  const head = `${MARK}${n}|${t.toFixed(3)}|`;
  return head + 'x'.repeat(Math.max(0, cfg.bodyBytes - head.length));
}

/** Reads "<n>|<t>|" at `at` in the frame bytes. */
function readMark(data: Buffer, at: number): { n: number; t: number } | null {
  let i = at + MARK_BYTES.length;
  let n = 0;
  for (let c = data[i]!; c !== 0x7c; c = data[++i]!) {
    if (c < 0x30 || c > 0x39) return null;
    n = n * 10 + (c - 0x30);
  }
  i++;
  let t = 0;
  let scale = 0;
  for (let c = data[i]!; c !== 0x7c; c = data[++i]!) {
    if (c === 0x2e) scale = 1;
    else if (c < 0x30 || c > 0x39) return null;
    else if (scale) t += (c - 0x30) / (scale *= 10);
    else t = t * 10 + (c - 0x30);
  }
  return { n, t };
}

// ---------------------------------------------------------------------------------------------------------------
// Measurements

class Samples {
  buf = new Float64Array(1 << 20);
  length = 0;
  push(v: number) {
    if (this.length === this.buf.length) {
      const next = new Float64Array(this.buf.length * 2);
      next.set(this.buf);
      this.buf = next;
    }
    this.buf[this.length++] = v;
  }
  summary() {
    const s = this.buf.slice(0, this.length).sort();
    const pct = (p: number) => (s.length ? round(s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!, 2) : null);
    let sum = 0;
    for (const v of s) sum += v;
    return { samples: s.length, p50Ms: pct(50), p90Ms: pct(90), p99Ms: pct(99), p999Ms: pct(99.9), maxMs: s.length ? round(s[s.length - 1]!, 2) : null, meanMs: s.length ? round(sum / s.length, 2) : null };
  }
}
const round = (n: number, d = 1) => Math.round(n * 10 ** d) / 10 ** d;

type Phase = 'connect' | 'warmup' | 'window' | 'drain' | 'done';
let phase: Phase = 'connect';
let windowStart = 0;
let windowEnd = 0;
const latency = new Samples();
const ackLatency = new Samples();
let deliveriesInWindow = 0;
let deliveryBytes = 0;
let acksInWindow = 0;
/** The number of the first message sent in the window (messages stop when the window ends). */
let windowFirstMessage = Number.MAX_SAFE_INTEGER;
let windowMessageDeliveries = 0;
const sentInWindowById = new Set<string>();
let deliveriesTotal = 0;
let otherFrames = 0;
let errorFrames = 0;
const errorExamples: string[] = [];
let nacks = 0;
const closes = new Map<string, number>();
let closedDuringRun = 0;

// ---------------------------------------------------------------------------------------------------------------
// Connections

interface Conn {
  i: number;
  ws: WebSocket;
  subscribed: boolean;
  open: boolean;
}
const conns: Conn[] = [];
const pendingAcks = new Map<string, number>(); // clientId → send time
let subscribedCount = 0;
let onSubscribed: (() => void) | null = null;
let extensions = '';

const decoder = new TextDecoder();
const note = (what: string) => {
  errorFrames++;
  if (errorExamples.length < 5) errorExamples.push(what.slice(0, 300));
};

function delivery(data: Buffer, at: number, t0: number) {
  const m = readMark(data, at);
  if (!m) return note(`unreadable marker: ${decoder.decode(data).slice(0, 200)}`);
  deliveriesTotal++;
  deliveryBytes += data.length;
  if (m.n < MAX_MESSAGES) received[m.n]!++;
  // Throughput: what arrived during the window. Latency: every delivery of a message sent during the window, whenever
  // it arrives (an overloaded server's backlog shows up as latency, not as missing samples).
  if (phase === 'window') deliveriesInWindow++;
  if (m.n >= windowFirstMessage) {
    windowMessageDeliveries++;
    latency.push(t0 - m.t);
  }
}

function onAck(clientId: string, t0: number) {
  const sent = pendingAcks.get(clientId);
  if (sent === undefined) return;
  pendingAcks.delete(clientId);
  if (phase === 'window') acksInWindow++;
  if (sentInWindowById.has(clientId)) ackLatency.push(t0 - sent);
}

function markSubscribed(c: Conn) {
  if (c.subscribed) return;
  c.subscribed = true;
  subscribedCount++;
  if (subscribedCount === cfg.clients) onSubscribed?.();
}

/** Circles: `{"t":…}` frames. */
function circlesFrame(c: Conn, data: Buffer) {
  const t0 = now();
  const at = data.indexOf(MARK_BYTES);
  if (at >= 0) {
    // {"t":"msg",…} carrying a bench message (an ack carries no body).
    return delivery(data, at, t0);
  }
  otherFrames++;
  let f: { t?: string; clientId?: string; code?: string; message?: string };
  try {
    f = JSON.parse(decoder.decode(data));
  } catch {
    return note(`not JSON: ${decoder.decode(data).slice(0, 200)}`);
  }
  if (f.t === 'subbed') markSubscribed(c);
  else if (f.t === 'ack') onAck(f.clientId!, t0);
  else if (f.t === 'nack') {
    nacks++;
    note(JSON.stringify(f));
  } else if (f.t === 'error') note(JSON.stringify(f));
}

/** Socket.IO over Engine.IO v4: "0{open}", "2" ping, "40{…}" connected, "42[…]" event, "43<id>[…]" ack, "44{…}" error. */
function sioFrame(c: Conn, data: Buffer) {
  const t0 = now();
  const type = data[0];
  if (type === 0x32 /* 2 ping */) return c.ws.send('3');
  if (type !== 0x34 /* 4 message */) {
    otherFrames++;
    return; // 0 open (we answer it in 'open'), 1 close, 6 noop
  }
  const sub = data[1];
  if (sub === 0x32 /* 42 event */) {
    const at = data.indexOf(MARK_BYTES);
    if (at >= 0) return delivery(data, at, t0);
    otherFrames++;
    return note(`event without marker: ${decoder.decode(data).slice(0, 200)}`);
  }
  otherFrames++;
  const text = decoder.decode(data);
  if (sub === 0x30 /* 40 connected */) {
    c.ws.send(`420${JSON.stringify(['join', cfg.channelId])}`);
    return;
  }
  if (sub === 0x33 /* 43 ack */) {
    const m = /^43(\d+)(.*)$/s.exec(text);
    if (!m) return note(text);
    const id = Number(m[1]);
    const [r] = JSON.parse(m[2]!) as [{ error?: string; clientId?: string; channelId?: string }];
    if (r.error) {
      nacks++;
      return note(text);
    }
    if (id === 0) return markSubscribed(c);
    return onAck(r.clientId!, t0);
  }
  note(text); // 44 connect_error and anything else
}

function connect(i: number): Promise<void> {
  const token = cfg.tokens[i % cfg.tokens.length]!;
  const url = cfg.stack === 'circles' ? cfg.url : `${cfg.url}/socket.io/?EIO=4&transport=websocket`;
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers: { authorization: `Bearer ${token}` }, skipUTF8Validation: true, handshakeTimeout: 30_000 });
    const c: Conn = { i, ws, subscribed: false, open: false };
    conns[i] = c;
    const onFrame = cfg.stack === 'circles' ? circlesFrame : sioFrame;
    ws.on('message', (data: Buffer) => onFrame(c, data));
    ws.once('open', () => {
      c.open = true;
      extensions ||= ws.extensions || 'none';
      if (cfg.stack === 'circles') ws.send(JSON.stringify({ t: 'sub', channelIds: [cfg.channelId] }));
      else ws.send('40');
      resolve();
    });
    ws.once('unexpected-response', (_req, res) => {
      let text = '';
      res.on('data', (d: Buffer) => (text += d));
      res.on('end', () => reject(new Error(`socket ${i}: HTTP ${res.statusCode} ${text.slice(0, 300)}`)));
    });
    ws.once('error', (err) => {
      if (!c.open) reject(err);
      else note(`socket ${i} error: ${err.message}`);
    });
    ws.once('close', (code, reason) => {
      c.open = false;
      const key = `${code}${reason.length ? ` ${reason.toString()}` : ''}`;
      closes.set(key, (closes.get(key) ?? 0) + 1);
      if (phase !== 'connect' && phase !== 'done') closedDuringRun++;
    });
  });
}

// ---------------------------------------------------------------------------------------------------------------
// Publishing: a 5 ms tick sends whatever is due at the fixed rate, so a late tick catches up instead of drifting.

let sent = 0;
let sentInWindow = 0;
let firstInWindow = -1;
let lastInWindow = -1;
let publishStart = 0;
let skipped = 0;

function publish(n: number) {
  const c = conns[n % cfg.publishers]!;
  if (!c.open) {
    skipped++;
    return;
  }
  const t = now();
  sentAt[n] = t;
  const clientId = `bench-${runTag}-${n}`;
  pendingAcks.set(clientId, t);
  if (phase === 'window') {
    sentInWindow++;
    sentInWindowById.add(clientId);
    if (firstInWindow < 0) windowFirstMessage = firstInWindow = n;
    lastInWindow = n;
  }
  const input = { channelId: cfg.channelId, clientId, body: body(n, t) };
  if (cfg.stack === 'circles') c.ws.send(JSON.stringify({ t: 'send', ...input }));
  else c.ws.send(`42${n + 1}${JSON.stringify(['send', input])}`);
}

function tick() {
  const due = Math.floor(((now() - publishStart) * cfg.rate) / 1000);
  while (sent < due && sent < MAX_MESSAGES) publish(sent++);
}

// ---------------------------------------------------------------------------------------------------------------

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const mem = () => round(process.memoryUsage().rss / 2 ** 20);

const c0 = now();
{
  let next = 0;
  let failed = null as Error | null;
  await Promise.all(
    Array.from({ length: Math.min(cfg.connectConcurrency, cfg.clients) }, async () => {
      while (next < cfg.clients && !failed) {
        const i = next++;
        try {
          await connect(i);
        } catch (err) {
          failed ??= err as Error;
        }
      }
    }),
  );
  if (failed) {
    emit({ type: 'failed', error: `connecting: ${failed.message}`, opened: conns.filter((c) => c?.open).length });
    process.exit(1);
  }
}
const connectMs = now() - c0;
log(`${cfg.clients} sockets open in ${round(connectMs / 1000)} s (extensions: ${extensions}); waiting for subscriptions`);
const subscribed = await Promise.race([
  new Promise<boolean>((resolve) => {
    if (subscribedCount === cfg.clients) resolve(true);
    onSubscribed = () => resolve(true);
  }),
  sleep(60_000).then(() => false),
]);
if (!subscribed) {
  emit({ type: 'failed', error: `only ${subscribedCount} of ${cfg.clients} sockets subscribed within 60 s`, errorFrames, errorExamples, closes: Object.fromEntries(closes) });
  process.exit(1);
}
const subscribeMs = now() - c0 - connectMs;
emit({ type: 'subscribed', connectMs: round(connectMs), subscribeMs: round(subscribeMs), loadgenRssMb: mem() });

// The driver reads the server's memory, then says go.
await new Promise<void>((resolve) => {
  const rl = createInterface({ input: process.stdin });
  rl.on('line', (line) => {
    if (line.trim() === 'go') {
      rl.close();
      resolve();
    }
  });
});

phase = 'warmup';
publishStart = now();
const timer = setInterval(tick, 5);
await sleep(cfg.warmupSeconds * 1000);

phase = 'window';
windowStart = now();
const serverCpu0 = cpuSeconds(cfg.serverPid);
const cores0 = coreBusySeconds();
const ownCpu0 = process.cpuUsage();
const elu0 = performance.eventLoopUtilization();
emit({ type: 'window-start' });
await sleep(cfg.windowSeconds * 1000);
phase = 'drain';
windowEnd = now();
const serverCpu1 = cpuSeconds(cfg.serverPid);
const cores1 = coreBusySeconds();
const ownCpu = process.cpuUsage(ownCpu0);
const elu = performance.eventLoopUtilization(elu0);
const deliveriesAtWindowEnd = deliveriesTotal;
emit({ type: 'window-end' });
clearInterval(timer);
const windowSeconds = (windowEnd - windowStart) / 1000;

// Publishing stopped with the window. Wait until everything sent in it has reached every socket (and been
// acknowledged: 'complete'), or until nothing more arrives for 3 s ('stalled': something was lost), or drainSeconds
// at most ('limit': an overloaded server still working through its backlog).
const receivers = conns.filter((c) => c.subscribed).length;
const drain0 = now();
let drainEndedBy: 'complete' | 'stalled' | 'limit' = 'limit';
{
  let last = -1;
  let lastChange = now();
  while (now() - drain0 < cfg.drainSeconds * 1000) {
    const all = windowMessageDeliveries >= sentInWindow * receivers && ![...sentInWindowById].some((id) => pendingAcks.has(id));
    if (all) {
      drainEndedBy = 'complete';
      break;
    }
    // Progress is any delivery: an overloaded server may still be working through messages sent before the window.
    if (deliveriesTotal !== last) {
      last = deliveriesTotal;
      lastChange = now();
    } else if (now() - lastChange > 3000) {
      drainEndedBy = 'stalled';
      break;
    }
    await sleep(100);
  }
}
const drainSeconds = (now() - drain0) / 1000;
let windowDelivered = 0;
let incomplete = 0;
for (let n = firstInWindow; n >= 0 && n <= lastInWindow; n++) {
  windowDelivered += received[n]!;
  if (received[n]! < receivers) incomplete++;
}
const expected = sentInWindow * receivers;
const lat = latency.summary();
const acks = ackLatency.summary();
const result = {
  type: 'result',
  stack: cfg.stack,
  clients: cfg.clients,
  publishers: cfg.publishers,
  rate: cfg.rate,
  bodyBytes: cfg.bodyBytes,
  wsExtensions: extensions,
  connectSeconds: round(connectMs / 1000, 2),
  subscribeSeconds: round(subscribeMs / 1000, 2),
  windowSeconds: round(windowSeconds, 3),
  sentInWindow,
  sentPerSec: round(sentInWindow / windowSeconds),
  // Messages the server acknowledged (committed, for Circles) during the window, per second.
  ackedPerSec: round(acksInWindow / windowSeconds),
  skippedSends: skipped,
  acksMissing: pendingAcks.size,
  nacks,
  deliveriesInWindow,
  deliveriesPerSec: round(deliveriesInWindow / windowSeconds),
  deliveriesTotal,
  // WebSocket payload of one delivery (the frame's text), on average: the two stacks' envelopes differ.
  deliveryFrameBytes: deliveriesTotal ? Math.round(deliveryBytes / deliveriesTotal) : null,
  drainSeconds: round(drainSeconds, 2),
  drainEndedBy,
  /** Deliveries per second during the drain (the backlog being worked off, publishing stopped). */
  drainDeliveriesPerSec: round((deliveriesTotal - deliveriesAtWindowEnd) / Math.max(0.001, drainSeconds)),
  // Of the messages sent during the window: deliveries that arrived by the end of the drain, out of sent × sockets.
  completeness: expected ? round(windowDelivered / expected, 5) : null,
  messagesNotDeliveredToEveryone: incomplete,
  latency: lat,
  ackLatency: acks,
  serverCpuSeconds: round(serverCpu1.total - serverCpu0.total, 2),
  // In the kernel (socket writes; on loopback the TCP stack's work is largely done in the writer's time) and in Node.
  serverCpuUserSeconds: round(serverCpu1.user - serverCpu0.user, 2),
  serverCpuSystemSeconds: round(serverCpu1.system - serverCpu0.system, 2),
  // Each core's busy fraction during the window, whoever used it (the server, the generator, PostgreSQL, Redis, others).
  coreBusy: cores1.map((b, i) => round((b - (cores0[i] ?? 0)) / windowSeconds, 3)),
  loadgen: {
    cpuSeconds: round((ownCpu.user + ownCpu.system) / 1e6, 2),
    cpuUtilization: round((ownCpu.user + ownCpu.system) / 1e6 / windowSeconds, 3),
    eventLoopUtilization: round(elu.utilization, 3),
    rssMb: mem(),
  },
  otherFrames,
  errorFrames,
  errorExamples,
  closedDuringRun,
  closes: Object.fromEntries(closes),
};
phase = 'done';
emit(result);
for (const c of conns) c.ws.terminate();
setTimeout(() => process.exit(0), 100);

/**
 * `npm run bench:chat` (issue "Real-time chat", Benchmark): one channel with 1,000 and then 5,000 connected clients,
 * publishers at 50 messages/s in total, ~200-byte messages; delivered messages/s, p50/p99 send-to-receive latency,
 * memory per connection — for the Circles chat socket (`/chat/socket` on the real platform, every role in one
 * process, on PostgreSQL and Redis) and, side by side in the same run, for the same broadcast through Socket.IO 4 with
 * its Redis adapter (bench/chat/sio-server.ts). The server under test is pinned to core 0 (`taskset -c 0`), the load
 * generator (bench/chat/loadgen.ts) to core 1. Method: bench/chat/README.md.
 *
 * Targets: Circles' deliveries per CPU-second of the server process >= 1.5x Socket.IO's (at each size), and Circles'
 * p99 send-to-receive latency <= 200 ms at 1,000 clients. A human summary goes to stderr; one JSON document to stdout
 * and to bench/results/chat.json. Exits 0 when the runs completed (a missed target is a measurement, marked in the
 * JSON); 1 when a run could not be measured.
 *
 * Knobs (environment): BENCH_CHAT_CLIENTS (1000,5000), BENCH_CHAT_STACKS (circles,socketio), BENCH_CHAT_RATE (50
 * messages/s), BENCH_CHAT_PUBLISHERS (50: distinct people, since Circles allows one person 20 messages per 10 s),
 * BENCH_CHAT_BODY_BYTES (200), BENCH_CHAT_WARMUP_SECONDS (3), BENCH_CHAT_SECONDS (15), BENCH_CHAT_DRAIN_SECONDS (30 at
 * most: the drain ends when every message sent in the window reached every socket, or nothing arrived for 3 s),
 * BENCH_CHAT_SERVER_CORE (0), BENCH_CHAT_LOADGEN_CORE (1), BENCH_CHAT_CONNECT_CONCURRENCY (100),
 * BENCH_CHAT_NICE (-10: both the server and the generator, so other work on the machine disturbs them less; ignored
 * without the right to raise priority), BENCH_CHAT_CPU_PROF (a folder: servers and generator run with node --cpu-prof),
 * BENCH_CHAT_PG_URL (TEST_DATABASE_URL or postgres://postgres@127.0.0.1:5432/postgres: a database is created per
 * Circles run and dropped after), BENCH_CHAT_REDIS_URL (TEST_REDIS_URL or redis://127.0.0.1:6379; keys under a
 * fresh prefix, deleted after).
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import pg from 'pg';
import { io as ioClient } from 'socket.io-client';
import type { LoadgenConfig } from './loadgen.ts';

const repoRoot = new URL('../..', import.meta.url).pathname;
const num = (name: string, fallback: number) => {
  const v = Number(process.env[name] ?? fallback);
  if (!Number.isFinite(v) || v <= 0) {
    process.stderr.write(`${name}: expected a positive number, got ${process.env[name]}\n`);
    process.exit(2);
  }
  return v;
};
const CLIENTS = (process.env.BENCH_CHAT_CLIENTS ?? '1000,5000').split(',').map((s) => Number(s.trim())).filter((n) => n > 0);
const STACKS = (process.env.BENCH_CHAT_STACKS ?? 'circles,socketio').split(',').map((s) => s.trim()).filter(Boolean) as Stack[];
if (STACKS.some((s) => s !== 'circles' && s !== 'socketio')) {
  process.stderr.write(`BENCH_CHAT_STACKS: choose from circles, socketio (got ${STACKS.join(', ')})\n`);
  process.exit(2);
}
const RATE = num('BENCH_CHAT_RATE', 50);
const PUBLISHERS = num('BENCH_CHAT_PUBLISHERS', 50);
const BODY_BYTES = num('BENCH_CHAT_BODY_BYTES', 200);
const WARMUP_SECONDS = num('BENCH_CHAT_WARMUP_SECONDS', 3);
const SECONDS = num('BENCH_CHAT_SECONDS', 15);
const DRAIN_SECONDS = num('BENCH_CHAT_DRAIN_SECONDS', 30);
const SERVER_CORE = Number(process.env.BENCH_CHAT_SERVER_CORE ?? 0);
const LOADGEN_CORE = Number(process.env.BENCH_CHAT_LOADGEN_CORE ?? 1);
const CONNECT_CONCURRENCY = num('BENCH_CHAT_CONNECT_CONCURRENCY', 100);
/** A folder: the servers and the generator run with `node --cpu-prof` and write their profiles there (per run). */
const CPU_PROF = process.env.BENCH_CHAT_CPU_PROF ? path.resolve(process.env.BENCH_CHAT_CPU_PROF) : null;
// One folder per process: the main thread's profile is the large one (tsx's loader thread writes a small one).
const profArgs = (name: string) => (CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${path.join(CPU_PROF, name)}`] : []);
/** Niceness of the server and the generator (both the same), so other work on a shared machine disturbs them less. */
const NICE = Number(process.env.BENCH_CHAT_NICE ?? -10);
const PG_URL = process.env.BENCH_CHAT_PG_URL ?? process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const REDIS_URL = process.env.BENCH_CHAT_REDIS_URL ?? process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const RATIO_TARGET = 1.5;
const P99_TARGET_MS = 200;
const P99_TARGET_CLIENTS = 1000;
/** File descriptors asked for in the server's and the generator's shells (5,000 sockets need ~5,000 each). */
const WANT_FDS = 65536;

type Stack = 'circles' | 'socketio';
const say = (line: string) => process.stderr.write(`${line}\n`);
const round = (n: number, d = 1) => Math.round(n * 10 ** d) / 10 ** d;
const errorMessage = (err: unknown) => (err instanceof Error ? err.message : String(err));

// ---------------------------------------------------------------------------------------------------------------
// Processes

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

/**
 * Raises the soft fd limit as far as allowed, pins to one core, raises the priority, then becomes the command (same
 * pid). Priority: Linux groups processes by session for scheduling (autogroup), so `nice` alone only ranks a process
 * within its own session and other sessions' work still takes an equal share of the core. The process therefore gets
 * its own session (setsid) and that group's niceness is set too (/proc/self/autogroup), both BENCH_CHAT_NICE; without
 * the right to raise priority both are skipped and the run goes on.
 */
function spawnPinned(core: number, command: string[], env: NodeJS.ProcessEnv, stdio: ('pipe' | 'ignore')[] = ['ignore', 'pipe', 'pipe']): ChildProcess {
  const inner = `echo ${NICE} > /proc/self/autogroup 2>/dev/null; ulimit -n ${WANT_FDS} 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null; exec nice -n ${NICE} taskset -c ${core} "$@"`;
  // setsid forks only when the caller leads its process group, which a spawned child does not: the pid stays.
  return spawn('setsid', ['bash', '-c', inner, 'bash', ...command], { cwd: repoRoot, env, stdio: stdio as never });
}

/** The scheduling group's niceness (autogroup), or null where there is none. */
function autogroupOf(pid: number): string | null {
  try {
    return readFileSync(`/proc/${pid}/autogroup`, 'utf8').trim();
  } catch {
    return null;
  }
}

function fdLimitOf(pid: number): number | null {
  try {
    const line = readFileSync(`/proc/${pid}/limits`, 'utf8').split('\n').find((l) => l.startsWith('Max open files'));
    return line ? Number(line.split(/\s+/)[3]) : null;
  } catch {
    return null;
  }
}

function affinityOf(pid: number): string | null {
  try {
    return /Cpus_allowed_list:\s*(\S+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? null;
  } catch {
    return null;
  }
}

function niceOf(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]);
  } catch {
    return null;
  }
}

/** Resident memory in MiB (VmRSS). */
function rssMb(pid: number): number {
  const kb = Number(/VmRSS:\s*(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]);
  return round(kb / 1024, 2);
}

function cpuSeconds(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) / 100;
  } catch {
    return null; // gone
  }
}

async function stopProcess(child: ChildProcess, graceMs = 15_000): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  child.kill('SIGTERM');
  const code = await Promise.race([exited, sleep(graceMs, 'timeout' as const, { ref: false })]);
  if (code === 'timeout') {
    child.kill('SIGKILL');
    return null;
  }
  return code;
}

function collectOutput(child: ChildProcess): () => string {
  let out = '';
  const add = (d: Buffer | string) => (out = (out + d.toString()).slice(-20_000));
  child.stdout?.on('data', add);
  child.stderr?.on('data', add);
  return () => out;
}

async function waitFor(check: () => Promise<boolean>, child: ChildProcess, output: () => string, what: string, timeoutMs = 120_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`${what} exited (${child.exitCode ?? child.signalCode}) before it was ready\n--- output ---\n${output().slice(-4000)}`);
    if (Date.now() > deadline) throw new Error(`${what} not ready after ${timeoutMs / 1000} s\n--- output ---\n${output().slice(-4000)}`);
    try {
      if (await check()) return;
    } catch {
      // not yet
    }
    await sleep(100);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Servers under test

interface RunningServer {
  stack: Stack;
  pid: number;
  socketUrl: string;
  channelId: string;
  tokens: string[];
  /** Other processes doing this stack's work (PostgreSQL backends of its database), looked up when sampled. */
  helperPids(): Promise<number[]>;
  /** The PostgreSQL database it uses, if any. */
  dbName: string | null;
  setupSeconds: number;
  startSeconds: number;
  notes: string[];
  stop(): Promise<number | null>;
  output(): string;
}

const scratch = await mkdtemp(path.join(os.tmpdir(), 'circles-bench-chat-'));
const runTag = `${Date.now().toString(36)}${randomBytes(2).toString('hex')}`;
let bundleBuilt = false;

async function gql<T>(url: string, query: string, variables: Record<string, unknown>, opts: { token?: string; ip?: string } = {}): Promise<T> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  if (opts.ip) headers['x-forwarded-for'] = opts.ip;
  const res = await fetch(`${url}/graphql`, { method: 'POST', headers, body: JSON.stringify({ query, variables }) });
  const body = (await res.json()) as { data?: T; errors?: unknown[] };
  if (body.errors?.length || !body.data) throw new Error(`GraphQL ${query.slice(0, 60)}…: ${JSON.stringify(body.errors ?? body)}`);
  return body.data;
}

async function pool<T>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        await fn(items[i]!, i);
      }
    }),
  );
}

async function startCircles(runId: string): Promise<RunningServer> {
  if (!bundleBuilt) {
    // The production bundle (scripts/build-server.mjs, what `npm start` runs), rebuilt from the current sources.
    const { buildServer } = (await import(path.join(repoRoot, 'scripts/build-server.mjs'))) as { buildServer(): Promise<void> };
    await buildServer();
    bundleBuilt = true;
  }
  const dbName = `circles_bench_chat_${runTag}_${runId}`.replace(/[^a-z0-9_]/g, '_');
  const admin = new pg.Client({ connectionString: PG_URL });
  await admin.connect();
  await admin.query(`create database ${dbName}`);
  await admin.end();
  const dbUrl = new URL(PG_URL);
  dbUrl.pathname = `/${dbName}`;
  const redisPrefix = `circles-bench-chat-${runTag}-${runId}:`;
  const port = await freePort();
  const dataDir = path.join(scratch, runId);
  await mkdir(dataDir, { recursive: true });
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    NODE_ENV: 'production',
    CIRCLES_ENV: 'production',
    CIRCLES_ROLES: 'gateway,auth,community,media,posts,chat,payments',
    DATABASE_URL: dbUrl.toString(),
    REDIS_URL,
    REDIS_PREFIX: redisPrefix,
    DATA_DIR: dataDir,
    HOST: '127.0.0.1',
    GATEWAY_PORT: String(port),
    PUBLIC_URL: `http://127.0.0.1:${port}`,
    GATEWAY_SECRET: randomBytes(32).toString('hex'),
    // The setup signs up PUBLISHERS people from distinct (forwarded) addresses: sign-ups are limited per address.
    TRUST_PROXY: '1',
    // One channel takes CHAT_CHANNEL_RATE messages per 10 s from everyone together (default 200: 20/s, a raid guard);
    // the benchmark's channel gets twice its offered rate. Each publisher sends RATE / PUBLISHERS per second, within
    // the per-person default (CHAT_MEMBER_RATE, 20 per 10 s).
    CHAT_CHANNEL_RATE: String(Math.max(200, Math.ceil(RATE * 10 * 2))),
    LOG_LEVEL: 'warn',
  };
  const t0 = performance.now();
  const child = spawnPinned(SERVER_CORE, [process.execPath, ...profArgs(`circles-${runId}`), 'apps/server/dist/main.mjs'], env);
  const output = collectOutput(child);
  const url = `http://127.0.0.1:${port}`;
  let stopped = false;
  const stop = async () => {
    if (stopped) return null;
    stopped = true;
    const code = await stopProcess(child);
    await dropDatabase(dbName);
    await deleteRedisKeys(redisPrefix);
    return code;
  };
  try {
    await waitFor(async () => (await fetch(`${url}/readyz`)).status === 200, child, output, 'the Circles server');
    const startSeconds = round((performance.now() - t0) / 1000, 2);

    // People, a community and its channel, through the gateway like any client.
    const s0 = performance.now();
    const people: { token: string; id: string }[] = [];
    await pool(
      Array.from({ length: PUBLISHERS }, (_, i) => i),
      4,
      async (i) => {
        const d = await gql<{ signUp: { token: string; account: { id: string } } }>(
          url,
          'mutation ($input: SignUpInput!) { signUp(input: $input) { token account { id } } }',
          { input: { email: `chatter${i}@bench.example`, password: 'violet-kettle-sunrise-42', handle: `chatter${i}`, displayName: `Chatter ${i}`, delivery: 'BEARER' } },
          { ip: `10.77.${i >> 8}.${i & 255}` },
        );
        people[i] = { token: d.signUp.token, id: d.signUp.account.id };
      },
    );
    const owner = people[0]!;
    const { createCommunity } = await gql<{ createCommunity: { id: string; publicCenter: { id: string } } }>(
      url,
      'mutation ($input: CreateCommunityInput!) { createCommunity(input: $input) { id publicCenter { id } } }',
      { input: { name: 'Bench Chat', slug: `bench-chat-${runId}`.replace(/[^a-z0-9-]/g, '-'), visibility: 'LISTED', joinPolicy: 'OPEN' } },
      { token: owner.token },
    );
    await pool(people.slice(1), 4, (p) => gql(url, 'mutation ($id: ID!) { joinCommunity(id: $id) { id } }', { id: createCommunity.id }, { token: p.token }));
    const { createChannel } = await gql<{ createChannel: { id: string } }>(
      url,
      'mutation ($i: CreateChannelInput!) { createChannel(input: $i) { id } }',
      { i: { communityId: createCommunity.id, spaceId: createCommunity.publicCenter.id, name: 'general' } },
      { token: owner.token },
    );
    const setupSeconds = round((performance.now() - s0) / 1000, 2);
    return {
      stack: 'circles',
      pid: child.pid!,
      socketUrl: `ws://127.0.0.1:${port}/chat/socket`,
      channelId: createChannel.id,
      tokens: people.map((p) => p.token),
      dbName,
      async helperPids() {
        const c = new pg.Client({ connectionString: PG_URL });
        await c.connect();
        try {
          const r = await c.query<{ pid: number }>('select pid from pg_stat_activity where datname = $1', [dbName]);
          return r.rows.map((row) => row.pid);
        } finally {
          await c.end();
        }
      },
      setupSeconds,
      startSeconds,
      notes: [
        `apps/server/dist/main.mjs (the production bundle), CIRCLES_ENV=production, CIRCLES_ROLES=${env.CIRCLES_ROLES}, PostgreSQL database ${dbName} (dropped after), Redis with REDIS_PREFIX=${redisPrefix}`,
        `CHAT_CHANNEL_RATE=${env.CHAT_CHANNEL_RATE} (per 10 s; the default 200 would refuse ${RATE} msg/s), CHAT_MEMBER_RATE default (20 per 10 s per person; each publisher sends ${round(RATE / PUBLISHERS, 2)}/s)`,
        `${PUBLISHERS} people signed up through GraphQL (distinct X-Forwarded-For, TRUST_PROXY=1, because sign-ups are limited per address); every socket uses one of their bearer sessions, round robin`,
        'every message is committed to PostgreSQL (channel row lock, sequence number) before it is acknowledged and broadcast through Redis pub/sub',
      ],
      stop,
      output,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

async function startSocketIo(runId: string): Promise<RunningServer> {
  const port = await freePort();
  const token = randomBytes(16).toString('hex');
  const redisPrefix = `circles-bench-chat-${runTag}-${runId}:`;
  const t0 = performance.now();
  const child = spawnPinned(SERVER_CORE, [process.execPath, ...profArgs(`socketio-${runId}`), '--import', 'tsx', 'bench/chat/sio-server.ts', String(port), REDIS_URL, redisPrefix, token], {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    NODE_ENV: 'production',
  });
  const output = collectOutput(child);
  let ready = false;
  createInterface({ input: child.stdout! }).on('line', (line) => {
    if (line.includes('"ready":true')) ready = true;
  });
  let stopped = false;
  const stop = async () => {
    if (stopped) return null;
    stopped = true;
    const code = await stopProcess(child);
    await deleteRedisKeys(redisPrefix);
    return code;
  };
  try {
    await waitFor(async () => ready, child, output, 'the Socket.IO server', 60_000);
  } catch (err) {
    await stop();
    throw err;
  }
  // The official client (websocket transport only) against this server once, so the baseline is known to work with
  // it; the load generator then speaks the same protocol over plain WebSockets.
  try {
    await checkWithOfficialClient(`http://127.0.0.1:${port}`, token);
  } catch (err) {
    await stop();
    throw err;
  }
  return {
    stack: 'socketio',
    pid: child.pid!,
    socketUrl: `ws://127.0.0.1:${port}`,
    channelId: 'bench-room',
    tokens: [token],
    helperPids: async () => [],
    dbName: null,
    setupSeconds: 0,
    startSeconds: round((performance.now() - t0) / 1000, 2),
    notes: [
      'bench/chat/sio-server.ts: socket.io 4.8.4, websocket transport only, @socket.io/redis-adapter 8.3.0 (ioredis) on the same Redis, run with tsx',
      'no persistence: a message gets an in-memory sequence number and is broadcast with io.to(room).emit, then acknowledged',
      'the upgrade checks a bearer token against a constant; no sessions, no permissions, no rate limits',
      'checked once per start with socket.io-client 4.8.4 (transports: [websocket]): join, send, broadcast received, ack',
    ],
    stop,
    output,
  };
}

async function checkWithOfficialClient(url: string, token: string) {
  const opts = { transports: ['websocket'], extraHeaders: { authorization: `Bearer ${token}` }, reconnection: false, timeout: 5000 };
  const a = ioClient(url, opts);
  const b = ioClient(url, opts);
  try {
    const room = 'official-client-check';
    for (const s of [a, b]) await s.timeout(5000).emitWithAck('join', room);
    const got = new Promise<{ message: { body: string; seq: number } }>((resolve) => a.once('msg', resolve));
    const ack = (await b.timeout(5000).emitWithAck('send', { channelId: room, clientId: 'check-1', body: 'hello' })) as { seq?: number };
    const msg = await Promise.race([got, sleep(5000).then(() => null)]);
    if (!msg || msg.message.body !== 'hello' || ack.seq !== msg.message.seq) throw new Error(`socket.io-client check: got ${JSON.stringify(msg)} / ack ${JSON.stringify(ack)}`);
  } finally {
    a.close();
    b.close();
  }
}

async function dropDatabase(name: string) {
  const c = new pg.Client({ connectionString: PG_URL });
  await c.connect();
  try {
    await c.query(`drop database if exists ${name} with (force)`);
  } finally {
    await c.end();
  }
}

async function deleteRedisKeys(prefix: string) {
  const r = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await r.connect();
    let cursor = '0';
    do {
      const [next, keys] = await r.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length) await r.unlink(...keys);
    } while (cursor !== '0');
  } catch {
    // best effort
  } finally {
    r.disconnect();
  }
}

/**
 * What the run's PostgreSQL backends are doing, sampled every 100 ms during the window (pg_stat_activity): the average
 * number of backends per state / wait event / statement. Shows, for instance, senders queued on the channel row lock
 * while its holder waits for the server to send its next statement ("idle in transaction", ClientRead).
 */
function samplePostgres(dbName: string) {
  const counts = new Map<string, number>();
  let samples = 0;
  let stopped = false;
  const done = (async () => {
    const c = new pg.Client({ connectionString: PG_URL });
    await c.connect();
    try {
      while (!stopped) {
        const r = await c.query<{ state: string | null; wait_event_type: string | null; wait_event: string | null; q: string }>(
          `select state, wait_event_type, wait_event, left(regexp_replace(query, '\\s+', ' ', 'g'), 70) q from pg_stat_activity where datname = $1 and pid <> pg_backend_pid()`,
          [dbName],
        );
        samples++;
        for (const row of r.rows) {
          const busy = row.state === 'active' || row.state?.startsWith('idle in transaction');
          const key = `${row.state ?? '?'} | ${row.wait_event_type ?? '-'}:${row.wait_event ?? '-'}${busy ? ` | ${row.q.trim()}` : ''}`;
          counts.set(key, (counts.get(key) ?? 0) + 1);
        }
        await sleep(100);
      }
    } finally {
      await c.end();
    }
  })();
  return async () => {
    stopped = true;
    await done.catch(() => {});
    return {
      samples,
      averageBackends: Object.fromEntries(
        [...counts]
          .sort((a, b) => b[1] - a[1])
          .slice(0, 15)
          .map(([k, v]) => [k, round(v / Math.max(1, samples), 2)]),
      ),
    };
  };
}

type PostgresActivity = Awaited<ReturnType<ReturnType<typeof samplePostgres>>>;
let redisPid: number | null = null;
async function findRedisPid(): Promise<number | null> {
  const r = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await r.connect();
    const pid = Number(/process_id:(\d+)/.exec(await r.info('server'))?.[1]);
    return pid > 0 && existsSync(`/proc/${pid}`) ? pid : null; // Redis on another machine: not measurable here
  } catch {
    return null;
  } finally {
    r.disconnect();
  }
}

// ---------------------------------------------------------------------------------------------------------------
// One run: a fresh server, N sockets, the window, the figures.

interface LoadgenResult {
  deliveriesInWindow: number;
  deliveriesPerSec: number;
  serverCpuSeconds: number;
  serverCpuUserSeconds: number;
  serverCpuSystemSeconds: number;
  windowSeconds: number;
  sentPerSec: number;
  completeness: number | null;
  drainEndedBy: 'complete' | 'stalled' | 'limit';
  drainDeliveriesPerSec: number;
  nacks: number;
  acksMissing: number;
  closedDuringRun: number;
  errorFrames: number;
  latency: { p50Ms: number | null; p99Ms: number | null; samples: number };
  ackLatency: { p50Ms: number | null; p99Ms: number | null };
  ackedPerSec: number;
  deliveryFrameBytes: number | null;
  loadgen: { cpuUtilization: number; eventLoopUtilization: number };
  coreBusy: number[];
  [k: string]: unknown;
}

async function run(stack: Stack, clients: number) {
  const runId = `${stack === 'circles' ? 'c' : 's'}${clients}`;
  say(`${stack} with ${clients} clients: starting the server on core ${SERVER_CORE}`);
  const server = stack === 'circles' ? await startCircles(runId) : await startSocketIo(runId);
  let loadgen: ChildProcess | undefined;
  try {
    say(`  ready in ${server.startSeconds} s${stack === 'circles' ? `, setup through GraphQL ${server.setupSeconds} s` : ''}; server pid ${server.pid} (cores ${affinityOf(server.pid)}, nice ${niceOf(server.pid)}, ${autogroupOf(server.pid)}, fd limit ${fdLimitOf(server.pid)})`);
    await sleep(2000);
    const rssIdleMb = rssMb(server.pid);
    const cfg: LoadgenConfig = {
      stack,
      url: server.socketUrl,
      clients,
      publishers: Math.min(PUBLISHERS, clients),
      rate: RATE,
      bodyBytes: BODY_BYTES,
      warmupSeconds: WARMUP_SECONDS,
      windowSeconds: SECONDS,
      drainSeconds: DRAIN_SECONDS,
      channelId: server.channelId,
      tokens: server.tokens,
      connectConcurrency: CONNECT_CONCURRENCY,
      serverPid: server.pid,
    };
    loadgen = spawnPinned(LOADGEN_CORE, [process.execPath, ...profArgs(`loadgen-${runId}`), '--import', 'tsx', 'bench/chat/loadgen.ts', JSON.stringify(cfg)], { PATH: process.env.PATH, HOME: process.env.HOME, NODE_ENV: 'production' }, ['pipe', 'pipe', 'pipe']);
    const lg = loadgen;
    lg.stderr!.on('data', (d: Buffer) => process.stderr.write(d));
    const loadgenFdLimit = await (async () => {
      await sleep(300);
      return fdLimitOf(lg.pid!);
    })();
    const loadgenNice = { nice: niceOf(lg.pid!), autogroup: autogroupOf(lg.pid!), cores: affinityOf(lg.pid!) };
    const lines = createInterface({ input: lg.stdout! });
    let rssConnectedMb = Number.NaN;
    let rssEndMb = Number.NaN;
    let subscribed: Record<string, unknown> = {};
    const helpers0 = new Map<number, number>();
    const helperCpu = { postgres: 0, redis: 0 };
    let redisCpu0: number | null = null;
    let stopPgSampler: ReturnType<typeof samplePostgres> | null = null;
    let postgresActivity = null as PostgresActivity | null;
    const result = await new Promise<LoadgenResult>((resolve, reject) => {
      lg.once('exit', (code) => reject(new Error(`the load generator exited (${code}) without a result`)));
      lines.on('line', (line) => {
        let m: { type?: string; error?: string } & Record<string, unknown>;
        try {
          m = JSON.parse(line);
        } catch {
          return say(`    loadgen: ${line}`);
        }
        if (m.type === 'subscribed') {
          subscribed = m;
          say(`  ${clients} sockets connected in ${m.connectMs} ms and subscribed ${m.subscribeMs} ms later; letting the server settle 3 s`);
          void sleep(3000).then(() => {
            rssConnectedMb = rssMb(server.pid);
            lg.stdin!.write('go\n');
            say(`  publishing ${RATE} msg/s (${cfg.publishers} publishers, ${BODY_BYTES}-byte bodies): ${WARMUP_SECONDS} s warm-up, then ${SECONDS} s measured`);
          });
        } else if (m.type === 'window-start') {
          if (server.dbName) stopPgSampler = samplePostgres(server.dbName);
          void (async () => {
            for (const pid of await server.helperPids()) {
              const c = cpuSeconds(pid);
              if (c !== null) helpers0.set(pid, c);
            }
            redisCpu0 = redisPid ? cpuSeconds(redisPid) : null;
          })();
        } else if (m.type === 'window-end') {
          rssEndMb = rssMb(server.pid);
          void stopPgSampler?.().then((a) => (postgresActivity = a));
          const redisCpu1 = redisPid ? cpuSeconds(redisPid) : null;
          if (redisCpu0 !== null && redisCpu1 !== null) helperCpu.redis = redisCpu1 - redisCpu0;
          void (async () => {
            // Backends that started during the window count whole; one that ended during it is lost (the pool keeps them).
            for (const pid of await server.helperPids()) {
              const c = cpuSeconds(pid);
              if (c !== null) helperCpu.postgres += c - (helpers0.get(pid) ?? 0);
            }
          })();
        } else if (m.type === 'result') resolve(m as unknown as LoadgenResult);
        else if (m.type === 'failed') reject(new Error(`load generator: ${m.error} ${JSON.stringify(m)}`));
      });
    });
    // It exits by itself after the result (and writes its CPU profile when asked to); a signal only if it does not.
    if (lg.exitCode === null && lg.signalCode === null) await Promise.race([new Promise((resolve) => lg.once('exit', resolve)), sleep(10_000)]);
    await stopProcess(lg, 5000);
    const r = result;
    const deliveriesPerCpuSecond = r.serverCpuSeconds > 0 ? Math.round(r.deliveriesInWindow / r.serverCpuSeconds) : null;
    const helpersCpuSeconds = round(helperCpu.postgres + helperCpu.redis, 2);
    // Complete, or an overloaded server still delivering when the drain's time ran out (delayed, not lost: its
    // latency says so); a drain that stalled short of complete lost messages.
    const delivered = r.drainEndedBy === 'complete' ? (r.completeness ?? 0) >= 0.999 : r.drainEndedBy === 'limit';
    const valid = delivered && r.nacks === 0 && r.closedDuringRun === 0 && r.errorFrames === 0 && r.sentPerSec >= RATE * 0.95;
    const out = {
      stack,
      clients,
      valid,
      deliveriesPerSec: r.deliveriesPerSec,
      // Messages acknowledged per second (for Circles: committed); below the offered rate, sending is the bottleneck.
      ackedPerSec: r.ackedPerSec,
      deliveryFrameBytes: r.deliveryFrameBytes,
      completeness: r.completeness,
      drainEndedBy: r.drainEndedBy,
      // The drain ran out of time with messages still queued: the slowest deliveries are missing from the latency.
      latencyIsLowerBound: r.drainEndedBy === 'limit',
      offeredDeliveriesPerSec: round(r.sentPerSec * clients),
      // The server delivered less than was offered: it was at its limit, and latency is the backlog it built.
      saturated: r.deliveriesPerSec < 0.95 * r.sentPerSec * clients,
      latencyP50Ms: r.latency.p50Ms,
      latencyP99Ms: r.latency.p99Ms,
      ackP50Ms: r.ackLatency.p50Ms,
      ackP99Ms: r.ackLatency.p99Ms,
      serverCpuSeconds: r.serverCpuSeconds,
      serverCpuUtilization: round(r.serverCpuSeconds / r.windowSeconds, 3),
      serverCpuUserSeconds: r.serverCpuUserSeconds,
      serverCpuSystemSeconds: r.serverCpuSystemSeconds,
      windowSeconds: r.windowSeconds,
      deliveriesInWindow: r.deliveriesInWindow,
      deliveriesPerCpuSecond,
      postgresCpuSeconds: round(helperCpu.postgres, 2),
      redisCpuSeconds: redisPid ? round(helperCpu.redis, 2) : null,
      deliveriesPerCpuSecondWithPostgresAndRedis: r.serverCpuSeconds + helpersCpuSeconds > 0 ? Math.round(r.deliveriesInWindow / (r.serverCpuSeconds + helpersCpuSeconds)) : null,
      memory: {
        serverRssIdleMb: rssIdleMb,
        serverRssConnectedMb: rssConnectedMb,
        serverRssEndMb: rssEndMb,
        perConnectionKb: round(((rssConnectedMb - rssIdleMb) * 1024) / clients, 1),
        perConnectionAtEndKb: round(((rssEndMb - rssIdleMb) * 1024) / clients, 1),
      },
      loadgenCpuUtilization: r.loadgen.cpuUtilization,
      // Busy fraction of each core in the window; on the server's core, what the server did not use was someone else.
      coreBusy: r.coreBusy,
      otherWorkOnServerCore: round(Math.max(0, (r.coreBusy[SERVER_CORE] ?? 0) - r.serverCpuSeconds / r.windowSeconds), 3),
      otherWorkOnLoadgenCore: round(Math.max(0, (r.coreBusy[LOADGEN_CORE] ?? 0) - r.loadgen.cpuUtilization), 3),
      loadgenBound: r.loadgen.cpuUtilization > 0.9,
      server: { pid: server.pid, cores: affinityOf(server.pid), nice: niceOf(server.pid), autogroup: autogroupOf(server.pid), fdLimit: fdLimitOf(server.pid), startSeconds: server.startSeconds, setupSeconds: server.setupSeconds, notes: server.notes },
      loadgenFdLimit,
      loadgenNice,
      postgresActivity,
      connect: subscribed,
      detail: r,
    };
    say(
      `  ${stack} ${clients}: ${out.deliveriesPerSec} deliveries/s (offered ${out.offeredDeliveriesPerSec}), p50 ${out.latencyP50Ms} ms, p99 ${out.latencyP99Ms} ms, ` +
        `server CPU ${out.serverCpuUtilization} of a core → ${out.deliveriesPerCpuSecond} deliveries/CPU-s, ${out.memory.perConnectionKb} KiB/connection` +
        `${valid ? '' : `  INVALID (completeness ${r.completeness}, drain ${r.drainEndedBy}, nacks ${r.nacks}, closed ${r.closedDuringRun}, error frames ${r.errorFrames})`}${out.loadgenBound ? '  (load generator near saturation)' : ''}`,
    );
    return out;
  } finally {
    if (loadgen) await stopProcess(loadgen, 2000);
    const code = await server.stop();
    if (code !== 0 && code !== null) say(`  (${stack} server exited with code ${code})`);
  }
}

// ---------------------------------------------------------------------------------------------------------------

const cpus = os.cpus();
if (cpus.length < 2) say(`only ${cpus.length} core(s): server and load generator will share a core; figures are not comparable to a 2-core run`);
let commit: string | null = null;
try {
  commit = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: repoRoot, encoding: 'utf8' }).trim();
} catch {
  // not a git checkout
}
redisPid = await findRedisPid();
const shellFdLimit = Number(execFileSync('bash', ['-c', 'ulimit -n'], { encoding: 'utf8' }).trim());
const hardFdLimit = execFileSync('bash', ['-c', 'ulimit -Hn'], { encoding: 'utf8' }).trim();
say(`chat benchmark: clients ${CLIENTS.join(', ')}; stacks ${STACKS.join(', ')}; ${RATE} msg/s, ${BODY_BYTES}-byte bodies; server on core ${SERVER_CORE}, load generator on core ${LOADGEN_CORE}; ulimit -n ${shellFdLimit} (hard ${hardFdLimit}), raised to ${WANT_FDS} where allowed`);
const loadAverageAtStart = round(os.loadavg()[0]!, 2);

type RunResult = Awaited<ReturnType<typeof run>>;
const runs: (RunResult | { stack: Stack; clients: number; error: string })[] = [];
for (const clients of CLIENTS) {
  for (const stack of STACKS) {
    try {
      runs.push(await run(stack, clients));
    } catch (err) {
      say(`${stack} ${clients} FAILED: ${errorMessage(err)}`);
      runs.push({ stack, clients, error: errorMessage(err) });
    }
  }
}
await rm(scratch, { recursive: true, force: true });
const loadAverageAtEnd = round(os.loadavg()[0]!, 2);

const ok = (r: (typeof runs)[number] | undefined): r is RunResult => !!r && !('error' in r);
const find = (stack: Stack, clients: number) => runs.find((r) => r.stack === stack && r.clients === clients);
const comparisons = CLIENTS.map((clients) => {
  const c = find('circles', clients);
  const s = find('socketio', clients);
  const ratio = ok(c) && ok(s) && c.deliveriesPerCpuSecond && s.deliveriesPerCpuSecond ? round(c.deliveriesPerCpuSecond / s.deliveriesPerCpuSecond, 2) : null;
  const ratioWithHelpers =
    ok(c) && ok(s) && c.deliveriesPerCpuSecondWithPostgresAndRedis && s.deliveriesPerCpuSecondWithPostgresAndRedis
      ? round(c.deliveriesPerCpuSecondWithPostgresAndRedis / s.deliveriesPerCpuSecondWithPostgresAndRedis, 2)
      : null;
  return {
    clients,
    deliveriesPerCpuSecondRatio: ratio,
    deliveriesPerCpuSecondRatioWithPostgresAndRedis: ratioWithHelpers,
    deliveriesPerSecRatio: ok(c) && ok(s) ? round(c.deliveriesPerSec / s.deliveriesPerSec, 3) : null,
    memoryPerConnectionRatio: ok(c) && ok(s) ? round(c.memory.perConnectionKb / s.memory.perConnectionKb, 2) : null,
  };
});
/**
 * Server CPU split into a cost per message (receive, check, store, publish, acknowledge) and a cost per delivery (one
 * frame written to one socket), by least squares over this stack's runs: cpu = a * messages + b * deliveries. Needs
 * two sizes; an estimate (noise in either run moves it).
 */
const costModel = (STACKS as Stack[]).map((stack) => {
  const rs = runs.filter((r): r is RunResult => ok(r) && r.stack === stack && r.valid);
  if (new Set(rs.map((r) => r.clients)).size < 2) return { stack, cpuPerMessageMs: null, cpuPerDeliveryUs: null, runs: rs.length };
  let smm = 0;
  let smd = 0;
  let sdd = 0;
  let smc = 0;
  let sdc = 0;
  for (const r of rs) {
    const m = r.ackedPerSec * r.windowSeconds;
    const d = r.deliveriesInWindow;
    const c = r.serverCpuSeconds;
    smm += m * m;
    smd += m * d;
    sdd += d * d;
    smc += m * c;
    sdc += d * c;
  }
  const det = smm * sdd - smd * smd;
  const a = (smc * sdd - sdc * smd) / det;
  const b = (smm * sdc - smd * smc) / det;
  return { stack, cpuPerMessageMs: round(a * 1000, 2), cpuPerDeliveryUs: round(b * 1e6, 2), runs: rs.length };
});

const targets = [
  ...CLIENTS.map((clients) => {
    const cmp = comparisons.find((x) => x.clients === clients)!;
    const c = find('circles', clients);
    const s = find('socketio', clients);
    const measured = cmp.deliveriesPerCpuSecondRatio;
    return {
      name: `deliveries per CPU-second, Circles / Socket.IO, ${clients} clients`,
      target: `>= ${RATIO_TARGET}`,
      measured,
      valid: ok(c) && ok(s) && c.valid && s.valid,
      pass: measured !== null && measured >= RATIO_TARGET && ok(c) && c.valid,
    };
  }),
  ...(CLIENTS.includes(P99_TARGET_CLIENTS)
    ? [
        (() => {
          const c = find('circles', P99_TARGET_CLIENTS);
          const measured = ok(c) ? c.latencyP99Ms : null;
          return {
            name: `Circles p99 send-to-receive latency, ${P99_TARGET_CLIENTS} clients x ${RATE} msg/s`,
            target: `<= ${P99_TARGET_MS} ms`,
            measured,
            valid: ok(c) && c.valid,
            pass: measured !== null && measured <= P99_TARGET_MS && ok(c) && c.valid,
          };
        })(),
      ]
    : []),
];

const result = {
  benchmark: 'chat',
  timestamp: new Date().toISOString(),
  commit,
  machine: {
    cpus: cpus.length,
    cpuModel: cpus[0]?.model ?? null,
    memoryGb: round(os.totalmem() / 2 ** 30),
    node: process.version,
    platform: `${os.platform()} ${os.release()} ${os.arch()}`,
    loadAverage1mAtStart: loadAverageAtStart,
    loadAverage1mAtEnd: loadAverageAtEnd,
    ulimitN: shellFdLimit,
    ulimitNHard: hardFdLimit,
  },
  method: {
    serverCore: SERVER_CORE,
    nice: NICE,
    loadgenCore: LOADGEN_CORE,
    ratePerSec: RATE,
    publishers: PUBLISHERS,
    bodyBytes: BODY_BYTES,
    warmupSeconds: WARMUP_SECONDS,
    windowSeconds: SECONDS,
    drainSeconds: DRAIN_SECONDS,
    deliveries: 'frames carrying a published message received by any socket (publishers are subscribed too), counted by receive time inside the window',
    latency: 'receive time minus the send time written into the body (same process, performance.timeOrigin + performance.now()), every delivery in the window',
    perCore: "deliveries in the window / CPU seconds (utime + stime from /proc/<pid>/stat) of the server process in the window; PostgreSQL backends and Redis are reported beside it, unpinned",
    memory: 'server VmRSS after every socket subscribed (3 s settle) minus VmRSS before the first socket, divided by the number of sockets',
    persistence: 'Circles commits every message to PostgreSQL before acknowledging and broadcasting it; the Socket.IO baseline stores nothing',
    loadGenerator: 'bench/chat/loadgen.ts: the ws 8.23.0 client for both stacks (Socket.IO spoken as Engine.IO v4 over a plain WebSocket, transport=websocket), one process',
  },
  runs,
  comparisons,
  costModel,
  targets,
  valid: runs.every((r) => ok(r) && r.valid),
};

say('');
say(`machine: ${result.machine.cpus} x ${result.machine.cpuModel}, node ${result.machine.node}, load average ${loadAverageAtStart} -> ${loadAverageAtEnd}`);
const header = ['stack', 'clients', 'acked msg/s', 'deliv/s', 'offered/s', 'p50 ms', 'p99 ms', 'ack p99', 'srv CPU', 'deliv/CPU-s', '+pg+redis', 'KiB/conn', 'loadgen CPU', 'other srv/gen core', 'saturated', 'valid'];
const rows = runs.map((r) =>
  ok(r)
    ? [r.stack, r.clients, r.ackedPerSec, r.deliveriesPerSec, r.offeredDeliveriesPerSec, `${r.latencyIsLowerBound ? '>' : ''}${r.latencyP50Ms}`, `${r.latencyIsLowerBound ? '>' : ''}${r.latencyP99Ms}`, r.ackP99Ms, r.serverCpuUtilization, r.deliveriesPerCpuSecond, r.deliveriesPerCpuSecondWithPostgresAndRedis, r.memory.perConnectionKb, r.loadgenCpuUtilization, `${r.otherWorkOnServerCore}/${r.otherWorkOnLoadgenCore}`, r.saturated ? 'yes' : 'no', r.valid ? 'yes' : 'NO']
    : [r.stack, r.clients, 'FAILED', r.error.split('\n')[0]!.slice(0, 80)],
);
const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => String(row[i] ?? '').length)));
const fmt = (row: unknown[]) => row.map((v, i) => String(v ?? '').padStart(widths[i] ?? 0)).join('  ');
say(fmt(header));
for (const row of rows) say(fmt(row));
for (const r of runs) {
  if (!ok(r) || !r.postgresActivity) continue;
  say(`${r.stack} ${r.clients}: PostgreSQL backends during the window (average count by state | wait | statement):`);
  for (const [k, v] of Object.entries(r.postgresActivity.averageBackends).slice(0, 5)) say(`  ${String(v).padStart(5)}  ${k}`);
}
for (const c of comparisons) say(`${c.clients} clients: Circles/Socket.IO deliveries per CPU-second ${c.deliveriesPerCpuSecondRatio ?? 'n/a'} (with PostgreSQL and Redis CPU ${c.deliveriesPerCpuSecondRatioWithPostgresAndRedis ?? 'n/a'}), memory per connection ${c.memoryPerConnectionRatio ?? 'n/a'}x`);
for (const m of costModel) if (m.cpuPerMessageMs !== null) say(`${m.stack}: server CPU ≈ ${m.cpuPerMessageMs} ms per message + ${m.cpuPerDeliveryUs} µs per delivery (least squares over ${m.runs} runs)`);
for (const t of targets) say(`target: ${t.name} ${t.target}: measured ${t.measured ?? 'n/a'} → ${t.pass ? 'PASS' : 'FAIL'}${t.valid ? '' : ' (run invalid or missing)'}`);
say('Circles persists every message to PostgreSQL before broadcasting it; the Socket.IO baseline does not.');

const json = JSON.stringify(result, null, 2);
await mkdir(path.join(repoRoot, 'bench/results'), { recursive: true });
await writeFile(path.join(repoRoot, 'bench/results/chat.json'), json + '\n');
process.stdout.write(json + '\n');
if (runs.some((r) => !ok(r))) process.exitCode = 1;

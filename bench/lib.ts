import { type ChildProcess, fork, spawn } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { signIdentity } from '@circles/platform';
import { freePort } from '@circles/server/embedded';
import autocannon from 'autocannon';
import type { TargetInfo } from './target.ts';

export const repoRoot = new URL('..', import.meta.url).pathname;

export interface Spread {
  min: number;
  median: number;
  max: number;
  samples: number[];
}

export function spread(samples: number[]): Spread {
  const s = [...samples].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  const median = s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
  return { min: s[0]!, median: round(median), max: s[s.length - 1]!, samples: samples.map(round) };
}

export const round = (n: number, digits = 1) => Math.round(n * 10 ** digits) / 10 ** digits;
export const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

// ---------------------------------------------------------------------------------------------------------------
// Cold start

export interface StartTiming {
  /** Spawn until the gateway's /readyz answers 200. */
  readyzMs: number;
  /** Spawn until the "circles started" log line: every role is up (the web app starts after the gateway listens). */
  startedLogMs: number;
  /** The host's own "startupMs" from that line: startHost() alone, without Node boot and module loading. */
  hostStartupMs: number | null;
  /** SIGTERM until the process exited. */
  stopMs: number;
}

/**
 * Starts the platform with the README's start command (`npm start`: dependency and web-build checks, then the
 * host) and times it until the gateway's /readyz and, when the web app runs, its page answer; then stops it with
 * SIGTERM and checks it exits cleanly.
 */
export async function timeStart(dataDir: string, roles: string, cmd = startCommand()): Promise<StartTiming> {
  const gatewayPort = await freePort();
  const webPort = await freePort();
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    DATA_DIR: dataDir,
    GATEWAY_PORT: String(gatewayPort),
    WEB_PORT: String(webPort),
    HOST: '127.0.0.1',
    CIRCLES_ROLES: roles,
    LOG_LEVEL: 'info', // "circles started" is logged at info
  };
  // Measure the embedded default, whatever the caller's shell points at.
  for (const name of ['DATABASE_URL', 'REDIS_URL', 'CIRCLES_CONFIG_FILE', 'GATEWAY_URL', 'SUBGRAPH_URLS']) delete env[name];

  const t0 = performance.now();
  // Its own process group, so a failed start can be killed whole (npm, scripts/start.mjs and the host).
  const child = spawn(cmd.command, cmd.args, { cwd: repoRoot, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  const output: string[] = [];
  let startedLogMs: number | undefined;
  let hostStartupMs: number | undefined;
  createInterface({ input: child.stdout }).on('line', (line) => {
    output.push(line + '\n');
    if (startedLogMs !== undefined || !line.includes('"circles started"')) return;
    startedLogMs = performance.now() - t0;
    hostStartupMs = (JSON.parse(line) as { startupMs?: number }).startupMs;
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => output.push(chunk));
  // 'close' waits for every process holding the output pipes (npm, scripts/start.mjs, the host) to be gone. npm
  // itself may end by the signal (code null); what matters is that the host logged a clean stop.
  const exited = new Promise<number | null>((resolve) =>
    child.once('close', (code, signal) => resolve(code ?? (signal === 'SIGTERM' && output.join('').includes('"circles stopped"') ? 0 : null))),
  );
  let running = true;
  void exited.then(() => (running = false));
  const fail = (why: string) => {
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {
      // already gone
    }
    return new Error(`${why}\n--- server output ---\n${output.join('').slice(-4000)}`);
  };

  let readyzMs: number | undefined;
  const deadline = t0 + 120_000;
  while (readyzMs === undefined) {
    if (!running) throw fail('the server exited before it was ready');
    if (performance.now() > deadline) throw fail('the server was not ready after 120 s');
    try {
      const res = await fetch(`http://127.0.0.1:${gatewayPort}/readyz`, { signal: AbortSignal.timeout(2000) });
      await res.arrayBuffer();
      const web = roles.includes('web') ? await fetch(`http://127.0.0.1:${webPort}/`, { signal: AbortSignal.timeout(5000) }) : null;
      await web?.arrayBuffer();
      if (res.status === 200 && (!web || web.status === 200)) readyzMs = performance.now() - t0;
    } catch {
      // not listening yet
    }
    if (readyzMs === undefined) await sleep(10);
  }
  while (startedLogMs === undefined) {
    if (!running) throw fail('the server exited before logging "circles started"');
    if (performance.now() > deadline) throw fail('no "circles started" log line after 120 s');
    await sleep(10);
  }

  const t1 = performance.now();
  terminateHost(child.pid!, output.join(''));
  const code = await Promise.race([exited, sleep(30_000, 'timeout' as const, { ref: false })]);
  if (code !== 0) throw fail(`SIGTERM: expected exit code 0, got ${code}`);
  return { readyzMs: round(readyzMs), startedLogMs: round(startedLogMs), hostStartupMs: hostStartupMs ?? null, stopMs: round(performance.now() - t1) };
}

// ---------------------------------------------------------------------------------------------------------------
// Throughput

export const ME_QUERY = 'query Me { me { id handle displayName } }';
export type Target = 'gateway' | 'direct';

/** Forks bench/target.ts and waits for its endpoints. */
export async function startTarget(dataDir: string): Promise<{ info: TargetInfo; child: ChildProcess }> {
  // The server's stdout (its log) goes to our stderr: stdout carries only the JSON result.
  const child = fork(new URL('./target.ts', import.meta.url).pathname, [dataDir], { cwd: repoRoot, execArgv: ['--import', 'tsx'], stdio: ['ignore', 2, 2, 'ipc'] });
  const info = await new Promise<TargetInfo>((resolve, reject) => {
    child.once('message', (m) => resolve(m as TargetInfo));
    child.once('exit', (code) => reject(new Error(`bench/target.ts exited with code ${code} before it was ready`)));
  });
  return { info, child };
}

export async function stopTarget(child: ChildProcess): Promise<void> {
  const exited = new Promise<false>((resolve) => child.once('exit', () => resolve(false)));
  child.disconnect();
  if (await Promise.race([exited, sleep(15_000, true, { ref: false })])) child.kill('SIGKILL');
}

/**
 * Both targets get the same request and the same client-side work (a setupRequest hook per request). The direct
 * subgraph gets what the gateway would send it: a signed identity, re-signed every second because subgraphs
 * refuse identities older than 60 s.
 */
function requestFor(target: Target, info: TargetInfo) {
  const body = JSON.stringify({ query: ME_QUERY, operationName: 'Me' });
  if (target === 'gateway') {
    const headers = { 'content-type': 'application/json', authorization: `Bearer ${info.token}` };
    return { url: `${info.gatewayUrl}/graphql`, body, headers: () => headers };
  }
  let signedAt = 0;
  let headers: Record<string, string> = {};
  return {
    url: `${info.directUrl}/graphql`,
    body,
    headers: () => {
      if (Date.now() - signedAt >= 1000) {
        signedAt = Date.now();
        const identity = { userId: info.userId, sessionId: info.sessionId, ip: '127.0.0.1', userAgent: null, requestId: `bench-${signedAt}`, credential: 'bearer' as const };
        headers = { 'content-type': 'application/json', 'x-circles-identity': signIdentity(info.secret, identity, signedAt) };
      }
      return headers;
    },
  };
}

/** A response counts only if it is the right user with no GraphQL errors. */
function isGoodBody(body: string, userId: string): boolean {
  try {
    const json = JSON.parse(body) as { data?: { me?: { id?: string } | null }; errors?: unknown };
    return json.errors === undefined && json.data?.me?.id === userId;
  } catch {
    return false;
  }
}

/** One request outside the load run, so a broken target fails loudly before anyone reads a number. */
export async function checkTarget(target: Target, info: TargetInfo): Promise<void> {
  const req = requestFor(target, info);
  const res = await fetch(req.url, { method: 'POST', headers: req.headers(), body: req.body });
  const text = await res.text();
  if (res.status !== 200 || !isGoodBody(text, info.userId)) throw new Error(`${target}: unexpected response ${res.status} ${text}`);
}

export interface LoadResult {
  target: Target;
  seconds: number;
  requests: number;
  requestsPerSec: number;
  p50Ms: number;
  p99Ms: number;
  non2xx: number;
  /** Socket errors (including timeouts). */
  errors: number;
  timeouts: number;
  /** 2xx responses carrying GraphQL errors or not the expected user. */
  badBodies: number;
  valid: boolean;
}

export async function load(target: Target, info: TargetInfo, opts: { seconds: number; connections: number }): Promise<LoadResult> {
  const req = requestFor(target, info);
  const r = await autocannon({
    url: req.url,
    connections: opts.connections,
    duration: opts.seconds,
    requests: [{ method: 'POST', body: req.body, setupRequest: (r) => ({ ...r, headers: req.headers() }) }],
    verifyBody: (body) => isGoodBody(body, info.userId),
  });
  return {
    target,
    seconds: r.duration,
    requests: r.requests.total,
    requestsPerSec: round(r.requests.average),
    p50Ms: r.latency.p50,
    p99Ms: r.latency.p99,
    non2xx: r.non2xx,
    errors: r.errors,
    timeouts: r.timeouts,
    badBodies: r.mismatches,
    valid: r.requests.total > 0 && r.non2xx === 0 && r.errors === 0 && r.timeouts === 0 && r.mismatches === 0,
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Shared helpers for the newer sections

/** Latency samples in ms, kept in a growable typed array so millions of samples stay cheap. */
export class Samples {
  private buf = new Float64Array(1 << 16);
  length = 0;
  push(v: number): void {
    if (this.length === this.buf.length) {
      const next = new Float64Array(this.buf.length * 2);
      next.set(this.buf);
      this.buf = next;
    }
    this.buf[this.length++] = v;
  }
  /** A sorted copy. */
  sorted(): Float64Array {
    return this.buf.slice(0, this.length).sort();
  }
}

/** Nearest-rank percentile of an ascending array. */
export function percentile(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))]!;
}

/** Deterministic pseudo-random numbers (mulberry32), so every run sees the same fixture shape and request mix. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Runs fn over items with at most `limit` in flight. */
export async function pool<T>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<unknown>): Promise<void> {
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

/**
 * Whether `npm start` can run without building the web app: it runs `next build` when apps/web/.next/BUILD_ID is
 * missing or older than the web sources (scripts/bootstrap.mjs, ensureWebBuilt). The benchmark never builds.
 */
export function webBuildState(): 'fresh' | 'stale' | 'missing' {
  const buildId = path.join(repoRoot, 'apps/web/.next/BUILD_ID');
  if (!existsSync(buildId)) return 'missing';
  let newest = 0;
  const walk = (p: string) => {
    if (!existsSync(p)) return;
    const s = statSync(p);
    if (!s.isDirectory()) return void (newest = Math.max(newest, s.mtimeMs));
    for (const name of readdirSync(p)) if (name !== 'node_modules' && name !== '.next') walk(path.join(p, name));
  };
  for (const p of ['apps/web/src', 'apps/web/next.config.ts', 'apps/web/package.json', 'packages/client/src']) walk(path.join(repoRoot, p));
  return statSync(buildId).mtimeMs >= newest ? 'fresh' : 'stale';
}

/**
 * Waits up to `seconds` for apps/web/.next/BUILD_ID to exist (someone else may be building it). A stale build is
 * used as it is (see startCommand), so only a missing one is waited for.
 */
export async function waitForWebBuild(seconds: number, say: (line: string) => void): Promise<ReturnType<typeof webBuildState>> {
  let state = webBuildState();
  if (state !== 'missing' || seconds <= 0) return state;
  say(`  apps/web has no production build; waiting up to ${seconds} s for one (the benchmark never runs next build itself)`);
  const deadline = Date.now() + seconds * 1000;
  while (state === 'missing' && Date.now() < deadline) {
    await sleep(5000);
    state = webBuildState();
  }
  return state;
}

/**
 * The command that starts the platform the way `npm start` does. When the web build is fresh that is `npm start`
 * itself; otherwise bench/start-host.mjs, which is scripts/start.mjs minus its web build step (so the benchmark
 * never starts a 30 s `next build` on a checkout someone else is working in).
 */
export function startCommand(): { command: string; args: string[]; label: string } {
  return webBuildState() === 'fresh'
    ? { command: 'npm', args: ['start', '--silent'], label: 'npm start' }
    : { command: process.execPath, args: [path.join(repoRoot, 'bench/start-host.mjs')], label: 'node bench/start-host.mjs (npm start without its web build step: the web build was missing or older than its sources)' };
}

export interface RunningPlatform {
  gatewayUrl: string;
  webUrl: string;
  /** What started it (npm start, or bench/start-host.mjs when npm start would have built the web app). */
  command: string;
  /** Spawn until the gateway's /readyz and the web app's home page answered 200. */
  readyMs: number;
  output(): string;
  /** SIGTERM to the whole process group; resolves with the exit code (0 when the host logged a clean stop). */
  stop(): Promise<number | null>;
}

/** Starts the embedded default (every role) as `npm start` does, on a fresh data folder, and keeps it running. */
export async function startPlatform(dataDir: string): Promise<RunningPlatform> {
  const cmd = startCommand();
  const gatewayPort = await freePort();
  const webPort = await freePort();
  const env: NodeJS.ProcessEnv = { ...process.env, DATA_DIR: dataDir, GATEWAY_PORT: String(gatewayPort), WEB_PORT: String(webPort), HOST: '127.0.0.1', LOG_LEVEL: 'info' };
  for (const name of ['DATABASE_URL', 'REDIS_URL', 'CIRCLES_CONFIG_FILE', 'GATEWAY_URL', 'SUBGRAPH_URLS', 'CIRCLES_ROLES', 'PUBLIC_URL']) delete env[name];
  const t0 = performance.now();
  const child = spawn(cmd.command, cmd.args, { cwd: repoRoot, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let output = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (output = (output + d).slice(-20_000)));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (output = (output + d).slice(-20_000)));
  const exited = new Promise<number | null>((resolve) =>
    child.once('close', (code, signal) => resolve(code ?? (signal === 'SIGTERM' && output.includes('"circles stopped"') ? 0 : null))),
  );
  let running = true;
  void exited.then(() => (running = false));
  const kill = (signal: NodeJS.Signals) => {
    try {
      process.kill(-child.pid!, signal);
    } catch {
      // already gone
    }
  };
  const gatewayUrl = `http://127.0.0.1:${gatewayPort}`;
  const webUrl = `http://127.0.0.1:${webPort}`;
  const deadline = t0 + 180_000;
  for (;;) {
    if (!running) throw new Error(`the platform exited before it was ready\n--- output ---\n${output.slice(-4000)}`);
    if (performance.now() > deadline) {
      kill('SIGKILL');
      throw new Error(`the platform was not ready after 180 s\n--- output ---\n${output.slice(-4000)}`);
    }
    try {
      const gw = await fetch(`${gatewayUrl}/readyz`, { signal: AbortSignal.timeout(2000) });
      await gw.arrayBuffer();
      const web = await fetch(`${webUrl}/`, { signal: AbortSignal.timeout(10_000) });
      await web.arrayBuffer();
      if (gw.status === 200 && web.status === 200) break;
    } catch {
      // not listening yet
    }
    await sleep(50);
  }
  const readyMs = round(performance.now() - t0);
  return {
    gatewayUrl,
    webUrl,
    command: cmd.label,
    readyMs,
    output: () => output,
    async stop() {
      terminateHost(child.pid!, output);
      const code = await Promise.race([exited, sleep(30_000, 'timeout' as const, { ref: false })]);
      if (code === 'timeout') {
        kill('SIGKILL');
        return null;
      }
      return code;
    },
  };
}

/**
 * Stops a started platform with one SIGTERM to the host process (its pid is in every log line); npm and
 * scripts/start.mjs then exit with its code. Not to the whole process group: scripts/start.mjs forwards the signal it
 * gets, so the host would see two, and apps/server/src/main.ts treats a second signal as "force exit" (code 130)
 * whenever its graceful stop is still running. Falls back to the group when no pid was logged.
 */
function terminateHost(groupLeader: number, output: string): void {
  const pid = Number(/"pid":(\d+)/.exec(output)?.[1]);
  try {
    process.kill(pid > 0 ? pid : -groupLeader, 'SIGTERM');
  } catch {
    // already gone
  }
}

/**
 * `npm run bench`: cold start of the README start command, and `me` throughput through the gateway vs the auth
 * subgraph called directly. A human summary goes to stderr; one JSON document goes to stdout and to
 * bench/results/latest.json. Exits 1 when a measurement failed or a load run saw a bad response.
 *
 * Knobs (environment): BENCH_STARTS (5), BENCH_SECONDS per load run (10), BENCH_WARMUP_SECONDS (3).
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { serviceNames } from '@circles/platform';
import {
  checkTarget,
  load,
  type LoadResult,
  ME_QUERY,
  mean,
  repoRoot,
  round,
  spread,
  startTarget,
  stopTarget,
  type Target,
  timeStart,
  type StartTiming,
} from './lib.ts';

const STARTS = Number(process.env.BENCH_STARTS ?? 5);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const WARMUP_SECONDS = Number(process.env.BENCH_WARMUP_SECONDS ?? 3);
const CONNECTIONS = 10;
const RATIO_TARGET = 0.6;

const say = (line: string) => process.stderr.write(`${line}\n`);
const errorMessage = (err: unknown) => (err instanceof Error ? err.message : String(err));
const scratch = await mkdtemp(path.join(os.tmpdir(), 'circles-bench-'));

async function coldStart() {
  // A web app without a finished production build cannot start, so look for the build's BUILD_ID.
  const web = existsSync(path.join(repoRoot, 'apps/web/.next/BUILD_ID'));
  const roles = ['gateway', ...serviceNames, ...(web ? ['web'] : [])].join(',');
  const dataDir = path.join(scratch, 'cold-start');
  say(`cold start: CIRCLES_ROLES=${roles}${web ? '' : ' (apps/web has no production build)'}; initialising ${dataDir}`);
  const init = await timeStart(dataDir, roles);
  const runs: StartTiming[] = [];
  for (let i = 0; i < STARTS; i++) {
    runs.push(await timeStart(dataDir, roles));
    say(`  start ${i + 1}/${STARTS}: ready ${runs[i]!.readyzMs} ms, "circles started" ${runs[i]!.startedLogMs} ms`);
  }
  return {
    command: 'npm start',
    roles,
    web,
    dataFolder: 'existing (initialised by one untimed start, stopped with SIGTERM)',
    runs: STARTS,
    firstStartMs: init.readyzMs,
    readyzMs: spread(runs.map((r) => r.readyzMs)),
    startedLogMs: spread(runs.map((r) => r.startedLogMs)),
    hostStartupMs: spread(runs.map((r) => r.hostStartupMs ?? Number.NaN)),
    stopMs: spread(runs.map((r) => r.stopMs)),
  };
}

async function meThroughput() {
  const { info, child } = await startTarget(path.join(scratch, 'throughput'));
  try {
    for (const t of ['gateway', 'direct'] as const) await checkTarget(t, info);
    const opts = { seconds: SECONDS, connections: CONNECTIONS };
    say(`me throughput: warm-up ${WARMUP_SECONDS} s each`);
    for (const t of ['gateway', 'direct'] as const) await load(t, info, { ...opts, seconds: WARMUP_SECONDS });
    const order: Target[] = ['gateway', 'direct', 'gateway', 'direct'];
    const runs: LoadResult[] = [];
    for (const t of order) {
      const r = await load(t, info, opts);
      runs.push(r);
      say(`  ${t.padEnd(7)} ${r.requestsPerSec} req/s  p50 ${r.p50Ms} ms  p99 ${r.p99Ms} ms${r.valid ? '' : `  INVALID (non2xx ${r.non2xx}, errors ${r.errors}, timeouts ${r.timeouts}, bad bodies ${r.badBodies})`}`);
    }
    const summary = (t: Target) => {
      const rs = runs.filter((r) => r.target === t);
      return { requestsPerSec: round(mean(rs.map((r) => r.requestsPerSec))), p50Ms: round(mean(rs.map((r) => r.p50Ms))), p99Ms: round(mean(rs.map((r) => r.p99Ms))) };
    };
    const gateway = summary('gateway');
    const direct = summary('direct');
    const ratio = round(gateway.requestsPerSec / direct.requestsPerSec, 3);
    const valid = runs.every((r) => r.valid);
    return {
      query: ME_QUERY,
      loadGenerator: 'autocannon 9 in the bench process; both targets served by one separate process (bench/target.ts)',
      gatewayMode: 'embedded (auth subgraph executed in-process by the gateway, bearer token resolved per request)',
      directMode: 'auth subgraph over HTTP (createSubgraphHttpHandler), identity signed by the load generator once per second',
      connections: CONNECTIONS,
      secondsPerRun: SECONDS,
      warmupSeconds: WARMUP_SECONDS,
      runs,
      gateway,
      direct,
      ratio,
      pairRatios: [0, 2].map((i) => round(runs[i]!.requestsPerSec / runs[i + 1]!.requestsPerSec, 3)),
      target: `>= ${RATIO_TARGET.toFixed(2)}`,
      meetsTarget: valid && ratio >= RATIO_TARGET,
      valid,
    };
  } finally {
    await stopTarget(child);
  }
}

/** Runs one section; a failure is recorded in the result instead of losing the other section. */
async function section<T>(name: string, fn: () => Promise<T>): Promise<T | { error: string }> {
  try {
    return await fn();
  } catch (err) {
    say(`${name} FAILED: ${errorMessage(err)}`);
    return { error: errorMessage(err) };
  }
}

const cpus = os.cpus();
let commit: string | null = null;
try {
  commit = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: repoRoot, encoding: 'utf8' }).trim();
} catch {
  // not a git checkout
}

const result = {
  timestamp: new Date().toISOString(),
  commit,
  machine: {
    cpus: cpus.length,
    cpuModel: cpus[0]?.model ?? null,
    memoryGb: round(os.totalmem() / 2 ** 30),
    node: process.version,
    platform: `${os.platform()} ${os.release()} ${os.arch()}`,
    loadAverage1mAtStart: round(os.loadavg()[0]!, 2),
  },
  coldStart: await section('cold start', coldStart),
  meThroughput: await section('me throughput', meThroughput),
};
await rm(scratch, { recursive: true, force: true });
// Other work on the machine shows up here: compare before trusting a change in the figures.
const loadAverageAtEnd = round(os.loadavg()[0]!, 2);

const ok = !('error' in result.coldStart) && !('error' in result.meThroughput) && result.meThroughput.valid;
if (!ok) process.exitCode = 1;

const cs = result.coldStart;
const tp = result.meThroughput;
say('');
say(`machine: ${result.machine.cpus} x ${result.machine.cpuModel}, node ${result.machine.node}, load average ${result.machine.loadAverage1mAtStart} -> ${loadAverageAtEnd}`);
if (Math.max(result.machine.loadAverage1mAtStart, loadAverageAtEnd) > result.machine.cpus) say('  the machine was busy with other work: expect noisy figures');
if (!('error' in cs)) {
  say(`cold start (${cs.roles}, ${cs.runs} starts on an existing data folder): ready (gateway /readyz and web page) min ${cs.readyzMs.min} / median ${cs.readyzMs.median} / max ${cs.readyzMs.max} ms`);
  say(`  "circles started" logged: median ${cs.startedLogMs.median} ms (of which startHost ${cs.hostStartupMs.median} ms); SIGTERM to exit: median ${cs.stopMs.median} ms`);
}
if (!('error' in tp)) {
  say(`me: gateway ${tp.gateway.requestsPerSec} req/s (p50 ${tp.gateway.p50Ms} ms, p99 ${tp.gateway.p99Ms} ms), direct ${tp.direct.requestsPerSec} req/s (p50 ${tp.direct.p50Ms} ms, p99 ${tp.direct.p99Ms} ms)`);
  say(`  ratio gateway/direct ${tp.ratio} (target ${tp.target}): ${tp.valid ? (tp.meetsTarget ? 'met' : 'NOT met') : 'INVALID RUN (bad responses)'}`);
}

const json = JSON.stringify({ ...result, machine: { ...result.machine, loadAverage1mAtEnd: loadAverageAtEnd } }, null, 2);
await mkdir(path.join(repoRoot, 'bench/results'), { recursive: true });
await writeFile(path.join(repoRoot, 'bench/results/latest.json'), json + '\n');
process.stdout.write(json + '\n');

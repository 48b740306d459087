/**
 * `npm run bench`: cold start of the README start command; `me` throughput through the gateway vs the auth subgraph
 * called directly; permission checks per second from another service (embedded and distributed, cached and
 * uncached); and the community home page `/c/<slug>` for an anonymous visitor against the web server's floor. A
 * human summary goes to stderr; one JSON document goes to stdout and to bench/results/latest.json. Exits 1 when a
 * measurement failed or a load run saw a bad response (or a wrong answer).
 *
 * Posts at scale (section `posts`, issue 4): one community with 100,000 posts and 1,000,000 comments on PostgreSQL and
 * on PGlite; the home feed (first page and page 51) and the page of a post with 500 comments through the gateway,
 * anonymous and signed in (bench/posts.ts).
 *
 * Knobs (environment): BENCH_ONLY (comma list of cold, me, permissions, home, posts; default all), BENCH_STARTS (5),
 * BENCH_SECONDS per load run (10; the permission section alternates its variants over two rounds of BENCH_SECONDS / 2
 * each, the home section runs the page twice for BENCH_SECONDS and each floor twice for a quarter of it),
 * BENCH_WARMUP_SECONDS (3), BENCH_PERMISSION_CONCURRENCY (16), BENCH_PERMISSION_MEMBERS
 * (1000), BENCH_HOME_MEMBERS (24), BENCH_WEB_WAIT_SECONDS (60: how long the web sections wait for a web build,
 * since the benchmark never runs `next build` itself); for posts: BENCH_POSTS_STORES (postgres,pglite),
 * BENCH_POSTS_POSTS (100000), BENCH_POSTS_COMMENTS (1000000: 500 on one post + a multiple of 20),
 * BENCH_POSTS_SECONDS per loaded run (BENCH_SECONDS), BENCH_POSTS_WARMUP_SECONDS (2), BENCH_POSTS_CONNECTIONS (10),
 * BENCH_POSTS_SERIAL_REQUESTS (50: one connection, unloaded latency), BENCH_POSTS_DEEP_PAGE (51).
 */
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { serviceNames } from '@circles/platform';
import { communityHome } from './home.ts';
import {
  checkTarget,
  load,
  type LoadResult,
  ME_QUERY,
  mean,
  repoRoot,
  round,
  spread,
  startCommand,
  startTarget,
  stopTarget,
  type Target,
  timeStart,
  type StartTiming,
  waitForWebBuild,
} from './lib.ts';
import { permissionChecks } from './permissions.ts';
import { postsAtScale } from './posts.ts';

const STARTS = Number(process.env.BENCH_STARTS ?? 5);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const WARMUP_SECONDS = Number(process.env.BENCH_WARMUP_SECONDS ?? 3);
const PERMISSION_CONCURRENCY = Number(process.env.BENCH_PERMISSION_CONCURRENCY ?? 16);
const PERMISSION_MEMBERS = Number(process.env.BENCH_PERMISSION_MEMBERS ?? 1000);
const HOME_MEMBERS = Number(process.env.BENCH_HOME_MEMBERS ?? 24);
const WEB_WAIT_SECONDS = Number(process.env.BENCH_WEB_WAIT_SECONDS ?? 60);
const ROUNDS = 2;
const CONNECTIONS = 10;
const RATIO_TARGET = 0.6;
const POSTS_STORES = (process.env.BENCH_POSTS_STORES ?? 'postgres,pglite').split(',').map((s) => s.trim()).filter(Boolean);
if (POSTS_STORES.some((s) => s !== 'postgres' && s !== 'pglite')) {
  process.stderr.write(`BENCH_POSTS_STORES: choose from postgres, pglite (got ${POSTS_STORES.join(', ')})\n`);
  process.exit(2);
}

const SECTIONS = ['cold', 'me', 'permissions', 'home', 'posts'] as const;
type SectionName = (typeof SECTIONS)[number];
const ALIASES: Record<string, SectionName> = { coldstart: 'cold', cold: 'cold', me: 'me', methroughput: 'me', permissions: 'permissions', permissionchecks: 'permissions', home: 'home', communityhome: 'home', posts: 'posts', postsatscale: 'posts' };
const only = (process.env.BENCH_ONLY ?? '').split(',').map((s) => s.trim().toLowerCase()).filter(Boolean);
const unknownSections = only.filter((s) => !(s in ALIASES));
if (unknownSections.length) {
  process.stderr.write(`BENCH_ONLY: unknown section(s) ${unknownSections.join(', ')}; choose from ${SECTIONS.join(', ')}\n`);
  process.exit(2);
}
const selected = new Set<SectionName>(only.length ? only.map((s) => ALIASES[s]!) : SECTIONS);

const say = (line: string) => process.stderr.write(`${line}\n`);
const errorMessage = (err: unknown) => (err instanceof Error ? err.message : String(err));
const scratch = await mkdtemp(path.join(os.tmpdir(), 'circles-bench-'));

async function coldStart() {
  // A web app without a finished production build cannot start; `npm start` would build it (and rebuild a stale
  // one), which the benchmark never does: it waits a while for a build, then starts without npm's build step.
  const build = await waitForWebBuild(WEB_WAIT_SECONDS, say);
  const web = build !== 'missing';
  const cmd = startCommand();
  const roles = ['gateway', ...serviceNames, ...(web ? ['web'] : [])].join(',');
  const dataDir = path.join(scratch, 'cold-start');
  say(`cold start: ${cmd.label}, CIRCLES_ROLES=${roles}${web ? '' : ' (apps/web has no production build)'}; initialising ${dataDir}`);
  const init = await timeStart(dataDir, roles, cmd);
  const runs: StartTiming[] = [];
  for (let i = 0; i < STARTS; i++) {
    runs.push(await timeStart(dataDir, roles, cmd));
    say(`  start ${i + 1}/${STARTS}: ready ${runs[i]!.readyzMs} ms, "circles started" ${runs[i]!.startedLogMs} ms`);
  }
  return {
    command: cmd.label,
    webBuild: build,
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

/** Wall-clock seconds per section, so the run time stays in view. */
const sectionSeconds: Record<string, number> = {};

/** Runs one section; a failure is recorded in the result instead of losing the other sections. */
async function section<T>(name: string, fn: () => Promise<T>): Promise<T | { error: string }> {
  const t0 = performance.now();
  try {
    return await fn();
  } catch (err) {
    say(`${name} FAILED: ${errorMessage(err)}`);
    return { error: errorMessage(err) };
  } finally {
    sectionSeconds[name] = round((performance.now() - t0) / 1000);
  }
}

const cpus = os.cpus();
let commit: string | null = null;
try {
  commit = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: repoRoot, encoding: 'utf8' }).trim();
} catch {
  // not a git checkout
}

type Failed = { error: string };
const failed = (r: unknown): r is Failed => typeof r === 'object' && r !== null && 'error' in r;
const loadAverageAtStart = round(os.loadavg()[0]!, 2);

// The sections that need the web app's build run last, so a build someone else is making has time to finish.
const permissionResult = selected.has('permissions')
  ? await section('permission checks', () => {
      say('permission checks: CommunityApi.can from another service');
      return permissionChecks({ seconds: SECONDS / ROUNDS, warmupSeconds: WARMUP_SECONDS, concurrency: PERMISSION_CONCURRENCY, members: PERMISSION_MEMBERS, rounds: ROUNDS, scratch, say });
    })
  : undefined;
const meResult = selected.has('me') ? await section('me throughput', meThroughput) : undefined;
const coldResult = selected.has('cold') ? await section('cold start', coldStart) : undefined;
const homeResult = selected.has('home')
  ? await section('community home', () =>
      communityHome({ seconds: SECONDS, warmupSeconds: WARMUP_SECONDS, connections: CONNECTIONS, rounds: ROUNDS, members: HOME_MEMBERS, webWaitSeconds: WEB_WAIT_SECONDS, scratch, say }),
    )
  : undefined;

const postsResult = selected.has('posts')
  ? await section('posts at scale', () =>
      postsAtScale({
        stores: POSTS_STORES as ('postgres' | 'pglite')[],
        posts: Number(process.env.BENCH_POSTS_POSTS ?? 100_000),
        comments: Number(process.env.BENCH_POSTS_COMMENTS ?? 1_000_000),
        seconds: Number(process.env.BENCH_POSTS_SECONDS ?? SECONDS),
        warmupSeconds: Number(process.env.BENCH_POSTS_WARMUP_SECONDS ?? 2),
        connections: Number(process.env.BENCH_POSTS_CONNECTIONS ?? CONNECTIONS),
        serialRequests: Number(process.env.BENCH_POSTS_SERIAL_REQUESTS ?? 50),
        deepPage: Number(process.env.BENCH_POSTS_DEEP_PAGE ?? 51),
        scratch,
        say,
      }),
    )
  : undefined;

const result = {
  timestamp: new Date().toISOString(),
  commit,
  machine: {
    cpus: cpus.length,
    cpuModel: cpus[0]?.model ?? null,
    memoryGb: round(os.totalmem() / 2 ** 30),
    node: process.version,
    platform: `${os.platform()} ${os.release()} ${os.arch()}`,
    loadAverage1mAtStart: loadAverageAtStart,
  },
  sections: SECTIONS.filter((s) => selected.has(s)),
  sectionSeconds,
  ...(coldResult ? { coldStart: coldResult } : {}),
  ...(meResult ? { meThroughput: meResult } : {}),
  ...(permissionResult ? { permissionChecks: permissionResult } : {}),
  ...(homeResult ? { communityHome: homeResult } : {}),
  ...(postsResult ? { postsAtScale: postsResult } : {}),
};
await rm(scratch, { recursive: true, force: true });
// Other work on the machine shows up here: compare before trusting a change in the figures.
const loadAverageAtEnd = round(os.loadavg()[0]!, 2);

const ok =
  (!coldResult || !failed(coldResult)) &&
  (!meResult || (!failed(meResult) && meResult.valid)) &&
  (!permissionResult || (!failed(permissionResult) && permissionResult.valid)) &&
  (!homeResult || (!failed(homeResult) && homeResult.valid)) &&
  (!postsResult || (!failed(postsResult) && postsResult.valid));
if (!ok) process.exitCode = 1;

say('');
say(`machine: ${result.machine.cpus} x ${result.machine.cpuModel}, node ${result.machine.node}, load average ${result.machine.loadAverage1mAtStart} -> ${loadAverageAtEnd}`);
if (Math.max(result.machine.loadAverage1mAtStart, loadAverageAtEnd) > result.machine.cpus) say('  the machine was busy with other work: expect noisy figures');
const cs = coldResult;
if (cs && !failed(cs)) {
  say(`cold start (${cs.roles}, ${cs.runs} starts on an existing data folder, ${cs.command}): ready (gateway /readyz and web page) min ${cs.readyzMs.min} / median ${cs.readyzMs.median} / max ${cs.readyzMs.max} ms`);
  say(`  "circles started" logged: median ${cs.startedLogMs.median} ms (of which startHost ${cs.hostStartupMs.median} ms); SIGTERM to exit: median ${cs.stopMs.median} ms`);
}
const tp = meResult;
if (tp && !failed(tp)) {
  say(`me: gateway ${tp.gateway.requestsPerSec} req/s (p50 ${tp.gateway.p50Ms} ms, p99 ${tp.gateway.p99Ms} ms), direct ${tp.direct.requestsPerSec} req/s (p50 ${tp.direct.p50Ms} ms, p99 ${tp.direct.p99Ms} ms)`);
  say(`  ratio gateway/direct ${tp.ratio} (target ${tp.target}): ${tp.valid ? (tp.meetsTarget ? 'met' : 'NOT met') : 'INVALID RUN (bad responses)'}`);
}
const pc = permissionResult;
if (pc && !failed(pc)) {
  for (const shape of ['embedded', 'distributed'] as const) {
    const r = pc[shape];
    if (failed(r)) {
      say(`permission checks, ${shape}: FAILED (${r.error.split('\n')[0]})`);
      continue;
    }
    say(
      `permission checks, ${shape} (${pc.concurrency} callers): uncached ${r.uncached.checksPerSec}/s (p50 ${r.uncached.p50Ms} ms, p99 ${r.uncached.p99Ms} ms), ` +
        `cached ${r.cached.checksPerSec}/s (p50 ${r.cached.p50Ms} ms, p99 ${r.cached.p99Ms} ms, hit ratio ${r.cached.hitRatio}); cached/uncached ${r.cachedOverUncached}x${r.valid ? '' : ' INVALID RUN'}`,
    );
    say(`  every question already cached: ${r.cachedWarm.checksPerSec}/s (p50 ${r.cachedWarm.p50Ms} ms, p99 ${r.cachedWarm.p99Ms} ms, hit ratio ${r.cachedWarm.hitRatio}); ${r.cachedWarmOverUncached}x uncached`);
  }
}
const ch = homeResult;
if (ch && !failed(ch)) {
  say(
    `community home ${ch.path} (anonymous, ${ch.connections} connections): ${ch.page.requestsPerSec} req/s, p50 ${ch.page.p50Ms} / p90 ${ch.page.p90Ms} / p99 ${ch.page.p99Ms} / max ${ch.page.maxMs} ms, non-2xx ${ch.page.non2xx}${ch.valid ? '' : ' INVALID RUN'}`,
  );
  say(`  floors: robots.txt ${ch.robots.requestsPerSec} req/s (p99 ${ch.robots.p99Ms} ms), static file ${ch.static.requestsPerSec} req/s (p99 ${ch.static.p99Ms} ms); page/robots throughput ${ch.ratios.pageOverRobotsThroughput}, page/static ${ch.ratios.pageOverStaticThroughput}`);
}
const pa = postsResult;
if (pa && !failed(pa)) {
  for (const [store, s] of Object.entries(pa.stores)) {
    if (failed(s)) {
      say(`posts at scale, ${store}: FAILED (${s.error.split('\n')[0]})`);
      continue;
    }
    const c = s.fixture.counts;
    say(
      `posts at scale, ${store}: ${c.posts} posts, ${c.comments} comments, ${c.reactions} reactions seeded in ${round((s.fixture.seedMs.total ?? Number.NaN) / 1000)} s ` +
        `(+ VACUUM ANALYZE ${round(s.fixture.vacuumAnalyzeMs / 1000)} s)${s.valid ? '' : ' INVALID RUN (bad responses)'}`,
    );
    for (const r of s.results) {
      say(
        `  ${r.query.padEnd(13)} ${r.viewer.padEnd(9)} ${pa.connections} conn: ${r.loaded.requestsPerSec} req/s, p50 ${r.loaded.p50Ms} / p99 ${r.loaded.p99Ms} ms; ` +
          `serial p50 ${r.serial.p50Ms} / p99 ${r.serial.p99Ms} ms (${r.responseBytes} bytes)${r.valid ? '' : ' INVALID'}`,
      );
    }
  }
}

const json = JSON.stringify({ ...result, machine: { ...result.machine, loadAverage1mAtEnd: loadAverageAtEnd } }, null, 2);
await mkdir(path.join(repoRoot, 'bench/results'), { recursive: true });
await writeFile(path.join(repoRoot, 'bench/results/latest.json'), json + '\n');
process.stdout.write(json + '\n');

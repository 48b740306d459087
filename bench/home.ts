/**
 * The community home page `/c/<slug>` as an anonymous visitor gets it: server-rendered by the web app, which asks
 * the gateway (the community, and who the visitor is). The platform runs as `npm start` runs it, seeded through
 * GraphQL like any client would; autocannon loads the page with no cookie. Beside it, in the same run and on the same
 * web server, two floors: `/robots.txt` (a dynamic Next.js route that calls no API) and one of the page's own static
 * scripts (`/_next/static/…`, a file), so the reader sees what the SSR page costs relative to the server itself.
 */
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { gqlClient } from '@circles/testing';
import autocannon from 'autocannon';
import { mean, percentile, repoRoot, round, Samples, startPlatform, waitForWebBuild } from './lib.ts';

/** The web build's id and time, to notice someone rebuilding apps/web under the running server. */
function buildStamp(): string {
  const file = path.join(repoRoot, 'apps/web/.next/BUILD_ID');
  try {
    return `${readFileSync(file, 'utf8').trim()}@${statSync(file).mtimeMs}`;
  } catch {
    return 'none';
  }
}

export interface HomeOptions {
  /** Per page run; each floor run takes a quarter of it, rounded (the floors answer many times more requests per second). */
  seconds: number;
  warmupSeconds: number;
  connections: number;
  rounds: number;
  members: number;
  webWaitSeconds: number;
  scratch: string;
  say: (line: string) => void;
}

type HomeTarget = 'page' | 'robots' | 'static';

const PASSWORD = 'violet-kettle-sunrise-42';
const NAME = 'Bench Home';
const SLUG = 'bench-home';

async function seed(gatewayUrl: string, members: number) {
  const t0 = performance.now();
  const gql = gqlClient(gatewayUrl);
  const must = async <T>(what: string, p: ReturnType<typeof gql<T>>) => {
    const r = await p;
    if (r.errors?.length || !r.data) throw new Error(`${what}: ${JSON.stringify(r.errors ?? r.data)}`);
    return r.data;
  };
  const signUp = (i: number) =>
    must<{ signUp: { token: string } }>(
      `sign-up ${i}`,
      gql(`mutation ($input: SignUpInput!) { signUp(input: $input) { token } }`, {
        input: { email: `bench-home-${i}@example.com`, password: PASSWORD, handle: `benchhome${i}`, displayName: `Bench Person ${i}`, delivery: 'BEARER' },
      }),
    ).then((d) => d.signUp.token);

  const owner = await signUp(0);
  const description =
    'A community for people who build things together: weekly show-and-tell, pairing sessions and a library of notes. ' +
    'New members are welcome; introduce yourself in the Public Center and pick the circles that fit you.';
  const { createCommunity } = await must<{ createCommunity: { id: string } }>(
    'createCommunity',
    gql(`mutation ($input: CreateCommunityInput!) { createCommunity(input: $input) { id } }`, { input: { name: NAME, slug: SLUG, description, category: 'Technology', visibility: 'LISTED', joinPolicy: 'OPEN' } }, { token: owner }),
  );
  const communityId = createCommunity.id;
  const circleDefs = [
    { name: 'Show and tell', access: 'OPEN', hidden: false, description: 'Weekly demos of what you made.' },
    { name: 'Pairing', access: 'OPEN', hidden: false, description: 'Find someone to build with.' },
    { name: 'Mentors', access: 'INVITE', hidden: false, description: 'Experienced members who help newcomers.' },
    { name: 'Supporters', access: 'PAID', hidden: false, description: 'For those who fund the community.' },
    { name: 'Organisers', access: 'INVITE', hidden: true, description: 'Planning the next meet-up.' },
  ];
  const circleIds: string[] = [];
  for (const input of circleDefs) {
    const { createCircle } = await must<{ createCircle: { id: string } }>('createCircle', gql(`mutation ($c: ID!, $input: CreateCircleInput!) { createCircle(communityId: $c, input: $input) { id } }`, { c: communityId, input }, { token: owner }));
    circleIds.push(createCircle.id);
  }
  for (let i = 1; i <= members; i++) {
    const token = await signUp(i);
    await must('joinCommunity', gql(`mutation ($id: ID!) { joinCommunity(id: $id) { id } }`, { id: communityId }, { token }));
    // Everyone joins "Show and tell"; every other member "Pairing".
    for (const id of i % 2 ? [circleIds[0]!] : [circleIds[0]!, circleIds[1]!]) await must('joinCircle', gql(`mutation ($id: ID!) { joinCircle(id: $id) { id } }`, { id }, { token }));
  }
  return { communityId, members: members + 1, circles: circleDefs.length, visibleToAnonymous: circleDefs.filter((c) => !c.hidden).length, seedMs: round(performance.now() - t0) };
}

interface HomeRun {
  target: HomeTarget;
  seconds: number;
  requests: number;
  requestsPerSec: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  maxMs: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  badBodies: number;
  valid: boolean;
}

async function load(target: HomeTarget, url: string, expect: (body: string) => boolean, seconds: number, connections: number, samples?: Samples): Promise<HomeRun> {
  const instance = autocannon({ url, connections, duration: seconds, verifyBody: expect });
  // Every response's own time (ms, sub-millisecond resolution), so percentiles can be taken over all runs together.
  if (samples) instance.on('response', (_client: unknown, _status: number, _bytes: number, responseTime: number) => samples.push(responseTime));
  const r = await instance;
  return {
    target,
    seconds: r.duration,
    requests: r.requests.total,
    requestsPerSec: round(r.requests.average),
    p50Ms: r.latency.p50,
    p90Ms: r.latency.p90,
    p99Ms: r.latency.p99,
    maxMs: r.latency.max,
    non2xx: r.non2xx,
    errors: r.errors,
    timeouts: r.timeouts,
    badBodies: r.mismatches,
    valid: r.requests.total > 0 && r.non2xx === 0 && r.errors === 0 && r.timeouts === 0 && r.mismatches === 0,
  };
}

export async function communityHome(opts: HomeOptions) {
  const build = await waitForWebBuild(opts.webWaitSeconds, opts.say);
  if (build === 'missing') throw new Error('apps/web has no production build (apps/web/.next/BUILD_ID); run `npm run build -w @circles/web` or `npm start` once, then the benchmark (it never builds the web app itself)');
  const stampAtStart = buildStamp();
  const platform = await startPlatform(path.join(opts.scratch, 'community-home'));
  opts.say(`community home: started with ${platform.command} in ${platform.readyMs} ms (web build ${build})`);
  try {
    const seeded = await seed(platform.gatewayUrl, opts.members);
    opts.say(`  seeded /c/${SLUG} through GraphQL in ${seeded.seedMs} ms: ${seeded.members} members, ${seeded.circles} circles`);
    const pageUrl = `${platform.webUrl}/c/${SLUG}`;
    const first = await fetch(pageUrl);
    const html = await first.text();
    if (first.status !== 200 || !html.includes(NAME) || !html.includes('Show and tell')) throw new Error(`/c/${SLUG}: unexpected response ${first.status} ${html.slice(0, 500)}`);
    if (html.includes('Organisers')) throw new Error(`/c/${SLUG}: the hidden circle is shown to an anonymous visitor`);
    const asset = /\/_next\/static\/[^"'\s]+\.js/.exec(html)?.[0];
    if (!asset) throw new Error(`/c/${SLUG}: no /_next/static script in the page`);
    const targets: Record<HomeTarget, { url: string; expect: (body: string) => boolean }> = {
      page: { url: pageUrl, expect: (b) => b.includes(NAME) && b.includes('Show and tell') },
      robots: { url: `${platform.webUrl}/robots.txt`, expect: (b) => b.includes('User-Agent') },
      static: { url: `${platform.webUrl}${asset}`, expect: (b) => b.length > 0 },
    };
    for (const t of ['robots', 'static'] as const) {
      const res = await fetch(targets[t].url);
      const body = await res.text();
      if (res.status !== 200 || !targets[t].expect(body)) throw new Error(`${targets[t].url}: unexpected response ${res.status} ${body.slice(0, 300)}`);
    }

    opts.say(`  warm-up: page ${opts.warmupSeconds} s, floors 1 s each`);
    await load('page', targets.page.url, targets.page.expect, opts.warmupSeconds, opts.connections);
    for (const t of ['robots', 'static'] as const) await load(t, targets[t].url, targets[t].expect, 1, opts.connections);

    const samples: Record<HomeTarget, Samples> = { page: new Samples(), robots: new Samples(), static: new Samples() };
    // Whole seconds: autocannon stops on its one-second tick, so 2.5 s would run for 3.
    const floorSeconds = Math.max(1, Math.round(opts.seconds / 4));
    const seconds: Record<HomeTarget, number> = { page: opts.seconds, robots: floorSeconds, static: floorSeconds };
    const runs: HomeRun[] = [];
    for (let r = 0; r < opts.rounds; r++) {
      for (const t of ['page', 'robots', 'static'] as const) {
        const run = await load(t, targets[t].url, targets[t].expect, seconds[t], opts.connections, samples[t]);
        runs.push(run);
        opts.say(
          `  ${t.padEnd(6)} ${run.requestsPerSec} req/s  p50 ${run.p50Ms} ms  p99 ${run.p99Ms} ms  max ${run.maxMs} ms` +
            `${run.valid ? '' : `  INVALID (non2xx ${run.non2xx}, errors ${run.errors}, timeouts ${run.timeouts}, bad bodies ${run.badBodies})`}`,
        );
      }
    }
    const summary = (t: HomeTarget) => {
      const rs = runs.filter((r) => r.target === t);
      const sorted = samples[t].sorted();
      return {
        requestsPerSec: round(mean(rs.map((r) => r.requestsPerSec))),
        // Percentiles over every response of every run of this target (this many).
        requests: rs.reduce((a, r) => a + r.requests, 0),
        p50Ms: round(percentile(sorted, 50), 2),
        p90Ms: round(percentile(sorted, 90), 2),
        p99Ms: round(percentile(sorted, 99), 2),
        maxMs: round(sorted[sorted.length - 1] ?? Number.NaN, 2),
        non2xx: rs.reduce((a, r) => a + r.non2xx, 0),
        errors: rs.reduce((a, r) => a + r.errors, 0),
        badBodies: rs.reduce((a, r) => a + r.badBodies, 0),
      };
    };
    const page = summary('page');
    const robots = summary('robots');
    const staticAsset = summary('static');
    // A `next build` elsewhere in the checkout rewrites .next under the running server (assets vanish, then return).
    const webBuildChanged = buildStamp() !== stampAtStart;
    if (webBuildChanged) opts.say('  apps/web/.next was rebuilt during this section (by someone else): figures and any non-2xx are suspect');
    const valid = runs.every((r) => r.valid) && !webBuildChanged;
    return {
      path: `/c/${SLUG}`,
      visitor: 'anonymous (no cookie)',
      startedWith: platform.command,
      webBuild: build,
      webBuildChanged,
      readyMs: platform.readyMs,
      fixture: { ...seeded, seededThrough: 'GraphQL at the gateway (sign-up, createCommunity, createCircle, joinCommunity, joinCircle)' },
      pageBytes: Buffer.byteLength(html),
      floors: { robots: '/robots.txt (dynamic Next.js route, no API call)', static: `${asset} (static file)` },
      loadGenerator: 'autocannon 9 in the bench process; percentiles over every response of a target\'s runs',
      connections: opts.connections,
      secondsPerRun: seconds,
      rounds: opts.rounds,
      warmupSeconds: opts.warmupSeconds,
      runs,
      page,
      robots,
      static: staticAsset,
      ratios: {
        pageOverRobotsThroughput: round(page.requestsPerSec / robots.requestsPerSec, 3),
        pageOverStaticThroughput: round(page.requestsPerSec / staticAsset.requestsPerSec, 3),
        pageOverRobotsP99: round(page.p99Ms / robots.p99Ms, 2),
        pageOverStaticP99: round(page.p99Ms / staticAsset.p99Ms, 2),
      },
      valid,
    };
  } finally {
    const code = await platform.stop();
    if (code !== 0) opts.say(`  the platform did not stop cleanly (exit ${code})\n${platform.output().slice(-2000)}`);
  }
}

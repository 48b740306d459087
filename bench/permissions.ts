/**
 * Permission checks per second as another service sees them: `CommunityApi.can` uncached (every answer from the
 * database) and through the contract's cache (`cachedCommunityApi`), in both deployment shapes:
 *
 * - embedded: the whole platform in this process on PGlite, the call in-process, the memory cache;
 * - distributed: the community service as its own process on the real PostgreSQL, this process calling it by signed
 *   RPC (`rpcClient`, as apps/server/src/host.ts does) with the Redis cache under a unique prefix.
 *
 * Both run the same fixture (one community of 1,000 members with custom roles, circles and space overrides) and the
 * same request stream (skewed users, weighted permissions, a mix of community-wide, Public Center and circle
 * questions). Answers are checked twice: known cases with a stated expected answer before any load, and a sample of
 * each load run's answers against the uncached answer afterwards.
 */
import { mkdir } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { type Cache, cachedCommunityApi, type CommunityApi, createInfrastructure, createLogger, type Identity, type Infrastructure, loadConfig, newId, Outbox, rpcClient, type ServiceDeps, UrlSigner } from '@circles/platform';
import { communityService, CommunityService } from '@circles/community';
import { startCircles, freePort } from '@circles/server/embedded';
import { deleteRedisPrefix, freshPglite, freshPostgres, REDIS_URL, spawnCircles, waitReady } from '@circles/testing';
import { mean, percentile, pool, prng, round, Samples } from './lib.ts';

export interface PermissionOptions {
  seconds: number;
  warmupSeconds: number;
  concurrency: number;
  members: number;
  rounds: number;
  scratch: string;
  say: (line: string) => void;
}

type Check = { userId: string; permission: string; communityId: string; spaceId?: string };

// ---------------------------------------------------------------------------------------------------------------
// Fixture

/** `share`: the part of the community's members in the circle (250, 150, 40, 15 and 60 of 1,000). */
const CIRCLES = [
  { key: 'announcements', name: 'Announcements', access: 'OPEN', hidden: false, share: 0.25 },
  { key: 'builders', name: 'Builders', access: 'OPEN', hidden: false, share: 0.15 },
  { key: 'mentors', name: 'Mentors', access: 'INVITE', hidden: false, share: 0.04 },
  { key: 'backstage', name: 'Backstage', access: 'INVITE', hidden: true, share: 0.015 },
  { key: 'premium', name: 'Premium', access: 'PAID', hidden: false, share: 0.06 },
] as const;
type CircleKey = (typeof CIRCLES)[number]['key'];

export interface Fixture {
  communityId: string;
  publicCenterId: string;
  circleIds: Record<CircleKey, string>;
  owner: string;
  /** Every member but the owner, in join order (the role groups below are slices of it). */
  members: string[];
  admins: string[];
  moderators: string[];
  speakers: string[];
  circleManagers: string[];
  curators: string[];
  timedOut: string[];
  plain: string[];
  banned: string[];
  outsiders: string[];
  /** Who sits in which circle (besides the owner, who hosts them all). */
  circleMembers: Record<CircleKey, Set<string>>;
  /** Known answers, each with the reason it must hold. */
  expectations: { check: Check; expected: boolean; why: string }[];
  summary: Record<string, unknown>;
  seedMs: number;
}

const identity = (userId: string): Identity => ({ userId, sessionId: null, ip: '127.0.0.1', userAgent: 'circles-bench', requestId: `bench-${newId()}`, credential: 'bearer' });

/**
 * Builds the fixture through the community service's own rules (the same calls its resolvers make), so the rows,
 * audit records, outbox events and cache invalidations are what real use produces. User ids are fresh UUIDs: the
 * community service keeps no foreign keys to auth, and `can` never asks auth.
 */
export async function seedFixture(svc: CommunityService, size: number, parallel: number): Promise<Fixture> {
  // The role groups below take the first 176 members; the known answers need a few plain members after them.
  if (size < 200) throw new Error(`the permission fixture needs at least 200 members (BENCH_PERMISSION_MEMBERS=${size})`);
  const t0 = performance.now();
  const rand = prng(3);
  const owner = newId();
  const as = identity(owner);
  const slug = `bench-perms-${randomBytes(4).toString('hex')}`;
  const community = await svc.create({ name: 'Bench permissions', slug, visibility: 'LISTED', joinPolicy: 'OPEN', description: 'Permission benchmark fixture' }, as);
  const communityId = community.id;
  const publicCenterId = (await svc.repo.publicCenter(communityId))!.id;

  const BANNED = 8;
  const all = Array.from({ length: size - 1 + BANNED }, () => newId());
  await pool(all, parallel, (u) => svc.join(communityId, identity(u)));
  const banned = all.slice(size - 1);
  for (const u of banned) await svc.ban(communityId, u, 'bench fixture', null, as);
  const members = all.slice(0, size - 1);

  // Role groups are consecutive slices of the members, so every group is known by construction.
  let at = 0;
  const take = (n: number) => members.slice(at, (at += n));
  const admins = take(3);
  const moderators = take(12);
  const speakers = take(120);
  const circleManagers = take(6);
  const curators = take(25);
  const timedOut = take(10);
  const plain = members.slice(at);

  await pool(admins, parallel, (u) => svc.setRole(communityId, u, 'ADMIN', as));
  await pool(moderators, parallel, (u) => svc.setRole(communityId, u, 'MODERATOR', as));
  const speakerRole = await svc.createRole(communityId, 'Speakers', ['speak'], as);
  const managerRole = await svc.createRole(communityId, 'Circle keepers', ['manage_circles'], as);
  const curatorRole = await svc.createRole(communityId, 'Curators', ['moderate_content', 'view_audit_log'], as);
  await pool(speakers, parallel, (u) => svc.setCustomRole(communityId, u, speakerRole.id, true, as));
  await pool(circleManagers, parallel, (u) => svc.setCustomRole(communityId, u, managerRole.id, true, as));
  await pool(curators, parallel, (u) => svc.setCustomRole(communityId, u, curatorRole.id, true, as));
  await pool(timedOut, parallel, (u) => svc.timeout(communityId, u, 86_400, 'bench fixture', as));

  const circleIds = {} as Record<CircleKey, string>;
  const circleMembers = {} as Record<CircleKey, Set<string>>;
  for (const c of CIRCLES) {
    const circle = await svc.createCircle(communityId, { name: c.name, access: c.access, hidden: c.hidden, description: `${c.name} (bench)` }, as);
    circleIds[c.key] = circle.id;
    circleMembers[c.key] = new Set();
  }
  // Who must (not) be where for the known answers below; the rest is a seeded random draw.
  const forced: Record<CircleKey, string[]> = { announcements: [...curators, ...moderators.slice(0, 4), plain[0]!, plain[1]!], builders: [], mentors: [], backstage: [], premium: [] };
  const neverIn: Record<CircleKey, Set<string>> = {
    announcements: new Set(),
    builders: new Set(),
    mentors: new Set([...circleManagers, ...admins, plain[0]!, plain[2]!]),
    backstage: new Set([...admins]),
    premium: new Set(),
  };
  for (const c of CIRCLES) {
    const chosen = new Set(forced[c.key]);
    const target = Math.max(chosen.size, Math.round(c.share * size));
    while (chosen.size < target) {
      const u = members[Math.floor(rand() * members.length)]!;
      if (!neverIn[c.key].has(u)) chosen.add(u);
    }
    const id = circleIds[c.key];
    // Open circles are joined by the members themselves; the others are filled by their host (the owner).
    await pool([...chosen], parallel, (u) => (c.access === 'OPEN' ? svc.joinCircle(id, identity(u)) : svc.addCircleMember(id, u, 'MEMBER', as)));
    circleMembers[c.key] = chosen;
  }

  // Space overrides, Discord-style: Speakers alone speak in the Public Center; Announcements is read-only for members
  // (Curators may post); Builders is text only; Mentors' members may not invite.
  await svc.setSpaceOverride(publicCenterId, 'member', [], ['speak'], as);
  await svc.setSpaceOverride(publicCenterId, speakerRole.id, ['speak'], [], as);
  await svc.setSpaceOverride(circleIds.announcements, 'member', [], ['post', 'comment', 'chat'], as);
  await svc.setSpaceOverride(circleIds.announcements, curatorRole.id, ['post', 'comment'], [], as);
  await svc.setSpaceOverride(circleIds.builders, 'member', [], ['speak'], as);
  await svc.setSpaceOverride(circleIds.mentors, 'member', [], ['invite'], as);

  const outsiders = Array.from({ length: 200 }, () => newId());
  const c = (userId: string, permission: string, spaceId?: string): Check => ({ userId, permission, communityId, ...(spaceId ? { spaceId } : {}) });
  const expectations = [
    { check: c(owner, 'manage_roles'), expected: true, why: 'the owner holds every permission' },
    { check: c(admins[0]!, 'manage_community'), expected: true, why: 'admins hold every permission' },
    { check: c(moderators[0]!, 'manage_members'), expected: true, why: 'moderators manage members' },
    { check: c(moderators[0]!, 'manage_roles'), expected: false, why: 'moderators do not manage roles' },
    { check: c(plain[3]!, 'post'), expected: true, why: 'members post' },
    { check: c(plain[3]!, 'manage_roles'), expected: false, why: 'members do not manage roles' },
    { check: c(outsiders[0]!, 'post'), expected: false, why: 'outsiders are not members' },
    { check: c(banned[0]!, 'post'), expected: false, why: 'a banned user is no member' },
    { check: c(timedOut[0]!, 'post'), expected: false, why: 'a timeout removes posting' },
    { check: c(timedOut[0]!, 'invite'), expected: true, why: 'a timeout keeps inviting' },
    { check: c(curators[0]!, 'view_audit_log'), expected: true, why: 'the Curators role grants it' },
    { check: c(plain[3]!, 'speak', publicCenterId), expected: false, why: 'members may not speak in the Public Center' },
    { check: c(speakers[0]!, 'speak', publicCenterId), expected: true, why: 'the Speakers override allows it' },
    { check: c(plain[3]!, 'post', publicCenterId), expected: true, why: 'members post in the Public Center' },
    { check: c(plain[0]!, 'post', circleIds.announcements), expected: false, why: 'Announcements denies posting to members' },
    { check: c(plain[0]!, 'chat', circleIds.announcements), expected: false, why: 'Announcements denies chat to members' },
    { check: c(curators[0]!, 'post', circleIds.announcements), expected: true, why: 'the Curators override allows posting there' },
    { check: c(moderators[0]!, 'post', circleIds.announcements), expected: true, why: 'the members override does not bind moderators' },
    { check: c(plain[2]!, 'post', circleIds.mentors), expected: false, why: 'not a member of the circle' },
    { check: c(circleManagers[0]!, 'post', circleIds.mentors), expected: true, why: 'circle managers need no circle membership' },
    { check: c(admins[0]!, 'post', circleIds.backstage), expected: true, why: 'admins manage circles' },
    { check: c(plain[3]!, 'chat', circleIds.builders), expected: circleMembers.builders.has(plain[3]!), why: 'chat in Builders needs its membership' },
  ];

  return {
    communityId,
    publicCenterId,
    circleIds,
    owner,
    members,
    admins,
    moderators,
    speakers,
    circleManagers,
    curators,
    timedOut,
    plain,
    banned,
    outsiders,
    circleMembers,
    expectations,
    summary: {
      members: members.length + 1,
      admins: admins.length,
      moderators: moderators.length,
      customRoles: { Speakers: speakers.length, 'Circle keepers': circleManagers.length, Curators: curators.length },
      timedOut: timedOut.length,
      banned: banned.length,
      outsiders: outsiders.length,
      circles: Object.fromEntries(CIRCLES.map((c) => [c.name, { access: c.access, hidden: c.hidden, members: circleMembers[c.key].size + 1 }])),
      spaceOverrides: 6,
    },
    seedMs: round(performance.now() - t0),
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Request stream

const PERMISSION_WEIGHTS: [string, number][] = [
  ['post', 30],
  ['comment', 25],
  ['chat', 20],
  ['speak', 5],
  ['invite', 5],
  ['moderate_content', 5],
  ['manage_members', 3],
  ['manage_circles', 2],
  ['manage_roles', 2],
  ['view_audit_log', 2],
  ['manage_community', 1],
];

function weighted<T>(rand: () => number, items: [T, number][]): T {
  const total = items.reduce((a, [, w]) => a + w, 0);
  let x = rand() * total;
  for (const [item, w] of items) if ((x -= w) < 0) return item;
  return items[items.length - 1]![0];
}

/**
 * A seeded stream of questions: 90 % from members, skewed (Zipf, s = 1.1, over a shuffled member list: a few very
 * active people, a long tail), 7 % from outsiders, 3 % from banned users; permissions weighted towards posting and
 * chatting; 20 % community-wide, 50 % in the Public Center, 30 % in a circle.
 */
export function requestStream(f: Fixture, length: number): { checks: Check[]; distinctKeys: number } {
  const rand = prng(7);
  const active = [f.owner, ...f.members];
  for (let i = active.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [active[i], active[j]] = [active[j]!, active[i]!];
  }
  const cdf: number[] = [];
  let acc = 0;
  for (let k = 1; k <= active.length; k++) cdf.push((acc += 1 / k ** 1.1));
  const zipf = () => {
    const x = rand() * acc;
    let lo = 0;
    let hi = cdf.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cdf[mid]! < x) lo = mid + 1;
      else hi = mid;
    }
    return active[lo]!;
  };
  const circleWeights: [string, number][] = [
    [f.circleIds.announcements, 40],
    [f.circleIds.builders, 25],
    [f.circleIds.mentors, 15],
    [f.circleIds.backstage, 5],
    [f.circleIds.premium, 15],
  ];
  const checks: Check[] = [];
  const keys = new Set<string>();
  for (let i = 0; i < length; i++) {
    const who = rand();
    const userId = who < 0.9 ? zipf() : who < 0.97 ? f.outsiders[Math.floor(rand() * f.outsiders.length)]! : f.banned[Math.floor(rand() * f.banned.length)]!;
    const permission = weighted(rand, PERMISSION_WEIGHTS);
    const where = rand();
    const spaceId = where < 0.2 ? undefined : where < 0.7 ? f.publicCenterId : weighted(rand, circleWeights);
    checks.push({ userId, permission, communityId: f.communityId, ...(spaceId ? { spaceId } : {}) });
    keys.add(`${userId}:${permission}:${spaceId ?? ''}`);
  }
  return { checks, distinctKeys: keys.size };
}

// ---------------------------------------------------------------------------------------------------------------
// Load

/**
 * The contract's cached client over `raw`, noting which questions missed the cache: `cachedCommunityApi` hands the
 * caller's input object to the raw API only on a miss, so a per-call object in a WeakSet tells hits from misses.
 */
function trackedCachedApi(raw: CommunityApi, cache: Cache) {
  const missed = new WeakSet<object>();
  const api = cachedCommunityApi({ can: (input) => (missed.add(input), raw.can(input)), spaceAccess: (input) => raw.spaceAccess(input), readableSpaces: (input) => raw.readableSpaces(input), sharesCommunity: (input) => raw.sharesCommunity(input), readersAmong: (input) => raw.readersAmong(input), describeCommunity: (input) => raw.describeCommunity(input) }, cache);
  return { api, missed };
}

interface Variant {
  /** cachedWarm: the cached client asked only questions already in the cache (the cache path's own cost). */
  name: 'uncached' | 'cached' | 'cachedWarm';
  api: CommunityApi;
  /** Cached variant: the questions that missed the cache. */
  missed?: WeakSet<object>;
}

export interface PermissionRun {
  variant: Variant['name'];
  seconds: number;
  checks: number;
  checksPerSec: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  /** Share of the answers that were "yes". */
  allowedShare: number;
  /** Cached runs: share of the checks answered from the cache, and the latency of hits and misses apart. */
  hitRatio?: number;
  hit?: { p50Ms: number; p99Ms: number };
  miss?: { p50Ms: number; p99Ms: number };
  errors: number;
  firstError?: string;
  spotChecked: number;
  spotMismatches: number;
  valid: boolean;
}

const SAMPLE_EVERY = 13;
/** The all-hits run needs less time to settle than the runs that wait on the database. */
const WARM_SECONDS = 3;
const SPOT_CHECKS = 200;

/** `concurrency` callers take questions from the shared stream in turn for `seconds`. */
async function drive(
  variant: Variant,
  checks: Check[],
  cursor: { at: number },
  seconds: number,
  concurrency: number,
  reference: CommunityApi | null,
  asked?: Check[],
): Promise<PermissionRun> {
  const latencies = new Samples();
  const hits = new Samples();
  const misses = new Samples();
  const sampled: { check: Check; answer: boolean }[] = [];
  let allowed = 0;
  let errors = 0;
  let firstError: string | undefined;
  const t0 = performance.now();
  const end = t0 + seconds * 1000;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < end) {
        const n = cursor.at++;
        // A fresh object per call, so a miss can be told apart (see trackedCachedApi).
        const question = checks[n % checks.length]!;
        const check = { ...question };
        asked?.push(question);
        const s = performance.now();
        try {
          const answer = await variant.api.can(check);
          const ms = performance.now() - s;
          latencies.push(ms);
          if (variant.missed) (variant.missed.has(check) ? misses : hits).push(ms);
          if (answer) allowed++;
          if (n % SAMPLE_EVERY === 0) sampled.push({ check, answer });
        } catch (err) {
          errors++;
          firstError ??= err instanceof Error ? err.message : String(err);
        }
      }
    }),
  );
  const elapsed = (performance.now() - t0) / 1000;
  const sorted = latencies.sorted();
  // Spot check: a spread of this run's answers against the uncached answer, asked after the run.
  let mismatches = 0;
  const step = Math.max(1, Math.floor(sampled.length / SPOT_CHECKS));
  const spot = reference ? sampled.filter((_, i) => i % step === 0).slice(0, SPOT_CHECKS) : [];
  for (const { check, answer } of spot) if ((await reference!.can(check)) !== answer) mismatches++;
  const split = (xs: Samples) => {
    const sorted = xs.sorted();
    return { p50Ms: round(percentile(sorted, 50), 3), p99Ms: round(percentile(sorted, 99), 3) };
  };
  return {
    variant: variant.name,
    seconds: round(elapsed, 2),
    checks: latencies.length,
    checksPerSec: round(latencies.length / elapsed),
    p50Ms: round(percentile(sorted, 50), 3),
    p99Ms: round(percentile(sorted, 99), 3),
    maxMs: round(sorted[sorted.length - 1] ?? Number.NaN, 3),
    allowedShare: round(allowed / Math.max(1, latencies.length), 3),
    ...(variant.missed ? { hitRatio: round(hits.length / Math.max(1, latencies.length), 4), hit: split(hits), miss: split(misses) } : {}),
    errors,
    ...(firstError ? { firstError } : {}),
    spotChecked: spot.length,
    spotMismatches: mismatches,
    valid: errors === 0 && mismatches === 0 && latencies.length > 0 && (reference === null || spot.length > 0),
  };
}

/** Warm-up, then the known answers, then rounds of uncached/cached runs; summaries and the cached/uncached ratio. */
async function measureShape(opts: PermissionOptions, shape: string, f: Fixture, uncached: Variant, cached: Variant, reference: CommunityApi) {
  const { checks, distinctKeys } = requestStream(f, 200_000);
  const known = [];
  for (const v of [uncached, cached]) {
    for (const e of f.expectations) {
      // Twice through the cached client: the second answer comes from the cache.
      for (let i = 0; i < (v.name === 'cached' ? 2 : 1); i++) {
        const got = await v.api.can(e.check);
        if (got !== e.expected) known.push(`${v.name}: ${e.why}: expected ${e.expected}, got ${got}`);
      }
    }
  }
  if (known.length) throw new Error(`${shape}: wrong answers to known cases:\n  ${known.join('\n  ')}`);
  const cursor = { at: 0 };
  opts.say(`  ${shape}: warm-up ${opts.warmupSeconds} s, half per variant`);
  for (const v of [uncached, cached]) await drive(v, checks, cursor, opts.warmupSeconds / 2, opts.concurrency, null);
  const runs: PermissionRun[] = [];
  const report = (run: PermissionRun) =>
    opts.say(
      `  ${shape.padEnd(11)} ${run.variant.padEnd(10)} ${run.checksPerSec} checks/s  p50 ${run.p50Ms} ms  p99 ${run.p99Ms} ms` +
        `${run.hitRatio === undefined ? '' : `  hit ratio ${run.hitRatio} (hit p50 ${run.hit?.p50Ms} ms, miss p50 ${run.miss?.p50Ms} ms)`}  spot ${run.spotChecked - run.spotMismatches}/${run.spotChecked}` +
        `${run.valid ? '' : `  INVALID (errors ${run.errors}${run.firstError ? `: ${run.firstError}` : ''}, mismatches ${run.spotMismatches})`}`,
    );
  let lastCached: Check[] = [];
  for (let r = 0; r < opts.rounds; r++) {
    for (const v of [uncached, cached]) {
      const asked: Check[] = [];
      const run = await drive(v, checks, cursor, opts.seconds, opts.concurrency, v.name === 'cached' || shape === 'distributed' ? reference : null, asked);
      if (v.name === 'cached') lastCached = asked;
      runs.push(run);
      report(run);
    }
  }
  // Then the cache path's own cost: the questions of the last cached run again, every one of them cached by now.
  const warm = await drive({ ...cached, name: 'cachedWarm' }, lastCached, { at: 0 }, Math.min(opts.seconds, WARM_SECONDS), opts.concurrency, reference);
  runs.push(warm);
  report(warm);
  const summary = (name: Variant['name']) => {
    const rs = runs.filter((r) => r.variant === name);
    return {
      checksPerSec: round(mean(rs.map((r) => r.checksPerSec))),
      p50Ms: round(mean(rs.map((r) => r.p50Ms)), 3),
      p99Ms: round(mean(rs.map((r) => r.p99Ms)), 3),
      allowedShare: round(mean(rs.map((r) => r.allowedShare)), 3),
      ...(name !== 'uncached'
        ? {
            hitRatio: round(mean(rs.map((r) => r.hitRatio ?? 0)), 4),
            hitP50Ms: round(mean(rs.map((r) => r.hit?.p50Ms ?? Number.NaN)), 3),
            missP50Ms: round(mean(rs.map((r) => r.miss?.p50Ms ?? Number.NaN)), 3),
          }
        : {}),
    };
  };
  const u = summary('uncached');
  const c = summary('cached');
  const w = summary('cachedWarm');
  return {
    knownAnswersChecked: f.expectations.length * 3,
    requestStream: { length: checks.length, distinctQuestions: distinctKeys, questionsAsked: cursor.at },
    runs,
    uncached: u,
    cached: c,
    cachedWarm: w,
    /** At the hit ratio this run's request stream reached (see cached.hitRatio). */
    cachedOverUncached: round(c.checksPerSec / u.checksPerSec, 2),
    /** Every question already cached: the ceiling the cache allows. */
    cachedWarmOverUncached: round(w.checksPerSec / u.checksPerSec, 2),
    pairRatios: Array.from({ length: opts.rounds }, (_, i) => round(runs[2 * i + 1]!.checksPerSec / runs[2 * i]!.checksPerSec, 2)),
    valid: runs.every((r) => r.valid),
  };
}

// ---------------------------------------------------------------------------------------------------------------
// The two deployment shapes

/** A service's dependencies as host.ts hands them over: the process's shared infrastructure plus its own outbox. */
function serviceDeps(infra: Infrastructure, config: ServiceDeps['config'], apis: ServiceDeps['apis']): ServiceDeps {
  return {
    ...infra,
    config,
    log: createLogger('warn', { app: 'circles-bench', service: 'community' }),
    db: infra.database!.db,
    outbox: new Outbox('community'),
    mailer: infra.mailer!,
    urls: new UrlSigner(infra.gatewaySecret),
    apis,
  };
}

async function embedded(opts: PermissionOptions) {
  const dataDir = path.join(opts.scratch, 'permissions-embedded');
  await mkdir(dataDir, { recursive: true });
  const circles = await startCircles({ dataDir, web: false, database: await freshPglite() });
  try {
    const { infra, host } = circles;
    // A second community instance on the same database, cache and outbox table, built as host.ts builds one: its
    // `api` is what the host registers as the local CommunityApi, and the service behind it seeds the fixture.
    const deps = serviceDeps(infra, host.config, host.apis!);
    const svc = new CommunityService(deps);
    const raw = (await communityService.create(deps)).api as unknown as CommunityApi;
    opts.say(`  embedded: seeding ${opts.members} members on PGlite…`);
    const f = await seedFixture(svc, opts.members, 4);
    opts.say(`  embedded: fixture ready in ${f.seedMs} ms`);
    const cached: Variant = { name: 'cached', ...trackedCachedApi(raw, infra.cache) };
    const result = await measureShape(opts, 'embedded', f, { name: 'uncached', api: raw }, cached, raw);
    return {
      mode: 'embedded: whole platform in this process on PGlite; the caller is in-process (host.apis), cache = the host\'s MemoryCache',
      fixtureSeedMs: f.seedMs,
      ...result,
      fixture: f.summary,
    };
  } finally {
    await circles.stop();
  }
}

async function distributed(opts: PermissionOptions) {
  const db = await freshPostgres();
  const prefix = `circles-bench-${Date.now().toString(36)}${randomBytes(3).toString('hex')}:`;
  const secret = randomBytes(32).toString('hex');
  const port = await freePort();
  const community = spawnCircles({ CIRCLES_ROLES: 'community', SERVICE_PORT: String(port), HOST: '127.0.0.1', DATABASE_URL: db.url, REDIS_URL, REDIS_PREFIX: prefix, GATEWAY_SECRET: secret, CIRCLES_ENV: 'production', LOG_LEVEL: 'warn' });
  const url = `http://127.0.0.1:${port}`;
  let infra: Infrastructure | null = null;
  try {
    await waitReady(`${url}/readyz`, community, 90_000);
    // This process stands for another service (posts, chat, …) of the same deployment: same Redis and prefix, same
    // secret. It also opens the community database, only to seed the fixture and to ask the reference answers.
    const config = loadConfig(
      { CIRCLES_ENV: 'production', LOG_LEVEL: 'warn', DATABASE_URL: db.url, REDIS_URL, REDIS_PREFIX: prefix, GATEWAY_SECRET: secret },
      { roles: ['auth'], dataDir: path.join(opts.scratch, 'permissions-distributed') },
    );
    infra = await createInfrastructure(config, createLogger('warn', { app: 'circles-bench' }));
    const rpc = rpcClient<CommunityApi>(url, secret);
    const svc = new CommunityService(serviceDeps(infra, config, { community: rpc } as ServiceDeps['apis']));
    opts.say(`  distributed: seeding ${opts.members} members on PostgreSQL…`);
    const f = await seedFixture(svc, opts.members, 8);
    opts.say(`  distributed: fixture ready in ${f.seedMs} ms`);
    const cached: Variant = { name: 'cached', ...trackedCachedApi(rpc, infra.cache) };
    // Reference answers come from the service's policy on the database directly, bypassing RPC and cache.
    const direct: CommunityApi = {
      can: ({ userId, permission, communityId, spaceId }) => svc.can(userId, permission, communityId, spaceId),
      spaceAccess: ({ userId, communityId, spaceId }) => svc.spaceAccess(userId, communityId, spaceId),
      readableSpaces: ({ userId, communityId }) => svc.readableSpaces(userId, communityId),
      sharesCommunity: ({ userId, otherUserIds }) => svc.sharesCommunity(userId, otherUserIds),
      readersAmong: ({ communityId, spaceId, userIds }) => svc.readersAmong(communityId, spaceId, userIds),
      describeCommunity: ({ communityId }) => svc.describe(communityId),
    };
    const result = await measureShape(opts, 'distributed', f, { name: 'uncached', api: rpc }, cached, direct);
    return {
      mode: 'distributed: community service in its own process (apps/server/src/main.ts via tsx, CIRCLES_ROLES=community, CIRCLES_ENV=production) on PostgreSQL 127.0.0.1:5432; the caller is this process over signed RPC (rpcClient); cache = RedisCache on 127.0.0.1:6379',
      fixtureSeedMs: f.seedMs,
      ...result,
      fixture: f.summary,
    };
  } finally {
    await infra?.close();
    const code = await community.stop();
    if (code !== 0) opts.say(`  community process exited with ${code}`);
    await db.drop();
    await deleteRedisPrefix(prefix);
  }
}

export async function permissionChecks(opts: PermissionOptions) {
  const section = async <T>(name: string, fn: () => Promise<T>): Promise<T | { error: string }> => {
    try {
      return await fn();
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      opts.say(`  ${name} FAILED: ${message}`);
      return { error: message };
    }
  };
  const e = await section('embedded', () => embedded(opts));
  const d = await section('distributed', () => distributed(opts));
  return {
    question: 'CommunityApi.can({ userId, permission, communityId, spaceId? }) from another service',
    concurrency: opts.concurrency,
    secondsPerRun: opts.seconds,
    rounds: opts.rounds,
    warmupSeconds: opts.warmupSeconds,
    requestMix: '90% members (Zipf s=1.1 over a shuffled member list), 7% outsiders, 3% banned users; permissions weighted post 30, comment 25, chat 20, speak/invite/moderate_content 5, manage_members 3, others 1-2; 20% community-wide, 50% Public Center, 30% circles (Announcements 40, Builders 25, Mentors 15, Premium 15, Backstage 5)',
    correctness: `known answers (each with a stated reason) through both clients before load (the cached one twice); after each run, up to ${SPOT_CHECKS} of its answers (every ${SAMPLE_EVERY}th) re-asked uncached (embedded: the raw api; distributed: the service policy on PostgreSQL directly) must match`,
    embedded: e,
    distributed: d,
    valid: !('error' in e) && !('error' in d) && e.valid && d.valid,
  };
}

/**
 * Posts at scale (issue 4): one community with 100,000 posts and 1,000,000 comments, on PostgreSQL and on PGlite.
 * Through the gateway (HTTP POST /graphql), for an anonymous visitor and a signed-in member:
 *
 * - the community home feed, first page (20 posts with author, reactions, attachments, poll, isNew; pinned above);
 * - the same feed 50 pages in (page 51, by the real endCursor of page 50);
 * - the page of the post with 500 comments: its first 100 top-level comments with every reply (all 500 at once).
 *
 * Each (store, query, viewer) gets a warm-up, a loaded run (autocannon, a fixed number of connections for a fixed
 * time, like the other sections) and a serial run (one connection, a fixed number of requests: the latency one
 * reader sees on an idle server). Every response must be byte-identical to the one checked before the runs (full
 * JSON checks: counts, threads, authors resolved), so a wrong or partial answer counts as an error. The platform runs
 * in its own process (bench/posts-target.ts) with the fixture from bench/posts-fixture.ts; after the runs it explains
 * the posts service's own SQL on the same data (EXPLAIN ANALYZE, warm, best of three).
 */
import { type ChildProcess, fork } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { freshPostgres } from '@circles/testing';
import autocannon from 'autocannon';
import { mean, percentile, repoRoot, round, Samples } from './lib.ts';
import { STAR_COMMENTS, STAR_THREADS } from './posts-fixture.ts';
import type { ExplainedQuery, PostsTargetInfo } from './posts-target.ts';

export interface PostsOptions {
  stores: ('postgres' | 'pglite')[];
  posts: number;
  comments: number;
  seconds: number;
  warmupSeconds: number;
  connections: number;
  serialRequests: number;
  deepPage: number;
  scratch: string;
  say: (line: string) => void;
}

export const FEED_QUERY = `query HomeFeed($c: ID!, $after: String) {
  feed(communityId: $c, first: 20, after: $after) {
    pinned { id }
    posts { id title excerpt author { handle displayName } commentCount reactionCount reactions { emoji count viewerReacted } createdAt isNew attachments { id } poll { question } }
    endCursor hasNextPage
  }
}`;

export const POST_QUERY = `query PostPage($id: ID!) {
  post(id: $id) {
    id title bodyHtml author { handle } reactions { emoji count } revisions { body }
    comments(first: 100) {
      totalCount
      nodes { id bodyHtml author { handle } reactions { emoji count } replies { id bodyHtml depth parentId author { handle } } }
    }
  }
}`;

const CURSOR_QUERY = `query FeedCursor($c: ID!, $after: String) { feed(communityId: $c, first: 20, after: $after) { endCursor hasNextPage } }`;

type QueryName = 'feedFirstPage' | 'feedDeepPage' | 'postPage';
type ViewerName = 'anonymous' | 'member';

interface Case {
  query: QueryName;
  viewer: ViewerName;
  body: string;
  headers: Record<string, string>;
}

interface Feed {
  pinned: { id: string }[];
  posts: {
    id: string;
    author: { handle: string; displayName: string } | null;
    commentCount: number;
    reactionCount: number;
    reactions: { emoji: string; count: number; viewerReacted: boolean }[];
    isNew: boolean;
    attachments: { id: string }[];
  }[];
  endCursor: string | null;
  hasNextPage: boolean;
}
interface PostPage {
  id: string;
  author: { handle: string } | null;
  reactions: unknown[];
  revisions: unknown[];
  comments: { totalCount: number; nodes: { id: string; author: { handle: string } | null; replies: { depth: number; parentId: string; author: { handle: string } | null }[] }[] };
}

/** Full checks of one answer; the load runs then compare every response with it byte for byte. */
function check(c: Case, text: string, info: PostsTargetInfo): void {
  const json = JSON.parse(text) as { data?: { feed?: Feed; post?: PostPage }; errors?: unknown };
  const fail = (why: string) => {
    throw new Error(`${c.query} as ${c.viewer}: ${why}\n${text.slice(0, 1000)}`);
  };
  if (json.errors) fail('GraphQL errors');
  if (c.query === 'postPage') {
    const p = json.data?.post;
    if (!p || p.id !== info.fixture.starPostId) return fail('not the 500-comment post');
    const replies = p.comments.nodes.reduce((a, n) => a + n.replies.length, 0);
    if (p.comments.totalCount !== STAR_COMMENTS || p.comments.nodes.length !== STAR_THREADS || replies + p.comments.nodes.length !== STAR_COMMENTS) {
      fail(`expected ${STAR_THREADS} threads and ${STAR_COMMENTS} comments in one page, got ${p.comments.nodes.length} threads, ${replies} replies, totalCount ${p.comments.totalCount}`);
    }
    if (!p.author?.handle || p.comments.nodes.some((n) => !n.author?.handle || n.replies.some((r) => !r.author?.handle))) fail('an author did not resolve');
    if (p.revisions.length !== 2 || p.reactions.length === 0) fail('revisions or reactions missing');
    return;
  }
  const f = json.data?.feed;
  if (!f || f.posts.length !== 20 || !f.hasNextPage || !f.endCursor) return fail('expected a full page with a next page');
  if (c.query === 'feedFirstPage' && f.pinned.length !== info.fixture.pinnedPostIds.length) fail(`expected ${info.fixture.pinnedPostIds.length} pinned posts`);
  if (c.query === 'feedDeepPage' && f.pinned.length !== 0) fail('pinned posts on a later page');
  if (f.posts.some((p) => !p.author?.handle)) fail('an author did not resolve');
  if (!f.posts.some((p) => p.reactions.length > 0) || !f.posts.some((p) => p.attachments.length > 0)) fail('no reactions or attachments on the page');
  // The reader last visited 30 days ago: every post on these pages is newer. Anonymous visitors never see "new".
  if (f.posts.some((p) => p.isNew !== (c.viewer === 'member'))) fail('isNew is wrong');
}

interface Run {
  connections: number;
  seconds: number;
  requests: number;
  requestsPerSec: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  meanMs: number;
  maxMs: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  badBodies: number;
}

async function run(url: string, c: Case, expected: string, opts: { connections: number; seconds?: number; amount?: number }): Promise<Run> {
  const samples = new Samples();
  const instance = autocannon({
    url,
    connections: opts.connections,
    ...(opts.amount ? { amount: opts.amount } : { duration: opts.seconds }),
    timeout: 30,
    requests: [{ method: 'POST', body: c.body, headers: c.headers }],
    verifyBody: (body) => body === expected,
  });
  instance.on('response', (_client: unknown, _status: number, _bytes: number, ms: number) => samples.push(ms));
  const t0 = performance.now();
  const r = await instance;
  // autocannon reports whole seconds; an `amount` run ends when its last answer arrives.
  const seconds = (performance.now() - t0) / 1000;
  const sorted = samples.sorted();
  return {
    connections: opts.connections,
    seconds: round(seconds, 2),
    requests: r.requests.total,
    requestsPerSec: round(r.requests.total / seconds),
    p50Ms: round(percentile(sorted, 50), 2),
    p90Ms: round(percentile(sorted, 90), 2),
    p99Ms: round(percentile(sorted, 99), 2),
    meanMs: round(mean(Array.from(sorted)), 2),
    maxMs: round(sorted[sorted.length - 1] ?? Number.NaN, 2),
    non2xx: r.non2xx,
    errors: r.errors,
    timeouts: r.timeouts,
    badBodies: r.mismatches,
  };
}

const runValid = (r: Run) => r.requests > 0 && r.non2xx === 0 && r.errors === 0 && r.timeouts === 0 && r.badBodies === 0;

function startTarget(store: 'postgres' | 'pglite', dataDir: string, databaseUrl: string | null, opts: PostsOptions) {
  const child = fork(new URL('./posts-target.ts', import.meta.url).pathname, [store, dataDir, databaseUrl ?? '-', String(opts.posts), String(opts.comments)], {
    cwd: repoRoot,
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 2, 2, 'ipc'],
  });
  const ready = new Promise<PostsTargetInfo>((resolve, reject) => {
    child.on('message', (m: { type: string; line?: string; info?: PostsTargetInfo }) => {
      if (m.type === 'log') opts.say(m.line!);
      if (m.type === 'ready') resolve(m.info!);
    });
    child.once('exit', (code) => reject(new Error(`bench/posts-target.ts (${store}) exited with code ${code} before it was ready`)));
  });
  return { child, ready };
}

function explainOn(child: ChildProcess, deepCursor: string): Promise<ExplainedQuery[]> {
  return new Promise((resolve, reject) => {
    const onMessage = (m: { type: string; plans?: ExplainedQuery[]; error?: string }) => {
      if (m.type !== 'explained') return;
      child.off('message', onMessage);
      if (m.error) reject(new Error(`EXPLAIN: ${m.error}`));
      else resolve(m.plans!);
    };
    child.on('message', onMessage);
    child.send({ type: 'explain', deepCursor });
  });
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise<false>((resolve) => child.once('exit', () => resolve(false)));
  child.disconnect();
  if (await Promise.race([exited, sleep(30_000, true, { ref: false })])) child.kill('SIGKILL');
}

async function measureStore(store: 'postgres' | 'pglite', opts: PostsOptions) {
  const pgdb = store === 'postgres' ? await freshPostgres() : null;
  const t0 = performance.now();
  const loadAverageAtStart = round(os.loadavg()[0]!, 2);
  const { child, ready } = startTarget(store, path.join(opts.scratch, `posts-${store}`), pgdb?.url ?? null, opts);
  try {
    const info = await ready;
    const readyS = round((performance.now() - t0) / 1000);
    opts.say(`  ${store}: fixture ready after ${readyS} s (bulk SQL ${info.fixture.seedMs.total} ms + VACUUM ANALYZE ${info.fixture.analyzeMs} ms)`);
    const url = `${info.gatewayUrl}/graphql`;
    const base = { 'content-type': 'application/json', 'x-circles-csrf': '1' };
    const headersFor = (viewer: ViewerName) => (viewer === 'member' ? { ...base, authorization: `Bearer ${info.readerToken}` } : base);

    // Page 51's cursor: the real endCursor of page 50, walked page by page (keyset values, valid for any viewer).
    let deepCursor: string | null = null;
    for (let page = 1; page < opts.deepPage; page++) {
      const res = await fetch(url, { method: 'POST', headers: base, body: JSON.stringify({ query: CURSOR_QUERY, variables: { c: info.communityId, after: deepCursor } }) });
      const json = (await res.json()) as { data?: { feed: { endCursor: string | null } }; errors?: unknown };
      deepCursor = json.data?.feed.endCursor ?? null;
      if (!deepCursor) throw new Error(`walking the feed: no endCursor on page ${page}: ${JSON.stringify(json).slice(0, 500)}`);
    }

    const cases: Case[] = [];
    for (const query of ['feedFirstPage', 'feedDeepPage', 'postPage'] as const) {
      for (const viewer of ['anonymous', 'member'] as const) {
        const body =
          query === 'postPage'
            ? JSON.stringify({ query: POST_QUERY, variables: { id: info.fixture.starPostId } })
            : JSON.stringify({ query: FEED_QUERY, variables: { c: info.communityId, after: query === 'feedDeepPage' ? deepCursor : null } });
        cases.push({ query, viewer, body, headers: headersFor(viewer) });
      }
    }
    // Two answers per case, checked in full and identical (the runs compare every response with them).
    const expected = new Map<Case, string>();
    for (const c of cases) {
      const texts: string[] = [];
      for (let i = 0; i < 2; i++) {
        const res = await fetch(url, { method: 'POST', headers: c.headers, body: c.body });
        const text = await res.text();
        if (res.status !== 200) throw new Error(`${c.query} as ${c.viewer}: HTTP ${res.status} ${text.slice(0, 500)}`);
        check(c, text, info);
        texts.push(text);
      }
      if (texts[0] !== texts[1]) throw new Error(`${c.query} as ${c.viewer}: two answers differ, so responses cannot be compared byte for byte`);
      expected.set(c, texts[0]!);
    }

    const results = [];
    for (const c of cases) {
      const exp = expected.get(c)!;
      await run(url, c, exp, { connections: opts.connections, seconds: opts.warmupSeconds });
      const loaded = await run(url, c, exp, { connections: opts.connections, seconds: opts.seconds });
      const serial = await run(url, c, exp, { connections: 1, amount: opts.serialRequests });
      const valid = runValid(loaded) && runValid(serial);
      opts.say(
        `  ${store.padEnd(8)} ${c.query.padEnd(13)} ${c.viewer.padEnd(9)} ${String(loaded.requestsPerSec).padStart(6)} req/s  p50 ${loaded.p50Ms} ms  p99 ${loaded.p99Ms} ms (${opts.connections} conn)` +
          `  | serial p50 ${serial.p50Ms} ms  p99 ${serial.p99Ms} ms${valid ? '' : `  INVALID (loaded: non2xx ${loaded.non2xx}, errors ${loaded.errors}, timeouts ${loaded.timeouts}, bad bodies ${loaded.badBodies}; serial: ${serial.non2xx}/${serial.errors}/${serial.timeouts}/${serial.badBodies})`}`,
      );
      results.push({ store, query: c.query, viewer: c.viewer, responseBytes: Buffer.byteLength(exp), loaded, serial, valid });
    }

    const e0 = performance.now();
    const explain = await explainOn(child, deepCursor!);
    opts.say(`  ${store}: EXPLAIN ANALYZE of ${explain.length} statements in ${Math.round(performance.now() - e0)} ms; slowest: ${[...explain].sort((a, b) => b.executionMs - a.executionMs).slice(0, 3).map((q) => `${q.name} ${q.executionMs} ms`).join(', ')}`);
    return {
      store,
      mode:
        store === 'postgres'
          ? 'embedded platform (every role in one process) on PostgreSQL 15 at 127.0.0.1:5432 (a fresh database, dropped afterwards); in-process cache, sessions and limits'
          : 'embedded platform (every role in one process) on PGlite in a data folder on disk (the default install); in-process cache, sessions and limits',
      platformStartMs: info.startMs,
      setupThroughGatewayMs: info.setupMs,
      fixture: {
        counts: info.fixture.counts,
        people: `${info.authors} authors + 1 reader, signed up through the gateway`,
        seedMs: info.fixture.seedMs,
        vacuumAnalyzeMs: info.fixture.analyzeMs,
        readyAfterS: readyS,
        starPostId: info.fixture.starPostId,
      },
      // Other work on the machine (2 shared cores) shows up here: the 1-minute load average around this store's runs.
      loadAverage1m: { atStart: loadAverageAtStart, afterRuns: round(os.loadavg()[0]!, 2) },
      results,
      explain,
      valid: results.every((r) => r.valid),
    };
  } finally {
    await stopChild(child);
    await pgdb?.drop();
  }
}

export async function postsAtScale(opts: PostsOptions) {
  const stores: Record<string, Awaited<ReturnType<typeof measureStore>> | { error: string }> = {};
  for (const store of opts.stores) {
    opts.say(`posts at scale, ${store}: ${opts.posts.toLocaleString('en')} posts, ${opts.comments.toLocaleString('en')} comments`);
    try {
      stores[store] = await measureStore(store, opts);
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      opts.say(`  ${store} FAILED: ${message}`);
      stores[store] = { error: message };
    }
  }
  return {
    queries: { feed: FEED_QUERY.replace(/\s+/g, ' '), post: POST_QUERY.replace(/\s+/g, ' ') },
    viewers: { anonymous: 'no session: the feed spans the Public Center', member: 'bearer token of a member in 2 circles: the feed spans 3 spaces; isNew against a visit 30 days ago' },
    deepPage: opts.deepPage,
    loadGenerator: 'autocannon 9 in the bench process, the platform in its own process; every response compared byte for byte with a fully checked one',
    connections: opts.connections,
    secondsPerRun: opts.seconds,
    warmupSeconds: opts.warmupSeconds,
    serialRequests: opts.serialRequests,
    /** One row per (store, query, viewer): the loaded run's figures, then the serial run's. */
    summary: Object.values(stores).flatMap((s) =>
      'error' in s
        ? []
        : s.results.map((r) => ({
            store: r.store,
            query: r.query,
            viewer: r.viewer,
            requestsPerSec: r.loaded.requestsPerSec,
            p50Ms: r.loaded.p50Ms,
            p99Ms: r.loaded.p99Ms,
            meanMs: r.loaded.meanMs,
            requests: r.loaded.requests,
            errors: r.loaded.errors + r.loaded.non2xx + r.loaded.timeouts + r.loaded.badBodies + r.serial.errors + r.serial.non2xx + r.serial.timeouts + r.serial.badBodies,
            serialP50Ms: r.serial.p50Ms,
            serialP99Ms: r.serial.p99Ms,
            serialMeanMs: r.serial.meanMs,
          })),
    ),
    stores,
    valid: Object.values(stores).every((s) => !('error' in s) && s.valid),
  };
}

/**
 * The system under load for the posts benchmark, in its own process so the load generator does not share its event
 * loop: the embedded platform (gateway and every service) on one store, either PGlite in a data folder (the default
 * install) or a PostgreSQL database (DATABASE_URL), with in-process cache, sessions and limits in both cases so the
 * store is the only difference. It signs people up and creates the community through the gateway like any client,
 * then writes the bulk fixture (bench/posts-fixture.ts) into the posts tables.
 *
 * Usage: fork bench/posts-target.ts <pglite|postgres> <dataDir> <databaseUrl|-> <posts> <comments>, with an IPC
 * channel. Sends { type: 'log', line } while seeding and { type: 'ready', info } when seeded; answers
 * { type: 'explain', deepCursor } with { type: 'explained', plans }; stops when the parent disconnects.
 */
import { mkdir } from 'node:fs/promises';
import { newId, openDatabase } from '@circles/platform';
import { startCircles } from '@circles/server/embedded';
import { gqlClient } from '@circles/testing';
import { CompiledQuery, DummyDriver, Kysely, PostgresAdapter, PostgresIntrospector, PostgresQueryCompiler } from 'kysely';
import { type PostsDb, PostsRepository } from '../services/posts/src/repo.ts';
import { decodeCursor } from '../services/posts/src/service.ts';
import { pool } from './lib.ts';
import { type FixtureResult, seedPostsFixture, STAR_THREADS } from './posts-fixture.ts';

export interface PostsTargetInfo {
  store: 'pglite' | 'postgres';
  gatewayUrl: string;
  communityId: string;
  publicCenterId: string;
  circleIds: string[];
  readerToken: string;
  readerId: string;
  authors: number;
  setupMs: number;
  startMs: number;
  fixture: FixtureResult;
}

export interface ExplainedQuery {
  name: string;
  sql: string;
  /** Warm: the best of three EXPLAIN ANALYZE runs. */
  executionMs: number;
  planningMs: number;
  rows: number;
  plan: string[];
}

const [store, dataDir, databaseUrl, postsArg, commentsArg] = process.argv.slice(2);
if ((store !== 'pglite' && store !== 'postgres') || !dataDir || !process.send) throw new Error('usage: fork bench/posts-target.ts <pglite|postgres> <dataDir> <databaseUrl|-> <posts> <comments> with an IPC channel');
const send = (m: unknown) => process.send!(m);
const say = (line: string) => send({ type: 'log', line });
const AUTHORS = 20;
const PASSWORD = 'violet-kettle-sunrise-42';

await mkdir(dataDir, { recursive: true });
const s0 = performance.now();
const database = store === 'postgres' ? await openDatabase({ databaseUrl, dataDir }) : undefined;
const circles = await startCircles({ dataDir, web: false, database, env: store === 'postgres' ? { DATABASE_URL: databaseUrl! } : {} });
const startMs = Math.round(performance.now() - s0);
const db = circles.infra.database!.db;
say(`  ${store}: platform started in ${startMs} ms (${store === 'pglite' ? `PGlite in ${dataDir}/postgres` : 'PostgreSQL 127.0.0.1:5432, a fresh database'})`);

// People and the community, through the gateway like any client.
const setup0 = performance.now();
const gql = gqlClient(circles.gatewayUrl);
const must = async <T>(what: string, p: Promise<{ data: T | null; errors?: unknown[] }>) => {
  const r = await p;
  if (r.errors?.length || !r.data) throw new Error(`${what}: ${JSON.stringify(r.errors ?? r.data)}`);
  return r.data;
};
const signUp = (handle: string, displayName: string) =>
  must<{ signUp: { token: string; account: { id: string } } }>(
    `signUp ${handle}`,
    gql(`mutation ($input: SignUpInput!) { signUp(input: $input) { token account { id } } }`, {
      input: { email: `${handle}@example.com`, password: PASSWORD, handle, displayName, delivery: 'BEARER' },
    }),
  ).then((d) => ({ token: d.signUp.token, id: d.signUp.account.id }));
const people = new Array<{ token: string; id: string }>(AUTHORS + 1);
await pool(
  Array.from({ length: AUTHORS + 1 }, (_, i) => i),
  4,
  async (i) => (people[i] = i < AUTHORS ? await signUp(`baker${i}`, `Baker ${i}`) : await signUp('reader', 'Regular Reader')),
);
const owner = people[0]!;
const reader = people[AUTHORS]!;
const { createCommunity } = await must<{ createCommunity: { id: string; publicCenter: { id: string } } }>(
  'createCommunity',
  gql(
    `mutation ($input: CreateCommunityInput!) { createCommunity(input: $input) { id publicCenter { id } } }`,
    { input: { name: 'Bench Bakers', slug: `bench-posts-${newId().slice(0, 8)}`, description: 'Posts benchmark', visibility: 'LISTED', joinPolicy: 'OPEN' } },
    { token: owner.token },
  ),
);
const communityId = createCommunity.id;
const circleIds: string[] = [];
for (const name of ['Sourdough', 'Pastry']) {
  const { createCircle } = await must<{ createCircle: { id: string } }>(
    'createCircle',
    gql(`mutation ($c: ID!, $input: CreateCircleInput!) { createCircle(communityId: $c, input: $input) { id } }`, { c: communityId, input: { name, access: 'OPEN' } }, { token: owner.token }),
  );
  circleIds.push(createCircle.id);
}
await pool(people.slice(1), 4, (p) => must('joinCommunity', gql(`mutation ($id: ID!) { joinCommunity(id: $id) { id } }`, { id: communityId }, { token: p.token })));
// The reader sits in both circles, so their home feed spans three spaces (the anonymous one: the Public Center only).
for (const id of circleIds) await must('joinCircle', gql(`mutation ($id: ID!) { joinCircle(id: $id) { id } }`, { id }, { token: reader.token }));
const setupMs = Math.round(performance.now() - setup0);
say(`  ${store}: ${AUTHORS + 1} people signed up, community and 2 circles created through the gateway in ${setupMs} ms; seeding posts…`);

const fixture = await seedPostsFixture(
  db,
  { communityId, publicCenterId: createCommunity.publicCenter.id, authors: people.slice(0, AUTHORS).map((p) => p.id), reader: reader.id, posts: Number(postsArg), comments: Number(commentsArg) },
  say,
);

const info: PostsTargetInfo = {
  store,
  gatewayUrl: circles.gatewayUrl,
  communityId,
  publicCenterId: createCommunity.publicCenter.id,
  circleIds,
  readerToken: reader.token,
  readerId: reader.id,
  authors: AUTHORS,
  setupMs,
  startMs,
  fixture,
};
send({ type: 'ready', info });

// ---------------------------------------------------------------------------------------------------------------
// EXPLAIN ANALYZE of the posts service's own queries: the repository runs once against a Kysely that only records
// the compiled SQL (DummyDriver), then each statement is explained on the real store with the same parameters.

function recordingRepo() {
  const recorded: CompiledQuery[] = [];
  const k = new Kysely<any>({
    dialect: {
      createAdapter: () => new PostgresAdapter(),
      createDriver: () => new DummyDriver(),
      createIntrospector: (d) => new PostgresIntrospector(d),
      createQueryCompiler: () => new PostgresQueryCompiler(),
    },
    log: (e) => {
      if (e.level === 'query') recorded.push(e.query);
    },
  });
  return { repo: new PostsRepository(k as PostsDb), recorded };
}

async function explain(name: string, run: (repo: PostsRepository) => Promise<unknown>): Promise<ExplainedQuery> {
  const { repo, recorded } = recordingRepo();
  await run(repo);
  const q = recorded[0]!;
  let best: { execution: number; planning: number; rows: number; plan: string[] } | null = null;
  for (let i = 0; i < 3; i++) {
    const r = await db.executeQuery<{ 'QUERY PLAN': string }>(CompiledQuery.raw(`explain (analyze, buffers, format text) ${q.sql}`, [...q.parameters]));
    const plan = r.rows.map((row) => row['QUERY PLAN']);
    const execution = Number(/Execution Time: ([\d.]+)/.exec(plan.join('\n'))?.[1]);
    const planning = Number(/Planning Time: ([\d.]+)/.exec(plan.join('\n'))?.[1]);
    const rows = Number(/\(actual time=[\d.]+\.\.[\d.]+ rows=(\d+)/.exec(plan[0] ?? '')?.[1] ?? Number.NaN);
    if (!best || execution < best.execution) best = { execution, planning, rows, plan };
  }
  // Long IN lists shortened for the report: `$2, …, $501`, and plan lines cut at 240 characters.
  const shortSql = q.sql.replace(/\s+/g, ' ').replace(/\$(\d+)(?:, \$\d+)*, \$(\d+)/g, (m, a: string, b: string) => (Number(b) - Number(a) > 3 ? `$${a}, …, $${b}` : m));
  const plan = best!.plan.map((l) => (l.length > 240 ? `${l.slice(0, 239)}…` : l));
  return { name, sql: shortSql, executionMs: best!.execution, planningMs: best!.planning, rows: best!.rows, plan };
}

async function explainAll(deepCursor: string) {
  const real = new PostsRepository(db as PostsDb);
  const pc = info.publicCenterId;
  const member = [pc, ...circleIds];
  const after = decodeCursor(deepCursor, 'date');
  const page = await real.feed({ spaceIds: [pc], sort: 'new', since: null, limit: 21, after: null, excludePinnedIn: pc });
  const pageIds = page.slice(0, 20).map((p) => p.id);
  const top = await real.topLevelComments(fixture.starPostId, 'oldest', 101, null);
  const topIds = top.slice(0, STAR_THREADS).map((c) => c.id);
  const replies = await real.replies(topIds);
  const out: ExplainedQuery[] = [];
  const feed = (spaceIds: string[], cursor: typeof after) => (r: PostsRepository) => r.feed({ spaceIds, sort: 'new', since: null, limit: 21, after: cursor, excludePinnedIn: pc });
  out.push(await explain('feed page 1, anonymous (Public Center only)', feed([pc], null)));
  out.push(await explain('feed page 1, member (Public Center + 2 circles)', feed(member, null)));
  out.push(await explain('feed page 51, anonymous', feed([pc], after)));
  out.push(await explain('feed page 51, member', feed(member, after)));
  out.push(await explain('pinned posts', (r) => r.pinned(pc)));
  out.push(await explain('reaction summaries, 20 feed posts (member)', (r) => r.reactionSummaries(pageIds, reader.id)));
  out.push(await explain('attachments of 20 feed posts', (r) => r.attachmentsOf(pageIds)));
  out.push(await explain('post by id', (r) => r.post(fixture.starPostId)));
  out.push(await explain('top-level comments, first 100 (+1) of the 500-comment post', (r) => r.topLevelComments(fixture.starPostId, 'oldest', 101, null)));
  out.push(await explain('replies of those 100 threads', (r) => r.replies(topIds)));
  out.push(await explain('reaction summaries, post + 500 comments', (r) => r.reactionSummaries([fixture.starPostId, ...topIds, ...replies.map((c) => c.id)], null)));
  out.push(await explain('revisions', (r) => r.revisions(fixture.starPostId)));
  return out;
}

process.on('message', (m: { type: string; deepCursor?: string }) => {
  if (m.type !== 'explain') return;
  explainAll(m.deepCursor!).then(
    (plans) => send({ type: 'explained', plans }),
    (err: unknown) => send({ type: 'explained', error: err instanceof Error ? err.message : String(err) }),
  );
});

process.once('disconnect', async () => {
  await circles.stop();
  process.exit(0);
});

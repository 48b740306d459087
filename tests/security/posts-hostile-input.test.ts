import { codeOf, startTestPlatform, type TestPlatform } from '@circles/testing';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * Hostile input through every field of Posts: oversized, control-character and malformed values get a clear
 * BAD_USER_INPUT naming the field, never a 500 and never a half-written post; query bombs on comment threads are
 * refused at the gateway. (Markup payloads are the Markdown corpus in services/posts/test/markdown.test.ts and,
 * rendered in Chromium, tests/e2e/posts.browser.test.ts.)
 */
const pw = 'violet-kettle-sunrise-42';

describe('posts under hostile input', () => {
  let p: TestPlatform;
  let token: string;
  let communityId: string;
  let centerId: string;
  let postId: string;

  const count = async (table: string) =>
    ((await sql<{ n: number }>`select count(*)::int as n from ${sql.table(table)}`.execute(p.infra.database!.db)).rows[0]!.n);
  const create = (input: Record<string, unknown>) =>
    p.gql(`mutation($i: CreatePostInput!) { createPost(input: $i) { id } }`, { i: { communityId, spaceId: centerId, body: 'ok', ...input } }, { token });

  beforeAll(async () => {
    p = await startTestPlatform('embedded');
    token = (await p.gql(`mutation { signUp(input: { email: "hp@example.com", password: "${pw}", handle: "hostilep", displayName: "H", delivery: BEARER }) { token } }`)).data.signUp.token;
    const c = (await p.gql(`mutation { createCommunity(input: { name: "Hostile Posts", slug: "hostile-posts" }) { id publicCenter { id } } }`, {}, { token })).data.createCommunity;
    communityId = c.id;
    centerId = c.publicCenter.id;
    postId = (await create({ body: 'target', poll: { options: ['a', 'b'] } })).data.createPost.id;
  });
  afterAll(async () => {
    await p?.stop();
  });

  it('refuses bad post input with the field named, writing nothing', async () => {
    const before = { posts: await count('posts.posts'), polls: await count('posts.polls'), options: await count('posts.poll_options') };
    const cases: [Record<string, unknown>, string][] = [
      [{ body: 'x'.repeat(40_001) }, 'body'],
      [{ title: 't'.repeat(201) }, 'title'],
      [{ body: 'nul \u0000 inside' }, 'body'],
      [{ title: 'bell \u0007' }, 'title'],
      [{ body: 'lone surrogate \ud800' }, 'body'],
      [{ body: '', title: null }, 'body'],
      [{ attachments: ['../../etc/passwd'] }, 'attachments.0'],
      [{ attachments: Array.from({ length: 21 }, () => crypto.randomUUID()) }, 'attachments'],
      [{ attachments: [crypto.randomUUID()] }, 'attachments'],
      [{ poll: { options: ['one'] } }, 'poll.options'],
      [{ poll: { options: Array.from({ length: 11 }, (_, i) => `o${i}`) } }, 'poll.options'],
      [{ poll: { options: ['same', 'SAME'] } }, 'poll.options'],
      [{ poll: { options: ['a', 'b'.repeat(101)] } }, 'poll.options.1'],
      [{ poll: { options: ['a', ''] } }, 'poll.options.1'],
      [{ poll: { options: ['a', 'b'], closesAt: new Date(Date.now() + 400 * 86_400_000).toISOString() } }, 'poll.closesAt'],
      [{ poll: { question: 'q'.repeat(301), options: ['a', 'b'] } }, 'poll.question'],
      [{ spaceId: 'nope' }, 'spaceId'],
    ];
    for (const [input, field] of cases) {
      const r = await create(input);
      expect(codeOf(r), JSON.stringify(input).slice(0, 80)).toBe('BAD_USER_INPUT');
      expect(r.errors![0]!.extensions!.field, JSON.stringify(input).slice(0, 80)).toBe(field);
    }
    expect({ posts: await count('posts.posts'), polls: await count('posts.polls'), options: await count('posts.poll_options') }).toEqual(before);
  });

  it('refuses malformed ids, cursors, emoji, sizes and sorts without a server error', async () => {
    const bad: [string, Record<string, unknown>][] = [
      [`query($c: ID!) { feed(communityId: $c) { posts { id } } }`, { c: 'x'.repeat(10_000) }],
      [`query($c: ID!, $a: String) { feed(communityId: $c, after: $a) { posts { id } } }`, { c: communityId, a: Buffer.from('["not a date","x"]').toString('base64url') }],
      [`query($c: ID!, $a: String) { feed(communityId: $c, sort: TOP, after: $a) { posts { id } } }`, { c: communityId, a: Buffer.from(JSON.stringify(['2026-01-01', crypto.randomUUID()])).toString('base64url') }],
      [`query($c: ID!) { feed(communityId: $c, first: -1) { posts { id } } }`, { c: communityId }],
      [`query($id: ID!) { post(id: $id) { comments(first: 201) { nodes { id } } } }`, { id: postId }],
      [`query($id: ID!) { post(id: $id) { reactors(emoji: "👍", first: 201) { id } } }`, { id: postId }],
      [`mutation($id: ID!) { setPostReaction(postId: $id, emoji: "${'😀'.repeat(1000)}", reacted: true) { id } }`, { id: postId }],
      [`mutation($id: ID!) { setPostReaction(postId: $id, emoji: "<script>", reacted: true) { id } }`, { id: postId }],
      [`mutation($id: ID!) { votePoll(postId: $id, optionIds: ["x"]) { id } }`, { id: postId }],
      [`mutation($id: ID!) { createComment(postId: $id, body: "${'c'.repeat(10_001)}") { id } }`, { id: postId }],
      [`mutation($id: ID!) { createComment(postId: $id, parentId: "nope", body: "hi") { id } }`, { id: postId }],
      [`mutation($id: ID!) { removePost(id: $id, reason: "${'r'.repeat(501)}") { id } }`, { id: postId }],
    ];
    for (const [query, vars] of bad) {
      const r = await p.gql(query, vars, { token });
      expect(codeOf(r), query.slice(0, 90)).toBe('BAD_USER_INPUT');
    }
    // Far larger pages are refused by the gateway's cost limit before the service sees them.
    expect(codeOf(await p.gql(`query($id: ID!) { post(id: $id) { comments(first: 100000) { nodes { id } } } }`, { id: postId }))).toBe('QUERY_TOO_COSTLY');
    // A malformed post id is simply no post (as a wrong address is a 404).
    expect((await p.gql(`query($id: ID!) { post(id: $id) { id } }`, { id: "1' or '1'='1" })).data.post).toBeNull();
    // Forged cursors that decode fine are just positions: a random one gives a page, not an error.
    const forged = Buffer.from(JSON.stringify(['1970-01-01T00:00:00.000Z', crypto.randomUUID()])).toString('base64url');
    const r = await p.gql(`query($c: ID!, $a: String) { feed(communityId: $c, after: $a) { posts { id } } }`, { c: communityId, a: forged });
    expect(r.errors).toBeUndefined();
    expect(r.data.feed.posts).toEqual([]);
  });

  it('refuses query bombs at the gateway before they reach the posts service', async () => {
    // Aliases multiplying an expensive field.
    const aliases = Array.from({ length: 300 }, (_, i) => `a${i}: post(id: "${postId}") { id }`).join(' ');
    expect(codeOf(await p.gql(`{ ${aliases} }`))).toBe('TOO_MANY_ALIASES');
    // Replies of replies of replies…: Comment.replies nests without end in the schema.
    const deep = `{ post(id: "${postId}") { comments { nodes { ${'replies { '.repeat(30)}id${' }'.repeat(30)} } } } }`;
    expect(codeOf(await p.gql(deep))).toBe('QUERY_TOO_DEEP');
    // Pages of pages: 100 posts x 200 comments x 200 reactors each.
    const costly = `{ feed(communityId: "${communityId}", first: 100) { posts { comments(first: 200) { nodes { reactors(emoji: "👍", first: 200) { id } } } } } }`;
    expect(codeOf(await p.gql(costly))).toBe('QUERY_TOO_COSTLY');
    const huge = `{ feed(communityId: "${communityId}") { posts { ${'id '.repeat(20_000)} } } }`;
    expect(codeOf(await p.gql(huge))).toMatch(/^[A-Z_]+$/);
    expect(codeOf(await p.gql(huge))).not.toBe('INTERNAL_SERVER_ERROR');
  });
});

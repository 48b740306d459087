import { codeOf, distributedServicesAvailable, modes, startTestPlatform, type TestPlatform } from '@circles/testing';
import { sql } from 'kysely';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const canRunDistributed = await distributedServicesAvailable();
const pw = 'violet-kettle-sunrise-42';

const POST_FIELDS = `id title body bodyHtml excerpt status removalReason accessible public pinned locked commentCount reactionCount
  author { id handle } mentions { id handle } reactions { emoji count viewerReacted } isNew createdAt editedAt
  viewerCanEdit viewerCanDelete viewerCanModerate viewerCanComment
  poll { question multipleChoice closed voterCount viewerVotes viewerCanVote options { id label votes } }
  revisions { title body editor { id } }`;
const CREATE = `mutation($input: CreatePostInput!) { createPost(input: $input) { ${POST_FIELDS} } }`;
const GET = `query($id: ID!) { post(id: $id) { ${POST_FIELDS} } }`;
const FEED = `query($c: ID!, $s: ID, $sort: FeedSort, $period: TopPeriod, $first: Int, $after: String) {
  feed(communityId: $c, spaceId: $s, sort: $sort, period: $period, first: $first, after: $after) {
    pinned { id title } posts { id title isNew accessible commentCount reactionCount } endCursor hasNextPage lastVisitAt } }`;
const COMMENT = `mutation($p: ID!, $parent: ID, $body: String!) { createComment(postId: $p, parentId: $parent, body: $body) { id depth parentId bodyHtml author { handle } } }`;
const COMMENTS = `query($id: ID!, $sort: CommentSort, $first: Int, $after: String) { post(id: $id) { commentCount
  comments(sort: $sort, first: $first, after: $after) { totalCount endCursor hasNextPage
    nodes { id body status depth author { handle } reactionCount reactions { emoji count viewerReacted } replyCount
      replies { id parentId depth body status author { handle } } } } } }`;

describe.each(modes)('posts service (%s)', (mode) => {
  let p: TestPlatform;
  const run = mode === 'embedded' || canRunDistributed;
  const tokens: Record<string, string> = {};
  const ids: Record<string, string> = {};
  let community: { id: string; center: string };
  let circle: string;
  let hiddenCircle: string;

  const as = (who: string | null) => (who ? { token: tokens[who] } : {});
  const ok = async (query: string, vars: Record<string, unknown>, who: string | null) => {
    const r = await p.gql(query, vars, as(who));
    expect(r.errors, JSON.stringify(r.errors)).toBeUndefined();
    return r.data;
  };
  const createPost = async (who: string, input: Record<string, unknown>) =>
    (await ok(CREATE, { input: { communityId: community.id, spaceId: community.center, ...input } }, who)).createPost;

  beforeAll(async () => {
    if (!run) return;
    p = await startTestPlatform(mode);
    for (const who of ['olga', 'mike', 'nina', 'omar', 'mod']) {
      const r = await p.gql(`mutation($input: SignUpInput!) { signUp(input: $input) { token account { id } } }`, {
        input: { email: `${who}@example.com`, password: pw, handle: who === 'mod' ? 'modmax' : who, displayName: who, delivery: 'BEARER' },
      });
      tokens[who] = r.data.signUp.token;
      ids[who] = r.data.signUp.account.id;
    }
    const c = await ok(`mutation { createCommunity(input: { name: "Bakers", slug: "bakers" }) { id publicCenter { id } } }`, {}, 'olga');
    community = { id: c.createCommunity.id, center: c.createCommunity.publicCenter.id };
    for (const who of ['mike', 'nina', 'mod']) await ok(`mutation($id: ID!) { joinCommunity(id: $id) { id } }`, { id: community.id }, who);
    await ok(`mutation($c: ID!, $u: ID!) { setMemberRole(communityId: $c, userId: $u, role: MODERATOR) { role } }`, { c: community.id, u: ids.mod }, 'olga');
    const mk = async (name: string, hidden: boolean) =>
      (await ok(`mutation($c: ID!, $i: CreateCircleInput!) { createCircle(communityId: $c, input: $i) { id } }`, { c: community.id, i: { name, access: 'INVITE', hidden } }, 'olga')).createCircle.id;
    circle = await mk('Pro Bakers', false);
    hiddenCircle = await mk('Secret Recipes', true);
    await ok(`mutation($s: ID!, $u: ID!) { addCircleMember(circleId: $s, userId: $u) { user { id } } }`, { s: circle, u: ids.mike }, 'olga');
    // Profiles reach posts through the auth.user.registered event: wait until @mentions resolve.
    for (let i = 0; i < 150; i++) {
      const row = (await p.infra.database!.db.selectFrom('posts.profiles' as never).select(sql`count(*)::int`.as('n')).executeTakeFirst()) as { n: number };
      if (row.n >= 5) break;
      await new Promise((r) => setTimeout(r, 100));
    }
  });
  afterAll(async () => {
    await p?.stop();
  });

  it.runIf(run)('writes a post in the Public Center: Markdown to safe HTML, @mentions, readable by anyone', async () => {
    const post = await createPost('olga', {
      title: 'Starter tips',
      body: '**Feed** your starter daily, @mike and @nobody.\n\n<script>alert(1)</script> [x](javascript:alert(1)) [site](https://example.com)',
    });
    expect(post).toMatchObject({ title: 'Starter tips', status: 'PUBLISHED', accessible: true, public: true, author: { handle: 'olga' }, viewerCanEdit: true, viewerCanModerate: true });
    expect(post.bodyHtml).toContain('<strong>Feed</strong>');
    expect(post.bodyHtml).not.toContain('<script');
    expect(post.bodyHtml).not.toMatch(/href="javascript:/i);
    expect(post.bodyHtml).toContain('rel="nofollow ugc noopener"');
    expect(post.mentions).toEqual([{ id: ids.mike, handle: 'mike' }]);
    const anon = (await ok(GET, { id: post.id }, null)).post;
    expect(anon).toMatchObject({ title: 'Starter tips', accessible: true, viewerCanComment: false, viewerCanEdit: false });
    // Outsiders (signed in, not members) read the public post too but cannot comment.
    expect((await ok(GET, { id: post.id }, 'omar')).post.viewerCanComment).toBe(false);
    const refused = await p.gql(CREATE, { input: { communityId: community.id, spaceId: community.center, body: 'hi' } }, as('omar'));
    expect(codeOf(refused)).toBe('FORBIDDEN');
    expect(codeOf(await p.gql(CREATE, { input: { communityId: community.id, spaceId: community.center, body: 'hi' } }))).toBe('UNAUTHENTICATED');
    expect(codeOf(await p.gql(CREATE, { input: { communityId: community.id, spaceId: community.center, body: '   ' } }, as('mike')))).toBe('BAD_USER_INPUT');
    expect(codeOf(await p.gql(CREATE, { input: { communityId: community.id, spaceId: community.center, body: 'x'.repeat(40_001) } }, as('mike')))).toBe('BAD_USER_INPUT');
    expect(codeOf(await p.gql(CREATE, { input: { communityId: community.id, spaceId: 'not-an-id', body: 'x' } }, as('mike')))).toBe('BAD_USER_INPUT');
  });

  it.runIf(run)('edits keep a visible history; the author deletes to a tombstone', async () => {
    const post = await createPost('mike', { title: 'Rye ratio', body: 'Use 20% rye.' });
    const edited = (await ok(`mutation($id: ID!, $i: UpdatePostInput!) { updatePost(id: $id, input: $i) { ${POST_FIELDS} } }`, { id: post.id, i: { body: 'Use 30% rye.' } }, 'mike')).updatePost;
    expect(edited.body).toBe('Use 30% rye.');
    expect(edited.editedAt).not.toBeNull();
    const again = (await ok(`mutation($id: ID!, $i: UpdatePostInput!) { updatePost(id: $id, input: $i) { ${POST_FIELDS} } }`, { id: post.id, i: { title: 'Rye ratios' } }, 'mike')).updatePost;
    // Every reader sees the history, newest first.
    const seen = (await ok(GET, { id: post.id }, null)).post;
    expect(seen.revisions.map((r: { title: string; body: string }) => [r.title, r.body])).toEqual([
      ['Rye ratio', 'Use 30% rye.'],
      ['Rye ratio', 'Use 20% rye.'],
    ]);
    expect(again.revisions[0].editor.id).toBe(ids.mike);
    expect(codeOf(await p.gql(`mutation($id: ID!) { updatePost(id: $id, input: { body: "mine now" }) { id } }`, { id: post.id }, as('nina')))).toBe('FORBIDDEN');
    expect(codeOf(await p.gql(`mutation($id: ID!) { deletePost(id: $id) { id } }`, { id: post.id }, as('olga')))).toBe('FORBIDDEN');

    await ok(COMMENT, { p: post.id, body: 'Thanks!' }, 'nina');
    const deleted = (await ok(`mutation($id: ID!) { deletePost(id: $id) { ${POST_FIELDS} } }`, { id: post.id }, 'mike')).deletePost;
    expect(deleted).toMatchObject({ status: 'DELETED', title: null, body: null, author: null, revisions: [] });
    const tomb = (await ok(COMMENTS, { id: post.id }, 'nina')).post;
    expect(tomb.comments.nodes).toHaveLength(1); // the thread keeps its comments under the tombstone
    const feed = (await ok(FEED, { c: community.id }, 'nina')).feed;
    expect(feed.posts.map((x: { id: string }) => x.id)).not.toContain(post.id);
    // Nothing of the text survives in the database.
    const row = await p.infra.database!.db.selectFrom('posts.posts' as never).selectAll().where('id' as never, '=', post.id as never).executeTakeFirst() as { body: string; title: string | null };
    expect(row).toMatchObject({ body: '', title: null });
  });

  it.runIf(run)('moderators remove with a reason the author sees; others see a tombstone; restore brings it back', async () => {
    const post = await createPost('nina', { title: 'Buy my stuff', body: 'spam spam' });
    expect(codeOf(await p.gql(`mutation($id: ID!) { removePost(id: $id, reason: "spam") { id } }`, { id: post.id }, as('mike')))).toBe('FORBIDDEN');
    expect(codeOf(await p.gql(`mutation($id: ID!) { removePost(id: $id, reason: "  ") { id } }`, { id: post.id }, as('mod')))).toBe('BAD_USER_INPUT');
    const removed = (await ok(`mutation($id: ID!) { removePost(id: $id, reason: "Advertising is not allowed") { ${POST_FIELDS} } }`, { id: post.id }, 'mod')).removePost;
    expect(removed).toMatchObject({ status: 'REMOVED', removalReason: 'Advertising is not allowed', title: 'Buy my stuff' });
    expect((await ok(GET, { id: post.id }, 'nina')).post).toMatchObject({ status: 'REMOVED', removalReason: 'Advertising is not allowed', body: 'spam spam' });
    expect((await ok(GET, { id: post.id }, 'mike')).post).toMatchObject({ status: 'REMOVED', removalReason: null, body: null, title: null, author: null });
    expect((await ok(GET, { id: post.id }, null)).post).toMatchObject({ status: 'REMOVED', body: null });
    expect(codeOf(await p.gql(COMMENT, { p: post.id, body: 'hi' }, as('mike')))).toBe('BAD_USER_INPUT');
    const restored = (await ok(`mutation($id: ID!) { restorePost(id: $id) { status removalReason } }`, { id: post.id }, 'mod')).restorePost;
    expect(restored).toEqual({ status: 'PUBLISHED', removalReason: null });
    // The removal is in the community's audit trail, with the reason.
    await expect
      .poll(async () => {
        const log = await ok(`query($c: ID!) { auditLog(communityId: $c, action: "post.remove") { action targetId } }`, { c: community.id }, 'olga');
        return log.auditLog.map((a: { targetId: string }) => a.targetId);
      })
      .toContain(post.id);
  });

  it.runIf(run)('threads comments several levels deep, sorts them, edits and deletes them', async () => {
    const post = await createPost('olga', { title: 'Hydration', body: 'What hydration do you use?' });
    const a = (await ok(COMMENT, { p: post.id, body: '70%' }, 'mike')).createComment;
    const b = (await ok(COMMENT, { p: post.id, body: '80%' }, 'nina')).createComment;
    const a1 = (await ok(COMMENT, { p: post.id, parent: a.id, body: 'same here' }, 'nina')).createComment;
    const a11 = (await ok(COMMENT, { p: post.id, parent: a1.id, body: 'and me' }, 'olga')).createComment;
    let deepest = a11;
    for (let i = 0; i < 4; i++) deepest = (await ok(COMMENT, { p: post.id, parent: deepest.id, body: `deeper ${i}` }, 'mike')).createComment;
    expect([a.depth, a1.depth, a11.depth, deepest.depth]).toEqual([0, 1, 2, 4]);
    await ok(`mutation($id: ID!) { setCommentReaction(commentId: $id, emoji: "👍", reacted: true) { id } }`, { id: b.id }, 'mike');
    const oldest = (await ok(COMMENTS, { id: post.id }, 'olga')).post;
    expect(oldest.commentCount).toBe(8);
    expect(oldest.comments.nodes.map((c: { body: string }) => c.body)).toEqual(['70%', '80%']);
    const thread = oldest.comments.nodes[0];
    expect(thread.replyCount).toBe(6);
    expect(thread.replies.slice(0, 2).map((r: { body: string; depth: number }) => [r.body, r.depth])).toEqual([
      ['same here', 1],
      ['and me', 2],
    ]);
    expect((await ok(COMMENTS, { id: post.id, sort: 'NEWEST' }, 'olga')).post.comments.nodes.map((c: { body: string }) => c.body)).toEqual(['80%', '70%']);
    expect((await ok(COMMENTS, { id: post.id, sort: 'TOP' }, 'olga')).post.comments.nodes[0].body).toBe('80%');
    // Paging top-level comments.
    const page1 = (await ok(COMMENTS, { id: post.id, first: 1 }, 'olga')).post.comments;
    expect(page1).toMatchObject({ hasNextPage: true });
    const page2 = (await ok(COMMENTS, { id: post.id, first: 1, after: page1.endCursor }, 'olga')).post.comments;
    expect(page2.nodes.map((c: { body: string }) => c.body)).toEqual(['80%']);
    expect(codeOf(await p.gql(COMMENTS, { id: post.id, after: 'garbage' }, as('olga')))).toBe('BAD_USER_INPUT');

    const edited = (await ok(`mutation($id: ID!) { updateComment(id: $id, body: "75% actually") { body editedAt } }`, { id: a.id }, 'mike')).updateComment;
    expect(edited.editedAt).not.toBeNull();
    expect(codeOf(await p.gql(`mutation($id: ID!) { updateComment(id: $id, body: "nope") { id } }`, { id: a.id }, as('nina')))).toBe('FORBIDDEN');
    const gone = (await ok(`mutation($id: ID!) { deleteComment(id: $id) { status body author { id } } }`, { id: a1.id }, 'nina')).deleteComment;
    expect(gone).toEqual({ status: 'DELETED', body: null, author: null });
    const after = (await ok(COMMENTS, { id: post.id }, 'olga')).post;
    expect(after.commentCount).toBe(7);
    expect(after.comments.nodes[0].replies[0]).toMatchObject({ status: 'DELETED', body: null });
    expect(after.comments.nodes[0].replies[1].body).toBe('and me');
    const removed = (await ok(`mutation($id: ID!) { removeComment(id: $id, reason: "rude") { status removalReason } }`, { id: b.id }, 'mod')).removeComment;
    expect(removed.status).toBe('REMOVED');
  });

  it.runIf(run)('reactions: one of each emoji per member, counts and who reacted', async () => {
    const post = await createPost('olga', { body: 'Crumb shot' });
    const react = (who: string, emoji: string, reacted = true) =>
      p.gql(`mutation($id: ID!, $e: String!, $r: Boolean!) { setPostReaction(postId: $id, emoji: $e, reacted: $r) { reactionCount reactions { emoji count viewerReacted } } }`, { id: post.id, e: emoji, r: reacted }, as(who));
    await react('mike', '🔥');
    await react('mike', '🔥'); // twice is once
    await react('nina', '🔥');
    const r = await react('nina', '👍🏽');
    expect(r.data.setPostReaction).toEqual({
      reactionCount: 3,
      reactions: [
        { emoji: '🔥', count: 2, viewerReacted: true },
        { emoji: '👍🏽', count: 1, viewerReacted: true },
      ],
    });
    const who = await ok(`query($id: ID!) { post(id: $id) { reactors(emoji: "🔥") { handle } } }`, { id: post.id }, null);
    expect(who.post.reactors.map((u: { handle: string }) => u.handle).sort()).toEqual(['mike', 'nina']);
    expect(codeOf(await react('nina', 'lol'))).toBe('BAD_USER_INPUT');
    expect(codeOf(await react('nina', '🔥🔥'))).toBe('BAD_USER_INPUT');
    expect(codeOf(await react('omar', '🔥'))).toBe('FORBIDDEN');
    expect(codeOf(await react(null as never, '🔥'))).toBe('UNAUTHENTICATED');
    const back = await react('mike', '🔥', false);
    expect(back.data.setPostReaction.reactions[0]).toEqual({ emoji: '🔥', count: 1, viewerReacted: false });
  });

  it.runIf(run)('polls: single and multiple choice, one vote per member, results, closing', async () => {
    const single = await createPost('olga', { body: 'Favourite flour?', poll: { question: 'Flour', options: ['Rye', 'Spelt', 'Wheat'] } });
    expect(single.poll).toMatchObject({ multipleChoice: false, closed: false, voterCount: 0, viewerCanVote: true });
    const [rye, spelt] = single.poll.options.map((o: { id: string }) => o.id);
    const vote = (who: string, postId: string, optionIds: string[]) =>
      p.gql(`mutation($p: ID!, $o: [ID!]!) { votePoll(postId: $p, optionIds: $o) { poll { voterCount viewerVotes options { label votes } } } }`, { p: postId, o: optionIds }, as(who));
    await vote('mike', single.id, [rye]);
    await vote('mike', single.id, [spelt]); // changes the vote, still one voter
    const r = await vote('nina', single.id, [spelt]);
    expect(r.data.votePoll.poll).toEqual({
      voterCount: 2,
      viewerVotes: [spelt],
      options: [
        { label: 'Rye', votes: 0 },
        { label: 'Spelt', votes: 2 },
        { label: 'Wheat', votes: 0 },
      ],
    });
    expect(codeOf(await vote('nina', single.id, [rye, spelt]))).toBe('BAD_USER_INPUT');
    expect(codeOf(await vote('omar', single.id, [rye]))).toBe('FORBIDDEN');
    const multi = await createPost('olga', { body: 'Which days?', poll: { options: ['Mon', 'Tue', 'Wed'], multipleChoice: true } });
    const [mon, tue] = multi.poll.options.map((o: { id: string }) => o.id);
    const m = await vote('mike', multi.id, [mon, tue]);
    expect(m.data.votePoll.poll.voterCount).toBe(1);
    expect(m.data.votePoll.poll.options.map((o: { votes: number }) => o.votes)).toEqual([1, 1, 0]);
    expect(codeOf(await vote('mike', multi.id, [single.poll.options[0].id]))).toBe('BAD_USER_INPUT');
    // Bad polls are refused with the field named.
    const bad = await p.gql(CREATE, { input: { communityId: community.id, spaceId: community.center, body: 'x', poll: { options: ['only one'] } } }, as('olga'));
    expect(bad.errors?.[0]?.extensions?.field).toBe('poll.options');
    const past = await p.gql(CREATE, { input: { communityId: community.id, spaceId: community.center, body: 'x', poll: { options: ['a', 'b'], closesAt: new Date(Date.now() - 1000).toISOString() } } }, as('olga'));
    expect(codeOf(past)).toBe('BAD_USER_INPUT');
    // A poll that has closed takes no votes.
    const closing = await createPost('olga', { body: 'Quick one', poll: { options: ['a', 'b'], closesAt: new Date(Date.now() + 1500).toISOString() } });
    await new Promise((r) => setTimeout(r, 1600));
    expect(codeOf(await vote('mike', closing.id, [closing.poll.options[0].id]))).toBe('BAD_USER_INPUT');
    expect((await ok(GET, { id: closing.id }, 'mike')).post.poll).toMatchObject({ closed: true, viewerCanVote: false });
  });

  it.runIf(run)('gated circles: members read, non-members get a teaser, hidden circles stay hidden', async () => {
    const post = await createPost('mike', { spaceId: circle, title: 'Pro lamination', body: 'The secret is cold butter and patience. '.repeat(20) });
    expect(post.public).toBe(false);
    const teaser = (await ok(GET, { id: post.id }, 'nina')).post;
    expect(teaser).toMatchObject({ accessible: false, title: 'Pro lamination', body: null, bodyHtml: null, viewerCanComment: false });
    expect(teaser.excerpt.length).toBeLessThanOrEqual(280);
    expect((await ok(GET, { id: post.id }, null)).post).toMatchObject({ accessible: false, body: null });
    expect(codeOf(await p.gql(COMMENT, { p: post.id, body: 'let me in' }, as('nina')))).toBe('FORBIDDEN');
    expect((await ok(COMMENTS, { id: post.id }, 'nina')).post.comments.nodes).toEqual([]);
    expect(codeOf(await p.gql(CREATE, { input: { communityId: community.id, spaceId: circle, body: 'hi' } }, as('nina')))).toBe('FORBIDDEN');
    // The circle's feed shows non-members teasers; the home feed only what they may read.
    const circleFeed = (await ok(FEED, { c: community.id, s: circle }, 'nina')).feed;
    expect(circleFeed.posts[0]).toMatchObject({ id: post.id, accessible: false });
    expect((await ok(FEED, { c: community.id }, 'nina')).feed.posts.map((x: { id: string }) => x.id)).not.toContain(post.id);
    expect((await ok(FEED, { c: community.id }, 'mike')).feed.posts.map((x: { id: string }) => x.id)).toContain(post.id);

    const secret = await createPost('olga', { spaceId: hiddenCircle, body: 'hidden' });
    expect((await ok(GET, { id: secret.id }, 'nina')).post).toBeNull();
    expect(codeOf(await p.gql(FEED, { c: community.id, s: hiddenCircle }, as('nina')))).toBe('NOT_FOUND');
    expect((await ok(GET, { id: secret.id }, 'olga')).post.body).toBe('hidden');
    const files = await p.gql(`query($c: ID!, $s: ID!) { spaceFiles(communityId: $c, spaceId: $s) { files { id } } }`, { c: community.id, s: circle }, as('nina'));
    expect(codeOf(files)).toBe('FORBIDDEN');
  });

  it.runIf(run)('feeds: per space and home, new/top/active, cursor pages, pins and new since the last visit', async () => {
    const c2 = (await ok(`mutation { createCommunity(input: { name: "Feeds", slug: "feeds-club" }) { id publicCenter { id } } }`, {}, 'olga')).createCommunity;
    await ok(`mutation($id: ID!) { joinCommunity(id: $id) { id } }`, { id: c2.id }, 'mike');
    await ok(`mutation($c: ID!) { markFeedSeen(communityId: $c) }`, { c: c2.id }, 'mike');
    const made: string[] = [];
    for (let i = 0; i < 7; i++) {
      const r = await ok(CREATE, { input: { communityId: c2.id, spaceId: c2.publicCenter.id, title: `Post ${i}`, body: `Body ${i}` } }, 'olga');
      made.push(r.createPost.id);
    }
    const seen: string[] = [];
    let after: string | null = null;
    let first = true;
    for (;;) {
      const page: { posts: { id: string; isNew: boolean }[]; endCursor: string | null; hasNextPage: boolean; lastVisitAt: string | null } = (
        await ok(FEED, { c: c2.id, first: 3, after }, 'mike')
      ).feed;
      if (first) expect(page.lastVisitAt).not.toBeNull();
      first = false;
      expect(page.posts.every((x) => x.isNew)).toBe(true);
      seen.push(...page.posts.map((x) => x.id));
      if (!page.hasNextPage) break;
      after = page.endCursor;
    }
    expect(seen).toEqual([...made].reverse());
    // Top: the post with reactions and comments leads; active: the one commented on last.
    await ok(`mutation($id: ID!) { setPostReaction(postId: $id, emoji: "❤️", reacted: true) { id } }`, { id: made[2] }, 'mike');
    await ok(COMMENT, { p: made[4], body: 'bump' }, 'mike');
    await ok(COMMENT, { p: made[4], body: 'bump again' }, 'mike');
    await ok(COMMENT, { p: made[1], body: 'latest' }, 'mike');
    const top = (await ok(FEED, { c: c2.id, sort: 'TOP', period: 'DAY' }, null)).feed.posts.map((x: { id: string }) => x.id);
    expect(top.slice(0, 3)).toEqual([made[4], made[1], made[2]]);
    const topPaged = (await ok(FEED, { c: c2.id, sort: 'TOP', period: 'ALL', first: 2 }, null)).feed;
    const topNext = (await ok(FEED, { c: c2.id, sort: 'TOP', period: 'ALL', first: 10, after: topPaged.endCursor }, null)).feed;
    expect([...topPaged.posts, ...topNext.posts].map((x: { id: string }) => x.id).sort()).toEqual([...made].sort());
    const active = (await ok(FEED, { c: c2.id, sort: 'ACTIVE' }, null)).feed.posts.map((x: { id: string }) => x.id);
    expect(active[0]).toBe(made[1]);
    // Pinned posts sit above the feed, once.
    await ok(`mutation($id: ID!) { pinPost(id: $id, pinned: true) { pinned } }`, { id: made[0] }, 'olga');
    const pinnedFeed = (await ok(FEED, { c: c2.id, s: c2.publicCenter.id }, null)).feed;
    expect(pinnedFeed.pinned.map((x: { id: string }) => x.id)).toEqual([made[0]]);
    expect(pinnedFeed.posts.map((x: { id: string }) => x.id)).not.toContain(made[0]);
    expect(codeOf(await p.gql(`mutation($id: ID!) { pinPost(id: $id, pinned: true) { pinned } }`, { id: made[1] }, as('mike')))).toBe('FORBIDDEN');
    // After marking the feed seen, nothing is new.
    await ok(`mutation($c: ID!) { markFeedSeen(communityId: $c) }`, { c: c2.id }, 'mike');
    expect((await ok(FEED, { c: c2.id }, 'mike')).feed.posts.some((x: { isNew: boolean }) => x.isNew)).toBe(false);
    expect(codeOf(await p.gql(FEED, { c: c2.id, first: 0 }))).toBe('BAD_USER_INPUT');
    expect(codeOf(await p.gql(FEED, { c: c2.id, first: 1000 }))).toBe('BAD_USER_INPUT');
  });

  it.runIf(run)('locked posts take comments from moderators only; archived communities take none', async () => {
    const post = await createPost('mike', { body: 'Heated topic' });
    await ok(`mutation($id: ID!) { lockPost(id: $id, locked: true) { locked } }`, { id: post.id }, 'mod');
    expect(codeOf(await p.gql(COMMENT, { p: post.id, body: 'but' }, as('nina')))).toBe('FORBIDDEN');
    expect((await ok(GET, { id: post.id }, 'nina')).post.viewerCanComment).toBe(false);
    // A lock stops comments, not reactions.
    expect((await ok(`query($id: ID!) { post(id: $id) { viewerCanReact } }`, { id: post.id }, 'nina')).post.viewerCanReact).toBe(true);
    await ok(`mutation($id: ID!) { setPostReaction(postId: $id, emoji: "🙏", reacted: true) { id } }`, { id: post.id }, 'nina');
    expect((await ok(`query($id: ID!) { post(id: $id) { viewerCanReact } }`, { id: post.id }, null)).post.viewerCanReact).toBe(false);
    await ok(COMMENT, { p: post.id, body: 'Locked: please be kind.' }, 'mod');
    const c3 = (await ok(`mutation { createCommunity(input: { name: "Old", slug: "old-club" }) { id publicCenter { id } } }`, {}, 'olga')).createCommunity;
    const old = (await ok(CREATE, { input: { communityId: c3.id, spaceId: c3.publicCenter.id, body: 'last words' } }, 'olga')).createPost;
    await ok(`mutation($id: ID!) { archiveCommunity(id: $id, confirmSlug: "old-club") { id } }`, { id: c3.id }, 'olga');
    expect(codeOf(await p.gql(CREATE, { input: { communityId: c3.id, spaceId: c3.publicCenter.id, body: 'more' } }, as('olga')))).toBe('FORBIDDEN');
    expect(codeOf(await p.gql(COMMENT, { p: old.id, body: 'hello?' }, as('olga')))).toBe('FORBIDDEN');
    expect((await ok(GET, { id: old.id }, null)).post.body).toBe('last words');
  });

  it.runIf(run)('attachments: claimed on posting, signed links, the file library with filters, released on edit and delete', async () => {
    const upload = async (who: string, name: string, bytes: Buffer) => {
      const res = await fetch(`${p.url}/media/files?name=${encodeURIComponent(name)}`, { method: 'POST', headers: { authorization: `Bearer ${tokens[who]}` }, body: new Uint8Array(bytes) });
      expect(res.status, await res.clone().text()).toBe(201);
      return (await res.json()) as { id: string; kind: string };
    };
    const png = await sharp({ create: { width: 900, height: 600, channels: 3, background: '#884422' } }).png().toBuffer();
    const pdf = Buffer.from('%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n');
    const img = await upload('mike', 'crumb.png', png);
    const doc = await upload('mike', 'recipe.pdf', pdf);
    const ATT = `attachments { id name kind contentType bytes width height url thumbUrl uploader { handle } }`;
    // Someone else's upload cannot be attached.
    const stolen = await p.gql(CREATE, { input: { communityId: community.id, spaceId: circle, body: 'mine', attachments: [img.id] } }, as('olga'));
    expect(stolen.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'attachments' });
    const made = await p.gql(`mutation($i: CreatePostInput!) { createPost(input: $i) { id ${ATT} } }`, { i: { communityId: community.id, spaceId: circle, body: 'Crumb and recipe', attachments: [img.id, doc.id] } }, as('mike'));
    expect(made.errors).toBeUndefined();
    const post = made.data.createPost;
    expect(post.attachments.map((a: { name: string; kind: string }) => [a.name, a.kind])).toEqual([
      ['crumb.png', 'IMAGE'],
      ['recipe.pdf', 'DOCUMENT'],
    ]);
    const [image, file] = post.attachments;
    expect(image).toMatchObject({ contentType: 'image/webp', width: 900, height: 600, uploader: { handle: 'mike' } });
    expect(image.url).toMatch(/^\/media\/files\/[0-9a-f-]{36}\/main\?exp=\d+&sig=/);
    expect(file.thumbUrl).toBeNull();
    // Circle attachments get short-lived links (minutes, not days).
    const exp = Number(new URL(image.url, p.url).searchParams.get('exp')) * 1000;
    expect(exp - Date.now()).toBeLessThan(31 * 60_000);
    const got = await fetch(new URL(file.url, p.url));
    expect(got.status).toBe(200);
    expect(Buffer.from(await got.arrayBuffer()).equals(pdf)).toBe(true);
    expect((await fetch(new URL(image.thumbUrl, p.url))).status).toBe(200);
    // The circle's file library, filtered by kind and uploader; outsiders of the circle get no library.
    const lib = (kind?: string, uploaderId?: string) =>
      ok(`query($c: ID!, $s: ID!, $k: FileKind, $u: ID) { spaceFiles(communityId: $c, spaceId: $s, kind: $k, uploaderId: $u) { files { name kind postId } hasNextPage } }`, { c: community.id, s: circle, k: kind, u: uploaderId }, 'mike');
    expect((await lib()).spaceFiles.files.map((f: { name: string }) => f.name)).toEqual(expect.arrayContaining(['crumb.png', 'recipe.pdf']));
    expect((await lib('DOCUMENT')).spaceFiles.files.map((f: { name: string }) => f.name)).toEqual(['recipe.pdf']);
    expect((await lib(undefined, ids.olga)).spaceFiles.files).toEqual([]);
    // Editing drops the PDF (its bytes go) and keeps the image.
    const edited = await p.gql(`mutation($id: ID!, $i: UpdatePostInput!) { updatePost(id: $id, input: $i) { ${ATT} } }`, { id: post.id, i: { attachments: [img.id] } }, as('mike'));
    expect(edited.data.updatePost.attachments.map((a: { name: string }) => a.name)).toEqual(['crumb.png']);
    await expect.poll(async () => (await fetch(new URL(file.url, p.url))).status).toBe(404);
    expect((await lib('DOCUMENT')).spaceFiles.files).toEqual([]);
    // Deleting the post deletes the image too.
    await ok(`mutation($id: ID!) { deletePost(id: $id) { id } }`, { id: post.id }, 'mike');
    await expect.poll(async () => (await fetch(new URL(image.url, p.url))).status).toBe(404);
    expect((await lib()).spaceFiles.files.map((f: { postId: string }) => f.postId)).not.toContain(post.id);
    // Public Center attachments get long-lived links (days), so public pages cache well.
    const pub = await upload('mike', 'public.png', png);
    const pubPost = await p.gql(`mutation($i: CreatePostInput!) { createPost(input: $i) { attachments { url } } }`, { i: { communityId: community.id, spaceId: community.center, body: 'open', attachments: [pub.id] } }, as('mike'));
    const pubExp = Number(new URL(pubPost.data.createPost.attachments[0].url, p.url).searchParams.get('exp')) * 1000;
    expect(pubExp - Date.now()).toBeGreaterThan(86_400_000);
  });

  it.runIf(run)('every change is an outbox event carrying what search, notifications and analytics need', async () => {
    const post = await createPost('olga', { title: 'Evented', body: 'Hello @mike' });
    const comment = (await ok(COMMENT, { p: post.id, body: 'Hi @olga' }, 'mike')).createComment;
    await ok(`mutation($id: ID!) { setPostReaction(postId: $id, emoji: "🎉", reacted: true) { id } }`, { id: post.id }, 'nina');
    await ok(`mutation($id: ID!) { setPostReaction(postId: $id, emoji: "🎉", reacted: false) { id } }`, { id: post.id }, 'nina');
    await ok(`mutation($id: ID!) { updatePost(id: $id, input: { body: "Hello @mike and @nina" }) { id } }`, { id: post.id }, 'olga');
    await ok(`mutation($id: ID!) { updateComment(id: $id, body: "Hi!") { id } }`, { id: comment.id }, 'mike');
    await ok(`mutation($id: ID!) { deleteComment(id: $id) { id } }`, { id: comment.id }, 'mike');
    await ok(`mutation($id: ID!) { removePost(id: $id, reason: "test") { id } }`, { id: post.id }, 'mod');
    // The relay moves outbox rows to the event log: read what consumers will see (a new consumer starts from the beginning).
    const seen: { topic: string; payload: any }[] = [];
    const sub = await p.infra.eventLog.consume({
      consumer: `posts-test-${mode}-${Date.now()}`,
      topics: ['posts.post_created', 'posts.post_edited', 'posts.comment_created', 'posts.comment_edited', 'posts.comment_deleted', 'posts.reaction_added', 'posts.reaction_removed', 'posts.post_removed'],
      handler: async (e) => void seen.push({ topic: e.topic, payload: e.payload }),
    });
    try {
      await expect.poll(() => seen.filter((e) => [e.payload.postId].includes(post.id)).map((e) => e.topic).sort()).toEqual(
        ['posts.comment_created', 'posts.comment_deleted', 'posts.comment_edited', 'posts.post_created', 'posts.post_edited', 'posts.post_removed', 'posts.reaction_added', 'posts.reaction_removed'].sort(),
      );
    } finally {
      await sub.stop();
    }
    const byTopic = Object.fromEntries(seen.filter((e) => e.payload.postId === post.id).map((e) => [e.topic, e.payload]));
    expect(byTopic['posts.post_created']).toMatchObject({ communityId: community.id, spaceId: community.center, authorId: ids.olga, title: 'Evented', text: 'Hello @mike', mentions: [ids.mike], public: true, spaceKind: 'public_center' });
    expect(byTopic['posts.post_edited']).toMatchObject({ newMentions: [ids.nina], editorId: ids.olga });
    expect(byTopic['posts.comment_created']).toMatchObject({ commentId: comment.id, authorId: ids.mike, postAuthorId: ids.olga, mentions: [ids.olga] });
    expect(byTopic['posts.reaction_added']).toMatchObject({ targetType: 'post', userId: ids.nina, emoji: '🎉', targetAuthorId: ids.olga });
    expect(byTopic['posts.post_removed']).toMatchObject({ moderatorId: ids.mod, reason: 'test' });
  });

  it.runIf(run)('deleting a circle deletes its posts', async () => {
    const temp = (await ok(`mutation($c: ID!) { createCircle(communityId: $c, input: { name: "Temp", access: OPEN }) { id } }`, { c: community.id }, 'olga')).createCircle.id;
    const post = await createPost('olga', { spaceId: temp, body: 'short-lived' });
    await ok(`mutation($id: ID!) { deleteCircle(id: $id, confirmName: "Temp") }`, { id: temp }, 'olga');
    await expect.poll(async () => (await ok(GET, { id: post.id }, 'olga')).post).toBeNull();
    await expect
      .poll(async () => (await p.infra.database!.db.selectFrom('posts.posts' as never).select(sql`count(*)::int`.as('n')).where('id' as never, '=', post.id as never).executeTakeFirst() as { n: number }).n)
      .toBe(0);
  });
});

/**
 * The Posts authorization matrix: every query and mutation of the posts subgraph, plus reading an attachment by
 * its URL, × 10 kinds of actor × 4 targets, each cell with exactly one expected outcome — run on one embedded
 * platform through the gateway with bearer tokens, as a client would.
 *
 * The expectations are generated from a written policy (who reads, who takes part, who moderates, who authored),
 * not copied from the implementation: `policy` below states it per target, and each operation says which of those
 * sets decides it and what the others get.
 *
 * Actors: anonymous; nonMember (signed in, not in community A); member; circleMember (a member of A in circles V
 * and H); author (a member in V and H who wrote every target post and comment); moderator (A's moderator, in no
 * circle); admin; owner; banned (was a member, banned); timedOut (a member under a 28-day timeout).
 *
 * Targets (each a post by the author, with a poll, an image attachment and a comment by the author):
 * - public: A's Public Center (A is listed): anyone reads it.
 * - circle: V, a visible invite-only circle: its members (and those who manage circles) read; others see a teaser.
 * - hidden: H, a hidden invite-only circle: its members (and managers) read; for others it does not exist.
 * - private: B's Public Center (B is private, owned by someone else; none of the actors is in B).
 *
 * Outcomes: 'ok'; 'teaser' (a post answered with accessible: false and no body); 'null' (hidden); 'absent' (a list
 * without the target); 'empty' (no attachment URL handed out); or an error code.
 */
import { readFileSync } from 'node:fs';
import { type GqlResult, startTestPlatform, type TestPlatform } from '@circles/testing';
import { Kind, parse } from 'graphql';
import { type Kysely, sql } from 'kysely';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const roles = ['anonymous', 'nonMember', 'member', 'circleMember', 'author', 'moderator', 'admin', 'owner', 'banned', 'timedOut'] as const;
type Role = (typeof roles)[number];
const targets = ['public', 'circle', 'hidden', 'private'] as const;
type Target = (typeof targets)[number];
type Outcome = 'ok' | 'teaser' | 'null' | 'absent' | 'empty' | 'UNAUTHENTICATED' | 'FORBIDDEN' | 'NOT_FOUND';
type Person = Exclude<Role, 'anonymous'> | 'ownerB';

const U = 'UNAUTHENTICATED' as const;
const F = 'FORBIDDEN' as const;
const N = 'NOT_FOUND' as const;
const all = new Set<Role>(roles);
const set = (...r: Role[]) => new Set<Role>(r);

/** The policy, per target: who reads it fully, who sees only a teaser (the rest: hidden), who may take part, who moderates. */
const policy: Record<Target, { readers: Set<Role>; teaser: Set<Role>; participants: Set<Role>; moderators: Set<Role>; authorIsActor: boolean }> = {
  public: {
    readers: all,
    teaser: set(),
    participants: set('member', 'circleMember', 'author', 'moderator', 'admin', 'owner'),
    moderators: set('moderator', 'admin', 'owner'),
    authorIsActor: true,
  },
  // A moderator outside a circle does not moderate it: moderating a circle takes its membership or manage_circles.
  circle: {
    readers: set('circleMember', 'author', 'admin', 'owner'),
    teaser: set('anonymous', 'nonMember', 'member', 'moderator', 'banned', 'timedOut'),
    participants: set('circleMember', 'author', 'admin', 'owner'),
    moderators: set('admin', 'owner'),
    authorIsActor: true,
  },
  hidden: {
    readers: set('circleMember', 'author', 'admin', 'owner'),
    teaser: set(),
    participants: set('circleMember', 'author', 'admin', 'owner'),
    moderators: set('admin', 'owner'),
    authorIsActor: true,
  },
  private: { readers: set(), teaser: set(), participants: set(), moderators: set(), authorIsActor: false },
};

const canSee = (r: Role, t: Target) => policy[t].readers.has(r) || policy[t].teaser.has(r);
/** A write that needs a signed-in actor and a target they can see at all. */
const gate = (r: Role, t: Target, decide: () => Outcome): Outcome => (r === 'anonymous' ? U : !canSee(r, t) ? N : decide());
/** Taking part (comment, react, vote): participants; a teaser viewer is refused; timed-out members too. */
const participate = (r: Role, t: Target) => gate(r, t, () => (policy[t].participants.has(r) ? 'ok' : F));
const moderate = (r: Role, t: Target) => gate(r, t, () => (policy[t].moderators.has(r) ? 'ok' : F));
const authorOnly = (r: Role, t: Target) => gate(r, t, () => (r === 'author' && policy[t].authorIsActor ? 'ok' : F));
/** Comments are reached through a readable post only: a teaser viewer finds no comment. */
const onComment = (decide: (r: Role, t: Target) => Outcome) => (r: Role, t: Target) =>
  r === 'anonymous' ? U : policy[t].readers.has(r) ? decide(r, t) : N;
const read = (r: Role, t: Target): Outcome => (policy[t].readers.has(r) ? 'ok' : policy[t].teaser.has(r) ? 'teaser' : 'null');

interface TargetIds {
  communityId: string;
  spaceId: string;
  postId: string;
  commentId: string;
  optionId: string;
}
interface Ctx {
  role: Role;
  target: TargetIds;
  t: Target;
  /** The cell's expected outcome (set-up work is done only for cells expected to succeed). */
  expect: Outcome;
  /** A fresh copy of the target post (and its comment), for operations that change or end it. */
  fresh(): Promise<TargetIds>;
  gql(query: string, vars: Record<string, unknown>): Promise<GqlResult>;
  fetch(path: string): Promise<Response>;
}
interface Operation {
  name: string;
  expect(r: Role, t: Target): Outcome;
  run(c: Ctx): Promise<Outcome>;
}

const codeOrOk = (r: GqlResult): Outcome => (r.errors?.length ? (r.errors[0]!.extensions?.code as Outcome) : 'ok');
const mutation = (name: string, doc: string, vars: (ids: TargetIds) => Record<string, unknown>, expectFn: Operation['expect'], fresh = false): Operation => ({
  name,
  expect: expectFn,
  async run(c) {
    const ids = fresh && c.expect === 'ok' ? await c.fresh() : c.target;
    return codeOrOk(await c.gql(doc, vars(ids)));
  },
});

const operations: Operation[] = [
  {
    name: 'Query.post',
    expect: read,
    async run(c) {
      const r = await c.gql(`query($id: ID!) { post(id: $id) { id accessible body } }`, { id: c.target.postId });
      if (r.errors) return codeOrOk(r);
      const post = r.data.post;
      if (!post) return 'null';
      if (!post.accessible) return post.body === null ? 'teaser' : ('LEAK' as Outcome);
      return post.body ? 'ok' : ('LEAK' as Outcome);
    },
  },
  {
    name: 'Query.feed',
    // The space's feed: readers see the post; teaser viewers get teasers; hidden spaces do not exist.
    expect: (r, t) => (policy[t].readers.has(r) ? 'ok' : policy[t].teaser.has(r) ? 'teaser' : N),
    async run(c) {
      const r = await c.gql(`query($c: ID!, $s: ID!) { feed(communityId: $c, spaceId: $s) { posts { id accessible body } } }`, { c: c.target.communityId, s: c.target.spaceId });
      if (r.errors) return codeOrOk(r);
      const post = r.data.feed.posts.find((x: { id: string }) => x.id === c.target.postId);
      if (!post) return 'absent';
      return post.accessible ? 'ok' : post.body === null ? 'teaser' : ('LEAK' as Outcome);
    },
  },
  {
    name: 'Query.feed (home)',
    // The community home feed lists only what the viewer may read; a private community does not exist for outsiders.
    expect: (r, t) => (t === 'private' ? N : policy[t].readers.has(r) ? 'ok' : 'absent'),
    async run(c) {
      const r = await c.gql(`query($c: ID!) { feed(communityId: $c, first: 100) { posts { id } } }`, { c: c.target.communityId });
      if (r.errors) return codeOrOk(r);
      return r.data.feed.posts.some((x: { id: string }) => x.id === c.target.postId) ? 'ok' : 'absent';
    },
  },
  {
    name: 'Query.spaceFiles',
    expect: (r, t) => (policy[t].readers.has(r) ? 'ok' : policy[t].teaser.has(r) ? F : N),
    async run(c) {
      const r = await c.gql(`query($c: ID!, $s: ID!) { spaceFiles(communityId: $c, spaceId: $s) { files { postId } } }`, { c: c.target.communityId, s: c.target.spaceId });
      if (r.errors) return codeOrOk(r);
      return r.data.spaceFiles.files.some((f: { postId: string }) => f.postId === c.target.postId) ? 'ok' : 'absent';
    },
  },
  {
    name: 'Attachment URL',
    // Only readers are handed a signed link, and the link works; a path without a valid signature never does.
    expect: (r, t) => (policy[t].readers.has(r) ? 'ok' : policy[t].teaser.has(r) ? 'empty' : 'null'),
    async run(c) {
      const r = await c.gql(`query($id: ID!) { post(id: $id) { attachments { id url thumbUrl } } }`, { id: c.target.postId });
      if (r.errors) return codeOrOk(r);
      if (!r.data.post) return 'null';
      const [a] = r.data.post.attachments;
      if (!a) return 'empty';
      const good = await c.fetch(a.url);
      const bare = await c.fetch(a.url.split('?')[0]);
      const forged = await c.fetch(a.url.replace(/sig=[^&]+/, 'sig=AAAA'));
      return good.status === 200 && bare.status === 403 && forged.status === 403 ? 'ok' : (`HTTP ${good.status}/${bare.status}/${forged.status}` as Outcome);
    },
  },
  mutation(
    'Mutation.createPost',
    `mutation($c: ID!, $s: ID!) { createPost(input: { communityId: $c, spaceId: $s, body: "matrix post" }) { id } }`,
    (ids) => ({ c: ids.communityId, s: ids.spaceId }),
    (r, t) => (r === 'anonymous' ? U : !canSee(r, t) ? N : policy[t].participants.has(r) ? 'ok' : F),
  ),
  mutation('Mutation.updatePost', `mutation($id: ID!) { updatePost(id: $id, input: { body: "edited by matrix" }) { id } }`, (ids) => ({ id: ids.postId }), authorOnly, true),
  mutation('Mutation.deletePost', `mutation($id: ID!) { deletePost(id: $id) { id } }`, (ids) => ({ id: ids.postId }), authorOnly, true),
  mutation('Mutation.removePost', `mutation($id: ID!) { removePost(id: $id, reason: "matrix") { id } }`, (ids) => ({ id: ids.postId }), moderate, true),
  {
    name: 'Mutation.restorePost',
    expect: moderate,
    async run(c) {
      // A removed copy to restore (removed directly in the database: who removed it is not under test here).
      const ids = await c.fresh();
      await sqlRemove(ids.postId);
      return codeOrOk(await c.gql(`mutation($id: ID!) { restorePost(id: $id) { id } }`, { id: ids.postId }));
    },
  },
  mutation('Mutation.pinPost', `mutation($id: ID!) { pinPost(id: $id, pinned: true) { id } }`, (ids) => ({ id: ids.postId }), moderate, true),
  mutation('Mutation.lockPost', `mutation($id: ID!) { lockPost(id: $id, locked: true) { id } }`, (ids) => ({ id: ids.postId }), moderate, true),
  mutation('Mutation.votePoll', `mutation($p: ID!, $o: [ID!]!) { votePoll(postId: $p, optionIds: $o) { id } }`, (ids) => ({ p: ids.postId, o: [ids.optionId] }), participate),
  mutation('Mutation.setPostReaction', `mutation($p: ID!) { setPostReaction(postId: $p, emoji: "👍", reacted: true) { id } }`, (ids) => ({ p: ids.postId }), participate),
  mutation('Mutation.createComment', `mutation($p: ID!, $parent: ID) { createComment(postId: $p, parentId: $parent, body: "matrix reply") { id } }`, (ids) => ({ p: ids.postId, parent: ids.commentId }), participate),
  mutation('Mutation.updateComment', `mutation($id: ID!) { updateComment(id: $id, body: "edited by matrix") { id } }`, (ids) => ({ id: ids.commentId }), onComment((r, t) => (r === 'author' && policy[t].authorIsActor ? 'ok' : F)), true),
  mutation('Mutation.deleteComment', `mutation($id: ID!) { deleteComment(id: $id) { id } }`, (ids) => ({ id: ids.commentId }), onComment((r, t) => (r === 'author' && policy[t].authorIsActor ? 'ok' : F)), true),
  mutation('Mutation.removeComment', `mutation($id: ID!) { removeComment(id: $id, reason: "matrix") { id } }`, (ids) => ({ id: ids.commentId }), onComment((r, t) => (policy[t].moderators.has(r) ? 'ok' : F)), true),
  mutation('Mutation.setCommentReaction', `mutation($id: ID!) { setCommentReaction(commentId: $id, emoji: "🎉", reacted: true) { id } }`, (ids) => ({ id: ids.commentId }), onComment((r, t) => (policy[t].participants.has(r) ? 'ok' : F))),
  mutation(
    'Mutation.markFeedSeen',
    `mutation($c: ID!) { markFeedSeen(communityId: $c) }`,
    (ids) => ({ c: ids.communityId }),
    // Anyone signed in who can see the community keeps a visit marker; B is private.
    (r, t) => (r === 'anonymous' ? U : t === 'private' ? N : 'ok'),
  ),
];

let sqlRemove: (postId: string) => Promise<void>;

const schemaOps = () => {
  const doc = parse(readFileSync(new URL('../../services/posts/src/schema.graphql', import.meta.url), 'utf8'));
  const out: string[] = [];
  for (const def of doc.definitions) {
    if (def.kind !== Kind.OBJECT_TYPE_DEFINITION || (def.name.value !== 'Query' && def.name.value !== 'Mutation')) continue;
    for (const f of def.fields ?? []) out.push(`${def.name.value}.${f.name.value}`);
  }
  return out;
};

describe('posts authorization matrix', () => {
  let p: TestPlatform;
  let db: Kysely<any>;
  const tokens = {} as Record<Person, string>;
  const ids = {} as Record<Person, string>;
  const world = {} as Record<Target, TargetIds>;
  const tally = { cells: 0, requests: 0 };

  const gql = (who: Person | null, query: string, vars: Record<string, unknown> = {}) => {
    tally.requests++;
    return p.gql(query, vars, who ? { token: tokens[who] } : {});
  };
  const must = async (who: Person, query: string, vars: Record<string, unknown> = {}) => {
    const r = await gql(who, query, vars);
    if (r.errors?.length || !r.data) throw new Error(`fixture set-up failed (${who}): ${JSON.stringify(r.errors)}\n${query}`);
    return r.data as any;
  };
  const upload = async (who: Person) => {
    const bytes = await sharp({ create: { width: 64, height: 48, channels: 3, background: { r: 9, g: 99, b: 199 } } }).png().toBuffer();
    const res = await fetch(`${p.url}/media/files?name=photo.png`, { method: 'POST', headers: { authorization: `Bearer ${tokens[who]}` }, body: new Uint8Array(bytes) });
    if (res.status !== 201) throw new Error(`upload failed: ${res.status} ${await res.text()}`);
    return ((await res.json()) as { id: string }).id;
  };

  /** A copy of a target post (and its comment), made in the database: fixture set-up, not under test. */
  const clone = async (t: Target): Promise<TargetIds> => {
    const src = world[t];
    const postId = crypto.randomUUID();
    const commentId = crypto.randomUUID();
    await sql`insert into posts.posts (id, community_id, space_id, author_id, title, body, body_html, excerpt, created_at, last_activity_at, comment_count)
      select ${postId}::uuid, community_id, space_id, author_id, title, body, body_html, excerpt, now(), now(), 1 from posts.posts where id = ${src.postId}::uuid`.execute(db);
    await sql`insert into posts.comments (id, post_id, root_id, depth, author_id, body, body_html, created_at)
      select ${commentId}::uuid, ${postId}::uuid, ${commentId}::uuid, 0, author_id, body, body_html, now() from posts.comments where id = ${src.commentId}::uuid`.execute(db);
    return { ...src, postId, commentId };
  };

  beforeAll(async () => {
    p = await startTestPlatform('embedded');
    db = p.infra.database!.db;
    sqlRemove = async (postId) => void (await sql`update posts.posts set status = 'removed', removal_reason = 'matrix' where id = ${postId}::uuid`.execute(db));
    const people: Person[] = ['nonMember', 'member', 'circleMember', 'author', 'moderator', 'admin', 'owner', 'banned', 'timedOut', 'ownerB'];
    for (const who of people) {
      const r = await p.gql(`mutation($input: SignUpInput!) { signUp(input: $input) { token account { id } } }`, {
        input: { email: `${who.toLowerCase()}@matrix.example`, password: 'violet-kettle-sunrise-42', handle: `m_${who.toLowerCase()}`, displayName: who, delivery: 'BEARER' },
      });
      tokens[who] = r.data.signUp.token;
      ids[who] = r.data.signUp.account.id;
    }
    const A = (await must('owner', `mutation { createCommunity(input: { name: "Matrix A", slug: "matrix-a" }) { id publicCenter { id } } }`)).createCommunity;
    const B = (await must('ownerB', `mutation { createCommunity(input: { name: "Matrix B", slug: "matrix-b", visibility: PRIVATE }) { id publicCenter { id } } }`)).createCommunity;
    for (const who of ['member', 'circleMember', 'author', 'moderator', 'admin', 'banned', 'timedOut'] as Person[]) await must(who, `mutation($id: ID!) { joinCommunity(id: $id) { id } }`, { id: A.id });
    const setRole = (u: Person, role: string) => must('owner', `mutation($c: ID!, $u: ID!) { setMemberRole(communityId: $c, userId: $u, role: ${role}) { role } }`, { c: A.id, u: ids[u] });
    await setRole('moderator', 'MODERATOR');
    await setRole('admin', 'ADMIN');
    const circle = async (name: string, hidden: boolean) =>
      (await must('owner', `mutation($c: ID!, $i: CreateCircleInput!) { createCircle(communityId: $c, input: $i) { id } }`, { c: A.id, i: { name, access: 'INVITE', hidden } })).createCircle.id as string;
    const V = await circle('Visible', false);
    const H = await circle('Hidden', true);
    for (const s of [V, H]) for (const u of ['circleMember', 'author', 'banned'] as Person[]) await must('owner', `mutation($s: ID!, $u: ID!) { addCircleMember(circleId: $s, userId: $u) { role } }`, { s, u: ids[u] });

    const make = async (who: Person, communityId: string, spaceId: string): Promise<TargetIds> => {
      const file = await upload(who);
      const post = (
        await must(who, `mutation($i: CreatePostInput!) { createPost(input: $i) { id poll { options { id } } } }`, {
          i: { communityId, spaceId, title: 'Target', body: 'The full text of the target post.', attachments: [file], poll: { options: ['yes', 'no'] } },
        })
      ).createPost;
      const comment = (await must(who, `mutation($p: ID!) { createComment(postId: $p, body: "the author's comment") { id } }`, { p: post.id })).createComment;
      return { communityId, spaceId, postId: post.id, commentId: comment.id, optionId: post.poll.options[0].id };
    };
    world.public = await make('author', A.id, A.publicCenter.id);
    world.circle = await make('author', A.id, V);
    world.hidden = await make('author', A.id, H);
    world.private = await make('ownerB', B.id, B.publicCenter.id);
    // The banned member had been in both circles: the ban must end that too.
    await must('owner', `mutation($c: ID!, $u: ID!) { banMember(communityId: $c, userId: $u) { createdAt } }`, { c: A.id, u: ids.banned });
    await must('owner', `mutation($c: ID!, $u: ID!) { timeoutMember(communityId: $c, userId: $u, durationSeconds: ${28 * 86_400}) { timedOutUntil } }`, { c: A.id, u: ids.timedOut });
  }, 120_000);
  afterAll(async () => {
    await p?.stop();
  });

  it('covers every query and mutation of the posts schema', () => {
    const covered = new Set(operations.map((o) => o.name.split(' ')[0]!));
    expect(schemaOps().filter((o) => !covered.has(o))).toEqual([]);
    expect([...covered].filter((o) => o.includes('.') && !schemaOps().includes(o))).toEqual([]);
  });

  it('gives every actor exactly the expected outcome on every target', async () => {
    const mismatches: string[] = [];
    for (const op of operations) {
      for (const t of targets) {
        for (const role of roles) {
          const expected = op.expect(role, t);
          const who = role === 'anonymous' ? null : (role as Person);
          const ctx: Ctx = {
            role,
            t,
            target: world[t],
            expect: expected,
            fresh: () => clone(t),
            gql: (q, v) => gql(who, q, v),
            fetch: (path) => (tally.requests++, fetch(new URL(path, p.url), who ? { headers: { authorization: `Bearer ${tokens[who]}` } } : {})),
          };
          const got = await op.run(ctx);
          tally.cells++;
          if (got !== expected) mismatches.push(`${op.name} × ${role} × ${t}: expected ${expected}, got ${got}`);
        }
      }
    }
    console.log(`posts authorization matrix: ${operations.length} operations × ${roles.length} roles × ${targets.length} targets = ${tally.cells} cells, ${tally.requests} requests`);
    expect(mismatches).toEqual([]);
  }, 300_000);
});

/**
 * The posts benchmark's fixture: one community's Public Center with 100,000 posts over 90 days, 1,000,000 comments
 * (one post with exactly 500: 100 threads of a top-level comment and 4 replies) and about 200,000 reactions.
 *
 * A BENCHMARK FIXTURE, written straight into the posts service's tables with INSERT … SELECT over generate_series:
 * going through createPost/createComment would take hours (rate limits, Markdown rendering, outbox events). Every row
 * is consistent with what the service itself writes: counters (comment_count, reaction_count, score = reactions +
 * 2 x comments, reply_count) match the rows, root_id/parent_id/depth describe real threads, last_activity_at is the
 * newest comment's time, timestamps carry millisecond precision (cursors travel as JS Dates), and foreign keys are
 * checked as usual. Ids are md5-derived UUIDs, so a row's id follows from its number (parents are computed, not
 * looked up) and every run builds the same shape.
 *
 * Layout (P posts, K = (C - 500) / 20 commented posts; post 1 is the newest, post P about 90 days old):
 * - posts with an even number 2..2K carry 20 comments each: 5 threads of a top-level comment, a reply, a reply to
 *   that reply and a second reply to the top (depths 0, 1, 2, 1); the first comment of each such post has 1 reaction;
 * - post STAR (101, an odd number) carries 500 comments: 100 threads of a top-level comment and 4 replies (depths 0, 1,
 *   2, 3, 1); its k-th comment has k mod 3 reactions; it has 2 earlier revisions;
 * - post i has i mod 4 reactions (4 emoji, from the real users), every 10th post one image attachment, every 50th a
 *   poll with 3 options; posts 40 and 4,000 are pinned.
 */
import { createHash } from 'node:crypto';
import { type Kysely, sql } from 'kysely';

export const STAR = 101;
export const STAR_COMMENTS = 500;
export const STAR_THREADS = 100;
const PER_POST = 20;
const CHUNK_POSTS = 5_000; // commented posts per INSERT (100,000 comments)
const EMOJI = ['👍', '❤️', '🎉', '😂'];
const PINNED = [40, 4_000];

/** The id the fixture gives post number i (md5('p' || i) as a UUID, as the SQL below computes it). */
export function postId(i: number): string {
  const h = createHash('md5').update(`p${i}`).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

export interface FixtureInput {
  communityId: string;
  publicCenterId: string;
  /** Real users (signed up through the gateway), who write the posts and comments. */
  authors: string[];
  /** A signed-in member who reads (reacts now and then, last visited 30 days ago). */
  reader: string;
  posts: number;
  comments: number;
}

export interface FixtureResult {
  t0: string;
  counts: Record<string, number>;
  starPostId: string;
  starPost: number;
  pinnedPostIds: string[];
  /** Milliseconds per step, and in total (the VACUUM ANALYZE apart). */
  seedMs: Record<string, number>;
  analyzeMs: number;
}

export async function seedPostsFixture(db: Kysely<any>, f: FixtureInput, say: (line: string) => void): Promise<FixtureResult> {
  const P = f.posts;
  const K = Math.floor((f.comments - STAR_COMMENTS) / PER_POST);
  if (f.comments < STAR_COMMENTS || (f.comments - STAR_COMMENTS) % PER_POST !== 0) throw new Error(`comments must be 500 + a multiple of ${PER_POST} (got ${f.comments})`);
  if (2 * K >= P || P < Math.max(...PINNED) || STAR > P) throw new Error(`${P} posts are too few for ${f.comments} comments (need more than ${2 * K} and at least ${Math.max(...PINNED)})`);
  // One fixed "now", so every statement computes the same timestamps.
  const t0 = new Date();
  const A = f.authors.length;
  const authors = sql`${f.authors}::uuid[]`;
  // Reactions come from the authors and the reader.
  const people = [...f.authors, f.reader];
  const U = people.length;
  const reactors = sql`${people}::uuid[]`;
  const emoji = sql`${EMOJI}::text[]`;
  const now = sql`${t0}::timestamptz`;
  // Post i's creation time, and how many comments it has.
  const created = (i: string) => sql`date_trunc('milliseconds', ${now} - interval '90 days' * ((${sql.raw(i)})::float8 / ${P}::float8))`;
  const commentCount = (i: string) =>
    sql`(case when ${sql.raw(i)} = ${STAR}::int then ${STAR_COMMENTS}::int when ${sql.raw(i)} % 2 = 0 and ${sql.raw(i)} <= ${2 * K}::int then ${PER_POST}::int else 0 end)`;
  // The k-th comment (0-based) of a post created at `pc` with `cc` comments: evenly spaced between the post and t0.
  const commentAt = (pc: string, k: string, cc: string) => sql`date_trunc('milliseconds', ${sql.raw(pc)} + (${sql.raw(k)} + 1) * ((${now} - ${sql.raw(pc)}) / (${sql.raw(cc)} + 5)))`;
  const pid = (i: string) => sql`md5('p' || ${sql.raw(i)})::uuid`;
  const cid = (n: string) => sql`md5('c' || (${sql.raw(n)}))::uuid`;

  const seedMs: Record<string, number> = {};
  const step = async (name: string, fn: () => Promise<unknown>) => {
    const s = performance.now();
    await fn();
    seedMs[name] = Math.round(performance.now() - s);
    say(`    ${name}: ${seedMs[name]} ms`);
  };
  const total0 = performance.now();

  await step('posts', () =>
    sql`insert into posts.posts (id, community_id, space_id, author_id, title, body, body_html, excerpt, status, pinned_at, locked,
          comment_count, reaction_count, score, created_at, edited_at, last_activity_at)
        select ${pid('i')}, ${f.communityId}::uuid, ${f.publicCenterId}::uuid, (${authors})[1 + i % ${A}::int],
          'Post ' || i || ': notes from this week''s workshop',
          'Notes from session ' || i || E'.\n\nWe tried the **new** proofing schedule and it mostly worked. The crumb was more open ' ||
            E'than last time; the crust was a little pale.\n\n- warmer spot\n- longer bake\n\nQuestions welcome, @nobody.',
          '<p>Notes from session ' || i || '.</p><p>We tried the <strong>new</strong> proofing schedule and it mostly worked. The crumb was more open ' ||
            'than last time; the crust was a little pale.</p><ul><li>warmer spot</li><li>longer bake</li></ul><p>Questions welcome, @nobody.</p>',
          'Notes from session ' || i || '. We tried the new proofing schedule and it mostly worked. The crumb was more open than last time; the crust was a little pale. warmer spot longer bake Questions welcome, @nobody.',
          'published',
          case when i = any(${PINNED}::int[]) then ${now} - interval '1 day' * i / 1000 end,
          false,
          cc, rc, rc + 2 * cc, pc,
          case when i = ${STAR}::int then ${now} - interval '1 hour' end,
          case when cc > 0 then ${commentAt('pc', 'cc - 1', 'cc')} else pc end
        from (select i, ${created('i')} as pc, ${commentCount('i')} as cc, i % 4 as rc from generate_series(1, ${P}::int) i) s`.execute(db),
  );

  await step('comments', async () => {
    // 20 per commented post, in chunks so neither store holds one huge statement.
    for (let from = 1; from <= K; from += CHUNK_POSTS) {
      const to = Math.min(K, from + CHUNK_POSTS - 1);
      await sql`insert into posts.comments (id, post_id, root_id, parent_id, depth, author_id, body, body_html, status, reaction_count, reply_count, created_at)
        select ${cid('n')}, ${pid('i')}, ${cid('n - pos')},
          case pos when 0 then null when 3 then ${cid('n - 3')} else ${cid('n - 1')} end,
          case pos when 0 then 0 when 2 then 2 else 1 end,
          (${authors})[1 + (n * 7 + 3) % ${A}::int],
          'Comment ' || n || ': I tried this too and it worked once I moved the dough somewhere warmer.',
          '<p>Comment ' || n || ': I tried this too and it worked once I moved the dough somewhere warmer.</p>',
          'published',
          case when k = 0 then 1 else 0 end,
          case when pos = 0 then 3 else 0 end,
          ${commentAt('pc', 'k', `${PER_POST}`)}
        from (select j, k, (j - 1) * ${PER_POST}::int + k as n, 2 * j as i, k % 4 as pos, ${created('2 * j')} as pc
              from generate_series(${from}::int, ${to}::int) j, generate_series(0, ${PER_POST - 1}::int) k) s`.execute(db);
      say(`      comments on posts ${2 * from}..${2 * to}: ${to * PER_POST} rows so far`);
    }
    // The post page's 500: 100 threads of a top-level comment and 4 replies (depths 0, 1, 2, 3 and a second 1).
    await sql`insert into posts.comments (id, post_id, root_id, parent_id, depth, author_id, body, body_html, status, reaction_count, reply_count, created_at)
      select ${cid('n')}, ${pid(String(STAR))}, ${cid('n - pos')},
        case pos when 0 then null when 4 then ${cid('n - 4')} else ${cid('n - 1')} end,
        case pos when 4 then 1 else pos end,
        (${authors})[1 + (n * 7 + 3) % ${A}::int],
        'Comment ' || n || E' on the big thread: **agreed**, and here is what I would add. Try a longer autolyse; it helps with an open crumb.',
        '<p>Comment ' || n || ' on the big thread: <strong>agreed</strong>, and here is what I would add. Try a longer autolyse; it helps with an open crumb.</p>',
        'published',
        k % 3,
        case when pos = 0 then 4 else 0 end,
        ${commentAt('pc', 'k', String(STAR_COMMENTS))}
      from (select k, ${K * PER_POST}::int + k as n, k % 5 as pos, ${created(String(STAR))} as pc from generate_series(0, ${STAR_COMMENTS - 1}::int) k) s`.execute(db);
  });

  await step('reactions', async () => {
    // Post i: i mod 4 reactions from different people, each with its own emoji.
    await sql`insert into posts.reactions (target_id, user_id, emoji, created_at)
      select ${pid('i')}, (${reactors})[1 + (i + 7 * m) % ${U}::int], (${emoji})[1 + (i + m) % 4], ${created('i')} + m * interval '1 second'
      from generate_series(1, ${P}::int) i, generate_series(0, 2) m where m < i % 4`.execute(db);
    // The first comment of every commented post: one reaction.
    await sql`insert into posts.reactions (target_id, user_id, emoji, created_at)
      select ${cid('(j - 1) * ' + PER_POST)}, (${reactors})[1 + j % ${U}::int], (${emoji})[1 + j % 4], least(${created('2 * j')} + interval '1 hour', ${now})
      from generate_series(1, ${K}::int) j`.execute(db);
    // The big thread's k-th comment: k mod 3 reactions.
    await sql`insert into posts.reactions (target_id, user_id, emoji, created_at)
      select ${cid(`${K * PER_POST} + k`)}, (${reactors})[1 + (k + 5 * m) % ${U}::int], (${emoji})[1 + m], ${now} - interval '1 minute' * (${STAR_COMMENTS} - k)
      from generate_series(0, ${STAR_COMMENTS - 1}::int) k, generate_series(0, 1) m where m < k % 3`.execute(db);
  });

  await step('attachments, polls, revisions, visit', async () => {
    await sql`insert into posts.attachments (id, post_id, community_id, space_id, uploader_id, position, name, content_type, kind, bytes, width, height, has_thumb, created_at)
      select md5('a' || i)::uuid, ${pid('i')}, ${f.communityId}::uuid, ${f.publicCenterId}::uuid, (${authors})[1 + i % ${A}::int], 0,
        'loaf-' || i || '.webp', 'image/webp', 'image', 184320, 1600, 1200, true, ${created('i')}
      from generate_series(3, ${P}::int, 10) i`.execute(db);
    await sql`insert into posts.polls (post_id, question, multiple_choice, closes_at, voter_count)
      select ${pid('i')}, 'Which day suits the next bake-along?', false, null, 0 from generate_series(7, ${P}::int, 50) i`.execute(db);
    await sql`insert into posts.poll_options (id, post_id, position, label, votes)
      select md5('o' || i || '-' || o)::uuid, ${pid('i')}, o, (array['Saturday', 'Sunday', 'A weekday evening'])[o + 1], 0
      from generate_series(7, ${P}::int, 50) i, generate_series(0, 2) o`.execute(db);
    await sql`insert into posts.revisions (id, post_id, title, body, editor_id, replaced_at)
      select md5('r' || v)::uuid, ${pid(String(STAR))}, 'Post ${sql.raw(String(STAR))}: draft ' || v, 'An earlier version of the notes, number ' || v || '.',
        (${authors})[1 + ${STAR}::int % ${A}::int], ${now} - interval '1 hour' * (3 - v)
      from generate_series(1, 2) v`.execute(db);
    await sql`insert into posts.visits (user_id, community_id, seen_at) values (${f.reader}::uuid, ${f.communityId}::uuid, date_trunc('milliseconds', ${now} - interval '30 days'))
      on conflict (user_id, community_id) do update set seen_at = excluded.seen_at`.execute(db);
  });
  seedMs.total = Math.round(performance.now() - total0);

  // What a database that has been in use for a while has: fresh statistics and a visibility map (no autovacuum
  // pass lands in the middle of a measurement).
  const a0 = performance.now();
  await sql`vacuum (analyze) posts.posts, posts.comments, posts.reactions, posts.attachments, posts.polls, posts.poll_options, posts.revisions, posts.visits`.execute(db);
  const analyzeMs = Math.round(performance.now() - a0);
  say(`    vacuum analyze: ${analyzeMs} ms`);

  const { rows } = await sql<Record<string, number>>`select
      (select count(*) from posts.posts where community_id = ${f.communityId}::uuid)::int as posts,
      (select count(*) from posts.comments)::int as comments,
      (select count(*) from posts.comments where post_id = ${postId(STAR)}::uuid)::int as "starComments",
      (select count(*) from posts.reactions)::int as reactions,
      (select count(*) from posts.attachments)::int as attachments,
      (select count(*) from posts.polls)::int as polls,
      (select coalesce(sum(comment_count), 0) from posts.posts)::int as "sumCommentCount",
      (select coalesce(sum(reaction_count), 0) from posts.posts)::int + (select coalesce(sum(reaction_count), 0) from posts.comments)::int as "sumReactionCount",
      (select coalesce(sum(reply_count), 0) from posts.comments)::int as "sumReplyCount",
      (select count(*) from posts.comments where depth > 0)::int as replies`.execute(db);
  const counts = rows[0]!;
  const problems = [
    counts.posts !== P && `posts ${counts.posts} != ${P}`,
    counts.comments !== f.comments && `comments ${counts.comments} != ${f.comments}`,
    counts.starComments !== STAR_COMMENTS && `the big post has ${counts.starComments} comments`,
    counts.sumCommentCount !== counts.comments && `sum(comment_count) ${counts.sumCommentCount} != ${counts.comments} comments`,
    counts.sumReactionCount !== counts.reactions && `sum(reaction_count) ${counts.sumReactionCount} != ${counts.reactions} reactions`,
    counts.sumReplyCount !== counts.replies && `sum(reply_count) ${counts.sumReplyCount} != ${counts.replies} replies`,
  ].filter(Boolean);
  if (problems.length) throw new Error(`inconsistent fixture: ${problems.join('; ')}`);
  return { t0: t0.toISOString(), counts, starPostId: postId(STAR), starPost: STAR, pinnedPostIds: PINNED.map(postId), seedMs, analyzeMs };
}

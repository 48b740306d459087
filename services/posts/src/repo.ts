import { type Generated, type Kysely, sql } from 'kysely';

type Status = 'published' | 'deleted' | 'removed';

export interface PostsTables {
  'posts.posts': {
    id: string;
    community_id: string;
    space_id: string;
    author_id: string;
    title: string | null;
    body: string;
    body_html: string;
    excerpt: string;
    mentions: string[];
    status: Status;
    removal_reason: string | null;
    removed_by: string | null;
    pinned_at: Date | null;
    locked: boolean;
    comment_count: number;
    reaction_count: number;
    score: number;
    created_at: Date;
    edited_at: Date | null;
    last_activity_at: Date;
    deleted_at: Date | null;
  };
  'posts.revisions': { id: string; post_id: string; title: string | null; body: string; editor_id: string; replaced_at: Date };
  'posts.comments': {
    id: string;
    post_id: string;
    root_id: string;
    parent_id: string | null;
    depth: number;
    author_id: string;
    body: string;
    body_html: string;
    mentions: string[];
    status: Status;
    removal_reason: string | null;
    removed_by: string | null;
    reaction_count: number;
    reply_count: number;
    created_at: Date;
    edited_at: Date | null;
  };
  'posts.reactions': { target_id: string; user_id: string; emoji: string; created_at: Generated<Date> };
  'posts.polls': { post_id: string; question: string | null; multiple_choice: boolean; closes_at: Date | null; voter_count: number };
  'posts.poll_options': { id: string; post_id: string; position: number; label: string; votes: number };
  'posts.poll_votes': { post_id: string; user_id: string; option_id: string; created_at: Generated<Date> };
  'posts.attachments': {
    id: string;
    post_id: string;
    community_id: string;
    space_id: string;
    uploader_id: string;
    position: number;
    name: string;
    content_type: string;
    kind: string;
    bytes: number;
    width: number | null;
    height: number | null;
    has_thumb: boolean;
    created_at: Generated<Date>;
  };
  'posts.visits': { user_id: string; community_id: string; seen_at: Date };
  'posts.profiles': { user_id: string; handle: string; version: Generated<number> };
}
export type PostsDb = Kysely<PostsTables>;
export type PostRow = PostsTables['posts.posts'];
export type CommentRow = PostsTables['posts.comments'];
export type AttachmentRow = Omit<PostsTables['posts.attachments'], 'created_at'> & { created_at: Date };
export type PollRow = PostsTables['posts.polls'];
export type PollOptionRow = PostsTables['posts.poll_options'];

export type FeedSort = 'new' | 'top' | 'active';
export type CommentSort = 'oldest' | 'newest' | 'top';
/** A keyset position: the sort column's value and the id that breaks ties. */
export type Cursor = [string | number, string];

const sortColumn = { new: 'created_at', top: 'score', active: 'last_activity_at' } as const;

export class PostsRepository {
  constructor(readonly db: PostsDb) {}

  transaction<T>(fn: (trx: PostsDb) => Promise<T>): Promise<T> {
    return this.db.transaction().execute(fn);
  }

  post(id: string, trx: PostsDb = this.db) {
    return trx.selectFrom('posts.posts').selectAll().where('id', '=', id).executeTakeFirst();
  }

  postForUpdate(trx: PostsDb, id: string) {
    return trx.selectFrom('posts.posts').selectAll().where('id', '=', id).forUpdate().executeTakeFirst();
  }

  async postsByIds(ids: readonly string[]): Promise<Map<string, PostRow>> {
    if (!ids.length) return new Map();
    const rows = await this.db.selectFrom('posts.posts').selectAll().where('id', 'in', [...ids]).execute();
    return new Map(rows.map((r) => [r.id, r]));
  }

  /**
   * A page of published posts in these spaces, by the sort's keyset. `excludePinnedIn`: pinned posts shown above.
   * Several spaces (a home feed) are read as one small index scan per space, merged: a single `space_id in (…)`
   * scan has no index in the sort's order and would read every post the viewer may see.
   */
  async feed(opts: { spaceIds: string[]; sort: FeedSort; since: Date | null; limit: number; after: Cursor | null; excludePinnedIn: string | null }): Promise<PostRow[]> {
    const col = sortColumn[opts.sort];
    const conditions = (alias: string) => {
      const c = (name: string) => sql.ref(`${alias}.${name}`);
      const parts = [sql`${c('status')} = 'published'`];
      if (opts.since) parts.push(sql`${c('created_at')} >= ${opts.since}`);
      if (opts.excludePinnedIn) parts.push(sql`(${c('pinned_at')} is null or ${c('space_id')} <> ${opts.excludePinnedIn}::uuid)`);
      if (opts.after) {
        const [value, id] = opts.after;
        const v = opts.sort === 'top' ? sql`${Number(value)}::integer` : sql`${new Date(value)}::timestamptz`;
        parts.push(sql`(${c(col)}, ${c('id')}) < (${v}, ${id}::uuid)`);
      }
      return sql.join(parts, sql` and `);
    };
    const { rows } = await sql<PostRow>`
      select p.* from unnest(${opts.spaceIds}::uuid[]) as s(id)
      cross join lateral (
        select * from posts.posts q where q.space_id = s.id and ${conditions('q')}
        order by ${sql.ref(`q.${col}`)} desc, q.id desc limit ${opts.limit}
      ) p
      order by ${sql.ref(`p.${col}`)} desc, p.id desc limit ${opts.limit}`.execute(this.db);
    return rows;
  }

  pinned(spaceId: string, limit = 10) {
    return this.db
      .selectFrom('posts.posts')
      .selectAll()
      .where('space_id', '=', spaceId)
      .where('status', '=', 'published')
      .where('pinned_at', 'is not', null)
      .orderBy('pinned_at', 'desc')
      .limit(limit)
      .execute();
  }

  insertPost(trx: PostsDb, row: PostRow) {
    return trx.insertInto('posts.posts').values(row).returningAll().executeTakeFirstOrThrow();
  }

  updatePost(trx: PostsDb, id: string, patch: Partial<PostRow>) {
    return trx.updateTable('posts.posts').set(patch).where('id', '=', id).returningAll().executeTakeFirstOrThrow();
  }

  /** Adds to a post's counters (and its score, which top sorts by) in the same statement. */
  bumpPost(trx: PostsDb, id: string, delta: { comments?: number; reactions?: number; activityAt?: Date }) {
    const c = delta.comments ?? 0;
    const r = delta.reactions ?? 0;
    let q = trx
      .updateTable('posts.posts')
      .set({
        comment_count: sql`comment_count + ${c}`,
        reaction_count: sql`reaction_count + ${r}`,
        score: sql`score + ${r + 2 * c}`,
      })
      .where('id', '=', id);
    if (delta.activityAt) q = q.set({ last_activity_at: delta.activityAt });
    return q.execute();
  }

  insertRevision(trx: PostsDb, row: PostsTables['posts.revisions']) {
    return trx.insertInto('posts.revisions').values(row).execute();
  }

  revisions(postId: string) {
    return this.db.selectFrom('posts.revisions').selectAll().where('post_id', '=', postId).orderBy('replaced_at', 'desc').orderBy('id', 'desc').execute();
  }

  // Comments -------------------------------------------------------------------------------------------------------

  comment(id: string, trx: PostsDb = this.db) {
    return trx.selectFrom('posts.comments').selectAll().where('id', '=', id).executeTakeFirst();
  }

  insertComment(trx: PostsDb, row: CommentRow) {
    return trx.insertInto('posts.comments').values(row).returningAll().executeTakeFirstOrThrow();
  }

  updateComment(trx: PostsDb, id: string, patch: Partial<CommentRow>) {
    return trx.updateTable('posts.comments').set(patch).where('id', '=', id).returningAll().executeTakeFirstOrThrow();
  }

  bumpReplies(trx: PostsDb, rootId: string, delta: number) {
    return trx.updateTable('posts.comments').set({ reply_count: sql`reply_count + ${delta}` }).where('id', '=', rootId).execute();
  }

  bumpCommentReactions(trx: PostsDb, id: string, delta: number) {
    return trx.updateTable('posts.comments').set({ reaction_count: sql`reaction_count + ${delta}` }).where('id', '=', id).execute();
  }

  /** A page of top-level comments by the sort's keyset. */
  topLevelComments(postId: string, sort: CommentSort, limit: number, after: Cursor | null) {
    let q = this.db.selectFrom('posts.comments').selectAll().where('post_id', '=', postId).where('depth', '=', 0);
    if (sort === 'top') {
      if (after) q = q.where(sql<boolean>`(reaction_count, id) < (${Number(after[0])}::integer, ${after[1]}::uuid)`);
      return q.orderBy('reaction_count', 'desc').orderBy('id', 'desc').limit(limit).execute();
    }
    if (after) {
      const cmp = sort === 'oldest' ? sql`>` : sql`<`;
      q = q.where(sql<boolean>`(created_at, id) ${cmp} (${new Date(after[0])}::timestamptz, ${after[1]}::uuid)`);
    }
    const dir = sort === 'oldest' ? 'asc' : 'desc';
    return q.orderBy('created_at', dir).orderBy('id', dir).limit(limit).execute();
  }

  /** Every reply in these threads, oldest first. */
  replies(rootIds: readonly string[]) {
    if (!rootIds.length) return Promise.resolve([] as CommentRow[]);
    return this.db
      .selectFrom('posts.comments')
      .selectAll()
      .where('root_id', 'in', [...rootIds])
      .where('depth', '>', 0)
      .orderBy('created_at')
      .orderBy('id')
      .execute();
  }

  // Reactions ------------------------------------------------------------------------------------------------------

  async addReaction(trx: PostsDb, targetId: string, userId: string, emoji: string): Promise<boolean> {
    const r = await trx.insertInto('posts.reactions').values({ target_id: targetId, user_id: userId, emoji }).onConflict((oc) => oc.doNothing()).executeTakeFirst();
    return Number(r.numInsertedOrUpdatedRows ?? 0) > 0;
  }

  async removeReaction(trx: PostsDb, targetId: string, userId: string, emoji: string): Promise<boolean> {
    const r = await trx.deleteFrom('posts.reactions').where('target_id', '=', targetId).where('user_id', '=', userId).where('emoji', '=', emoji).executeTakeFirst();
    return Number(r.numDeletedRows) > 0;
  }

  async distinctEmoji(trx: PostsDb, targetId: string): Promise<string[]> {
    const rows = await trx.selectFrom('posts.reactions').select('emoji').distinct().where('target_id', '=', targetId).execute();
    return rows.map((r) => r.emoji);
  }

  /** Per target: each emoji's count and whether this viewer used it, in order of first use. */
  async reactionSummaries(targetIds: readonly string[], viewerId: string | null) {
    const out = new Map<string, { emoji: string; count: number; viewerReacted: boolean }[]>();
    if (!targetIds.length) return out;
    const rows = await this.db
      .selectFrom('posts.reactions')
      .select([
        'target_id',
        'emoji',
        sql<number>`count(*)::int`.as('count'),
        sql<Date>`min(created_at)`.as('first'),
        viewerId ? sql<boolean>`bool_or(user_id = ${viewerId}::uuid)`.as('mine') : sql<boolean>`false`.as('mine'),
      ])
      .where('target_id', 'in', [...targetIds])
      .groupBy(['target_id', 'emoji'])
      .orderBy('first')
      .execute();
    for (const r of rows) {
      const list = out.get(r.target_id) ?? [];
      list.push({ emoji: r.emoji, count: r.count, viewerReacted: r.mine });
      out.set(r.target_id, list);
    }
    return out;
  }

  reactors(targetId: string, emoji: string, limit: number) {
    return this.db
      .selectFrom('posts.reactions')
      .select('user_id')
      .where('target_id', '=', targetId)
      .where('emoji', '=', emoji)
      .orderBy('created_at', 'desc')
      .limit(limit)
      .execute();
  }

  deleteReactions(trx: PostsDb, targetIds: string[]) {
    if (!targetIds.length) return Promise.resolve();
    return trx.deleteFrom('posts.reactions').where('target_id', 'in', targetIds).execute();
  }

  // Polls ----------------------------------------------------------------------------------------------------------

  async polls(postIds: readonly string[]) {
    const out = new Map<string, { poll: PollRow; options: PollOptionRow[] }>();
    if (!postIds.length) return out;
    const [polls, options] = await Promise.all([
      this.db.selectFrom('posts.polls').selectAll().where('post_id', 'in', [...postIds]).execute(),
      this.db.selectFrom('posts.poll_options').selectAll().where('post_id', 'in', [...postIds]).orderBy('position').execute(),
    ]);
    for (const p of polls) out.set(p.post_id, { poll: p, options: options.filter((o) => o.post_id === p.post_id) });
    return out;
  }

  async votesOf(postIds: readonly string[], userId: string) {
    const out = new Map<string, string[]>();
    if (!postIds.length) return out;
    const rows = await this.db.selectFrom('posts.poll_votes').select(['post_id', 'option_id']).where('post_id', 'in', [...postIds]).where('user_id', '=', userId).execute();
    for (const r of rows) out.set(r.post_id, [...(out.get(r.post_id) ?? []), r.option_id]);
    return out;
  }

  // Attachments ----------------------------------------------------------------------------------------------------

  async attachmentsOf(postIds: readonly string[]) {
    const out = new Map<string, AttachmentRow[]>();
    if (!postIds.length) return out;
    const rows = await this.db.selectFrom('posts.attachments').selectAll().where('post_id', 'in', [...postIds]).orderBy('position').execute();
    for (const r of rows) out.set(r.post_id, [...(out.get(r.post_id) ?? []), r as AttachmentRow]);
    return out;
  }

  /** The space's file library: attachments of its published posts, newest first. */
  library(opts: { spaceId: string; kind: string | null; uploaderId: string | null; limit: number; after: Cursor | null }) {
    let q = this.db
      .selectFrom('posts.attachments as a')
      .innerJoin('posts.posts as p', 'p.id', 'a.post_id')
      .selectAll('a')
      .where('a.space_id', '=', opts.spaceId)
      .where('p.status', '=', 'published');
    if (opts.kind) q = q.where('a.kind', '=', opts.kind);
    if (opts.uploaderId) q = q.where('a.uploader_id', '=', opts.uploaderId);
    if (opts.after) q = q.where(sql<boolean>`(a.created_at, a.id) < (${new Date(opts.after[0])}::timestamptz, ${opts.after[1]}::uuid)`);
    return q.orderBy('a.created_at', 'desc').orderBy('a.id', 'desc').limit(opts.limit).execute() as Promise<AttachmentRow[]>;
  }

  // Visits and profiles --------------------------------------------------------------------------------------------

  async lastVisit(userId: string, communityId: string): Promise<Date | null> {
    const row = await this.db.selectFrom('posts.visits').select('seen_at').where('user_id', '=', userId).where('community_id', '=', communityId).executeTakeFirst();
    return row?.seen_at ?? null;
  }

  markSeen(userId: string, communityId: string, at: Date) {
    return this.db
      .insertInto('posts.visits')
      .values({ user_id: userId, community_id: communityId, seen_at: at })
      .onConflict((oc) => oc.columns(['user_id', 'community_id']).doUpdateSet({ seen_at: at }))
      .execute();
  }

  async userIdsByHandles(handles: string[]): Promise<string[]> {
    if (!handles.length) return [];
    const rows = await this.db
      .selectFrom('posts.profiles')
      .select(['user_id', 'handle'])
      .where(sql`lower(handle)`, 'in', handles.map((h) => h.toLowerCase()))
      .execute();
    const byHandle = new Map(rows.map((r) => [r.handle.toLowerCase(), r.user_id]));
    return handles.map((h) => byHandle.get(h.toLowerCase())).filter((id): id is string => id !== undefined);
  }

  /**
   * A person's handle as auth last said (registration or a change), unless a newer version is already here. Whoever
   * held that handle before has moved on (auth keeps handles unique): their row goes until their own event arrives.
   */
  async upsertProfile(trx: PostsDb, userId: string, handle: string, version: number) {
    const held = await trx.selectFrom('posts.profiles').select('version').where('user_id', '=', userId).executeTakeFirst();
    if (held && Number(held.version) > version) return;
    await sql`delete from posts.profiles where lower(handle) = lower(${handle}) and user_id <> ${userId}::uuid`.execute(trx);
    await sql`insert into posts.profiles (user_id, handle, version) values (${userId}::uuid, ${handle}, ${version})
      on conflict (user_id) do update set handle = excluded.handle, version = excluded.version where posts.profiles.version <= excluded.version`.execute(trx);
  }

  async recordOpen(userId: string, post: Pick<PostRow, 'id' | 'community_id' | 'space_id'>): Promise<void> {
    await sql`
      insert into posts.post_opens (user_id, post_id, community_id, space_id) values (${userId}::uuid, ${post.id}::uuid, ${post.community_id}::uuid, ${post.space_id}::uuid)
      on conflict (user_id, post_id) do update set last_opened_at = now(), opens = posts.post_opens.opens + 1
        where posts.post_opens.last_opened_at < now() - interval '1 minute'`.execute(this.db);
  }

  async opensOf(userId: string, communityId: string, limit: number) {
    const { rows } = await sql<{ post_id: string; space_id: string; title: string | null; excerpt: string; first_opened_at: Date; last_opened_at: Date; opens: number }>`
      select o.post_id, o.space_id, p.title, p.excerpt, o.first_opened_at, o.last_opened_at, o.opens
      from posts.post_opens o join posts.posts p on p.id = o.post_id
      where o.user_id = ${userId}::uuid and o.community_id = ${communityId}::uuid
      order by o.last_opened_at desc limit ${limit}`.execute(this.db);
    return rows;
  }
}

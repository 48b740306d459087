import {
  badInput,
  batcher,
  memo,
  fileUrlPath,
  type FileVariant,
  type Identity,
  type MediaFile,
  newId,
  parseInput,
  type ServiceDeps,
  type SpaceAccess,
  signedUrlExpiry,
  unauthenticated,
} from '@circles/platform';
import type { Kysely } from 'kysely';

import { postErrors } from './errors.ts';
import { commentBody, createPostInput, idInput, optionIds as optionIdsInput, reason as reasonInput, updatePostInput } from './inputs.ts';
import { renderMarkdown } from './markdown.ts';
import {
  type AttachmentRow,
  type CommentRow,
  type CommentSort,
  type Cursor,
  type FeedSort,
  type PollOptionRow,
  type PollRow,
  type PostRow,
  type PostsDb,
  PostsRepository,
} from './repo.ts';

export const postTopics = {
  postCreated: 'posts.post_created',
  postEdited: 'posts.post_edited',
  postDeleted: 'posts.post_deleted',
  postRemoved: 'posts.post_removed',
  postRestored: 'posts.post_restored',
  commentCreated: 'posts.comment_created',
  commentEdited: 'posts.comment_edited',
  commentDeleted: 'posts.comment_deleted',
  commentRemoved: 'posts.comment_removed',
  reactionAdded: 'posts.reaction_added',
  reactionRemoved: 'posts.reaction_removed',
  pollVoted: 'posts.poll_voted',
} as const;

/** Replies nest this deep; a reply to the deepest level joins its parent's replies. */
export const MAX_DEPTH = 4;
const MAX_DISTINCT_EMOJI = 20;
// One emoji (with skin tones, ZWJ sequences and flags): RGI_Emoji needs the v flag (Node 20 has it; TS targets lower).
const EMOJI = new RegExp('^\\p{RGI_Emoji}$', 'v');
/** How much plain text events carry for search (the full body is at most 40,000 characters). */
const EVENT_TEXT_CHARS = 20_000;
const PUBLIC_URL_TTL_MS = 7 * 86_400_000;
const GATED_URL_TTL_MS = 15 * 60_000;

/** What a viewer gets of a post: all of it, a teaser (a gated circle they are not in) or a tombstone. */
export type PostMode = 'full' | 'teaser' | 'tombstone';
export interface PostView {
  row: PostRow;
  mode: PostMode;
  access: SpaceAccess;
  viewer: Viewer;
}
export interface CommentView {
  row: CommentRow;
  post: PostView;
  tombstone: boolean;
  replies: CommentView[];
}

const excerptOf = (text: string, max = 280) => {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length <= max ? flat : `${flat.slice(0, max - 1).replace(/\s+\S*$/, '')}…`;
};

export function encodeCursor(c: Cursor): string {
  return Buffer.from(JSON.stringify(c)).toString('base64url');
}
export function decodeCursor(s: string | null | undefined, kind: 'date' | 'number'): Cursor | null {
  if (!s) return null;
  try {
    const v = JSON.parse(Buffer.from(s, 'base64url').toString('utf8')) as unknown;
    if (!Array.isArray(v) || v.length !== 2 || typeof v[1] !== 'string' || !/^[0-9a-f-]{36}$/.test(v[1])) throw new Error();
    if (kind === 'number' ? !Number.isSafeInteger(v[0]) : typeof v[0] !== 'string' || Number.isNaN(Date.parse(v[0]))) throw new Error();
    return v as Cursor;
  } catch {
    throw postErrors.badCursor();
  }
}
const pageSize = (first: number | null | undefined, max: number) => {
  const n = first ?? 20;
  if (!Number.isInteger(n) || n < 1 || n > max) throw badInput(`Ask for between 1 and ${max} at a time.`, 'first');
  return n;
};

/**
 * What one request knows about its viewer: permission answers, visits and batched loads, each asked once.
 * Created per GraphQL request by the resolvers.
 */
export class Viewer {
  readonly access: (communityId: string, spaceId: string) => Promise<SpaceAccess | null>;
  readonly can: (permission: string, communityId: string, spaceId: string) => Promise<boolean>;
  readonly lastVisit: (communityId: string) => Promise<Date | null>;
  readonly reactions: (targetId: string) => Promise<{ emoji: string; count: number; viewerReacted: boolean }[]>;
  readonly attachments: (postId: string) => Promise<AttachmentRow[]>;
  readonly poll: (postId: string) => Promise<{ poll: PollRow; options: PollOptionRow[] } | null>;
  readonly votes: (postId: string) => Promise<string[]>;

  constructor(
    readonly userId: string | null,
    svc: PostsService,
  ) {
    const { apis } = svc.deps;
    this.access = memo(
      (communityId: string, spaceId: string) => apis.community.spaceAccess({ userId, communityId, spaceId }),
      (c, s) => `${c}:${s}`,
    );
    this.can = memo(
      async (permission: string, communityId: string, spaceId: string) =>
        userId !== null && (await apis.community.can({ userId, permission, communityId, spaceId })),
      (p, c, s) => `${p}:${c}:${s}`,
    );
    this.lastVisit = memo(async (communityId: string) => (userId ? svc.repo.lastVisit(userId, communityId) : null), (c) => c);
    this.reactions = batcher((ids) => svc.repo.reactionSummaries(ids, userId), []);
    this.attachments = batcher((ids) => svc.repo.attachmentsOf(ids), []);
    this.poll = batcher((ids) => svc.repo.polls(ids), null);
    this.votes = batcher(async (ids) => (userId ? svc.repo.votesOf(ids, userId) : new Map()), []);
  }
}

/** Posts, comments, reactions, polls and feeds. Resolvers only translate. */
export class PostsService {
  readonly repo: PostsRepository;
  private readonly postLimit;
  private readonly commentLimit;

  constructor(readonly deps: ServiceDeps) {
    this.repo = new PostsRepository(deps.db as PostsDb);
    // Enough for a lively discussion, too little for a flood: 20 posts and 120 comments per 10 minutes.
    this.postLimit = deps.limits.limiter({ name: 'posts-create', points: 20, windowMs: 600_000 });
    this.commentLimit = deps.limits.limiter({ name: 'comments-create', points: 120, windowMs: 600_000 });
  }

  viewer(identity: Identity): Viewer {
    return new Viewer(identity.userId, this);
  }

  // Reading --------------------------------------------------------------------------------------------------------

  /** How this viewer sees a post, or null when its space is hidden from them. */
  async view(row: PostRow, viewer: Viewer): Promise<PostView | null> {
    const access = await viewer.access(row.community_id, row.space_id);
    if (!access) return null;
    if (!access.readable) return row.status === 'published' ? { row, mode: 'teaser', access, viewer } : null;
    if (row.status === 'published') return { row, mode: 'full', access, viewer };
    if (row.status === 'removed' && (row.author_id === viewer.userId || (await this.canModerate(row, viewer)))) return { row, mode: 'full', access, viewer };
    return { row, mode: 'tombstone', access, viewer };
  }

  async post(id: string, viewer: Viewer): Promise<PostView | null> {
    if (!/^[0-9a-f-]{36}$/i.test(id)) return null;
    const row = await this.repo.post(id);
    const view = row ? await this.view(row, viewer) : null;
    // Opening a circle's post in full is recorded (at most once a minute per person and post): it is what a
    // creator shows a bank when a paying member disputes the charge.
    if (view?.mode === 'full' && view.access.kind === 'circle' && viewer.userId) await this.repo.recordOpen(viewer.userId, view.row);
    return view;
  }

  /** Circle posts this person opened in a community, newest first (the payments service's dispute evidence). */
  async openedBy(userId: string, communityId: string, limit = 200) {
    if (!/^[0-9a-f-]{36}$/i.test(userId) || !/^[0-9a-f-]{36}$/i.test(communityId)) return [];
    return (await this.repo.opensOf(userId, communityId, Math.min(Math.max(limit, 1), 1000))).map((r) => ({
      postId: r.post_id,
      spaceId: r.space_id,
      title: r.title ?? r.excerpt.slice(0, 80),
      firstOpenedAt: r.first_opened_at.toISOString(),
      lastOpenedAt: r.last_opened_at.toISOString(),
      opens: r.opens,
    }));
  }

  canModerate(row: Pick<PostRow, 'community_id' | 'space_id'>, viewer: Viewer) {
    return viewer.can('moderate_content', row.community_id, row.space_id);
  }

  async feed(
    viewer: Viewer,
    args: { communityId: string; spaceId?: string | null; sort: FeedSort; period: 'day' | 'week' | 'all'; first?: number | null; after?: string | null },
  ) {
    const communityId = parseInput(idInput, args.communityId);
    const limit = pageSize(args.first, 100);
    const after = decodeCursor(args.after, args.sort === 'top' ? 'number' : 'date');
    let spaceIds: string[];
    let pinnedSpace: string | null;
    let teaser = false;
    if (args.spaceId) {
      const spaceId = parseInput(idInput, args.spaceId);
      const access = await viewer.access(communityId, spaceId);
      if (!access) throw postErrors.spaceNotFound();
      teaser = !access.readable;
      spaceIds = [spaceId];
      pinnedSpace = spaceId;
    } else {
      const spaces = await this.deps.apis.community.readableSpaces({ userId: viewer.userId, communityId });
      if (!spaces) throw postErrors.communityNotFound();
      spaceIds = spaces.map((s) => s.id);
      pinnedSpace = spaces.find((s) => s.kind === 'public_center')?.id ?? null;
    }
    const since = args.sort === 'top' && args.period !== 'all' ? new Date(Date.now() - (args.period === 'day' ? 1 : 7) * 86_400_000) : null;
    const [rows, pinnedRows, lastVisitAt] = await Promise.all([
      spaceIds.length ? this.repo.feed({ spaceIds, sort: args.sort, since, limit: limit + 1, after, excludePinnedIn: pinnedSpace }) : [],
      pinnedSpace && !after ? this.repo.pinned(pinnedSpace) : [],
      viewer.lastVisit(communityId),
    ]);
    const page = rows.slice(0, limit);
    const last = page.at(-1);
    const toView = async (r: PostRow) => (teaser ? ({ row: r, mode: 'teaser', access: (await viewer.access(r.community_id, r.space_id))!, viewer } as PostView) : this.view(r, viewer));
    return {
      pinned: (await Promise.all(pinnedRows.map(toView))).filter((v): v is PostView => v !== null),
      posts: (await Promise.all(page.map(toView))).filter((v): v is PostView => v !== null),
      endCursor: last && rows.length > limit ? encodeCursor([args.sort === 'top' ? last.score : args.sort === 'active' ? last.last_activity_at.toISOString() : last.created_at.toISOString(), last.id]) : null,
      hasNextPage: rows.length > limit,
      lastVisitAt,
    };
  }

  async comments(post: PostView, args: { sort: CommentSort; first?: number | null; after?: string | null }) {
    if (post.mode === 'teaser') return { nodes: [], endCursor: null, hasNextPage: false, totalCount: post.row.comment_count };
    const limit = pageSize(args.first, 200);
    const after = decodeCursor(args.after, args.sort === 'top' ? 'number' : 'date');
    const rows = await this.repo.topLevelComments(post.row.id, args.sort, limit + 1, after);
    const page = rows.slice(0, limit);
    const replies = await this.repo.replies(page.map((c) => c.id));
    const byRoot = new Map<string, CommentRow[]>();
    for (const r of replies) byRoot.set(r.root_id, [...(byRoot.get(r.root_id) ?? []), r]);
    const last = page.at(-1);
    return {
      nodes: page.map((c) => this.threadView(c, byRoot.get(c.id) ?? [], post)),
      endCursor: last && rows.length > limit ? encodeCursor([args.sort === 'top' ? last.reaction_count : last.created_at.toISOString(), last.id]) : null,
      hasNextPage: rows.length > limit,
      totalCount: post.row.comment_count,
    };
  }

  /** A top-level comment with its replies in thread order (depth-first, oldest first at each level). */
  private threadView(root: CommentRow, replies: CommentRow[], post: PostView): CommentView {
    const children = new Map<string, CommentRow[]>();
    for (const r of replies) children.set(r.parent_id!, [...(children.get(r.parent_id!) ?? []), r]);
    const ordered: CommentView[] = [];
    const walk = (id: string) => {
      for (const c of children.get(id) ?? []) {
        ordered.push(this.commentView(c, post));
        walk(c.id);
      }
    };
    walk(root.id);
    return { ...this.commentView(root, post), replies: ordered };
  }

  commentView(row: CommentRow, post: PostView): CommentView {
    const hidden = row.status === 'deleted' || (row.status === 'removed' && row.author_id !== post.viewer.userId);
    return { row, post, tombstone: hidden, replies: [] };
  }

  async revisions(post: PostView) {
    if (post.mode !== 'full') return [];
    return this.repo.revisions(post.row.id);
  }

  async reactors(targetId: string, emoji: string, first: number | null | undefined) {
    return (await this.repo.reactors(targetId, emoji, pageSize(first ?? 50, 200))).map((r) => r.user_id);
  }

  /** Signed links to an attachment's stored forms: long-lived for public posts, a few minutes for gated ones. */
  fileUrl(view: PostView, fileId: string, variant: FileVariant): string {
    const ttl = view.access.public ? PUBLIC_URL_TTL_MS : GATED_URL_TTL_MS;
    return this.deps.urls.sign(fileUrlPath(fileId, variant), signedUrlExpiry(ttl));
  }

  async spaceFiles(viewer: Viewer, args: { communityId: string; spaceId: string; kind?: string | null; uploaderId?: string | null; first?: number | null; after?: string | null }) {
    const communityId = parseInput(idInput, args.communityId);
    const spaceId = parseInput(idInput, args.spaceId);
    const access = await viewer.access(communityId, spaceId);
    if (!access) throw postErrors.spaceNotFound();
    if (!access.readable) throw postErrors.cannotRead();
    const limit = pageSize(args.first ?? 50, 200);
    const rows = await this.repo.library({
      spaceId,
      kind: args.kind ?? null,
      uploaderId: args.uploaderId ? parseInput(idInput, args.uploaderId) : null,
      limit: limit + 1,
      after: decodeCursor(args.after, 'date'),
    });
    const page = rows.slice(0, limit);
    const last = page.at(-1);
    return {
      files: page,
      access,
      endCursor: last && rows.length > limit ? encodeCursor([last.created_at.toISOString(), last.id]) : null,
      hasNextPage: rows.length > limit,
    };
  }

  // Writing posts --------------------------------------------------------------------------------------------------

  private requireUser(identity: Identity): string {
    if (!identity.userId) throw unauthenticated();
    return identity.userId;
  }

  private async throttle(limiter: typeof this.postLimit, userId: string) {
    const state = await limiter.consume(userId);
    if (!state.allowed) throw postErrors.rateLimited(Math.ceil(state.retryAfterMs / 1000));
  }

  private async render(body: string) {
    const r = renderMarkdown(body);
    const mentions = await this.repo.userIdsByHandles(r.mentions);
    return { html: r.html, text: r.text, mentions };
  }

  private usedBy(row: Pick<PostRow, 'community_id' | 'space_id' | 'id'>, access: SpaceAccess) {
    return `community:${row.community_id}:${access.kind === 'circle' ? 'circle' : 'space'}:${row.space_id}:post:${row.id}`;
  }

  async createPost(identity: Identity, input: unknown): Promise<PostRow> {
    const userId = this.requireUser(identity);
    const p = parseInput(createPostInput, input);
    const viewer = this.viewer(identity);
    const access = await viewer.access(p.communityId, p.spaceId);
    if (!access) throw postErrors.spaceNotFound();
    if (!(await viewer.can('post', p.communityId, p.spaceId))) throw postErrors.cannotPost();
    await this.throttle(this.postLimit, userId);
    const rendered = await this.render(p.body);
    const now = new Date();
    const id = newId();
    const row: PostRow = {
      id,
      community_id: p.communityId,
      space_id: p.spaceId,
      author_id: userId,
      title: p.title,
      body: p.body,
      body_html: rendered.html,
      excerpt: excerptOf(rendered.text || p.title || ''),
      mentions: rendered.mentions,
      status: 'published',
      removal_reason: null,
      removed_by: null,
      pinned_at: null,
      locked: false,
      comment_count: 0,
      reaction_count: 0,
      score: 0,
      created_at: now,
      edited_at: null,
      last_activity_at: now,
      deleted_at: null,
    };
    const files = p.attachments.length ? await this.deps.apis.media.claimFiles({ uploadIds: p.attachments, userId, usedBy: this.usedBy(row, access) }) : [];
    try {
      await this.repo.transaction(async (trx) => {
        await this.repo.insertPost(trx, row);
        await this.insertAttachments(trx, row, files, userId);
        if (p.poll) {
          await trx.insertInto('posts.polls').values({ post_id: id, question: p.poll.question, multiple_choice: p.poll.multipleChoice, closes_at: p.poll.closesAt, voter_count: 0 }).execute();
          await trx
            .insertInto('posts.poll_options')
            .values(p.poll.options.map((label, position) => ({ id: newId(), post_id: id, position, label, votes: 0 })))
            .execute();
        }
        await this.deps.outbox.write(trx as Kysely<any>, postTopics.postCreated, {
          ...this.postEvent(row, access),
          text: rendered.text.slice(0, EVENT_TEXT_CHARS),
          mentions: rendered.mentions,
          attachmentCount: files.length,
          hasPoll: p.poll !== null,
        });
      });
    } catch (err) {
      if (files.length) await this.deps.apis.media.releaseFiles({ fileIds: files.map((f) => f.id) }).catch(() => {});
      throw err;
    }
    this.deps.outbox.nudge();
    return row;
  }

  private async insertAttachments(trx: PostsDb, row: PostRow, files: MediaFile[], uploaderId: string, from = 0) {
    if (!files.length) return;
    await trx
      .insertInto('posts.attachments')
      .values(
        files.map((f, i) => ({
          id: f.id,
          post_id: row.id,
          community_id: row.community_id,
          space_id: row.space_id,
          uploader_id: uploaderId,
          position: from + i,
          name: f.name,
          content_type: f.contentType,
          kind: f.kind,
          bytes: f.bytes,
          width: f.width,
          height: f.height,
          has_thumb: f.hasThumb,
        })),
      )
      .execute();
  }

  private postEvent(row: PostRow, access: SpaceAccess) {
    return {
      postId: row.id,
      communityId: row.community_id,
      spaceId: row.space_id,
      spaceKind: access.kind,
      public: access.public,
      authorId: row.author_id,
      title: row.title,
      createdAt: row.created_at.toISOString(),
    };
  }

  /** The post, its space's access for this viewer, and the viewer's id, or the right refusal. */
  private async loadForWrite(identity: Identity, postId: string) {
    const userId = this.requireUser(identity);
    const viewer = this.viewer(identity);
    const row = await this.repo.post(parseInput(idInput, postId));
    const access = row ? await viewer.access(row.community_id, row.space_id) : null;
    if (!row || !access) throw postErrors.postNotFound();
    return { userId, viewer, row, access };
  }

  async updatePost(identity: Identity, postId: string, input: unknown): Promise<PostRow> {
    const { userId, viewer, row, access } = await this.loadForWrite(identity, postId);
    const patch = parseInput(updatePostInput, input);
    if (row.author_id !== userId) throw postErrors.notAuthor();
    if (row.status !== 'published') throw postErrors.gone();
    if (!(await viewer.can('post', row.community_id, row.space_id))) throw postErrors.cannotPost();
    const title = patch.title === undefined ? row.title : patch.title || null;
    const body = patch.body ?? row.body;
    const rendered = await this.render(body);
    const current = await this.repo.attachmentsOf([row.id]);
    const currentIds = (current.get(row.id) ?? []).map((a) => a.id);
    const wanted = patch.attachments ?? currentIds;
    const added = wanted.filter((id) => !currentIds.includes(id));
    const dropped = currentIds.filter((id) => !wanted.includes(id));
    const files = added.length ? await this.deps.apis.media.claimFiles({ uploadIds: added, userId, usedBy: this.usedBy(row, access) }) : [];
    const changed = title !== row.title || body !== row.body || wanted.join() !== currentIds.join();
    if (!changed) return row;
    const now = new Date();
    const write = this.repo.transaction(async (trx) => {
      const locked = await this.repo.postForUpdate(trx, row.id);
      if (!locked || locked.status !== 'published') throw postErrors.gone();
      if (title !== locked.title || body !== locked.body) {
        await this.repo.insertRevision(trx, { id: newId(), post_id: row.id, title: locked.title, body: locked.body, editor_id: userId, replaced_at: now });
      }
      if (dropped.length) await trx.deleteFrom('posts.attachments').where('post_id', '=', row.id).where('id', 'in', dropped).execute();
      await this.insertAttachments(trx, row, files, userId, 100);
      // Keep the order the author gave.
      for (const [position, id] of wanted.entries()) await trx.updateTable('posts.attachments').set({ position }).where('id', '=', id).where('post_id', '=', row.id).execute();
      const next = await this.repo.updatePost(trx, row.id, {
        title,
        body,
        body_html: rendered.html,
        excerpt: excerptOf(rendered.text || title || ''),
        mentions: rendered.mentions,
        edited_at: now,
      });
      await this.deps.outbox.write(trx as Kysely<any>, postTopics.postEdited, {
        ...this.postEvent(next, access),
        editorId: userId,
        text: rendered.text.slice(0, EVENT_TEXT_CHARS),
        mentions: rendered.mentions,
        newMentions: rendered.mentions.filter((m) => !locked.mentions.includes(m)),
      });
      return next;
    });
    const updated = await write.catch(async (err) => {
      // The newly claimed files belong to no saved version: let them go.
      if (files.length) await this.deps.apis.media.releaseFiles({ fileIds: files.map((f) => f.id) }).catch(() => {});
      throw err;
    });
    if (dropped.length) await this.deps.apis.media.releaseFiles({ fileIds: dropped });
    this.deps.outbox.nudge();
    return updated;
  }

  /** The author deletes: a tombstone stays so replies keep their place; text, history and files are gone. */
  async deletePost(identity: Identity, postId: string): Promise<PostRow> {
    const { userId, row, access } = await this.loadForWrite(identity, postId);
    if (row.author_id !== userId) throw postErrors.notAuthor();
    if (row.status === 'deleted') return row;
    const { updated, fileIds } = await this.repo.transaction(async (trx) => {
      const files = await trx.deleteFrom('posts.attachments').where('post_id', '=', row.id).returning('id').execute();
      await trx.deleteFrom('posts.revisions').where('post_id', '=', row.id).execute();
      await trx.deleteFrom('posts.polls').where('post_id', '=', row.id).execute();
      await this.repo.deleteReactions(trx, [row.id]);
      const updated = await this.repo.updatePost(trx, row.id, {
        status: 'deleted',
        title: null,
        body: '',
        body_html: '',
        excerpt: '',
        mentions: [],
        pinned_at: null,
        reaction_count: 0,
        score: 2 * row.comment_count,
        deleted_at: new Date(),
      });
      await this.deps.outbox.write(trx as Kysely<any>, postTopics.postDeleted, { ...this.postEvent(row, access), deletedBy: userId });
      return { updated, fileIds: files.map((f) => f.id) };
    });
    if (fileIds.length) await this.deps.apis.media.releaseFiles({ fileIds });
    this.deps.outbox.nudge();
    return updated;
  }

  async removePost(identity: Identity, postId: string, reason: string): Promise<PostRow> {
    const { userId, viewer, row, access } = await this.loadForWrite(identity, postId);
    const why = parseInput(reasonInput, reason);
    if (!(await this.canModerate(row, viewer))) throw postErrors.notModerator();
    if (row.status === 'deleted') throw postErrors.gone();
    const updated = await this.repo.transaction(async (trx) => {
      const updated = await this.repo.updatePost(trx, row.id, { status: 'removed', removal_reason: why, removed_by: userId, pinned_at: null });
      await this.deps.outbox.write(trx as Kysely<any>, postTopics.postRemoved, { ...this.postEvent(row, access), moderatorId: userId, reason: why, ip: identity.ip });
      return updated;
    });
    this.deps.outbox.nudge();
    return updated;
  }

  async restorePost(identity: Identity, postId: string): Promise<PostRow> {
    const { userId, viewer, row, access } = await this.loadForWrite(identity, postId);
    if (!(await this.canModerate(row, viewer))) throw postErrors.notModerator();
    if (row.status !== 'removed') throw badInput('Only a removed post can be restored.', 'id');
    const updated = await this.repo.transaction(async (trx) => {
      const updated = await this.repo.updatePost(trx, row.id, { status: 'published', removal_reason: null, removed_by: null });
      await this.deps.outbox.write(trx as Kysely<any>, postTopics.postRestored, { ...this.postEvent(row, access), moderatorId: userId, ip: identity.ip });
      return updated;
    });
    this.deps.outbox.nudge();
    return updated;
  }

  async pinPost(identity: Identity, postId: string, pinned: boolean): Promise<PostRow> {
    const { viewer, row } = await this.loadForWrite(identity, postId);
    if (!(await this.canModerate(row, viewer))) throw postErrors.notModerator();
    if (row.status !== 'published') throw postErrors.gone();
    if ((row.pinned_at !== null) === pinned) return row;
    return this.repo.transaction((trx) => this.repo.updatePost(trx, row.id, { pinned_at: pinned ? new Date() : null }));
  }

  async lockPost(identity: Identity, postId: string, locked: boolean): Promise<PostRow> {
    const { viewer, row } = await this.loadForWrite(identity, postId);
    if (!(await this.canModerate(row, viewer))) throw postErrors.notModerator();
    if (row.status !== 'published') throw postErrors.gone();
    return this.repo.transaction((trx) => this.repo.updatePost(trx, row.id, { locked }));
  }

  // Taking part: comments, reactions, votes ---------------------------------------------------------------------------

  /** The viewer may comment, react and vote on this published post (moderators also on locked ones). */
  private async requireParticipation(viewer: Viewer, row: PostRow, access: SpaceAccess) {
    if (!access.readable) throw postErrors.cannotRead();
    if (row.status !== 'published') throw postErrors.gone();
    if (!(await viewer.can('comment', row.community_id, row.space_id))) throw postErrors.cannotComment();
  }

  async mayComment(view: PostView): Promise<boolean> {
    if (view.mode !== 'full' || view.row.status !== 'published' || !view.viewer.userId) return false;
    if (!(await view.viewer.can('comment', view.row.community_id, view.row.space_id))) return false;
    return !view.row.locked || this.canModerate(view.row, view.viewer);
  }

  async createComment(identity: Identity, postId: string, parentId: string | null | undefined, body: string): Promise<CommentRow> {
    const { userId, viewer, row, access } = await this.loadForWrite(identity, postId);
    const text = parseInput(commentBody, body);
    await this.requireParticipation(viewer, row, access);
    if (row.locked && !(await this.canModerate(row, viewer))) throw postErrors.locked();
    let parent: CommentRow | undefined;
    if (parentId) {
      parent = await this.repo.comment(parseInput(idInput, parentId));
      if (!parent || parent.post_id !== row.id) throw badInput('That comment is not on this post.', 'parentId');
      if (parent.status !== 'published') throw postErrors.commentGone();
      if (parent.depth >= MAX_DEPTH) parent = (await this.repo.comment(parent.parent_id!))!;
    }
    await this.throttle(this.commentLimit, userId);
    const rendered = await this.render(text);
    const now = new Date();
    const id = newId();
    const comment = await this.repo.transaction(async (trx) => {
      const comment = await this.repo.insertComment(trx, {
        id,
        post_id: row.id,
        root_id: parent ? parent.root_id : id,
        parent_id: parent?.id ?? null,
        depth: parent ? parent.depth + 1 : 0,
        author_id: userId,
        body: text,
        body_html: rendered.html,
        mentions: rendered.mentions,
        status: 'published',
        removal_reason: null,
        removed_by: null,
        reaction_count: 0,
        reply_count: 0,
        created_at: now,
        edited_at: null,
      });
      await this.repo.bumpPost(trx, row.id, { comments: 1, activityAt: now });
      if (parent) await this.repo.bumpReplies(trx, parent.root_id, 1);
      await this.deps.outbox.write(trx as Kysely<any>, postTopics.commentCreated, {
        ...this.commentEvent(comment, row, access),
        parentAuthorId: parent?.author_id ?? null,
        postAuthorId: row.author_id,
        text: rendered.text.slice(0, EVENT_TEXT_CHARS),
        mentions: rendered.mentions,
      });
      return comment;
    });
    this.deps.outbox.nudge();
    return comment;
  }

  private commentEvent(c: CommentRow, post: PostRow, access: SpaceAccess) {
    return {
      commentId: c.id,
      postId: post.id,
      parentId: c.parent_id,
      communityId: post.community_id,
      spaceId: post.space_id,
      spaceKind: access.kind,
      public: access.public,
      authorId: c.author_id,
      createdAt: c.created_at.toISOString(),
    };
  }

  private async loadComment(identity: Identity, commentId: string) {
    const userId = this.requireUser(identity);
    const comment = await this.repo.comment(parseInput(idInput, commentId));
    const post = comment ? await this.repo.post(comment.post_id) : undefined;
    const viewer = this.viewer(identity);
    const access = post ? await viewer.access(post.community_id, post.space_id) : null;
    if (!comment || !post || !access || !access.readable) throw postErrors.commentNotFound();
    return { userId, viewer, comment, post, access };
  }

  async updateComment(identity: Identity, commentId: string, body: string): Promise<{ comment: CommentRow; post: PostRow }> {
    const { userId, viewer, comment, post, access } = await this.loadComment(identity, commentId);
    const text = parseInput(commentBody, body);
    if (comment.author_id !== userId) throw postErrors.notAuthor();
    if (comment.status !== 'published') throw postErrors.commentGone();
    await this.requireParticipation(viewer, post, access);
    if (text === comment.body) return { comment, post };
    const rendered = await this.render(text);
    const updated = await this.repo.transaction(async (trx) => {
      const updated = await this.repo.updateComment(trx, comment.id, { body: text, body_html: rendered.html, mentions: rendered.mentions, edited_at: new Date() });
      await this.deps.outbox.write(trx as Kysely<any>, postTopics.commentEdited, {
        ...this.commentEvent(updated, post, access),
        text: rendered.text.slice(0, EVENT_TEXT_CHARS),
        mentions: rendered.mentions,
        newMentions: rendered.mentions.filter((m) => !comment.mentions.includes(m)),
      });
      return updated;
    });
    this.deps.outbox.nudge();
    return { comment: updated, post };
  }

  async deleteComment(identity: Identity, commentId: string): Promise<{ comment: CommentRow; post: PostRow }> {
    const { userId, comment, post, access } = await this.loadComment(identity, commentId);
    if (comment.author_id !== userId) throw postErrors.notAuthor();
    if (comment.status === 'deleted') return { comment, post };
    const updated = await this.repo.transaction(async (trx) => {
      const updated = await this.repo.updateComment(trx, comment.id, { status: 'deleted', body: '', body_html: '', mentions: [], reaction_count: 0 });
      await this.repo.deleteReactions(trx, [comment.id]);
      // A removed comment was already taken out of the counts.
      if (comment.status === 'published') await this.uncount(trx, comment, post);
      await this.deps.outbox.write(trx as Kysely<any>, postTopics.commentDeleted, { ...this.commentEvent(comment, post, access), deletedBy: userId });
      return updated;
    });
    this.deps.outbox.nudge();
    return { comment: updated, post };
  }

  private async uncount(trx: PostsDb, comment: CommentRow, post: PostRow) {
    await this.repo.bumpPost(trx, post.id, { comments: -1, reactions: 0 });
    if (comment.depth > 0) await this.repo.bumpReplies(trx, comment.root_id, -1);
  }

  async removeComment(identity: Identity, commentId: string, reason: string): Promise<{ comment: CommentRow; post: PostRow }> {
    const { userId, viewer, comment, post, access } = await this.loadComment(identity, commentId);
    const why = parseInput(reasonInput, reason);
    if (!(await this.canModerate(post, viewer))) throw postErrors.notModerator();
    if (comment.status !== 'published') throw postErrors.commentGone();
    const updated = await this.repo.transaction(async (trx) => {
      const updated = await this.repo.updateComment(trx, comment.id, { status: 'removed', removal_reason: why, removed_by: userId });
      await this.uncount(trx, comment, post);
      await this.deps.outbox.write(trx as Kysely<any>, postTopics.commentRemoved, { ...this.commentEvent(comment, post, access), moderatorId: userId, reason: why, ip: identity.ip });
      return updated;
    });
    this.deps.outbox.nudge();
    return { comment: updated, post };
  }

  private checkEmoji(emoji: string): string {
    const e = typeof emoji === 'string' ? emoji.trim() : '';
    if (!EMOJI.test(e)) throw postErrors.badEmoji();
    return e;
  }

  /** Adds or takes back one emoji on a post or comment; repeating either is harmless. */
  private async setReaction(trx: PostsDb, targetId: string, userId: string, emoji: string, reacted: boolean): Promise<boolean> {
    if (!reacted) return this.repo.removeReaction(trx, targetId, userId, emoji);
    const used = await this.repo.distinctEmoji(trx, targetId);
    if (!used.includes(emoji) && used.length >= MAX_DISTINCT_EMOJI) throw postErrors.tooManyEmoji(MAX_DISTINCT_EMOJI);
    return this.repo.addReaction(trx, targetId, userId, emoji);
  }

  async setPostReaction(identity: Identity, postId: string, emoji: string, reacted: boolean): Promise<PostRow> {
    const { userId, viewer, row, access } = await this.loadForWrite(identity, postId);
    const e = this.checkEmoji(emoji);
    await this.requireParticipation(viewer, row, access);
    const updated = await this.repo.transaction(async (trx) => {
      if (!(await this.setReaction(trx, row.id, userId, e, reacted))) return row;
      await this.repo.bumpPost(trx, row.id, { reactions: reacted ? 1 : -1 });
      await this.deps.outbox.write(trx as Kysely<any>, reacted ? postTopics.reactionAdded : postTopics.reactionRemoved, {
        targetType: 'post',
        targetId: row.id,
        postId: row.id,
        communityId: row.community_id,
        spaceId: row.space_id,
        targetAuthorId: row.author_id,
        userId,
        emoji: e,
      });
      return (await this.repo.post(row.id, trx))!;
    });
    this.deps.outbox.nudge();
    return updated;
  }

  async setCommentReaction(identity: Identity, commentId: string, emoji: string, reacted: boolean): Promise<{ comment: CommentRow; post: PostRow }> {
    const { userId, viewer, comment, post, access } = await this.loadComment(identity, commentId);
    const e = this.checkEmoji(emoji);
    await this.requireParticipation(viewer, post, access);
    if (comment.status !== 'published') throw postErrors.commentGone();
    const updated = await this.repo.transaction(async (trx) => {
      if (!(await this.setReaction(trx, comment.id, userId, e, reacted))) return comment;
      await this.repo.bumpCommentReactions(trx, comment.id, reacted ? 1 : -1);
      await this.deps.outbox.write(trx as Kysely<any>, reacted ? postTopics.reactionAdded : postTopics.reactionRemoved, {
        targetType: 'comment',
        targetId: comment.id,
        postId: post.id,
        communityId: post.community_id,
        spaceId: post.space_id,
        targetAuthorId: comment.author_id,
        userId,
        emoji: e,
      });
      return (await this.repo.comment(comment.id, trx))!;
    });
    this.deps.outbox.nudge();
    return { comment: updated, post };
  }

  /** Replaces the viewer's vote (an empty list takes it back). One vote per member; single choice means one option. */
  async votePoll(identity: Identity, postId: string, optionIds: string[]): Promise<PostRow> {
    const { userId, viewer, row, access } = await this.loadForWrite(identity, postId);
    const chosen = [...new Set(parseInput(optionIdsInput, optionIds))];
    await this.requireParticipation(viewer, row, access);
    await this.repo.transaction(async (trx) => {
      const poll = await trx.selectFrom('posts.polls').selectAll().where('post_id', '=', row.id).forUpdate().executeTakeFirst();
      if (!poll) throw postErrors.noPoll();
      if (poll.closes_at && poll.closes_at <= new Date()) throw postErrors.pollClosed();
      if (!poll.multiple_choice && chosen.length > 1) throw postErrors.badOptions('This poll takes one choice.');
      const options = await trx.selectFrom('posts.poll_options').select('id').where('post_id', '=', row.id).execute();
      if (chosen.some((id) => !options.some((o) => o.id === id))) throw postErrors.badOptions('That option is not in this poll.');
      const previous = await trx.deleteFrom('posts.poll_votes').where('post_id', '=', row.id).where('user_id', '=', userId).returning('option_id').execute();
      for (const p of previous) await trx.updateTable('posts.poll_options').set((eb) => ({ votes: eb('votes', '-', 1) })).where('id', '=', p.option_id).execute();
      if (chosen.length) {
        await trx.insertInto('posts.poll_votes').values(chosen.map((option_id) => ({ post_id: row.id, user_id: userId, option_id }))).execute();
        await trx.updateTable('posts.poll_options').set((eb) => ({ votes: eb('votes', '+', 1) })).where('id', 'in', chosen).execute();
      }
      const delta = (chosen.length ? 1 : 0) - (previous.length ? 1 : 0);
      if (delta) await trx.updateTable('posts.polls').set((eb) => ({ voter_count: eb('voter_count', '+', delta) })).where('post_id', '=', row.id).execute();
      await this.deps.outbox.write(trx as Kysely<any>, postTopics.pollVoted, {
        postId: row.id,
        communityId: row.community_id,
        spaceId: row.space_id,
        authorId: row.author_id,
        userId,
        optionIds: chosen,
        previousOptionIds: previous.map((p) => p.option_id),
      });
    });
    this.deps.outbox.nudge();
    return (await this.repo.post(row.id))!;
  }

  async markFeedSeen(identity: Identity, communityId: string): Promise<Date> {
    const userId = this.requireUser(identity);
    const id = parseInput(idInput, communityId);
    if (!(await this.deps.apis.community.readableSpaces({ userId, communityId: id }))) throw postErrors.communityNotFound();
    const now = new Date();
    await this.repo.markSeen(userId, id, now);
    return now;
  }

  // Events from other services -------------------------------------------------------------------------------------

  async applyProfile(trx: PostsDb, p: { userId: string; handle: string; version?: number }) {
    await this.repo.upsertProfile(trx, p.userId, p.handle, p.version ?? 0);
  }

  /** A deleted community or circle takes its posts along (media drops their files on the same events). */
  async dropSpaceContent(trx: PostsDb, where: { communityId: string; spaceId?: string }) {
    let q = trx.selectFrom('posts.posts').select('id').where('community_id', '=', where.communityId);
    if (where.spaceId) q = q.where('space_id', '=', where.spaceId);
    const ids = (await q.execute()).map((r) => r.id);
    for (let i = 0; i < ids.length; i += 500) {
      const chunk = ids.slice(i, i + 500);
      const comments = await trx.selectFrom('posts.comments').select('id').where('post_id', 'in', chunk).execute();
      await this.repo.deleteReactions(trx, [...chunk, ...comments.map((c) => c.id)]);
      await trx.deleteFrom('posts.posts').where('id', 'in', chunk).execute();
    }
    if (!where.spaceId) await trx.deleteFrom('posts.visits').where('community_id', '=', where.communityId).execute();
  }
}

/**
 * Posts in the web app: addresses, feed and comment sorting as they appear in URLs, and the reactions offered.
 * Shared by server pages and client components (nothing here calls the API).
 */
import type { CommentSort, FeedQuery, FeedSort, FileKind, TopPeriod } from '@circles/client';
import type { MessageKey } from '@/i18n';

export type FeedPost = FeedQuery['feed']['posts'][number];

/** Posts per feed page; the API gives up to 100. */
export const FEED_PAGE = 20;
/** Top-level comments per page (each with all its replies); the API gives up to 200. */
export const COMMENTS_PAGE = 50;
/** Files per library page. */
export const FILES_PAGE = 50;

export const postPath = (slug: string, postId: string) => `/c/${slug}/posts/${postId}`;
export const circlePath = (slug: string, circleId: string) => `/c/${slug}/circles/${circleId}`;

/** Where a space's feed lives: the community home for its Public Center, the circle's page for a circle. */
export function spacePath(slug: string, space: { id: string; kind: 'PUBLIC_CENTER' | 'CIRCLE' }): string {
  return space.kind === 'CIRCLE' ? circlePath(slug, space.id) : `/c/${slug}`;
}

/** The file library of a space. */
export function filesPath(slug: string, space: { id: string; kind: 'PUBLIC_CENTER' | 'CIRCLE' }): string {
  return `${spacePath(slug, space)}/files`;
}

export interface FeedParams {
  sort: 'new' | 'top' | 'active';
  period: 'day' | 'week' | 'all';
  after: string | null;
}

type SearchParams = Record<string, string | string[] | undefined>;
const one = (v: string | string[] | undefined) => (typeof v === 'string' ? v : undefined);

/** Cursors are the API's opaque base64url strings; anything else means the first page. */
export const looksLikeCursor = (v: string | undefined): v is string => typeof v === 'string' && /^[A-Za-z0-9_-]{1,400}$/.test(v);

/** `?sort=top&period=day&after=…`; unknown values fall back to the defaults (newest first; top of the week). */
export function feedParams(search: SearchParams): FeedParams {
  const sort = one(search.sort);
  const period = one(search.period);
  const after = one(search.after);
  return {
    sort: sort === 'top' || sort === 'active' ? sort : 'new',
    period: period === 'day' || period === 'all' ? period : 'week',
    after: looksLikeCursor(after) ? after : null,
  };
}

export const apiSort = (sort: FeedParams['sort']) => sort.toUpperCase() as FeedSort;
export const apiPeriod = (period: FeedParams['period']) => period.toUpperCase() as TopPeriod;

/** The address of a feed sorted one way, from its page's path (defaults left out, so the plain address is "New"). */
export function feedHref(base: string, sort: FeedParams['sort'], period: FeedParams['period'], after?: string | null): string {
  const q = new URLSearchParams();
  if (sort !== 'new') q.set('sort', sort);
  if (sort === 'top' && period !== 'week') q.set('period', period);
  if (after) q.set('after', after);
  const query = q.toString();
  return query ? `${base}?${query}` : base;
}

export const COMMENT_SORTS = ['oldest', 'newest', 'top'] as const;
export type CommentSortParam = (typeof COMMENT_SORTS)[number];

export function commentParams(search: SearchParams): { sort: CommentSortParam; after: string | null } {
  const sort = one(search.comments);
  const after = one(search.commentsAfter);
  return { sort: (COMMENT_SORTS as readonly string[]).includes(sort ?? '') ? (sort as CommentSortParam) : 'oldest', after: looksLikeCursor(after) ? after : null };
}

export const apiCommentSort = (sort: CommentSortParam) => sort.toUpperCase() as CommentSort;

export function commentsHref(base: string, sort: CommentSortParam, after?: string | null): string {
  const q = new URLSearchParams();
  if (sort !== 'oldest') q.set('comments', sort);
  if (after) q.set('commentsAfter', after);
  const query = q.toString();
  return `${query ? `${base}?${query}` : base}#comments`;
}

/** The reactions everyone is offered (any other single emoji people already used shows beside them). */
export const COMMON_REACTIONS = [
  { emoji: '👍', name: 'reactions.name.thumbsUp' },
  { emoji: '❤️', name: 'reactions.name.heart' },
  { emoji: '😂', name: 'reactions.name.laugh' },
  { emoji: '🎉', name: 'reactions.name.party' },
  { emoji: '😮', name: 'reactions.name.surprised' },
  { emoji: '😢', name: 'reactions.name.sad' },
] as const satisfies readonly { emoji: string; name: MessageKey }[];

/** A file library's address with its filters (`?kind=IMAGE&uploader=<id>&after=…`). */
export function libraryHref(base: string, filters: { kind?: FileKind | null; uploaderId?: string | null; after?: string | null }): string {
  const q = new URLSearchParams();
  if (filters.kind) q.set('kind', filters.kind);
  if (filters.uploaderId) q.set('uploader', filters.uploaderId);
  if (filters.after) q.set('after', filters.after);
  const query = q.toString();
  return query ? `${base}?${query}` : base;
}

export const FILE_KINDS: FileKind[] = ['IMAGE', 'VIDEO', 'AUDIO', 'DOCUMENT', 'ARCHIVE', 'TEXT', 'OTHER'];

export function isFileKind(value: string | undefined): value is FileKind {
  return (FILE_KINDS as string[]).includes(value ?? '');
}

/**
 * At most this many attachments per post: the API's own limit (CreatePostInput.attachments, "at most 20"),
 * checked here only so nobody uploads a 21st file for nothing; the server enforces it.
 */
export const MAX_ATTACHMENTS = 20;

/** A short plain-text name for a post without a title (its excerpt's opening words). */
export function untitled(excerpt: string, max = 80): string {
  const flat = excerpt.replace(/\s+/g, ' ').trim();
  return flat.length <= max ? flat : `${flat.slice(0, max - 1).replace(/\s+\S*$/, '')}…`;
}

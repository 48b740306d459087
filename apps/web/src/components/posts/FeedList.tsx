'use client';
/**
 * A feed's posts: pinned ones first, each with its title, author, time, opening and counts, a "New" badge for posts
 * since the viewer's last visit, and for a gated circle's non-members a teaser with "Join to read". "Load more" is
 * a real link to the next page (works without JavaScript); in the browser the next page is appended in place, focus
 * moves to the first new post and the count is announced. Once shown, the feed tells the server it was seen, so
 * the next visit's "New" starts from now.
 */
import Link from 'next/link';
import { useEffect, useRef, useState, type MouseEvent } from 'react';
import { FeedDocument, MarkFeedSeenDocument, type FeedQuery } from '@circles/client';
import { LocalTime } from '@/components/LocalTime';
import { t } from '@/i18n';
import { browserClient } from '@/lib/browser-api';
import { describeError } from '@/lib/errors';
import { apiPeriod, apiSort, FEED_PAGE, feedHref, postPath, spacePath, untitled, type FeedParams, type FeedPost } from '@/lib/posts';
import { Alert, Badge, EmptyState, Spinner } from '@/ui';

export interface FeedListProps {
  communityId: string;
  /** Null for the community's home feed (every space the viewer may read). */
  spaceId: string | null;
  slug: string;
  /** The feed's page path (the community home or the circle page), for sort and page links. */
  basePath: string;
  params: FeedParams;
  initial: FeedQuery['feed'];
  signedIn: boolean;
  /** Where "Join to read" leads for a teaser. */
  joinHref: string;
  /** Says which space each post is in (the home feed mixes them). */
  showSpace: boolean;
}

const FEED_LIST_ID = 'feed-list';

function PostCard({ post, slug, showSpace, joinHref }: { post: FeedPost; slug: string; showSpace: boolean; joinHref: string }) {
  const href = postPath(slug, post.id);
  const title = post.title || untitled(post.excerpt) || t('post.untitled');
  const gone = post.status !== 'PUBLISHED';
  return (
    <article className="c-post-card" aria-labelledby={`post-${post.id}-title`}>
      <h3 id={`post-${post.id}-title`} className="c-post-card__title">
        <Link href={href}>{gone && !post.title ? t(post.status === 'DELETED' ? 'post.deletedTitle' : 'post.removedTitle') : title}</Link>{' '}
        {post.pinned ? <Badge>{t('feed.pinned')}</Badge> : null} {post.isNew ? <Badge tone="success">{t('feed.new')}</Badge> : null}{' '}
        {post.locked ? <Badge>{t('feed.locked')}</Badge> : null} {post.status === 'REMOVED' ? <Badge tone="warning">{t('feed.removed')}</Badge> : null}{' '}
        {!post.accessible ? <Badge>{t('feed.membersOnly')}</Badge> : null}
      </h3>
      <p className="c-entry__meta">
        {post.author ? t('feed.by', { name: post.author.displayName }) : t('comments.someone')} · <LocalTime iso={post.createdAt} />
        {showSpace ? (
          <>
            {' · '}
            <Link href={spacePath(slug, post.space)}>{post.space.kind === 'CIRCLE' ? post.space.name : t('space.publicCenter')}</Link>
          </>
        ) : null}
      </p>
      {post.excerpt && post.title ? <p className="c-post-card__excerpt">{post.excerpt}</p> : null}
      {post.accessible ? (
        <p className="c-entry__meta">
          {post.commentCount === 1 ? t('feed.commentOne') : t('feed.comments', { count: post.commentCount })} ·{' '}
          {post.reactionCount === 1 ? t('feed.reactionOne') : t('feed.reactions', { count: post.reactionCount })}
          {post.attachments.length ? ` · ${post.attachments.length === 1 ? t('feed.fileOne') : t('feed.files', { count: post.attachments.length })}` : ''}
          {post.poll ? ` · ${t('feed.poll')}` : ''}
        </p>
      ) : (
        <p className="c-post-card__gate">
          <Link href={joinHref} className="c-button c-button--secondary">
            {t('feed.joinToRead')}
          </Link>
        </p>
      )}
    </article>
  );
}

export function FeedList({ communityId, spaceId, slug, basePath, params, initial, signedIn, joinHref, showSpace }: FeedListProps) {
  const [posts, setPosts] = useState(initial.posts);
  const [cursor, setCursor] = useState(initial.hasNextPage ? initial.endCursor : null);
  const [loading, setLoading] = useState(false);
  const [error, setError] = useState<string>();
  const [status, setStatus] = useState('');
  const [focusId, setFocusId] = useState<string | null>(null);
  const listRef = useRef<HTMLOListElement>(null);
  const pinned = initial.pinned;

  // Seen: later visits mark what is new after now. Fire and forget; a failure only keeps the old marker.
  useEffect(() => {
    if (!signedIn) return;
    browserClient.request(MarkFeedSeenDocument, { communityId }).catch(() => {});
  }, [communityId, signedIn]);

  useEffect(() => {
    if (!focusId) return;
    const link = listRef.current?.querySelector<HTMLAnchorElement>(`li[data-id="${focusId}"] h3 a`);
    (link ?? listRef.current)?.focus();
  }, [focusId]);

  const loadMore = async (event: MouseEvent<HTMLAnchorElement>) => {
    // A click meant for a new tab or window keeps its meaning.
    if (event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
    event.preventDefault();
    if (loading || !cursor) return;
    setLoading(true);
    setError(undefined);
    setStatus('');
    try {
      const { feed } = await browserClient.request(FeedDocument, { communityId, spaceId, sort: apiSort(params.sort), period: apiPeriod(params.period), first: FEED_PAGE, after: cursor });
      const known = new Set([...pinned, ...posts].map((p) => p.id));
      const fresh = feed.posts.filter((p) => !known.has(p.id));
      setPosts((all) => [...all, ...fresh]);
      setCursor(feed.hasNextPage ? feed.endCursor : null);
      setStatus(fresh.length === 1 ? t('feed.loadedOne') : t('feed.loaded', { count: fresh.length }));
      setFocusId(fresh[0]?.id ?? `none-${Date.now()}`);
    } catch (err) {
      setError(describeError(err).message);
    } finally {
      setLoading(false);
    }
  };

  const all = [...pinned, ...posts];
  const newCount = all.filter((p) => p.isNew).length;
  return (
    <div className="c-stack">
      {initial.lastVisitAt && newCount > 0 ? (
        <p className="c-feed__new" data-testid="feed-new-marker">
          <Badge tone="success">{newCount === 1 ? t('feed.newCountOne') : t('feed.newCount', { count: newCount })}</Badge>{' '}
          <LocalTime iso={initial.lastVisitAt} message="feed.sinceLastVisit" />
        </p>
      ) : null}
      {all.length === 0 ? (
        <EmptyState>{params.after ? t('feed.noMore') : t('feed.empty')}</EmptyState>
      ) : (
        <ol ref={listRef} id={FEED_LIST_ID} tabIndex={-1} className="c-list c-feed" aria-label={t('feed.listLabel')} aria-busy={loading || undefined}>
          {all.map((p) => (
            <li key={p.id} data-id={p.id} data-testid="post-card" className={p.isNew ? 'c-feed__item c-feed__item--new' : 'c-feed__item'}>
              <PostCard post={p} slug={slug} showSpace={showSpace} joinHref={joinHref} />
            </li>
          ))}
        </ol>
      )}
      {/* Always mounted, so the count of newly loaded posts is announced. */}
      <p role="status" className="c-visually-hidden">
        {status}
      </p>
      {error ? <Alert tone="error">{error}</Alert> : null}
      {cursor ? (
        <p>
          <a href={`${feedHref(basePath, params.sort, params.period, cursor)}#${FEED_LIST_ID}`} className="c-button c-button--secondary" aria-busy={loading || undefined} onClick={(e) => void loadMore(e)}>
            {loading ? <Spinner /> : null}
            <span>{t('feed.loadMore')}</span>
          </a>
        </p>
      ) : null}
    </div>
  );
}

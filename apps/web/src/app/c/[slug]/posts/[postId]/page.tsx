import type { Metadata } from 'next';
import Link from 'next/link';
import { notFound } from 'next/navigation';
import { cache } from 'react';
import { ClientError, PostPageDocument, type PostPageQuery } from '@circles/client';
import { LocalTime } from '@/components/LocalTime';
import { Attachments } from '@/components/posts/Attachments';
import { Comments } from '@/components/posts/Comments';
import { PollBox } from '@/components/posts/PollBox';
import { PostManager } from '@/components/posts/PostManager';
import { ReactionBar } from '@/components/posts/ReactionBar';
import { t } from '@/i18n';
import { loadCommunity, publicBaseUrl } from '@/lib/community';
import { loadFileLimits } from '@/lib/media';
import { looksLikeId } from '@/lib/permissions';
import { PAYWALLED_CLASS, postJsonLd, scriptJson } from '@/lib/post-jsonld';
import { apiCommentSort, commentParams, COMMENTS_PAGE, postPath, spacePath, untitled, type CommentSortParam } from '@/lib/posts';
import { getViewer, serverClient } from '@/lib/server-api';
import { Alert, Badge } from '@/ui';

type Props = { params: Promise<{ slug: string; postId: string }>; searchParams: Promise<Record<string, string | string[] | undefined>> };
type Post = NonNullable<PostPageQuery['post']>;

/**
 * The post if the viewer may see it (in full, as a teaser or as a tombstone) and it belongs to the community in the
 * address; null otherwise, which the page answers with 404 (a post in a hidden circle looks like no post at all).
 */
const loadPost = cache(async (slug: string, postId: string, sort: CommentSortParam, after: string | null) => {
  if (!looksLikeId(postId)) return null;
  const community = await loadCommunity(slug);
  if (!community) return null;
  const client = await serverClient();
  const ask = (commentsAfter: string | null) => client.request(PostPageDocument, { id: postId, commentSort: apiCommentSort(sort), commentsFirst: COMMENTS_PAGE, commentsAfter });
  let post: Post | null;
  let page = after;
  try {
    post = (await ask(after)).post;
  } catch (err) {
    // A comment cursor from another sort or an old link: show the first comments instead.
    if (!(after && err instanceof ClientError && err.code === 'BAD_USER_INPUT')) throw err;
    post = (await ask(null)).post;
    page = null;
  }
  if (!post || post.community.id !== community.id) return null;
  return { community, post, after: page };
});

/** What a post is called: its title, else its opening words; tombstones say what happened. */
function headline(post: Post): string {
  if (post.status !== 'PUBLISHED' && post.title === null) return post.status === 'DELETED' ? t('post.deletedTitle') : t('post.removedTitle');
  return post.title || untitled(post.excerpt) || t('post.untitled');
}

export async function generateMetadata({ params, searchParams }: Props): Promise<Metadata> {
  const { slug, postId } = await params;
  const { sort, after } = commentParams(await searchParams);
  const found = await loadPost(slug, postId, sort, after);
  if (!found) notFound();
  const { community, post } = found;
  const url = `${await publicBaseUrl()}${postPath(community.slug, post.id)}`;
  const title = headline(post);
  const description = post.excerpt || undefined;
  // Search engines index what anyone may read (a public post, a gated post's teaser) in a listed community: the
  // first page of comments only, never a tombstone.
  const indexable = community.visibility === 'LISTED' && post.status === 'PUBLISHED' && (post.public || !post.accessible) && !found.after && sort === 'oldest';
  return {
    title: t('post.pageTitle', { title, community: community.name }),
    description,
    alternates: { canonical: url },
    openGraph: { title, description, type: 'article', url, siteName: t('app.name'), publishedTime: post.createdAt, modifiedTime: post.editedAt ?? undefined },
    robots: indexable ? undefined : { index: false, follow: found.after !== null || sort !== 'oldest' },
  };
}

// No loading.tsx on purpose: the page must be able to answer 404 (hidden circles, other communities) with the real status.
export default async function PostPage({ params, searchParams }: Props) {
  const { slug, postId } = await params;
  const { sort, after: askedAfter } = commentParams(await searchParams);
  const [found, viewer] = await Promise.all([loadPost(slug, postId, sort, askedAfter), getViewer()]);
  if (!found) notFound();
  const { community, post, after } = found;
  const base = await publicBaseUrl();
  const path = postPath(community.slug, post.id);
  const url = `${base}${path}`;
  const title = headline(post);
  const spaceHref = spacePath(community.slug, post.space);
  const spaceName = post.space.kind === 'CIRCLE' ? post.space.name : t('space.publicCenter');
  const tombstone = post.accessible && post.body === null;
  const full = post.accessible && !tombstone;
  const limits = full && post.viewerCanEdit ? await loadFileLimits() : null;
  // Data for search engines goes with what anyone may read: a public post, or a gated post's teaser.
  const jsonLd = post.status === 'PUBLISHED' && community.visibility !== 'PRIVATE' && (post.public || !post.accessible);
  const cannotComment = post.viewerCanComment
    ? null
    : !viewer
      ? 'logIn'
      : post.status !== 'PUBLISHED'
        ? 'closed'
        : post.locked
          ? 'locked'
          : 'notAllowed';
  const loginHref = `/login?next=${encodeURIComponent(path)}`;

  return (
    <div className="c-stack">
      {jsonLd ? <script type="application/ld+json" dangerouslySetInnerHTML={{ __html: scriptJson(postJsonLd({ post, headline: title, url, base, comments: post.comments.nodes })) }} /> : null}
      <p>
        <Link href={spaceHref}>← {t('post.backTo', { name: post.space.kind === 'CIRCLE' ? post.space.name : community.name })}</Link>
      </p>
      <article className="c-card c-post" aria-labelledby="post-title" data-testid="post" data-status={post.status}>
        <header className="c-post__head">
          <h1 id="post-title" className="c-post__title">
            {title}
          </h1>
          <p className="c-post__badges">
            {post.pinned ? <Badge>{t('feed.pinned')}</Badge> : null} {post.locked ? <Badge>{t('feed.locked')}</Badge> : null}{' '}
            {!post.accessible ? <Badge>{t('feed.membersOnly')}</Badge> : null}
          </p>
          <p className="c-entry__meta" data-testid="post-meta">
            {post.author ? (
              <>
                {t('post.byPrefix')} <Link href={`/u/${post.author.handle}`}>{post.author.displayName}</Link>
                {' · '}
              </>
            ) : null}
            <LocalTime iso={post.createdAt} />
            {' · '}
            {t('post.inPrefix')} <Link href={spaceHref}>{spaceName}</Link>
            {post.editedAt && !tombstone ? (
              <>
                {' · '}
                <span data-testid="post-edited">
                  <LocalTime iso={post.editedAt} message="post.editedAt" />
                </span>
              </>
            ) : null}
          </p>
        </header>

        {!post.accessible ? (
          <section className={PAYWALLED_CLASS} aria-label={t('post.teaserLabel')} data-testid="post-teaser">
            {post.excerpt ? <p className="c-post__excerpt">{post.excerpt}</p> : null}
            <Alert tone="info" title={t('post.gatedTitle', { circle: post.space.name })}>
              <p>{viewer ? t('post.gatedJoin') : t('post.gatedLogIn')}</p>
              <p>
                <Link href={viewer ? `${spaceHref}#circle-membership` : `/login?next=${encodeURIComponent(path)}`} className="c-button c-button--primary">
                  {viewer ? t('feed.joinToRead') : t('post.logInToRead')}
                </Link>
              </p>
            </Alert>
          </section>
        ) : tombstone ? (
          <p className="c-tombstone" data-testid="post-tombstone">
            {post.status === 'DELETED' ? t('post.deletedTombstone') : t('post.removedTombstone')}
          </p>
        ) : (
          <>
            {post.status === 'REMOVED' ? (
              <Alert tone="warning" title={t('post.removedForYou')}>
                <p data-testid="removal-reason">{post.removalReason ? t('post.reasonIs', { reason: post.removalReason }) : t('post.noReason')}</p>
                <p>{t('post.removedVisibleTo')}</p>
              </Alert>
            ) : null}
            <PostManager
              post={{
                id: post.id,
                title: post.title,
                body: post.body,
                status: post.status,
                pinned: post.pinned,
                locked: post.locked,
                attachments: post.attachments,
                viewerCanEdit: post.viewerCanEdit,
                viewerCanDelete: post.viewerCanDelete,
                viewerCanModerate: post.viewerCanModerate,
              }}
              limits={limits}
            >
              {/* bodyHtml is the posts service's sanitised render (services/posts/src/markdown.ts): the XSS boundary. */}
              <div className="c-post-body" data-testid="post-body" dangerouslySetInnerHTML={{ __html: post.bodyHtml ?? '' }} />
              <Attachments attachments={post.attachments} />
              {post.poll ? <PollBox postId={post.id} poll={post.poll} /> : null}
              {post.status === 'PUBLISHED' ? <ReactionBar target={{ kind: 'post', id: post.id }} reactions={post.reactions} canReact={post.viewerCanReact} label={t('reactions.onPost')} /> : null}
            </PostManager>
            {post.revisions.length ? (
              <details className="c-revisions" data-testid="edit-history">
                <summary>{post.revisions.length === 1 ? t('post.historyOne') : t('post.history', { count: post.revisions.length })}</summary>
                <ol className="c-list">
                  {post.revisions.map((r) => (
                    <li key={r.replacedAt} className="c-revision">
                      <p className="c-entry__meta">
                        <LocalTime iso={r.replacedAt} message="post.revisionReplaced" /> · {t('post.revisionBy', { name: r.editor.displayName })}
                      </p>
                      {r.title ? <p className="c-revision__title">{r.title}</p> : null}
                      {/* The Markdown source as it was: shown as text, never rendered. */}
                      <pre className="c-mail-text">{r.body}</pre>
                    </li>
                  ))}
                </ol>
              </details>
            ) : null}
          </>
        )}
      </article>
      {post.accessible ? (
        <Comments
          key={`${sort}:${after ?? ''}`}
          postId={post.id}
          basePath={path}
          sort={sort}
          after={after}
          initial={post.comments}
          canComment={post.viewerCanComment}
          canReact={post.viewerCanReact}
          cannotComment={cannotComment}
          loginHref={loginHref}
        />
      ) : null}
    </div>
  );
}

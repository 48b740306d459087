'use client';
/**
 * A post's comments: sorted Oldest / Newest / Top by links (they work without JavaScript), threaded replies nested
 * as lists (indented by depth), a reply form under each comment, editing and deleting one's own, moderators'
 * removal with a reason, reactions, tombstones for deleted and removed comments (their author still sees a removed
 * one, with the reason). "Load more" is a real link to the next page, which the browser appends in place instead.
 * After any change the comments shown are fetched again, so the thread is always the server's.
 */
import Link from 'next/link';
import { useCallback, useEffect, useId, useRef, useState, type MouseEvent } from 'react';
import {
  CreateCommentDocument,
  DeleteCommentDocument,
  PostCommentsDocument,
  RemoveCommentDocument,
  UpdateCommentDocument,
  type CommentFieldsFragment,
  type CommentPageFieldsFragment,
} from '@circles/client';
import { LocalTime } from '@/components/LocalTime';
import { ActionDialog, useDialog } from '@/components/settings/shared';
import { t } from '@/i18n';
import { browserClient } from '@/lib/browser-api';
import { describeError } from '@/lib/errors';
import { apiCommentSort, COMMENT_SORTS, COMMENTS_PAGE, commentsHref, type CommentSortParam } from '@/lib/posts';
import { Alert, Button, Form, Notice, Spinner, TextAreaField, useForm } from '@/ui';
import { MarkdownField } from './MarkdownField';
import { ReactionBar } from './ReactionBar';

type Comment = CommentFieldsFragment;
type Thread = CommentPageFieldsFragment['nodes'][number];

export interface CommentsProps {
  postId: string;
  /** The post page's path, for sort and page links. */
  basePath: string;
  sort: CommentSortParam;
  /** The page this view started from (a later page when opened by a "Load more" link without JavaScript). */
  after: string | null;
  initial: CommentPageFieldsFragment;
  canComment: boolean;
  /** Reacting survives a lock: it is open to every reader who may take part. */
  canReact: boolean;
  /** Why the viewer cannot comment, when they cannot: shown where the form would be. */
  cannotComment: 'logIn' | 'locked' | 'closed' | 'notAllowed' | null;
  loginHref: string;
}

/** A comment form: Markdown with Write / Preview, its errors on the field. */
function CommentForm({ label, submitLabel, initial = '', onSubmit, onCancel, autoFocus }: { label: string; submitLabel: string; initial?: string; onSubmit: (body: string) => Promise<void>; onCancel?: () => void; autoFocus?: boolean }) {
  const [body, setBody] = useState(initial);
  const form = useForm(
    useCallback(
      async (values: Record<string, string>) => {
        await onSubmit(values.body ?? '');
        setBody('');
      },
      [onSubmit],
    ),
  );
  return (
    <Form controller={form} aria-label={label} className="c-comment-form">
      <MarkdownField name="body" label={label} value={body} onChange={setBody} rows={3} required autoFocus={autoFocus} {...form.fieldState('body')} />
      <div className="c-actions">
        <Button type="submit" pending={form.pending}>
          {submitLabel}
        </Button>
        {onCancel ? (
          <Button variant="secondary" disabled={form.pending} onClick={onCancel}>
            {t('common.cancel')}
          </Button>
        ) : null}
      </div>
    </Form>
  );
}

/** Replies below a top-level comment, as nested lists built from parentId (they arrive in thread order). */
function childrenOf(thread: Thread): Map<string, Comment[]> {
  const map = new Map<string, Comment[]>();
  for (const r of thread.replies) {
    const parent = r.parentId ?? thread.id;
    map.set(parent, [...(map.get(parent) ?? []), r]);
  }
  return map;
}

export function Comments({ postId, basePath, sort, after, initial, canComment, canReact, cannotComment, loginHref }: CommentsProps) {
  const [page, setPage] = useState(initial);
  const [loading, setLoading] = useState(false);
  const [error, setError] = useState<string>();
  const [notice, setNotice] = useState<string>();
  const [open, setOpen] = useState<{ id: string; kind: 'reply' | 'edit' } | null>(null);
  const dialog = useDialog<string>();
  const listRef = useRef<HTMLOListElement>(null);
  const headingId = useId();

  // Focus moves to a comment once a render has put it on the page. (A guessed moment, such as the next animation
  // frame, can come before React has rendered the new comment on a busy device.)
  const focusAfterRender = useRef<string | null>(null);
  useEffect(() => {
    const id = focusAfterRender.current;
    const el = id ? document.getElementById(`comment-${id}`) : null;
    if (!el) return;
    focusAfterRender.current = null;
    el.focus();
  }, [page]);

  /** The comments shown, fetched again (after a change). */
  const reload = useCallback(async () => {
    const first = Math.min(200, Math.max(COMMENTS_PAGE, page.nodes.length));
    const { post } = await browserClient.request(PostCommentsDocument, { id: postId, sort: apiCommentSort(sort), first, after });
    if (post) setPage(post.comments);
  }, [after, page.nodes.length, postId, sort]);

  const loadMore = async (event: MouseEvent<HTMLAnchorElement>) => {
    if (event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
    event.preventDefault();
    if (loading || !page.endCursor) return;
    setLoading(true);
    setError(undefined);
    try {
      const { post } = await browserClient.request(PostCommentsDocument, { id: postId, sort: apiCommentSort(sort), first: COMMENTS_PAGE, after: page.endCursor });
      if (post) {
        const known = new Set(page.nodes.map((n) => n.id));
        const fresh = post.comments.nodes.filter((n) => !known.has(n.id));
        focusAfterRender.current = fresh[0]?.id ?? null;
        setPage({ ...post.comments, nodes: [...page.nodes, ...fresh] });
        setNotice(fresh.length === 1 ? t('comments.loadedOne') : t('comments.loaded', { count: fresh.length }));
      }
    } catch (err) {
      setError(describeError(err).message);
    } finally {
      setLoading(false);
    }
  };

  const settle = async (message: string, focusId?: string) => {
    setOpen(null);
    dialog.close();
    setNotice(message);
    if (focusId) focusAfterRender.current = focusId;
    await reload();
  };

  const all = page.nodes.flatMap((n) => [n, ...n.replies]);
  const current = all.find((c) => dialog.openId?.endsWith(`:${c.id}`));

  const renderComment = (c: Comment, children: Map<string, Comment[]>) => {
    const kids = children.get(c.id) ?? [];
    const published = c.status === 'PUBLISHED';
    const tombstone = c.body === null;
    const name = c.author?.displayName ?? t('comments.someone');
    return (
      <li key={c.id} className="c-comment-item">
        <article id={`comment-${c.id}`} tabIndex={-1} className="c-comment" aria-label={t('comments.by', { name })} data-testid="comment" data-status={c.status}>
          <p className="c-comment__meta">
            {c.author ? (
              <Link href={`/u/${c.author.handle}`} className="c-comment__author">
                {c.author.displayName}
              </Link>
            ) : (
              <span className="c-comment__author">{t('comments.someone')}</span>
            )}{' '}
            · <LocalTime iso={c.createdAt} />
            {c.editedAt && published ? <span className="c-muted"> · {t('comments.edited')}</span> : null}
          </p>
          {tombstone ? (
            <p className="c-tombstone">{c.status === 'REMOVED' ? t('comments.removedTombstone') : t('comments.deletedTombstone')}</p>
          ) : (
            <>
              {c.status === 'REMOVED' ? (
                <Alert tone="warning" title={t('comments.removedForAuthor')}>
                  {c.removalReason ? t('post.reasonIs', { reason: c.removalReason }) : null}
                </Alert>
              ) : null}
              {open?.id === c.id && open.kind === 'edit' ? (
                <CommentForm
                  label={t('comments.editLabel')}
                  submitLabel={t('common.save')}
                  initial={c.body ?? ''}
                  autoFocus
                  onSubmit={async (body) => {
                    await browserClient.request(UpdateCommentDocument, { id: c.id, body });
                    await settle(t('comments.saved'), c.id);
                  }}
                  onCancel={() => setOpen(null)}
                />
              ) : (
                // bodyHtml is the posts service's sanitised render (services/posts/src/markdown.ts): the XSS boundary.
                <div className="c-post-body c-comment__body" dangerouslySetInnerHTML={{ __html: c.bodyHtml ?? '' }} />
              )}
            </>
          )}
          {published && !tombstone ? <ReactionBar target={{ kind: 'comment', id: c.id }} reactions={c.reactions} canReact={canReact} label={t('reactions.onComment', { name })} /> : null}
          {published && !tombstone && open?.id !== c.id ? (
            <div className="c-actions c-comment__actions">
              {canComment ? (
                <Button variant="quiet" aria-label={t('comments.replyTo', { name })} onClick={() => setOpen({ id: c.id, kind: 'reply' })}>
                  {t('comments.reply')}
                </Button>
              ) : null}
              {c.viewerCanEdit ? (
                <Button variant="quiet" aria-label={t('comments.editYours')} onClick={() => setOpen({ id: c.id, kind: 'edit' })}>
                  {t('common.edit')}
                </Button>
              ) : null}
              {c.viewerCanDelete ? (
                <Button variant="quiet" aria-label={t('comments.deleteYours')} onClick={() => dialog.open(`delete:${c.id}`)}>
                  {t('common.delete')}
                </Button>
              ) : null}
              {c.viewerCanModerate ? (
                <Button variant="quiet" aria-label={t('comments.removeOf', { name })} onClick={() => dialog.open(`remove:${c.id}`)}>
                  {t('comments.remove')}
                </Button>
              ) : null}
            </div>
          ) : null}
          {c.status === 'REMOVED' && !tombstone && c.viewerCanDelete ? (
            <div className="c-actions">
              <Button variant="quiet" aria-label={t('comments.deleteYours')} onClick={() => dialog.open(`delete:${c.id}`)}>
                {t('common.delete')}
              </Button>
            </div>
          ) : null}
          {open?.id === c.id && open.kind === 'reply' ? (
            <CommentForm
              label={t('comments.replyLabel', { name })}
              submitLabel={t('comments.reply')}
              autoFocus
              onSubmit={async (body) => {
                const { createComment } = await browserClient.request(CreateCommentDocument, { postId, parentId: c.id, body });
                await settle(t('comments.replied'), createComment.id);
              }}
              onCancel={() => setOpen(null)}
            />
          ) : null}
        </article>
        {kids.length ? <ol className="c-comment-replies">{kids.map((k) => renderComment(k, children))}</ol> : null}
      </li>
    );
  };

  return (
    <section id="comments" tabIndex={-1} className="c-card c-comments" aria-labelledby={headingId}>
      <h2 id={headingId}>{page.totalCount === 1 ? t('comments.titleOne') : t('comments.title', { count: page.totalCount })}</h2>
      <nav aria-label={t('comments.sortLabel')}>
        <ul className="c-tabs">
          {COMMENT_SORTS.map((s) => (
            <li key={s}>
              <Link href={commentsHref(basePath, s)} aria-current={s === sort ? 'page' : undefined} scroll={false}>
                {t(`comments.sort.${s}`)}
              </Link>
            </li>
          ))}
        </ul>
      </nav>
      {canComment ? (
        <CommentForm
          label={t('comments.addLabel')}
          submitLabel={t('comments.submit')}
          onSubmit={async (body) => {
            const { createComment } = await browserClient.request(CreateCommentDocument, { postId, body });
            await settle(t('comments.added'), createComment.id);
          }}
        />
      ) : cannotComment === 'logIn' ? (
        <p>
          <Link href={loginHref}>{t('comments.logIn')}</Link>
        </p>
      ) : cannotComment ? (
        <p className="c-muted">{t(`comments.cannot.${cannotComment}`)}</p>
      ) : null}
      <Notice message={notice} />
      {error ? <Alert tone="error">{error}</Alert> : null}
      {page.nodes.length === 0 ? (
        <p className="c-empty">{after ? t('comments.noMore') : t('comments.none')}</p>
      ) : (
        <ol ref={listRef} className="c-comment-list" aria-label={t('comments.listLabel')} aria-busy={loading || undefined}>
          {page.nodes.map((n) => renderComment(n, childrenOf(n)))}
        </ol>
      )}
      {page.hasNextPage && page.endCursor ? (
        <p className="c-after-form">
          <a href={commentsHref(basePath, sort, page.endCursor)} className="c-button c-button--secondary" aria-busy={loading || undefined} onClick={(e) => void loadMore(e)}>
            {loading ? <Spinner /> : null}
            <span>{t('comments.loadMore')}</span>
          </a>
        </p>
      ) : null}

      <ActionDialog
        open={dialog.openId?.startsWith('delete:') === true && current !== undefined}
        onClose={dialog.close}
        title={t('comments.deleteTitle')}
        description={<p>{t('comments.deleteHint')}</p>}
        submitLabel={t('common.delete')}
        variant="danger"
        fallbackFocus={listRef}
        action={async () => {
          await browserClient.request(DeleteCommentDocument, { id: current!.id });
          await settle(t('comments.deleted'), current!.id);
        }}
      />
      <ActionDialog
        open={dialog.openId?.startsWith('remove:') === true && current !== undefined}
        onClose={dialog.close}
        title={t('comments.removeTitle', { name: current?.author?.displayName ?? t('comments.someone') })}
        description={<p>{t('comments.removeHint')}</p>}
        submitLabel={t('comments.remove')}
        variant="danger"
        fallbackFocus={listRef}
        action={async (v) => {
          await browserClient.request(RemoveCommentDocument, { id: current!.id, reason: v.reason ?? '' });
          await settle(t('comments.removed'), current!.id);
        }}
      >
        {(form) => <TextAreaField name="reason" label={t('post.reason')} description={t('comments.reasonHint')} required rows={3} maxLength={500} {...form.fieldState('reason')} />}
      </ActionDialog>
    </section>
  );
}

'use client';
/**
 * The community directory's list and its "Load more" link. The link is a real address (`?after=<last id>`), so
 * without JavaScript it opens the next page; with it, the next page is fetched and appended here, focus moves to
 * the first new community (where reading continues) and the count is announced.
 */
import Link from 'next/link';
import { useEffect, useRef, useState, type MouseEvent } from 'react';
import { CommunityDirectoryDocument } from '@circles/client';
import { t } from '@/i18n';
import { browserClient } from '@/lib/browser-api';
import { DIRECTORY_PAGE, splitPage, type DirectoryEntry } from '@/lib/directory';
import { describeError } from '@/lib/errors';
import { memberCountLabel } from '@/lib/format';
import { Alert, CommunityAvatar, EmptyState, Spinner } from '@/ui';

/** Where "Load more" lands without JavaScript: the list, so the next Tab continues in it. */
const DIRECTORY_LIST_ID = 'directory-list';

export function DirectoryList({ initial, nextAfter }: { initial: DirectoryEntry[]; nextAfter: string | null }) {
  const [entries, setEntries] = useState(initial);
  const [after, setAfter] = useState(nextAfter);
  const [loading, setLoading] = useState(false);
  const [error, setError] = useState<string>();
  const [status, setStatus] = useState('');
  const [focusId, setFocusId] = useState<string | null>(null);
  const listRef = useRef<HTMLUListElement>(null);

  useEffect(() => {
    if (!focusId) return;
    const link = listRef.current?.querySelector<HTMLAnchorElement>(`li[data-id="${focusId}"] a`);
    (link ?? listRef.current)?.focus();
  }, [focusId]);

  const loadMore = async (event: MouseEvent<HTMLAnchorElement>) => {
    // A click meant for a new tab or window keeps its meaning.
    if (event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
    event.preventDefault();
    if (loading || !after) return;
    setLoading(true);
    setError(undefined);
    setStatus('');
    try {
      const { communities } = await browserClient.request(CommunityDirectoryDocument, { first: DIRECTORY_PAGE + 1, after });
      const { shown, nextAfter: next } = splitPage(communities);
      const known = new Set(entries.map((e) => e.id));
      const fresh = shown.filter((c) => !known.has(c.id));
      setEntries((all) => [...all, ...fresh]);
      setAfter(next);
      setStatus(fresh.length === 1 ? t('directory.loadedOne') : t('directory.loaded', { count: fresh.length }));
      // Reading goes on at the first new one; with nothing new, at the list (the link may be gone).
      setFocusId(fresh[0]?.id ?? `none-${Date.now()}`);
    } catch (err) {
      setError(describeError(err).message);
    } finally {
      setLoading(false);
    }
  };

  if (entries.length === 0) return <EmptyState>{t('directory.empty')}</EmptyState>;
  return (
    <div className="c-stack">
      <ul ref={listRef} id={DIRECTORY_LIST_ID} tabIndex={-1} className="c-list" aria-label={t('directory.listLabel')} aria-busy={loading}>
        {entries.map((c) => (
          <li key={c.id} data-id={c.id} className="c-media-row" data-testid="directory-entry">
            <CommunityAvatar name={c.name} url={c.avatarUrl} size={48} />
            <div className="c-entry">
              <Link href={`/c/${c.slug}`} className="c-entry__title">
                {c.name}
              </Link>
              {c.description ? <span>{c.description.length > 240 ? `${c.description.slice(0, 239)}…` : c.description}</span> : null}
              <p className="c-entry__meta">
                {memberCountLabel(c.memberCount)} · {t(`joinPolicy.${c.joinPolicy}`)}
                {c.viewerRole ? ` · ${t(`role.${c.viewerRole}`)}` : ''}
              </p>
            </div>
          </li>
        ))}
      </ul>
      {/* Always mounted, so the count of newly loaded communities is announced. */}
      <p role="status" className="c-visually-hidden">
        {status}
      </p>
      {error ? <Alert tone="error">{error}</Alert> : null}
      {after ? (
        <p>
          <a href={`/communities?after=${after}#${DIRECTORY_LIST_ID}`} className="c-button c-button--secondary" aria-busy={loading || undefined} onClick={loadMore}>
            {loading ? <Spinner /> : null}
            <span>{t('directory.loadMore')}</span>
          </a>
        </p>
      ) : null}
    </div>
  );
}

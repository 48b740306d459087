'use client';
/**
 * A space's file library as a table: name (a download link, with a thumbnail for images), type, size, who shared
 * it (a link that filters by them), when, and the post it came with. "Load more" is a real link (works without
 * JavaScript); in the browser the next page is appended in place and focus moves to the first new file.
 */
import Link from 'next/link';
import { useEffect, useRef, useState, type MouseEvent } from 'react';
import { SpaceFilesDocument, type FileKind, type SpaceFilesQuery } from '@circles/client';
import { LocalTime } from '@/components/LocalTime';
import { t } from '@/i18n';
import { browserClient } from '@/lib/browser-api';
import { describeError } from '@/lib/errors';
import { formatBytes } from '@/lib/images';
import { FILES_PAGE, libraryHref, postPath } from '@/lib/posts';
import { Alert, EmptyState, Spinner, TableScroller } from '@/ui';

type FileRow = SpaceFilesQuery['spaceFiles']['files'][number];

export interface FileTableProps {
  communityId: string;
  spaceId: string;
  slug: string;
  spaceName: string;
  kind: FileKind | null;
  uploaderId: string | null;
  initial: SpaceFilesQuery['spaceFiles'];
  /** The library's path, for the filter and page links. */
  basePath: string;
}

const TABLE_ID = 'file-table';

export function FileTable({ communityId, spaceId, slug, spaceName, kind, uploaderId, initial, basePath }: FileTableProps) {
  const filtered = kind !== null || uploaderId !== null;
  const [files, setFiles] = useState<FileRow[]>(initial.files);
  const [cursor, setCursor] = useState(initial.hasNextPage ? initial.endCursor : null);
  const [loading, setLoading] = useState(false);
  const [error, setError] = useState<string>();
  const [status, setStatus] = useState('');
  const [focusId, setFocusId] = useState<string | null>(null);
  const tableRef = useRef<HTMLTableElement>(null);

  useEffect(() => {
    if (!focusId) return;
    const link = tableRef.current?.querySelector<HTMLAnchorElement>(`tr[data-id="${focusId}"] a`);
    (link ?? tableRef.current)?.focus();
  }, [focusId]);

  const loadMore = async (event: MouseEvent<HTMLAnchorElement>) => {
    if (event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
    event.preventDefault();
    if (loading || !cursor) return;
    setLoading(true);
    setError(undefined);
    try {
      const { spaceFiles } = await browserClient.request(SpaceFilesDocument, { communityId, spaceId, kind, uploaderId, first: FILES_PAGE, after: cursor });
      const known = new Set(files.map((f) => f.id));
      const fresh = spaceFiles.files.filter((f) => !known.has(f.id));
      setFiles((all) => [...all, ...fresh]);
      setCursor(spaceFiles.hasNextPage ? spaceFiles.endCursor : null);
      setStatus(fresh.length === 1 ? t('files.loadedOne') : t('files.loaded', { count: fresh.length }));
      setFocusId(fresh[0]?.id ?? `none-${Date.now()}`);
    } catch (err) {
      setError(describeError(err).message);
    } finally {
      setLoading(false);
    }
  };

  if (files.length === 0) return <EmptyState>{filtered ? t('files.noMatch') : t('files.empty')}</EmptyState>;
  return (
    <div className="c-stack">
      <TableScroller label={t('files.tableLabel', { space: spaceName })}>
        <table ref={tableRef} id={TABLE_ID} tabIndex={-1} className="c-table c-table--wide" data-testid="file-table" aria-busy={loading || undefined}>
          <caption className="c-visually-hidden">{t('files.tableLabel', { space: spaceName })}</caption>
          <thead>
            <tr>
              <th scope="col">{t('files.name')}</th>
              <th scope="col">{t('files.type')}</th>
              <th scope="col">{t('files.size')}</th>
              <th scope="col">{t('files.sharedBy')}</th>
              <th scope="col">{t('files.sharedAt')}</th>
              <th scope="col">{t('files.post')}</th>
            </tr>
          </thead>
          <tbody>
            {files.map((f) => (
              <tr key={f.id} data-id={f.id} data-testid="file-row">
                <th scope="row">
                  <span className="c-file-name">
                    {f.thumbUrl ? <img src={f.thumbUrl} alt="" width={40} height={40} loading="lazy" decoding="async" className="c-file-name__thumb" /> : null}
                    <a href={f.url} download={f.kind === 'IMAGE' ? undefined : f.name}>
                      {f.name}
                    </a>
                  </span>
                </th>
                <td>{t(`files.kind.${f.kind}`)}</td>
                <td className="c-nowrap">{formatBytes(f.bytes)}</td>
                <td>
                  <Link href={libraryHref(basePath, { kind, uploaderId: f.uploader.id })} aria-label={t('files.byPerson', { name: f.uploader.displayName })}>
                    {f.uploader.displayName}
                  </Link>
                </td>
                <td className="c-nowrap">
                  <LocalTime iso={f.createdAt} />
                </td>
                <td>
                  <Link href={postPath(slug, f.postId)} aria-label={t('files.viewPostOf', { name: f.name })}>
                    {t('files.viewPost')}
                  </Link>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </TableScroller>
      <p role="status" className="c-visually-hidden">
        {status}
      </p>
      {error ? <Alert tone="error">{error}</Alert> : null}
      {cursor ? (
        <p>
          <a href={`${libraryHref(basePath, { kind, uploaderId, after: cursor })}#${TABLE_ID}`} className="c-button c-button--secondary" aria-busy={loading || undefined} onClick={(e) => void loadMore(e)}>
            {loading ? <Spinner /> : null}
            <span>{t('files.loadMore')}</span>
          </a>
        </p>
      ) : null}
    </div>
  );
}

/**
 * A space's file library page body (server-rendered): filters by type and by who shared (a plain GET form, so it
 * works without JavaScript), then the table. People who may not read the space are told to join.
 */
import Link from 'next/link';
import { ClientError, SpaceFilesDocument, type FileKind, type SpaceFilesQuery } from '@circles/client';
import { t } from '@/i18n';
import { looksLikeId } from '@/lib/permissions';
import { FILE_KINDS, FILES_PAGE, isFileKind, libraryHref, looksLikeCursor } from '@/lib/posts';
import { serverClient } from '@/lib/server-api';
import { Alert, Card } from '@/ui';
import { FileTable } from './FileTable';

type SearchParams = Record<string, string | string[] | undefined>;
const one = (v: string | string[] | undefined) => (typeof v === 'string' ? v : undefined);

export interface FileLibraryProps {
  community: { id: string; slug: string; name: string };
  space: { id: string; name: string };
  basePath: string;
  search: SearchParams;
  /** Where someone who may not read the space finds how to join it. */
  joinHref: string;
}

/** Who shared files recently: the people the filter offers (from the newest 200 files). */
async function uploaders(communityId: string, spaceId: string) {
  const { spaceFiles } = await (await serverClient()).request(SpaceFilesDocument, { communityId, spaceId, first: 200 });
  const people = new Map<string, { id: string; displayName: string; handle: string }>();
  for (const f of spaceFiles.files) people.set(f.uploader.id, f.uploader);
  return [...people.values()].sort((a, b) => a.displayName.localeCompare(b.displayName));
}

export async function FileLibrary({ community, space, basePath, search, joinHref }: FileLibraryProps) {
  const rawKind = one(search.kind);
  const kind: FileKind | null = isFileKind(rawKind) ? rawKind : null;
  const rawUploader = one(search.uploader);
  const uploaderId = rawUploader && looksLikeId(rawUploader) ? rawUploader : null;
  const rawAfter = one(search.after);
  let after = looksLikeCursor(rawAfter) ? rawAfter : null;
  const client = await serverClient();
  const ask = (cursor: string | null) => client.request(SpaceFilesDocument, { communityId: community.id, spaceId: space.id, kind, uploaderId, first: FILES_PAGE, after: cursor });

  let page: SpaceFilesQuery['spaceFiles'];
  try {
    try {
      page = (await ask(after)).spaceFiles;
    } catch (err) {
      if (!(after && err instanceof ClientError && err.code === 'BAD_USER_INPUT')) throw err;
      after = null;
      page = (await ask(null)).spaceFiles;
    }
  } catch (err) {
    if (err instanceof ClientError && (err.code === 'FORBIDDEN' || err.code === 'UNAUTHENTICATED')) {
      return (
        <Card>
          <Alert tone="info" title={t('files.forMembers')}>
            <p>
              <Link href={joinHref}>{t('feed.joinToRead')}</Link>
            </p>
          </Alert>
        </Card>
      );
    }
    throw err;
  }
  const people = await uploaders(community.id, space.id);
  const filtered = kind !== null || uploaderId !== null;

  return (
    <Card>
      {/* Keyed by the filters: after a client-side navigation the selects show the new filter, not the old choice. */}
      <form key={`${kind ?? ''}:${uploaderId ?? ''}`} method="get" action={basePath} className="c-search" aria-label={t('files.filter')}>
        <div className="c-field">
          <label htmlFor="files-kind" className="c-field__label">
            {t('files.type')}
          </label>
          <select id="files-kind" name="kind" defaultValue={kind ?? ''} className="c-field__input c-field__select">
            <option value="">{t('files.anyType')}</option>
            {FILE_KINDS.map((k) => (
              <option key={k} value={k}>
                {t(`files.kind.${k}`)}
              </option>
            ))}
          </select>
        </div>
        <div className="c-field">
          <label htmlFor="files-uploader" className="c-field__label">
            {t('files.sharedBy')}
          </label>
          <select id="files-uploader" name="uploader" defaultValue={uploaderId ?? ''} className="c-field__input c-field__select">
            <option value="">{t('files.anyone')}</option>
            {people.map((p) => (
              <option key={p.id} value={p.id}>
                {t('common.person', { name: p.displayName, handle: p.handle })}
              </option>
            ))}
          </select>
        </div>
        <button type="submit" className="c-button c-button--secondary">
          {t('files.applyFilter')}
        </button>
        {filtered ? (
          <Link href={basePath} className="c-button c-button--quiet">
            {t('files.clearFilter')}
          </Link>
        ) : null}
      </form>
      <div className="c-after-form">
        {after ? (
          <p>
            <Link href={libraryHref(basePath, { kind, uploaderId })}>{t('files.backToNewest')}</Link>
          </p>
        ) : null}
        <FileTable
          key={`${kind ?? ''}:${uploaderId ?? ''}:${after ?? ''}`}
          communityId={community.id}
          spaceId={space.id}
          slug={community.slug}
          spaceName={space.name}
          kind={kind}
          uploaderId={uploaderId}
          initial={page}
          basePath={basePath}
        />
      </div>
    </Card>
  );
}

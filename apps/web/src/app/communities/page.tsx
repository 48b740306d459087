import type { Metadata } from 'next';
import Link from 'next/link';
import { CommunityDirectoryDocument } from '@circles/client';
import { DirectoryList } from '@/components/DirectoryList';
import { t } from '@/i18n';
import { DIRECTORY_PAGE, splitPage } from '@/lib/directory';
import { looksLikeId } from '@/lib/permissions';
import { getViewer, serverClient } from '@/lib/server-api';
import { Card, EmptyState } from '@/ui';

type Props = { searchParams: Promise<Record<string, string | string[] | undefined>> };

/** The cursor from `?after=`: the id of the last community seen. Anything that is not an id means the first page. */
async function cursor(searchParams: Props['searchParams']): Promise<string | null> {
  const { after } = await searchParams;
  return typeof after === 'string' && looksLikeId(after) ? after : null;
}

export async function generateMetadata({ searchParams }: Props): Promise<Metadata> {
  const after = await cursor(searchParams);
  // Later pages are for people following "Load more" without JavaScript; search engines get every community
  // from the sitemap, so only the first page is indexed.
  return { title: t('directory.title'), description: t('directory.lead'), ...(after ? { robots: { index: false, follow: true } } : {}) };
}

export default async function DirectoryPage({ searchParams }: Props) {
  const after = await cursor(searchParams);
  const [{ communities }, viewer] = await Promise.all([(await serverClient()).request(CommunityDirectoryDocument, { first: DIRECTORY_PAGE + 1, after }), getViewer()]);
  const { shown, nextAfter } = splitPage(communities);
  return (
    <div className="c-stack">
      <div className="c-community-head">
        <div>
          <h1>{t('directory.title')}</h1>
          <p className="c-muted">{t('directory.lead')}</p>
        </div>
        <p>
          <Link href={viewer ? '/communities/new' : '/login?next=/communities/new'} className="c-button c-button--primary">
            {t('directory.create')}
          </Link>
        </p>
      </div>
      <Card>
        {after ? (
          <p>
            <Link href="/communities">{t('directory.backToNewest')}</Link>
          </p>
        ) : null}
        {after && shown.length === 0 ? (
          <EmptyState>{t('directory.noMore')}</EmptyState>
        ) : (
          // Keyed by the cursor: another page of the directory starts a fresh list rather than keeping this one's.
          <DirectoryList key={after ?? 'newest'} initial={shown} nextAfter={nextAfter} />
        )}
      </Card>
    </div>
  );
}

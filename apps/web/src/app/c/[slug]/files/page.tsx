import type { Metadata } from 'next';
import Link from 'next/link';
import { notFound } from 'next/navigation';
import { FileLibrary } from '@/components/posts/FileLibrary';
import { t } from '@/i18n';
import { loadCommunity } from '@/lib/community';
import { filesPath } from '@/lib/posts';

type Props = { params: Promise<{ slug: string }>; searchParams: Promise<Record<string, string | string[] | undefined>> };

export async function generateMetadata({ params }: Props): Promise<Metadata> {
  const community = await loadCommunity((await params).slug);
  if (!community) notFound();
  // The files themselves are behind short-lived links; the posts they came with are what search engines should find.
  return { title: t('files.pageTitle', { space: t('space.publicCenter'), community: community.name }), robots: { index: false, follow: true } };
}

// No loading.tsx on purpose: the page must be able to answer 404 (private communities) with the real status.
export default async function CommunityFilesPage({ params, searchParams }: Props) {
  const community = await loadCommunity((await params).slug);
  if (!community) notFound();
  const center = community.publicCenter;
  return (
    <div className="c-stack">
      <p>
        <Link href={`/c/${community.slug}`}>← {t('community.back', { name: community.name })}</Link>
      </p>
      <h1>{t('files.title', { space: t('space.publicCenter') })}</h1>
      <FileLibrary
        community={community}
        space={{ id: center.id, name: t('space.publicCenter') }}
        basePath={filesPath(community.slug, { id: center.id, kind: 'PUBLIC_CENTER' })}
        search={await searchParams}
        joinHref={`/c/${community.slug}#membership`}
      />
    </div>
  );
}

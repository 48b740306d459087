import type { Metadata } from 'next';
import Link from 'next/link';
import { notFound } from 'next/navigation';
import { FileLibrary } from '@/components/posts/FileLibrary';
import { t } from '@/i18n';
import { loadCircle } from '@/lib/community';
import { circlePath, filesPath } from '@/lib/posts';
import { getViewer } from '@/lib/server-api';

type Props = { params: Promise<{ slug: string; circleId: string }>; searchParams: Promise<Record<string, string | string[] | undefined>> };

export async function generateMetadata({ params }: Props): Promise<Metadata> {
  const { slug, circleId } = await params;
  const found = await loadCircle(slug, circleId);
  if (!found) notFound();
  // A circle's files are for its members: never in search results.
  return { title: t('files.pageTitle', { space: found.circle.name, community: found.community.name }), robots: { index: false, follow: false } };
}

// No loading.tsx on purpose: the page must be able to answer 404 (hidden circles) with the real status.
export default async function CircleFilesPage({ params, searchParams }: Props) {
  const { slug, circleId } = await params;
  const [found, viewer] = await Promise.all([loadCircle(slug, circleId), getViewer()]);
  if (!found) notFound();
  const { community, circle } = found;
  const back = circlePath(community.slug, circle.id);
  return (
    <div className="c-stack">
      <p>
        <Link href={back}>← {t('community.back', { name: circle.name })}</Link>
      </p>
      <h1>{t('files.title', { space: circle.name })}</h1>
      <FileLibrary
        community={community}
        space={{ id: circle.id, name: circle.name }}
        basePath={filesPath(community.slug, { id: circle.id, kind: 'CIRCLE' })}
        search={await searchParams}
        joinHref={viewer ? `${back}#circle-membership` : `/login?next=${encodeURIComponent(back)}`}
      />
    </div>
  );
}

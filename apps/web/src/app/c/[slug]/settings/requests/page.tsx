import type { Metadata } from 'next';
import Link from 'next/link';
import { JoinRequestsDocument, type JoinRequestStatus } from '@circles/client';
import { JoinRequestList } from '@/components/settings/JoinRequestsSettings';
import { t } from '@/i18n';
import { serverClient } from '@/lib/server-api';
import { requireSettings } from '@/lib/settings';
import { Card } from '@/ui';

type Props = { params: Promise<{ slug: string }>; searchParams: Promise<Record<string, string | string[] | undefined>> };

const STATUSES: JoinRequestStatus[] = ['PENDING', 'APPROVED', 'REJECTED'];

export async function generateMetadata({ params }: Props): Promise<Metadata> {
  const { community } = await requireSettings((await params).slug, 'requests');
  return { title: t('settings.title', { section: t('settings.nav.requests'), name: community.name }), robots: { index: false, follow: false } };
}

export default async function JoinRequestsPage({ params, searchParams }: Props) {
  const { slug } = await params;
  const { status: raw } = await searchParams;
  const status = STATUSES.find((s) => s.toLowerCase() === raw) ?? 'PENDING';
  const { community } = await requireSettings(slug, 'requests');
  const { joinRequests } = await (await serverClient()).request(JoinRequestsDocument, { communityId: community.id, status });
  const base = `/c/${community.slug}/settings/requests`;
  // Newest decisions first; pending ones oldest first (first come, first served).
  const requests = status === 'PENDING' ? joinRequests : [...joinRequests].reverse();
  return (
    <>
      <h1>{t('settings.requests.title')}</h1>
      <p className="c-muted">{community.joinPolicy === 'APPROVAL' ? t('settings.requests.lead') : t('settings.requests.notApproval')}</p>
      <nav aria-label={t('settings.requests.filter')}>
        <ul className="c-tabs">
          {STATUSES.map((s) => (
            <li key={s}>
              <Link href={s === 'PENDING' ? base : `${base}?status=${s.toLowerCase()}`} aria-current={s === status ? 'page' : undefined}>
                {t(`settings.requests.status.${s}`)}
              </Link>
            </li>
          ))}
        </ul>
      </nav>
      <Card title={t(`settings.requests.status.${status}`)}>
        <JoinRequestList
          status={status}
          requests={requests}
          questions={community.joinQuestions}
          emptyMessage={t(`settings.requests.empty.${status}`)}
          label={t('settings.requests.listLabel', { status: t(`settings.requests.status.${status}`) })}
        />
      </Card>
    </>
  );
}

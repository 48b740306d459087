import type { Metadata } from 'next';
import { CircleManager } from '@/components/settings/CirclesSettings';
import { t } from '@/i18n';
import { requireSettings } from '@/lib/settings';
import { Alert } from '@/ui';

type Props = { params: Promise<{ slug: string }> };

export async function generateMetadata({ params }: Props): Promise<Metadata> {
  const { community } = await requireSettings((await params).slug, 'circles');
  return { title: t('settings.title', { section: t('settings.nav.circles'), name: community.name }), robots: { index: false, follow: false } };
}

export default async function CirclesSettingsPage({ params }: Props) {
  const { slug } = await params;
  // Managing circles means seeing every one of them, hidden ones included.
  const { community } = await requireSettings(slug, 'circles');
  return (
    <>
      <h1>{t('settings.circles.title')}</h1>
      <p className="c-muted">{t('settings.circles.lead')}</p>
      {community.archived ? <Alert tone="warning">{t('settings.general.archivedNotice')}</Alert> : null}
      <CircleManager communityId={community.id} slug={community.slug} circles={community.circles} archived={community.archived} />
    </>
  );
}

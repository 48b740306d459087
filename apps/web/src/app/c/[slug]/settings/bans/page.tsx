import type { Metadata } from 'next';
import { CommunityBansDocument } from '@circles/client';
import { BanList } from '@/components/settings/BansSettings';
import { t } from '@/i18n';
import { serverClient } from '@/lib/server-api';
import { requireSettings } from '@/lib/settings';
import { Card } from '@/ui';

type Props = { params: Promise<{ slug: string }> };

export async function generateMetadata({ params }: Props): Promise<Metadata> {
  const { community } = await requireSettings((await params).slug, 'bans');
  return { title: t('settings.title', { section: t('settings.nav.bans'), name: community.name }), robots: { index: false, follow: false } };
}

export default async function BansSettingsPage({ params }: Props) {
  const { slug } = await params;
  const { community } = await requireSettings(slug, 'bans');
  const { communityBans } = await (await serverClient()).request(CommunityBansDocument, { communityId: community.id });
  return (
    <>
      <h1>{t('settings.bans.title')}</h1>
      <p className="c-muted">{t('settings.bans.lead')}</p>
      <Card title={t('settings.bans.listTitle')}>
        <BanList communityId={community.id} bans={communityBans} />
      </Card>
    </>
  );
}

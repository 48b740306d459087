import type { Metadata } from 'next';
import { CommunityDetailsForm, CommunityImages, OwnerZone } from '@/components/settings/GeneralSettings';
import { t } from '@/i18n';
import { loadMediaLimits } from '@/lib/media';
import { requireSettings } from '@/lib/settings';
import { Alert, Card } from '@/ui';

type Props = { params: Promise<{ slug: string }> };

export async function generateMetadata({ params }: Props): Promise<Metadata> {
  const { community } = await requireSettings((await params).slug, 'general');
  return { title: t('settings.title', { section: t('settings.nav.general'), name: community.name }), robots: { index: false, follow: false } };
}

export default async function GeneralSettingsPage({ params }: Props) {
  const { slug } = await params;
  const [{ community }, limits] = await Promise.all([requireSettings(slug, 'general'), loadMediaLimits()]);
  const isOwner = community.viewerRole === 'OWNER';
  return (
    <>
      <h1>{t('settings.general.title')}</h1>
      {community.archived ? <Alert tone="warning">{t('settings.general.archivedNotice')}</Alert> : null}
      <Card title={t('settings.general.details')}>
        <div className="c-stack">
          <CommunityImages communityId={community.id} name={community.name} avatarUrl={community.avatarUrl} bannerUrl={community.bannerUrl} limits={limits} archived={community.archived} />
          <CommunityDetailsForm
            community={{
              id: community.id,
              slug: community.slug,
              name: community.name,
              description: community.description,
              category: community.category ?? '',
              language: community.language,
              visibility: community.visibility,
              joinPolicy: community.joinPolicy,
              joinQuestions: community.joinQuestions,
              archived: community.archived,
            }}
          />
        </div>
      </Card>
      {isOwner ? <OwnerZone communityId={community.id} slug={community.slug} name={community.name} archived={community.archived} hasOtherMembers={community.memberCount > 1} /> : null}
    </>
  );
}

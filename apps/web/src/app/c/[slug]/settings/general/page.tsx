import type { Metadata } from 'next';
import { CommunityMembersDocument } from '@circles/client';
import { CommunityDetailsForm, OwnerZone } from '@/components/settings/GeneralSettings';
import { t } from '@/i18n';
import { serverClient } from '@/lib/server-api';
import { requireSettings } from '@/lib/settings';
import { Alert, Card } from '@/ui';

type Props = { params: Promise<{ slug: string }> };

export async function generateMetadata({ params }: Props): Promise<Metadata> {
  const { community } = await requireSettings((await params).slug, 'general');
  return { title: t('settings.title', { section: t('settings.nav.general'), name: community.name }), robots: { index: false, follow: false } };
}

export default async function GeneralSettingsPage({ params }: Props) {
  const { slug } = await params;
  const { community } = await requireSettings(slug, 'general');
  const isOwner = community.viewerRole === 'OWNER';
  // Candidates for a new owner: everyone but the owner (the first 200; search arrives with larger communities).
  const members = isOwner
    ? (await (await serverClient()).request(CommunityMembersDocument, { communityId: community.id, first: 200 })).communityMembers
        .filter((m) => m.role !== 'OWNER')
        .map((m) => ({ id: m.user.id, label: `${m.user.displayName} (@${m.user.handle})` }))
    : [];
  return (
    <>
      <h1>{t('settings.general.title')}</h1>
      {community.archived ? <Alert tone="warning">{t('settings.general.archivedNotice')}</Alert> : null}
      <Card title={t('settings.general.details')}>
        {/*
          Avatar and banner images go here (lead: the /media upload and its mutation are being added; wire the two
          image fields into this card). Nothing is shown until that API exists.
        */}
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
      </Card>
      {isOwner ? <OwnerZone communityId={community.id} slug={community.slug} name={community.name} archived={community.archived} members={members} /> : null}
    </>
  );
}

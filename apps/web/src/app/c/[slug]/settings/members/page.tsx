import type { Metadata } from 'next';
import { SettingsMembersDocument } from '@circles/client';
import { MemberModeration } from '@/components/settings/MemberModeration';
import { t } from '@/i18n';
import { effectiveRank } from '@/lib/permissions';
import { serverClient } from '@/lib/server-api';
import { requireSettings } from '@/lib/settings';
import { Card } from '@/ui';
import { MemberSearchForm } from '@/components/MemberSearchForm';

type Props = { params: Promise<{ slug: string }>; searchParams: Promise<Record<string, string | string[] | undefined>> };

export async function generateMetadata({ params }: Props): Promise<Metadata> {
  const { community } = await requireSettings((await params).slug, 'members');
  return { title: t('settings.title', { section: t('settings.nav.members'), name: community.name }), robots: { index: false, follow: false } };
}

export default async function MembersSettingsPage({ params, searchParams }: Props) {
  const { slug } = await params;
  const { q } = await searchParams;
  const query = (typeof q === 'string' ? q : '').trim().slice(0, 64);
  const { community, permissions, viewer } = await requireSettings(slug, 'members');
  const { communityMembers, communityRoles } = await (await serverClient()).request(SettingsMembersDocument, { communityId: community.id, search: query || null, first: 200 });
  const rolePermissions = new Map(communityRoles.map((r) => [r.id, r.permissions]));
  const members = communityMembers.map((m) => ({
    ...m,
    rank: effectiveRank(m.role, m.customRoles.flatMap((r) => rolePermissions.get(r.id) ?? [])),
  }));
  return (
    <>
      <h1>{t('settings.members.title')}</h1>
      <p className="c-muted">{t('settings.members.lead')}</p>
      <Card>
        <MemberSearchForm id="settings-member-search" query={query} clearHref={`/c/${community.slug}/settings/members`} />
        <div className="c-after-form">
          <MemberModeration
            communityId={community.id}
            viewerId={viewer.user.id}
            viewerRole={community.viewerRole}
            viewerRank={effectiveRank(community.viewerRole, permissions)}
            viewerPermissions={permissions}
            members={members}
            roles={communityRoles}
            emptyMessage={query ? t('members.noMatch', { query }) : t('members.empty')}
          />
        </div>
      </Card>
    </>
  );
}

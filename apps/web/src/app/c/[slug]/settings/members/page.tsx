import type { Metadata } from 'next';
import Link from 'next/link';
import { SettingsMembersDocument } from '@circles/client';
import { MemberModeration } from '@/components/settings/MemberModeration';
import { t } from '@/i18n';
import { effectiveRank } from '@/lib/permissions';
import { serverClient } from '@/lib/server-api';
import { requireSettings } from '@/lib/settings';
import { Card } from '@/ui';

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
        <form method="get" role="search" className="c-search" aria-label={t('members.searchRegion')}>
          <div className="c-field">
            <label htmlFor="settings-member-search" className="c-field__label">
              {t('members.search')}
            </label>
            <p id="settings-member-search-hint" className="c-field__description">
              {t('members.searchHint')}
            </p>
            <input id="settings-member-search" name="q" type="search" defaultValue={query} maxLength={64} aria-describedby="settings-member-search-hint" className="c-field__input" />
          </div>
          <button type="submit" className="c-button c-button--secondary">
            {t('members.submit')}
          </button>
          {query ? (
            <Link href={`/c/${community.slug}/settings/members`} className="c-button c-button--quiet">
              {t('members.clear')}
            </Link>
          ) : null}
        </form>
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

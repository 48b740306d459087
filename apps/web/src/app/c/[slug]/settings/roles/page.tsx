import type { Metadata } from 'next';
import Link from 'next/link';
import { CommunityRolesDocument } from '@circles/client';
import { RolesManager } from '@/components/settings/RolesSettings';
import { t } from '@/i18n';
import { serverClient } from '@/lib/server-api';
import { requireSettings } from '@/lib/settings';

type Props = { params: Promise<{ slug: string }> };

export async function generateMetadata({ params }: Props): Promise<Metadata> {
  const { community } = await requireSettings((await params).slug, 'roles');
  return { title: t('settings.title', { section: t('settings.nav.roles'), name: community.name }), robots: { index: false, follow: false } };
}

export default async function RolesSettingsPage({ params }: Props) {
  const { slug } = await params;
  const { community, permissions } = await requireSettings(slug, 'roles');
  const { communityRoles } = await (await serverClient()).request(CommunityRolesDocument, { communityId: community.id });
  return (
    <>
      <h1>{t('settings.roles.title')}</h1>
      <p className="c-muted">
        {t('settings.roles.lead')}{' '}
        <Link href={`/c/${community.slug}/settings/members`}>{t('settings.roles.assignLink')}</Link>{' '}
        <Link href={`/c/${community.slug}/settings/permissions`}>{t('settings.roles.overridesLink')}</Link>
      </p>
      <RolesManager communityId={community.id} roles={communityRoles} viewerPermissions={permissions} />
    </>
  );
}

import type { Metadata } from 'next';
import Link from 'next/link';
import { notFound } from 'next/navigation';
import { SpaceOverridesDocument } from '@circles/client';
import { OverridesEditor } from '@/components/settings/OverridesEditor';
import { t } from '@/i18n';
import { serverClient } from '@/lib/server-api';
import { requireSettings } from '@/lib/settings';
import { Card } from '@/ui';

type Props = { params: Promise<{ slug: string }>; searchParams: Promise<Record<string, string | string[] | undefined>> };

export async function generateMetadata({ params }: Props): Promise<Metadata> {
  const { community } = await requireSettings((await params).slug, 'permissions');
  return { title: t('settings.title', { section: t('settings.nav.permissions'), name: community.name }), robots: { index: false, follow: false } };
}

export default async function PermissionsSettingsPage({ params, searchParams }: Props) {
  const { slug } = await params;
  const { space } = await searchParams;
  const { community, permissions } = await requireSettings(slug, 'permissions');
  const spaces = [{ id: community.publicCenter.id, name: t('space.publicCenter') }, ...community.circles.map((c) => ({ id: c.id, name: c.name }))];
  const chosen = typeof space === 'string' ? spaces.find((s) => s.id === space) : spaces[0];
  if (!chosen) notFound();
  const { spaceOverrides, communityRoles } = await (await serverClient()).request(SpaceOverridesDocument, { communityId: community.id, spaceId: chosen.id });
  const base = `/c/${community.slug}/settings/permissions`;
  return (
    <>
      <h1>{t('settings.permissions.title')}</h1>
      <p className="c-muted">{t('settings.permissions.lead')}</p>
      <nav aria-label={t('settings.permissions.spaces')}>
        <ul className="c-tabs">
          {spaces.map((s, i) => (
            <li key={s.id}>
              <Link href={i === 0 ? base : `${base}?space=${s.id}`} aria-current={s.id === chosen.id ? 'page' : undefined}>
                {s.name}
              </Link>
            </li>
          ))}
        </ul>
      </nav>
      <Card title={t('settings.permissions.in', { space: chosen.name })}>
        <OverridesEditor
          key={chosen.id}
          spaceId={chosen.id}
          spaceName={chosen.name}
          overrides={spaceOverrides}
          subjects={[
            { id: 'member', name: t('role.MEMBER') },
            { id: 'moderator', name: t('role.MODERATOR') },
            ...communityRoles.map((r) => ({ id: r.id, name: r.name })),
          ]}
          viewerPermissions={permissions}
        />
      </Card>
    </>
  );
}

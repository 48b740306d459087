import type { Metadata } from 'next';
import Link from 'next/link';
import { TierEditorDocument } from '@circles/client';
import { TestModeBadge } from '@/components/payments/TestMode';
import { PromoCodeManager, TierManager } from '@/components/payments/TierEditor';
import { t } from '@/i18n';
import { serverClient } from '@/lib/server-api';
import { requireSettings } from '@/lib/settings';
import { Alert } from '@/ui';

type Props = { params: Promise<{ slug: string }> };

export async function generateMetadata({ params }: Props): Promise<Metadata> {
  const { community } = await requireSettings((await params).slug, 'tiers');
  return { title: t('settings.title', { section: t('settings.nav.tiers'), name: community.name }), robots: { index: false, follow: false } };
}

export default async function TiersSettingsPage({ params }: Props) {
  const { slug } = await params;
  const { community } = await requireSettings(slug, 'tiers');
  const { paymentsInfo, communityTiers, promoCodes } = await (await serverClient()).request(TierEditorDocument, { communityId: community.id });
  // Only paid circles can be sold; every circle's name is known here (hidden ones too: this is for managers).
  const paidCircles = community.circles.filter((c) => c.access === 'PAID').map((c) => ({ id: c.id, name: c.name }));
  const circleNames = Object.fromEntries(community.circles.map((c) => [c.id, c.name]));
  return (
    <>
      <h1>
        {t('settings.tiers.title')} <TestModeBadge testMode={paymentsInfo.testMode} />
      </h1>
      <p className="c-muted">{t('settings.tiers.lead')}</p>
      {community.archived ? <Alert tone="warning">{t('settings.general.archivedNotice')}</Alert> : null}
      {paidCircles.length === 0 ? (
        <Alert tone="info">
          {t('settings.tiers.noPaidCircles')} <Link href={`/c/${community.slug}/settings/circles`}>{t('settings.tiers.circlesLink')}</Link>
        </Alert>
      ) : null}
      <TierManager communityId={community.id} tiers={communityTiers} paidCircles={paidCircles} circleNames={circleNames} archived={community.archived} />
      <PromoCodeManager communityId={community.id} promoCodes={promoCodes} tiers={communityTiers.map((tier) => ({ id: tier.id, name: tier.name, archived: tier.archived }))} archived={community.archived} />
    </>
  );
}

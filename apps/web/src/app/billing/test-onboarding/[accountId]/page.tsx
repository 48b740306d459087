import type { Metadata } from 'next';
import { redirect } from 'next/navigation';
import { TestModeBanner } from '@/components/payments/TestMode';
import { FinishOnboarding } from '@/components/payments/TestOnboarding';
import { t } from '@/i18n';
import { loadMyCommunities, publicBaseUrl } from '@/lib/community';
import { sameSiteTarget } from '@/lib/payments';
import { getViewer } from '@/lib/server-api';
import { Card } from '@/ui';

type Props = { params: Promise<{ accountId: string }>; searchParams: Promise<Record<string, string | string[] | undefined>> };

export const metadata: Metadata = { title: t('onboarding.title'), robots: { index: false, follow: false } };

/**
 * Stands in for Stripe Connect's hosted onboarding: the owner would give business and bank details there. Finishing
 * marks the payout account ready, then goes back to `return` (only a place on this site).
 */
export default async function TestOnboardingPage({ params, searchParams }: Props) {
  const { accountId } = await params;
  const { return: raw } = await searchParams;
  const returnTo = typeof raw === 'string' ? raw : null;
  const viewer = await getViewer();
  if (!viewer) {
    const here = `/billing/test-onboarding/${encodeURIComponent(accountId)}${returnTo ? `?return=${encodeURIComponent(returnTo)}` : ''}`;
    redirect(`/login?next=${encodeURIComponent(here)}`);
  }
  // Communities the owner is in, so the way back works by id when `return` is missing or points elsewhere.
  const communities = (await loadMyCommunities()).filter((c) => c.viewerRole === 'OWNER').map((c) => ({ id: c.id, slug: c.slug }));
  const publicBase = await publicBaseUrl();
  return (
    <div className="c-stack c-narrow">
      <TestModeBanner>
        <p>{t('onboarding.testLead')}</p>
      </TestModeBanner>
      <h1>{t('onboarding.heading')}</h1>
      <Card>
        <p>{t('onboarding.lead')}</p>
        <FinishOnboarding accountId={accountId} returnTo={returnTo} publicBase={publicBase} communities={communities} back={sameSiteTarget(returnTo, [publicBase])} />
      </Card>
    </div>
  );
}

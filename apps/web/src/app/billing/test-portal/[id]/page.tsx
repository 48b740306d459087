import type { Metadata } from 'next';
import { notFound, redirect } from 'next/navigation';
import { ClientError, TestPortalDocument, type TestPortalQuery } from '@circles/client';
import { TestModeBanner } from '@/components/payments/TestMode';
import { TestPortalView } from '@/components/payments/TestPortal';
import { t } from '@/i18n';
import { getViewer, serverClient } from '@/lib/server-api';

type Props = { params: Promise<{ id: string }> };

export const metadata: Metadata = { title: t('portal.title'), robots: { index: false, follow: false } };

async function load(id: string): Promise<TestPortalQuery | null> {
  if (!/^[\w-]{1,200}$/.test(id)) return null;
  try {
    return await (await serverClient()).request(TestPortalDocument, { id });
  } catch (err) {
    if (err instanceof ClientError && (err.code === 'FAILED_PRECONDITION' || err.code === 'NOT_FOUND')) return null;
    throw err;
  }
}

/** The test provider's billing portal (what Stripe's customer portal is with real payments). */
export default async function TestPortalPage({ params }: Props) {
  const { id } = await params;
  const viewer = await getViewer();
  if (!viewer) redirect(`/login?next=${encodeURIComponent(`/billing/test-portal/${id}`)}`);
  const portal = (await load(id))?.testPortal;
  if (!portal) notFound();
  return (
    <div className="c-stack">
      <TestModeBanner>
        <p>{t('portal.lead')}</p>
      </TestModeBanner>
      <h1>{t('portal.heading')}</h1>
      <TestPortalView initial={portal} />
    </div>
  );
}

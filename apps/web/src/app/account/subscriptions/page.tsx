import type { Metadata } from 'next';
import Link from 'next/link';
import { redirect } from 'next/navigation';
import { ClientError, MySubscriptionsDocument } from '@circles/client';
import { MySubscriptionList, type ChangeOption, type MySubscription } from '@/components/payments/MySubscriptions';
import { TestModeBadge } from '@/components/payments/TestMode';
import { t } from '@/i18n';
import { priceLabel } from '@/lib/payments';
import { getViewer, serverClient } from '@/lib/server-api';

export const metadata: Metadata = { title: t('subscriptions.title'), robots: { index: false, follow: false } };

const LOGIN = '/login?next=/account/subscriptions';

export default async function MySubscriptionsPage() {
  const viewer = await getViewer();
  if (!viewer) redirect(LOGIN);
  const client = await serverClient();
  let data;
  try {
    data = await client.request(MySubscriptionsDocument);
  } catch (err) {
    if (err instanceof ClientError && err.code === 'UNAUTHENTICATED') redirect(LOGIN);
    throw err;
  }
  const subscriptions = data.mySubscriptions.map(({ community, ...s }): MySubscription => {
    // Other tiers (or the other interval) of the same community on sale, monthly or yearly: a renewing
    // subscription moves between renewing prices. None when the viewer can no longer see the community.
    const options: ChangeOption[] = (community?.tiers ?? []).flatMap((tier) =>
      tier.prices
        .filter((p) => p.active && p.interval !== 'ONCE' && p.id !== s.price?.id)
        .map((p) => ({ tierId: tier.id, interval: p.interval, label: t('subscriptions.option', { tier: tier.name, price: priceLabel(p) }), tierName: tier.name })),
    );
    return { ...s, community: community ? { name: community.name, slug: community.slug } : null, options };
  });
  return (
    <div className="c-stack">
      <p>
        <Link href="/account">← {t('subscriptions.backToAccount')}</Link>
      </p>
      <h1>
        {t('subscriptions.title')} <TestModeBadge testMode={data.paymentsInfo.testMode} />
      </h1>
      <p className="c-muted">{t('subscriptions.lead')}</p>
      <MySubscriptionList subscriptions={subscriptions} />
    </div>
  );
}

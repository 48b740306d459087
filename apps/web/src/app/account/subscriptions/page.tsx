import type { Metadata } from 'next';
import Link from 'next/link';
import { redirect } from 'next/navigation';
import { ClientError, CommunityTiersOnSaleDocument, MySubscriptionsDocument, type CommunityTiersOnSaleQuery } from '@circles/client';
import { MySubscriptionList, type ChangeOption } from '@/components/payments/MySubscriptions';
import { TestModeBadge } from '@/components/payments/TestMode';
import { t } from '@/i18n';
import { loadMyCommunities } from '@/lib/community';
import { isChangeable, priceLabel } from '@/lib/payments';
import { getViewer, serverClient } from '@/lib/server-api';

export const metadata: Metadata = { title: t('subscriptions.title'), robots: { index: false, follow: false } };

const LOGIN = '/login?next=/account/subscriptions';

type OnSale = NonNullable<CommunityTiersOnSaleQuery['community']>['tiers'];

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
  // A subscription names its community by id: the viewer's communities give the name and address.
  const communities = new Map((await loadMyCommunities()).map((c) => [c.id, { name: c.name, slug: c.slug }]));
  const changeable = [...new Set(data.mySubscriptions.filter(isChangeable).map((s) => s.communityId))];
  const onSale = new Map<string, OnSale>(
    await Promise.all(
      changeable.map(async (id): Promise<[string, OnSale]> => {
        const c = communities.get(id);
        if (!c) return [id, []];
        return [id, (await client.request(CommunityTiersOnSaleDocument, { slug: c.slug })).community?.tiers ?? []];
      }),
    ),
  );
  const subscriptions = data.mySubscriptions.map((s) => {
    // Other tiers (or the other interval) of the same community, monthly or yearly: a renewing subscription
    // moves between renewing prices.
    const options: ChangeOption[] = (onSale.get(s.communityId) ?? []).flatMap((tier) =>
      tier.prices
        .filter((p) => p.interval !== 'ONCE' && p.id !== s.price?.id)
        .map((p) => ({ tierId: tier.id, interval: p.interval, label: t('subscriptions.option', { tier: tier.name, price: priceLabel(p) }), tierName: tier.name })),
    );
    return { ...s, community: communities.get(s.communityId) ?? null, options };
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

import type { Metadata } from 'next';
import { notFound, redirect } from 'next/navigation';
import { ClientError, TestCheckoutDocument, type TestCheckoutQuery } from '@circles/client';
import { TestCheckoutForm } from '@/components/payments/TestCheckout';
import { TestModeBanner } from '@/components/payments/TestMode';
import { t } from '@/i18n';
import { formatMoney } from '@/lib/money';
import { priceLabel } from '@/lib/payments';
import { getViewer, serverClient } from '@/lib/server-api';
import { Alert, Card } from '@/ui';

type Props = { params: Promise<{ id: string }> };

export const metadata: Metadata = { title: t('checkout.title'), robots: { index: false, follow: false } };

async function load(id: string): Promise<TestCheckoutQuery | null> {
  if (!/^[\w-]{1,200}$/.test(id)) return null;
  try {
    return await (await serverClient()).request(TestCheckoutDocument, { id });
  } catch (err) {
    // Real payments (Stripe) are on: this page does not exist.
    if (err instanceof ClientError && (err.code === 'FAILED_PRECONDITION' || err.code === 'NOT_FOUND')) return null;
    throw err;
  }
}

/**
 * The test provider's checkout page (what Stripe Checkout is with real payments): the order, a card number, the
 * terms, an optional promotion code and tax ID. Only the buyer who started the checkout can open it.
 */
export default async function TestCheckoutPage({ params }: Props) {
  const { id } = await params;
  const viewer = await getViewer();
  if (!viewer) redirect(`/login?next=${encodeURIComponent(`/billing/test-checkout/${id}`)}`);
  const data = await load(id);
  const checkout = data?.testCheckout;
  if (!checkout) notFound();
  const price = priceLabel(checkout);
  const open = checkout.status === 'open';
  const trial = checkout.trialDays > 0;
  // What is charged now, after a code applied up front (nothing during a trial); a trial's later charges are the
  // price, less the code's discount if one is applied (how long it lasts is the code's).
  const amountDue = formatMoney(checkout.amountDue, checkout.currency);
  const dueNow = !trial ? amountDue : checkout.promotionCode ? t('checkout.dueTrialPromo', { now: amountDue, price }) : t('checkout.dueTrial', { now: amountDue, price });
  return (
    <div className="c-stack c-narrow">
      <TestModeBanner>
        <p>{t('checkout.testLead')}</p>
        <p className="c-small">{t('checkout.testMore')}</p>
      </TestModeBanner>
      <h1>{t('checkout.heading')}</h1>
      <Card title={t('checkout.summary')}>
        <dl className="c-dl" data-testid="checkout-summary">
          <dt>{t('checkout.product')}</dt>
          <dd>
            {checkout.productName}
            {checkout.productDescription ? <span className="c-muted c-small"> — {checkout.productDescription}</span> : null}
          </dd>
          <dt>{t('checkout.price')}</dt>
          <dd>{price}</dd>
          <dt>{t('checkout.billing')}</dt>
          <dd>{t(`checkout.interval.${checkout.interval}`)}</dd>
          <dt>{t('checkout.trial')}</dt>
          <dd>{trial ? t('checkout.trialDays', { days: checkout.trialDays }) : t('checkout.noTrial')}</dd>
          {checkout.promotionCode ? (
            <>
              <dt>{t('checkout.promotionCode')}</dt>
              <dd data-testid="checkout-promotion-code">{t('checkout.promoApplied', { code: checkout.promotionCode })}</dd>
            </>
          ) : null}
          <dt>{checkout.status === 'complete' ? t('checkout.charged') : t('checkout.dueToday')}</dt>
          <dd data-testid="checkout-amount-due">{dueNow}</dd>
        </dl>
      </Card>
      {open ? (
        <Card title={t('checkout.payment')}>
          <TestCheckoutForm
            checkoutId={id}
            amountLabel={amountDue}
            trial={trial}
            requireTerms={checkout.requireTerms}
            allowPromotionCodes={checkout.allowPromotionCodes}
            cancelUrl={checkout.cancelUrl}
          />
        </Card>
      ) : (
        <Alert tone="info">
          {checkout.status === 'complete' ? t('checkout.complete') : t('checkout.expired')} <a href={checkout.cancelUrl}>{t('checkout.back')}</a>
        </Alert>
      )}
    </div>
  );
}

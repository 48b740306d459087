'use client';
/**
 * A paid circle's tiers on its page: name, description, benefits, prices with their interval and the trial, and a
 * Subscribe button per interval (with an optional promotion code). Rendered on the server too, so anonymous visitors
 * and search engines see what is on sale; subscribing asks them to log in and join first. A click starts a checkout
 * and sends the browser to the provider's page (Stripe Checkout, or the local test checkout).
 */
import Link from 'next/link';
import { useRouter } from 'next/navigation';
import { useEffect, useRef, useState } from 'react';
import { StartCheckoutDocument, type BillingInterval, type CircleTiersQuery } from '@circles/client';
import { t } from '@/i18n';
import { browserClient } from '@/lib/browser-api';
import { describeError } from '@/lib/errors';
import { go } from '@/lib/navigation';
import { INTERVALS, priceLabel, statusLabel, statusTone, trialLabel } from '@/lib/payments';
import { Alert, Badge, Button, TextField } from '@/ui';
import { LocalTime } from '../LocalTime';

export type OfferedTier = NonNullable<CircleTiersQuery['circle']>['tiers'][number];

export interface TierOfferProps {
  tiers: OfferedTier[];
  circleName: string;
  communityName: string;
  communitySlug: string;
  /** Who is looking: only members of the community can buy; 'preview' shows the offer without buttons (managers). */
  viewer: 'anonymous' | 'outsider' | 'member' | 'preview';
  /** Where "Log in to subscribe" goes (back to this page afterwards). */
  loginHref: string;
  /** An archived community sells nothing. */
  archived: boolean;
  /** Names of the community's circles the viewer can see, for a bundle's other circles. */
  circleNames?: Record<string, string>;
  /** The circle whose page this is (not repeated among "also opens"). */
  circleId?: string;
}

export function TierOffer({ tiers, circleName, communityName, communitySlug, viewer, loginHref, archived, circleNames = {}, circleId }: TierOfferProps) {
  const [promo, setPromo] = useState('');
  const [busy, setBusy] = useState<string | null>(null);
  const [error, setError] = useState<{ message: string; field?: string | undefined }>();
  const rootRef = useRef<HTMLDivElement>(null);
  const canBuy = viewer === 'member' && !archived;

  useEffect(() => {
    if (error?.field === 'promoCode') rootRef.current?.querySelector<HTMLInputElement>('input[name="promoCode"]')?.focus();
  }, [error]);

  const subscribe = async (tierId: string, interval: BillingInterval) => {
    if (busy) return;
    setBusy(`${tierId}:${interval}`);
    setError(undefined);
    try {
      const { startCheckout } = await browserClient.request(StartCheckoutDocument, { tierId, interval, promoCode: promo.trim() || null });
      // The provider's page (for the test provider, /billing/test-checkout/…): the address as given.
      go(startCheckout.url);
    } catch (err) {
      setBusy(null);
      setError(describeError(err));
    }
  };

  if (tiers.length === 0) return <p className="c-muted">{t('tiers.none')}</p>;
  const promoError = error?.field === 'promoCode' ? error.message : undefined;

  return (
    <div className="c-stack" ref={rootRef}>
      {archived ? (
        <Alert tone="info">{t('tiers.archivedCommunity')}</Alert>
      ) : viewer === 'anonymous' ? (
        <p>
          {t('tiers.logInHint', { community: communityName })}{' '}
          <Link href={loginHref} className="c-button c-button--primary">
            {t('tiers.logInToSubscribe')}
          </Link>
        </p>
      ) : viewer === 'outsider' ? (
        <p>
          {t('tiers.joinToSubscribe', { community: communityName })} <Link href={`/c/${communitySlug}`}>{t('tiers.joinLink', { community: communityName })}</Link>
        </p>
      ) : null}
      {error && !promoError ? <Alert tone="error">{error.message}</Alert> : null}
      {canBuy ? (
        <TextField
          name="promoCode"
          label={t('tiers.promoCode')}
          description={t('tiers.promoCodeHint')}
          value={promo}
          onChange={(e) => {
            setPromo(e.target.value);
            if (promoError) setError(undefined);
          }}
          className="c-promo-field"
          autoComplete="off"
          spellCheck={false}
          maxLength={40}
          error={promoError}
        />
      ) : null}
      <ul className="c-tiers" aria-label={t('tiers.listLabel', { circle: circleName })}>
        {tiers.map((tier) => {
          const prices = [...tier.prices].sort((a, b) => INTERVALS.indexOf(a.interval) - INTERVALS.indexOf(b.interval));
          const sub = tier.viewerSubscription;
          const headingId = `tier-${tier.id}`;
          const others = tier.circles.filter((c) => c.id !== circleId && circleNames[c.id]).map((c) => circleNames[c.id]!);
          return (
            <li key={tier.id} className="c-tier" data-testid="tier" aria-labelledby={headingId}>
              <h3 id={headingId} className="c-tier__name">
                {tier.name}
              </h3>
              {tier.description.trim() ? <p className="c-prose">{tier.description}</p> : null}
              {tier.benefits.length ? (
                <ul className="c-points" aria-label={t('tiers.benefits', { tier: tier.name })}>
                  {tier.benefits.map((b, i) => (
                    <li key={i}>{b}</li>
                  ))}
                </ul>
              ) : null}
              {others.length ? <p className="c-muted">{t('tiers.alsoOpens', { circles: others.join(', ') })}</p> : null}
              {tier.trialDays > 0 ? (
                <p>
                  <Badge tone="success">{trialLabel(tier.trialDays)}</Badge>
                </p>
              ) : null}
              <ul className="c-tier__prices" aria-label={t('tiers.pricesOf', { tier: tier.name })}>
                {prices.map((p) => {
                  const label = priceLabel(p);
                  return (
                    <li key={p.id} className="c-row-between">
                      <span className="c-tier__price">{label}</span>
                      {canBuy && !sub ? (
                        <Button
                          pending={busy === `${tier.id}:${p.interval}`}
                          disabled={busy !== null && busy !== `${tier.id}:${p.interval}`}
                          aria-label={t('tiers.subscribeLabel', { action: t(`tiers.subscribe.${p.interval}`), tier: tier.name, price: label })}
                          onClick={() => void subscribe(tier.id, p.interval)}
                        >
                          {t(`tiers.subscribe.${p.interval}`)}
                        </Button>
                      ) : null}
                    </li>
                  );
                })}
              </ul>
              {sub ? <SubscriptionLine sub={sub} /> : null}
            </li>
          );
        })}
      </ul>
    </div>
  );
}

/** The viewer's own subscription to a tier: its status and where to manage it, instead of Subscribe. */
export function SubscriptionLine({ sub }: { sub: NonNullable<OfferedTier['viewerSubscription']> }) {
  return (
    <div className="c-stack" data-testid="viewer-subscription">
      <p>
        {t('tiers.youSubscribe')} <Badge tone={statusTone(sub.status)}>{statusLabel(sub.status)}</Badge>
        {sub.currentPeriodEnd && sub.interval !== 'ONCE' ? (
          <>
            {' · '}
            <LocalTime iso={sub.currentPeriodEnd} dateOnly message={sub.cancelAtPeriodEnd ? 'subscriptions.endsAt' : 'subscriptions.renews'} />
          </>
        ) : null}
      </p>
      <p>
        <Link href="/account/subscriptions">{t('tiers.manageLink')}</Link>
      </p>
    </div>
  );
}

/**
 * Back from a paid checkout but the circle is not open yet: access arrives by an event between services, usually
 * within a moment. Re-reads the page a few times; once the circle opens, the server stops rendering this.
 */
export function AccessPending() {
  const router = useRouter();
  useEffect(() => {
    let tries = 0;
    const timer = setInterval(() => {
      tries += 1;
      router.refresh();
      if (tries >= 15) clearInterval(timer);
    }, 2000);
    return () => clearInterval(timer);
  }, [router]);
  return null;
}

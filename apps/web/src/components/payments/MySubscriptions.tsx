'use client';
/**
 * My subscriptions: each subscription or purchase with its tier, price, status and dates; cancel at the end of the
 * period (after a confirmation) or resume; move to another tier of the same community; and the provider's billing
 * portal (card, invoices).
 */
import Link from 'next/link';
import { useRouter } from 'next/navigation';
import { useRef, useState } from 'react';
import { CancelSubscriptionDocument, ChangeSubscriptionDocument, OpenBillingPortalDocument, ResumeSubscriptionDocument, type BillingInterval, type SubscriptionFieldsFragment } from '@circles/client';
import { t } from '@/i18n';
import { browserClient } from '@/lib/browser-api';
import { formatDate } from '@/lib/format';
import { go } from '@/lib/navigation';
import { inputError, isChangeable, isCurrent, priceLabel, statusLabel, statusTone } from '@/lib/payments';
import { useAction } from '@/lib/use-action';
import { Alert, Badge, Button, Card, EmptyState, Notice, RadioGroup } from '@/ui';
import { LocalTime } from '../LocalTime';
import { ActionDialog, useDialog, useFocusRescue } from '../settings/shared';

export interface ChangeOption {
  tierId: string;
  tierName: string;
  interval: BillingInterval;
  label: string;
}

/** A subscription with its community (null when the viewer may no longer see it) and the tiers it may move to. */
export type MySubscription = SubscriptionFieldsFragment & { community: { name: string; slug: string } | null; options: ChangeOption[] };

export function MySubscriptionList({ subscriptions }: { subscriptions: MySubscription[] }) {
  const router = useRouter();
  const [notice, setNotice] = useState<string>();
  const action = useAction();
  const portal = useAction();
  const [busyId, setBusyId] = useState<string>();
  const dialog = useDialog();
  const listRef = useRef<HTMLDivElement>(null);
  useFocusRescue(listRef, subscriptions);
  const current = subscriptions.filter(isCurrent);
  const ended = subscriptions.filter((s) => !isCurrent(s));
  const canceling = subscriptions.find((s) => dialog.isOpen(`cancel:${s.id}`));
  const changing = subscriptions.find((s) => dialog.isOpen(`change:${s.id}`));

  const resume = (s: MySubscription) => {
    setBusyId(s.id);
    setNotice(undefined);
    action.run(async () => {
      await browserClient.request(ResumeSubscriptionDocument, { id: s.id });
      setNotice(t('subscriptions.resumed', { tier: s.tier.name }));
      router.refresh();
    });
  };

  const item = (s: MySubscription) => (
    <li key={s.id} className="c-row-between" data-testid="subscription" aria-labelledby={`sub-${s.id}`}>
      <div className="c-entry">
        <h3 id={`sub-${s.id}`} className="c-entry__title">
          {s.tier.name} <Badge tone={statusTone(s.status)}>{statusLabel(s.status)}</Badge>
          {s.cancelAtPeriodEnd && isChangeable(s) ? <> <Badge tone="warning">{t('subscriptions.canceledBadge')}</Badge></> : null}
        </h3>
        <p className="c-entry__meta">
          {s.community ? <Link href={`/c/${s.community.slug}`}>{s.community.name}</Link> : t('subscriptions.noCommunity')}
          {s.price ? ` · ${priceLabel({ ...s.price, interval: s.interval })}` : null}
        </p>
        <ul className="c-entry__meta c-plain-list">
          {s.interval === 'ONCE' ? (
            <li>
              <LocalTime iso={s.createdAt} dateOnly message="subscriptions.purchased" />
            </li>
          ) : s.endedAt ? (
            <li>
              <LocalTime iso={s.endedAt} dateOnly message="subscriptions.ended" />
            </li>
          ) : s.currentPeriodEnd ? (
            <li>
              <LocalTime iso={s.currentPeriodEnd} dateOnly message={s.cancelAtPeriodEnd ? 'subscriptions.endsAt' : 'subscriptions.renews'} />
            </li>
          ) : null}
          {s.trialEnd && s.status === 'TRIALING' ? (
            <li>
              <LocalTime iso={s.trialEnd} dateOnly message="subscriptions.trialEnds" />
            </li>
          ) : null}
          {s.suspendedReason ? <li>{t('subscriptions.suspended', { reason: s.suspendedReason })}</li> : null}
          {!s.community && isChangeable(s) ? <li data-testid="change-unavailable">{t('subscriptions.changeUnavailable')}</li> : null}
        </ul>
      </div>
      {isChangeable(s) ? (
        <div className="c-actions">
          {s.cancelAtPeriodEnd ? (
            <Button pending={action.pending && busyId === s.id} disabled={action.pending && busyId !== s.id} aria-label={t('subscriptions.resumeLabel', { tier: s.tier.name })} onClick={() => resume(s)}>
              {t('subscriptions.resume')}
            </Button>
          ) : (
            <Button variant="danger" disabled={action.pending} aria-label={t('subscriptions.cancelLabel', { tier: s.tier.name })} onClick={() => dialog.open(`cancel:${s.id}`)}>
              {t('subscriptions.cancel')}
            </Button>
          )}
          {s.options.length ? (
            <Button variant="secondary" disabled={action.pending} aria-label={t('subscriptions.changeLabel', { tier: s.tier.name })} onClick={() => dialog.open(`change:${s.id}`)}>
              {t('subscriptions.change')}
            </Button>
          ) : null}
        </div>
      ) : null}
    </li>
  );

  return (
    <div className="c-stack" ref={listRef} tabIndex={-1}>
      <Notice message={notice} />
      {action.error ? <Alert tone="error">{action.error}</Alert> : null}
      {subscriptions.length === 0 ? (
        <EmptyState>{t('subscriptions.empty')}</EmptyState>
      ) : (
        <>
          <Card title={t('subscriptions.current')}>
            {current.length === 0 ? (
              <EmptyState>{t('subscriptions.noneCurrent')}</EmptyState>
            ) : (
              <ul className="c-list" aria-label={t('subscriptions.current')}>
                {current.map(item)}
              </ul>
            )}
          </Card>
          <Card title={t('subscriptions.billing')} description={<p>{t('subscriptions.billingHint')}</p>}>
            {portal.error ? <Alert tone="error">{portal.error}</Alert> : null}
            <div>
              <Button
                variant="secondary"
                pending={portal.pending}
                onClick={() =>
                  portal.run(async () => {
                    const { openBillingPortal } = await browserClient.request(OpenBillingPortalDocument, { returnPath: '/account/subscriptions' });
                    return go(openBillingPortal);
                  })
                }
              >
                {t('subscriptions.manageBilling')}
              </Button>
            </div>
          </Card>
          {ended.length ? (
            <Card title={t('subscriptions.past')}>
              <ul className="c-list" aria-label={t('subscriptions.past')}>
                {ended.map(item)}
              </ul>
            </Card>
          ) : null}
        </>
      )}

      <ActionDialog
        open={canceling !== undefined}
        onClose={dialog.close}
        title={t('subscriptions.cancelTitle', { tier: canceling?.tier.name ?? '' })}
        description={<p>{canceling?.currentPeriodEnd ? t('subscriptions.cancelHint', { time: formatDate(canceling.currentPeriodEnd) }) : t('subscriptions.cancelHintNoDate')}</p>}
        submitLabel={t('subscriptions.cancelSubmit')}
        cancelLabel={t('subscriptions.keep')}
        variant="danger"
        fallbackFocus={listRef}
        action={async () => {
          const s = canceling!;
          await browserClient.request(CancelSubscriptionDocument, { id: s.id });
          dialog.close();
          setNotice(t('subscriptions.canceled', { tier: s.tier.name }));
          router.refresh();
        }}
      />
      <ActionDialog
        open={changing !== undefined}
        onClose={dialog.close}
        title={t('subscriptions.changeTitle', { tier: changing?.tier.name ?? '' })}
        description={<p>{t('subscriptions.changeHint')}</p>}
        submitLabel={t('subscriptions.changeSubmit')}
        fieldMap={{ tierId: 'choice', interval: 'choice' }}
        fallbackFocus={listRef}
        action={async (v) => {
          const s = changing!;
          const choice = s.options.find((o) => `${o.tierId}:${o.interval}` === v.choice);
          if (!choice) throw inputError('choice', t('subscriptions.chooseFirst'));
          await browserClient.request(ChangeSubscriptionDocument, { id: s.id, tierId: choice.tierId, interval: choice.interval });
          dialog.close();
          setNotice(t('subscriptions.changed', { tier: choice.tierName }));
          router.refresh();
        }}
      >
        {(form) => (
          <RadioGroup
            name="choice"
            legend={t('subscriptions.changeChoice')}
            options={(changing?.options ?? []).map((o) => ({ value: `${o.tierId}:${o.interval}`, label: o.label }))}
            error={form.fieldState('choice').error}
          />
        )}
      </ActionDialog>
    </div>
  );
}

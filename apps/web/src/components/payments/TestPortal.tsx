'use client';
/** The test billing portal: subscriptions (cancel at period end, resume), the payment card, invoices, the way back. */
import { useCallback, useState } from 'react';
import { TestPortalCancelDocument, TestPortalUpdateCardDocument, type TestPortalFieldsFragment } from '@circles/client';
import { t } from '@/i18n';
import { browserClient } from '@/lib/browser-api';
import { formatMoney } from '@/lib/money';
import { priceLabel, providerStatus } from '@/lib/payments';
import { useAction } from '@/lib/use-action';
import { Alert, Badge, Button, Card, EmptyState, Form, Notice, TableScroller, TextField, useForm, type FormValues } from '@/ui';
import { LocalTime } from '../LocalTime';

export function TestPortalView({ initial }: { initial: TestPortalFieldsFragment }) {
  const [portal, setPortal] = useState(initial);
  const [notice, setNotice] = useState<string>();
  const [cardKey, setCardKey] = useState(0);
  const action = useAction();
  const [busyId, setBusyId] = useState<string>();

  const setCancel = (id: string, name: string, cancel: boolean) => {
    setBusyId(id);
    setNotice(undefined);
    action.run(async () => {
      const { testPortalCancel } = await browserClient.request(TestPortalCancelDocument, { portalId: portal.id, subscriptionId: id, cancel });
      setPortal(testPortalCancel);
      setNotice(cancel ? t('portal.canceled', { name }) : t('portal.resumed', { name }));
    });
  };

  const updateCard = useCallback(
    async (v: FormValues) => {
      setNotice(undefined);
      const { testPortalUpdateCard } = await browserClient.request(TestPortalUpdateCardDocument, { portalId: portal.id, cardNumber: v.cardNumber ?? '' });
      setPortal(testPortalUpdateCard);
      setNotice(t('portal.cardUpdated'));
      setCardKey((k) => k + 1);
    },
    [portal.id],
  );
  const cardForm = useForm(updateCard);

  return (
    <div className="c-stack">
      <Notice message={notice} />
      <Card title={t('portal.subscriptions')}>
        {action.error ? <Alert tone="error">{action.error}</Alert> : null}
        {portal.subscriptions.length === 0 ? (
          <EmptyState>{t('portal.noSubscriptions')}</EmptyState>
        ) : (
          <ul className="c-list" aria-label={t('portal.subscriptions')}>
            {portal.subscriptions.map((s) => (
              <li key={s.id} className="c-row-between" data-testid="portal-subscription">
                <div className="c-entry">
                  <span className="c-entry__title">
                    {s.productName} <Badge>{providerStatus(s.status)}</Badge>
                  </span>
                  <p className="c-entry__meta">
                    {priceLabel(s)} · <LocalTime iso={s.currentPeriodEnd} dateOnly message={s.cancelAtPeriodEnd ? 'portal.ends' : 'portal.renews'} />
                  </p>
                </div>
                {s.status === 'active' || s.status === 'trialing' || s.status === 'past_due' ? (
                  <Button
                    variant={s.cancelAtPeriodEnd ? 'primary' : 'secondary'}
                    pending={action.pending && busyId === s.id}
                    disabled={action.pending && busyId !== s.id}
                    aria-label={s.cancelAtPeriodEnd ? t('portal.resumeLabel', { name: s.productName }) : t('portal.cancelLabel', { name: s.productName })}
                    onClick={() => setCancel(s.id, s.productName, !s.cancelAtPeriodEnd)}
                  >
                    {s.cancelAtPeriodEnd ? t('portal.resume') : t('portal.cancel')}
                  </Button>
                ) : null}
              </li>
            ))}
          </ul>
        )}
      </Card>
      <Card title={t('portal.card')} description={<p>{t('portal.cardLead')}</p>}>
        <Form key={cardKey} controller={cardForm} aria-label={t('portal.card')}>
          <TextField name="cardNumber" label={t('checkout.cardNumber')} description={t('checkout.cardHint')} required inputMode="numeric" autoComplete="cc-number" maxLength={23} {...cardForm.fieldState('cardNumber')} />
          <div>
            <Button type="submit" pending={cardForm.pending}>
              {t('portal.updateCard')}
            </Button>
          </div>
        </Form>
      </Card>
      <Card title={t('portal.invoices')}>
        {portal.invoices.length === 0 ? (
          <EmptyState>{t('portal.noInvoices')}</EmptyState>
        ) : (
          <TableScroller label={t('portal.invoices')}>
            <table className="c-table" data-testid="portal-invoices">
              <caption className="c-visually-hidden">{t('portal.invoices')}</caption>
              <thead>
                <tr>
                  <th scope="col">{t('portal.date')}</th>
                  <th scope="col">{t('portal.amount')}</th>
                  <th scope="col">{t('portal.status')}</th>
                </tr>
              </thead>
              <tbody>
                {portal.invoices.map((i) => (
                  <tr key={i.id}>
                    <td>
                      <LocalTime iso={i.createdAt} />
                    </td>
                    <td>{formatMoney(i.amountPaid, i.currency)}</td>
                    <td>{providerStatus(i.status)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </TableScroller>
        )}
      </Card>
      <p>
        <a href={portal.returnUrl} className="c-button c-button--secondary">
          {t('portal.return')}
        </a>
      </p>
    </div>
  );
}

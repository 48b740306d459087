import type { Metadata } from 'next';
import Link from 'next/link';
import { ClientError, PayoutAccountDocument, RevenuePageDocument, type PayoutAccountQuery } from '@circles/client';
import { LocalTime } from '@/components/LocalTime';
import {
  AdvanceClockForm,
  DisputeEvidenceForm,
  DisputeOutcomeButtons,
  ExportLedgerButton,
  PayoutOnboardingButton,
  RefundButton,
  RevenueActions,
  SimulateDisputeButton,
} from '@/components/payments/Revenue';
import { TestModeBadge } from '@/components/payments/TestMode';
import { t } from '@/i18n';
import { describeError } from '@/lib/errors';
import { formatMoney, formatMoneyList } from '@/lib/money';
import { personName as personLabel, priceLabel, providerStatus, statusLabel, statusTone } from '@/lib/payments';
import { serverClient } from '@/lib/server-api';
import { requireSettings } from '@/lib/settings';
import { Alert, Badge, Card, EmptyState, TableScroller } from '@/ui';

type Props = { params: Promise<{ slug: string }>; searchParams: Promise<Record<string, string | string[] | undefined>> };

const LEDGER_PAGE = 50;
const LIVE_DISPUTES = ['NEEDS_RESPONSE', 'UNDER_REVIEW', 'WARNING_NEEDS_RESPONSE', 'WARNING_UNDER_REVIEW'];
const TAKES_EVIDENCE = ['NEEDS_RESPONSE', 'WARNING_NEEDS_RESPONSE'];

export async function generateMetadata({ params }: Props): Promise<Metadata> {
  const { community } = await requireSettings((await params).slug, 'revenue');
  return { title: t('settings.title', { section: t('settings.nav.revenue'), name: community.name }), robots: { index: false, follow: false } };
}

type Payouts = { account: PayoutAccountQuery['payoutAccount'] } | { error: string };

export default async function RevenueSettingsPage({ params, searchParams }: Props) {
  const { slug } = await params;
  const query = await searchParams;
  const before = typeof query.before === 'string' && /^\d{1,12}$/.test(query.before) ? Number(query.before) : null;
  const onboarding = query.onboarding === 'done' || query.onboarding === 'refresh' ? query.onboarding : null;
  const { community, viewer } = await requireSettings(slug, 'revenue');
  const isOwner = community.owner.id === viewer.user.id;
  const client = await serverClient();
  const [data, payouts] = await Promise.all([
    client.request(RevenuePageDocument, { communityId: community.id, first: LEDGER_PAGE, before }),
    // The balance is read from the provider: if it cannot be reached, the rest of the page still shows.
    client.request(PayoutAccountDocument, { communityId: community.id }).then(
      (r): Payouts => ({ account: r.payoutAccount }),
      (err: unknown): Payouts => {
        if (err instanceof ClientError) return { error: describeError(err).message };
        throw err;
      },
    ),
  ]);
  const { paymentsInfo: info, revenue, disputes, communitySubscriptions: subscriptions, ledger } = data;
  const testMode = info.testMode;

  const account = 'account' in payouts ? payouts.account : null;
  const payoutState = !account ? null : !account.exists ? 'notSetUp' : !account.chargesEnabled ? 'incomplete' : account.payoutsEnabled ? 'ready' : 'chargesOnly';
  const olderCursor = ledger.length === LEDGER_PAGE ? ledger[ledger.length - 1]!.sequence : null;
  const base = `/c/${community.slug}/settings/revenue`;
  // Changes whenever an action changes the page, so focus left on a vanished button is put back in the page.
  const state = [subscriptions.map((s) => s.status).join(), disputes.map((d) => d.status + (d.submittedAt ?? '')).join(), ledger[0]?.sequence ?? 0].join('|');
  const none = t('settings.revenue.none');

  return (
    <>
      <h1>
        {t('settings.revenue.title')} <TestModeBadge testMode={testMode} />
      </h1>
      <p className="c-muted">{t('settings.revenue.lead')}</p>
      {onboarding === 'done' ? (
        account?.chargesEnabled ? (
          <Alert tone="success">{t('settings.payouts.onboardingDone')}</Alert>
        ) : (
          <Alert tone="info">{t('settings.payouts.onboardingIncomplete')}</Alert>
        )
      ) : onboarding === 'refresh' ? (
        <Alert tone="info">{t('settings.payouts.onboardingRefresh')}</Alert>
      ) : null}
      <RevenueActions state={state}>
        <Card title={t('settings.revenue.summary')} description={<p>{t('settings.revenue.feeNote', { percent: info.platformFeePercent })}</p>}>
          <dl className="c-stats" data-testid="revenue-summary">
            <div>
              <dt>{t('settings.revenue.mrr')}</dt>
              <dd>{formatMoneyList(revenue.mrr, none)}</dd>
            </div>
            <div>
              <dt>{t('settings.revenue.activeSubscribers')}</dt>
              <dd>{revenue.activeSubscribers}</dd>
            </div>
            <div>
              <dt>{t('settings.revenue.new')}</dt>
              <dd>{revenue.newLast30Days}</dd>
            </div>
            <div>
              <dt>{t('settings.revenue.churned')}</dt>
              <dd>{revenue.churnedLast30Days}</dd>
            </div>
            <div>
              <dt>{t('settings.revenue.refunds')}</dt>
              <dd>{formatMoneyList(revenue.refundsLast30Days, none)}</dd>
            </div>
            <div>
              <dt>{t('settings.revenue.openDisputes')}</dt>
              <dd>
                {revenue.openDisputes}
                <span className="c-muted c-small"> {t('settings.revenue.disputes30', { count: revenue.disputesLast30Days })}</span>
              </dd>
            </div>
            <div>
              <dt>{t('settings.revenue.payouts')}</dt>
              <dd>{formatMoneyList(revenue.payoutsLast30Days, none)}</dd>
            </div>
            <div>
              <dt>{t('settings.revenue.net')}</dt>
              <dd>{formatMoneyList(revenue.netLast30Days, none)}</dd>
            </div>
          </dl>
        </Card>

        <section className="c-card" aria-labelledby="payouts-title" data-testid="payouts">
          <h2 id="payouts-title" className="c-card__title">
            {t('settings.payouts.title')}
          </h2>
          {'error' in payouts ? (
            <Alert tone="warning">{t('settings.payouts.unavailable', { reason: payouts.error })}</Alert>
          ) : account && payoutState ? (
            <div className="c-stack">
              <p data-testid="payout-status">
                <Badge tone={payoutState === 'ready' ? 'success' : 'warning'}>{t(`settings.payouts.state.${payoutState}`)}</Badge> {t(`settings.payouts.stateHint.${payoutState}`)}
              </p>
              {account.requirementsDue.length ? (
                <>
                  <h3>{t('settings.payouts.requirements')}</h3>
                  <ul className="c-points">
                    {account.requirementsDue.map((r) => (
                      <li key={r} className="c-mono">
                        {r}
                      </li>
                    ))}
                  </ul>
                </>
              ) : null}
              {account.exists ? (
                <dl className="c-dl">
                  <dt>{t('settings.payouts.available')}</dt>
                  <dd>{formatMoneyList(account.available, none)}</dd>
                  <dt>{t('settings.payouts.pending')}</dt>
                  <dd>{formatMoneyList(account.pending, none)}</dd>
                </dl>
              ) : null}
              {isOwner ? (
                payoutState === 'ready' ? null : (
                  <PayoutOnboardingButton communityId={community.id} label={payoutState === 'notSetUp' ? t('settings.payouts.setUp') : t('settings.payouts.continue')} />
                )
              ) : (
                <p className="c-muted">{t('settings.payouts.ownerOnly')}</p>
              )}
              {account.exists ? (
                <>
                  <h3 id="recent-payouts">{t('settings.payouts.recent')}</h3>
                  {account.payouts.length === 0 ? (
                    <EmptyState>{t('settings.payouts.none')}</EmptyState>
                  ) : (
                    <TableScroller label={t('settings.payouts.recent')}>
                      <table className="c-table" aria-labelledby="recent-payouts">
                        <thead>
                          <tr>
                            <th scope="col">{t('settings.payouts.arrival')}</th>
                            <th scope="col">{t('settings.payouts.amount')}</th>
                            <th scope="col">{t('settings.payouts.statusCol')}</th>
                          </tr>
                        </thead>
                        <tbody>
                          {account.payouts.map((p) => (
                            <tr key={p.id}>
                              <td>
                                <LocalTime iso={p.arrivalDate} dateOnly />
                              </td>
                              <td>{formatMoney(p.amount, p.currency)}</td>
                              <td>{providerStatus(p.status)}</td>
                            </tr>
                          ))}
                        </tbody>
                      </table>
                    </TableScroller>
                  )}
                </>
              ) : null}
            </div>
          ) : null}
        </section>

        <Card title={t('settings.disputes.title')} description={<p>{t('settings.disputes.lead')}</p>}>
          {disputes.length === 0 ? (
            <EmptyState>{t('settings.disputes.empty')}</EmptyState>
          ) : (
            <ul className="c-list" aria-label={t('settings.disputes.title')} data-testid="disputes">
              {disputes.map((d) => {
                const amount = formatMoney(d.amount, d.currency);
                // The dispute names the person when the provider's charge leads to one; its subscription always does.
                const buyer = d.user ?? d.subscription?.user;
                const person = buyer ? personLabel(buyer) : t('settings.subs.unknownPerson');
                const what = t('settings.disputes.item', { amount, person });
                return (
                  <li key={d.id} className="c-stack" data-testid="dispute">
                    <h3 className="c-entry__title">
                      {what} <Badge tone={LIVE_DISPUTES.includes(d.status) ? 'warning' : d.status === 'WON' ? 'success' : 'neutral'}>{t(`settings.disputes.status.${d.status}`)}</Badge>
                    </h3>
                    <ul className="c-entry__meta c-plain-list">
                      {d.subscription ? <li>{t('settings.disputes.tier', { tier: d.subscription.tier.name })}</li> : null}
                      <li>{t('settings.disputes.reason', { reason: d.reason })}</li>
                      <li>
                        <LocalTime iso={d.createdAt} message="settings.disputes.opened" />
                      </li>
                      {d.evidenceDueBy && TAKES_EVIDENCE.includes(d.status) && !d.submittedAt ? (
                        <li>
                          <LocalTime iso={d.evidenceDueBy} message="settings.disputes.due" />
                        </li>
                      ) : null}
                      {d.submittedAt ? (
                        <li>
                          <LocalTime iso={d.submittedAt} message="settings.disputes.submitted" />
                        </li>
                      ) : null}
                    </ul>
                    {TAKES_EVIDENCE.includes(d.status) && !d.submittedAt ? (
                      isOwner ? (
                        <details className="c-details">
                          <summary>{t('settings.disputes.respond')}</summary>
                          <DisputeEvidenceForm disputeId={d.id} evidence={d.evidence} title={t('settings.disputes.evidenceFor', { what })} />
                        </details>
                      ) : (
                        <p className="c-muted">{t('settings.disputes.ownerOnly')}</p>
                      )
                    ) : null}
                    {testMode && isOwner && LIVE_DISPUTES.includes(d.status) ? <DisputeOutcomeButtons disputeId={d.id} what={what} /> : null}
                  </li>
                );
              })}
            </ul>
          )}
        </Card>

        <Card title={t('settings.subs.title')}>
          {subscriptions.length === 0 ? (
            <EmptyState>{t('settings.subs.empty')}</EmptyState>
          ) : (
            <TableScroller label={t('settings.subs.title')}>
              <table className="c-table c-table--wide" data-testid="community-subscriptions">
                <caption className="c-visually-hidden">{t('settings.subs.title')}</caption>
                <thead>
                  <tr>
                    <th scope="col">{t('settings.subs.person')}</th>
                    <th scope="col">{t('settings.subs.tier')}</th>
                    <th scope="col">{t('settings.subs.status')}</th>
                    <th scope="col">{t('settings.subs.started')}</th>
                    <th scope="col">{t('settings.subs.actions')}</th>
                  </tr>
                </thead>
                <tbody>
                  {subscriptions.map((s) => {
                    const person = personLabel(s.user);
                    const refundable = !['REFUNDED', 'INCOMPLETE'].includes(s.status);
                    const disputable = testMode && isOwner && ['ACTIVE', 'PAST_DUE', 'PAID'].includes(s.status);
                    return (
                      <tr key={s.id}>
                        <th scope="row">{person}</th>
                        <td>
                          {s.tier.name}
                          {s.price ? <span className="c-muted c-small"> · {priceLabel({ ...s.price, interval: s.interval })}</span> : null}
                        </td>
                        <td>
                          <Badge tone={statusTone(s.status)}>{statusLabel(s.status)}</Badge>
                          {s.cancelAtPeriodEnd && s.currentPeriodEnd ? (
                            <span className="c-muted c-small">
                              {' '}
                              <LocalTime iso={s.currentPeriodEnd} dateOnly message="subscriptions.endsAt" />
                            </span>
                          ) : null}
                          {s.suspendedReason ? <span className="c-muted c-small"> {t('subscriptions.suspended', { reason: s.suspendedReason })}</span> : null}
                        </td>
                        <td>
                          <LocalTime iso={s.createdAt} dateOnly />
                        </td>
                        <td>
                          <div className="c-actions">
                            {refundable ? <RefundButton subscriptionId={s.id} person={person} tier={s.tier.name} /> : null}
                            {disputable ? <SimulateDisputeButton subscriptionId={s.id} person={person} tier={s.tier.name} /> : null}
                          </div>
                        </td>
                      </tr>
                    );
                  })}
                </tbody>
              </table>
            </TableScroller>
          )}
        </Card>

        <Card title={t('settings.ledger.title')} description={<p>{t('settings.ledger.lead')}</p>}>
          <ExportLedgerButton communityId={community.id} />
          <div className="c-after-form c-stack">
            {ledger.length === 0 ? (
              <EmptyState>{before ? t('settings.ledger.noOlder') : t('settings.ledger.empty')}</EmptyState>
            ) : (
              <TableScroller label={t('settings.ledger.title')}>
                <table className="c-table c-table--wide" data-testid="ledger">
                  <caption className="c-visually-hidden">{t('settings.ledger.title')}</caption>
                  <thead>
                    <tr>
                      <th scope="col">#</th>
                      <th scope="col">{t('settings.ledger.date')}</th>
                      <th scope="col">{t('settings.ledger.kind')}</th>
                      <th scope="col">{t('settings.ledger.description')}</th>
                      <th scope="col">{t('settings.ledger.person')}</th>
                      <th scope="col" className="c-num">
                        {t('settings.ledger.amount')}
                      </th>
                    </tr>
                  </thead>
                  <tbody>
                    {ledger.map((e) => (
                      <tr key={e.id}>
                        <td>{e.sequence}</td>
                        <td>
                          <LocalTime iso={e.occurredAt} />
                        </td>
                        <td>{t(`settings.ledger.kind.${e.kind}`)}</td>
                        <td>{e.description}</td>
                        <td>{e.user ? personLabel(e.user) : ''}</td>
                        <td className="c-num">{formatMoney(e.amount, e.currency)}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </TableScroller>
            )}
            {before || olderCursor ? (
              <nav aria-label={t('settings.ledger.pages')} className="c-actions">
                {before ? <Link href={base}>{t('settings.ledger.newest')}</Link> : null}
                {olderCursor ? <Link href={`${base}?before=${olderCursor}`}>{t('settings.ledger.older')}</Link> : null}
              </nav>
            ) : null}
          </div>
        </Card>

        {testMode ? (
          <Card title={t('settings.testControls.title')} description={<p>{t('settings.testControls.lead')}</p>}>
            {isOwner ? <AdvanceClockForm communityId={community.id} /> : <p className="c-muted">{t('settings.testControls.ownerOnly')}</p>}
          </Card>
        ) : null}
      </RevenueActions>
    </>
  );
}

import type { ChatActivity, Logger, OpenedPost, SignIn } from '@circles/platform';
import type { PaymentProvider, ProviderCharge, ProviderCheckoutSession, ProviderDispute, ProviderEvent, ProviderSubscription } from './provider.ts';
import type { PaymentsDb, SubscriptionRow } from './repo.ts';
import { LIVE_DISPUTE_STATUSES, type PaymentsService, paymentsTopics } from './service.ts';

type Apply = (trx: PaymentsDb) => Promise<void>;
const str = (v: unknown): string | null => (typeof v === 'string' && v ? v : null);
const idOf = (v: unknown): string | null => str(v) ?? (v && typeof v === 'object' ? str((v as { id?: unknown }).id) : null);

/**
 * Provider events — Stripe's webhooks, or the test provider's — in, exactly once. A delivery is stored under the
 * provider's event id (a repeat changes nothing) and acknowledged at once; this worker then applies stored events
 * from the table, like an outbox: it re-reads the current object from the provider first (so neither duplicates
 * nor the order of arrival matter), then applies the effect and marks the event applied in one transaction.
 * Failures are retried with backoff, never dropped; several processes may work the table at once.
 */
export class ProviderEventProcessor {
  private stopped = false;
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private again = false;
  /** The provider's clock, read before each event's transaction (reading it may query the database). */
  private clock = 0;

  constructor(
    private readonly svc: PaymentsService,
    private readonly provider: PaymentProvider,
    private readonly log: Logger,
  ) {}

  /** Stores one event (false: seen before). */
  async receive(event: ProviderEvent): Promise<boolean> {
    const fresh = await this.svc.repo.receiveEvent({ id: event.id, provider: this.provider.kind, type: event.type, created: Math.floor(event.created), account: event.account, payload: event.object });
    if (fresh) this.kick();
    return fresh;
  }

  start(pollMs = 1000): void {
    const tick = () => {
      if (this.stopped) return;
      this.kick();
      this.timer = setTimeout(tick, pollMs);
      this.timer.unref?.();
    };
    this.timer = setTimeout(tick, 0);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running;
  }

  /** Starts a pass unless one runs; a pass asked for meanwhile runs right after. */
  kick(): Promise<void> {
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = (async () => {
      try {
        do {
          this.again = false;
          await this.drain();
        } while (this.again && !this.stopped);
      } finally {
        this.running = null;
      }
    })();
    return this.running;
  }

  /** Applies every due event, oldest first. */
  async drain(): Promise<number> {
    let applied = 0;
    for (;;) {
      const batch = await this.svc.repo.nextPendingEvents(20);
      if (!batch.length || this.stopped) return applied;
      let progress = false;
      for (const e of batch) {
        if (this.stopped) return applied;
        const event: ProviderEvent = { id: e.id, type: e.type, created: e.created, account: e.account, livemode: false, object: e.payload };
        try {
          this.clock = await this.provider.clockNow();
          const apply = await this.plan(event);
          const done = await this.svc.repo.transaction(async (trx) => {
            if (!(await this.svc.repo.lockPendingEvent(trx, event.id))) return false;
            await apply(trx);
            await this.svc.repo.markApplied(trx, event.id);
            return true;
          });
          if (done) applied++;
          progress = true;
        } catch (err) {
          this.log.warn('payment event not applied yet; will retry', { eventId: event.id, type: event.type, attempt: e.attempts + 1, err: err instanceof Error ? err : new Error(String(err)) });
          await this.svc.repo.markFailed(event.id, e.attempts + 1, err instanceof Error ? err.message : String(err));
        }
      }
      this.svc.deps.outbox.nudge();
      if (!progress) return applied;
    }
  }

  /** Reads what the event is about from the provider (outside any transaction) and returns its effect. */
  private async plan(event: ProviderEvent): Promise<Apply> {
    const o = event.object;
    const nothing: Apply = async () => {};
    switch (true) {
      case event.type === 'checkout.session.completed' || event.type === 'checkout.session.async_payment_succeeded': {
        const session = await this.provider.retrieveCheckoutSession(idOf(o.id)!);
        if (!session.metadata.circles_checkout) return nothing;
        const sub = session.subscriptionId ? await this.provider.retrieveSubscription(session.subscriptionId) : null;
        return async (trx) => {
          const checkout = await this.svc.repo.checkout(session.metadata.circles_checkout!, trx);
          if (!checkout) return;
          await this.svc.repo.completeCheckout(trx, checkout.id, session.termsAccepted, session.customerTaxIds);
          if (sub) await this.syncSubscription(trx, sub);
          else if (session.mode === 'payment' && session.paymentIntentId && session.paymentStatus === 'paid') await this.purchase(trx, session);
        };
      }
      case event.type.startsWith('customer.subscription.'): {
        const sub = await this.provider.retrieveSubscription(idOf(o.id)!);
        return (trx) => this.syncSubscription(trx, sub).then(() => {});
      }
      case event.type.startsWith('invoice.'): {
        const invoice = await this.provider.retrieveInvoice(idOf(o.id)!);
        if (!invoice.subscriptionId) return nothing;
        const sub = await this.provider.retrieveSubscription(invoice.subscriptionId);
        // A paid invoice names its charge: that is how a renewal's charge is attributed to the subscription.
        const charge = invoice.status === 'paid' && invoice.chargeId ? await this.provider.retrieveCharge(invoice.chargeId) : null;
        return async (trx) => {
          const row = await this.syncSubscription(trx, sub);
          if (row && charge) await this.chargeEffects(trx, row, charge);
        };
      }
      case event.type === 'charge.succeeded' || event.type === 'charge.refunded' || event.type === 'charge.updated': {
        const charge = await this.provider.retrieveCharge(idOf(o.id)!);
        const owner = await this.ownerOfCharge(charge, false);
        if (!owner) return nothing;
        return async (trx) => {
          const row = await owner(trx);
          if (row) await this.chargeEffects(trx, row, charge);
        };
      }
      case event.type.startsWith('charge.dispute.'): {
        const dispute = await this.provider.retrieveDispute(idOf(o.id)!);
        const charge = await this.provider.retrieveCharge(dispute.chargeId);
        const owner = await this.ownerOfCharge(charge, true);
        if (!owner) return nothing;
        const activity = await this.memberActivity(dispute.id, charge.id);
        if (dispute.status === 'lost') await this.endAfterLostDispute(charge.id);
        return async (trx) => {
          const row = await owner(trx);
          if (!row) return;
          await this.chargeEffects(trx, row, charge);
          await this.disputeEffects(trx, row, dispute, activity);
        };
      }
      case event.type === 'account.updated': {
        const account = await this.provider.retrieveAccount(idOf(o.id)!);
        return async (trx) => {
          const known = await this.svc.repo.accountByProvider(trx, account.id);
          if (!known) return;
          await this.svc.repo.updateAccount(trx, account.id, {
            charges_enabled: account.chargesEnabled,
            payouts_enabled: account.payoutsEnabled,
            details_submitted: account.detailsSubmitted,
            requirements_due: account.requirementsDue,
            default_currency: account.defaultCurrency,
          });
          await this.svc.repo.audit(trx, { communityId: known.community_id, actorId: null, action: 'payouts.account.update', targetType: 'account', targetId: account.id, detail: { chargesEnabled: account.chargesEnabled, payoutsEnabled: account.payoutsEnabled } });
        };
      }
      case event.type === 'payout.paid': {
        const accountId = event.account;
        const payoutId = idOf(o.id);
        if (!accountId || !payoutId) return nothing;
        const payouts = await this.provider.listPayouts(accountId, 100);
        const payout = payouts.find((p) => p.id === payoutId);
        if (!payout || payout.status !== 'paid') return nothing;
        return async (trx) => {
          const account = await this.svc.repo.accountByProvider(trx, accountId);
          if (!account) return;
          if (
            await this.svc.repo.appendLedger(trx, { community_id: account.community_id, kind: 'payout', amount: -payout.amount, currency: payout.currency, user_id: null, subscription_id: null, provider_object_id: payout.id, description: 'Payout to bank', occurred_at: new Date(payout.created * 1000) })
          ) {
            await this.svc.repo.audit(trx, { communityId: account.community_id, actorId: null, action: 'ledger.payout', targetType: 'payout', targetId: payout.id, detail: { amount: payout.amount, currency: payout.currency } });
          }
        };
      }
      default:
        return nothing;
    }
  }

  /** Ours by its metadata: find or create our row, then apply the provider's current state. */
  private async syncSubscription(trx: PaymentsDb, sub: ProviderSubscription): Promise<SubscriptionRow | null> {
    let row = await this.svc.repo.lockSubscriptionByProvider(trx, sub.id);
    if (!row) {
      const m = sub.metadata;
      const price = await this.svc.repo.priceByProviderId(sub.priceId, trx);
      const tierId = price?.tier_id ?? m.circles_tier;
      if (!m.circles_user || !m.circles_community || !tierId) return null; // not one of ours
      if (!(await this.svc.repo.tier(tierId, trx))) return null;
      row = await this.svc.repo.insertSubscription(trx, {
        kind: 'subscription',
        provider: this.provider.kind,
        provider_subscription_id: sub.id,
        provider_customer_id: sub.customerId,
        checkout_id: m.circles_checkout ?? null,
        user_id: m.circles_user,
        community_id: m.circles_community,
        tier_id: tierId,
        price_id: price?.id ?? null,
        status: sub.status,
      });
    }
    const before = row.status;
    const updated = await this.svc.applySubscription(trx, row, sub, this.clock);
    if (before !== updated.status || row.cancel_at_period_end !== updated.cancel_at_period_end) {
      await this.svc.deps.outbox.write(trx, paymentsTopics.subscriptionChanged, { subscriptionId: row.id, communityId: row.community_id, userId: row.user_id, tierId: updated.tier_id, status: updated.status, cancelAtPeriodEnd: updated.cancel_at_period_end });
      await this.svc.repo.audit(trx, { communityId: row.community_id, actorId: null, action: 'subscription.status', targetType: 'subscription', targetId: row.id, detail: { from: before, to: updated.status, cancelAtPeriodEnd: updated.cancel_at_period_end } });
    }
    return updated;
  }

  /** A one-time purchase, paid through a checkout in payment mode. */
  private async purchase(trx: PaymentsDb, session: ProviderCheckoutSession): Promise<SubscriptionRow | null> {
    const existing = await this.svc.repo.lockSubscriptionByPaymentIntent(trx, session.paymentIntentId!);
    if (existing) return existing;
    const checkout = await this.svc.repo.checkout(session.metadata.circles_checkout!, trx);
    if (!checkout) return null;
    const row = await this.svc.repo.insertSubscription(trx, {
      kind: 'one_time',
      provider: this.provider.kind,
      provider_payment_intent_id: session.paymentIntentId!,
      provider_customer_id: session.customerId,
      checkout_id: checkout.id,
      user_id: checkout.user_id,
      community_id: checkout.community_id,
      tier_id: checkout.tier_id,
      price_id: checkout.price_id,
      status: 'paid',
    });
    await this.svc.repo.completeCheckout(trx, checkout.id, session.termsAccepted, session.customerTaxIds);
    await this.svc.deps.outbox.write(trx, paymentsTopics.subscriptionChanged, { subscriptionId: row.id, communityId: row.community_id, userId: row.user_id, tierId: row.tier_id, status: 'paid', cancelAtPeriodEnd: false });
    return this.svc.recomputeEntitlement(trx, row, this.clock);
  }

  /**
   * Which of our subscriptions or purchases a charge paid for: through its invoice's subscription, or the checkout
   * that created its payment. Returns a lookup to run inside the transaction (creating the row if its own event
   * has not arrived yet), or null when the charge is not ours.
   */
  private async ownerOfCharge(charge: ProviderCharge, waitIfUnknown: boolean): Promise<((trx: PaymentsDb) => Promise<SubscriptionRow | null>) | null> {
    if (charge.invoiceId) {
      const invoice = await this.provider.retrieveInvoice(charge.invoiceId);
      if (invoice.subscriptionId) {
        const sub = await this.provider.retrieveSubscription(invoice.subscriptionId);
        return (trx) => this.syncSubscription(trx, sub);
      }
    }
    const session = charge.paymentIntentId ? await this.provider.findCheckoutSessionByPaymentIntent(charge.paymentIntentId) : null;
    const sub = session?.metadata.circles_checkout && session.subscriptionId ? await this.provider.retrieveSubscription(session.subscriptionId) : null;
    const repo = this.svc.repo;
    return async (trx) => {
      // Recorded already (through its invoice's event): the ledger knows whose it is.
      const known = await repo.ledgerCharge(trx, charge.id);
      if (known?.subscription_id) return (await repo.lockSubscription(trx, known.subscription_id)) ?? null;
      if (sub) return this.syncSubscription(trx, sub);
      if (session?.metadata.circles_checkout) {
        return (await repo.lockSubscriptionByPaymentIntent(trx, charge.paymentIntentId!)) ?? (session.paymentStatus === 'paid' ? this.purchase(trx, session) : null);
      }
      // A renewal's charge (newer API versions no longer name its invoice) is recorded by its invoice's event, which
      // re-reads the charge (refunds included). A dispute on one of our customers' charges waits for that record.
      if (waitIfUnknown && charge.customerId && (await repo.isOurCustomer(trx, charge.customerId))) throw new Error(`charge ${charge.id} waits for its invoice to be recorded`);
      return null;
    };
  }

  /** The charge, the platform's fee and any refund, each in the ledger once; a full refund ends the access it paid for. */
  private async chargeEffects(trx: PaymentsDb, row: SubscriptionRow, charge: ProviderCharge): Promise<void> {
    if (charge.status !== 'succeeded') return;
    const repo = this.svc.repo;
    const at = new Date(charge.created * 1000);
    const base = { community_id: row.community_id, currency: charge.currency, user_id: row.user_id, subscription_id: row.id, occurred_at: at };
    const append = async (kind: 'charge' | 'fee' | 'refund', amount: number, key: string, description: string) => {
      if (await repo.appendLedger(trx, { ...base, kind, amount, provider_object_id: key, description })) {
        await repo.audit(trx, { communityId: row.community_id, actorId: null, action: `ledger.${kind}`, targetType: 'charge', targetId: charge.id, detail: { amount, currency: charge.currency, subscriptionId: row.id } });
      }
    };
    await append('charge', charge.amount, charge.id, row.kind === 'one_time' ? 'One-time purchase' : 'Subscription payment');
    if (charge.applicationFeeAmount) await append('fee', -charge.applicationFeeAmount, charge.id, 'Platform fee');
    const refundedBefore = await repo.refundedSoFar(trx, charge.id);
    if (charge.amountRefunded > refundedBefore) await append('refund', -(charge.amountRefunded - refundedBefore), `${charge.id}:${charge.amountRefunded}`, charge.refunded ? 'Refund' : 'Partial refund');
    if (charge.refunded && !row.refunded_at) {
      const updated = await repo.updateSubscription(trx, row.id, { refunded_at: new Date() });
      await this.svc.recomputeEntitlement(trx, updated, this.clock);
    }
  }

  /** A live dispute suspends the access; won restores it, lost keeps it ended. The owner is told and gets an evidence packet. */
  /** A lost dispute ends the subscription it paid for, so the member is not charged again for access they lost. */
  private async endAfterLostDispute(chargeId: string): Promise<void> {
    const repo = this.svc.repo;
    const charge = await repo.ledgerCharge(repo.db, chargeId);
    const sub = charge?.subscription_id ? await repo.subscription(charge.subscription_id) : undefined;
    if (!sub?.provider_subscription_id || !['trialing', 'active', 'past_due', 'unpaid'].includes(sub.status)) return;
    const current = await this.provider.retrieveSubscription(sub.provider_subscription_id);
    if (current.status === 'canceled' || current.status === 'incomplete_expired') return;
    await this.provider.cancelSubscriptionNow(sub.provider_subscription_id);
  }

  /**
   * For a dispute seen the first time: the member's sign-in history (auth keeps it after sessions end), the
   * sessions still open (last activity), the circle posts they opened in the community and their reading and
   * writing in the paid circles' chat channels, read from auth, the session store, posts and chat before the
   * transaction.
   */
  private async memberActivity(providerDisputeId: string, chargeId: string): Promise<MemberActivity | null> {
    const repo = this.svc.repo;
    if (await repo.disputeByProvider(repo.db, providerDisputeId)) return null;
    const charge = await repo.ledgerCharge(repo.db, chargeId);
    const sub = charge?.subscription_id ? await repo.subscription(charge.subscription_id) : undefined;
    if (!sub) return null;
    const tier = await repo.tier(sub.tier_id);
    const [signIns, sessions, opened, chat] = await Promise.all([
      this.svc.deps.apis.auth.signInsOf({ userId: sub.user_id, limit: 100 }).catch((err) => {
        this.log.warn('sign-in history unavailable for dispute evidence', { err });
        return [];
      }),
      this.svc.deps.sessions.list(sub.user_id).catch(() => []),
      this.svc.deps.apis.posts.openedBy({ userId: sub.user_id, communityId: sub.community_id, limit: 200 }).catch((err) => {
        this.log.warn('opened posts unavailable for dispute evidence', { err });
        return [];
      }),
      this.svc.deps.apis.chat.activityIn({ userId: sub.user_id, spaceIds: tier?.circle_ids ?? [] }).catch((err) => {
        this.log.warn('chat activity unavailable for dispute evidence', { err });
        return [];
      }),
    ]);
    return {
      signIns,
      sessions: sessions.map((x) => ({ createdAt: x.createdAt, lastSeenAt: x.lastSeenAt, ip: x.ip, userAgent: x.userAgent })),
      opened,
      chat,
    };
  }

  private async disputeEffects(trx: PaymentsDb, row: SubscriptionRow, dispute: ProviderDispute, activity: MemberActivity | null = null): Promise<void> {
    const repo = this.svc.repo;
    const existing = await repo.disputeByProvider(trx, dispute.id);
    const saved = await repo.upsertDispute(trx, {
      provider_dispute_id: dispute.id,
      community_id: row.community_id,
      subscription_id: row.id,
      user_id: row.user_id,
      provider_charge_id: dispute.chargeId,
      amount: dispute.amount,
      currency: dispute.currency,
      reason: dispute.reason,
      status: dispute.status,
      evidence_due_by: dispute.evidenceDueBy ? new Date(dispute.evidenceDueBy * 1000) : null,
      ...(existing ? {} : { evidence: await this.evidencePacket(trx, row, activity) }),
    });
    const base = { community_id: row.community_id, currency: dispute.currency, user_id: row.user_id, subscription_id: row.id, occurred_at: new Date(dispute.created * 1000) };
    const isWarning = dispute.status.startsWith('warning_');
    if (!isWarning && (await repo.appendLedger(trx, { ...base, kind: 'dispute', amount: -dispute.amount, provider_object_id: dispute.id, description: `Dispute (${dispute.reason})` }))) {
      await repo.audit(trx, { communityId: row.community_id, actorId: null, action: 'ledger.dispute', targetType: 'dispute', targetId: saved.id, detail: { amount: dispute.amount, currency: dispute.currency } });
    }
    if (dispute.status === 'won' && (await repo.appendLedger(trx, { ...base, kind: 'dispute_reversal', amount: dispute.amount, provider_object_id: dispute.id, description: 'Dispute won' }))) {
      await repo.audit(trx, { communityId: row.community_id, actorId: null, action: 'ledger.dispute_reversal', targetType: 'dispute', targetId: saved.id, detail: { amount: dispute.amount, currency: dispute.currency } });
    }
    const live = LIVE_DISPUTE_STATUSES.has(dispute.status);
    let current = row;
    if (live && !row.suspended_at) current = await repo.updateSubscription(trx, row.id, { suspended_at: new Date(), suspended_reason: 'dispute' });
    if (dispute.status === 'won' && row.suspended_reason === 'dispute') current = await repo.updateSubscription(trx, row.id, { suspended_at: null, suspended_reason: null });
    if (dispute.status === 'lost') current = await repo.updateSubscription(trx, row.id, { suspended_at: row.suspended_at ?? new Date(), suspended_reason: 'dispute lost' });
    await this.svc.recomputeEntitlement(trx, current, this.clock);
    if (!existing) {
      await this.svc.deps.outbox.write(trx, paymentsTopics.disputeOpened, { disputeId: saved.id, communityId: row.community_id, userId: row.user_id, amount: dispute.amount, currency: dispute.currency, reason: dispute.reason, evidenceDueBy: saved.evidence_due_by?.toISOString() ?? null });
      await repo.audit(trx, { communityId: row.community_id, actorId: null, action: 'dispute.open', targetType: 'dispute', targetId: saved.id, detail: { reason: dispute.reason, amount: dispute.amount } });
    }
    if ((dispute.status === 'won' || dispute.status === 'lost') && existing?.status !== dispute.status) {
      await this.svc.deps.outbox.write(trx, paymentsTopics.disputeClosed, { disputeId: saved.id, communityId: row.community_id, userId: row.user_id, outcome: dispute.status });
      await repo.audit(trx, { communityId: row.community_id, actorId: null, action: `dispute.${dispute.status}`, targetType: 'dispute', targetId: saved.id });
    }
  }

  /**
   * The evidence packet: the terms accepted at checkout, the subscription's access history and charges, the
   * member's sign-ins and the circle posts they opened. The owner reviews and edits it before submitting.
   */
  private async evidencePacket(trx: PaymentsDb, row: SubscriptionRow, activity: MemberActivity | null): Promise<Record<string, string>> {
    const checkout = row.checkout_id ? await this.svc.repo.checkout(row.checkout_id, trx) : undefined;
    const tier = await this.svc.repo.tier(row.tier_id, trx);
    const charges = await trx.selectFrom('payments.ledger').selectAll().where('subscription_id', '=', row.id).orderBy('seq').execute();
    const history = await trx.selectFrom('payments.audit').select(['action', 'occurred_at', 'detail']).where('target_id', '=', row.id).orderBy('seq').limit(200).execute();
    const fmt = (d: Date | string | number | null | undefined) => (d === null || d === undefined ? 'unknown' : new Date(d).toISOString());
    const signIns = activity?.signIns ?? [];
    const sessions = activity?.sessions ?? [];
    const opened = activity?.opened ?? [];
    const chat = activity?.chat ?? [];
    const how = { sign_up: 'created the account', password: 'logged in with password', password_change: 'changed password (new session)' } as const;
    return {
      productDescription: `Membership tier "${tier?.name ?? row.tier_id}": access to ${tier?.circle_ids.length ?? 0} private circle(s) of an online community. ${tier?.description ?? ''}`.trim(),
      serviceDate: fmt(row.created_at).slice(0, 10),
      accessActivityLog: [
        `Checkout completed ${fmt(checkout?.completed_at)}; terms of service version ${checkout?.terms_version ?? 'n/a'} ${checkout?.terms_accepted ? 'accepted' : 'not recorded as accepted'} at checkout.`,
        ...history.map((h) => `${fmt(h.occurred_at as Date)} ${h.action} ${JSON.stringify(h.detail)}`),
        signIns.length ? `Sign-ins (${signIns.length}, newest first):` : 'No sign-ins on record.',
        ...signIns.map((x) => `  ${fmt(x.at)} ${how[x.method]} from ${x.ip ?? 'unknown address'} (${x.userAgent ?? 'unknown device'})`),
        sessions.length ? `Sessions still open (${sessions.length}):` : 'No sessions still open.',
        ...sessions.map((x) => `  signed in ${fmt(x.createdAt)}, last active ${fmt(x.lastSeenAt)}, from ${x.ip ?? 'unknown address'} (${x.userAgent ?? 'unknown device'})`),
        opened.length ? `Paid content opened (${opened.length} post(s)):` : 'No paid posts opened on record.',
        ...opened.map((o) => `  "${o.title}" first opened ${o.firstOpenedAt}, last ${o.lastOpenedAt}, ${o.opens} time(s)`),
        chat.length ? `Paid circle chat (${chat.length} channel(s)):` : 'No paid circle chat on record.',
        ...chat.map((c) => `  #${c.name}: last read ${c.lastReadAt ?? 'never'}; ${c.messagesSent} message(s) sent${c.lastSentAt ? `, last ${c.lastSentAt}` : ''}`),
      ].join('\n'),
      uncategorizedText: charges.map((c) => `${fmt(c.occurred_at as Date)} ${c.kind} ${c.amount} ${c.currency} (${c.provider_object_id})`).join('\n'),
    };
  }
}

interface MemberActivity {
  signIns: SignIn[];
  sessions: { createdAt: number; lastSeenAt: number; ip: string | null; userAgent: string | null }[];
  opened: OpenedPost[];
  chat: ChatActivity[];
}

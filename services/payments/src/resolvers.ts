import type { RequestContext, Resolvers } from '@circles/platform';
import type { DisputeRow, LedgerRow, PriceRow, PromoRow, SubscriptionRow, TierRow } from './repo.ts';
import type { PaymentsService } from './service.ts';

const up = (v: string) => v.toUpperCase();
const intervalName = (p: { interval: string | null }) => (p.interval ?? 'once').toUpperCase();

const toPrice = (p: PriceRow) => ({ id: p.id, interval: intervalName(p), amount: p.amount, currency: p.currency, active: p.active, createdAt: p.created_at });
const toPromo = (p: PromoRow) => ({
  id: p.id,
  code: p.code,
  percentOff: p.percent_off,
  amountOff: p.amount_off,
  currency: p.currency,
  duration: up(p.duration),
  durationInMonths: p.duration_in_months,
  maxRedemptions: p.max_redemptions,
  expiresAt: p.expires_at,
  tierIds: p.tier_ids,
  active: p.active,
});
const toLedger = (r: LedgerRow) => ({
  id: r.id,
  sequence: Number(r.seq),
  kind: up(r.kind),
  amount: Number(r.amount),
  currency: r.currency,
  user: r.user_id ? { id: r.user_id } : null,
  subscriptionId: r.subscription_id,
  providerObjectId: r.provider_object_id,
  description: r.description,
  occurredAt: r.occurred_at,
});
const subscriptionStatus = (s: SubscriptionRow) => {
  if (s.refunded_at) return 'REFUNDED';
  if (s.status === 'incomplete_expired') return 'CANCELED';
  if (s.status === 'paused') return 'PAST_DUE';
  return up(s.status);
};

export function createPaymentsResolvers(svc: PaymentsService): Resolvers {
  // A page shows several tiers; their prices come in one query per request.
  const priceCache = new WeakMap<RequestContext, Map<string, Promise<PriceRow[]>>>();
  const pricesOf = (tier: TierRow, ctx: RequestContext) => {
    let m = priceCache.get(ctx);
    if (!m) priceCache.set(ctx, (m = new Map()));
    let p = m.get(tier.id);
    if (!p) m.set(tier.id, (p = svc.pricesOf([tier.id])));
    return p;
  };
  const toSubscription = (s: SubscriptionRow) => ({ __row: s });
  // Which circles the viewer may see (a hidden circle's existence stays secret), asked once per circle per request.
  const seen = new WeakMap<RequestContext, Map<string, Promise<boolean>>>();
  const canSee = (tier: TierRow, circleId: string, ctx: RequestContext) => {
    let m = seen.get(ctx);
    if (!m) seen.set(ctx, (m = new Map()));
    let v = m.get(circleId);
    if (!v) {
      v = svc.deps.apis.community.spaceAccess({ userId: ctx.identity.userId ?? null, communityId: tier.community_id, spaceId: circleId }).then((a) => a !== null);
      m.set(circleId, v);
    }
    return v;
  };
  const visibleCircles = async (tier: TierRow, ctx: RequestContext) => {
    const visible = await Promise.all(tier.circle_ids.map((id) => canSee(tier, id, ctx)));
    return tier.circle_ids.filter((_, i) => visible[i]);
  };
  const visibleTiers = async (tiers: TierRow[], ctx: RequestContext) => {
    const keep = await Promise.all(tiers.map(async (t) => (await visibleCircles(t, ctx)).length > 0));
    return tiers.filter((_, i) => keep[i]);
  };

  return {
    Community: {
      __resolveReference: (ref: { id: string }) => ({ id: ref.id }),
      tiers: async ({ id }: { id: string }, _: unknown, ctx: RequestContext) => visibleTiers(await svc.visibleTiers(id), ctx),
    },
    Space: {
      __resolveReference: (ref: { id: string }) => ({ id: ref.id }),
      tiers: ({ id }: { id: string }) => svc.repo.tiersForCircle(id),
    },
    Tier: {
      communityId: (t: TierRow) => t.community_id,
      circles: async (t: TierRow, _: unknown, ctx: RequestContext) => (await visibleCircles(t, ctx)).map((id) => ({ id })),
      trialDays: (t: TierRow) => t.trial_days,
      prices: async (t: TierRow, _: unknown, ctx: RequestContext) => (await pricesOf(t, ctx)).map(toPrice),
      archived: (t: TierRow) => t.archived_at !== null,
      viewerSubscription: async (t: TierRow, _: unknown, ctx: RequestContext) => {
        const s = await svc.viewerSubscription(t.id, ctx.identity);
        return s ? toSubscription(s) : null;
      },
    },
    TierSubscription: {
      id: ({ __row: s }: { __row: SubscriptionRow }) => s.id,
      tier: async ({ __row: s }: { __row: SubscriptionRow }) => svc.repo.tier(s.tier_id),
      communityId: ({ __row: s }: { __row: SubscriptionRow }) => s.community_id,
      community: ({ __row: s }: { __row: SubscriptionRow }) => ({ id: s.community_id }),
      user: ({ __row: s }: { __row: SubscriptionRow }) => ({ id: s.user_id }),
      price: async ({ __row: s }: { __row: SubscriptionRow }) => {
        const p = s.price_id ? await svc.repo.price(s.price_id) : undefined;
        return p ? toPrice(p) : null;
      },
      interval: async ({ __row: s }: { __row: SubscriptionRow }) => {
        if (s.kind === 'one_time') return 'ONCE';
        const p = s.price_id ? await svc.repo.price(s.price_id) : undefined;
        return p ? intervalName(p) : 'MONTH';
      },
      status: ({ __row: s }: { __row: SubscriptionRow }) => subscriptionStatus(s),
      entitled: ({ __row: s }: { __row: SubscriptionRow }) => s.entitled,
      currentPeriodEnd: ({ __row: s }: { __row: SubscriptionRow }) => s.current_period_end,
      cancelAtPeriodEnd: ({ __row: s }: { __row: SubscriptionRow }) => s.cancel_at_period_end,
      trialEnd: ({ __row: s }: { __row: SubscriptionRow }) => s.trial_end,
      endedAt: ({ __row: s }: { __row: SubscriptionRow }) => s.ended_at,
      suspendedReason: ({ __row: s }: { __row: SubscriptionRow }) => s.suspended_reason,
      createdAt: ({ __row: s }: { __row: SubscriptionRow }) => s.created_at,
    },
    Dispute: {
      subscription: async (d: DisputeRow) => {
        const s = d.subscription_id ? await svc.repo.subscription(d.subscription_id) : undefined;
        return s ? toSubscription(s) : null;
      },
      user: (d: DisputeRow) => (d.user_id ? { id: d.user_id } : null),
      status: (d: DisputeRow) => up(d.status),
      evidenceDueBy: (d: DisputeRow) => d.evidence_due_by,
      evidence: (d: DisputeRow) => JSON.stringify(d.evidence ?? {}),
      submittedAt: (d: DisputeRow) => d.submitted_at,
      createdAt: (d: DisputeRow) => d.created_at,
    },
    Query: {
      paymentsInfo: () => svc.info(),
      tier: (_: unknown, { id }: { id: string }, ctx: RequestContext) => svc.tierFor(id, ctx.identity),
      communityTiers: (_: unknown, { communityId }: { communityId: string }, ctx: RequestContext) => svc.communityTiers(communityId, ctx.identity),
      mySubscriptions: async (_: unknown, __: unknown, ctx: RequestContext) => (await svc.mySubscriptions(ctx.identity)).map(toSubscription),
      revenue: (_: unknown, { communityId }: { communityId: string }, ctx: RequestContext) => svc.revenue(communityId, ctx.identity),
      ledger: async (_: unknown, a: { communityId: string; first?: number; before?: number | null }, ctx: RequestContext) =>
        (await svc.ledger(a.communityId, a.first ?? 50, a.before ?? null, ctx.identity)).map(toLedger),
      ledgerExportUrl: (_: unknown, { communityId }: { communityId: string }, ctx: RequestContext) => svc.ledgerExportUrl(communityId, ctx.identity),
      payoutAccount: (_: unknown, { communityId }: { communityId: string }, ctx: RequestContext) => svc.payoutAccount(communityId, ctx.identity),
      disputes: (_: unknown, { communityId }: { communityId: string }, ctx: RequestContext) => svc.disputes(communityId, ctx.identity),
      communitySubscriptions: async (_: unknown, a: { communityId: string; first?: number }, ctx: RequestContext) =>
        (await svc.communitySubscriptions(a.communityId, a.first ?? 50, ctx.identity)).map(toSubscription),
      promoCodes: async (_: unknown, { communityId }: { communityId: string }, ctx: RequestContext) => (await svc.promoCodes(communityId, ctx.identity)).map(toPromo),
      testCheckout: async (_: unknown, { id }: { id: string }, ctx: RequestContext) => {
        const c = await svc.testCheckout(id, ctx.identity);
        if (!c) return null;
        return {
          id,
          status: c.status,
          mode: c.mode,
          productName: c.productName,
          productDescription: c.productDescription,
          amount: c.unitAmount,
          currency: c.currency,
          interval: (c.interval ?? 'once').toUpperCase(),
          trialDays: c.trialDays ?? 0,
          allowPromotionCodes: c.allowPromotionCodes,
          promotionCode: c.promotionCode,
          amountDue: c.amountTotal,
          requireTerms: c.requireTerms,
          cancelUrl: c.cancelUrl,
        };
      },
      testPortal: async (_: unknown, { id }: { id: string }, ctx: RequestContext) => svc.testPortalView(id, ctx.identity),
    },
    Mutation: {
      createTier: (_: unknown, a: { communityId: string; input: Record<string, unknown> }, ctx: RequestContext) => svc.createTier(a.communityId, a.input, ctx.identity),
      updateTier: (_: unknown, a: { id: string; input: Record<string, unknown> }, ctx: RequestContext) => svc.updateTier(a.id, a.input, ctx.identity),
      archiveTier: (_: unknown, a: { id: string }, ctx: RequestContext) => svc.archiveTier(a.id, ctx.identity),
      startCheckout: (_: unknown, a: { tierId: string; interval: string; promoCode?: string | null }, ctx: RequestContext) => svc.startCheckout(a.tierId, a.interval, a.promoCode ?? null, ctx.identity),
      openBillingPortal: (_: unknown, a: { returnPath?: string }, ctx: RequestContext) => svc.openBillingPortal(a.returnPath ?? '/account/subscriptions', ctx.identity),
      cancelSubscription: async (_: unknown, a: { id: string }, ctx: RequestContext) => toSubscription(await svc.setCancel(a.id, true, ctx.identity)),
      resumeSubscription: async (_: unknown, a: { id: string }, ctx: RequestContext) => toSubscription(await svc.setCancel(a.id, false, ctx.identity)),
      changeSubscription: async (_: unknown, a: { id: string; tierId: string; interval: string }, ctx: RequestContext) => toSubscription(await svc.changeSubscription(a.id, a.tierId, a.interval, ctx.identity)),
      startPayoutOnboarding: (_: unknown, a: { communityId: string }, ctx: RequestContext) => svc.startPayoutOnboarding(a.communityId, ctx.identity),
      refundSubscription: async (_: unknown, a: { id: string }, ctx: RequestContext) => toSubscription(await svc.refundSubscription(a.id, ctx.identity)),
      createPromoCode: async (_: unknown, a: { communityId: string; input: Record<string, unknown> }, ctx: RequestContext) => toPromo(await svc.createPromoCode(a.communityId, a.input, ctx.identity)),
      deactivatePromoCode: async (_: unknown, a: { id: string }, ctx: RequestContext) => toPromo(await svc.deactivatePromoCode(a.id, ctx.identity)),
      saveDisputeEvidence: (_: unknown, a: { id: string; evidence: Record<string, unknown>; submit?: boolean }, ctx: RequestContext) => svc.saveDisputeEvidence(a.id, a.evidence, a.submit ?? false, ctx.identity),
      completeTestCheckout: (_: unknown, { input }: { input: Parameters<PaymentsService['completeTestCheckout']>[0] }, ctx: RequestContext) => svc.completeTestCheckout(input, ctx.identity),
      testPortalCancel: (_: unknown, a: { portalId: string; subscriptionId: string; cancel: boolean }, ctx: RequestContext) => svc.testPortalCancel(a.portalId, a.subscriptionId, a.cancel, ctx.identity),
      testPortalUpdateCard: (_: unknown, a: { portalId: string; cardNumber: string }, ctx: RequestContext) => svc.testPortalUpdateCard(a.portalId, a.cardNumber, ctx.identity),
      completeTestOnboarding: (_: unknown, a: { accountId: string }, ctx: RequestContext) => svc.completeTestOnboarding(a.accountId, ctx.identity),
      advanceTestClock: (_: unknown, a: { communityId: string; seconds: number }, ctx: RequestContext) => svc.advanceTestClock(a.communityId, a.seconds, ctx.identity),
      simulateTestDispute: (_: unknown, a: { subscriptionId: string }, ctx: RequestContext) => svc.simulateTestDispute(a.subscriptionId, ctx.identity),
      simulateTestDisputeOutcome: (_: unknown, a: { disputeId: string; won: boolean }, ctx: RequestContext) => svc.simulateTestDisputeOutcome(a.disputeId, a.won, ctx.identity),
    },
  } as Resolvers;
}

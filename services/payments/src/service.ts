import { badInput, DomainError, type Identity, isUniqueViolation, newId, type ServiceDeps, unauthenticated } from '@circles/platform';
import { z } from 'zod';
import { paymentsErrors } from './errors.ts';
import { type DisputeEvidence, type Interval, type PaymentProvider, ProviderError } from './provider.ts';
import type { TestPaymentsProvider } from './providers/test-provider.ts';
import { type CheckoutRow, type PaymentsDb, PaymentsRepository, type PriceRow, type PromoRow, type SubscriptionRow, type TierRow } from './repo.ts';

export const paymentsTopics = {
  entitlementsChanged: 'payments.entitlements_changed',
  subscriptionChanged: 'payments.subscription_changed',
  disputeOpened: 'payments.dispute_opened',
  disputeClosed: 'payments.dispute_closed',
  ledgerAppended: 'payments.ledger_appended',
} as const;

export type IntervalName = 'month' | 'year' | 'once';

export interface DisputeOpened {
  disputeId: string;
  communityId: string;
  userId: string;
  amount: number;
  currency: string;
  reason: string;
  evidenceDueBy: string | null;
}
const intervalOf = (p: Pick<PriceRow, 'interval'>): IntervalName => p.interval ?? 'once';

const currency = z
  .string()
  .trim()
  .toLowerCase()
  .regex(/^[a-z]{3}$/, 'Use a three-letter currency code, e.g. usd or eur.');
// Stripe's limits: at least 50 cents-equivalent is checked by Stripe itself; at most 8 digits.
const amount = z.number().int('Amounts are whole numbers in the smallest unit (cents).').min(0).max(99_999_999);
// Text people read: no control characters (a NUL, a bell, bidi overrides that disguise text), newlines and tabs
// allowed where text is long.
const CONTROL = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f\u202a-\u202e\u2066-\u2069]/;
const LINE_CONTROL = /[\u0000-\u001f\u007f\u202a-\u202e\u2066-\u2069]/;
const line = (max: number, message: string) => z.string().trim().max(max, message).refine((v) => !LINE_CONTROL.test(v), 'Remove control characters.');
const text = (max: number, message: string) => z.string().trim().max(max, message).refine((v) => !CONTROL.test(v), 'Remove control characters.');
const tierFields = {
  name: line(80, 'At most 80 characters.').refine((v) => v.length > 0, 'Give the tier a name.'),
  description: text(2000, 'At most 2,000 characters.'),
  benefits: z.array(line(200, 'Each benefit has at most 200 characters.').refine((v) => v.length > 0, 'A benefit cannot be empty.')).max(20, 'At most 20 benefits.'),
  circleIds: z.array(z.uuid('Not a circle id.')).min(1, 'Choose at least one circle.').max(50),
  trialDays: z.number().int().min(0).max(730, 'A trial lasts at most 730 days.'),
  currency,
  monthlyAmount: amount.nullable(),
  yearlyAmount: amount.nullable(),
  onceAmount: amount.nullable(),
};
const tierInput = z.object({
  ...tierFields,
  description: tierFields.description.default(''),
  benefits: tierFields.benefits.default([]),
  trialDays: tierFields.trialDays.default(0),
  monthlyAmount: tierFields.monthlyAmount.optional().default(null),
  yearlyAmount: tierFields.yearlyAmount.optional().default(null),
  onceAmount: tierFields.onceAmount.optional().default(null),
});
const updateTierInput = z.object({
  name: tierFields.name.optional(),
  description: tierFields.description.optional(),
  benefits: tierFields.benefits.optional(),
  circleIds: tierFields.circleIds.optional(),
  trialDays: tierFields.trialDays.optional(),
  currency: currency.optional(),
  monthlyAmount: amount.nullable().optional(),
  yearlyAmount: amount.nullable().optional(),
  onceAmount: amount.nullable().optional(),
});
const promoInput = z
  .object({
    code: z
      .string()
      .trim()
      .regex(/^[A-Za-z0-9_-]{3,40}$/, 'Codes are 3 to 40 letters, digits, _ or -.'),
    percentOff: z.number().int().min(1).max(100).nullable().optional().default(null),
    amountOff: z.number().int().min(1).max(99_999_999).nullable().optional().default(null),
    currency: currency.nullable().optional().default(null),
    duration: z.enum(['once', 'repeating', 'forever']).default('once'),
    durationInMonths: z.number().int().min(1).max(36).nullable().optional().default(null),
    maxRedemptions: z.number().int().min(1).max(1_000_000).nullable().optional().default(null),
    expiresAt: z.date().nullable().optional().default(null),
    tierIds: z.array(z.uuid()).max(50).default([]),
  })
  .refine((p) => (p.percentOff === null) !== (p.amountOff === null), { message: 'Give a percentage or an amount off, not both.', path: ['percentOff'] })
  .refine((p) => p.amountOff === null || p.currency !== null, { message: 'An amount off needs its currency.', path: ['currency'] })
  .refine((p) => (p.duration === 'repeating') === (p.durationInMonths !== null), { message: 'Repeating codes need a number of months (and only they do).', path: ['durationInMonths'] })
  .refine((p) => !p.expiresAt || p.expiresAt.getTime() > Date.now(), { message: 'The expiry must be in the future.', path: ['expiresAt'] });
const evidenceText = text(20_000, 'At most 20,000 characters.').optional();
const evidenceInput = z.object({
  customerName: evidenceText,
  customerEmailAddress: evidenceText,
  productDescription: evidenceText,
  serviceDate: evidenceText,
  accessActivityLog: evidenceText,
  customerCommunication: evidenceText,
  refundPolicy: evidenceText,
  cancellationPolicy: evidenceText,
  uncategorizedText: evidenceText,
});

function parse<S extends z.ZodType>(schema: S, value: unknown): z.output<S> {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const issue = r.error.issues[0]!;
  throw badInput(issue.message, issue.path.map(String).join('.') || undefined);
}

/** Digits after the decimal point for a currency (0 for JPY, 3 for KWD...). */
export const currencyDigits = (currency: string) => new Intl.NumberFormat('en', { style: 'currency', currency: currency.toUpperCase() }).resolvedOptions().maximumFractionDigits ?? 2;

/** Dispute statuses that hold the access the charge paid for. */
export const LIVE_DISPUTE_STATUSES = new Set(['needs_response', 'under_review', 'warning_needs_response', 'warning_under_review']);

/**
 * The rules of paid circles. Provider calls never run inside a database transaction (the embedded database has a
 * single connection, and a transaction should never wait on the network); every create carries an idempotency
 * key stored before the first attempt.
 */
export class PaymentsService {
  readonly repo: PaymentsRepository;

  constructor(
    readonly deps: ServiceDeps,
    readonly provider: PaymentProvider,
    /** The built-in test provider's extra controls (checkout page, clock, simulated bank); null with Stripe. */
    readonly test: TestPaymentsProvider | null,
  ) {
    this.repo = new PaymentsRepository(deps.db);
  }

  private user(identity: Identity): string {
    if (!identity.userId) throw unauthenticated();
    return identity.userId;
  }

  info() {
    return {
      provider: this.provider.kind === 'stripe' ? 'STRIPE' : 'TEST',
      testMode: this.provider.kind === 'test',
      platformFeePercent: this.deps.config.paymentsPlatformFeePercent,
      gracePeriodDays: this.deps.config.paymentsGraceDays,
    };
  }

  /** Owner and admins (manage_community) run a community's sales. */
  async requireManager(communityId: string, identity: Identity) {
    const userId = this.user(identity);
    if (!/^[0-9a-f-]{36}$/i.test(communityId)) throw paymentsErrors.notFound('No such community.');
    if (!(await this.deps.apis.community.can({ userId, permission: 'manage_community', communityId }))) throw paymentsErrors.notAllowed();
    const community = await this.deps.apis.community.describeCommunity({ communityId });
    if (!community) throw paymentsErrors.notFound('No such community.');
    return { userId, community };
  }

  async requireOwner(communityId: string, identity: Identity) {
    const ctx = await this.requireManager(communityId, identity);
    if (ctx.community.ownerId !== ctx.userId) throw paymentsErrors.ownerOnly();
    return ctx;
  }

  /** Runs a provider call once per key: the key is stored first, a repeat after success returns the stored result. */
  async once<T>(key: string, operation: string, call: (idempotencyKey: string) => Promise<T>): Promise<T> {
    const done = await this.repo.beginCall(key, operation);
    if (done) return done.result as T;
    let result: T;
    try {
      result = await call(key);
    } catch (err) {
      throw this.providerFailure(err);
    }
    await this.repo.finishCall(key, result);
    return result;
  }

  /** A refusal the provider explains becomes a clear error; anything else means it could not be reached. */
  providerFailure(err: unknown): Error {
    if (err instanceof DomainError) return err;
    if (err instanceof ProviderError && err.status < 500) return paymentsErrors.provider(err.message);
    this.deps.log.error('payment provider call failed', { err: err instanceof Error ? err : new Error(String(err)) });
    return paymentsErrors.providerUnavailable();
  }

  private async call<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      throw this.providerFailure(err);
    }
  }

  // ---- tiers ----------------------------------------------------------------------------------------------

  /** Tiers a visitor may see: those of a community they can see at all (its circles' visibility aside). */
  async visibleTiers(communityId: string): Promise<TierRow[]> {
    return this.repo.tiersOf(communityId, false);
  }

  async communityTiers(communityId: string, identity: Identity) {
    await this.requireManager(communityId, identity);
    return this.repo.tiersOf(communityId, true);
  }

  async tierFor(id: string, identity: Identity): Promise<TierRow | null> {
    if (!/^[0-9a-f-]{36}$/i.test(id)) return null;
    const tier = await this.repo.tier(id);
    if (!tier) return null;
    // Only for those who may see its circle (a private community's or a hidden circle's tiers stay unknown).
    if (!(await this.deps.apis.community.spaceAccess({ userId: identity.userId ?? null, communityId: tier.community_id, spaceId: tier.circle_ids[0]! }))) return null;
    if (tier.archived_at) {
      if (!identity.userId || !(await this.deps.apis.community.can({ userId: identity.userId, permission: 'manage_community', communityId: tier.community_id }))) return null;
    }
    return tier;
  }

  private checkCircles(circleIds: string[], community: { circles: { id: string; name: string; access: string }[] }) {
    for (const id of circleIds) {
      const circle = community.circles.find((c) => c.id === id);
      if (!circle) throw paymentsErrors.unknownCircle();
      if (circle.access !== 'paid') throw paymentsErrors.notPaidCircle(circle.name);
    }
  }

  async createTier(communityId: string, raw: unknown, identity: Identity): Promise<TierRow> {
    const { userId, community } = await this.requireManager(communityId, identity);
    if (community.archived) throw paymentsErrors.communityArchived();
    const input = parse(tierInput, raw);
    this.checkCircles(input.circleIds, community);
    const amounts = { month: input.monthlyAmount || null, year: input.yearlyAmount || null, once: input.onceAmount || null };
    if (!amounts.month && !amounts.year && !amounts.once) throw paymentsErrors.noPrice();
    const tier = await this.repo.transaction(async (trx) => {
      const tier = await this.repo.insertTier(trx, {
        id: newId(),
        community_id: communityId,
        name: input.name,
        description: input.description,
        benefits: input.benefits,
        circle_ids: [...new Set(input.circleIds)],
        trial_days: input.trialDays,
        provider: this.provider.kind,
        created_by: userId,
      });
      for (const [interval, value] of Object.entries(amounts) as [IntervalName, number | null][]) {
        if (value) await this.repo.insertPrice(trx, { id: newId(), tier_id: tier.id, community_id: communityId, interval: interval === 'once' ? null : interval, amount: value, currency: input.currency });
      }
      await this.repo.audit(trx, { communityId, actorId: userId, action: 'tier.create', targetType: 'tier', targetId: tier.id, detail: { name: tier.name, circleIds: tier.circle_ids, ...amounts, currency: input.currency, trialDays: input.trialDays } });
      return tier;
    });
    await this.publishTier(tier.id);
    return (await this.repo.tier(tier.id))!;
  }

  /**
   * Creates the tier's product and prices at the provider (each once, by key). Run after every change and again
   * before a checkout, so a provider outage while editing only delays publishing.
   */
  async publishTier(tierId: string): Promise<void> {
    try {
      await this.ensureTierAtProvider(tierId);
    } catch (err) {
      this.deps.log.warn('tier not yet published to the payment provider; retried at checkout', { tierId, err: err instanceof Error ? err : new Error(String(err)) });
    }
  }

  private async ensureTierAtProvider(tierId: string): Promise<void> {
    const tier = (await this.repo.tier(tierId))!;
    let productId = tier.provider_product_id;
    if (!productId) {
      productId = (await this.once(`tier:${tier.id}:product`, 'createProduct', (idempotencyKey) =>
        this.provider.createProduct({ idempotencyKey, name: tier.name, description: tier.description, metadata: { circles_tier: tier.id, circles_community: tier.community_id } }),
      )).id;
      await this.repo.setProviderIds('tiers', tier.id, { provider_product_id: productId });
    }
    for (const price of await this.repo.activePrices([tier.id])) {
      if (price.provider_price_id) continue;
      const created = await this.once(`price:${price.id}`, 'createPrice', (idempotencyKey) =>
        this.provider.createPrice({ idempotencyKey, productId: productId!, unitAmount: price.amount, currency: price.currency, interval: price.interval as Interval | null, metadata: { circles_price: price.id, circles_tier: tier.id } }),
      );
      await this.repo.setProviderIds('prices', price.id, { provider_price_id: created.id });
    }
  }

  async updateTier(tierId: string, raw: unknown, identity: Identity): Promise<TierRow> {
    const tier = await this.repo.tier(tierId);
    if (!tier) throw paymentsErrors.notFound();
    const { userId, community } = await this.requireManager(tier.community_id, identity);
    const input = parse(updateTierInput, raw);
    if (input.circleIds) this.checkCircles(input.circleIds, community);
    const current = await this.repo.activePrices([tier.id]);
    const retired: PriceRow[] = [];
    const now = await this.provider.clockNow();
    const updated = await this.repo.transaction(async (trx) => {
      const patch: Parameters<PaymentsRepository['updateTier']>[2] = {};
      if (input.name !== undefined) patch.name = input.name;
      if (input.description !== undefined) patch.description = input.description;
      if (input.benefits !== undefined) patch.benefits = input.benefits;
      if (input.circleIds !== undefined) patch.circle_ids = [...new Set(input.circleIds)];
      if (input.trialDays !== undefined) patch.trial_days = input.trialDays;
      const updated = await this.repo.updateTier(trx, tier.id, patch);
      const currencyNow = input.currency ?? current[0]?.currency;
      const wanted: [IntervalName, number | null | undefined][] = [
        ['month', input.monthlyAmount],
        ['year', input.yearlyAmount],
        ['once', input.onceAmount],
      ];
      for (const [interval, value] of wanted) {
        const existing = current.find((p) => intervalOf(p) === interval);
        const currencyChanged = input.currency !== undefined && existing && existing.currency !== input.currency;
        if (value === undefined && !currencyChanged) continue;
        const next = value === undefined ? existing?.amount ?? null : value || null;
        if (existing && existing.amount === next && !currencyChanged) continue;
        // Prices never change in place: the old one stops selling, its subscribers stay on it.
        if (existing) {
          await this.repo.retirePrice(trx, existing.id);
          retired.push(existing);
        }
        if (next) {
          if (!currencyNow) throw badInput('Give the currency for the new price.', 'currency');
          await this.repo.insertPrice(trx, { id: newId(), tier_id: tier.id, community_id: tier.community_id, interval: interval === 'once' ? null : interval, amount: next, currency: currencyNow });
        }
      }
      if (!(await trx.selectFrom('payments.prices').select('id').where('tier_id', '=', tier.id).where('active', '=', true).executeTakeFirst())) throw paymentsErrors.noPrice();
      await this.repo.audit(trx, { communityId: tier.community_id, actorId: userId, action: 'tier.update', targetType: 'tier', targetId: tier.id, detail: { ...input } });
      // A tier's circles changed: everyone on it now gets exactly the new set.
      if (patch.circle_ids) for (const sub of await this.repo.subscriptionsOfTier(trx, tier.id)) await this.recomputeEntitlement(trx, sub, now);
      return updated;
    });
    if (input.name !== undefined || input.description !== undefined) {
      if (updated.provider_product_id) await this.call(() => this.provider.updateProduct(updated.provider_product_id!, { name: updated.name, description: updated.description })).catch((err) => this.deps.log.warn('product update failed', { err }));
    }
    for (const p of retired) if (p.provider_price_id) await this.call(() => this.provider.archivePrice(p.provider_price_id!)).catch((err) => this.deps.log.warn('price archive failed', { err }));
    await this.publishTier(tier.id);
    this.deps.outbox.nudge();
    return (await this.repo.tier(tier.id))!;
  }

  async archiveTier(tierId: string, identity: Identity): Promise<TierRow> {
    const tier = await this.repo.tier(tierId);
    if (!tier) throw paymentsErrors.notFound();
    const { userId } = await this.requireManager(tier.community_id, identity);
    if (tier.archived_at) return tier;
    const prices = await this.repo.activePrices([tier.id]);
    const row = await this.repo.transaction(async (trx) => {
      const row = await this.repo.updateTier(trx, tier.id, { archived_at: new Date() });
      await this.repo.audit(trx, { communityId: tier.community_id, actorId: userId, action: 'tier.archive', targetType: 'tier', targetId: tier.id });
      return row;
    });
    for (const p of prices) if (p.provider_price_id) await this.call(() => this.provider.archivePrice(p.provider_price_id!)).catch((err) => this.deps.log.warn('price archive failed', { err }));
    return row;
  }

  pricesOf(tierIds: string[]) {
    return this.repo.activePrices(tierIds);
  }

  // ---- promotion codes ------------------------------------------------------------------------------------

  async promoCodes(communityId: string, identity: Identity) {
    await this.requireManager(communityId, identity);
    return this.repo.promosOf(communityId);
  }

  async createPromoCode(communityId: string, raw: Record<string, unknown>, identity: Identity): Promise<PromoRow> {
    const { userId } = await this.requireManager(communityId, identity);
    const input = parse(promoInput, { ...raw, duration: typeof raw.duration === 'string' ? raw.duration.toLowerCase() : raw.duration, expiresAt: raw.expiresAt ? new Date(raw.expiresAt as string) : null });
    const tiers = await this.repo.tiersOf(communityId, true);
    if (input.tierIds.some((id) => !tiers.find((t) => t.id === id))) throw badInput('Choose tiers of this community.', 'tierIds');
    let promo: PromoRow;
    try {
      promo = await this.repo.insertPromo({
        id: newId(),
        community_id: communityId,
        code: input.code,
        percent_off: input.percentOff,
        amount_off: input.amountOff,
        currency: input.currency,
        duration: input.duration,
        duration_in_months: input.durationInMonths,
        max_redemptions: input.maxRedemptions,
        expires_at: input.expiresAt,
        tier_ids: input.tierIds,
        created_by: userId,
      });
    } catch (err) {
      if (isUniqueViolation(err, 'promo_codes_code')) throw paymentsErrors.promoTaken();
      throw err;
    }
    await this.repo.transaction((trx) => this.repo.audit(trx, { communityId, actorId: userId, action: 'promo.create', targetType: 'promo_code', targetId: promo.id, detail: { code: promo.code } }));
    await this.ensurePromoAtProvider(promo).catch((err) => this.deps.log.warn('promotion code not yet at the provider; retried at checkout', { err }));
    return (await this.repo.promo(promo.id))!;
  }

  private async ensurePromoAtProvider(promo: PromoRow): Promise<string> {
    if (promo.provider_promotion_id) return promo.provider_promotion_id;
    for (const tierId of promo.tier_ids) await this.ensureTierAtProvider(tierId);
    const productIds = promo.tier_ids.length ? (await Promise.all(promo.tier_ids.map((id) => this.repo.tier(id)))).map((t) => t!.provider_product_id!) : [];
    const created = await this.once(`promo:${promo.id}`, 'createPromotionCode', (idempotencyKey) =>
      this.provider.createPromotionCode({
        idempotencyKey,
        // Unique at the provider, whose codes are account-wide: buyers type the community's own code here, never there.
        code: `${promo.code.toUpperCase()}-${promo.id.slice(0, 8).toUpperCase()}`,
        percentOff: promo.percent_off,
        amountOff: promo.amount_off,
        currency: promo.currency,
        duration: promo.duration,
        durationInMonths: promo.duration_in_months,
        maxRedemptions: promo.max_redemptions,
        expiresAt: promo.expires_at ? Math.floor(promo.expires_at.getTime() / 1000) : null,
        productIds,
        metadata: { circles_promo: promo.id, circles_community: promo.community_id },
      }),
    );
    await this.repo.setProviderIds('promo_codes', promo.id, { provider_promotion_id: created.id, provider_coupon_id: created.couponId });
    return created.id;
  }

  async deactivatePromoCode(id: string, identity: Identity): Promise<PromoRow> {
    const promo = await this.repo.promo(id);
    if (!promo) throw paymentsErrors.notFound('No such promotion code.');
    const { userId } = await this.requireManager(promo.community_id, identity);
    if (promo.provider_promotion_id && promo.active) await this.call(() => this.provider.deactivatePromotionCode(promo.provider_promotion_id!));
    const row = await this.repo.deactivatePromo(id);
    await this.repo.transaction((trx) => this.repo.audit(trx, { communityId: promo.community_id, actorId: userId, action: 'promo.deactivate', targetType: 'promo_code', targetId: id }));
    return row;
  }

  // ---- checkout and self-service ---------------------------------------------------------------------------

  private async ensureCustomer(userId: string): Promise<string> {
    const existing = await this.repo.customer(userId, this.provider.kind);
    if (existing) return existing.provider_customer_id;
    const created = await this.once(`customer:${this.provider.kind}:${userId}`, 'createCustomer', (idempotencyKey) =>
      this.provider.createCustomer({ idempotencyKey, email: null, name: '', metadata: { circles_user: userId } }),
    );
    await this.repo.saveCustomer(userId, this.provider.kind, created.id);
    return (await this.repo.customer(userId, this.provider.kind))!.provider_customer_id;
  }

  async startCheckout(tierId: string, rawInterval: string, promoCode: string | null, identity: Identity): Promise<{ url: string; checkoutId: string }> {
    const userId = this.user(identity);
    const tier = await this.repo.tier(tierId);
    if (!tier) throw paymentsErrors.notFound();
    if (tier.archived_at) throw paymentsErrors.archived();
    const community = await this.deps.apis.community.describeCommunity({ communityId: tier.community_id });
    if (!community) throw paymentsErrors.notFound();
    if (community.archived) throw paymentsErrors.communityArchived();
    const access = await this.deps.apis.community.spaceAccess({ userId, communityId: tier.community_id, spaceId: tier.circle_ids[0]! });
    if (!access) throw paymentsErrors.notFound();
    if (!access.member) throw paymentsErrors.notMember();
    const interval = rawInterval.toLowerCase() as IntervalName;
    const price = (await this.repo.activePrices([tier.id])).find((p) => intervalOf(p) === interval);
    if (!price) throw paymentsErrors.intervalNotSold();
    if (await this.repo.liveSubscription(userId, tier.id)) throw paymentsErrors.alreadySubscribed();
    const account = await this.repo.account(tier.community_id);
    if (!account?.charges_enabled) throw paymentsErrors.payoutsNotReady();
    let promo: PromoRow | null = null;
    if (promoCode?.trim()) {
      promo = (await this.repo.promoByCode(tier.community_id, promoCode.trim())) ?? null;
      if (!promo || !promo.active || (promo.expires_at && promo.expires_at < new Date()) || (promo.tier_ids.length && !promo.tier_ids.includes(tier.id))) throw paymentsErrors.promoInvalid();
    }
    await this.ensureTierAtProvider(tier.id);
    const sellable = (await this.repo.price(price.id))!;
    const promotionCodeId = promo ? await this.ensurePromoAtProvider(promo) : null;
    const customerId = await this.ensureCustomer(userId);
    const checkout = await this.repo.insertCheckout({
      id: newId(),
      user_id: userId,
      community_id: tier.community_id,
      tier_id: tier.id,
      price_id: price.id,
      promo_code_id: promo?.id ?? null,
      provider: this.provider.kind,
      mode: interval === 'once' ? 'payment' : 'subscription',
      terms_version: this.deps.config.paymentsTermsVersion,
    });
    const base = this.deps.config.publicUrl.replace(/\/$/, '');
    const circlePage = `${base}/c/${community.slug}/circles/${tier.circle_ids[0]}`;
    const fee = this.deps.config.paymentsPlatformFeePercent;
    const metadata = { circles_checkout: checkout.id, circles_user: userId, circles_tier: tier.id, circles_community: tier.community_id, circles_price: price.id };
    const session = await this.once(`checkout:${checkout.id}`, 'createCheckoutSession', (idempotencyKey) =>
      this.provider.createCheckoutSession({
        idempotencyKey,
        mode: checkout.mode,
        customerId,
        priceId: sellable.provider_price_id!,
        trialDays: checkout.mode === 'subscription' && tier.trial_days > 0 ? tier.trial_days : null,
        // Codes are entered here, where they are checked against this community; the provider's checkout takes none
        // (its codes are account-wide: a code typed there could be another community's).
        allowPromotionCodes: false,
        promotionCodeId,
        successUrl: `${circlePage}?checkout=success&session={CHECKOUT_SESSION_ID}`,
        cancelUrl: `${circlePage}?checkout=canceled`,
        destinationAccountId: account.provider_account_id,
        applicationFeePercent: checkout.mode === 'subscription' && fee > 0 ? fee : null,
        applicationFeeAmount: checkout.mode === 'payment' && fee > 0 ? Math.round((sellable.amount * fee) / 100) : null,
        requireTerms: true,
        metadata,
      }),
    );
    await this.repo.setCheckoutSession(checkout.id, session.id);
    if (!session.url) throw paymentsErrors.providerUnavailable();
    return { url: session.url, checkoutId: checkout.id };
  }

  async mySubscriptions(identity: Identity) {
    return this.repo.subscriptionsOfUser(this.user(identity));
  }

  async viewerSubscription(tierId: string, identity: Identity) {
    if (!identity.userId) return null;
    return (await this.repo.liveSubscription(identity.userId, tierId)) ?? null;
  }

  private async own(id: string, identity: Identity): Promise<SubscriptionRow> {
    const userId = this.user(identity);
    const sub = /^[0-9a-f-]{36}$/i.test(id) ? await this.repo.subscription(id) : undefined;
    if (!sub || sub.user_id !== userId) throw paymentsErrors.notYours();
    return sub;
  }

  async openBillingPortal(returnPath: string, identity: Identity): Promise<string> {
    const userId = this.user(identity);
    if (!/^\/(?!\/)[\w\-./?=&%]*$/.test(returnPath)) throw paymentsErrors.badReturnPath();
    const customer = await this.repo.customer(userId, this.provider.kind);
    if (!customer) throw paymentsErrors.noCustomer();
    const base = this.deps.config.publicUrl.replace(/\/$/, '');
    return (await this.call(() => this.provider.createPortalSession({ customerId: customer.provider_customer_id, returnUrl: base + returnPath }))).url;
  }

  async setCancel(id: string, cancel: boolean, identity: Identity): Promise<SubscriptionRow> {
    const sub = await this.own(id, identity);
    if (sub.kind === 'one_time') throw paymentsErrors.oneTime();
    if (!['trialing', 'active', 'past_due'].includes(sub.status)) throw paymentsErrors.notActive();
    const current = await this.call(() => this.provider.setCancelAtPeriodEnd(sub.provider_subscription_id!, cancel));
    const now = await this.provider.clockNow();
    // Applied now from the answer (the provider's event will say the same and change nothing).
    await this.repo.transaction(async (trx) => {
      const locked = (await this.repo.lockSubscription(trx, sub.id))!;
      await this.applySubscription(trx, locked, current, now);
      await this.repo.audit(trx, { communityId: sub.community_id, actorId: sub.user_id, action: cancel ? 'subscription.cancel' : 'subscription.resume', targetType: 'subscription', targetId: sub.id });
    });
    this.deps.outbox.nudge();
    return (await this.repo.subscription(sub.id))!;
  }

  async changeSubscription(id: string, tierId: string, rawInterval: string, identity: Identity): Promise<SubscriptionRow> {
    const sub = await this.own(id, identity);
    if (sub.kind === 'one_time') throw paymentsErrors.oneTime();
    if (!['trialing', 'active', 'past_due'].includes(sub.status)) throw paymentsErrors.notActive();
    const tier = await this.repo.tier(tierId);
    if (!tier || tier.archived_at) throw paymentsErrors.notFound();
    if (tier.community_id !== sub.community_id) throw paymentsErrors.otherCommunity();
    const interval = rawInterval.toLowerCase() as IntervalName;
    if (interval === 'once') throw paymentsErrors.intervalNotSold();
    const price = (await this.repo.activePrices([tier.id])).find((p) => intervalOf(p) === interval);
    if (!price) throw paymentsErrors.intervalNotSold();
    if (price.id === sub.price_id) return sub;
    await this.ensureTierAtProvider(tier.id);
    const providerPrice = (await this.repo.price(price.id))!.provider_price_id!;
    const currentSub = await this.call(() => this.provider.retrieveSubscription(sub.provider_subscription_id!));
    const changed = await this.once(`change:${sub.id}:${price.id}:${sub.updated_at.getTime()}`, 'changeSubscriptionPrice', (idempotencyKey) =>
      this.provider.changeSubscriptionPrice({ idempotencyKey, subscriptionId: sub.provider_subscription_id!, itemId: currentSub.itemId, priceId: providerPrice }),
    );
    const now = await this.provider.clockNow();
    await this.repo.transaction(async (trx) => {
      const locked = (await this.repo.lockSubscription(trx, sub.id))!;
      await this.applySubscription(trx, locked, changed, now);
      await this.repo.audit(trx, { communityId: sub.community_id, actorId: sub.user_id, action: 'subscription.change', targetType: 'subscription', targetId: sub.id, detail: { fromTier: sub.tier_id, toTier: tier.id, priceId: price.id } });
    });
    this.deps.outbox.nudge();
    return (await this.repo.subscription(sub.id))!;
  }

  /** Owner and admins: full refund of the latest charge; the access it paid for ends with it. */
  async refundSubscription(id: string, identity: Identity): Promise<SubscriptionRow> {
    const sub = /^[0-9a-f-]{36}$/i.test(id) ? await this.repo.subscription(id) : undefined;
    if (!sub) throw paymentsErrors.notYours();
    const { userId } = await this.requireManager(sub.community_id, identity);
    const charge = await this.repo.latestCharge(sub.id);
    if (!charge) throw paymentsErrors.nothingToRefund();
    await this.once(`refund:${charge.provider_object_id}`, 'createRefund', (idempotencyKey) =>
      this.provider.createRefund({ idempotencyKey, chargeId: charge.provider_object_id, amount: null, reason: 'requested_by_customer' }),
    );
    let ended = null;
    if (sub.kind === 'subscription' && ['trialing', 'active', 'past_due', 'unpaid'].includes(sub.status)) ended = await this.call(() => this.provider.cancelSubscriptionNow(sub.provider_subscription_id!));
    const now = await this.provider.clockNow();
    await this.repo.transaction(async (trx) => {
      let locked = (await this.repo.lockSubscription(trx, sub.id))!;
      if (!locked.refunded_at) locked = await this.repo.updateSubscription(trx, sub.id, { refunded_at: new Date() });
      if (ended) await this.applySubscription(trx, locked, ended, now);
      else await this.recomputeEntitlement(trx, locked, now);
      await this.repo.audit(trx, { communityId: sub.community_id, actorId: userId, action: 'subscription.refund', targetType: 'subscription', targetId: sub.id, detail: { chargeId: charge.provider_object_id, amount: Number(charge.amount), currency: charge.currency } });
    });
    this.deps.outbox.nudge();
    return (await this.repo.subscription(sub.id))!;
  }

  // ---- subscriptions as the provider reports them -----------------------------------------------------------

  /**
   * Brings our row in step with the provider's current object (re-read, so the order events arrive in does not
   * matter), then re-decides access.
   */
  async applySubscription(trx: PaymentsDb, row: SubscriptionRow, current: import('./provider.ts').ProviderSubscription, now: number): Promise<SubscriptionRow> {
    const price = await this.repo.priceByProviderId(current.priceId, trx);
    const at = (s: number | null) => (s === null ? null : new Date(s * 1000));
    const pastDue = current.status === 'past_due';
    const updated = await this.repo.updateSubscription(trx, row.id, {
      status: current.status,
      ...(price ? { price_id: price.id, tier_id: price.tier_id } : {}),
      provider_customer_id: current.customerId,
      current_period_start: at(current.currentPeriodStart),
      current_period_end: at(current.currentPeriodEnd),
      cancel_at_period_end: current.cancelAtPeriodEnd,
      canceled_at: at(current.canceledAt),
      ended_at: at(current.endedAt),
      trial_end: at(current.trialEnd),
      past_due_since: pastDue ? (row.past_due_since ?? new Date(now * 1000)) : null,
    });
    return this.recomputeEntitlement(trx, updated, now);
  }

  /** Whether the row gives access now; when that (or the circles) changed, Community is told the whole new set. */
  /** `now`: the provider's clock (Unix seconds), read before the transaction (never inside one: it may query). */
  async recomputeEntitlement(trx: PaymentsDb, row: SubscriptionRow, now: number): Promise<SubscriptionRow> {
    const tier = (await this.repo.tier(row.tier_id, trx))!;
    // Grace is measured on the provider's clock (the test provider's own clock moves in tests and trials).
    const graceEnds = row.past_due_since ? row.past_due_since.getTime() + this.deps.config.paymentsGraceDays * 86_400_000 : 0;
    const inGrace = row.status === 'past_due' && graceEnds > now * 1000;
    const paying = row.kind === 'one_time' ? row.status === 'paid' : row.status === 'active' || row.status === 'trialing' || inGrace;
    const entitled = paying && !row.refunded_at && !row.suspended_at;
    const circles = entitled ? [...tier.circle_ids].sort() : [];
    const before = [...row.entitled_circle_ids].sort();
    if (entitled === row.entitled && circles.join() === before.join()) return row;
    const version = Number(row.entitlement_version) + 1;
    const updated = await this.repo.updateSubscription(trx, row.id, { entitled, entitled_circle_ids: circles, entitlement_version: version });
    await this.deps.outbox.write(trx, paymentsTopics.entitlementsChanged, { source: `payments:${row.id}`, communityId: row.community_id, userId: row.user_id, circleIds: circles, version });
    await this.repo.audit(trx, {
      communityId: row.community_id,
      actorId: null,
      action: entitled ? 'access.grant' : 'access.revoke',
      targetType: 'subscription',
      targetId: row.id,
      detail: { userId: row.user_id, circleIds: entitled ? circles : before, status: row.status, refunded: !!row.refunded_at, suspended: row.suspended_reason },
    });
    return updated;
  }

  /** Ends access for subscriptions whose failed renewal outlasted the grace period (runs every minute). */
  async sweepGrace(): Promise<number> {
    let n = 0;
    const now = await this.provider.clockNow();
    for (const { id } of await this.repo.graceExpired(this.deps.config.paymentsGraceDays, new Date(now * 1000))) {
      await this.repo.transaction(async (trx) => {
        const row = await this.repo.lockSubscription(trx, id);
        if (row) await this.recomputeEntitlement(trx, row, now);
      });
      n++;
    }
    if (n) this.deps.outbox.nudge();
    return n;
  }

  // ---- owner views ----------------------------------------------------------------------------------------

  async revenue(communityId: string, identity: Identity) {
    await this.requireManager(communityId, identity);
    const r = await this.repo.revenue(communityId);
    const sum = (kinds: string[]) => {
      const by = new Map<string, number>();
      for (const m of r.money) if (kinds.includes(m.kind)) by.set(m.currency, (by.get(m.currency) ?? 0) + Number(m.amount));
      return [...by].map(([currency, amount]) => ({ currency, amount }));
    };
    return {
      mrr: r.mrr.map((m) => ({ currency: m.currency, amount: Number(m.amount) })),
      activeSubscribers: Number(r.counts.active),
      newLast30Days: Number(r.counts.new30),
      churnedLast30Days: Number(r.counts.churned30),
      refundsLast30Days: sum(['refund']).map((m) => ({ ...m, amount: -m.amount })),
      openDisputes: Number(r.disputes.open),
      disputesLast30Days: Number(r.disputes.recent),
      payoutsLast30Days: sum(['payout']).map((m) => ({ ...m, amount: -m.amount })),
      netLast30Days: sum(['charge', 'fee', 'refund', 'dispute', 'dispute_reversal']),
    };
  }

  async ledger(communityId: string, first: number, before: number | null, identity: Identity) {
    await this.requireManager(communityId, identity);
    return this.repo.ledger(communityId, Math.min(Math.max(first, 1), 500), before);
  }

  /** A 5-minute signed link to the CSV (file downloads go by signed URL, like media's). */
  async ledgerExportUrl(communityId: string, identity: Identity): Promise<string> {
    await this.requireManager(communityId, identity);
    return this.deps.urls.sign(`/payments/ledger/${communityId}.csv`, new Date(Date.now() + 300_000));
  }

  async communitySubscriptions(communityId: string, first: number, identity: Identity) {
    await this.requireManager(communityId, identity);
    return this.repo.subscriptionsOfCommunity(communityId, Math.min(Math.max(first, 1), 500));
  }

  async disputes(communityId: string, identity: Identity) {
    await this.requireManager(communityId, identity);
    return this.repo.disputesOf(communityId);
  }

  async saveDisputeEvidence(id: string, raw: unknown, submit: boolean, identity: Identity) {
    const dispute = /^[0-9a-f-]{36}$/i.test(id) ? await this.repo.dispute(id) : undefined;
    if (!dispute) throw paymentsErrors.notFound('No such dispute.');
    const { userId } = await this.requireOwner(dispute.community_id, identity);
    if (dispute.submitted_at || !['needs_response', 'warning_needs_response'].includes(dispute.status)) throw paymentsErrors.disputeClosed();
    const input = parse(evidenceInput, raw);
    const evidence = { ...(dispute.evidence ?? {}), ...Object.fromEntries(Object.entries(input).filter(([, v]) => v !== undefined)) } as Record<string, string>;
    await this.call(() => this.provider.updateDisputeEvidence(dispute.provider_dispute_id, evidence as DisputeEvidence, submit));
    const row = await this.repo.saveEvidence(dispute.id, evidence, submit);
    await this.repo.transaction((trx) => this.repo.audit(trx, { communityId: dispute.community_id, actorId: userId, action: submit ? 'dispute.evidence.submit' : 'dispute.evidence.save', targetType: 'dispute', targetId: dispute.id }));
    return row;
  }

  /** Tells the community's owner by email that a charge is disputed, what is at stake and until when to answer. */
  async notifyDispute(d: DisputeOpened): Promise<void> {
    const community = await this.deps.apis.community.describeCommunity({ communityId: d.communityId });
    if (!community) return;
    const owner = await this.deps.apis.auth.contactOf({ userId: community.ownerId });
    if (!owner) return;
    const amount = new Intl.NumberFormat('en', { style: 'currency', currency: d.currency.toUpperCase() }).format(d.amount / 10 ** currencyDigits(d.currency));
    const page = `${this.deps.config.publicUrl.replace(/\/$/, '')}/c/${community.slug}/settings/revenue`;
    await this.deps.mailer.send({
      to: owner.email,
      subject: `A payment to ${community.name} is disputed`,
      text: [
        `Hi ${owner.displayName},`,
        '',
        `A member's bank has disputed a ${amount} payment to ${community.name} (reason: ${d.reason.replace(/_/g, ' ')}). Their access to the paid circles is suspended until the dispute is decided.`,
        d.evidenceDueBy ? `Respond by ${new Date(d.evidenceDueBy).toUTCString()}.` : '',
        '',
        `We have prepared an evidence packet (terms accepted at checkout, sign-ins, paid posts they opened, their chat in the paid circles, charges). Review and submit it here: ${page}`,
        this.provider.kind === 'test' ? '\n(Test mode: no real money is involved.)' : '',
      ]
        .filter((l, i, all) => l !== '' || all[i - 1] !== '')
        .join('\n'),
    });
  }

  // ---- payouts (Connect) ----------------------------------------------------------------------------------

  async startPayoutOnboarding(communityId: string, identity: Identity): Promise<string> {
    const { userId } = await this.requireOwner(communityId, identity);
    let account = await this.repo.account(communityId);
    if (!account) {
      const created = await this.once(`account:${this.provider.kind}:${communityId}`, 'createConnectedAccount', (idempotencyKey) =>
        this.provider.createConnectedAccount({ idempotencyKey, email: null, country: null, metadata: { circles_community: communityId, circles_owner: userId } }),
      );
      await this.repo.insertAccount({ community_id: communityId, provider: this.provider.kind, provider_account_id: created.id, created_by: userId });
      await this.repo.transaction((trx) => this.repo.audit(trx, { communityId, actorId: userId, action: 'payouts.account.create', targetType: 'account', targetId: created.id }));
      account = (await this.repo.account(communityId))!;
    }
    const community = (await this.deps.apis.community.describeCommunity({ communityId }))!;
    const page = `${this.deps.config.publicUrl.replace(/\/$/, '')}/c/${community.slug}/settings/revenue`;
    return (await this.call(() => this.provider.createAccountLink({ accountId: account!.provider_account_id, refreshUrl: `${page}?onboarding=refresh`, returnUrl: `${page}?onboarding=done` }))).url;
  }

  async payoutAccount(communityId: string, identity: Identity) {
    await this.requireManager(communityId, identity);
    const account = await this.repo.account(communityId);
    if (!account) return { exists: false, chargesEnabled: false, payoutsEnabled: false, detailsSubmitted: false, requirementsDue: [], available: [], pending: [], payouts: [] };
    const [balance, payouts] = await Promise.all([
      this.call(() => this.provider.retrieveBalance(account.provider_account_id)),
      this.call(() => this.provider.listPayouts(account.provider_account_id, 10)),
    ]);
    return {
      exists: true,
      chargesEnabled: account.charges_enabled,
      payoutsEnabled: account.payouts_enabled,
      detailsSubmitted: account.details_submitted,
      requirementsDue: account.requirements_due,
      available: balance.available,
      pending: balance.pending,
      payouts: payouts.map((p) => ({ ...p, arrivalDate: new Date(p.arrivalDate * 1000) })),
    };
  }

  // ---- the test provider's controls -------------------------------------------------------------------------

  requireTest(): TestPaymentsProvider {
    if (!this.test) throw paymentsErrors.testOnly();
    return this.test;
  }

  /** The buyer's own open checkout on the local test page. */
  async testCheckout(checkoutId: string, identity: Identity) {
    const test = this.requireTest();
    const checkout = await this.ownCheckout(checkoutId, identity);
    if (!checkout?.provider_session_id) return null;
    const described = await test.describeCheckout(checkout.provider_session_id);
    if (!described) return null;
    // The buyer typed the community's code; the provider holds it under a name unique across communities.
    const promo = checkout.promo_code_id ? await this.repo.promo(checkout.promo_code_id) : undefined;
    return { ...described, promotionCode: promo?.code ?? null };
  }

  /** The buyer's own checkout, by our id or by the provider session id the checkout page's address carries. */
  private async ownCheckout(checkoutId: string, identity: Identity): Promise<CheckoutRow | null> {
    const userId = this.user(identity);
    const checkout = /^[0-9a-f-]{36}$/i.test(checkoutId) ? await this.repo.checkout(checkoutId) : checkoutId.length <= 200 ? await this.repo.checkoutBySession(checkoutId) : undefined;
    return checkout && checkout.user_id === userId ? checkout : null;
  }

  async completeTestCheckout(input: { checkoutId: string; cardNumber: string; acceptTerms: boolean; promotionCode?: string | null; taxIdType?: string | null; taxIdValue?: string | null }, identity: Identity) {
    const test = this.requireTest();
    const checkout = await this.ownCheckout(input.checkoutId, identity);
    if (!checkout?.provider_session_id) throw paymentsErrors.notFound('No such checkout.');
    const taxId = input.taxIdType && input.taxIdValue ? { type: input.taxIdType, value: input.taxIdValue } : null;
    const { redirectUrl } = await this.call(() =>
      test.completeCheckout(checkout.provider_session_id!, { cardNumber: input.cardNumber.replace(/\s+/g, ''), acceptTerms: input.acceptTerms, promotionCode: input.promotionCode ?? null, taxId }),
    );
    return redirectUrl;
  }

  async completeTestOnboarding(accountId: string, identity: Identity): Promise<string> {
    const test = this.requireTest();
    const account = await this.repo.accountByProvider(this.repo.db, accountId);
    if (!account) throw paymentsErrors.notFound('No such payout account.');
    await this.requireOwner(account.community_id, identity);
    await this.call(() => test.completeOnboarding(account.provider_account_id));
    return account.community_id;
  }

  /** The test clock is the whole instance's: only its admin moves it (from a community they own). */
  async advanceTestClock(communityId: string, seconds: number, identity: Identity): Promise<Date> {
    const test = this.requireTest();
    const { userId } = await this.requireOwner(communityId, identity);
    if (!(await this.deps.apis.auth.isInstanceAdmin({ userId }))) throw paymentsErrors.instanceAdminOnly();
    if (!Number.isInteger(seconds) || seconds < 1 || seconds > 400 * 86_400) throw badInput('Move the clock by 1 second to 400 days.', 'seconds');
    const { now } = await this.call(() => test.advanceClock(seconds));
    // Failed renewals whose grace ran out in the skipped time lose access now, as the minute sweep would.
    await this.sweepGrace();
    return new Date(now * 1000);
  }

  async simulateTestDispute(subscriptionId: string, identity: Identity) {
    const test = this.requireTest();
    const sub = /^[0-9a-f-]{36}$/i.test(subscriptionId) ? await this.repo.subscription(subscriptionId) : undefined;
    if (!sub) throw paymentsErrors.notYours();
    await this.requireOwner(sub.community_id, identity);
    const charge = await this.repo.latestCharge(sub.id);
    if (!charge) throw paymentsErrors.nothingToRefund();
    const dispute = await this.call(() => test.openDispute(charge.provider_object_id, 'fraudulent'));
    return this.disputeApplied(dispute.id);
  }

  async simulateTestDisputeOutcome(disputeId: string, won: boolean, identity: Identity) {
    const test = this.requireTest();
    const dispute = /^[0-9a-f-]{36}$/i.test(disputeId) ? await this.repo.dispute(disputeId) : undefined;
    if (!dispute) throw paymentsErrors.notFound('No such dispute.');
    await this.requireOwner(dispute.community_id, identity);
    await this.call(() => test.closeDispute(dispute.provider_dispute_id, won ? 'won' : 'lost'));
    return this.disputeApplied(dispute.provider_dispute_id);
  }

  /** The test provider's events are applied before its call returns; this reads the result. */
  private async disputeApplied(providerDisputeId: string) {
    const row = await this.repo.disputeByProvider(this.repo.db, providerDisputeId);
    if (!row) throw paymentsErrors.providerUnavailable();
    return row;
  }

  /** The test billing portal session, if it is the viewer's own (null otherwise). */
  private async findOwnPortal(portalId: string, identity: Identity) {
    const test = this.requireTest();
    const customer = await this.repo.customer(this.user(identity), 'test');
    const portal = await test.describePortal(portalId);
    return portal && customer && portal.customerId === customer.provider_customer_id ? { test, portal } : null;
  }

  private async ownPortal(portalId: string, identity: Identity) {
    const own = await this.findOwnPortal(portalId, identity);
    if (!own) throw paymentsErrors.notFound('No such billing session.');
    return own;
  }

  async testPortalView(portalId: string, identity: Identity) {
    const own = await this.findOwnPortal(portalId, identity);
    if (!own) return null;
    const { portal } = own;
    return {
      id: portalId,
      returnUrl: portal.returnUrl,
      subscriptions: portal.subscriptions.map((s) => ({
        id: s.id,
        status: s.status,
        productName: s.productName,
        amount: s.unitAmount,
        currency: s.currency,
        interval: (s.interval ?? 'once').toUpperCase(),
        currentPeriodEnd: new Date(s.currentPeriodEnd * 1000),
        cancelAtPeriodEnd: s.cancelAtPeriodEnd,
      })),
      invoices: portal.invoices.map((i) => ({ id: i.id, amountPaid: i.amountPaid, currency: i.currency, status: i.status, createdAt: new Date(i.created * 1000) })),
    };
  }

  async testPortalCancel(portalId: string, subscriptionId: string, cancel: boolean, identity: Identity) {
    const { test } = await this.ownPortal(portalId, identity);
    await this.call(() => test.portalSetCancelAtPeriodEnd(portalId, subscriptionId, cancel));
    return this.testPortalView(portalId, identity);
  }

  async testPortalUpdateCard(portalId: string, cardNumber: string, identity: Identity) {
    const { test } = await this.ownPortal(portalId, identity);
    await this.call(() => test.portalUpdateCard(portalId, cardNumber.replace(/\s+/g, '')));
    return this.testPortalView(portalId, identity);
  }
}


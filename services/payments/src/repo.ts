import { newId } from '@circles/platform';
import { type Kysely, sql } from 'kysely';

export type PaymentsDb = Kysely<any>;

export interface TierRow {
  id: string;
  community_id: string;
  name: string;
  description: string;
  benefits: string[];
  circle_ids: string[];
  trial_days: number;
  position: number;
  provider: string;
  provider_product_id: string | null;
  created_by: string;
  created_at: Date;
  updated_at: Date;
  archived_at: Date | null;
}

export interface PriceRow {
  id: string;
  tier_id: string;
  community_id: string;
  interval: 'month' | 'year' | null;
  amount: number;
  currency: string;
  provider_price_id: string | null;
  active: boolean;
  created_at: Date;
  archived_at: Date | null;
}

export interface PromoRow {
  id: string;
  community_id: string;
  code: string;
  percent_off: number | null;
  amount_off: number | null;
  currency: string | null;
  duration: 'once' | 'repeating' | 'forever';
  duration_in_months: number | null;
  max_redemptions: number | null;
  expires_at: Date | null;
  tier_ids: string[];
  provider_promotion_id: string | null;
  provider_coupon_id: string | null;
  active: boolean;
  created_by: string;
  created_at: Date;
}

export interface SubscriptionRow {
  id: string;
  kind: 'subscription' | 'one_time';
  provider: string;
  provider_subscription_id: string | null;
  provider_payment_intent_id: string | null;
  provider_customer_id: string | null;
  checkout_id: string | null;
  user_id: string;
  community_id: string;
  tier_id: string;
  price_id: string | null;
  status: string;
  current_period_start: Date | null;
  current_period_end: Date | null;
  cancel_at_period_end: boolean;
  canceled_at: Date | null;
  ended_at: Date | null;
  trial_end: Date | null;
  past_due_since: Date | null;
  refunded_at: Date | null;
  suspended_at: Date | null;
  suspended_reason: string | null;
  entitled: boolean;
  entitled_circle_ids: string[];
  entitlement_version: string | number;
  created_at: Date;
  updated_at: Date;
}

export interface CheckoutRow {
  id: string;
  user_id: string;
  community_id: string;
  tier_id: string;
  price_id: string;
  promo_code_id: string | null;
  provider: string;
  provider_session_id: string | null;
  mode: 'subscription' | 'payment';
  status: string;
  terms_version: string;
  terms_accepted: boolean | null;
  tax_ids: unknown;
  created_at: Date;
  completed_at: Date | null;
}

export interface LedgerRow {
  seq: string | number;
  id: string;
  community_id: string;
  kind: 'charge' | 'fee' | 'refund' | 'dispute' | 'dispute_reversal' | 'payout';
  amount: string | number;
  currency: string;
  user_id: string | null;
  subscription_id: string | null;
  provider_object_id: string;
  description: string;
  occurred_at: Date;
  recorded_at: Date;
}

export interface DisputeRow {
  id: string;
  provider_dispute_id: string;
  community_id: string;
  subscription_id: string | null;
  user_id: string | null;
  provider_charge_id: string;
  amount: number;
  currency: string;
  reason: string;
  status: string;
  evidence_due_by: Date | null;
  evidence: Record<string, string> | null;
  submitted_at: Date | null;
  created_at: Date;
  updated_at: Date;
}

export interface AccountRow {
  community_id: string;
  provider: string;
  provider_account_id: string;
  created_by: string;
  charges_enabled: boolean;
  payouts_enabled: boolean;
  details_submitted: boolean;
  requirements_due: string[];
  default_currency: string | null;
}

/** The only place with SQL for payments. */
export class PaymentsRepository {
  constructor(readonly db: PaymentsDb) {}

  transaction<T>(fn: (trx: PaymentsDb) => Promise<T>): Promise<T> {
    return this.db.transaction().execute(fn);
  }

  // ---- tiers and prices -----------------------------------------------------------------------------------

  tier(id: string, db: PaymentsDb = this.db): Promise<TierRow | undefined> {
    return db.selectFrom('payments.tiers').selectAll().where('id', '=', id).executeTakeFirst() as Promise<TierRow | undefined>;
  }

  tiersOf(communityId: string, includeArchived: boolean): Promise<TierRow[]> {
    let q = this.db.selectFrom('payments.tiers').selectAll().where('community_id', '=', communityId);
    if (!includeArchived) q = q.where('archived_at', 'is', null);
    return q.orderBy('position').orderBy('created_at').execute() as Promise<TierRow[]>;
  }

  tiersForCircle(circleId: string): Promise<TierRow[]> {
    return this.db
      .selectFrom('payments.tiers')
      .selectAll()
      .where(sql<boolean>`circle_ids @> array[${circleId}]::uuid[]`)
      .where('archived_at', 'is', null)
      .orderBy('position')
      .orderBy('created_at')
      .execute() as Promise<TierRow[]>;
  }

  async insertTier(trx: PaymentsDb, row: Omit<TierRow, 'created_at' | 'updated_at' | 'archived_at' | 'position' | 'provider_product_id'>): Promise<TierRow> {
    const { rows } = await sql<{ n: number }>`select coalesce(max(position) + 1, 0)::int as n from payments.tiers where community_id = ${row.community_id}::uuid`.execute(trx);
    return (await trx
      .insertInto('payments.tiers')
      .values({ ...row, position: rows[0]!.n, benefits: sql`${row.benefits}::text[]`, circle_ids: sql`${row.circle_ids}::uuid[]` })
      .returningAll()
      .executeTakeFirstOrThrow()) as TierRow;
  }

  async updateTier(trx: PaymentsDb, id: string, patch: Partial<Pick<TierRow, 'name' | 'description' | 'benefits' | 'circle_ids' | 'trial_days' | 'archived_at' | 'provider_product_id'>>): Promise<TierRow> {
    const values: Record<string, unknown> = { ...patch, updated_at: new Date() };
    if (patch.benefits) values.benefits = sql`${patch.benefits}::text[]`;
    if (patch.circle_ids) values.circle_ids = sql`${patch.circle_ids}::uuid[]`;
    return (await trx.updateTable('payments.tiers').set(values).where('id', '=', id).returningAll().executeTakeFirstOrThrow()) as TierRow;
  }

  price(id: string, db: PaymentsDb = this.db): Promise<PriceRow | undefined> {
    return db.selectFrom('payments.prices').selectAll().where('id', '=', id).executeTakeFirst() as Promise<PriceRow | undefined>;
  }

  priceByProviderId(providerPriceId: string, db: PaymentsDb = this.db): Promise<PriceRow | undefined> {
    return db.selectFrom('payments.prices').selectAll().where('provider_price_id', '=', providerPriceId).executeTakeFirst() as Promise<PriceRow | undefined>;
  }

  activePrices(tierIds: string[]): Promise<PriceRow[]> {
    if (!tierIds.length) return Promise.resolve([]);
    return this.db.selectFrom('payments.prices').selectAll().where('tier_id', 'in', tierIds).where('active', '=', true).orderBy('created_at').execute() as Promise<PriceRow[]>;
  }

  insertPrice(trx: PaymentsDb, row: Pick<PriceRow, 'id' | 'tier_id' | 'community_id' | 'interval' | 'amount' | 'currency'>): Promise<PriceRow> {
    return trx.insertInto('payments.prices').values(row).returningAll().executeTakeFirstOrThrow() as Promise<PriceRow>;
  }

  async retirePrice(trx: PaymentsDb, id: string): Promise<void> {
    await trx.updateTable('payments.prices').set({ active: false, archived_at: new Date() }).where('id', '=', id).execute();
  }

  async setProviderIds(table: 'tiers' | 'prices' | 'promo_codes', id: string, values: Record<string, string>): Promise<void> {
    await this.db.updateTable(`payments.${table}`).set(values).where('id', '=', id).execute();
  }

  // ---- promotion codes ------------------------------------------------------------------------------------

  promo(id: string): Promise<PromoRow | undefined> {
    return this.db.selectFrom('payments.promo_codes').selectAll().where('id', '=', id).executeTakeFirst() as Promise<PromoRow | undefined>;
  }

  promoByCode(communityId: string, code: string): Promise<PromoRow | undefined> {
    return this.db
      .selectFrom('payments.promo_codes')
      .selectAll()
      .where('community_id', '=', communityId)
      .where(sql<boolean>`lower(code) = lower(${code})`)
      .executeTakeFirst() as Promise<PromoRow | undefined>;
  }

  promosOf(communityId: string): Promise<PromoRow[]> {
    return this.db.selectFrom('payments.promo_codes').selectAll().where('community_id', '=', communityId).orderBy('created_at', 'desc').execute() as Promise<PromoRow[]>;
  }

  insertPromo(row: Omit<PromoRow, 'created_at' | 'active' | 'provider_promotion_id' | 'provider_coupon_id'>): Promise<PromoRow> {
    return this.db
      .insertInto('payments.promo_codes')
      .values({ ...row, tier_ids: sql`${row.tier_ids}::uuid[]` })
      .returningAll()
      .executeTakeFirstOrThrow() as Promise<PromoRow>;
  }

  async deactivatePromo(id: string): Promise<PromoRow> {
    return (await this.db.updateTable('payments.promo_codes').set({ active: false }).where('id', '=', id).returningAll().executeTakeFirstOrThrow()) as PromoRow;
  }

  // ---- customers, checkouts, outbound calls ---------------------------------------------------------------

  customer(userId: string, provider: string): Promise<{ provider_customer_id: string } | undefined> {
    return this.db.selectFrom('payments.customers').select('provider_customer_id').where('user_id', '=', userId).where('provider', '=', provider).executeTakeFirst();
  }

  async saveCustomer(userId: string, provider: string, providerCustomerId: string): Promise<void> {
    await this.db
      .insertInto('payments.customers')
      .values({ user_id: userId, provider, provider_customer_id: providerCustomerId })
      .onConflict((oc) => oc.columns(['user_id', 'provider']).doNothing())
      .execute();
  }

  async isOurCustomer(db: PaymentsDb, providerCustomerId: string): Promise<boolean> {
    return !!(await db.selectFrom('payments.customers').select('user_id').where('provider_customer_id', '=', providerCustomerId).executeTakeFirst());
  }

  insertCheckout(row: Omit<CheckoutRow, 'status' | 'created_at' | 'completed_at' | 'terms_accepted' | 'tax_ids' | 'provider_session_id'>): Promise<CheckoutRow> {
    return this.db.insertInto('payments.checkouts').values(row).returningAll().executeTakeFirstOrThrow() as Promise<CheckoutRow>;
  }

  async setCheckoutSession(id: string, sessionId: string): Promise<void> {
    await this.db.updateTable('payments.checkouts').set({ provider_session_id: sessionId }).where('id', '=', id).execute();
  }

  checkout(id: string, db: PaymentsDb = this.db): Promise<CheckoutRow | undefined> {
    return db.selectFrom('payments.checkouts').selectAll().where('id', '=', id).executeTakeFirst() as Promise<CheckoutRow | undefined>;
  }

  checkoutBySession(sessionId: string, db: PaymentsDb = this.db): Promise<CheckoutRow | undefined> {
    return db.selectFrom('payments.checkouts').selectAll().where('provider_session_id', '=', sessionId).executeTakeFirst() as Promise<CheckoutRow | undefined>;
  }

  async completeCheckout(trx: PaymentsDb, id: string, termsAccepted: boolean, taxIds: unknown): Promise<void> {
    await trx
      .updateTable('payments.checkouts')
      .set({ status: 'complete', terms_accepted: termsAccepted, tax_ids: JSON.stringify(taxIds), completed_at: sql`coalesce(completed_at, now())` })
      .where('id', '=', id)
      .execute();
  }

  /** Stores the key before the first attempt; returns the stored result when an earlier attempt finished. */
  async beginCall(key: string, operation: string): Promise<{ result: unknown } | null> {
    await this.db.insertInto('payments.outbound_calls').values({ key, operation }).onConflict((oc) => oc.column('key').doNothing()).execute();
    const row = await this.db.selectFrom('payments.outbound_calls').select(['result', 'completed_at']).where('key', '=', key).executeTakeFirstOrThrow();
    return row.completed_at ? { result: row.result } : null;
  }

  async finishCall(key: string, result: unknown): Promise<void> {
    await this.db.updateTable('payments.outbound_calls').set({ result: JSON.stringify(result ?? null), completed_at: new Date() }).where('key', '=', key).execute();
  }

  // ---- subscriptions --------------------------------------------------------------------------------------

  subscription(id: string, db: PaymentsDb = this.db): Promise<SubscriptionRow | undefined> {
    return db.selectFrom('payments.subscriptions').selectAll().where('id', '=', id).executeTakeFirst() as Promise<SubscriptionRow | undefined>;
  }

  lockSubscriptionByProvider(trx: PaymentsDb, providerSubscriptionId: string): Promise<SubscriptionRow | undefined> {
    return trx.selectFrom('payments.subscriptions').selectAll().where('provider_subscription_id', '=', providerSubscriptionId).forUpdate().executeTakeFirst() as Promise<
      SubscriptionRow | undefined
    >;
  }

  lockSubscriptionByPaymentIntent(trx: PaymentsDb, paymentIntentId: string): Promise<SubscriptionRow | undefined> {
    return trx.selectFrom('payments.subscriptions').selectAll().where('provider_payment_intent_id', '=', paymentIntentId).forUpdate().executeTakeFirst() as Promise<
      SubscriptionRow | undefined
    >;
  }

  lockSubscription(trx: PaymentsDb, id: string): Promise<SubscriptionRow | undefined> {
    return trx.selectFrom('payments.subscriptions').selectAll().where('id', '=', id).forUpdate().executeTakeFirst() as Promise<SubscriptionRow | undefined>;
  }

  /** Inserts once per provider object (a racing insert of the same one gets the existing row, locked). */
  async insertSubscription(trx: PaymentsDb, row: Partial<SubscriptionRow> & Pick<SubscriptionRow, 'kind' | 'provider' | 'user_id' | 'community_id' | 'tier_id' | 'status'>): Promise<SubscriptionRow> {
    const key = row.provider_subscription_id ? 'provider_subscription_id' : 'provider_payment_intent_id';
    await trx
      .insertInto('payments.subscriptions')
      .values({ id: newId(), ...row })
      .onConflict((oc) => oc.column(key).doNothing())
      .execute();
    return (await trx
      .selectFrom('payments.subscriptions')
      .selectAll()
      .where(key, '=', (row as unknown as Record<string, string>)[key]!)
      .forUpdate()
      .executeTakeFirstOrThrow()) as SubscriptionRow;
  }

  async updateSubscription(trx: PaymentsDb, id: string, patch: Partial<SubscriptionRow>): Promise<SubscriptionRow> {
    const values: Record<string, unknown> = { ...patch, updated_at: new Date() };
    if (patch.entitled_circle_ids) values.entitled_circle_ids = sql`${patch.entitled_circle_ids}::uuid[]`;
    return (await trx.updateTable('payments.subscriptions').set(values).where('id', '=', id).returningAll().executeTakeFirstOrThrow()) as SubscriptionRow;
  }

  subscriptionsOfUser(userId: string): Promise<SubscriptionRow[]> {
    return this.db.selectFrom('payments.subscriptions').selectAll().where('user_id', '=', userId).orderBy('created_at', 'desc').limit(200).execute() as Promise<SubscriptionRow[]>;
  }

  subscriptionsOfCommunity(communityId: string, limit: number): Promise<SubscriptionRow[]> {
    return this.db.selectFrom('payments.subscriptions').selectAll().where('community_id', '=', communityId).orderBy('created_at', 'desc').limit(limit).execute() as Promise<SubscriptionRow[]>;
  }

  /** The person's live subscription or purchase of a tier (one that still gives, or may again give, access). */
  liveSubscription(userId: string, tierId: string): Promise<SubscriptionRow | undefined> {
    return this.db
      .selectFrom('payments.subscriptions')
      .selectAll()
      .where('user_id', '=', userId)
      .where('tier_id', '=', tierId)
      .where('status', 'in', ['trialing', 'active', 'past_due', 'paid'])
      .where('refunded_at', 'is', null)
      .orderBy('created_at', 'desc')
      .executeTakeFirst() as Promise<SubscriptionRow | undefined>;
  }

  liveSubscriptionsOf(userId: string, tierIds: string[]): Promise<SubscriptionRow[]> {
    if (!tierIds.length) return Promise.resolve([]);
    return this.db
      .selectFrom('payments.subscriptions')
      .selectAll()
      .where('user_id', '=', userId)
      .where('tier_id', 'in', tierIds)
      .where('status', 'in', ['trialing', 'active', 'past_due', 'paid'])
      .where('refunded_at', 'is', null)
      .execute() as Promise<SubscriptionRow[]>;
  }

  subscriptionsOfTier(trx: PaymentsDb, tierId: string): Promise<SubscriptionRow[]> {
    return trx.selectFrom('payments.subscriptions').selectAll().where('tier_id', '=', tierId).forUpdate().execute() as Promise<SubscriptionRow[]>;
  }

  /** Entitled subscriptions whose failed renewal has outlasted the grace period. */
  graceExpired(graceDays: number, now: Date): Promise<{ id: string }[]> {
    return this.db
      .selectFrom('payments.subscriptions')
      .select('id')
      .where('entitled', '=', true)
      .where('past_due_since', 'is not', null)
      .where(sql<boolean>`past_due_since < ${now}::timestamptz - make_interval(days => ${graceDays})`)
      .limit(500)
      .execute();
  }

  // ---- ledger and audit -----------------------------------------------------------------------------------

  /** Appends once per (kind, provider object); returns whether it was new. */
  async appendLedger(trx: PaymentsDb, row: Omit<LedgerRow, 'seq' | 'id' | 'recorded_at'>): Promise<boolean> {
    const inserted = await trx
      .insertInto('payments.ledger')
      .values({ id: newId(), ...row })
      .onConflict((oc) => oc.columns(['kind', 'provider_object_id']).doNothing())
      .returning('id')
      .execute();
    return inserted.length > 0;
  }

  async refundedSoFar(trx: PaymentsDb, chargeId: string): Promise<number> {
    const { rows } = await sql<{ total: string | null }>`
      select sum(-amount)::text as total from payments.ledger where kind = 'refund' and provider_object_id like ${chargeId + ':%'}`.execute(trx);
    return Number(rows[0]?.total ?? 0);
  }

  ledgerCharge(trx: PaymentsDb, chargeId: string): Promise<LedgerRow | undefined> {
    return trx.selectFrom('payments.ledger').selectAll().where('kind', '=', 'charge').where('provider_object_id', '=', chargeId).executeTakeFirst() as Promise<LedgerRow | undefined>;
  }

  latestCharge(subscriptionId: string): Promise<LedgerRow | undefined> {
    return this.db
      .selectFrom('payments.ledger')
      .selectAll()
      .where('kind', '=', 'charge')
      .where('subscription_id', '=', subscriptionId)
      .orderBy('occurred_at', 'desc')
      .orderBy('seq', 'desc')
      .executeTakeFirst() as Promise<LedgerRow | undefined>;
  }

  ledger(communityId: string, limit: number, before: number | null): Promise<LedgerRow[]> {
    let q = this.db.selectFrom('payments.ledger').selectAll().where('community_id', '=', communityId);
    if (before !== null) q = q.where('seq', '<', before);
    return q.orderBy('seq', 'desc').limit(limit).execute() as Promise<LedgerRow[]>;
  }

  /** The whole ledger in order, a page at a time (for the CSV export). */
  ledgerPage(communityId: string, afterSeq: number, limit: number): Promise<LedgerRow[]> {
    return this.db.selectFrom('payments.ledger').selectAll().where('community_id', '=', communityId).where('seq', '>', afterSeq).orderBy('seq').limit(limit).execute() as Promise<LedgerRow[]>;
  }

  ledgerForSubscription(subscriptionId: string): Promise<LedgerRow[]> {
    return this.db.selectFrom('payments.ledger').selectAll().where('subscription_id', '=', subscriptionId).orderBy('seq').execute() as Promise<LedgerRow[]>;
  }

  async audit(trx: PaymentsDb, row: { communityId: string; actorId: string | null; action: string; targetType: string; targetId: string; detail?: Record<string, unknown> }): Promise<void> {
    await trx
      .insertInto('payments.audit')
      .values({ community_id: row.communityId, actor_id: row.actorId, action: row.action, target_type: row.targetType, target_id: row.targetId, detail: JSON.stringify(row.detail ?? {}) })
      .execute();
  }

  // ---- disputes and accounts ------------------------------------------------------------------------------

  dispute(id: string): Promise<DisputeRow | undefined> {
    return this.db.selectFrom('payments.disputes').selectAll().where('id', '=', id).executeTakeFirst() as Promise<DisputeRow | undefined>;
  }

  disputeByProvider(trx: PaymentsDb, providerDisputeId: string): Promise<DisputeRow | undefined> {
    return trx.selectFrom('payments.disputes').selectAll().where('provider_dispute_id', '=', providerDisputeId).forUpdate().executeTakeFirst() as Promise<DisputeRow | undefined>;
  }

  async upsertDispute(trx: PaymentsDb, row: Omit<DisputeRow, 'id' | 'created_at' | 'updated_at' | 'evidence' | 'submitted_at'> & { evidence?: Record<string, string> }): Promise<DisputeRow> {
    const { evidence, ...rest } = row;
    return (await trx
      .insertInto('payments.disputes')
      .values({ id: newId(), ...rest, evidence: evidence ? JSON.stringify(evidence) : null })
      .onConflict((oc) => oc.column('provider_dispute_id').doUpdateSet({ status: rest.status, evidence_due_by: rest.evidence_due_by, updated_at: new Date() }))
      .returningAll()
      .executeTakeFirstOrThrow()) as DisputeRow;
  }

  async saveEvidence(id: string, evidence: Record<string, string>, submitted: boolean): Promise<DisputeRow> {
    return (await this.db
      .updateTable('payments.disputes')
      .set({ evidence: JSON.stringify(evidence), updated_at: new Date(), ...(submitted ? { submitted_at: new Date() } : {}) })
      .where('id', '=', id)
      .returningAll()
      .executeTakeFirstOrThrow()) as DisputeRow;
  }

  disputesOf(communityId: string): Promise<DisputeRow[]> {
    return this.db.selectFrom('payments.disputes').selectAll().where('community_id', '=', communityId).orderBy('created_at', 'desc').limit(200).execute() as Promise<DisputeRow[]>;
  }

  account(communityId: string): Promise<AccountRow | undefined> {
    return this.db.selectFrom('payments.accounts').selectAll().where('community_id', '=', communityId).executeTakeFirst() as Promise<AccountRow | undefined>;
  }

  accountByProvider(trx: PaymentsDb, providerAccountId: string): Promise<AccountRow | undefined> {
    return trx.selectFrom('payments.accounts').selectAll().where('provider_account_id', '=', providerAccountId).executeTakeFirst() as Promise<AccountRow | undefined>;
  }

  async insertAccount(row: Pick<AccountRow, 'community_id' | 'provider' | 'provider_account_id' | 'created_by'>): Promise<void> {
    await this.db.insertInto('payments.accounts').values(row).onConflict((oc) => oc.column('community_id').doNothing()).execute();
  }

  async updateAccount(trx: PaymentsDb, providerAccountId: string, patch: Partial<AccountRow>): Promise<void> {
    await trx
      .updateTable('payments.accounts')
      .set({ ...patch, ...(patch.requirements_due ? { requirements_due: sql`${patch.requirements_due}::text[]` } : {}), updated_at: new Date() })
      .where('provider_account_id', '=', providerAccountId)
      .execute();
  }

  // ---- provider events (the webhook inbox, worked off like an outbox) --------------------------------------

  async receiveEvent(row: { id: string; provider: string; type: string; created: number; account: string | null; payload: unknown }): Promise<boolean> {
    const r = await this.db
      .insertInto('payments.provider_events')
      .values({ ...row, payload: JSON.stringify(row.payload) })
      .onConflict((oc) => oc.column('id').doNothing())
      .returning('id')
      .execute();
    return r.length > 0;
  }

  nextPendingEvents(limit: number): Promise<{ id: string; type: string; created: number; account: string | null; payload: Record<string, unknown>; attempts: number }[]> {
    return this.db
      .selectFrom('payments.provider_events')
      .select(['id', 'type', 'created', 'account', 'payload', 'attempts'])
      .where('applied_at', 'is', null)
      // The database's clock, like the default it is compared with (a JS date, ms-truncated, could miss a fresh row).
      .where('next_attempt_at', '<=', sql<Date>`now()`)
      .orderBy('created')
      .orderBy('received_at')
      .limit(limit)
      .execute() as Promise<never>;
  }

  /** Locks the event for applying; false when another worker applied it meanwhile. */
  async lockPendingEvent(trx: PaymentsDb, id: string): Promise<boolean> {
    const row = await trx.selectFrom('payments.provider_events').select('applied_at').where('id', '=', id).forUpdate().executeTakeFirst();
    return !!row && row.applied_at === null;
  }

  async markApplied(trx: PaymentsDb, id: string): Promise<void> {
    await trx.updateTable('payments.provider_events').set({ applied_at: new Date(), last_error: null }).where('id', '=', id).execute();
  }

  async markFailed(id: string, attempts: number, error: string): Promise<void> {
    const delayS = Math.min(3600, 2 ** Math.min(attempts, 12));
    await this.db
      .updateTable('payments.provider_events')
      .set({ attempts, last_error: error.slice(0, 1000), next_attempt_at: sql`now() + make_interval(secs => ${delayS})` })
      .where('id', '=', id)
      .execute();
  }

  async pendingEventCount(): Promise<number> {
    const r = await this.db.selectFrom('payments.provider_events').select((eb) => eb.fn.countAll<string>().as('n')).where('applied_at', 'is', null).executeTakeFirstOrThrow();
    return Number(r.n);
  }

  // ---- revenue --------------------------------------------------------------------------------------------

  async revenue(communityId: string) {
    const [mrr, counts, money, disputes] = await Promise.all([
      sql<{ currency: string; amount: string }>`
        select p.currency, round(sum(case p.interval when 'year' then p.amount / 12.0 else p.amount end))::text as amount
        from payments.subscriptions s join payments.prices p on p.id = s.price_id
        where s.community_id = ${communityId}::uuid and s.kind = 'subscription' and s.entitled and s.status = any(array['active', 'past_due'])
        group by p.currency order by p.currency`.execute(this.db),
      sql<{ active: string; new30: string; churned30: string }>`
        select count(distinct user_id) filter (where entitled)::text as active,
               count(*) filter (where created_at > now() - interval '30 days' and status <> 'incomplete')::text as new30,
               count(*) filter (where ended_at > now() - interval '30 days' or (refunded_at > now() - interval '30 days'))::text as churned30
        from payments.subscriptions where community_id = ${communityId}::uuid`.execute(this.db),
      sql<{ kind: string; currency: string; amount: string }>`
        select kind, currency, sum(amount)::text as amount from payments.ledger
        where community_id = ${communityId}::uuid and occurred_at > now() - interval '30 days'
        group by kind, currency`.execute(this.db),
      sql<{ open: string; recent: string }>`
        select count(*) filter (where status in ('needs_response', 'under_review', 'warning_needs_response', 'warning_under_review'))::text as open,
               count(*) filter (where created_at > now() - interval '30 days')::text as recent
        from payments.disputes where community_id = ${communityId}::uuid`.execute(this.db),
    ]);
    return { mrr: mrr.rows, counts: counts.rows[0]!, money: money.rows, disputes: disputes.rows[0]! };
  }
}

import { type Database, migrateSchema } from '@circles/platform';
import { freshPglite } from '@circles/testing';
import { sql } from 'kysely';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { testProviderMigrations } from '../migrations/test-provider.ts';
import { type ProviderEvent, ProviderError, WebhookSignatureError } from '../src/provider.ts';
import { signTestEvent, stripeEventBody, TEST_DISPUTE_FEE, TestPaymentsProvider } from '../src/providers/test-provider.ts';

const DAY = 86_400;
const T0 = Date.UTC(2025, 0, 15, 12, 0, 0) / 1000; // Wednesday 15 January 2025, 12:00 UTC
const FEB_15 = Date.UTC(2025, 1, 15, 12, 0, 0) / 1000;
const MAR_15 = Date.UTC(2025, 2, 15, 12, 0, 0) / 1000;
const GOOD = '4242 4242 4242 4242';
const FAILS_LATER = '4000000000000341';
const DECLINED = '4000000000000002';
const SECRET = 'whsec_test_secret';

interface World {
  database: Database;
  p: TestPaymentsProvider;
  events: ProviderEvent[];
  wall: { ms: number };
  accountId: string;
  productId: string;
  monthly: string;
  premium: string;
  yearly: string;
  oneTime: string;
  customerId: string;
}

let w: World;
let keys = 0;
const key = (label: string): string => `${label}-${++keys}`;

let database: Database;

/** One database for the file (creating one costs seconds); every test starts from empty test_* tables. */
async function makeWorld(): Promise<World> {
  await sql`truncate payments.test_objects, payments.test_balance_transactions, payments.test_idempotency, payments.test_events`.execute(database.db);
  await sql`update payments.test_clock set offset_seconds = 0, payouts_through = null`.execute(database.db);
  const events: ProviderEvent[] = [];
  const wall = { ms: T0 * 1000 };
  const p = new TestPaymentsProvider({
    db: database.db,
    publicUrl: 'http://circles.test/',
    webhookSecret: SECRET,
    emit: async (e) => {
      events.push(e);
    },
    now: () => wall.ms,
  });
  const { id: accountId } = await p.createConnectedAccount({ idempotencyKey: key('acct'), email: 'olga@example.com', country: 'DE', metadata: { owner: 'olga' } });
  await p.completeOnboarding(accountId);
  const { id: productId } = await p.createProduct({ idempotencyKey: key('prod'), name: 'Sourdough Circle', description: 'Bread people', metadata: { circle: 'c1' } });
  const price = (unitAmount: number, interval: 'month' | 'year' | null) =>
    p.createPrice({ idempotencyKey: key('price'), productId, unitAmount, currency: 'eur', interval, metadata: {} }).then((r) => r.id);
  const monthly = await price(1000, 'month');
  const premium = await price(3000, 'month');
  const yearly = await price(10000, 'year');
  const oneTime = await price(2500, null);
  const { id: customerId } = await p.createCustomer({ idempotencyKey: key('cus'), email: 'mike@example.com', name: 'Mike', metadata: { user: 'u1' } });
  events.length = 0;
  return { database, p, events, wall, accountId, productId, monthly, premium, yearly, oneTime, customerId };
}

function subscriptionCheckout(over: Partial<Parameters<TestPaymentsProvider['createCheckoutSession']>[0]> = {}) {
  return w.p.createCheckoutSession({
    idempotencyKey: key('cs'),
    mode: 'subscription',
    customerId: w.customerId,
    priceId: w.monthly,
    trialDays: null,
    allowPromotionCodes: true,
    promotionCodeId: null,
    successUrl: 'http://circles.test/c/sourdough/joined?session={CHECKOUT_SESSION_ID}',
    cancelUrl: 'http://circles.test/c/sourdough',
    destinationAccountId: w.accountId,
    applicationFeePercent: 10,
    applicationFeeAmount: null,
    requireTerms: true,
    metadata: { circle: 'c1', user: 'u1' },
    ...over,
  });
}

/** A paid monthly subscription (1000 eur, 10% fee), events cleared. */
async function subscribe(card = GOOD, over: Parameters<typeof subscriptionCheckout>[0] = {}) {
  const session = await subscriptionCheckout(over);
  await w.p.completeCheckout(session.id, { cardNumber: card, acceptTerms: true });
  const done = await w.p.retrieveCheckoutSession(session.id);
  const sub = await w.p.retrieveSubscription(done.subscriptionId!);
  const invoice = sub.latestInvoiceId ? await w.p.retrieveInvoice(sub.latestInvoiceId) : null;
  w.events.length = 0;
  return { session: done, sub, invoice };
}

const types = (events: ProviderEvent[] = w.events) => events.map((e) => e.type);
const ofType = (type: string) => w.events.filter((e) => e.type === type);

async function balance() {
  const b = await w.p.retrieveBalance(w.accountId);
  return { available: b.available.find((m) => m.currency === 'eur')?.amount ?? 0, pending: b.pending.find((m) => m.currency === 'eur')?.amount ?? 0 };
}

beforeAll(async () => {
  database = await freshPglite();
  await migrateSchema(database.db, 'payments', testProviderMigrations);
});

afterAll(async () => {
  await database?.close();
});

beforeEach(async () => {
  w = await makeWorld();
});

describe('checkout', () => {
  it('creates the session with a local checkout url and describes it for the checkout page', async () => {
    const session = await subscriptionCheckout({ trialDays: 7 });
    expect(session).toMatchObject({ status: 'open', mode: 'subscription', customerId: w.customerId, paymentStatus: 'unpaid', amountTotal: 0, currency: 'eur' });
    expect(session.id).toMatch(/^cs_test_[A-Za-z0-9]{24}$/);
    expect(session.url).toBe(`http://circles.test/billing/test-checkout/${session.id}`);
    expect(await w.p.describeCheckout(session.id)).toEqual({
      id: session.id,
      status: 'open',
      mode: 'subscription',
      productName: 'Sourdough Circle',
      productDescription: 'Bread people',
      unitAmount: 1000,
      currency: 'eur',
      interval: 'month',
      trialDays: 7,
      allowPromotionCodes: true,
      promotionCode: null,
      requireTerms: true,
      successUrl: 'http://circles.test/c/sourdough/joined?session={CHECKOUT_SESSION_ID}',
      cancelUrl: 'http://circles.test/c/sourdough',
      customerId: w.customerId,
      metadata: { circle: 'c1', user: 'u1' },
      amountTotal: 0,
      expiresAt: T0 + DAY,
    });
    expect(await w.p.describeCheckout('cs_test_nope')).toBeNull();
  });

  it('completes a subscription checkout: active subscription, paid invoice, charge with the fee, events in order', async () => {
    const session = await subscriptionCheckout();
    const { redirectUrl } = await w.p.completeCheckout(session.id, { cardNumber: GOOD, acceptTerms: true, taxId: { type: 'eu_vat', value: 'de 123456789' } });
    expect(redirectUrl).toBe(`http://circles.test/c/sourdough/joined?session=${session.id}`);

    expect(types()).toEqual(['customer.subscription.created', 'charge.succeeded', 'invoice.paid', 'checkout.session.completed']);
    for (const e of w.events) expect(e).toMatchObject({ id: expect.stringMatching(/^evt_/), created: T0, account: null, livemode: false });

    const done = await w.p.retrieveCheckoutSession(session.id);
    expect(done).toMatchObject({
      status: 'complete',
      paymentStatus: 'paid',
      termsAccepted: true,
      customerTaxIds: [{ type: 'eu_vat', value: 'DE123456789' }],
      amountTotal: 1000,
      url: null,
    });
    const sub = await w.p.retrieveSubscription(done.subscriptionId!);
    expect(sub).toMatchObject({
      customerId: w.customerId,
      status: 'active',
      priceId: w.monthly,
      currentPeriodStart: T0,
      currentPeriodEnd: FEB_15,
      cancelAtPeriodEnd: false,
      trialEnd: null,
      metadata: { circle: 'c1', user: 'u1' },
    });
    expect(sub.itemId).toMatch(/^si_/);
    const invoice = await w.p.retrieveInvoice(sub.latestInvoiceId!);
    expect(invoice).toMatchObject({ subscriptionId: sub.id, amountPaid: 1000, amountDue: 1000, status: 'paid', billingReason: 'subscription_create', currency: 'eur' });
    const charge = await w.p.retrieveCharge(invoice.chargeId!);
    expect(charge).toMatchObject({ amount: 1000, applicationFeeAmount: 100, status: 'succeeded', invoiceId: invoice.id, paymentIntentId: invoice.paymentIntentId, refunded: false, disputed: false });
    expect(await balance()).toEqual({ available: 0, pending: 900 });

    // Stripe-shaped JSON in the events.
    const [created, charged, paid, completed] = w.events;
    expect(created!.object).toMatchObject({
      id: sub.id,
      object: 'subscription',
      customer: w.customerId,
      status: 'active',
      items: { data: [{ id: sub.itemId, price: { id: w.monthly }, current_period_start: T0, current_period_end: FEB_15 }] },
      current_period_start: T0,
      current_period_end: FEB_15,
      cancel_at_period_end: false,
      canceled_at: null,
      ended_at: null,
      trial_end: null,
      latest_invoice: invoice.id,
      metadata: { circle: 'c1', user: 'u1' },
    });
    expect(charged!.object).toMatchObject({ id: charge.id, object: 'charge', amount: 1000, amount_refunded: 0, currency: 'eur', customer: w.customerId, invoice: invoice.id, application_fee_amount: 100, status: 'succeeded' });
    expect(paid!.object).toMatchObject({ id: invoice.id, object: 'invoice', subscription: sub.id, charge: charge.id, amount_paid: 1000, status: 'paid', billing_reason: 'subscription_create' });
    expect(completed!.object).toMatchObject({
      id: session.id,
      object: 'checkout.session',
      mode: 'subscription',
      status: 'complete',
      customer: w.customerId,
      subscription: sub.id,
      payment_status: 'paid',
      consent: { terms_of_service: 'accepted' },
      customer_details: { tax_ids: [{ type: 'eu_vat', value: 'DE123456789' }] },
      amount_total: 1000,
      currency: 'eur',
    });
  });

  it('completes a one-time payment: payment intent, charge with the fixed fee, invoice, events', async () => {
    const session = await subscriptionCheckout({ mode: 'payment', priceId: w.oneTime, applicationFeePercent: null, applicationFeeAmount: 200, requireTerms: false });
    await w.p.completeCheckout(session.id, { cardNumber: GOOD, acceptTerms: false });
    expect(types()).toEqual(['charge.succeeded', 'invoice.paid', 'checkout.session.completed']);
    const done = await w.p.retrieveCheckoutSession(session.id);
    expect(done).toMatchObject({ status: 'complete', paymentStatus: 'paid', subscriptionId: null, termsAccepted: false, amountTotal: 2500 });
    expect(done.paymentIntentId).toMatch(/^pi_/);
    expect((await w.p.findCheckoutSessionByPaymentIntent(done.paymentIntentId!))?.id).toBe(session.id);
    expect(await w.p.findCheckoutSessionByPaymentIntent('pi_unknown')).toBeNull();
    const charge = w.events[0]!.object as { id: string };
    expect(await w.p.retrieveCharge(charge.id)).toMatchObject({ amount: 2500, applicationFeeAmount: 200, paymentIntentId: done.paymentIntentId, metadata: { circle: 'c1', user: 'u1' } });
    expect(w.events[1]!.object).toMatchObject({ object: 'invoice', billing_reason: 'manual', amount_paid: 2500, payment_intent: done.paymentIntentId, subscription: null });
    expect(await balance()).toEqual({ available: 0, pending: 2300 });
  });

  it('refuses declined and mistyped cards, missing terms, and expired sessions', async () => {
    const session = await subscriptionCheckout();
    await expect(w.p.completeCheckout(session.id, { cardNumber: DECLINED, acceptTerms: true })).rejects.toMatchObject({
      name: 'ProviderError',
      message: 'Your card was declined.',
      status: 402,
      code: 'card_declined',
    });
    await expect(w.p.completeCheckout(session.id, { cardNumber: '4242424242424241', acceptTerms: true })).rejects.toMatchObject({
      message: 'Your card number is incorrect.',
      code: 'incorrect_number',
    });
    await expect(w.p.completeCheckout(session.id, { cardNumber: '12ab', acceptTerms: true })).rejects.toMatchObject({ code: 'incorrect_number' });
    // A Luhn-valid number that is not one of Stripe's test cards: refused, so a real card is never taken.
    await expect(w.p.completeCheckout(session.id, { cardNumber: '4111111111111111', acceptTerms: true })).rejects.toMatchObject({ status: 402, code: 'card_declined' });
    await expect(w.p.completeCheckout(session.id, { cardNumber: GOOD, acceptTerms: false })).rejects.toMatchObject({ status: 400, code: 'terms_not_accepted' });
    expect(w.events).toEqual([]);
    expect((await w.p.retrieveCheckoutSession(session.id)).status).toBe('open');
    // Still open: a good card goes through.
    await w.p.completeCheckout(session.id, { cardNumber: GOOD, acceptTerms: true });
    expect((await w.p.retrieveCheckoutSession(session.id)).status).toBe('complete');
    await expect(w.p.completeCheckout(session.id, { cardNumber: GOOD, acceptTerms: true })).rejects.toMatchObject({ code: 'checkout_session_complete' });

    // Expiry after 24 h: refused, and checkout.session.expired when the clock passes it.
    const late = await subscriptionCheckout();
    w.events.length = 0;
    w.wall.ms += (DAY + 60) * 1000;
    await expect(w.p.completeCheckout(late.id, { cardNumber: GOOD, acceptTerms: true })).rejects.toMatchObject({ code: 'checkout_session_expired' });
    expect((await w.p.describeCheckout(late.id))?.status).toBe('expired');
    await w.p.runDueTransitions();
    expect(ofType('checkout.session.expired').map((e) => (e.object as { id: string }).id)).toEqual([late.id]);
    expect(ofType('checkout.session.expired')[0]!.created).toBe(T0 + DAY);
    expect((await w.p.retrieveCheckoutSession(late.id)).status).toBe('expired');
  });

  it('validates the session against Stripe rules: inactive price, wrong mode, destination not onboarded', async () => {
    await expect(subscriptionCheckout({ priceId: w.oneTime })).rejects.toMatchObject({ status: 400 });
    await expect(subscriptionCheckout({ mode: 'payment' })).rejects.toMatchObject({ status: 400 });
    await expect(subscriptionCheckout({ priceId: 'price_nope' })).rejects.toMatchObject({ status: 404, code: 'resource_missing', message: 'No such price: price_nope' });
    const { id: fresh } = await w.p.createConnectedAccount({ idempotencyKey: key('acct'), email: null, country: null, metadata: {} });
    await expect(subscriptionCheckout({ destinationAccountId: fresh })).rejects.toMatchObject({ code: 'insufficient_capabilities_for_transfer' });
    await w.p.archivePrice(w.monthly);
    await expect(subscriptionCheckout()).rejects.toMatchObject({ code: 'price_inactive' });
  });

  it('concurrent completes of one session make one subscription', async () => {
    const session = await subscriptionCheckout();
    const results = await Promise.allSettled([
      w.p.completeCheckout(session.id, { cardNumber: GOOD, acceptTerms: true }),
      w.p.completeCheckout(session.id, { cardNumber: GOOD, acceptTerms: true }),
      w.p.completeCheckout(session.id, { cardNumber: GOOD, acceptTerms: true }),
    ]);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    for (const r of results.filter((r): r is PromiseRejectedResult => r.status === 'rejected')) {
      expect(r.reason).toBeInstanceOf(ProviderError);
      expect(r.reason.code).toBe('checkout_session_complete');
    }
    const count = await sql<{ n: number }>`select count(*)::int as n from payments.test_objects where type = 'subscription'`.execute(w.database.db);
    expect(count.rows[0]!.n).toBe(1);
    expect(ofType('customer.subscription.created')).toHaveLength(1);
    expect(ofType('charge.succeeded')).toHaveLength(1);
  });
});

describe('subscription lifecycle on the test clock', () => {
  it('a trial: trialing with no charge, then charged when the clock passes the trial end', async () => {
    const session = await subscriptionCheckout({ trialDays: 14 });
    await w.p.completeCheckout(session.id, { cardNumber: GOOD, acceptTerms: true });
    expect(types()).toEqual(['customer.subscription.created', 'checkout.session.completed']);
    const done = await w.p.retrieveCheckoutSession(session.id);
    expect(done).toMatchObject({ paymentStatus: 'no_payment_required', amountTotal: 0 });
    const trialEnd = T0 + 14 * DAY;
    expect(await w.p.retrieveSubscription(done.subscriptionId!)).toMatchObject({ status: 'trialing', trialEnd, currentPeriodEnd: trialEnd, latestInvoiceId: null });
    w.events.length = 0;

    expect(await w.p.advanceClock(13 * DAY)).toEqual({ now: T0 + 13 * DAY, events: 0 });
    const { now, events } = await w.p.advanceClock(DAY);
    expect(now).toBe(trialEnd);
    expect(events).toBe(3);
    expect(types()).toEqual(['charge.succeeded', 'invoice.paid', 'customer.subscription.updated']);
    for (const e of w.events) expect(e.created).toBe(trialEnd);
    const sub = await w.p.retrieveSubscription(done.subscriptionId!);
    const periodEnd = Date.UTC(2025, 1, 28, 12) / 1000; // 29 Jan + 1 month → 28 Feb (day clamped)
    expect(sub).toMatchObject({ status: 'active', trialEnd, currentPeriodStart: trialEnd, currentPeriodEnd: periodEnd });
    expect(await w.p.retrieveInvoice(sub.latestInvoiceId!)).toMatchObject({ amountPaid: 1000, billingReason: 'subscription_cycle', status: 'paid' });
  });

  it('a trial with a failing card goes past_due at the trial end', async () => {
    const session = await subscriptionCheckout({ trialDays: 7 });
    await w.p.completeCheckout(session.id, { cardNumber: FAILS_LATER, acceptTerms: true });
    w.events.length = 0;
    await w.p.advanceClock(7 * DAY);
    expect(types()).toEqual(['charge.failed', 'invoice.payment_failed', 'customer.subscription.updated']);
    const sub = await w.p.retrieveSubscription((await w.p.retrieveCheckoutSession(session.id)).subscriptionId!);
    expect(sub.status).toBe('past_due');
  });

  it('renews at the period end, with the payout of the earlier charge first (time order)', async () => {
    const { sub } = await subscribe();
    const { events } = await w.p.advanceClock(31 * DAY);
    expect(events).toBe(4);
    // The first charge's 900 became available on 17 Jan 12:00 and was paid out at the next midnight.
    expect(types()).toEqual(['payout.paid', 'charge.succeeded', 'invoice.paid', 'customer.subscription.updated']);
    const created = w.events.map((e) => e.created);
    expect(created).toEqual([...created].sort((a, b) => a - b));
    expect(w.events[0]).toMatchObject({ account: w.accountId, created: Date.UTC(2025, 0, 18) / 1000, object: { object: 'payout', amount: 900, currency: 'eur', status: 'paid' } });
    expect(w.events[1]).toMatchObject({ created: FEB_15, object: { amount: 1000, application_fee_amount: 100 } });
    expect(w.events[3]!.object).toMatchObject({ status: 'active', current_period_start: FEB_15, current_period_end: MAR_15 });
    const renewed = await w.p.retrieveSubscription(sub.id);
    expect(renewed).toMatchObject({ status: 'active', currentPeriodStart: FEB_15, currentPeriodEnd: MAR_15 });
    expect(renewed.latestInvoiceId).not.toBe(sub.latestInvoiceId);
    expect(await w.p.retrieveInvoice(renewed.latestInvoiceId!)).toMatchObject({ billingReason: 'subscription_cycle', amountPaid: 1000, status: 'paid' });
    expect(await balance()).toEqual({ available: 0, pending: 900 });
  });

  it('a failing card: renewal fails → past_due, retries at +3 d and +6 d, then unpaid; a new card reactivates it', async () => {
    const { sub } = await subscribe(FAILS_LATER); // attaches and pays at checkout; later charges fail
    await w.p.advanceClock(31 * DAY);
    expect(types().filter((t) => t !== 'payout.paid')).toEqual(['charge.failed', 'invoice.payment_failed', 'customer.subscription.updated']);
    expect(ofType('customer.subscription.updated')[0]!.object).toMatchObject({ status: 'past_due', current_period_end: MAR_15 });
    expect((await w.p.retrieveSubscription(sub.id)).status).toBe('past_due');
    const invoiceId = (await w.p.retrieveSubscription(sub.id)).latestInvoiceId!;
    expect(await w.p.retrieveInvoice(invoiceId)).toMatchObject({ status: 'open', amountPaid: 0, amountDue: 1000 });

    w.events.length = 0;
    await w.p.advanceClock(3 * DAY - 1);
    expect(types()).toEqual([]);
    await w.p.advanceClock(1);
    expect(types()).toEqual(['charge.failed', 'invoice.payment_failed']);
    expect(w.events[0]!.created).toBe(FEB_15 + 3 * DAY);
    expect((await w.p.retrieveSubscription(sub.id)).status).toBe('past_due');

    w.events.length = 0;
    await w.p.advanceClock(3 * DAY);
    expect(types()).toEqual(['charge.failed', 'invoice.payment_failed', 'customer.subscription.updated']);
    expect(ofType('customer.subscription.updated')[0]!.object).toMatchObject({ status: 'unpaid' });
    expect((await w.p.retrieveSubscription(sub.id)).status).toBe('unpaid');

    // No further attempts while unpaid.
    w.events.length = 0;
    await w.p.advanceClock(10 * DAY);
    expect(types().filter((t) => t !== 'payout.paid')).toEqual([]);

    // The customer fixes the card in the portal: the open invoice is paid at once, the subscription is active.
    const { url } = await w.p.createPortalSession({ customerId: w.customerId, returnUrl: 'http://circles.test/settings/billing' });
    const portalId = url.split('/').pop()!;
    await expect(w.p.portalUpdateCard(portalId, DECLINED)).rejects.toMatchObject({ code: 'card_declined' });
    expect(await w.p.portalUpdateCard(portalId, '5555555555554444')).toEqual({ brand: 'mastercard', last4: '4444' });
    expect(types()).toEqual(['charge.succeeded', 'invoice.paid', 'customer.subscription.updated']);
    expect((await w.p.retrieveSubscription(sub.id)).status).toBe('active');
    expect(await w.p.retrieveInvoice(invoiceId)).toMatchObject({ status: 'paid', amountPaid: 1000 });
  });

  it('a failing card set in the portal makes the next renewal fail', async () => {
    const { sub } = await subscribe();
    const { url } = await w.p.createPortalSession({ customerId: w.customerId, returnUrl: 'http://circles.test/back' });
    await w.p.portalUpdateCard(url.split('/').pop()!, FAILS_LATER);
    expect(w.events).toEqual([]);
    await w.p.advanceClock(31 * DAY);
    expect(ofType('invoice.payment_failed')).toHaveLength(1);
    expect((await w.p.retrieveSubscription(sub.id)).status).toBe('past_due');
  });

  it('cancel at period end: updated now, deleted only when the period ends, no renewal charge', async () => {
    const { sub } = await subscribe();
    const updated = await w.p.setCancelAtPeriodEnd(sub.id, true);
    expect(updated).toMatchObject({ cancelAtPeriodEnd: true, status: 'active', canceledAt: T0, endedAt: null });
    expect(types()).toEqual(['customer.subscription.updated']);
    expect(w.events[0]!.object).toMatchObject({ cancel_at_period_end: true });
    // Setting it again changes nothing and emits nothing.
    await w.p.setCancelAtPeriodEnd(sub.id, true);
    expect(types()).toEqual(['customer.subscription.updated']);

    w.events.length = 0;
    await w.p.advanceClock(31 * DAY - 1);
    expect(types().filter((t) => t !== 'payout.paid')).toEqual([]);
    expect((await w.p.retrieveSubscription(sub.id)).status).toBe('active');
    await w.p.advanceClock(1);
    expect(types().filter((t) => t !== 'payout.paid')).toEqual(['customer.subscription.deleted']);
    expect(ofType('customer.subscription.deleted')[0]).toMatchObject({ created: FEB_15, object: { status: 'canceled', ended_at: FEB_15 } });
    expect(await w.p.retrieveSubscription(sub.id)).toMatchObject({ status: 'canceled', endedAt: FEB_15 });
    expect(ofType('charge.succeeded')).toEqual([]);
    await w.p.advanceClock(60 * DAY);
    expect(ofType('charge.succeeded')).toEqual([]);
    await expect(w.p.setCancelAtPeriodEnd(sub.id, false)).rejects.toMatchObject({ status: 400 });
  });

  it('undoing cancel at period end keeps it renewing; cancel now ends it at once', async () => {
    const { sub } = await subscribe();
    await w.p.setCancelAtPeriodEnd(sub.id, true);
    await w.p.setCancelAtPeriodEnd(sub.id, false);
    expect(types()).toEqual(['customer.subscription.updated', 'customer.subscription.updated']);
    await w.p.advanceClock(31 * DAY);
    expect(ofType('charge.succeeded')).toHaveLength(1);
    w.events.length = 0;
    const canceled = await w.p.cancelSubscriptionNow(sub.id);
    expect(canceled).toMatchObject({ status: 'canceled', endedAt: FEB_15, canceledAt: FEB_15 });
    expect(types()).toEqual(['customer.subscription.deleted']);
    // Again: no error, no second event.
    await w.p.cancelSubscriptionNow(sub.id);
    expect(types()).toEqual(['customer.subscription.deleted']);
  });

  it('changes the price mid-period with proration: upgrade charged now, downgrade credited to the next invoice', async () => {
    const { sub } = await subscribe();
    await w.p.advanceClock(31 * DAY / 2); // half the period (31 days) left
    w.events.length = 0;
    const up = await w.p.changeSubscriptionPrice({ idempotencyKey: key('chg'), subscriptionId: sub.id, itemId: sub.itemId, priceId: w.premium });
    expect(up).toMatchObject({ priceId: w.premium, itemId: sub.itemId, status: 'active', currentPeriodStart: T0, currentPeriodEnd: FEB_15 });
    expect(types()).toEqual(['charge.succeeded', 'invoice.paid', 'customer.subscription.updated']);
    const invoice = await w.p.retrieveInvoice(up.latestInvoiceId!);
    // −500 unused of 1000, +1500 remaining of 3000.
    expect(invoice).toMatchObject({ billingReason: 'subscription_update', amountDue: 1000, amountPaid: 1000, status: 'paid' });
    expect(await w.p.retrieveCharge(invoice.chargeId!)).toMatchObject({ amount: 1000, applicationFeeAmount: 100 });
    expect(w.events[2]!.object).toMatchObject({ items: { data: [{ price: { id: w.premium } }] } });

    w.events.length = 0;
    const down = await w.p.changeSubscriptionPrice({ idempotencyKey: key('chg'), subscriptionId: sub.id, itemId: sub.itemId, priceId: w.monthly });
    expect(types()).toEqual(['customer.subscription.updated']); // −1500 + 500: credit, nothing charged
    expect(down.latestInvoiceId).toBe(invoice.id);

    w.events.length = 0;
    await w.p.advanceClock(31 * DAY / 2);
    // The renewal invoice (1000) is paid by the 1000 credit: no charge.
    expect(types().filter((t) => t !== 'payout.paid')).toEqual(['invoice.paid', 'customer.subscription.updated']);
    const renewal = await w.p.retrieveInvoice((await w.p.retrieveSubscription(sub.id)).latestInvoiceId!);
    expect(renewal).toMatchObject({ billingReason: 'subscription_cycle', amountDue: 0, amountPaid: 0, status: 'paid', chargeId: null });
    expect(ofType('invoice.paid')[0]!.object).toMatchObject({ subtotal: 1000, total: 1000, starting_balance: -1000, ending_balance: 0 });

    await expect(w.p.changeSubscriptionPrice({ idempotencyKey: key('chg'), subscriptionId: sub.id, itemId: 'si_wrong', priceId: w.premium })).rejects.toMatchObject({
      status: 404,
    });
  });

  it('changing to a yearly price starts a new yearly period, charged less the unused month', async () => {
    const { sub } = await subscribe();
    await w.p.advanceClock(31 * DAY / 2);
    w.events.length = 0;
    const now = T0 + (31 * DAY) / 2;
    const changed = await w.p.changeSubscriptionPrice({ idempotencyKey: key('chg'), subscriptionId: sub.id, itemId: sub.itemId, priceId: w.yearly });
    expect(changed).toMatchObject({ currentPeriodStart: now, currentPeriodEnd: Date.UTC(2026, 0, 31) / 1000 });
    expect(await w.p.retrieveInvoice(changed.latestInvoiceId!)).toMatchObject({ amountPaid: 10000 - 500, billingReason: 'subscription_update' });
  });
});

describe('promotion codes', () => {
  async function code(over: Partial<Parameters<TestPaymentsProvider['createPromotionCode']>[0]>) {
    return w.p.createPromotionCode({
      idempotencyKey: key('promo'),
      code: 'SPRING',
      percentOff: null,
      amountOff: null,
      currency: null,
      duration: 'once',
      durationInMonths: null,
      maxRedemptions: null,
      expiresAt: null,
      productIds: [],
      metadata: {},
      ...over,
    });
  }

  async function redeem(typed: string | null, over: Parameters<typeof subscriptionCheckout>[0] = {}) {
    const session = await subscriptionCheckout(over);
    await w.p.completeCheckout(session.id, { cardNumber: GOOD, acceptTerms: true, promotionCode: typed });
    const done = await w.p.retrieveCheckoutSession(session.id);
    return { session: done, sub: done.subscriptionId ? await w.p.retrieveSubscription(done.subscriptionId) : null };
  }

  const paidAmounts = () => ofType('invoice.paid').map((e) => (e.object as { amount_paid: number }).amount_paid);

  it('percent off forever applies to every invoice; codes are case-insensitive', async () => {
    const promo = await code({ code: 'HALF', percentOff: 50, duration: 'forever' });
    expect(promo.id).toMatch(/^promo_/);
    expect(promo.couponId).toMatch(/^[A-Z0-9]{8}$/);
    const { session } = await redeem('half');
    expect(session.amountTotal).toBe(500);
    await w.p.advanceClock(31 * DAY);
    expect(paidAmounts()).toEqual([500, 500]);
    expect((await w.p.describeCheckout(session.id))?.promotionCode).toBe('HALF');
  });

  it('amount off once applies to the first invoice only', async () => {
    await code({ code: 'WELCOME3', amountOff: 300, currency: 'eur', duration: 'once' });
    await redeem('WELCOME3');
    await w.p.advanceClock(31 * DAY);
    await w.p.advanceClock(28 * DAY);
    expect(paidAmounts()).toEqual([700, 1000, 1000]);
  });

  it('repeating for 2 months covers the invoices in those months', async () => {
    await code({ code: 'TWOMONTHS', percentOff: 20, duration: 'repeating', durationInMonths: 2 });
    await redeem('TWOMONTHS');
    await w.p.advanceClock(31 * DAY); // 15 Feb
    await w.p.advanceClock(28 * DAY); // 15 Mar: the discount ended
    expect(paidAmounts()).toEqual([800, 800, 1000]);
  });

  it('a code applied up front by the session, shown on the checkout page', async () => {
    const promo = await code({ code: 'FRIENDS', percentOff: 10, duration: 'forever' });
    const session = await subscriptionCheckout({ allowPromotionCodes: false, promotionCodeId: promo.id });
    expect(session.amountTotal).toBe(900);
    expect((await w.p.describeCheckout(session.id))?.promotionCode).toBe('FRIENDS');
    await expect(w.p.completeCheckout(session.id, { cardNumber: GOOD, acceptTerms: true, promotionCode: 'OTHER' })).rejects.toMatchObject({ code: 'promotion_code_invalid' });
    await w.p.completeCheckout(session.id, { cardNumber: GOOD, acceptTerms: true, promotionCode: 'friends' }); // the applied code, sent back
    expect(paidAmounts()).toEqual([900]);
    await expect(subscriptionCheckout({ allowPromotionCodes: true, promotionCodeId: promo.id })).rejects.toMatchObject({ status: 400 });
  });

  it('refuses unknown, expired, used-up, inactive and other-product codes; codes are unique among active ones', async () => {
    await code({ code: 'SOON', percentOff: 10, expiresAt: T0 + DAY });
    await code({ code: 'ONCE', percentOff: 10, maxRedemptions: 1 });
    const { id: otherProduct } = await w.p.createProduct({ idempotencyKey: key('prod'), name: 'Other', description: '', metadata: {} });
    await code({ code: 'OTHERONLY', percentOff: 10, productIds: [otherProduct] });
    await code({ code: 'USD5', amountOff: 500, currency: 'usd' });
    const dead = await code({ code: 'DEAD', percentOff: 10 });
    await w.p.deactivatePromotionCode(dead.id);

    await expect(redeem('NOPE')).rejects.toMatchObject({ code: 'promotion_code_invalid', message: 'This code is invalid.' });
    await expect(redeem('DEAD')).rejects.toMatchObject({ code: 'promotion_code_invalid' });
    await expect(redeem('OTHERONLY')).rejects.toMatchObject({ code: 'promotion_code_not_applicable' });
    await expect(redeem('USD5')).rejects.toMatchObject({ code: 'promotion_code_not_applicable' });
    await expect(redeem('SPRING', { allowPromotionCodes: false })).rejects.toMatchObject({ code: 'promotion_code_invalid' });

    await redeem('once');
    await expect(redeem('ONCE')).rejects.toMatchObject({ code: 'promotion_code_max_redemptions' });

    await w.p.advanceClock(DAY);
    await expect(redeem('soon')).rejects.toMatchObject({ code: 'promotion_code_expired', message: 'This code has expired.' });

    await expect(code({ code: 'once', percentOff: 5 })).rejects.toMatchObject({ code: 'resource_already_exists' });
    // A deactivated code's text can be reused.
    await expect(code({ code: 'dead', percentOff: 5 })).resolves.toMatchObject({ id: expect.stringMatching(/^promo_/) });
    await expect(code({ code: 'BOTH', percentOff: 5, amountOff: 5, currency: 'eur' })).rejects.toMatchObject({ status: 400 });
    await expect(code({ code: 'PAST', percentOff: 5, expiresAt: T0 })).rejects.toMatchObject({ status: 400 });
  });
});

describe('refunds and disputes', () => {
  it('refunds in part and then in full, never more than what is left, taking back the account share', async () => {
    const { invoice } = await subscribe();
    const chargeId = invoice!.chargeId!;
    const first = await w.p.createRefund({ idempotencyKey: key('re'), chargeId, amount: 300, reason: 'requested_by_customer' });
    expect(first).toMatchObject({ id: expect.stringMatching(/^re_/), status: 'succeeded' });
    expect(await w.p.retrieveCharge(chargeId)).toMatchObject({ amountRefunded: 300, refunded: false });
    expect(types()).toEqual(['charge.refunded']);
    expect(w.events[0]!.object).toMatchObject({ id: chargeId, amount_refunded: 300, refunded: false });
    expect(await balance()).toEqual({ available: -270, pending: 900 });

    await expect(w.p.createRefund({ idempotencyKey: key('re'), chargeId, amount: 701, reason: null })).rejects.toMatchObject({ code: 'amount_too_large' });
    await w.p.createRefund({ idempotencyKey: key('re'), chargeId, amount: null, reason: null });
    expect(await w.p.retrieveCharge(chargeId)).toMatchObject({ amountRefunded: 1000, refunded: true });
    expect(await balance()).toEqual({ available: -900, pending: 900 });
    expect(types()).toEqual(['charge.refunded', 'charge.refunded']);
    await expect(w.p.createRefund({ idempotencyKey: key('re'), chargeId, amount: null, reason: null })).rejects.toMatchObject({ code: 'charge_already_refunded' });
    await expect(w.p.createRefund({ idempotencyKey: key('re'), chargeId: 'ch_nope', amount: null, reason: null })).rejects.toMatchObject({
      status: 404,
      message: 'No such charge: ch_nope',
    });
  });

  it('a dispute won: evidence submitted, closed won, balance untouched', async () => {
    const { invoice } = await subscribe();
    const chargeId = invoice!.chargeId!;
    const dispute = await w.p.openDispute(chargeId);
    expect(dispute).toMatchObject({ chargeId, amount: 1000, currency: 'eur', reason: 'fraudulent', status: 'needs_response', evidenceDueBy: T0 + 7 * DAY, evidenceSubmitted: false });
    expect(dispute.id).toMatch(/^dp_/);
    expect((await w.p.retrieveCharge(chargeId)).disputed).toBe(true);
    expect(w.events.map((e) => [e.type, (e.object as { status: string }).status])).toEqual([['charge.dispute.created', 'needs_response']]);
    expect(w.events[0]!.object).toMatchObject({ object: 'dispute', charge: chargeId, evidence_details: { due_by: T0 + 7 * DAY, has_evidence: false, submission_count: 0 } });
    await expect(w.p.createRefund({ idempotencyKey: key('re'), chargeId, amount: null, reason: null })).rejects.toMatchObject({ code: 'charge_disputed' });

    await w.p.updateDisputeEvidence(dispute.id, { productDescription: 'A monthly circle membership' }, false);
    const submitted = await w.p.updateDisputeEvidence(dispute.id, { accessActivityLog: 'Posted 12 times' }, true);
    expect(submitted).toMatchObject({ status: 'under_review', evidenceSubmitted: true });
    expect(ofType('charge.dispute.updated').at(-1)!.object).toMatchObject({
      status: 'under_review',
      evidence: { product_description: 'A monthly circle membership', access_activity_log: 'Posted 12 times' },
      evidence_details: { has_evidence: true, submission_count: 1 },
    });
    await expect(w.p.updateDisputeEvidence(dispute.id, {}, true)).rejects.toMatchObject({ status: 400 });

    const before = await balance();
    expect(await w.p.closeDispute(dispute.id, 'won')).toMatchObject({ status: 'won' });
    expect(ofType('charge.dispute.closed')[0]!.object).toMatchObject({ id: dispute.id, status: 'won' });
    expect(await balance()).toEqual(before);
    await expect(w.p.closeDispute(dispute.id, 'lost')).rejects.toMatchObject({ status: 400 });
  });

  it('a dispute lost: the account loses its share and pays the dispute fee', async () => {
    const { invoice } = await subscribe();
    const dispute = await w.p.openDispute(invoice!.chargeId!, 'product_not_received');
    await w.p.closeDispute(dispute.id, 'lost');
    expect(types()).toEqual(['charge.dispute.created', 'charge.dispute.closed']);
    expect(w.events[1]!.object).toMatchObject({ status: 'lost', reason: 'product_not_received' });
    expect(await balance()).toEqual({ available: -900 - TEST_DISPUTE_FEE, pending: 900 });
    expect(await w.p.retrieveDispute(dispute.id)).toMatchObject({ status: 'lost' });
    await expect(w.p.openDispute(invoice!.chargeId!)).rejects.toMatchObject({ status: 400 });
  });
});

describe('connected accounts and payouts', () => {
  it('onboarding: created restricted, link to the local page, completion enables it and emits account.updated', async () => {
    const { id } = await w.p.createConnectedAccount({ idempotencyKey: key('acct'), email: 'nina@example.com', country: 'GB', metadata: {} });
    expect(id).toMatch(/^acct_/);
    expect(await w.p.retrieveAccount(id)).toEqual({
      id,
      chargesEnabled: false,
      payoutsEnabled: false,
      detailsSubmitted: false,
      requirementsDue: ['external_account', 'tos_acceptance.date'],
      defaultCurrency: 'gbp',
    });
    const link = await w.p.createAccountLink({ accountId: id, refreshUrl: 'http://circles.test/refresh', returnUrl: 'http://circles.test/c/x/settings?tab=payouts' });
    expect(link.url).toBe(`http://circles.test/billing/test-onboarding/${id}?return=${encodeURIComponent('http://circles.test/c/x/settings?tab=payouts')}`);
    expect(await w.p.completeOnboarding(id)).toMatchObject({ chargesEnabled: true, payoutsEnabled: true, detailsSubmitted: true, requirementsDue: [] });
    expect(w.events).toHaveLength(1);
    expect(w.events[0]).toMatchObject({
      type: 'account.updated',
      account: id,
      object: { id, object: 'account', charges_enabled: true, payouts_enabled: true, details_submitted: true, requirements: { currently_due: [] }, default_currency: 'gbp' },
    });
    await w.p.completeOnboarding(id);
    expect(w.events).toHaveLength(1);
    await expect(w.p.createAccountLink({ accountId: 'acct_nope', refreshUrl: 'http://x.test', returnUrl: 'http://x.test' })).rejects.toMatchObject({ status: 404 });
  });

  it('pending for two days, then available, then paid out at the next daily run; payouts listed newest first', async () => {
    await subscribe();
    await w.p.advanceClock(2 * DAY - 1);
    expect(await balance()).toEqual({ available: 0, pending: 900 });
    await w.p.advanceClock(1);
    expect(await balance()).toEqual({ available: 900, pending: 0 });
    expect(types()).toEqual([]);
    await w.p.advanceClock(DAY);
    expect(types()).toEqual(['payout.paid']);
    const payoutDay = Date.UTC(2025, 0, 18) / 1000;
    expect(w.events[0]).toMatchObject({ account: w.accountId, created: payoutDay, object: { object: 'payout', amount: 900, currency: 'eur', status: 'paid', arrival_date: payoutDay, created: payoutDay } });
    expect(await balance()).toEqual({ available: 0, pending: 0 });

    await w.p.advanceClock(31 * DAY); // the renewal on 15 Feb, its payout on 18 Feb
    const payouts = await w.p.listPayouts(w.accountId, 10);
    expect(payouts.map((p) => [p.amount, p.created])).toEqual([
      [900, Date.UTC(2025, 1, 18) / 1000],
      [900, payoutDay],
    ]);
    expect(payouts[0]!.id).toMatch(/^po_/);
    expect(await w.p.listPayouts(w.accountId, 1)).toHaveLength(1);
  });
});

describe('idempotency, events and the clock', () => {
  it('the same idempotency key returns the same object without creating or emitting again', async () => {
    const a = await w.p.createCustomer({ idempotencyKey: 'cus-key', email: null, name: 'Nina', metadata: {} });
    const b = await w.p.createCustomer({ idempotencyKey: 'cus-key', email: null, name: 'Nina', metadata: {} });
    expect(b.id).toBe(a.id);
    await expect(w.p.createCustomer({ idempotencyKey: 'cus-key', email: null, name: 'Other', metadata: {} })).rejects.toMatchObject({ status: 400, code: 'idempotency_error' });

    const input = { ...(await subscriptionCheckoutInput()), idempotencyKey: 'cs-key' };
    const s1 = await w.p.createCheckoutSession(input);
    const s2 = await w.p.createCheckoutSession(input);
    expect(s2.id).toBe(s1.id);

    const { invoice, sub } = await subscribe();
    const refund = { idempotencyKey: 're-key', chargeId: invoice!.chargeId!, amount: 100, reason: null };
    const r1 = await w.p.createRefund(refund);
    const r2 = await w.p.createRefund(refund);
    expect(r2.id).toBe(r1.id);
    expect(types()).toEqual(['charge.refunded']);
    expect((await w.p.retrieveCharge(invoice!.chargeId!)).amountRefunded).toBe(100);

    w.events.length = 0;
    const change = { idempotencyKey: 'chg-key', subscriptionId: sub.id, itemId: sub.itemId, priceId: w.premium };
    await w.p.changeSubscriptionPrice(change);
    await w.p.changeSubscriptionPrice(change);
    expect(ofType('customer.subscription.updated')).toHaveLength(1);
    expect(ofType('charge.succeeded')).toHaveLength(1);

    const count = await sql<{ n: number }>`select count(*)::int as n from payments.test_objects where type = 'customer'`.execute(w.database.db);
    expect(count.rows[0]!.n).toBe(2);
  });

  it('an emit failure reaches the caller; the event stays queued and goes out first, in order', async () => {
    let failNext = true;
    const seen: ProviderEvent[] = [];
    const p = new TestPaymentsProvider({
      db: w.database.db,
      publicUrl: 'http://circles.test',
      webhookSecret: SECRET,
      emit: async (e) => {
        if (failNext) {
          failNext = false;
          throw new Error('pipeline down');
        }
        seen.push(e);
      },
      now: () => w.wall.ms,
    });
    const { sub } = await subscribe();
    await expect(p.setCancelAtPeriodEnd(sub.id, true)).rejects.toThrow('pipeline down');
    expect((await p.retrieveSubscription(sub.id)).cancelAtPeriodEnd).toBe(true); // the change itself committed
    await p.setCancelAtPeriodEnd(sub.id, false);
    expect(seen.map((e) => [e.type, (e.object as { cancel_at_period_end: boolean }).cancel_at_period_end])).toEqual([
      ['customer.subscription.updated', true],
      ['customer.subscription.updated', false],
    ]);
  });

  it('the clock is stored: another provider on the same database sees the advanced time', async () => {
    await w.p.advanceClock(5 * DAY);
    const other = new TestPaymentsProvider({ db: w.database.db, publicUrl: 'http://circles.test', webhookSecret: SECRET, emit: async () => {}, now: () => w.wall.ms });
    expect(await other.clockNow()).toBe(T0 + 5 * DAY);
    await expect(w.p.advanceClock(-1)).rejects.toBeInstanceOf(ProviderError);
  });

  it('unknown ids are resource_missing', async () => {
    await expect(w.p.retrieveSubscription('sub_nope')).rejects.toMatchObject({ status: 404, code: 'resource_missing', message: 'No such subscription: sub_nope' });
    await expect(w.p.retrieveInvoice('in_nope')).rejects.toMatchObject({ status: 404 });
    await expect(w.p.retrieveDispute('dp_nope')).rejects.toMatchObject({ status: 404 });
    await expect(w.p.retrieveAccount('acct_nope')).rejects.toMatchObject({ status: 404 });
    await expect(w.p.retrieveCheckoutSession('cs_test_nope')).rejects.toMatchObject({ status: 404 });
    await expect(w.p.updateProduct('prod_nope', { name: 'x', description: '' })).rejects.toMatchObject({ status: 404 });
  });
});

describe('customer portal', () => {
  it('shows the customer’s subscriptions and invoices and lets them cancel only their own', async () => {
    const { sub, invoice } = await subscribe();
    const { url } = await w.p.createPortalSession({ customerId: w.customerId, returnUrl: 'http://circles.test/settings/billing' });
    expect(url).toMatch(/^http:\/\/circles\.test\/billing\/test-portal\/bps_/);
    const portalId = url.split('/').pop()!;
    expect(await w.p.describePortal(portalId)).toEqual({
      id: portalId,
      customerId: w.customerId,
      customerName: 'Mike',
      customerEmail: 'mike@example.com',
      returnUrl: 'http://circles.test/settings/billing',
      expiresAt: T0 + 3600,
      card: { brand: 'visa', last4: '4242' },
      subscriptions: [
        { id: sub.id, status: 'active', productName: 'Sourdough Circle', unitAmount: 1000, currency: 'eur', interval: 'month', currentPeriodEnd: FEB_15, cancelAtPeriodEnd: false, trialEnd: null },
      ],
      invoices: [{ id: invoice!.id, amountPaid: 1000, amountDue: 1000, currency: 'eur', created: T0, status: 'paid' }],
    });
    expect(await w.p.portalSetCancelAtPeriodEnd(portalId, sub.id, true)).toMatchObject({ cancelAtPeriodEnd: true });
    expect(types()).toEqual(['customer.subscription.updated']);

    const { id: otherCustomer } = await w.p.createCustomer({ idempotencyKey: key('cus'), email: null, name: 'Nina', metadata: {} });
    const otherPortal = (await w.p.createPortalSession({ customerId: otherCustomer, returnUrl: 'http://circles.test/' })).url.split('/').pop()!;
    await expect(w.p.portalSetCancelAtPeriodEnd(otherPortal, sub.id, false)).rejects.toMatchObject({ status: 404 });

    w.wall.ms += 3601 * 1000;
    expect(await w.p.describePortal(portalId)).toBeNull();
    await expect(w.p.portalSetCancelAtPeriodEnd(portalId, sub.id, false)).rejects.toMatchObject({ status: 403 });
  });
});

describe('webhook signatures', () => {
  it('verifies Stripe-signed deliveries: valid, tampered, stale, malformed', async () => {
    const { sub } = await subscribe();
    await w.p.setCancelAtPeriodEnd(sub.id, true);
    const event = w.events[0]!;
    const now = Math.floor(w.wall.ms / 1000);
    const body = stripeEventBody(event);
    const header = signTestEvent(body, SECRET, now);
    expect(header).toMatch(/^t=\d+,v1=[0-9a-f]{64}$/);

    expect(w.p.verifyWebhook(body, header)).toEqual(event);
    expect(w.p.verifyWebhook(body, header, now + 299)).toEqual(event);
    const signed = w.p.signEvent(event);
    expect(w.p.verifyWebhook(signed.body, signed.signature)).toEqual(event);
    // Several v1 signatures (secret rotation): one matching is enough.
    expect(w.p.verifyWebhook(body, `t=${now},v1=${'0'.repeat(64)},v1=${header.split('v1=')[1]}`)).toEqual(event);

    const tampered = body.replace('"cancel_at_period_end":true', '"cancel_at_period_end":false');
    expect(tampered).not.toBe(body);
    expect(() => w.p.verifyWebhook(tampered, header)).toThrow(WebhookSignatureError);
    expect(() => w.p.verifyWebhook(body, signTestEvent(body, 'whsec_other', now))).toThrow(WebhookSignatureError);
    expect(() => w.p.verifyWebhook(body, header, now + 301)).toThrow(/tolerance/);
    expect(() => w.p.verifyWebhook(body, null)).toThrow(WebhookSignatureError);
    expect(() => w.p.verifyWebhook(body, 'garbage')).toThrow(WebhookSignatureError);
    expect(() => w.p.verifyWebhook(body, `t=${now}`)).toThrow(WebhookSignatureError);
    expect(() => w.p.verifyWebhook(body, `t=abc,v1=${header.split('v1=')[1]}`)).toThrow(WebhookSignatureError);
    expect(() => w.p.verifyWebhook(body, `t=${now},v1=zz`)).toThrow(WebhookSignatureError);
  });
});

async function subscriptionCheckoutInput(): Promise<Parameters<TestPaymentsProvider['createCheckoutSession']>[0]> {
  return {
    idempotencyKey: key('cs'),
    mode: 'subscription',
    customerId: w.customerId,
    priceId: w.monthly,
    trialDays: null,
    allowPromotionCodes: false,
    promotionCodeId: null,
    successUrl: 'http://circles.test/ok',
    cancelUrl: 'http://circles.test/cancel',
    destinationAccountId: w.accountId,
    applicationFeePercent: 10,
    applicationFeeAmount: null,
    requireTerms: false,
    metadata: {},
  };
}

/**
 * StripeProvider against a local server that speaks Stripe's REST protocol (`startFakeStripe` from
 * @circles/testing). Stripe's API is hosted by Stripe and cannot run here, so this is a test double: it checks
 * the wire format (form bodies in bracket notation, Authorization / Idempotency-Key / Stripe-Version /
 * Stripe-Account headers), keeps objects in memory, replays idempotent requests as Stripe does, and can drop a
 * connection after committing a request.
 *
 * Endpoints exercised:
 *   POST /v1/products, POST /v1/products/:id, POST /v1/prices, POST /v1/prices/:id,
 *   POST /v1/coupons, POST /v1/promotion_codes, POST /v1/promotion_codes/:id, POST /v1/customers,
 *   POST /v1/checkout/sessions, GET /v1/checkout/sessions/:id, GET /v1/checkout/sessions?payment_intent=,
 *   POST /v1/billing_portal/sessions, GET|POST|DELETE /v1/subscriptions/:id, GET /v1/invoices/:id,
 *   GET /v1/charges/:id, POST /v1/refunds, GET|POST /v1/disputes/:id, POST /v1/accounts, GET /v1/accounts/:id,
 *   POST /v1/account_links, GET /v1/balance, GET /v1/payouts
 * plus webhook signature verification (no server).
 */
import { type FakeStripe, startFakeStripe } from '@circles/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ProviderError, WebhookSignatureError } from '../src/provider.ts';
import { encodeStripeForm, signStripePayload, StripeProvider, verifyStripeSignature } from '../src/providers/stripe.ts';

const WHSEC = 'whsec_test_circles_0123456789';
const BASIL = '2025-03-31.basil';
const CLOVER = '2025-09-30.clover';

let keyCounter = 0;
const key = (label: string) => `test-${label}-${++keyCounter}-${Date.now()}`;

function providerFor(fake: FakeStripe, extra: Partial<ConstructorParameters<typeof StripeProvider>[0]> = {}) {
  return new StripeProvider({ secretKey: fake.apiKey, webhookSecret: WHSEC, apiBase: fake.url, ...extra });
}

function last(fake: FakeStripe, method: string, pathPrefix: string) {
  const rs = fake.requestsTo(method, pathPrefix);
  const r = rs[rs.length - 1];
  if (!r) throw new Error(`no ${method} ${pathPrefix} request recorded`);
  return r;
}

const checkoutBase = {
  trialDays: null,
  allowPromotionCodes: false,
  promotionCodeId: null,
  successUrl: 'https://circles.test/paid?session={CHECKOUT_SESSION_ID}',
  cancelUrl: 'https://circles.test/c/bread',
  destinationAccountId: null,
  applicationFeePercent: null,
  applicationFeeAmount: null,
  requireTerms: false,
  metadata: { circles_membership: 'mem_1' },
};

describe('encodeStripeForm', () => {
  it('uses bracket notation for hashes, indexed arrays and expand[]', () => {
    expect(
      encodeStripeForm({
        metadata: { circle_id: 'c 1', 'a&b': 'x=y' },
        line_items: [{ price: 'price_1', quantity: 1 }],
        payment_method_types: ['card'],
        expand: ['payments', 'customer'],
        skip: undefined,
        none: null,
        flag: false,
      }),
    ).toBe(
      'metadata[circle_id]=c%201&metadata[a%26b]=x%3Dy&line_items[0][price]=price_1&line_items[0][quantity]=1&payment_method_types[0]=card&expand[]=payments&expand[]=customer&flag=false',
    );
  });
});

describe('StripeProvider against the fake Stripe server', () => {
  let fake: FakeStripe;
  let stripe: StripeProvider;
  let basil: StripeProvider;
  let creator: string;

  beforeAll(async () => {
    fake = await startFakeStripe();
    stripe = providerFor(fake);
    basil = providerFor(fake, { apiVersion: BASIL });
    creator = (await stripe.createConnectedAccount({ idempotencyKey: key('acct'), email: 'creator@example.com', country: 'DE', metadata: { circles_community: 'com_1' } })).id;
  });
  afterAll(async () => {
    await fake?.close();
  });

  async function productAndPrice(interval: 'month' | 'year' | null, unitAmount = 900) {
    const product = await stripe.createProduct({ idempotencyKey: key('prod'), name: 'Bread Club', description: 'Bakers', metadata: { circles_circle: 'cir_1' } });
    const price = await stripe.createPrice({ idempotencyKey: key('price'), productId: product.id, unitAmount, currency: 'EUR', interval, metadata: { circles_plan: 'plan_1' } });
    return { productId: product.id, priceId: price.id };
  }

  describe('catalog', () => {
    it('creates, updates and archives products and prices with form-encoded params and Idempotency-Key', async () => {
      const k = key('prod');
      const product = await stripe.createProduct({ idempotencyKey: k, name: 'Sourdough', description: 'Starter club', metadata: { circles_circle: 'cir_9', kind: 'paid' } });
      expect(product.id).toMatch(/^prod_/);
      const req = last(fake, 'POST', '/v1/products');
      expect(req.headers.authorization).toBe(`Bearer ${fake.apiKey}`);
      expect(req.headers['content-type']).toBe('application/x-www-form-urlencoded');
      expect(req.headers['idempotency-key']).toBe(k);
      expect(req.headers['stripe-version']).toBeUndefined();
      expect(req.params).toEqual({ name: 'Sourdough', description: 'Starter club', metadata: { circles_circle: 'cir_9', kind: 'paid' } });
      expect(req.raw).toContain('metadata[circles_circle]=cir_9');

      await stripe.updateProduct(product.id, { name: 'Sourdough Club', description: '' });
      expect(last(fake, 'POST', `/v1/products/${product.id}`).params).toEqual({ name: 'Sourdough Club', description: '' });
      expect(fake.products.get(product.id)).toMatchObject({ name: 'Sourdough Club', description: null });

      const monthly = await stripe.createPrice({ idempotencyKey: key('price'), productId: product.id, unitAmount: 500, currency: 'EUR', interval: 'month', metadata: { plan: 'p1' } });
      expect(last(fake, 'POST', '/v1/prices').params).toEqual({ product: product.id, unit_amount: '500', currency: 'eur', recurring: { interval: 'month' }, metadata: { plan: 'p1' } });
      expect(fake.prices.get(monthly.id)).toMatchObject({ type: 'recurring', unit_amount: 500, recurring: { interval: 'month' } });

      const once = await stripe.createPrice({ idempotencyKey: key('price'), productId: product.id, unitAmount: 2500, currency: 'usd', interval: null, metadata: {} });
      expect(last(fake, 'POST', '/v1/prices').params.recurring).toBeUndefined();
      expect(fake.prices.get(once.id)).toMatchObject({ type: 'one_time', recurring: null });

      await stripe.archivePrice(monthly.id);
      const archive = last(fake, 'POST', `/v1/prices/${monthly.id}`);
      expect(archive.params).toEqual({ active: 'false' });
      expect(archive.headers['idempotency-key']).toMatch(/^circles-retry-/); // its own key, so a retry is safe
      expect(fake.prices.get(monthly.id)!.active).toBe(false);
    });

    it('creates a promotion code as coupon + promotion code with derived idempotency keys, and deactivates it', async () => {
      const { productId } = await productAndPrice('month');
      const k = key('promo');
      const expiresAt = Math.floor(Date.now() / 1000) + 30 * 86_400;
      const promo = await stripe.createPromotionCode({
        idempotencyKey: k,
        code: 'BREAD20',
        percentOff: 20,
        amountOff: null,
        currency: null,
        duration: 'repeating',
        durationInMonths: 3,
        maxRedemptions: 50,
        expiresAt,
        productIds: [productId],
        metadata: { circles_promo: 'pr_1' },
      });
      expect(promo.id).toMatch(/^promo_/);
      const coupon = last(fake, 'POST', '/v1/coupons');
      expect(coupon.headers['idempotency-key']).toBe(`${k}:coupon`);
      expect(coupon.params).toEqual({
        percent_off: '20',
        duration: 'repeating',
        duration_in_months: '3',
        max_redemptions: '50',
        redeem_by: String(expiresAt),
        applies_to: { products: [productId] },
        metadata: { circles_promo: 'pr_1' },
      });
      expect(coupon.raw).toContain(`applies_to[products][0]=${productId}`);
      const pc = last(fake, 'POST', '/v1/promotion_codes');
      expect(pc.headers['idempotency-key']).toBe(`${k}:promo`);
      expect(pc.params).toEqual({ coupon: promo.couponId, code: 'BREAD20', max_redemptions: '50', expires_at: String(expiresAt), metadata: { circles_promo: 'pr_1' } });
      expect(fake.coupons.get(promo.couponId)).toMatchObject({ percent_off: 20, duration: 'repeating', duration_in_months: 3, applies_to: { products: [productId] } });
      expect(fake.promotionCodes.get(promo.id)).toMatchObject({ code: 'BREAD20', coupon: promo.couponId, active: true });

      await stripe.deactivatePromotionCode(promo.id);
      expect(last(fake, 'POST', `/v1/promotion_codes/${promo.id}`).params).toEqual({ active: 'false' });
      expect(fake.promotionCodes.get(promo.id)!.active).toBe(false);
    });

    it('sends amount_off with currency, and uses promotion[coupon] on 2025-09-30.clover (pinned or account default)', async () => {
      const clover = providerFor(fake, { apiVersion: CLOVER });
      const input = { code: '', percentOff: null, amountOff: 300, currency: 'EUR', duration: 'once' as const, durationInMonths: null, maxRedemptions: null, expiresAt: null, productIds: [], metadata: {} };
      const promo = await clover.createPromotionCode({ ...input, idempotencyKey: key('promo'), code: 'THREEOFF' });
      expect(last(fake, 'POST', '/v1/coupons').params).toEqual({ amount_off: '300', currency: 'eur', duration: 'once' }); // empty metadata: nothing sent
      const pc = last(fake, 'POST', '/v1/promotion_codes');
      expect(pc.headers['stripe-version']).toBe(CLOVER);
      expect(pc.params).toMatchObject({ promotion: { type: 'coupon', coupon: promo.couponId }, code: 'THREEOFF' });
      expect(pc.params.coupon).toBeUndefined();

      // Unpinned, on an account whose default version is clover: the `coupon` form is refused as unknown and
      // the same key carries the `promotion` form (Stripe saves no result for a validation failure).
      const cloverAccount = await startFakeStripe({ defaultApiVersion: CLOVER });
      try {
        const unpinned = providerFor(cloverAccount);
        const k = key('promo');
        const p2 = await unpinned.createPromotionCode({ ...input, idempotencyKey: k, code: 'UNPINNED' });
        const attempts = cloverAccount.requestsTo('POST', '/v1/promotion_codes');
        expect(attempts.map((r) => Object.keys(r.params).includes('coupon'))).toEqual([true, false]);
        expect(attempts.map((r) => r.headers['idempotency-key'])).toEqual([`${k}:promo`, `${k}:promo`]);
        expect([...cloverAccount.promotionCodes.keys()]).toEqual([p2.id]);
      } finally {
        await cloverAccount.close();
      }
    });
  });

  describe('checkout', () => {
    it('creates a subscription checkout with tax, terms, trial, destination and fee, then maps the completed session and subscription', async () => {
      const { priceId } = await productAndPrice('month', 900);
      const customer = await stripe.createCustomer({ idempotencyKey: key('cus'), email: 'ana@example.com', name: 'Ana', metadata: { circles_account: 'acc_1' } });
      expect(customer.id).toMatch(/^cus_/);
      expect(last(fake, 'POST', '/v1/customers').params).toEqual({ email: 'ana@example.com', name: 'Ana', metadata: { circles_account: 'acc_1' } });

      const k = key('cs');
      const session = await stripe.createCheckoutSession({
        ...checkoutBase,
        idempotencyKey: k,
        mode: 'subscription',
        customerId: customer.id,
        priceId,
        trialDays: 7,
        allowPromotionCodes: true,
        destinationAccountId: creator,
        applicationFeePercent: 10,
        requireTerms: true,
      });
      const req = last(fake, 'POST', '/v1/checkout/sessions');
      expect(req.headers['idempotency-key']).toBe(k);
      expect(req.params).toEqual({
        mode: 'subscription',
        customer: customer.id,
        line_items: [{ price: priceId, quantity: '1' }],
        success_url: checkoutBase.successUrl,
        cancel_url: checkoutBase.cancelUrl,
        automatic_tax: { enabled: 'true' },
        tax_id_collection: { enabled: 'true' },
        customer_update: { name: 'auto', address: 'auto' },
        metadata: { circles_membership: 'mem_1' },
        allow_promotion_codes: 'true',
        consent_collection: { terms_of_service: 'required' },
        subscription_data: { trial_period_days: '7', metadata: { circles_membership: 'mem_1' }, application_fee_percent: '10', transfer_data: { destination: creator } },
      });
      for (const wire of [
        `line_items[0][price]=${priceId}`,
        'line_items[0][quantity]=1',
        `subscription_data[transfer_data][destination]=${creator}`,
        'subscription_data[metadata][circles_membership]=mem_1',
        'consent_collection[terms_of_service]=required',
        'automatic_tax[enabled]=true',
        'tax_id_collection[enabled]=true',
      ]) {
        expect(req.raw).toContain(wire);
      }
      expect(session).toEqual({
        id: expect.stringMatching(/^cs_test_/),
        url: `https://checkout.stripe.test/c/${session.id}`,
        status: 'open',
        mode: 'subscription',
        customerId: customer.id,
        subscriptionId: null,
        paymentIntentId: null,
        paymentStatus: 'unpaid',
        metadata: { circles_membership: 'mem_1' },
        termsAccepted: false,
        customerTaxIds: [],
        amountTotal: 900,
        currency: 'eur',
      });

      const done = fake.completeCheckout(session.id, { termsAccepted: true, taxIds: [{ type: 'eu_vat', value: 'DE123456789' }] });
      const completed = await stripe.retrieveCheckoutSession(session.id);
      expect(completed).toMatchObject({
        status: 'complete',
        subscriptionId: done.subscription!.id,
        paymentStatus: 'no_payment_required',
        termsAccepted: true,
        customerTaxIds: [{ type: 'eu_vat', value: 'DE123456789' }],
      });

      const sub = await stripe.retrieveSubscription(done.subscription!.id);
      const item = done.subscription!.items.data[0];
      expect(sub).toEqual({
        id: done.subscription!.id,
        customerId: customer.id,
        status: 'trialing',
        priceId,
        itemId: item.id,
        currentPeriodStart: item.current_period_start,
        currentPeriodEnd: item.current_period_start + 7 * 86_400,
        cancelAtPeriodEnd: false,
        canceledAt: null,
        endedAt: null,
        trialEnd: item.current_period_start + 7 * 86_400,
        latestInvoiceId: null,
        metadata: { circles_membership: 'mem_1' },
      });
      expect(item.id).toMatch(/^si_/);
      expect(done.subscription!.current_period_start).toBeUndefined(); // 2025+ shape: the period lives on the item
      expect(done.subscription!.transfer_data).toEqual({ destination: creator, amount_percent: null });
    });

    it('maps a paid subscription: invoice via parent + payments (pinned basil), charge with the application fee', async () => {
      const { priceId } = await productAndPrice('year', 12_000);
      const customer = await stripe.createCustomer({ idempotencyKey: key('cus'), email: null, name: 'Bo', metadata: {} });
      expect(last(fake, 'POST', '/v1/customers').params.email).toBeUndefined();
      const session = await stripe.createCheckoutSession({ ...checkoutBase, idempotencyKey: key('cs'), mode: 'subscription', customerId: customer.id, priceId, destinationAccountId: creator, applicationFeePercent: 12.5 });
      const req = last(fake, 'POST', '/v1/checkout/sessions');
      expect(req.params.allow_promotion_codes).toBeUndefined();
      expect(req.params.consent_collection).toBeUndefined();
      expect(req.params.subscription_data).toEqual({ metadata: { circles_membership: 'mem_1' }, application_fee_percent: '12.5', transfer_data: { destination: creator } });

      const done = fake.completeCheckout(session.id);
      expect((await stripe.retrieveCheckoutSession(session.id)).paymentStatus).toBe('paid');
      const sub = await basil.retrieveSubscription(done.subscription!.id);
      expect(sub.status).toBe('active');
      expect(sub.currentPeriodEnd - sub.currentPeriodStart).toBe(365 * 86_400);
      expect(sub.latestInvoiceId).toBe(done.invoice!.id);

      const invoice = await basil.retrieveInvoice(done.invoice!.id);
      expect(last(fake, 'GET', `/v1/invoices/${done.invoice!.id}`).raw).toBe('expand[]=payments&expand[]=payments.data.payment.payment_intent');
      expect(invoice).toEqual({
        id: done.invoice!.id,
        customerId: customer.id,
        subscriptionId: sub.id,
        chargeId: done.charge!.id,
        paymentIntentId: done.paymentIntent!.id,
        amountPaid: 12_000,
        amountDue: 12_000,
        currency: 'eur',
        status: 'paid',
        billingReason: 'subscription_create',
        created: done.invoice!.created,
      });
      // Unpinned: no expand (the version may not have `payments`); what is present is mapped, the rest null.
      const plain = await stripe.retrieveInvoice(done.invoice!.id);
      expect(last(fake, 'GET', `/v1/invoices/${done.invoice!.id}`).raw).toBe('');
      expect(plain).toMatchObject({ subscriptionId: sub.id, chargeId: null, paymentIntentId: null, amountPaid: 12_000 });

      const charge = await stripe.retrieveCharge(done.charge!.id);
      expect(charge).toEqual({
        id: done.charge!.id,
        amount: 12_000,
        amountRefunded: 0,
        currency: 'eur',
        customerId: customer.id,
        paymentIntentId: done.paymentIntent!.id,
        invoiceId: null, // removed from charges in 2025-03-31.basil
        applicationFeeAmount: 1500,
        refunded: false,
        disputed: false,
        status: 'succeeded',
        created: done.charge!.created,
        metadata: {},
      });
    });

    it('creates a one-time checkout with a promotion code, payment_intent_data and invoice_creation; finds it by payment intent', async () => {
      const { productId, priceId } = await productAndPrice(null, 2500);
      const promo = await stripe.createPromotionCode({ idempotencyKey: key('promo'), code: `ONCE${keyCounter}`, percentOff: 10, amountOff: null, currency: null, duration: 'once', durationInMonths: null, maxRedemptions: null, expiresAt: null, productIds: [productId], metadata: {} });
      const customer = await stripe.createCustomer({ idempotencyKey: key('cus'), email: 'cy@example.com', name: 'Cy', metadata: {} });
      const session = await stripe.createCheckoutSession({
        ...checkoutBase,
        idempotencyKey: key('cs'),
        mode: 'payment',
        customerId: customer.id,
        priceId,
        allowPromotionCodes: true,
        promotionCodeId: promo.id,
        destinationAccountId: creator,
        applicationFeeAmount: 250,
        metadata: { circles_purchase: 'pur_1' },
      });
      const req = last(fake, 'POST', '/v1/checkout/sessions');
      expect(req.params).toMatchObject({
        mode: 'payment',
        discounts: [{ promotion_code: promo.id }],
        payment_intent_data: { metadata: { circles_purchase: 'pur_1' }, application_fee_amount: '250', transfer_data: { destination: creator } },
        invoice_creation: { enabled: 'true' },
      });
      expect(req.params.allow_promotion_codes).toBeUndefined(); // Stripe refuses both together
      expect(req.params.subscription_data).toBeUndefined();
      expect(req.raw).toContain(`discounts[0][promotion_code]=${promo.id}`);
      expect(req.raw).toContain('payment_intent_data[metadata][circles_purchase]=pur_1');
      expect(session).toMatchObject({ mode: 'payment', status: 'open', amountTotal: 2500, metadata: { circles_purchase: 'pur_1' } });

      expect(await stripe.findCheckoutSessionByPaymentIntent('pi_nothing')).toBeNull();
      const done = fake.completeCheckout(session.id);
      const found = await stripe.findCheckoutSessionByPaymentIntent(done.paymentIntent!.id);
      expect(last(fake, 'GET', '/v1/checkout/sessions').params).toEqual({ payment_intent: done.paymentIntent!.id, limit: '1' });
      expect(found).toMatchObject({ id: session.id, status: 'complete', paymentIntentId: done.paymentIntent!.id, paymentStatus: 'paid', subscriptionId: null });
      expect(await stripe.retrieveCharge(done.charge!.id)).toMatchObject({ amount: 2500, applicationFeeAmount: 250, metadata: { circles_purchase: 'pur_1' } });
    });

    it('creates a billing portal session', async () => {
      const customer = await stripe.createCustomer({ idempotencyKey: key('cus'), email: null, name: 'Di', metadata: {} });
      const portal = await stripe.createPortalSession({ customerId: customer.id, returnUrl: 'https://circles.test/settings/billing' });
      expect(portal.url).toMatch(/^https:\/\/billing\.stripe\.test\/p\/bps_/);
      expect(last(fake, 'POST', '/v1/billing_portal/sessions').params).toEqual({ customer: customer.id, return_url: 'https://circles.test/settings/billing' });
    });
  });

  describe('subscriptions', () => {
    it('changes the price (prorated), sets and clears cancel_at_period_end, and cancels now', async () => {
      const { priceId } = await productAndPrice('month', 500);
      const { priceId: upgrade } = await productAndPrice('month', 1500);
      const sub = fake.createSubscription({ price: priceId, metadata: { m: '1' } });
      const itemId = sub.items.data[0].id as string;

      const k = key('chg');
      const changed = await stripe.changeSubscriptionPrice({ idempotencyKey: k, subscriptionId: sub.id, itemId, priceId: upgrade });
      const req = last(fake, 'POST', `/v1/subscriptions/${sub.id}`);
      expect(req.headers['idempotency-key']).toBe(k);
      expect(req.params).toEqual({ items: [{ id: itemId, price: upgrade }], proration_behavior: 'create_prorations' });
      expect(req.raw).toBe(`items[0][id]=${itemId}&items[0][price]=${upgrade}&proration_behavior=create_prorations`);
      expect(changed).toMatchObject({ id: sub.id, priceId: upgrade, itemId, status: 'active', metadata: { m: '1' } });

      const ending = await stripe.setCancelAtPeriodEnd(sub.id, true);
      expect(last(fake, 'POST', `/v1/subscriptions/${sub.id}`).params).toEqual({ cancel_at_period_end: 'true' });
      expect(ending.cancelAtPeriodEnd).toBe(true);
      const resumed = await stripe.setCancelAtPeriodEnd(sub.id, false);
      expect(last(fake, 'POST', `/v1/subscriptions/${sub.id}`).params).toEqual({ cancel_at_period_end: 'false' });
      expect(resumed.cancelAtPeriodEnd).toBe(false);

      const canceled = await stripe.cancelSubscriptionNow(sub.id);
      expect(last(fake, 'DELETE', `/v1/subscriptions/${sub.id}`)).toBeTruthy();
      expect(canceled).toMatchObject({ status: 'canceled', canceledAt: expect.any(Number), endedAt: expect.any(Number) });
    });

    it('reads the current period from the subscription (older API versions) or its item (2025+), the subscription first', async () => {
      const sub = fake.createSubscription({});
      const item = sub.items.data[0];
      fake.setSubscriptionPeriod(sub.id, 1_700_000_000, 1_702_592_000);
      expect(await stripe.retrieveSubscription(sub.id)).toMatchObject({ currentPeriodStart: 1_700_000_000, currentPeriodEnd: 1_702_592_000 });
      // Older shape: on the subscription only.
      delete item.current_period_start;
      delete item.current_period_end;
      fake.setSubscription(sub.id, { current_period_start: 1_600_000_000, current_period_end: 1_631_536_000 });
      expect(await stripe.retrieveSubscription(sub.id)).toMatchObject({ currentPeriodStart: 1_600_000_000, currentPeriodEnd: 1_631_536_000, itemId: item.id, priceId: item.price.id });
      // Neither: a clear error rather than a made-up period.
      fake.setSubscription(sub.id, { current_period_start: undefined, current_period_end: undefined });
      await expect(stripe.retrieveSubscription(sub.id)).rejects.toThrow(/without a current period/);
    });
  });

  describe('refunds and disputes', () => {
    it('refunds part of a charge, then the rest; the charge reflects it', async () => {
      const charge = fake.createCharge({ amount: 1000, currency: 'eur' });
      const k = key('re');
      const partial = await stripe.createRefund({ idempotencyKey: k, chargeId: charge.id, amount: 300, reason: 'requested_by_customer' });
      expect(partial).toEqual({ id: expect.stringMatching(/^re_/), status: 'succeeded' });
      const req = last(fake, 'POST', '/v1/refunds');
      expect(req.headers['idempotency-key']).toBe(k);
      expect(req.params).toEqual({ charge: charge.id, amount: '300', reason: 'requested_by_customer' });
      await stripe.createRefund({ idempotencyKey: key('re'), chargeId: charge.id, amount: null, reason: null });
      expect(last(fake, 'POST', '/v1/refunds').params).toEqual({ charge: charge.id });
      expect(await stripe.retrieveCharge(charge.id)).toMatchObject({ amountRefunded: 1000, refunded: true });
    });

    it('reads a dispute, saves evidence, then submits it', async () => {
      const charge = fake.createCharge({ amount: 900, currency: 'eur' });
      const dp = fake.createDispute({ charge: charge.id, reason: 'product_not_received', evidenceDueBy: 1_900_000_000 });
      expect(await stripe.retrieveDispute(dp.id)).toEqual({
        id: dp.id,
        chargeId: charge.id,
        paymentIntentId: charge.payment_intent,
        amount: 900,
        currency: 'eur',
        reason: 'product_not_received',
        status: 'needs_response',
        evidenceDueBy: 1_900_000_000,
        evidenceSubmitted: false,
        created: dp.created,
      });
      expect((await stripe.retrieveCharge(charge.id)).disputed).toBe(true);

      const saved = await stripe.updateDisputeEvidence(dp.id, { customerName: 'Ana', productDescription: 'Monthly membership', accessActivityLog: 'Logged in 12 times' }, false);
      expect(last(fake, 'POST', `/v1/disputes/${dp.id}`).params).toEqual({
        evidence: { customer_name: 'Ana', product_description: 'Monthly membership', access_activity_log: 'Logged in 12 times' },
        submit: 'false',
      });
      expect(saved).toMatchObject({ status: 'needs_response', evidenceSubmitted: false });
      const submitted = await stripe.updateDisputeEvidence(dp.id, { uncategorizedText: 'See log' }, true);
      expect(last(fake, 'POST', `/v1/disputes/${dp.id}`).raw).toBe('evidence[uncategorized_text]=See log&submit=true');
      expect(submitted).toMatchObject({ status: 'under_review', evidenceSubmitted: true });
    });
  });

  describe('Connect', () => {
    it('creates an Express account with capabilities, an onboarding link, and reads the account state', async () => {
      const k = key('acct');
      const account = await stripe.createConnectedAccount({ idempotencyKey: k, email: 'maker@example.com', country: 'US', metadata: { circles_community: 'com_2' } });
      const req = last(fake, 'POST', '/v1/accounts');
      expect(req.headers['idempotency-key']).toBe(k);
      expect(req.params).toEqual({
        type: 'express',
        email: 'maker@example.com',
        country: 'US',
        metadata: { circles_community: 'com_2' },
        capabilities: { card_payments: { requested: 'true' }, transfers: { requested: 'true' } },
      });
      expect(req.raw).toContain('capabilities[card_payments][requested]=true');

      const link = await stripe.createAccountLink({ accountId: account.id, refreshUrl: 'https://circles.test/connect/refresh', returnUrl: 'https://circles.test/connect/done' });
      expect(link.url).toMatch(/^https:\/\/connect\.stripe\.test\/setup\//);
      expect(last(fake, 'POST', '/v1/account_links').params).toEqual({ account: account.id, refresh_url: 'https://circles.test/connect/refresh', return_url: 'https://circles.test/connect/done', type: 'account_onboarding' });

      expect(await stripe.retrieveAccount(account.id)).toEqual({
        id: account.id,
        chargesEnabled: false,
        payoutsEnabled: false,
        detailsSubmitted: false,
        requirementsDue: expect.arrayContaining(['external_account']),
        defaultCurrency: 'usd',
      });
      fake.completeOnboarding(account.id);
      expect(await stripe.retrieveAccount(account.id)).toMatchObject({ chargesEnabled: true, payoutsEnabled: true, detailsSubmitted: true, requirementsDue: [] });
    });

    it('reads balance and payouts on the connected account (Stripe-Account header)', async () => {
      fake.setBalance(creator, { available: [{ amount: 4200, currency: 'eur' }], pending: [{ amount: 800, currency: 'eur' }] });
      fake.addPayout(creator, { amount: 1000, currency: 'eur', created: 1_700_000_000, arrivalDate: 1_700_200_000 });
      const newest = fake.addPayout(creator, { amount: 2000, currency: 'eur', status: 'in_transit', created: 1_700_500_000, arrivalDate: 1_700_700_000 });

      expect(await stripe.retrieveBalance(creator)).toEqual({ available: [{ amount: 4200, currency: 'eur' }], pending: [{ amount: 800, currency: 'eur' }] });
      expect(last(fake, 'GET', '/v1/balance').headers['stripe-account']).toBe(creator);

      const payouts = await stripe.listPayouts(creator, 1);
      const req = last(fake, 'GET', '/v1/payouts');
      expect(req.headers['stripe-account']).toBe(creator);
      expect(req.params).toEqual({ limit: '1' });
      expect(payouts).toEqual([{ id: newest.id, amount: 2000, currency: 'eur', status: 'in_transit', arrivalDate: 1_700_700_000, created: 1_700_500_000 }]);
      expect(await stripe.listPayouts(creator, 10)).toHaveLength(2);

      // Platform calls carry no Stripe-Account.
      expect(last(fake, 'POST', '/v1/accounts').headers['stripe-account']).toBeUndefined();
      // An account the platform cannot reach is refused by Stripe with 403.
      await expect(stripe.retrieveBalance('acct_unknown')).rejects.toMatchObject({ name: 'ProviderError', status: 403, code: 'account_invalid' });
    });
  });

  describe('lost connections and retries', () => {
    it('a create whose connection drops after Stripe committed is retried with the same key and yields exactly one customer', async () => {
      const before = fake.customers.size;
      const k = key('cus-drop');
      fake.dropNext('POST', '/v1/customers');
      const c = await stripe.createCustomer({ idempotencyKey: k, email: 'drop@example.com', name: 'Drop', metadata: {} });
      const attempts = fake.requests.filter((r) => r.method === 'POST' && r.path === '/v1/customers' && r.headers['idempotency-key'] === k);
      expect(attempts).toHaveLength(2);
      expect(attempts.map((r) => r.raw)).toEqual([attempts[0]!.raw, attempts[0]!.raw]);
      expect(fake.customers.size).toBe(before + 1);
      expect(fake.customers.get(c.id)).toMatchObject({ email: 'drop@example.com' });
    });

    it('the same for a checkout session', async () => {
      const { priceId } = await productAndPrice('month');
      const customer = await stripe.createCustomer({ idempotencyKey: key('cus'), email: null, name: 'Eve', metadata: {} });
      const before = fake.checkoutSessions.size;
      const k = key('cs-drop');
      fake.dropNext('POST', '/v1/checkout/sessions');
      const s = await stripe.createCheckoutSession({ ...checkoutBase, idempotencyKey: k, mode: 'subscription', customerId: customer.id, priceId, destinationAccountId: creator, applicationFeePercent: 10 });
      const attempts = fake.requestsTo('POST', '/v1/checkout/sessions').filter((r) => r.headers['idempotency-key'] === k);
      expect(attempts).toHaveLength(2);
      expect(fake.checkoutSessions.size).toBe(before + 1);
      expect(fake.checkoutSessions.has(s.id)).toBe(true);
      expect(s.url).toBe(`https://checkout.stripe.test/c/${s.id}`);
    });

    it('retries 500, 429 and 409 idempotency_key_in_use with the same key; a timeout too', async () => {
      for (const error of [{ status: 500 }, { status: 429, code: 'rate_limit' }, { status: 409, type: 'idempotency_error', code: 'idempotency_key_in_use' }]) {
        const k = key('retry');
        fake.failNext('POST', '/v1/customers', error);
        const c = await stripe.createCustomer({ idempotencyKey: k, email: null, name: `retry ${error.status}`, metadata: {} });
        expect(fake.customers.has(c.id)).toBe(true);
        expect(fake.requests.filter((r) => r.path === '/v1/customers' && r.headers['idempotency-key'] === k)).toHaveLength(2);
      }
      const impatient = providerFor(fake, { timeoutMs: 150 });
      const k = key('timeout');
      const before = fake.customers.size;
      fake.delayNext('POST', '/v1/customers', 600);
      const c = await impatient.createCustomer({ idempotencyKey: k, email: null, name: 'Slow', metadata: {} });
      expect(fake.customers.size).toBe(before + 1);
      expect(fake.customers.has(c.id)).toBe(true);
      expect(fake.requests.filter((r) => r.headers['idempotency-key'] === k)).toHaveLength(2);
    });

    it('writes without a caller key get their own, kept across the retry; reads retry on a dropped connection', async () => {
      const customer = fake.createCustomer({ name: 'Fay' });
      fake.dropNext('POST', '/v1/billing_portal/sessions');
      await stripe.createPortalSession({ customerId: customer.id, returnUrl: 'https://circles.test/x' });
      const [first, second] = fake.requestsTo('POST', '/v1/billing_portal/sessions').slice(-2);
      expect(first!.headers['idempotency-key']).toMatch(/^circles-retry-/);
      expect(second!.headers['idempotency-key']).toBe(first!.headers['idempotency-key']);
      expect([...fake.portalSessions.values()].filter((s) => s.customer === customer.id)).toHaveLength(1);

      const charge = fake.createCharge({ amount: 100 });
      fake.dropNext('GET', `/v1/charges/${charge.id}`);
      expect((await stripe.retrieveCharge(charge.id)).id).toBe(charge.id);
      expect(fake.requestsTo('GET', `/v1/charges/${charge.id}`)).toHaveLength(2);
      expect(fake.requestsTo('GET', `/v1/charges/${charge.id}`)[0]!.headers['idempotency-key']).toBeUndefined();
    });

    it('does not retry a 4xx, and gives up after maxNetworkRetries with a plain Error that names no secret', async () => {
      const before = fake.requests.length;
      await expect(stripe.retrieveCharge('ch_missing')).rejects.toMatchObject({ name: 'ProviderError', status: 404, code: 'resource_missing', message: "No such charge: 'ch_missing'" });
      expect(fake.requests.length - before).toBe(1);

      const k = key('gone');
      fake.dropNext('POST', '/v1/customers', 3);
      const err = await stripe.createCustomer({ idempotencyKey: k, email: null, name: 'Never', metadata: {} }).then(
        () => null,
        (e: unknown) => e as Error,
      );
      expect(err).toBeInstanceOf(Error);
      expect(err).not.toBeInstanceOf(ProviderError);
      expect(err!.message).toMatch(/^Stripe POST \/v1\/customers: network error after 3 attempts/);
      expect(err!.message).not.toContain(fake.apiKey);
      expect(fake.requests.filter((r) => r.headers['idempotency-key'] === k)).toHaveLength(3);

      const once = providerFor(fake, { maxNetworkRetries: 0 });
      fake.failNext('GET', '/v1/accounts/', { status: 503, message: 'Service unavailable' });
      await expect(once.retrieveAccount(creator)).rejects.toThrow(/^Stripe GET \/v1\/accounts\/acct_\w+ failed: HTTP 503: Service unavailable$/);
    });
  });

  describe('errors', () => {
    it('the same idempotency key with other parameters is a ProviderError (idempotency_error)', async () => {
      const k = key('same');
      await stripe.createCustomer({ idempotencyKey: k, email: null, name: 'First', metadata: {} });
      const err = await stripe.createCustomer({ idempotencyKey: k, email: null, name: 'Second', metadata: {} }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ProviderError);
      expect(err).toMatchObject({ status: 400, code: 'idempotency_error', message: expect.stringMatching(/same parameters/) });
      // The same key with the same parameters replays the first response.
      const again = await stripe.createCustomer({ idempotencyKey: k, email: null, name: 'First', metadata: {} });
      expect(fake.customers.get(again.id)!.name).toBe('First');
    });

    it('maps Stripe 4xx errors to ProviderError with message and code', async () => {
      const charge = fake.createCharge({ amount: 500 });
      const err = await stripe.createRefund({ idempotencyKey: key('re'), chargeId: charge.id, amount: 900, reason: null }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ProviderError);
      expect(err).toMatchObject({ status: 400, code: 'amount_too_large', message: 'Refund amount (900) is greater than unrefunded amount on charge (500)' });
      await expect(stripe.retrieveSubscription('sub_missing')).rejects.toMatchObject({ status: 404, code: 'resource_missing' });
      const { priceId } = await productAndPrice(null);
      const customer = fake.createCustomer({ name: 'Gus' });
      await expect(stripe.createCheckoutSession({ ...checkoutBase, idempotencyKey: key('cs'), mode: 'subscription', customerId: customer.id, priceId })).rejects.toMatchObject({
        name: 'ProviderError',
        status: 400,
        message: expect.stringMatching(/recurring price/),
      });
    });

    it('a wrong secret key is a 401 ProviderError whose message does not carry the key', async () => {
      const secretKey = 'sk_test_wrong_key_4242424242';
      const wrong = new StripeProvider({ secretKey, webhookSecret: WHSEC, apiBase: fake.url });
      const err = await wrong.createCustomer({ idempotencyKey: key('cus'), email: null, name: 'X', metadata: {} }).then(
        () => null,
        (e: unknown) => e as ProviderError,
      );
      expect(err).toBeInstanceOf(ProviderError);
      expect(err).toMatchObject({ status: 401, code: 'api_key_invalid' });
      expect(err!.message).toMatch(/^Invalid API Key provided/);
      expect(err!.message).not.toContain(secretKey);
      expect(fake.requests.at(-1)!.headers.authorization).toBe(`Bearer ${secretKey}`);
      expect(fake.requestsTo('POST', '/v1/customers').filter((r) => r.headers.authorization === `Bearer ${secretKey}`)).toHaveLength(1);
    });

    it('the fake replays an idempotent POST as Stripe does (Idempotent-Replayed: true)', async () => {
      const post = (name: string) =>
        fetch(`${fake.url}/v1/customers`, {
          method: 'POST',
          headers: { Authorization: `Bearer ${fake.apiKey}`, 'Content-Type': 'application/x-www-form-urlencoded', 'Idempotency-Key': 'raw-replay-1' },
          body: `name=${name}&metadata[a]=1`,
        });
      const first = await post('Hal');
      const second = await post('Hal');
      expect(first.headers.get('idempotent-replayed')).toBeNull();
      expect(second.headers.get('idempotent-replayed')).toBe('true');
      expect((await second.json()).id).toBe((await first.json()).id);
      const other = await post('Ida');
      expect(other.status).toBe(400);
      expect((await other.json()).error.type).toBe('idempotency_error');
    });

    it('sends Stripe-Version when pinned', async () => {
      await basil.retrieveAccount(creator);
      expect(last(fake, 'GET', `/v1/accounts/${creator}`).headers['stripe-version']).toBe(BASIL);
    });
  });
});

describe('StripeProvider against older API-version shapes', () => {
  let fake: FakeStripe;
  let stripe: StripeProvider;
  beforeAll(async () => {
    fake = await startFakeStripe({ legacyShapes: true });
    stripe = providerFor(fake, { apiVersion: '2024-06-20' });
  });
  afterAll(async () => {
    await fake?.close();
  });

  it('maps periods on the subscription, and subscription / charge / payment_intent on the invoice', async () => {
    const price = fake.createPrice({ unitAmount: 700, currency: 'usd', interval: 'month' });
    const sub = fake.createSubscription({ price: price.id, metadata: { circles_membership: 'mem_9' } });
    expect(sub.items.data[0].current_period_start).toBeUndefined();
    const invoice = fake.createInvoice({ subscription: sub.id, billingReason: 'subscription_cycle' });

    const mapped = await stripe.retrieveSubscription(sub.id);
    expect(mapped).toMatchObject({ currentPeriodStart: sub.current_period_start, currentPeriodEnd: sub.current_period_end, priceId: price.id, latestInvoiceId: invoice.id, metadata: { circles_membership: 'mem_9' } });

    const inv = await stripe.retrieveInvoice(invoice.id);
    expect(last(fake, 'GET', `/v1/invoices/${invoice.id}`).raw).toBe(''); // no expand[]=payments before basil
    expect(inv).toMatchObject({ subscriptionId: sub.id, chargeId: invoice.charge, paymentIntentId: invoice.payment_intent, amountPaid: 700, billingReason: 'subscription_cycle', status: 'paid' });
    expect(inv.chargeId).toMatch(/^ch_/);
    expect(await stripe.retrieveCharge(invoice.charge)).toMatchObject({ invoiceId: invoice.id, paymentIntentId: invoice.payment_intent });
  });
});

describe('webhook signatures', () => {
  const stripe = new StripeProvider({ secretKey: 'sk_test_unused', webhookSecret: WHSEC, apiBase: 'http://127.0.0.1:9' });
  const now = 1_750_000_000;
  const event = {
    id: 'evt_1',
    object: 'event',
    type: 'customer.subscription.updated',
    created: now - 5,
    livemode: false,
    account: 'acct_123',
    data: { object: { id: 'sub_1', object: 'subscription', status: 'active' } },
  };
  const body = JSON.stringify(event);

  it('accepts a valid signature and returns the event', () => {
    expect(stripe.verifyWebhook(body, signStripePayload(body, WHSEC, now), now)).toEqual({
      id: 'evt_1',
      type: 'customer.subscription.updated',
      created: now - 5,
      account: 'acct_123',
      livemode: false,
      object: { id: 'sub_1', object: 'subscription', status: 'active' },
    });
    const platformEvent = JSON.stringify({ ...event, account: undefined, livemode: true });
    expect(stripe.verifyWebhook(platformEvent, signStripePayload(platformEvent, WHSEC, now), now)).toMatchObject({ account: null, livemode: true });
  });

  it('agrees with the fake server’s signEvent / event builders', async () => {
    const fake = await startFakeStripe();
    try {
      const e = fake.event('invoice.paid', { id: 'in_1', object: 'invoice' }, { account: 'acct_9' });
      const { body: b, header } = fake.signEvent(e, WHSEC);
      expect(stripe.verifyWebhook(b, header)).toMatchObject({ id: e.id, type: 'invoice.paid', account: 'acct_9', object: { id: 'in_1' } });
    } finally {
      await fake.close();
    }
  });

  it.each([
    ['a tampered body', body.replace('active', 'canceled'), signStripePayload(body, WHSEC, now)],
    ['the wrong secret', body, signStripePayload(body, 'whsec_other', now)],
    ['a missing header', body, null],
    ['an empty header', body, ''],
    ['a malformed header', body, 'garbage'],
    ['a header without v1', body, `t=${now}`],
    ['a header without t', body, signStripePayload(body, WHSEC, now).replace(/^t=\d+,/, '')],
    ['a non-numeric timestamp', body, signStripePayload(body, WHSEC, now).replace(/^t=\d+/, 't=abc')],
    ['a timestamp 301 s old', body, signStripePayload(body, WHSEC, now - 301)],
    ['a timestamp 301 s in the future', body, signStripePayload(body, WHSEC, now + 301)],
  ])('rejects %s', (_label, raw, header) => {
    expect(() => stripe.verifyWebhook(raw, header, now)).toThrow(WebhookSignatureError);
  });

  it('accepts exactly 300 s either way', () => {
    expect(stripe.verifyWebhook(body, signStripePayload(body, WHSEC, now - 300), now).id).toBe('evt_1');
    expect(stripe.verifyWebhook(body, signStripePayload(body, WHSEC, now + 300), now).id).toBe('evt_1');
  });

  it('accepts a header whose second v1 matches (secret rotation), ignoring v0', () => {
    const good = signStripePayload(body, WHSEC, now).split(',v1=')[1]!;
    const stale = signStripePayload(body, 'whsec_old', now).split(',v1=')[1]!;
    expect(stripe.verifyWebhook(body, `t=${now},v1=${stale},v1=${good},v0=deadbeef`, now).id).toBe('evt_1');
    expect(() => stripe.verifyWebhook(body, `t=${now},v1=${stale},v0=${good}`, now)).toThrow(WebhookSignatureError);
  });

  it('rejects a validly signed body that is not JSON, or not an event', () => {
    const junk = '{"id": "evt_1", "type": ';
    expect(() => stripe.verifyWebhook(junk, signStripePayload(junk, WHSEC, now), now)).toThrow(new WebhookSignatureError('malformed payload'));
    const notEvent = JSON.stringify({ id: 'evt_2', type: 'x', created: now });
    expect(() => stripe.verifyWebhook(notEvent, signStripePayload(notEvent, WHSEC, now), now)).toThrow(WebhookSignatureError);
  });

  it('verifyStripeSignature takes its own tolerance and clock', () => {
    const header = signStripePayload(body, WHSEC, now - 100);
    expect(() => verifyStripeSignature(body, header, WHSEC, 60, now)).toThrow(/tolerance/);
    expect(() => verifyStripeSignature(body, header, WHSEC, 120, now)).not.toThrow();
  });
});

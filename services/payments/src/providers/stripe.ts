import { createHmac, randomUUID, timingSafeEqual } from 'node:crypto';
import {
  type DisputeEvidence,
  type DisputeStatus,
  type Interval,
  type Money,
  type PaymentProvider,
  ProviderError,
  type ProviderAccount,
  type ProviderBalance,
  type ProviderCharge,
  type ProviderCheckoutSession,
  type ProviderDispute,
  type ProviderEvent,
  type ProviderInvoice,
  type ProviderPayout,
  type ProviderSubscription,
  type SubscriptionStatus,
  WebhookSignatureError,
} from '../provider.ts';

/**
 * Stripe's REST API over `fetch` (no SDK): form-encoded requests with Stripe's bracket notation, an
 * `Idempotency-Key` on every create (the caller's, retried unchanged), retries on lost connections, timeouts,
 * 5xx and 429, and webhook signatures checked over the raw body (`Stripe-Signature: t=...,v1=...`).
 *
 * Responses are mapped to provider.ts's normalized types, tolerating API versions before and after
 * 2025-03-31.basil (subscription periods on the subscription or on its item; invoice links on the invoice or
 * under `parent` / `payments`) and 2025-09-30.clover (promotion codes reference coupons via `promotion`).
 */

export interface StripeProviderOptions {
  secretKey: string;
  webhookSecret: string;
  /** Default https://api.stripe.com. */
  apiBase?: string;
  /** Sent as Stripe-Version when given (recommended: pin it). */
  apiVersion?: string;
  fetch?: typeof fetch;
  /** Retries after the first attempt on network errors, 5xx, 429 and 409 idempotency_key_in_use. Default 2. */
  maxNetworkRetries?: number;
  /** Per attempt. Default 30 s. */
  timeoutMs?: number;
}

export const STRIPE_SIGNATURE_TOLERANCE_SECONDS = 300;

// ---------------------------------------------------------------------------------------------------------------
// Webhook signatures

/** The `Stripe-Signature` header Stripe would send for this body: `t=<timestamp>,v1=<hex HMAC-SHA256>`. */
export function signStripePayload(rawBody: string, secret: string, timestampSeconds: number): string {
  const t = Math.floor(timestampSeconds);
  return `t=${t},v1=${hmacHex(secret, `${t}.${rawBody}`)}`;
}

/**
 * Checks a `Stripe-Signature` header against the raw body: some v1 entry must equal HMAC-SHA256(secret,
 * `${t}.${rawBody}`) (several v1 entries appear while a secret is being rolled), and t must be within the
 * tolerance of now (either direction). Throws WebhookSignatureError otherwise.
 */
export function verifyStripeSignature(
  rawBody: string,
  header: string | null,
  secret: string,
  toleranceSeconds = STRIPE_SIGNATURE_TOLERANCE_SECONDS,
  nowSeconds = Date.now() / 1000,
): void {
  if (header == null || header.trim() === '') throw new WebhookSignatureError('missing Stripe-Signature header');
  let timestamp: number | null = null;
  const v1: string[] = [];
  for (const part of header.split(',')) {
    const eq = part.indexOf('=');
    if (eq <= 0) throw new WebhookSignatureError('malformed Stripe-Signature header');
    const key = part.slice(0, eq).trim();
    const value = part.slice(eq + 1).trim();
    if (key === 't') {
      if (!/^\d{1,12}$/.test(value) || timestamp !== null) throw new WebhookSignatureError('malformed Stripe-Signature header');
      timestamp = Number(value);
    } else if (key === 'v1') {
      v1.push(value);
    }
    // Other schemes (v0: Stripe's test-mode legacy scheme) are ignored, as Stripe's libraries do.
  }
  if (timestamp === null) throw new WebhookSignatureError('malformed Stripe-Signature header: no timestamp');
  if (v1.length === 0) throw new WebhookSignatureError('malformed Stripe-Signature header: no v1 signature');
  const expected = Buffer.from(hmacHex(secret, `${timestamp}.${rawBody}`), 'hex');
  let matched = false;
  for (const candidate of v1) {
    if (!/^[0-9a-fA-F]+$/.test(candidate) || candidate.length !== expected.length * 2) continue;
    // Compare every entry (no early exit), in constant time each.
    if (timingSafeEqual(Buffer.from(candidate, 'hex'), expected)) matched = true;
  }
  if (!matched) throw new WebhookSignatureError('no signature matches the payload');
  if (Math.abs(nowSeconds - timestamp) > toleranceSeconds) throw new WebhookSignatureError('timestamp outside the tolerance');
}

/** A verified webhook body as a ProviderEvent (Stripe's Event object with `data.object`); malformed ones throw. */
export function parseStripeEvent(rawBody: string): ProviderEvent {
    let event: unknown;
    try {
      event = JSON.parse(rawBody);
    } catch {
      throw new WebhookSignatureError('malformed payload');
    }
    if (!isObj(event)) throw new WebhookSignatureError('malformed payload');
    const data = objAt(event, 'data');
    const object = objAt(data, 'object');
    if (typeof event.id !== 'string' || typeof event.type !== 'string' || !object) throw new WebhookSignatureError('malformed payload: not a Stripe event');
    if (typeof event.created !== 'number') throw new WebhookSignatureError('malformed payload: not a Stripe event');
    return {
      id: event.id,
      type: event.type,
      created: event.created,
      account: typeof event.account === 'string' ? event.account : null,
      livemode: !!event.livemode,
      object,
    };
}

function hmacHex(secret: string, payload: string): string {
  return createHmac('sha256', secret).update(payload, 'utf8').digest('hex');
}

// ---------------------------------------------------------------------------------------------------------------
// Form encoding (Stripe's bracket notation)

export type FormValue = string | number | boolean | null | undefined | FormValue[] | { [key: string]: FormValue };

/**
 * `{ metadata: { a: '1' }, line_items: [{ price: 'p' }], expand: ['x'] }` →
 * `metadata[a]=1&line_items[0][price]=p&expand[]=x`. null/undefined are left out; booleans are true/false.
 */
export function encodeStripeForm(params: Record<string, FormValue>): string {
  const out: string[] = [];
  const walk = (key: string, value: FormValue, isExpand: boolean): void => {
    if (value === null || value === undefined) return;
    if (Array.isArray(value)) {
      value.forEach((v, i) => walk(isExpand ? `${key}[]` : `${key}[${i}]`, v, false));
    } else if (typeof value === 'object') {
      for (const [k, v] of Object.entries(value)) walk(`${key}[${encodeKeyPart(k)}]`, v, false);
    } else {
      out.push(`${key}=${encodeURIComponent(String(value))}`);
    }
  };
  for (const [k, v] of Object.entries(params)) walk(encodeKeyPart(k), v, k === 'expand');
  return out.join('&');
}

function encodeKeyPart(k: string): string {
  return encodeURIComponent(k);
}

// ---------------------------------------------------------------------------------------------------------------
// Reading Stripe JSON

type Json = Record<string, unknown>;

function isObj(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

class ShapeError extends Error {}

function reqStr(o: Json, key: string, what: string): string {
  const v = o[key];
  if (typeof v !== 'string') throw new ShapeError(`Stripe returned a ${what} without a string ${key}`);
  return v;
}
function optStr(o: Json | undefined, key: string): string | null {
  const v = o?.[key];
  return typeof v === 'string' ? v : null;
}
function reqNum(o: Json, key: string, what: string): number {
  const v = o[key];
  if (typeof v !== 'number') throw new ShapeError(`Stripe returned a ${what} without a numeric ${key}`);
  return v;
}
function optNum(o: Json | undefined, key: string): number | null {
  const v = o?.[key];
  return typeof v === 'number' ? v : null;
}
function objAt(o: Json | undefined, key: string): Json | undefined {
  const v = o?.[key];
  return isObj(v) ? v : undefined;
}
/** An id field that may be expanded into its object. */
function idOf(v: unknown): string | null {
  if (typeof v === 'string') return v;
  if (isObj(v) && typeof v.id === 'string') return v.id;
  return null;
}
function listData(v: unknown): Json[] {
  if (isObj(v) && Array.isArray(v.data)) return v.data.filter(isObj);
  return [];
}
function metadataOf(v: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (isObj(v)) for (const [k, val] of Object.entries(v)) if (typeof val === 'string') out[k] = val;
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// Mapping

export function mapStripeSubscription(s: Json): ProviderSubscription {
  const item = listData(s.items)[0];
  if (!item) throw new ShapeError(`Stripe returned subscription ${String(s.id)} without items`);
  // Before 2025-03-31.basil the period is on the subscription; from then on, on each item.
  const start = optNum(s, 'current_period_start') ?? optNum(item, 'current_period_start');
  const end = optNum(s, 'current_period_end') ?? optNum(item, 'current_period_end');
  if (start === null || end === null) throw new ShapeError(`Stripe returned subscription ${String(s.id)} without a current period`);
  const priceId = idOf(item.price) ?? idOf(item.plan);
  if (!priceId) throw new ShapeError(`Stripe returned subscription ${String(s.id)} whose item has no price`);
  const customerId = idOf(s.customer);
  if (!customerId) throw new ShapeError(`Stripe returned subscription ${String(s.id)} without a customer`);
  return {
    id: reqStr(s, 'id', 'subscription'),
    customerId,
    status: reqStr(s, 'status', 'subscription') as SubscriptionStatus,
    priceId,
    itemId: reqStr(item, 'id', 'subscription item'),
    currentPeriodStart: start,
    currentPeriodEnd: end,
    cancelAtPeriodEnd: s.cancel_at_period_end === true,
    canceledAt: optNum(s, 'canceled_at'),
    endedAt: optNum(s, 'ended_at'),
    trialEnd: optNum(s, 'trial_end'),
    latestInvoiceId: idOf(s.latest_invoice),
    metadata: metadataOf(s.metadata),
  };
}

export function mapStripeCheckoutSession(s: Json): ProviderCheckoutSession {
  const taxIds = objAt(s, 'customer_details')?.tax_ids;
  return {
    id: reqStr(s, 'id', 'checkout session'),
    url: optStr(s, 'url'),
    status: reqStr(s, 'status', 'checkout session') as ProviderCheckoutSession['status'],
    mode: reqStr(s, 'mode', 'checkout session') as ProviderCheckoutSession['mode'],
    customerId: idOf(s.customer),
    subscriptionId: idOf(s.subscription),
    paymentIntentId: idOf(s.payment_intent),
    paymentStatus: optStr(s, 'payment_status') ?? 'unpaid',
    metadata: metadataOf(s.metadata),
    termsAccepted: objAt(s, 'consent')?.terms_of_service === 'accepted',
    customerTaxIds: Array.isArray(taxIds)
      ? taxIds.filter(isObj).flatMap((t) => (typeof t.type === 'string' && typeof t.value === 'string' ? [{ type: t.type, value: t.value }] : []))
      : [],
    amountTotal: optNum(s, 'amount_total'),
    currency: optStr(s, 'currency'),
  };
}

export function mapStripeInvoice(inv: Json): ProviderInvoice {
  // 2025-03-31.basil moved the subscription under parent.subscription_details and replaced charge /
  // payment_intent with the (includable) payments list.
  let chargeId = idOf(inv.charge);
  let paymentIntentId = idOf(inv.payment_intent);
  if (!chargeId || !paymentIntentId) {
    const payments = listData(inv.payments);
    const paid = payments.find((p) => p.status === 'paid') ?? payments[0];
    const payment = objAt(paid, 'payment');
    if (payment) {
      paymentIntentId ??= idOf(payment.payment_intent);
      chargeId ??= idOf(payment.charge) ?? idOf(objAt(payment, 'payment_intent')?.latest_charge);
    }
  }
  return {
    id: reqStr(inv, 'id', 'invoice'),
    customerId: idOf(inv.customer),
    subscriptionId: idOf(inv.subscription) ?? idOf(objAt(objAt(inv, 'parent'), 'subscription_details')?.subscription),
    chargeId,
    paymentIntentId,
    amountPaid: optNum(inv, 'amount_paid') ?? 0,
    amountDue: optNum(inv, 'amount_due') ?? 0,
    currency: reqStr(inv, 'currency', 'invoice'),
    status: reqStr(inv, 'status', 'invoice') as ProviderInvoice['status'],
    billingReason: optStr(inv, 'billing_reason'),
    created: reqNum(inv, 'created', 'invoice'),
  };
}

export function mapStripeCharge(c: Json): ProviderCharge {
  return {
    id: reqStr(c, 'id', 'charge'),
    amount: reqNum(c, 'amount', 'charge'),
    amountRefunded: optNum(c, 'amount_refunded') ?? 0,
    currency: reqStr(c, 'currency', 'charge'),
    customerId: idOf(c.customer),
    paymentIntentId: idOf(c.payment_intent),
    // Removed from charges in 2025-03-31.basil: null there.
    invoiceId: idOf(c.invoice),
    applicationFeeAmount: optNum(c, 'application_fee_amount'),
    refunded: c.refunded === true,
    disputed: c.disputed === true,
    status: reqStr(c, 'status', 'charge') as ProviderCharge['status'],
    created: reqNum(c, 'created', 'charge'),
    metadata: metadataOf(c.metadata),
  };
}

export function mapStripeDispute(d: Json): ProviderDispute {
  const details = objAt(d, 'evidence_details');
  const chargeId = idOf(d.charge);
  if (!chargeId) throw new ShapeError(`Stripe returned dispute ${String(d.id)} without a charge`);
  return {
    id: reqStr(d, 'id', 'dispute'),
    chargeId,
    paymentIntentId: idOf(d.payment_intent),
    amount: reqNum(d, 'amount', 'dispute'),
    currency: reqStr(d, 'currency', 'dispute'),
    reason: optStr(d, 'reason') ?? 'general',
    status: reqStr(d, 'status', 'dispute') as DisputeStatus,
    evidenceDueBy: optNum(details, 'due_by'),
    evidenceSubmitted: (optNum(details, 'submission_count') ?? 0) > 0,
    created: reqNum(d, 'created', 'dispute'),
  };
}

export function mapStripeAccount(a: Json): ProviderAccount {
  const due = objAt(a, 'requirements')?.currently_due;
  return {
    id: reqStr(a, 'id', 'account'),
    chargesEnabled: a.charges_enabled === true,
    payoutsEnabled: a.payouts_enabled === true,
    detailsSubmitted: a.details_submitted === true,
    requirementsDue: Array.isArray(due) ? due.filter((x): x is string => typeof x === 'string') : [],
    defaultCurrency: optStr(a, 'default_currency'),
  };
}

function mapMoneyList(v: unknown): Money[] {
  return Array.isArray(v) ? v.filter(isObj).map((m) => ({ amount: reqNum(m, 'amount', 'balance entry'), currency: reqStr(m, 'currency', 'balance entry') })) : [];
}

export function mapStripePayout(p: Json): ProviderPayout {
  return {
    id: reqStr(p, 'id', 'payout'),
    amount: reqNum(p, 'amount', 'payout'),
    currency: reqStr(p, 'currency', 'payout'),
    status: reqStr(p, 'status', 'payout') as ProviderPayout['status'],
    arrivalDate: reqNum(p, 'arrival_date', 'payout'),
    created: reqNum(p, 'created', 'payout'),
  };
}

// ---------------------------------------------------------------------------------------------------------------
// The provider

interface RequestOptions {
  idempotencyKey?: string;
  stripeAccount?: string;
}

const EVIDENCE_FIELDS: Record<keyof DisputeEvidence, string> = {
  customerName: 'customer_name',
  customerEmailAddress: 'customer_email_address',
  productDescription: 'product_description',
  serviceDate: 'service_date',
  accessActivityLog: 'access_activity_log',
  customerCommunication: 'customer_communication',
  refundPolicy: 'refund_policy',
  cancellationPolicy: 'cancellation_policy',
  uncategorizedText: 'uncategorized_text',
};

/** Promotion codes reference their coupon as `promotion[coupon]` from this version on (`coupon` before). */
const PROMOTION_HASH_VERSION = '2025-09-30';
/** Invoices lost charge / payment_intent for the includable `payments` list in this version. */
const INVOICE_PAYMENTS_VERSION = '2025-03-31';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class StripeProvider implements PaymentProvider {
  readonly kind = 'stripe' as const;

  async clockNow(): Promise<number> {
    return Math.floor(Date.now() / 1000);
  }
  private readonly secretKey: string;
  private readonly webhookSecret: string;
  private readonly apiBase: string;
  private readonly apiVersion: string | null;
  private readonly fetchImpl: typeof fetch;
  private readonly maxNetworkRetries: number;
  private readonly timeoutMs: number;

  constructor(options: StripeProviderOptions) {
    if (!options.secretKey) throw new Error('StripeProvider: secretKey is required');
    if (!options.webhookSecret) throw new Error('StripeProvider: webhookSecret is required');
    this.secretKey = options.secretKey;
    this.webhookSecret = options.webhookSecret;
    this.apiBase = (options.apiBase ?? 'https://api.stripe.com').replace(/\/+$/, '');
    this.apiVersion = options.apiVersion ?? null;
    this.fetchImpl = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
    this.maxNetworkRetries = Math.max(0, options.maxNetworkRetries ?? 2);
    this.timeoutMs = options.timeoutMs ?? 30_000;
  }

  // -- products, prices, promotion codes ------------------------------------------------------------------------

  async createProduct(input: { idempotencyKey: string; name: string; description: string; metadata: Record<string, string> }) {
    const p = await this.post('/v1/products', { name: input.name, description: input.description || undefined, metadata: input.metadata }, { idempotencyKey: input.idempotencyKey });
    return { id: reqStr(p, 'id', 'product') };
  }

  async updateProduct(id: string, input: { name: string; description: string }) {
    // Stripe unsets a field sent as an empty string.
    await this.post(`/v1/products/${enc(id)}`, { name: input.name, description: input.description });
  }

  async createPrice(input: { idempotencyKey: string; productId: string; unitAmount: number; currency: string; interval: Interval | null; metadata: Record<string, string> }) {
    const p = await this.post(
      '/v1/prices',
      {
        product: input.productId,
        unit_amount: input.unitAmount,
        currency: input.currency.toLowerCase(),
        recurring: input.interval ? { interval: input.interval } : undefined,
        metadata: input.metadata,
      },
      { idempotencyKey: input.idempotencyKey },
    );
    return { id: reqStr(p, 'id', 'price') };
  }

  async archivePrice(id: string) {
    await this.post(`/v1/prices/${enc(id)}`, { active: false });
  }

  async createPromotionCode(input: Parameters<PaymentProvider['createPromotionCode']>[0]) {
    if ((input.percentOff === null) === (input.amountOff === null)) throw new Error('createPromotionCode: exactly one of percentOff and amountOff');
    if (input.amountOff !== null && !input.currency) throw new Error('createPromotionCode: amountOff needs a currency');
    const coupon = await this.post(
      '/v1/coupons',
      {
        percent_off: input.percentOff ?? undefined,
        amount_off: input.amountOff ?? undefined,
        currency: input.amountOff !== null ? input.currency?.toLowerCase() : undefined,
        duration: input.duration,
        duration_in_months: input.duration === 'repeating' ? (input.durationInMonths ?? undefined) : undefined,
        max_redemptions: input.maxRedemptions ?? undefined,
        redeem_by: input.expiresAt ?? undefined,
        applies_to: input.productIds.length > 0 ? { products: input.productIds } : undefined,
        metadata: input.metadata,
      },
      { idempotencyKey: `${input.idempotencyKey}:coupon` },
    );
    const couponId = reqStr(coupon, 'id', 'coupon');
    const common = { code: input.code, max_redemptions: input.maxRedemptions ?? undefined, expires_at: input.expiresAt ?? undefined, metadata: input.metadata };
    const legacy = { coupon: couponId, ...common };
    const modern = { promotion: { type: 'coupon', coupon: couponId }, ...common };
    const promoKey = { idempotencyKey: `${input.idempotencyKey}:promo` };
    let promo: Json;
    if (this.apiVersion !== null) {
      promo = await this.post('/v1/promotion_codes', this.apiVersion >= PROMOTION_HASH_VERSION ? modern : legacy, promoKey);
    } else {
      // Unpinned: the account's default version decides. Stripe saves no idempotent result for a request that
      // fails parameter validation, so the same key may carry the other form.
      try {
        promo = await this.post('/v1/promotion_codes', legacy, promoKey);
      } catch (e) {
        if (!(e instanceof ProviderError && e.code === 'parameter_unknown' && /\bcoupon\b/.test(e.message))) throw e;
        promo = await this.post('/v1/promotion_codes', modern, promoKey);
      }
    }
    return { id: reqStr(promo, 'id', 'promotion code'), couponId };
  }

  async deactivatePromotionCode(id: string) {
    await this.post(`/v1/promotion_codes/${enc(id)}`, { active: false });
  }

  // -- customers and checkout -----------------------------------------------------------------------------------

  async createCustomer(input: { idempotencyKey: string; email: string | null; name: string; metadata: Record<string, string> }) {
    const c = await this.post('/v1/customers', { email: input.email ?? undefined, name: input.name, metadata: input.metadata }, { idempotencyKey: input.idempotencyKey });
    return { id: reqStr(c, 'id', 'customer') };
  }

  async createCheckoutSession(input: Parameters<PaymentProvider['createCheckoutSession']>[0]) {
    const params: Record<string, FormValue> = {
      mode: input.mode,
      customer: input.customerId,
      line_items: [{ price: input.priceId, quantity: 1 }],
      success_url: input.successUrl,
      cancel_url: input.cancelUrl,
      automatic_tax: { enabled: true },
      tax_id_collection: { enabled: true },
      // Stripe requires these when automatic tax / tax ids are collected for an existing customer.
      customer_update: { name: 'auto', address: 'auto' },
      metadata: input.metadata,
    };
    if (input.promotionCodeId) params.discounts = [{ promotion_code: input.promotionCodeId }];
    else if (input.allowPromotionCodes) params.allow_promotion_codes = true;
    if (input.requireTerms) params.consent_collection = { terms_of_service: 'required' };
    if (input.mode === 'subscription') {
      params.subscription_data = {
        trial_period_days: input.trialDays && input.trialDays > 0 ? input.trialDays : undefined,
        metadata: input.metadata,
        application_fee_percent: input.applicationFeePercent ?? undefined,
        transfer_data: input.destinationAccountId ? { destination: input.destinationAccountId } : undefined,
      };
    } else {
      params.payment_intent_data = {
        metadata: input.metadata,
        application_fee_amount: input.applicationFeeAmount ?? undefined,
        transfer_data: input.destinationAccountId ? { destination: input.destinationAccountId } : undefined,
      };
      params.invoice_creation = { enabled: true };
    }
    return mapStripeCheckoutSession(await this.post('/v1/checkout/sessions', params, { idempotencyKey: input.idempotencyKey }));
  }

  async retrieveCheckoutSession(id: string) {
    return mapStripeCheckoutSession(await this.get(`/v1/checkout/sessions/${enc(id)}`));
  }

  async findCheckoutSessionByPaymentIntent(paymentIntentId: string) {
    const list = await this.get('/v1/checkout/sessions', { payment_intent: paymentIntentId, limit: 1 });
    const first = listData(list)[0];
    return first ? mapStripeCheckoutSession(first) : null;
  }

  async createPortalSession(input: { customerId: string; returnUrl: string }) {
    const s = await this.post('/v1/billing_portal/sessions', { customer: input.customerId, return_url: input.returnUrl });
    return { url: reqStr(s, 'url', 'billing portal session') };
  }

  // -- subscriptions --------------------------------------------------------------------------------------------

  async retrieveSubscription(id: string) {
    return mapStripeSubscription(await this.get(`/v1/subscriptions/${enc(id)}`));
  }

  async changeSubscriptionPrice(input: { idempotencyKey: string; subscriptionId: string; itemId: string; priceId: string }) {
    const s = await this.post(
      `/v1/subscriptions/${enc(input.subscriptionId)}`,
      { items: [{ id: input.itemId, price: input.priceId }], proration_behavior: 'create_prorations' },
      { idempotencyKey: input.idempotencyKey },
    );
    return mapStripeSubscription(s);
  }

  async setCancelAtPeriodEnd(subscriptionId: string, cancel: boolean) {
    return mapStripeSubscription(await this.post(`/v1/subscriptions/${enc(subscriptionId)}`, { cancel_at_period_end: cancel }));
  }

  async cancelSubscriptionNow(subscriptionId: string) {
    return mapStripeSubscription(await this.request('DELETE', `/v1/subscriptions/${enc(subscriptionId)}`, {}, {}));
  }

  // -- invoices, charges, refunds, disputes ---------------------------------------------------------------------

  async retrieveInvoice(id: string) {
    // When the pinned version has the includable payments list, ask for it with each payment intent expanded:
    // the payment intent id and its latest_charge replace the removed payment_intent / charge fields.
    const expand =
      this.apiVersion !== null && this.apiVersion >= INVOICE_PAYMENTS_VERSION ? { expand: ['payments', 'payments.data.payment.payment_intent'] } : {};
    return mapStripeInvoice(await this.get(`/v1/invoices/${enc(id)}`, expand));
  }

  async retrieveCharge(id: string) {
    return mapStripeCharge(await this.get(`/v1/charges/${enc(id)}`));
  }

  async createRefund(input: { idempotencyKey: string; chargeId: string; amount: number | null; reason: 'requested_by_customer' | 'duplicate' | 'fraudulent' | null }) {
    const r = await this.post('/v1/refunds', { charge: input.chargeId, amount: input.amount ?? undefined, reason: input.reason ?? undefined }, { idempotencyKey: input.idempotencyKey });
    return { id: reqStr(r, 'id', 'refund'), status: reqStr(r, 'status', 'refund') };
  }

  async retrieveDispute(id: string) {
    return mapStripeDispute(await this.get(`/v1/disputes/${enc(id)}`));
  }

  async updateDisputeEvidence(id: string, evidence: DisputeEvidence, submit: boolean) {
    const ev: Record<string, FormValue> = {};
    for (const [k, v] of Object.entries(evidence) as [keyof DisputeEvidence, string | undefined][]) {
      const field = EVIDENCE_FIELDS[k];
      if (field && v !== undefined) ev[field] = v;
    }
    return mapStripeDispute(await this.post(`/v1/disputes/${enc(id)}`, { evidence: Object.keys(ev).length > 0 ? ev : undefined, submit }));
  }

  // -- Connect --------------------------------------------------------------------------------------------------

  async createConnectedAccount(input: { idempotencyKey: string; email: string | null; country: string | null; metadata: Record<string, string> }) {
    const a = await this.post(
      '/v1/accounts',
      {
        type: 'express',
        email: input.email ?? undefined,
        country: input.country ?? undefined,
        metadata: input.metadata,
        capabilities: { card_payments: { requested: true }, transfers: { requested: true } },
      },
      { idempotencyKey: input.idempotencyKey },
    );
    return { id: reqStr(a, 'id', 'account') };
  }

  async createAccountLink(input: { accountId: string; refreshUrl: string; returnUrl: string }) {
    const l = await this.post('/v1/account_links', { account: input.accountId, refresh_url: input.refreshUrl, return_url: input.returnUrl, type: 'account_onboarding' });
    return { url: reqStr(l, 'url', 'account link') };
  }

  async retrieveAccount(id: string) {
    return mapStripeAccount(await this.get(`/v1/accounts/${enc(id)}`));
  }

  async retrieveBalance(accountId: string): Promise<ProviderBalance> {
    const b = await this.get('/v1/balance', {}, { stripeAccount: accountId });
    return { available: mapMoneyList(b.available), pending: mapMoneyList(b.pending) };
  }

  async listPayouts(accountId: string, limit: number) {
    const list = await this.get('/v1/payouts', { limit }, { stripeAccount: accountId });
    return listData(list).map(mapStripePayout);
  }

  // -- webhooks -------------------------------------------------------------------------------------------------

  verifyWebhook(rawBody: string, signatureHeader: string | null, nowSeconds?: number): ProviderEvent {
    verifyStripeSignature(rawBody, signatureHeader, this.webhookSecret, STRIPE_SIGNATURE_TOLERANCE_SECONDS, nowSeconds ?? Date.now() / 1000);
    return parseStripeEvent(rawBody);
  }

  // -- HTTP -----------------------------------------------------------------------------------------------------

  private post(path: string, params: Record<string, FormValue>, options: RequestOptions = {}): Promise<Json> {
    return this.request('POST', path, params, options);
  }

  private get(path: string, params: Record<string, FormValue> = {}, options: RequestOptions = {}): Promise<Json> {
    return this.request('GET', path, params, options);
  }

  private async request(method: 'GET' | 'POST' | 'DELETE', path: string, params: Record<string, FormValue>, options: RequestOptions): Promise<Json> {
    const form = encodeStripeForm(params);
    const url = `${this.apiBase}${path}${method !== 'POST' && form ? `?${form}` : ''}`;
    const headers: Record<string, string> = {
      Authorization: `Bearer ${this.secretKey}`,
      Accept: 'application/json',
    };
    if (this.apiVersion) headers['Stripe-Version'] = this.apiVersion;
    if (options.stripeAccount) headers['Stripe-Account'] = options.stripeAccount;
    if (method === 'POST') headers['Content-Type'] = 'application/x-www-form-urlencoded';
    // The caller's key when given. Other writes get one of their own (as Stripe's SDKs do), so a retry after a
    // lost connection cannot apply twice.
    if (method !== 'GET') headers['Idempotency-Key'] = options.idempotencyKey ?? `circles-retry-${randomUUID()}`;
    const label = `Stripe ${method} ${path}`;
    const attempts = this.maxNetworkRetries + 1;
    let lastFailure = '';

    for (let attempt = 0; attempt < attempts; attempt++) {
      if (attempt > 0) await sleep(Math.min(100 * 3 ** (attempt - 1), 2_000));
      let res: Response;
      let text: string;
      try {
        res = await this.fetchImpl(url, { method, headers, body: method === 'POST' ? form : undefined, signal: AbortSignal.timeout(this.timeoutMs) });
        text = await res.text();
      } catch (e) {
        lastFailure = this.describeNetworkError(e);
        continue;
      }
      let body: unknown;
      try {
        body = text === '' ? undefined : JSON.parse(text);
      } catch {
        body = undefined;
      }
      if (res.status >= 200 && res.status < 300) {
        if (!isObj(body)) throw new Error(`${label}: ${res.status} response is not a JSON object`);
        return body;
      }
      const err = isObj(body) ? objAt(body, 'error') : undefined;
      const message = this.scrub(optStr(err, 'message') ?? '');
      const code = optStr(err, 'code') ?? (optStr(err, 'type') === 'idempotency_error' ? 'idempotency_error' : null);
      const retryable = res.status >= 500 || res.status === 429 || (res.status === 409 && code === 'idempotency_key_in_use');
      if (retryable && attempt + 1 < attempts) {
        lastFailure = `${res.status}${code ? ` ${code}` : ''}`;
        continue;
      }
      if (err && res.status >= 400 && res.status < 500) {
        throw new ProviderError(message || `Stripe refused the request (${res.status})`, res.status, code);
      }
      throw new Error(`${label} failed: HTTP ${res.status}${code ? ` ${code}` : ''}${message ? `: ${message}` : err ? '' : ' (not a Stripe error response)'}`);
    }
    throw new Error(`${label}: network error after ${attempts} attempt${attempts === 1 ? '' : 's'} (${lastFailure})`);
  }

  private describeNetworkError(e: unknown): string {
    if (e instanceof Error) {
      if (e.name === 'TimeoutError' || e.name === 'AbortError') return `timed out after ${this.timeoutMs} ms`;
      const cause = (e as { cause?: unknown }).cause;
      const code = isObj(cause) && typeof cause.code === 'string' ? cause.code : null;
      const causeMsg = cause instanceof Error ? cause.message : null;
      return this.scrub([e.message, code, causeMsg].filter(Boolean).join(': '));
    }
    return 'unknown network error';
  }

  /** Stripe masks keys in its messages; make sure nothing key-shaped gets through regardless. */
  private scrub(s: string): string {
    return s.split(this.secretKey).join('[redacted]').replace(/\b(sk|rk)_(live|test)_[A-Za-z0-9]+/g, '$1_$2_[redacted]');
  }
}

function enc(id: string): string {
  return encodeURIComponent(id);
}

/**
 * A fake Stripe: a local `node:http` server that speaks the part of Stripe's REST API the payments service uses.
 *
 * This is a TEST DOUBLE for a hosted third party. Stripe's API runs only on Stripe's servers and cannot run
 * here, so the StripeProvider adapter is exercised against this server instead: same wire protocol (form bodies
 * in bracket notation, Bearer auth, Stripe-Version / Stripe-Account / Idempotency-Key headers, Stripe-shaped
 * JSON and error bodies), objects kept in memory. It is not Stripe: it checks what Stripe would refuse for the
 * parameters the adapter sends (unknown parameters, missing ones, mode/price mismatches, checkout's
 * customer_update rules), not everything Stripe checks.
 *
 * Idempotency behaves like Stripe's: a POST's first response is stored under its Idempotency-Key and replayed
 * (`Idempotent-Replayed: true`) for a repeat with the same path and parameters; the same key with other
 * parameters is a 400 `idempotency_error`. Faults: `dropNext` performs a request and then destroys the socket
 * unanswered (the connection lost after Stripe committed), `failNext` answers an error without performing,
 * `delayNext` performs and answers late (client timeouts).
 *
 * Helpers drive state the way Stripe's side would (a checkout completed, a renewal invoice, a dispute opened,
 * an account onboarded, payouts) and build signed webhook events, so tests can run the service end to end.
 *
 * Shapes follow API versions from 2025-03-31.basil on by default (subscription periods on items, invoice
 * subscription under `parent`, invoice payments includable via `expand[]=payments`, their payment intents via
 * `expand[]=payments.data.payment.payment_intent`); `legacyShapes: true`
 * produces the older ones (periods on the subscription, `invoice.subscription/charge/payment_intent`,
 * `charge.invoice`). Promotion codes accept `coupon` and, as in 2025-09-30.clover, `promotion[coupon]`; with a
 * Stripe-Version (or `defaultApiVersion`) of 2025-09-30 or later only the latter.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export type FakeStripeObject = { id: string; object: string; [key: string]: any };
export type FakeStripeParams = { [key: string]: FakeStripeParamValue };
export type FakeStripeParamValue = string | FakeStripeParamValue[] | FakeStripeParams;

export interface FakeStripeRequest {
  method: string;
  /** Path without the query string. */
  path: string;
  /** Lower-cased header names. */
  headers: Record<string, string>;
  /** The form body (POST) or query (GET/DELETE), parsed from bracket notation into nested objects/arrays. */
  params: FakeStripeParams;
  /** The body (POST) or query string (GET/DELETE), percent-decoded for easy matching (`metadata[k]=v&...`). */
  raw: string;
}

export interface FakeStripeOptions {
  /** The secret key requests must carry as `Authorization: Bearer <key>`. Default 'sk_test_fake_circles'. */
  apiKey?: string;
  /** Called for every request; true: perform it, then drop the connection without answering. */
  dropFirst?: (method: string, path: string) => boolean;
  /** Unix seconds (default: the real clock). */
  now?: () => number;
  /** Older (pre-2025-03-31.basil) object shapes. */
  legacyShapes?: boolean;
  /** The account's default API version, used when a request sends no Stripe-Version. */
  defaultApiVersion?: string;
}

export interface FakeStripeBalance {
  object: 'balance';
  available: { amount: number; currency: string; source_types: Record<string, number> }[];
  pending: { amount: number; currency: string; source_types: Record<string, number> }[];
  livemode: boolean;
}

export interface FakeStripeError {
  status: number;
  type?: string;
  code?: string;
  message?: string;
}

export interface CompletedCheckout {
  session: FakeStripeObject;
  customer: FakeStripeObject;
  subscription: FakeStripeObject | null;
  invoice: FakeStripeObject | null;
  paymentIntent: FakeStripeObject | null;
  charge: FakeStripeObject | null;
}

export interface FakeStripeEvent {
  id: string;
  object: 'event';
  api_version: string | null;
  type: string;
  created: number;
  livemode: boolean;
  pending_webhooks: number;
  request: { id: string | null; idempotency_key: string | null };
  account?: string;
  data: { object: Record<string, unknown>; previous_attributes?: Record<string, unknown> };
}

export interface FakeStripe {
  /** http://127.0.0.1:<port>: pass as StripeProvider's apiBase. */
  readonly url: string;
  readonly apiKey: string;
  /** Every request received, in order (including dropped and failed ones). */
  readonly requests: FakeStripeRequest[];

  readonly products: Map<string, FakeStripeObject>;
  readonly prices: Map<string, FakeStripeObject>;
  readonly coupons: Map<string, FakeStripeObject>;
  readonly promotionCodes: Map<string, FakeStripeObject>;
  readonly customers: Map<string, FakeStripeObject>;
  readonly checkoutSessions: Map<string, FakeStripeObject>;
  /** The parameters each checkout session was created with (subscription_data, payment_intent_data, ...). */
  readonly checkoutParams: Map<string, FakeStripeParams>;
  readonly portalSessions: Map<string, FakeStripeObject>;
  readonly subscriptions: Map<string, FakeStripeObject>;
  readonly invoices: Map<string, FakeStripeObject>;
  /** invoice id → its invoice_payment objects (what `expand[]=payments` includes). */
  readonly invoicePayments: Map<string, FakeStripeObject[]>;
  readonly paymentIntents: Map<string, FakeStripeObject>;
  readonly charges: Map<string, FakeStripeObject>;
  readonly refunds: Map<string, FakeStripeObject>;
  readonly disputes: Map<string, FakeStripeObject>;
  readonly accounts: Map<string, FakeStripeObject>;
  readonly accountLinks: Map<string, FakeStripeObject>;
  /** Keyed by connected account id ('platform' for the platform's own). */
  readonly balances: Map<string, FakeStripeBalance>;
  readonly payouts: Map<string, FakeStripeObject[]>;

  /** The requests whose method matches and whose path starts with the prefix. */
  requestsTo(method: string, pathPrefix: string): FakeStripeRequest[];
  /** The next `count` matching requests are performed, then their connections destroyed unanswered. */
  dropNext(method: string, pathPrefix: string, count?: number): void;
  /** The next `count` matching requests are answered with this error without being performed (nothing stored). */
  failNext(method: string, pathPrefix: string, error: FakeStripeError, count?: number): void;
  /** The next `count` matching requests are performed, then answered after `ms`. */
  delayNext(method: string, pathPrefix: string, ms: number, count?: number): void;
  /** Unix seconds, by the fake's clock. */
  now(): number;

  // Driving state the way Stripe's side would.
  createCustomer(init?: { email?: string | null; name?: string | null; metadata?: Record<string, string> }): FakeStripeObject;
  createPrice(init: { unitAmount: number; currency?: string; interval?: 'month' | 'year' | null; product?: string; metadata?: Record<string, string> }): FakeStripeObject;
  createSubscription(init: {
    customer?: string;
    price?: string;
    status?: string;
    trialDays?: number;
    currentPeriodStart?: number;
    currentPeriodEnd?: number;
    metadata?: Record<string, string>;
    transferDestination?: string | null;
    applicationFeePercent?: number | null;
  }): FakeStripeObject;
  /** Shallow-merges `patch` into the stored subscription; returns it. */
  setSubscription(id: string, patch: Record<string, unknown>): FakeStripeObject;
  /** Sets the current period where this fake's shapes keep it (items, or the subscription when legacy). */
  setSubscriptionPeriod(id: string, start: number, end: number): FakeStripeObject;
  /** A paid invoice (with a charge when amount > 0 and no charge given) for a subscription or customer. */
  createInvoice(init: {
    subscription?: string | null;
    customer?: string | null;
    amountPaid?: number;
    amountDue?: number;
    currency?: string;
    status?: string;
    billingReason?: string | null;
    charge?: string | null;
    paymentIntent?: string | null;
    setAsLatest?: boolean;
  }): FakeStripeObject;
  setInvoice(id: string, patch: Record<string, unknown>): FakeStripeObject;
  /** A succeeded charge and its payment intent. */
  createCharge(init: {
    amount: number;
    currency?: string;
    customer?: string | null;
    invoice?: string | null;
    paymentIntent?: string | null;
    applicationFeeAmount?: number | null;
    transferDestination?: string | null;
    metadata?: Record<string, string>;
    status?: string;
  }): FakeStripeObject;
  setCharge(id: string, patch: Record<string, unknown>): FakeStripeObject;
  /** Opens a dispute on a charge (marks it disputed). */
  createDispute(init: { charge: string; amount?: number; reason?: string; status?: string; evidenceDueBy?: number | null }): FakeStripeObject;
  setDispute(id: string, patch: Record<string, unknown>): FakeStripeObject;
  /** Creates or patches a connected account. */
  setAccount(id: string, patch?: Record<string, unknown>): FakeStripeObject;
  /** Charges and payouts enabled, nothing due. */
  completeOnboarding(accountId: string): FakeStripeObject;
  setBalance(accountId: string, balance: { available?: { amount: number; currency: string }[]; pending?: { amount: number; currency: string }[] }): FakeStripeBalance;
  addPayout(accountId: string, init: { amount: number; currency?: string; status?: string; arrivalDate?: number; created?: number }): FakeStripeObject;
  /**
   * What Stripe does when the buyer pays: marks the session complete and, in subscription mode, creates the
   * subscription (trialing with trial days, else active with a paid invoice and charge); in payment mode a
   * payment intent, a charge and (invoice_creation) a paid invoice.
   */
  completeCheckout(sessionId: string, options?: { termsAccepted?: boolean; taxIds?: { type: string; value: string }[]; email?: string; name?: string }): CompletedCheckout;
  expireCheckout(sessionId: string): FakeStripeObject;

  /** A Stripe Event object for `object` (a deep copy, as sent). */
  event(type: string, object: Record<string, unknown>, extra?: Partial<Pick<FakeStripeEvent, 'account' | 'livemode' | 'created' | 'id' | 'api_version'>> & { previousAttributes?: Record<string, unknown> }): FakeStripeEvent;
  /** The body and `Stripe-Signature` header Stripe would deliver. */
  signEvent(event: FakeStripeEvent | Record<string, unknown>, secret: string, timestampSeconds?: number): { body: string; header: string };

  close(): Promise<void>;
}

class StripeHttpError extends Error {
  constructor(
    readonly status: number,
    readonly type: string,
    message: string,
    readonly code?: string,
    readonly param?: string,
  ) {
    super(message);
  }
}

interface Rule {
  method: string;
  prefix: string;
  remaining: number;
}

interface StoredResponse {
  fingerprint: string;
  status: number;
  body: unknown;
}

const DAY = 86_400;
const CURRENCY_BY_COUNTRY: Record<string, string> = { US: 'usd', GB: 'gbp', CA: 'cad', AU: 'aud', NZ: 'nzd', JP: 'jpy', CH: 'chf', SE: 'sek', NO: 'nok', DK: 'dkk', PL: 'pln' };
const EURO = new Set(['AT', 'BE', 'CY', 'DE', 'EE', 'ES', 'FI', 'FR', 'GR', 'HR', 'IE', 'IT', 'LT', 'LU', 'LV', 'MT', 'NL', 'PT', 'SI', 'SK']);
const EVIDENCE_KEYS = [
  'access_activity_log',
  'billing_address',
  'cancellation_policy',
  'cancellation_policy_disclosure',
  'cancellation_rebuttal',
  'customer_communication',
  'customer_email_address',
  'customer_name',
  'customer_purchase_ip',
  'product_description',
  'refund_policy',
  'refund_policy_disclosure',
  'refund_refusal_explanation',
  'service_date',
  'service_documentation',
  'uncategorized_text',
];

function rid(prefix: string, length = 24): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  const bytes = randomBytes(length);
  let s = '';
  for (const b of bytes) s += alphabet[b % alphabet.length];
  return `${prefix}${s}`;
}

function couponId(): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
  let s = '';
  for (const b of randomBytes(8)) s += alphabet[b % alphabet.length];
  return s;
}

/** `a[b][0][c]=v&e[]=x` → `{ a: { b: [{ c: 'v' }] }, e: ['x'] }`. */
export function parseStripeForm(body: string): FakeStripeParams {
  const root: FakeStripeParams = {};
  for (const [rawKey, value] of new URLSearchParams(body)) {
    const m = /^([^[\]]+)((?:\[[^[\]]*\])*)$/.exec(rawKey);
    if (!m) throw new StripeHttpError(400, 'invalid_request_error', `Invalid parameter name: ${rawKey}`);
    const segments = [m[1]!, ...[...m[2]!.matchAll(/\[([^[\]]*)\]/g)].map((x) => x[1]!)];
    let container: FakeStripeParams | FakeStripeParamValue[] = root;
    for (let i = 0; i < segments.length; i++) {
      const seg = segments[i]!;
      const last = i === segments.length - 1;
      const next = segments[i + 1];
      const makeChild = (): FakeStripeParams | FakeStripeParamValue[] => (next === '' || (next !== undefined && /^\d+$/.test(next)) ? [] : {});
      if (Array.isArray(container)) {
        const index = seg === '' ? container.length : Number(seg);
        if (!/^\d*$/.test(seg)) throw new StripeHttpError(400, 'invalid_request_error', `Invalid array index in ${rawKey}`);
        if (last) container[index] = value;
        else {
          const existing: FakeStripeParamValue | undefined = container[index];
          if (existing === undefined || typeof existing === 'string') container[index] = makeChild();
          container = container[index] as FakeStripeParams | FakeStripeParamValue[];
        }
      } else {
        if (last) container[seg] = value;
        else {
          const existing: FakeStripeParamValue | undefined = container[seg];
          if (existing === undefined || typeof existing === 'string') container[seg] = makeChild();
          container = container[seg] as FakeStripeParams | FakeStripeParamValue[];
        }
      }
    }
  }
  return root;
}

function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v && typeof v === 'object') {
    return `{${Object.keys(v)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v);
}

const clone = <T>(v: T): T => structuredClone(v);

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s.replace(/\+/g, ' '));
  } catch {
    return s;
  }
}

// -- parameter readers (all raise Stripe-style 400s) ---------------------------------------------------------------

function unknownParams(params: FakeStripeParams, allowed: string[], prefix = ''): void {
  for (const k of Object.keys(params)) {
    if (!allowed.includes(k)) {
      const name = prefix ? `${prefix}[${k}]` : k;
      throw new StripeHttpError(400, 'invalid_request_error', `Received unknown parameter: ${name}`, 'parameter_unknown', name);
    }
  }
}
function str(params: FakeStripeParams | undefined, key: string, name = key): string | undefined {
  const v = params?.[key];
  if (v === undefined) return undefined;
  if (typeof v !== 'string') throw new StripeHttpError(400, 'invalid_request_error', `Invalid string: ${name}`, 'parameter_invalid_string', name);
  return v;
}
function reqStr(params: FakeStripeParams | undefined, key: string, name = key): string {
  const v = str(params, key, name);
  if (v === undefined || v === '') throw new StripeHttpError(400, 'invalid_request_error', `Missing required param: ${name}.`, 'parameter_missing', name);
  return v;
}
function int(params: FakeStripeParams | undefined, key: string, name = key): number | undefined {
  const v = str(params, key, name);
  if (v === undefined) return undefined;
  if (!/^-?\d+$/.test(v)) throw new StripeHttpError(400, 'invalid_request_error', `Invalid integer: ${v}`, 'parameter_invalid_integer', name);
  return Number(v);
}
function decimal(params: FakeStripeParams | undefined, key: string, name = key): number | undefined {
  const v = str(params, key, name);
  if (v === undefined) return undefined;
  if (!/^\d+(\.\d+)?$/.test(v)) throw new StripeHttpError(400, 'invalid_request_error', `Invalid decimal: ${v}`, 'parameter_invalid_decimal', name);
  return Number(v);
}
function bool(params: FakeStripeParams | undefined, key: string, name = key): boolean | undefined {
  const v = str(params, key, name);
  if (v === undefined) return undefined;
  if (v !== 'true' && v !== 'false') throw new StripeHttpError(400, 'invalid_request_error', `Invalid boolean: ${v}`, 'parameter_invalid_boolean', name);
  return v === 'true';
}
function hash(params: FakeStripeParams | undefined, key: string, name = key): FakeStripeParams | undefined {
  const v = params?.[key];
  if (v === undefined) return undefined;
  if (typeof v !== 'object' || Array.isArray(v)) throw new StripeHttpError(400, 'invalid_request_error', `Invalid object: ${name}`, 'parameter_invalid_object', name);
  return v;
}
function list(params: FakeStripeParams | undefined, key: string, name = key): FakeStripeParamValue[] | undefined {
  const v = params?.[key];
  if (v === undefined) return undefined;
  if (!Array.isArray(v)) throw new StripeHttpError(400, 'invalid_request_error', `Invalid array: ${name}`, 'parameter_invalid_array', name);
  return v;
}
function metadata(params: FakeStripeParams | undefined, key = 'metadata'): Record<string, string> | undefined {
  const m = hash(params, key);
  if (!m) return undefined;
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(m)) {
    if (typeof v !== 'string') throw new StripeHttpError(400, 'invalid_request_error', `Invalid metadata value for ${k}`, 'parameter_invalid_string', `${key}[${k}]`);
    if (v !== '') out[k] = v;
  }
  return out;
}
function oneOf(value: string | undefined, allowed: string[], name: string): void {
  if (value !== undefined && !allowed.includes(value)) {
    throw new StripeHttpError(400, 'invalid_request_error', `Invalid ${name}: must be one of ${allowed.join(', ')}`, 'parameter_invalid_enum', name);
  }
}
function missing(kind: string, id: string, param = 'id'): StripeHttpError {
  return new StripeHttpError(404, 'invalid_request_error', `No such ${kind}: '${id}'`, 'resource_missing', param);
}

export async function startFakeStripe(opts: FakeStripeOptions = {}): Promise<FakeStripe> {
  const apiKey = opts.apiKey ?? 'sk_test_fake_circles';
  const now = opts.now ?? (() => Math.floor(Date.now() / 1000));
  const legacy = opts.legacyShapes === true;

  const requests: FakeStripeRequest[] = [];
  const idempotency = new Map<string, StoredResponse>();
  const drops: Rule[] = [];
  const fails: (Rule & { error: FakeStripeError })[] = [];
  const delays: (Rule & { ms: number })[] = [];

  const products = new Map<string, FakeStripeObject>();
  const prices = new Map<string, FakeStripeObject>();
  const coupons = new Map<string, FakeStripeObject>();
  const promotionCodes = new Map<string, FakeStripeObject>();
  const customers = new Map<string, FakeStripeObject>();
  const checkoutSessions = new Map<string, FakeStripeObject>();
  const checkoutParams = new Map<string, FakeStripeParams>();
  const portalSessions = new Map<string, FakeStripeObject>();
  const subscriptions = new Map<string, FakeStripeObject>();
  const invoices = new Map<string, FakeStripeObject>();
  const invoicePayments = new Map<string, FakeStripeObject[]>();
  const paymentIntents = new Map<string, FakeStripeObject>();
  const charges = new Map<string, FakeStripeObject>();
  const refunds = new Map<string, FakeStripeObject>();
  const disputes = new Map<string, FakeStripeObject>();
  const accounts = new Map<string, FakeStripeObject>();
  const accountLinks = new Map<string, FakeStripeObject>();
  const balances = new Map<string, FakeStripeBalance>();
  const payouts = new Map<string, FakeStripeObject[]>();

  const takeRule = <R extends Rule>(rules: R[], method: string, path: string): R | null => {
    const rule = rules.find((r) => r.method === method && path.startsWith(r.prefix) && r.remaining > 0);
    if (!rule) return null;
    rule.remaining--;
    if (rule.remaining === 0) rules.splice(rules.indexOf(rule), 1);
    return rule;
  };

  const get = (map: Map<string, FakeStripeObject>, kind: string, id: string, param = 'id'): FakeStripeObject => {
    const o = map.get(id);
    if (!o) throw missing(kind, id, param);
    return o;
  };

  // -- object builders ----------------------------------------------------------------------------------------

  function defaultCurrency(country: string): string {
    return CURRENCY_BY_COUNTRY[country] ?? (EURO.has(country) ? 'eur' : 'usd');
  }

  function newCustomer(init: { email?: string | null; name?: string | null; metadata?: Record<string, string> }): FakeStripeObject {
    const c: FakeStripeObject = {
      id: rid('cus_', 14),
      object: 'customer',
      address: null,
      created: now(),
      email: init.email ?? null,
      livemode: false,
      metadata: init.metadata ?? {},
      name: init.name ?? null,
      tax_exempt: 'none',
    };
    customers.set(c.id, c);
    return c;
  }

  function newProduct(init: { name: string; description?: string | null; metadata?: Record<string, string> }): FakeStripeObject {
    const p: FakeStripeObject = {
      id: rid('prod_', 14),
      object: 'product',
      active: true,
      created: now(),
      description: init.description ?? null,
      livemode: false,
      metadata: init.metadata ?? {},
      name: init.name,
      updated: now(),
    };
    products.set(p.id, p);
    return p;
  }

  function newPrice(init: { product: string; unitAmount: number; currency: string; interval: string | null; metadata?: Record<string, string> }): FakeStripeObject {
    const p: FakeStripeObject = {
      id: rid('price_'),
      object: 'price',
      active: true,
      billing_scheme: 'per_unit',
      created: now(),
      currency: init.currency,
      livemode: false,
      metadata: init.metadata ?? {},
      product: init.product,
      recurring: init.interval ? { interval: init.interval, interval_count: 1, usage_type: 'licensed' } : null,
      type: init.interval ? 'recurring' : 'one_time',
      unit_amount: init.unitAmount,
    };
    prices.set(p.id, p);
    return p;
  }

  function newPaymentIntent(init: { amount: number; currency: string; customer: string | null; metadata?: Record<string, string>; applicationFeeAmount?: number | null; transferDestination?: string | null }): FakeStripeObject {
    const pi: FakeStripeObject = {
      id: rid('pi_'),
      object: 'payment_intent',
      amount: init.amount,
      amount_received: init.amount,
      application_fee_amount: init.applicationFeeAmount ?? null,
      created: now(),
      currency: init.currency,
      customer: init.customer,
      latest_charge: null,
      livemode: false,
      metadata: init.metadata ?? {},
      status: 'succeeded',
      transfer_data: init.transferDestination ? { destination: init.transferDestination } : null,
    };
    paymentIntents.set(pi.id, pi);
    return pi;
  }

  function newCharge(init: {
    amount: number;
    currency?: string;
    customer?: string | null;
    invoice?: string | null;
    paymentIntent?: string | null;
    applicationFeeAmount?: number | null;
    transferDestination?: string | null;
    metadata?: Record<string, string>;
    status?: string;
  }): FakeStripeObject {
    const currency = init.currency ?? 'usd';
    let piId = init.paymentIntent ?? null;
    if (!piId) {
      piId = newPaymentIntent({
        amount: init.amount,
        currency,
        customer: init.customer ?? null,
        metadata: init.metadata,
        applicationFeeAmount: init.applicationFeeAmount,
        transferDestination: init.transferDestination,
      }).id;
    }
    const ch: FakeStripeObject = {
      id: rid('ch_'),
      object: 'charge',
      amount: init.amount,
      amount_captured: init.amount,
      amount_refunded: 0,
      application_fee: init.applicationFeeAmount ? rid('fee_') : null,
      application_fee_amount: init.applicationFeeAmount ?? null,
      captured: true,
      created: now(),
      currency,
      customer: init.customer ?? null,
      disputed: false,
      livemode: false,
      metadata: init.metadata ?? {},
      paid: (init.status ?? 'succeeded') === 'succeeded',
      payment_intent: piId,
      refunded: false,
      status: init.status ?? 'succeeded',
      transfer_data: init.transferDestination ? { destination: init.transferDestination, amount: null } : null,
    };
    if (legacy) ch.invoice = init.invoice ?? null;
    charges.set(ch.id, ch);
    const pi = paymentIntents.get(piId);
    if (pi) pi.latest_charge = ch.id;
    return ch;
  }

  function linkInvoicePayment(invoice: FakeStripeObject, chargeId: string | null, piId: string | null): void {
    if (legacy) {
      invoice.charge = chargeId;
      invoice.payment_intent = piId;
      if (chargeId) {
        const ch = charges.get(chargeId);
        if (ch) ch.invoice = invoice.id;
      }
      return;
    }
    if (!piId) return;
    const payment: FakeStripeObject = {
      id: rid('inpay_'),
      object: 'invoice_payment',
      amount_paid: invoice.amount_paid,
      amount_requested: invoice.amount_due,
      created: now(),
      currency: invoice.currency,
      invoice: invoice.id,
      is_default: true,
      livemode: false,
      payment: { type: 'payment_intent', payment_intent: piId },
      status: invoice.status === 'paid' ? 'paid' : 'open',
      status_transitions: { canceled_at: null, paid_at: invoice.status === 'paid' ? now() : null },
    };
    invoicePayments.set(invoice.id, [payment, ...(invoicePayments.get(invoice.id) ?? [])]);
  }

  function newInvoice(init: {
    subscription?: string | null;
    customer?: string | null;
    amountPaid?: number;
    amountDue?: number;
    currency?: string;
    status?: string;
    billingReason?: string | null;
    charge?: string | null;
    paymentIntent?: string | null;
    setAsLatest?: boolean;
  }): FakeStripeObject {
    const sub = init.subscription ? get(subscriptions, 'subscription', init.subscription) : null;
    const price = sub ? prices.get(sub.items.data[0]?.price?.id) : undefined;
    const status = init.status ?? 'paid';
    const amountDue = init.amountDue ?? init.amountPaid ?? price?.unit_amount ?? 0;
    const amountPaid = init.amountPaid ?? (status === 'paid' ? amountDue : 0);
    const currency = init.currency ?? price?.currency ?? 'usd';
    const customer = init.customer ?? sub?.customer ?? null;
    const inv: FakeStripeObject = {
      id: rid('in_'),
      object: 'invoice',
      amount_due: amountDue,
      amount_paid: amountPaid,
      amount_remaining: amountDue - amountPaid,
      billing_reason: init.billingReason ?? (sub ? 'subscription_cycle' : 'manual'),
      created: now(),
      currency,
      customer,
      livemode: false,
      metadata: {},
      period_end: now(),
      period_start: now(),
      status,
      status_transitions: { paid_at: status === 'paid' ? now() : null, finalized_at: now() },
    };
    if (legacy) {
      inv.subscription = sub?.id ?? null;
      inv.charge = null;
      inv.payment_intent = null;
      inv.paid = status === 'paid';
    } else {
      inv.parent = sub ? { type: 'subscription_details', quote_details: null, subscription_details: { metadata: clone(sub.metadata), subscription: sub.id } } : null;
    }
    invoices.set(inv.id, inv);
    let chargeId = init.charge ?? null;
    let piId = init.paymentIntent ?? null;
    if (!chargeId && !piId && status === 'paid' && amountPaid > 0) {
      const fee = sub?.application_fee_percent != null ? Math.round((amountPaid * sub.application_fee_percent) / 100) : null;
      const ch = newCharge({ amount: amountPaid, currency, customer, invoice: inv.id, applicationFeeAmount: fee, transferDestination: sub?.transfer_data?.destination ?? null });
      chargeId = ch.id;
      piId = ch.payment_intent;
    } else if (chargeId && !piId) {
      piId = charges.get(chargeId)?.payment_intent ?? null;
    }
    linkInvoicePayment(inv, chargeId, piId);
    if (sub && init.setAsLatest !== false) sub.latest_invoice = inv.id;
    return inv;
  }

  function newSubscription(init: {
    customer?: string;
    price?: string;
    status?: string;
    trialDays?: number;
    currentPeriodStart?: number;
    currentPeriodEnd?: number;
    metadata?: Record<string, string>;
    transferDestination?: string | null;
    applicationFeePercent?: number | null;
  }): FakeStripeObject {
    const customer = init.customer ?? newCustomer({}).id;
    const price = init.price ? get(prices, 'price', init.price) : newPrice({ product: newProduct({ name: 'Fake plan' }).id, unitAmount: 500, currency: 'usd', interval: 'month' });
    const start = init.currentPeriodStart ?? now();
    const trialEnd = init.trialDays && init.trialDays > 0 ? start + init.trialDays * DAY : null;
    const end = init.currentPeriodEnd ?? trialEnd ?? start + (price.recurring?.interval === 'year' ? 365 : 30) * DAY;
    const id = rid('sub_');
    const item: FakeStripeObject = {
      id: rid('si_', 14),
      object: 'subscription_item',
      created: now(),
      metadata: {},
      price: clone(price),
      quantity: 1,
      subscription: id,
    };
    if (!legacy) {
      item.current_period_start = start;
      item.current_period_end = end;
    }
    const sub: FakeStripeObject = {
      id,
      object: 'subscription',
      application_fee_percent: init.applicationFeePercent ?? null,
      cancel_at: null,
      cancel_at_period_end: false,
      canceled_at: null,
      created: now(),
      currency: price.currency,
      customer,
      ended_at: null,
      items: { object: 'list', data: [item], has_more: false, total_count: 1, url: `/v1/subscription_items?subscription=${id}` },
      latest_invoice: null,
      livemode: false,
      metadata: init.metadata ?? {},
      start_date: start,
      status: init.status ?? (trialEnd ? 'trialing' : 'active'),
      transfer_data: init.transferDestination ? { destination: init.transferDestination, amount_percent: null } : null,
      trial_end: trialEnd,
      trial_start: trialEnd ? start : null,
    };
    if (legacy) {
      sub.current_period_start = start;
      sub.current_period_end = end;
    }
    subscriptions.set(id, sub);
    return sub;
  }

  function newAccount(id: string, init: { email?: string | null; country?: string; metadata?: Record<string, string> }): FakeStripeObject {
    const country = init.country ?? 'US';
    const a: FakeStripeObject = {
      id,
      object: 'account',
      business_type: null,
      capabilities: { card_payments: 'inactive', transfers: 'inactive' },
      charges_enabled: false,
      country,
      created: now(),
      default_currency: defaultCurrency(country),
      details_submitted: false,
      email: init.email ?? null,
      metadata: init.metadata ?? {},
      payouts_enabled: false,
      requirements: {
        currently_due: ['business_type', 'external_account', 'tos_acceptance.date', 'tos_acceptance.ip'],
        eventually_due: ['business_type', 'external_account', 'tos_acceptance.date', 'tos_acceptance.ip'],
        past_due: [],
        disabled_reason: 'requirements.past_due',
      },
      type: 'express',
    };
    accounts.set(id, a);
    return a;
  }

  function patch(map: Map<string, FakeStripeObject>, kind: string, id: string, p: Record<string, unknown>): FakeStripeObject {
    const o = get(map, kind, id);
    Object.assign(o, clone(p));
    return o;
  }

  function couponExpanded(promo: FakeStripeObject): FakeStripeObject {
    const out = clone(promo);
    if ('coupon' in out && typeof out.coupon === 'string') out.coupon = clone(coupons.get(out.coupon) ?? null);
    return out;
  }

  // -- the endpoints ------------------------------------------------------------------------------------------

  function handle(method: string, path: string, params: FakeStripeParams, headers: Record<string, string>): { status: number; body: unknown } {
    const ok = (body: unknown) => ({ status: 200, body: clone(body) });
    const seg = path.split('/').filter(Boolean); // ['v1', 'products', id?]
    if (seg[0] !== 'v1') throw new StripeHttpError(404, 'invalid_request_error', `Unrecognized request URL (${method}: ${path}).`);
    const [, resource, id, sub] = seg;
    const version = headers['stripe-version'] ?? opts.defaultApiVersion ?? null;
    const stripeAccount = headers['stripe-account'];
    if (stripeAccount && !accounts.has(stripeAccount)) {
      throw new StripeHttpError(403, 'invalid_request_error', `The provided key does not have access to account '${stripeAccount}' (or that account does not exist). Application access may have been revoked.`, 'account_invalid');
    }
    const route = `${method} ${resource ?? ''}${id !== undefined ? '/:id' : ''}${sub !== undefined ? `/${sub}` : ''}`;
    const checkoutRoute = resource === 'checkout' ? `${method} checkout/${id ?? ''}${sub !== undefined ? '/:id' : ''}` : null;
    const billingRoute = resource === 'billing_portal' ? `${method} billing_portal/${id ?? ''}` : null;

    switch (checkoutRoute ?? billingRoute ?? route) {
      case 'POST products': {
        unknownParams(params, ['name', 'description', 'metadata', 'active']);
        const description = str(params, 'description');
        if (description === '') throw new StripeHttpError(400, 'invalid_request_error', "You passed an empty string for 'description'. We assume empty values are an attempt to unset a parameter; however 'description' cannot be unset.", 'parameter_invalid_empty', 'description');
        return ok(newProduct({ name: reqStr(params, 'name'), description, metadata: metadata(params) }));
      }
      case 'POST products/:id': {
        unknownParams(params, ['name', 'description', 'metadata', 'active']);
        const p = get(products, 'product', id!);
        const name = str(params, 'name');
        if (name !== undefined) p.name = name;
        const description = str(params, 'description');
        if (description !== undefined) p.description = description === '' ? null : description;
        const active = bool(params, 'active');
        if (active !== undefined) p.active = active;
        const md = metadata(params);
        if (md) p.metadata = { ...p.metadata, ...md };
        p.updated = now();
        return ok(p);
      }
      case 'POST prices': {
        unknownParams(params, ['product', 'unit_amount', 'currency', 'recurring', 'metadata', 'active']);
        const product = reqStr(params, 'product');
        get(products, 'product', product, 'product');
        const unitAmount = int(params, 'unit_amount');
        if (unitAmount === undefined) throw new StripeHttpError(400, 'invalid_request_error', 'Missing required param: unit_amount.', 'parameter_missing', 'unit_amount');
        const currency = reqStr(params, 'currency');
        const recurring = hash(params, 'recurring');
        if (recurring) unknownParams(recurring, ['interval', 'interval_count'], 'recurring');
        const interval = recurring ? reqStr(recurring, 'interval', 'recurring[interval]') : null;
        oneOf(interval ?? undefined, ['day', 'week', 'month', 'year'], 'recurring[interval]');
        return ok(newPrice({ product, unitAmount, currency: currency.toLowerCase(), interval, metadata: metadata(params) }));
      }
      case 'POST prices/:id': {
        unknownParams(params, ['active', 'metadata']);
        const p = get(prices, 'price', id!);
        const active = bool(params, 'active');
        if (active !== undefined) p.active = active;
        const md = metadata(params);
        if (md) p.metadata = { ...p.metadata, ...md };
        return ok(p);
      }
      case 'POST coupons': {
        unknownParams(params, ['percent_off', 'amount_off', 'currency', 'duration', 'duration_in_months', 'max_redemptions', 'redeem_by', 'applies_to', 'metadata', 'name', 'id']);
        const percentOff = decimal(params, 'percent_off');
        const amountOff = int(params, 'amount_off');
        if ((percentOff === undefined) === (amountOff === undefined)) throw new StripeHttpError(400, 'invalid_request_error', 'Exactly one of percent_off or amount_off is required.', 'parameter_missing', 'percent_off');
        const currency = str(params, 'currency');
        if (amountOff !== undefined && !currency) throw new StripeHttpError(400, 'invalid_request_error', 'You must pass currency when passing amount_off.', 'parameter_missing', 'currency');
        const duration = str(params, 'duration') ?? 'once';
        oneOf(duration, ['once', 'repeating', 'forever'], 'duration');
        const months = int(params, 'duration_in_months');
        if (duration === 'repeating' && months === undefined) throw new StripeHttpError(400, 'invalid_request_error', 'duration_in_months is required when duration is repeating.', 'parameter_missing', 'duration_in_months');
        const appliesTo = hash(params, 'applies_to');
        if (appliesTo) unknownParams(appliesTo, ['products'], 'applies_to');
        const productIds = (list(appliesTo, 'products', 'applies_to[products]') ?? []).map((p, i) => {
          if (typeof p !== 'string') throw new StripeHttpError(400, 'invalid_request_error', `Invalid string: applies_to[products][${i}]`);
          get(products, 'product', p, `applies_to[products][${i}]`);
          return p;
        });
        const c: FakeStripeObject = {
          id: str(params, 'id') ?? couponId(),
          object: 'coupon',
          amount_off: amountOff ?? null,
          applies_to: productIds.length > 0 ? { products: productIds } : undefined,
          created: now(),
          currency: amountOff !== undefined ? currency!.toLowerCase() : null,
          duration,
          duration_in_months: months ?? null,
          livemode: false,
          max_redemptions: int(params, 'max_redemptions') ?? null,
          metadata: metadata(params) ?? {},
          name: str(params, 'name') ?? null,
          percent_off: percentOff ?? null,
          redeem_by: int(params, 'redeem_by') ?? null,
          times_redeemed: 0,
          valid: true,
        };
        if (c.applies_to === undefined) delete c.applies_to;
        coupons.set(c.id, c);
        return ok(c);
      }
      case 'POST promotion_codes': {
        const clover = version !== null && version >= '2025-09-30';
        unknownParams(params, [...(clover ? [] : ['coupon']), 'promotion', 'code', 'max_redemptions', 'expires_at', 'metadata', 'active', 'customer', 'restrictions']);
        let coupon = str(params, 'coupon');
        const promotion = hash(params, 'promotion');
        if (promotion) {
          unknownParams(promotion, ['type', 'coupon'], 'promotion');
          if (reqStr(promotion, 'type', 'promotion[type]') !== 'coupon') throw new StripeHttpError(400, 'invalid_request_error', 'Invalid promotion[type]', 'parameter_invalid_enum', 'promotion[type]');
          if (coupon !== undefined) throw new StripeHttpError(400, 'invalid_request_error', 'You may only specify one of these parameters: coupon, promotion.', 'parameter_invalid', 'coupon');
          coupon = reqStr(promotion, 'coupon', 'promotion[coupon]');
        }
        if (!coupon) throw new StripeHttpError(400, 'invalid_request_error', `Missing required param: ${clover || promotion ? 'promotion' : 'coupon'}.`, 'parameter_missing', clover ? 'promotion' : 'coupon');
        get(coupons, 'coupon', coupon, 'coupon');
        const code = str(params, 'code') ?? couponId();
        for (const other of promotionCodes.values()) {
          if (other.active && other.code.toLowerCase() === code.toLowerCase()) {
            throw new StripeHttpError(400, 'invalid_request_error', `An active promotion code with \`code: ${code}\` already exists.`, 'resource_already_exists', 'code');
          }
        }
        const p: FakeStripeObject = {
          id: rid('promo_'),
          object: 'promotion_code',
          active: bool(params, 'active') ?? true,
          code,
          created: now(),
          customer: str(params, 'customer') ?? null,
          expires_at: int(params, 'expires_at') ?? null,
          livemode: false,
          max_redemptions: int(params, 'max_redemptions') ?? null,
          metadata: metadata(params) ?? {},
          times_redeemed: 0,
        };
        if (clover) p.promotion = { type: 'coupon', coupon };
        else p.coupon = coupon; // stored as an id, rendered expanded (as Stripe does before clover)
        promotionCodes.set(p.id, p);
        return ok(couponExpanded(p));
      }
      case 'POST promotion_codes/:id': {
        unknownParams(params, ['active', 'metadata']);
        const p = get(promotionCodes, 'promotion_code', id!);
        const active = bool(params, 'active');
        if (active !== undefined) p.active = active;
        const md = metadata(params);
        if (md) p.metadata = { ...p.metadata, ...md };
        return ok(couponExpanded(p));
      }
      case 'POST customers': {
        unknownParams(params, ['email', 'name', 'metadata', 'description', 'address']);
        return ok(newCustomer({ email: str(params, 'email') ?? null, name: str(params, 'name') ?? null, metadata: metadata(params) }));
      }
      case 'GET customers/:id':
        return ok(get(customers, 'customer', id!));
      case 'POST checkout/sessions':
        return ok(createCheckout(params));
      case 'GET checkout/sessions': {
        unknownParams(params, ['payment_intent', 'subscription', 'customer', 'limit', 'expand']);
        const pi = str(params, 'payment_intent');
        const subId = str(params, 'subscription');
        const limit = Math.min(int(params, 'limit') ?? 10, 100);
        const all = [...checkoutSessions.values()].filter((s) => (pi === undefined || s.payment_intent === pi) && (subId === undefined || s.subscription === subId)).reverse();
        return ok({ object: 'list', data: all.slice(0, limit), has_more: all.length > limit, url: '/v1/checkout/sessions' });
      }
      case 'GET checkout/sessions/:id':
        return ok(get(checkoutSessions, 'checkout.session', sub!));
      case 'POST billing_portal/sessions': {
        unknownParams(params, ['customer', 'return_url', 'configuration', 'flow_data', 'locale']);
        const customer = reqStr(params, 'customer');
        get(customers, 'customer', customer, 'customer');
        const s: FakeStripeObject = { id: rid('bps_'), object: 'billing_portal.session', created: now(), customer, livemode: false, return_url: str(params, 'return_url') ?? null, url: '' };
        s.url = `https://billing.stripe.test/p/${s.id}`;
        portalSessions.set(s.id, s);
        return ok(s);
      }
      case 'GET subscriptions/:id':
        return ok(get(subscriptions, 'subscription', id!));
      case 'POST subscriptions/:id': {
        unknownParams(params, ['items', 'proration_behavior', 'cancel_at_period_end', 'metadata']);
        const s = get(subscriptions, 'subscription', id!);
        if (s.status === 'canceled') throw new StripeHttpError(400, 'invalid_request_error', 'A canceled subscription can only update its cancellation_details and metadata.');
        oneOf(str(params, 'proration_behavior'), ['create_prorations', 'none', 'always_invoice'], 'proration_behavior');
        const items = list(params, 'items');
        for (const [i, it] of (items ?? []).entries()) {
          if (typeof it !== 'object' || Array.isArray(it)) throw new StripeHttpError(400, 'invalid_request_error', `Invalid object: items[${i}]`);
          unknownParams(it, ['id', 'price', 'quantity'], `items[${i}]`);
          const itemId = str(it, 'id', `items[${i}][id]`);
          const priceId = reqStr(it, 'price', `items[${i}][price]`);
          const price = get(prices, 'price', priceId, `items[${i}][price]`);
          if (!price.active) throw new StripeHttpError(400, 'invalid_request_error', `The price specified is inactive. This field only accepts active prices.`, undefined, `items[${i}][price]`);
          const item = s.items.data.find((x: FakeStripeObject) => x.id === itemId);
          if (!item) throw missing('subscription item', itemId ?? '', `items[${i}][id]`);
          item.price = clone(price);
        }
        const cape = bool(params, 'cancel_at_period_end');
        if (cape !== undefined) {
          s.cancel_at_period_end = cape;
          const end = legacy ? s.current_period_end : s.items.data[0]?.current_period_end;
          s.cancel_at = cape ? end : null;
          s.canceled_at = cape ? now() : null;
        }
        const md = metadata(params);
        if (md) s.metadata = { ...s.metadata, ...md };
        return ok(s);
      }
      case 'DELETE subscriptions/:id': {
        unknownParams(params, ['invoice_now', 'prorate']);
        const s = get(subscriptions, 'subscription', id!);
        if (s.status !== 'canceled') {
          s.status = 'canceled';
          s.canceled_at = now();
          s.ended_at = now();
        }
        return ok(s);
      }
      case 'GET invoices/:id': {
        unknownParams(params, ['expand']);
        const inv = clone(get(invoices, 'invoice', id!));
        const expand = (list(params, 'expand') ?? []).filter((x): x is string => typeof x === 'string');
        for (const path of expand) {
          if (!['payments', 'payments.data.payment.payment_intent'].includes(path) || legacy) {
            throw new StripeHttpError(400, 'invalid_request_error', `This property cannot be expanded (${path}).`);
          }
        }
        if (expand.some((x) => x.startsWith('payments'))) {
          const data = clone(invoicePayments.get(inv.id) ?? []);
          if (expand.includes('payments.data.payment.payment_intent')) {
            for (const p of data) if (typeof p.payment?.payment_intent === 'string') p.payment.payment_intent = clone(paymentIntents.get(p.payment.payment_intent) ?? p.payment.payment_intent);
          }
          inv.payments = { object: 'list', data, has_more: false, total_count: data.length, url: `/v1/invoices/${inv.id}/payments` };
        }
        return { status: 200, body: inv };
      }
      case 'GET charges/:id':
        return ok(get(charges, 'charge', id!));
      case 'POST refunds': {
        unknownParams(params, ['charge', 'payment_intent', 'amount', 'reason', 'metadata']);
        let chargeId = str(params, 'charge');
        const piId = str(params, 'payment_intent');
        if (!chargeId && piId) chargeId = get(paymentIntents, 'payment_intent', piId, 'payment_intent').latest_charge ?? undefined;
        if (!chargeId) throw new StripeHttpError(400, 'invalid_request_error', 'One of the following params should be provided for this request: payment_intent or charge.', 'parameter_missing', 'charge');
        const ch = get(charges, 'charge', chargeId, 'charge');
        const reason = str(params, 'reason');
        oneOf(reason, ['requested_by_customer', 'duplicate', 'fraudulent'], 'reason');
        const remaining = ch.amount - ch.amount_refunded;
        if (remaining <= 0) throw new StripeHttpError(400, 'invalid_request_error', `Charge ${ch.id} has already been refunded.`, 'charge_already_refunded');
        const amount = int(params, 'amount') ?? remaining;
        if (amount <= 0) throw new StripeHttpError(400, 'invalid_request_error', 'Invalid positive integer', 'parameter_invalid_integer', 'amount');
        if (amount > remaining) {
          throw new StripeHttpError(400, 'invalid_request_error', `Refund amount (${amount}) is greater than unrefunded amount on charge (${remaining})`, 'amount_too_large', 'amount');
        }
        ch.amount_refunded += amount;
        ch.refunded = ch.amount_refunded >= ch.amount;
        const r: FakeStripeObject = {
          id: rid('re_'),
          object: 'refund',
          amount,
          charge: ch.id,
          created: now(),
          currency: ch.currency,
          metadata: metadata(params) ?? {},
          payment_intent: ch.payment_intent ?? null,
          reason: reason ?? null,
          status: 'succeeded',
        };
        refunds.set(r.id, r);
        return ok(r);
      }
      case 'GET disputes/:id':
        return ok(get(disputes, 'dispute', id!));
      case 'POST disputes/:id': {
        unknownParams(params, ['evidence', 'submit', 'metadata']);
        const d = get(disputes, 'dispute', id!);
        if (!['needs_response', 'warning_needs_response'].includes(d.status)) {
          throw new StripeHttpError(400, 'invalid_request_error', `This dispute is ${d.status.replace(/_/g, ' ')} and can no longer be updated.`);
        }
        const evidence = hash(params, 'evidence');
        if (evidence) {
          unknownParams(evidence, EVIDENCE_KEYS, 'evidence');
          for (const k of Object.keys(evidence)) d.evidence[k] = str(evidence, k, `evidence[${k}]`) || null;
          d.evidence_details.has_evidence = true;
        }
        if (bool(params, 'submit') === true) {
          d.evidence_details.submission_count += 1;
          d.status = d.status === 'warning_needs_response' ? 'warning_under_review' : 'under_review';
        }
        const md = metadata(params);
        if (md) d.metadata = { ...d.metadata, ...md };
        return ok(d);
      }
      case 'POST accounts': {
        unknownParams(params, ['type', 'email', 'country', 'metadata', 'capabilities', 'business_type']);
        const type = reqStr(params, 'type');
        oneOf(type, ['express', 'standard', 'custom'], 'type');
        const caps = hash(params, 'capabilities');
        if (caps) unknownParams(caps, ['card_payments', 'transfers'], 'capabilities');
        const a = newAccount(rid('acct_', 16), { email: str(params, 'email') ?? null, country: str(params, 'country'), metadata: metadata(params) });
        a.type = type;
        a.capabilities = {};
        for (const cap of ['card_payments', 'transfers']) {
          if (bool(hash(caps, cap), 'requested', `capabilities[${cap}][requested]`)) a.capabilities[cap] = 'inactive';
        }
        return ok(a);
      }
      case 'GET accounts/:id':
        return ok(get(accounts, 'account', id!));
      case 'POST account_links': {
        unknownParams(params, ['account', 'refresh_url', 'return_url', 'type', 'collect', 'collection_options']);
        const account = reqStr(params, 'account');
        get(accounts, 'account', account, 'account');
        reqStr(params, 'refresh_url');
        reqStr(params, 'return_url');
        const type = reqStr(params, 'type');
        oneOf(type, ['account_onboarding', 'account_update'], 'type');
        const linkId = rid('', 12);
        const l: FakeStripeObject = { id: linkId, object: 'account_link', created: now(), expires_at: now() + 300, url: `https://connect.stripe.test/setup/${linkId}` };
        accountLinks.set(linkId, { ...l, account, type });
        const { id: _omit, ...body } = l;
        return ok(body);
      }
      case 'GET balance': {
        unknownParams(params, []);
        const key = stripeAccount ?? 'platform';
        const b = balances.get(key);
        if (b) return ok(b);
        const currency = stripeAccount ? (accounts.get(stripeAccount)?.default_currency ?? 'usd') : 'usd';
        return ok({ object: 'balance', available: [{ amount: 0, currency, source_types: { card: 0 } }], pending: [{ amount: 0, currency, source_types: { card: 0 } }], livemode: false });
      }
      case 'GET payouts': {
        unknownParams(params, ['limit', 'status', 'starting_after']);
        const limit = int(params, 'limit') ?? 10;
        if (limit < 1 || limit > 100) throw new StripeHttpError(400, 'invalid_request_error', 'Invalid limit: must be between 1 and 100', 'parameter_invalid_integer', 'limit');
        const all = payouts.get(stripeAccount ?? 'platform') ?? [];
        return ok({ object: 'list', data: all.slice(0, limit), has_more: all.length > limit, url: '/v1/payouts' });
      }
      default:
        throw new StripeHttpError(404, 'invalid_request_error', `Unrecognized request URL (${method}: ${path}).`);
    }
  }

  function createCheckout(params: FakeStripeParams): FakeStripeObject {
    unknownParams(params, [
      'mode',
      'customer',
      'customer_email',
      'line_items',
      'success_url',
      'cancel_url',
      'automatic_tax',
      'tax_id_collection',
      'customer_update',
      'metadata',
      'allow_promotion_codes',
      'discounts',
      'consent_collection',
      'subscription_data',
      'payment_intent_data',
      'invoice_creation',
      'client_reference_id',
      'expand',
    ]);
    const mode = reqStr(params, 'mode');
    oneOf(mode, ['payment', 'subscription', 'setup'], 'mode');
    const customerId = str(params, 'customer');
    const customer = customerId ? get(customers, 'customer', customerId, 'customer') : null;
    const lineItems = list(params, 'line_items');
    if (!lineItems || lineItems.length === 0) throw new StripeHttpError(400, 'invalid_request_error', `line_items is required in ${mode} mode.`, 'parameter_missing', 'line_items');
    let amountTotal = 0;
    let currency: string | null = null;
    for (const [i, li] of lineItems.entries()) {
      if (typeof li !== 'object' || Array.isArray(li)) throw new StripeHttpError(400, 'invalid_request_error', `Invalid object: line_items[${i}]`);
      unknownParams(li, ['price', 'quantity'], `line_items[${i}]`);
      const price = get(prices, 'price', reqStr(li, 'price', `line_items[${i}][price]`), `line_items[${i}][price]`);
      if (!price.active) throw new StripeHttpError(400, 'invalid_request_error', `The price specified is inactive. This field only accepts active prices.`, undefined, `line_items[${i}][price]`);
      const quantity = int(li, 'quantity', `line_items[${i}][quantity]`);
      if (quantity === undefined) throw new StripeHttpError(400, 'invalid_request_error', `Missing required param: line_items[${i}][quantity].`, 'parameter_missing', `line_items[${i}][quantity]`);
      if (mode === 'payment' && price.type === 'recurring') {
        throw new StripeHttpError(400, 'invalid_request_error', 'You specified `payment` mode but passed a recurring price. Either switch to `subscription` mode or use only one-time prices.');
      }
      if (mode === 'subscription' && price.type !== 'recurring') {
        throw new StripeHttpError(400, 'invalid_request_error', 'You must provide at least one recurring price in `subscription` mode when using prices.');
      }
      amountTotal += price.unit_amount * quantity;
      currency = price.currency;
    }
    const successUrl = reqStr(params, 'success_url');
    const cancelUrl = str(params, 'cancel_url') ?? null;
    const automaticTax = hash(params, 'automatic_tax');
    const taxIds = hash(params, 'tax_id_collection');
    const customerUpdate = hash(params, 'customer_update');
    if (customerUpdate) unknownParams(customerUpdate, ['name', 'address', 'shipping'], 'customer_update');
    if (customerUpdate && !customer) throw new StripeHttpError(400, 'invalid_request_error', 'customer_update can only be used with customer.', undefined, 'customer_update');
    const automaticTaxEnabled = bool(automaticTax, 'enabled', 'automatic_tax[enabled]') === true;
    const taxIdsEnabled = bool(taxIds, 'enabled', 'tax_id_collection[enabled]') === true;
    if (customer && automaticTaxEnabled && !customer.address && !['auto', 'shipping'].includes(str(customerUpdate, 'address') ?? '')) {
      throw new StripeHttpError(
        400,
        'invalid_request_error',
        "Automatic tax calculation in Checkout requires a valid address on the Customer. Add a valid address to the Customer or set either `customer_update[address]` to 'auto' or `customer_update[shipping]` to 'auto' to save the address entered in Checkout to the Customer.",
        undefined,
        'customer_update[address]',
      );
    }
    if (customer && taxIdsEnabled && str(customerUpdate, 'name') !== 'auto') {
      throw new StripeHttpError(400, 'invalid_request_error', "To collect tax IDs for an existing customer, `customer_update[name]` must be set to 'auto'.", undefined, 'customer_update[name]');
    }
    const discounts = list(params, 'discounts');
    const allowPromotionCodes = bool(params, 'allow_promotion_codes');
    if (discounts !== undefined && allowPromotionCodes !== undefined) {
      throw new StripeHttpError(400, 'invalid_request_error', 'You may only specify one of these parameters: allow_promotion_codes, discounts.', undefined, 'discounts');
    }
    for (const [i, d] of (discounts ?? []).entries()) {
      if (typeof d !== 'object' || Array.isArray(d)) throw new StripeHttpError(400, 'invalid_request_error', `Invalid object: discounts[${i}]`);
      unknownParams(d, ['promotion_code', 'coupon'], `discounts[${i}]`);
      const promo = str(d, 'promotion_code', `discounts[${i}][promotion_code]`);
      if (promo) {
        const p = get(promotionCodes, 'promotion code', promo, `discounts[${i}][promotion_code]`);
        if (!p.active) throw new StripeHttpError(400, 'invalid_request_error', `This promotion code is inactive.`, undefined, `discounts[${i}][promotion_code]`);
      }
    }
    const consent = hash(params, 'consent_collection');
    if (consent) {
      unknownParams(consent, ['terms_of_service', 'promotions'], 'consent_collection');
      oneOf(str(consent, 'terms_of_service', 'consent_collection[terms_of_service]'), ['required', 'none'], 'consent_collection[terms_of_service]');
    }
    const subscriptionData = hash(params, 'subscription_data');
    const paymentIntentData = hash(params, 'payment_intent_data');
    const invoiceCreation = hash(params, 'invoice_creation');
    if (mode !== 'subscription' && subscriptionData) throw new StripeHttpError(400, 'invalid_request_error', 'You can only pass `subscription_data` in `subscription` mode.', undefined, 'subscription_data');
    if (mode !== 'payment' && paymentIntentData) throw new StripeHttpError(400, 'invalid_request_error', 'You can not pass `payment_intent_data` in `subscription` mode.', undefined, 'payment_intent_data');
    if (mode !== 'payment' && invoiceCreation) throw new StripeHttpError(400, 'invalid_request_error', '`invoice_creation` can only be used in `payment` mode.', undefined, 'invoice_creation');
    if (subscriptionData) {
      unknownParams(subscriptionData, ['trial_period_days', 'metadata', 'application_fee_percent', 'transfer_data', 'description'], 'subscription_data');
      int(subscriptionData, 'trial_period_days', 'subscription_data[trial_period_days]');
      decimal(subscriptionData, 'application_fee_percent', 'subscription_data[application_fee_percent]');
      const td = hash(subscriptionData, 'transfer_data', 'subscription_data[transfer_data]');
      if (td) {
        unknownParams(td, ['destination', 'amount_percent'], 'subscription_data[transfer_data]');
        get(accounts, 'account', reqStr(td, 'destination', 'subscription_data[transfer_data][destination]'), 'subscription_data[transfer_data][destination]');
      }
      metadata(subscriptionData);
    }
    if (paymentIntentData) {
      unknownParams(paymentIntentData, ['metadata', 'application_fee_amount', 'transfer_data', 'description'], 'payment_intent_data');
      int(paymentIntentData, 'application_fee_amount', 'payment_intent_data[application_fee_amount]');
      const td = hash(paymentIntentData, 'transfer_data', 'payment_intent_data[transfer_data]');
      if (td) {
        unknownParams(td, ['destination', 'amount'], 'payment_intent_data[transfer_data]');
        get(accounts, 'account', reqStr(td, 'destination', 'payment_intent_data[transfer_data][destination]'), 'payment_intent_data[transfer_data][destination]');
      }
      metadata(paymentIntentData);
    }
    if (invoiceCreation) unknownParams(invoiceCreation, ['enabled', 'invoice_data'], 'invoice_creation');
    const s: FakeStripeObject = {
      id: rid('cs_test_', 58),
      object: 'checkout.session',
      allow_promotion_codes: allowPromotionCodes ?? null,
      amount_subtotal: amountTotal,
      amount_total: amountTotal,
      automatic_tax: { enabled: automaticTaxEnabled, liability: automaticTaxEnabled ? { type: 'self' } : null, status: automaticTaxEnabled ? 'requires_location_inputs' : null },
      cancel_url: cancelUrl,
      consent: null,
      consent_collection: consent ? { promotions: 'none', terms_of_service: str(consent, 'terms_of_service') ?? 'none' } : null,
      created: now(),
      currency,
      customer: customerId ?? null,
      customer_details: customer ? { email: customer.email, name: customer.name, tax_exempt: 'none', tax_ids: [] } : null,
      discounts: (discounts ?? []).map((d) => ({ coupon: null, promotion_code: (d as FakeStripeParams).promotion_code ?? null })),
      expires_at: now() + DAY,
      invoice: null,
      livemode: false,
      metadata: metadata(params) ?? {},
      mode,
      payment_intent: null,
      payment_status: 'unpaid',
      status: 'open',
      subscription: null,
      success_url: successUrl,
      tax_id_collection: { enabled: taxIdsEnabled, required: 'never' },
      url: null,
    };
    s.url = `https://checkout.stripe.test/c/${s.id}`;
    checkoutSessions.set(s.id, s);
    checkoutParams.set(s.id, clone(params));
    return s;
  }

  function completeCheckout(sessionId: string, options: { termsAccepted?: boolean; taxIds?: { type: string; value: string }[]; email?: string; name?: string } = {}): CompletedCheckout {
    const s = get(checkoutSessions, 'checkout.session', sessionId);
    if (s.status !== 'open') throw new Error(`fake Stripe: checkout session ${sessionId} is ${s.status}, not open`);
    const params = checkoutParams.get(sessionId) ?? {};
    if (s.consent_collection?.terms_of_service === 'required' && options.termsAccepted === false) {
      throw new Error('fake Stripe: this checkout requires accepting the terms of service');
    }
    const customer = s.customer ? get(customers, 'customer', s.customer) : newCustomer({ email: options.email ?? null, name: options.name ?? null });
    if (options.email) customer.email = options.email;
    if (options.name) customer.name = options.name;
    const lineItem = (list(params, 'line_items') ?? [])[0] as FakeStripeParams;
    const price = get(prices, 'price', str(lineItem, 'price')!);
    const result: CompletedCheckout = { session: s, customer, subscription: null, invoice: null, paymentIntent: null, charge: null };

    s.status = 'complete';
    s.customer = customer.id;
    s.customer_details = {
      email: customer.email,
      name: customer.name,
      tax_exempt: 'none',
      tax_ids: (options.taxIds ?? []).map((t) => ({ type: t.type, value: t.value })),
      address: null,
    };
    if (s.consent_collection) s.consent = { promotions: null, terms_of_service: options.termsAccepted === false ? null : s.consent_collection.terms_of_service === 'required' || options.termsAccepted ? 'accepted' : null };
    else if (options.termsAccepted) s.consent = { promotions: null, terms_of_service: 'accepted' };

    if (s.mode === 'subscription') {
      const sd = hash(params, 'subscription_data') ?? {};
      const trialDays = int(sd, 'trial_period_days') ?? 0;
      const sub = newSubscription({
        customer: customer.id,
        price: price.id,
        trialDays,
        metadata: metadata(sd) ?? {},
        transferDestination: str(hash(sd, 'transfer_data'), 'destination') ?? null,
        applicationFeePercent: decimal(sd, 'application_fee_percent') ?? null,
      });
      result.subscription = sub;
      s.subscription = sub.id;
      if (trialDays > 0) {
        s.payment_status = 'no_payment_required';
      } else {
        const inv = newInvoice({ subscription: sub.id, billingReason: 'subscription_create', amountPaid: s.amount_total, currency: s.currency });
        result.invoice = inv;
        const pays = invoicePayments.get(inv.id);
        const piId = legacy ? inv.payment_intent : pays?.[0]?.payment?.payment_intent;
        result.paymentIntent = piId ? (paymentIntents.get(piId) ?? null) : null;
        result.charge = result.paymentIntent?.latest_charge ? (charges.get(result.paymentIntent.latest_charge) ?? null) : null;
        s.invoice = inv.id;
        s.payment_status = 'paid';
      }
    } else {
      const pd = hash(params, 'payment_intent_data') ?? {};
      const ch = newCharge({
        amount: s.amount_total,
        currency: s.currency,
        customer: customer.id,
        applicationFeeAmount: int(pd, 'application_fee_amount') ?? null,
        transferDestination: str(hash(pd, 'transfer_data'), 'destination') ?? null,
        metadata: metadata(pd) ?? {},
      });
      result.charge = ch;
      result.paymentIntent = paymentIntents.get(ch.payment_intent) ?? null;
      s.payment_intent = ch.payment_intent;
      s.payment_status = 'paid';
      if (bool(hash(params, 'invoice_creation'), 'enabled') === true) {
        const inv = newInvoice({ customer: customer.id, amountPaid: s.amount_total, currency: s.currency, billingReason: 'manual', charge: ch.id, paymentIntent: ch.payment_intent });
        result.invoice = inv;
        s.invoice = inv.id;
      }
    }
    return result;
  }

  // -- the HTTP server ----------------------------------------------------------------------------------------

  const sendJson = (res: ServerResponse, status: number, body: unknown, extraHeaders: Record<string, string> = {}) => {
    if (res.destroyed || res.writableEnded) return;
    const text = JSON.stringify(body);
    res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text), 'Request-Id': rid('req_', 14), ...extraHeaders });
    res.end(text);
  };
  const errorBody = (e: StripeHttpError) => ({
    error: {
      message: e.message,
      type: e.type,
      ...(e.code ? { code: e.code } : {}),
      ...(e.param ? { param: e.param } : {}),
      ...(e.code ? { doc_url: `https://docs.stripe.com/error-codes/${e.code.replace(/_/g, '-')}` } : {}),
    },
  });

  async function onRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const raw = Buffer.concat(chunks).toString('utf8');
    const method = (req.method ?? 'GET').toUpperCase();
    const url = new URL(req.url ?? '/', 'http://fake-stripe');
    const path = url.pathname;
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(req.headers)) if (v !== undefined) headers[k.toLowerCase()] = Array.isArray(v) ? v.join(', ') : v;

    const rawParams = method === 'POST' ? raw : url.search.slice(1);
    let params: FakeStripeParams = {};
    const record: FakeStripeRequest = { method, path, headers, params, raw: safeDecode(rawParams) };
    requests.push(record);

    try {
      params = parseStripeForm(rawParams);
      record.params = params;
      if (method === 'POST' && raw !== '' && !(headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded')) {
        throw new StripeHttpError(400, 'invalid_request_error', 'Invalid request (check that your POST content type is application/x-www-form-urlencoded).');
      }
      const auth = headers.authorization ?? '';
      if (!auth.startsWith('Bearer ') || auth.slice(7) !== apiKey) {
        const given = auth.startsWith('Bearer ') ? auth.slice(7) : '';
        const masked = given ? `${given.slice(0, 8)}${'*'.repeat(Math.max(0, given.length - 12))}${given.slice(-4)}` : '';
        throw new StripeHttpError(401, 'invalid_request_error', given ? `Invalid API Key provided: ${masked}` : 'You did not provide an API key.', given ? 'api_key_invalid' : undefined);
      }
    } catch (e) {
      if (e instanceof StripeHttpError) return sendJson(res, e.status, errorBody(e));
      throw e;
    }

    const fail = takeRule(fails, method, path);
    if (fail) {
      const e = fail.error;
      return sendJson(res, e.status, { error: { message: e.message ?? 'An unknown error occurred', type: e.type ?? (e.status >= 500 ? 'api_error' : 'invalid_request_error'), ...(e.code ? { code: e.code } : {}) } }, e.status >= 500 || e.status === 429 ? { 'Stripe-Should-Retry': 'true' } : {});
    }

    const drop = takeRule(drops, method, path) !== null || opts.dropFirst?.(method, path) === true;
    const delay = takeRule(delays, method, path);

    // Idempotency (POST only, as Stripe): scoped by key and connected account.
    const key = method === 'POST' ? headers['idempotency-key'] : undefined;
    const scope = key ? `${headers['stripe-account'] ?? ''}\u0000${key}` : null;
    const fingerprint = `${method} ${path} ${canonical(params)}`;
    let status: number;
    let body: unknown;
    let replayed = false;
    const stored = scope ? idempotency.get(scope) : undefined;
    if (stored) {
      if (stored.fingerprint !== fingerprint) {
        status = 400;
        body = {
          error: {
            message: `Keys for idempotent requests can only be used with the same parameters they were first used with. Try using a key other than '${key}' if you meant to execute a different request.`,
            type: 'idempotency_error',
          },
        };
      } else {
        ({ status, body } = stored);
        replayed = true;
      }
    } else {
      try {
        ({ status, body } = handle(method, path, params, headers));
      } catch (e) {
        if (!(e instanceof StripeHttpError)) {
          status = 500;
          body = { error: { message: `fake Stripe internal error: ${e instanceof Error ? e.message : String(e)}`, type: 'api_error' } };
        } else {
          status = e.status;
          body = errorBody(e);
        }
      }
      // Stripe saves the result once the endpoint started executing; not for parameter validation failures.
      const validationFailure = status === 400 && /parameter_(unknown|missing|invalid)/.test(JSON.stringify(body));
      if (scope && status < 500 && !validationFailure) idempotency.set(scope, { fingerprint, status, body: clone(body) });
    }

    if (drop) {
      req.socket.destroy();
      return;
    }
    if (delay) await new Promise((r) => setTimeout(r, delay.ms));
    sendJson(res, status, body, {
      ...(replayed ? { 'Idempotent-Replayed': 'true' } : {}),
      ...(key ? { 'Idempotency-Key': key } : {}),
      ...(headers['stripe-version'] ? { 'Stripe-Version': headers['stripe-version'] } : {}),
    });
  }

  const server = createServer((req, res) => {
    onRequest(req, res).catch((e: unknown) => {
      sendJson(res, 500, { error: { message: `fake Stripe internal error: ${e instanceof Error ? e.message : String(e)}`, type: 'api_error' } });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  function signPayload(body: string, secret: string, t: number): string {
    return `t=${t},v1=${createHmac('sha256', secret).update(`${t}.${body}`, 'utf8').digest('hex')}`;
  }

  const fake: FakeStripe = {
    url: `http://127.0.0.1:${port}`,
    apiKey,
    requests,
    products,
    prices,
    coupons,
    promotionCodes,
    customers,
    checkoutSessions,
    checkoutParams,
    portalSessions,
    subscriptions,
    invoices,
    invoicePayments,
    paymentIntents,
    charges,
    refunds,
    disputes,
    accounts,
    accountLinks,
    balances,
    payouts,
    requestsTo: (method, prefix) => requests.filter((r) => r.method === method.toUpperCase() && r.path.startsWith(prefix)),
    dropNext: (method, prefix, count = 1) => void drops.push({ method: method.toUpperCase(), prefix, remaining: count }),
    failNext: (method, prefix, error, count = 1) => void fails.push({ method: method.toUpperCase(), prefix, remaining: count, error }),
    delayNext: (method, prefix, ms, count = 1) => void delays.push({ method: method.toUpperCase(), prefix, remaining: count, ms }),
    now,

    createCustomer: (init = {}) => newCustomer(init),
    createPrice: (init) =>
      newPrice({
        product: init.product ?? newProduct({ name: 'Fake product' }).id,
        unitAmount: init.unitAmount,
        currency: init.currency ?? 'usd',
        interval: init.interval === undefined ? 'month' : init.interval,
        metadata: init.metadata,
      }),
    createSubscription: (init) => newSubscription(init),
    setSubscription: (id, p) => patch(subscriptions, 'subscription', id, p),
    setSubscriptionPeriod: (id, start, end) => {
      const s = get(subscriptions, 'subscription', id);
      if (legacy) Object.assign(s, { current_period_start: start, current_period_end: end });
      else for (const item of s.items.data as FakeStripeObject[]) Object.assign(item, { current_period_start: start, current_period_end: end });
      return s;
    },
    createInvoice: (init) => newInvoice(init),
    setInvoice: (id, p) => patch(invoices, 'invoice', id, p),
    createCharge: (init) => newCharge(init),
    setCharge: (id, p) => patch(charges, 'charge', id, p),
    createDispute: (init) => {
      const ch = get(charges, 'charge', init.charge);
      ch.disputed = true;
      const d: FakeStripeObject = {
        id: rid('dp_'),
        object: 'dispute',
        amount: init.amount ?? ch.amount,
        charge: ch.id,
        created: now(),
        currency: ch.currency,
        evidence: Object.fromEntries(EVIDENCE_KEYS.map((k) => [k, null])),
        evidence_details: { due_by: init.evidenceDueBy === undefined ? now() + 7 * DAY : init.evidenceDueBy, has_evidence: false, past_due: false, submission_count: 0 },
        is_charge_refundable: false,
        livemode: false,
        metadata: {},
        payment_intent: ch.payment_intent ?? null,
        reason: init.reason ?? 'fraudulent',
        status: init.status ?? 'needs_response',
      };
      disputes.set(d.id, d);
      return d;
    },
    setDispute: (id, p) => patch(disputes, 'dispute', id, p),
    setAccount: (id, p = {}) => {
      const a = accounts.get(id) ?? newAccount(id, {});
      Object.assign(a, clone(p));
      return a;
    },
    completeOnboarding: (id) => {
      const a = get(accounts, 'account', id);
      Object.assign(a, {
        charges_enabled: true,
        payouts_enabled: true,
        details_submitted: true,
        capabilities: { card_payments: 'active', transfers: 'active' },
        requirements: { currently_due: [], eventually_due: [], past_due: [], disabled_reason: null },
      });
      return a;
    },
    setBalance: (accountId, b) => {
      const entry = (m: { amount: number; currency: string }) => ({ amount: m.amount, currency: m.currency, source_types: { card: m.amount } });
      const bal: FakeStripeBalance = { object: 'balance', available: (b.available ?? []).map(entry), pending: (b.pending ?? []).map(entry), livemode: false };
      balances.set(accountId, bal);
      return bal;
    },
    addPayout: (accountId, init) => {
      const created = init.created ?? now();
      const po: FakeStripeObject = {
        id: rid('po_'),
        object: 'payout',
        amount: init.amount,
        arrival_date: init.arrivalDate ?? created + 2 * DAY,
        automatic: true,
        created,
        currency: init.currency ?? accounts.get(accountId)?.default_currency ?? 'usd',
        livemode: false,
        method: 'standard',
        status: init.status ?? 'paid',
        type: 'bank_account',
      };
      payouts.set(accountId, [po, ...(payouts.get(accountId) ?? [])]);
      return po;
    },
    completeCheckout,
    expireCheckout: (id) => {
      const s = get(checkoutSessions, 'checkout.session', id);
      if (s.status !== 'open') throw new Error(`fake Stripe: checkout session ${id} is ${s.status}, not open`);
      s.status = 'expired';
      s.url = null;
      return s;
    },

    event: (type, object, extra = {}) => {
      const e: FakeStripeEvent = {
        id: extra.id ?? rid('evt_'),
        object: 'event',
        api_version: extra.api_version ?? opts.defaultApiVersion ?? null,
        type,
        created: extra.created ?? now(),
        livemode: extra.livemode ?? false,
        pending_webhooks: 1,
        request: { id: null, idempotency_key: null },
        data: { object: clone(object) },
      };
      if (extra.account) e.account = extra.account;
      if (extra.previousAttributes) e.data.previous_attributes = clone(extra.previousAttributes);
      return e;
    },
    signEvent: (event, secret, t) => {
      const body = JSON.stringify(event, null, 2);
      return { body, header: signPayload(body, secret, Math.floor(t ?? now())) };
    },

    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve, reject) => server.close((e) => (e ? reject(e) : resolve())));
    },
  };
  return fake;
}

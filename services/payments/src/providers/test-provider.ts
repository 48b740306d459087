/**
 * The built-in test-payments provider: what runs paid circles when no Stripe keys are configured (the embedded
 * default), so a self-hoster can try them end to end without a Stripe account. It is clearly a test mode: no
 * money moves, only Stripe's test card numbers are accepted, and cards are stored as brand + last four digits.
 *
 * It emulates the small part of Stripe the payments domain uses, faithfully enough that downstream code runs
 * unchanged: Stripe's ids, objects as Stripe's JSON (snake_case, both the legacy fields — `invoice.subscription`,
 * `invoice.charge`, `charge.invoice`, periods on the subscription — and the 2025 ones — `invoice.parent`,
 * periods on the subscription item), statuses and lifecycle, destination charges with an application fee into
 * a connected account's balance (pending for two days, then available, then paid out daily), idempotency keys,
 * and Stripe-shaped events fed to the same pipeline as Stripe's webhooks.
 *
 * State lives in PostgreSQL (`payments.test_*`, see migrations/test-provider.ts), so it survives restarts and
 * is shared by processes. Time is a test clock (wall clock + a stored offset): `advanceClock` moves it and runs,
 * in time order, every transition that came due (trial ends, renewals, payment retries, cancellations at period
 * end, checkout expiry, payouts). `runDueTransitions` runs them without moving the clock; a deployment calls it
 * periodically so real time passing has the same effect.
 *
 * Events are written in the same transaction as the change and handed to `emit` after the commit, in order; a
 * failed delivery propagates to the caller and stays queued, first in line for the next delivery (at least
 * once: the pipeline deduplicates by event id).
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { createHash, randomBytes } from 'node:crypto';
import { isUniqueViolation } from '@circles/platform';
import { type Kysely, sql } from 'kysely';
import {
  type DisputeEvidence,
  type DisputeStatus,
  type Interval,
  type PaymentProvider,
  type ProviderAccount,
  type ProviderBalance,
  type ProviderCharge,
  type ProviderCheckoutSession,
  ProviderError,
  type ProviderEvent,
  type ProviderDispute,
  type ProviderInvoice,
  type ProviderPayout,
  type ProviderSubscription,
  type SubscriptionStatus,
} from '../provider.ts';
import { parseStripeEvent, signStripePayload, verifyStripeSignature as checkStripeSignature } from './stripe.ts';

// ---------------------------------------------------------------------------------------------------------------
// Constants

const DAY = 86_400;
const CHECKOUT_TTL = DAY;
const PORTAL_TTL = 3_600;
const EVIDENCE_WINDOW = 7 * DAY;
/** Stripe's dispute fee, in minor units, debited from the connected account when a dispute is lost. */
export const TEST_DISPUTE_FEE = 1_500;
/** A charge's net is pending this long, then available. */
const AVAILABLE_AFTER = 2 * DAY;
/** Failed renewal payments are retried this long after the first failure, twice; the third failure: unpaid. */
const RETRY_EVERY = 3 * DAY;
const MAX_PAYMENT_ATTEMPTS = 3;
const WEBHOOK_TOLERANCE = 300;
const LEASE_MS = 30_000;

// ---------------------------------------------------------------------------------------------------------------
// Public types (the test-only API beyond PaymentProvider)

export interface TestProviderOptions {
  db: Kysely<any>;
  /** The web app's public origin (checkout, portal and onboarding pages live under /billing/test-*). */
  publicUrl: string;
  /** Secret for verifyWebhook (and signTestEvent), as Stripe's endpoint secret. */
  webhookSecret: string;
  /** Where events go: the pipeline Stripe's webhooks feed. Called after the change committed, in order. */
  emit: (event: ProviderEvent) => Promise<void>;
  /** Wall clock in milliseconds (default Date.now); the provider's time adds the test clock's offset. */
  now?: () => number;
}

export interface TestCheckoutDescription {
  id: string;
  status: 'open' | 'complete' | 'expired';
  mode: 'subscription' | 'payment';
  productName: string;
  productDescription: string;
  unitAmount: number;
  currency: string;
  interval: Interval | null;
  trialDays: number | null;
  allowPromotionCodes: boolean;
  /** The code applied up front (createCheckoutSession's promotionCodeId) or, once complete, the code used. */
  promotionCode: string | null;
  requireTerms: boolean;
  successUrl: string;
  cancelUrl: string;
  customerId: string;
  metadata: Record<string, string>;
  /** What the buyer pays now (0 during a trial), after the up-front discount; the final total once complete. */
  amountTotal: number;
  expiresAt: number;
}

export interface TestCheckoutInput {
  cardNumber: string;
  acceptTerms: boolean;
  promotionCode?: string | null;
  taxId?: { type: string; value: string } | null;
}

export interface TestPortalSubscription {
  id: string;
  status: SubscriptionStatus;
  productName: string;
  unitAmount: number;
  currency: string;
  interval: Interval | null;
  currentPeriodEnd: number;
  cancelAtPeriodEnd: boolean;
  trialEnd: number | null;
}

export interface TestPortalInvoice {
  id: string;
  amountPaid: number;
  amountDue: number;
  currency: string;
  created: number;
  status: ProviderInvoice['status'];
}

export interface TestPortalDescription {
  id: string;
  customerId: string;
  customerName: string;
  customerEmail: string | null;
  returnUrl: string;
  expiresAt: number;
  card: { brand: string; last4: string } | null;
  subscriptions: TestPortalSubscription[];
  /** Newest first, at most 24. */
  invoices: TestPortalInvoice[];
}

// ---------------------------------------------------------------------------------------------------------------
// Stripe-shaped objects as stored (data) and the emulator's state beside them (internal)

type Meta = Record<string, string>;

interface CardInfo {
  paymentMethod: string;
  brand: string;
  last4: string;
  /** 4000000000000341: attaches, then every later charge fails. */
  failsLater: boolean;
}

interface CustomerJson {
  id: string;
  object: 'customer';
  email: string | null;
  name: string;
  metadata: Meta;
  /** Stripe's customer balance: negative is credit, applied to the next invoice. */
  balance: number;
  currency: string | null;
  invoice_settings: { default_payment_method: string | null };
  created: number;
  livemode: false;
}

interface ProductJson {
  id: string;
  object: 'product';
  name: string;
  description: string;
  active: boolean;
  metadata: Meta;
  created: number;
  updated: number;
  livemode: false;
}

interface PriceJson {
  id: string;
  object: 'price';
  product: string;
  unit_amount: number;
  currency: string;
  type: 'recurring' | 'one_time';
  recurring: { interval: Interval; interval_count: 1 } | null;
  active: boolean;
  metadata: Meta;
  created: number;
  livemode: false;
}

interface CouponJson {
  id: string;
  object: 'coupon';
  percent_off: number | null;
  amount_off: number | null;
  currency: string | null;
  duration: 'once' | 'repeating' | 'forever';
  duration_in_months: number | null;
  max_redemptions: number | null;
  redeem_by: number | null;
  times_redeemed: number;
  valid: boolean;
  applies_to: { products: string[] };
  metadata: Meta;
  created: number;
  livemode: false;
}

interface PromotionCodeJson {
  id: string;
  object: 'promotion_code';
  code: string;
  coupon: CouponJson;
  active: boolean;
  max_redemptions: number | null;
  expires_at: number | null;
  times_redeemed: number;
  metadata: Meta;
  created: number;
  livemode: false;
}

interface DiscountJson {
  id: string;
  object: 'discount';
  coupon: CouponJson;
  promotion_code: string | null;
  customer: string;
  subscription: string | null;
  checkout_session: string | null;
  start: number;
  end: number | null;
}

interface CheckoutSessionJson {
  id: string;
  object: 'checkout.session';
  mode: 'subscription' | 'payment';
  status: 'open' | 'complete' | 'expired';
  url: string | null;
  customer: string;
  subscription: string | null;
  payment_intent: string | null;
  invoice: string | null;
  payment_status: 'paid' | 'unpaid' | 'no_payment_required';
  metadata: Meta;
  consent: { terms_of_service: 'accepted' | null };
  consent_collection: { terms_of_service: 'required' | 'none' };
  customer_details: { email: string | null; name: string | null; tax_ids: { type: string; value: string }[] };
  amount_subtotal: number;
  amount_total: number;
  currency: string;
  total_details: { amount_discount: number; amount_shipping: 0; amount_tax: 0 };
  discounts: { coupon: string; promotion_code: string | null }[];
  allow_promotion_codes: boolean;
  success_url: string;
  cancel_url: string;
  expires_at: number;
  created: number;
  livemode: false;
}

interface SubscriptionItemJson {
  id: string;
  object: 'subscription_item';
  price: PriceJson;
  quantity: 1;
  subscription: string;
  current_period_start: number;
  current_period_end: number;
  created: number;
  metadata: Meta;
}

interface SubscriptionJson {
  id: string;
  object: 'subscription';
  customer: string;
  status: SubscriptionStatus;
  items: { object: 'list'; data: SubscriptionItemJson[]; has_more: false; total_count: number };
  current_period_start: number;
  current_period_end: number;
  billing_cycle_anchor: number;
  cancel_at_period_end: boolean;
  cancel_at: number | null;
  canceled_at: number | null;
  ended_at: number | null;
  trial_start: number | null;
  trial_end: number | null;
  latest_invoice: string | null;
  metadata: Meta;
  discount: DiscountJson | null;
  application_fee_percent: number | null;
  transfer_data: { destination: string; amount_percent: null } | null;
  default_payment_method: string | null;
  currency: string;
  start_date: number;
  created: number;
  livemode: false;
}

interface InvoiceLineJson {
  id: string;
  object: 'line_item';
  amount: number;
  currency: string;
  description: string;
  period: { start: number; end: number };
  price: { id: string; product: string; unit_amount: number } | null;
  proration: boolean;
  quantity: 1;
}

interface InvoiceJson {
  id: string;
  object: 'invoice';
  customer: string;
  subscription: string | null;
  parent: { type: 'subscription_details'; quote_details: null; subscription_details: { subscription: string; metadata: Meta } } | null;
  charge: string | null;
  payment_intent: string | null;
  amount_due: number;
  amount_paid: number;
  amount_remaining: number;
  subtotal: number;
  total: number;
  total_discount_amounts: { amount: number; discount: string }[];
  starting_balance: number;
  ending_balance: number;
  currency: string;
  status: ProviderInvoice['status'];
  paid: boolean;
  attempted: boolean;
  attempt_count: number;
  next_payment_attempt: number | null;
  billing_reason: string;
  period_start: number;
  period_end: number;
  lines: { object: 'list'; data: InvoiceLineJson[]; has_more: false; total_count: number };
  status_transitions: { finalized_at: number; paid_at: number | null };
  metadata: Meta;
  created: number;
  livemode: false;
}

interface PaymentIntentJson {
  id: string;
  object: 'payment_intent';
  amount: number;
  amount_received: number;
  currency: string;
  customer: string;
  status: 'succeeded' | 'requires_payment_method';
  latest_charge: string | null;
  invoice: string | null;
  application_fee_amount: number | null;
  transfer_data: { destination: string } | null;
  payment_method: string | null;
  metadata: Meta;
  created: number;
  livemode: false;
}

interface ChargeJson {
  id: string;
  object: 'charge';
  amount: number;
  amount_captured: number;
  amount_refunded: number;
  currency: string;
  customer: string;
  payment_intent: string;
  invoice: string | null;
  application_fee_amount: number | null;
  transfer_data: { destination: string; amount: null } | null;
  refunded: boolean;
  disputed: boolean;
  captured: boolean;
  paid: boolean;
  status: 'succeeded' | 'pending' | 'failed';
  failure_code: string | null;
  failure_message: string | null;
  outcome: { type: 'authorized' | 'issuer_declined'; network_status: string; seller_message: string };
  payment_method: string;
  payment_method_details: { type: 'card'; card: { brand: string; last4: string } };
  description: string | null;
  metadata: Meta;
  created: number;
  livemode: false;
}

interface ChargeInternal {
  destination: string | null;
  /** What the connected account received (amount − application fee). */
  transferAmount: number;
  /** How much of that has been taken back (refunds, lost disputes). */
  reversed: number;
}

interface RefundJson {
  id: string;
  object: 'refund';
  amount: number;
  charge: string;
  payment_intent: string;
  currency: string;
  reason: string | null;
  status: 'succeeded';
  metadata: Meta;
  created: number;
}

interface DisputeJson {
  id: string;
  object: 'dispute';
  charge: string;
  payment_intent: string | null;
  amount: number;
  currency: string;
  reason: string;
  status: DisputeStatus;
  evidence: Record<string, string | null>;
  evidence_details: { due_by: number; has_evidence: boolean; past_due: boolean; submission_count: number };
  is_charge_refundable: boolean;
  balance_transactions: { id: string; amount: number; fee: number; currency: string; type: string }[];
  metadata: Meta;
  created: number;
  livemode: false;
}

interface AccountJson {
  id: string;
  object: 'account';
  type: 'express';
  email: string | null;
  country: string;
  charges_enabled: boolean;
  payouts_enabled: boolean;
  details_submitted: boolean;
  requirements: { currently_due: string[]; eventually_due: string[]; past_due: string[]; disabled_reason: string | null };
  capabilities: { card_payments: 'active' | 'inactive'; transfers: 'active' | 'inactive' };
  default_currency: string;
  metadata: Meta;
  created: number;
}

interface PayoutJson {
  id: string;
  object: 'payout';
  amount: number;
  currency: string;
  status: 'paid';
  arrival_date: number;
  automatic: true;
  method: 'standard';
  type: 'bank_account';
  created: number;
  livemode: false;
}

interface PortalSessionJson {
  id: string;
  object: 'billing_portal.session';
  customer: string;
  return_url: string;
  url: string;
  created: number;
  livemode: false;
}

type None = Record<string, never>;

interface Kinds {
  customer: { data: CustomerJson; internal: { card: CardInfo | null } };
  product: { data: ProductJson; internal: None };
  price: { data: PriceJson; internal: None };
  promotion_code: { data: PromotionCodeJson; internal: None };
  'checkout.session': {
    data: CheckoutSessionJson;
    internal: {
      priceId: string;
      trialDays: number | null;
      destination: string | null;
      feePercent: number | null;
      feeAmount: number | null;
      requireTerms: boolean;
      presetPromotionCodeId: string | null;
      appliedPromotionCodeId: string | null;
    };
  };
  subscription: {
    data: SubscriptionJson;
    internal: {
      /** Periods end at anchor + (cycles + 1) intervals (calendar months, day clamped, like Stripe). */
      anchor: number;
      /** Billed periods since the anchor, 0 for the first; −1 during a trial. */
      cycles: number;
      failedAttempts: number;
      firstFailureAt: number | null;
      nextRetryAt: number | null;
      checkoutSession: string | null;
    };
  };
  invoice: { data: InvoiceJson; internal: None };
  payment_intent: { data: PaymentIntentJson; internal: None };
  charge: { data: ChargeJson; internal: ChargeInternal };
  refund: { data: RefundJson; internal: None };
  dispute: { data: DisputeJson; internal: None };
  account: { data: AccountJson; internal: None };
  payout: { data: PayoutJson; internal: None };
  'billing_portal.session': { data: PortalSessionJson; internal: { expiresAt: number } };
}

type Kind = keyof Kinds;

interface Stored<K extends Kind> {
  id: string;
  type: K;
  customer: string | null;
  account: string | null;
  data: Kinds[K]['data'];
  internal: Kinds[K]['internal'];
  dueAt: number | null;
  created: number;
  /** false until inserted. */
  persisted: boolean;
}

const NOUNS: Record<Kind, string> = {
  customer: 'customer',
  product: 'product',
  price: 'price',
  promotion_code: 'promotion code',
  'checkout.session': 'checkout.session',
  subscription: 'subscription',
  invoice: 'invoice',
  payment_intent: 'payment_intent',
  charge: 'charge',
  refund: 'refund',
  dispute: 'dispute',
  account: 'account',
  payout: 'payout',
  'billing_portal.session': 'billing portal session',
};

/** One transaction's view: its handle, the provider time, and the events to write with it (in order). */
interface Ctx {
  trx: Kysely<any>;
  now: number;
  events: ProviderEvent[];
}

interface RawObjectRow {
  id: string;
  type: string;
  customer: string | null;
  account: string | null;
  data: unknown;
  internal: unknown;
  due_at: string | number | null;
  created: string | number;
}

interface RawEventRow {
  seq: string | number;
  id: string;
  type: string;
  account: string | null;
  created: string | number;
  object: Record<string, unknown>;
  lease_owner: string | null;
  lease_until: string | number | null;
}

// ---------------------------------------------------------------------------------------------------------------
// Small helpers

const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const UPPER_ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';

function randomString(length: number, alphabet: string): string {
  let out = '';
  while (out.length < length) {
    for (const b of randomBytes(length * 2)) {
      // Rejection sampling keeps the distribution uniform.
      if (b < 256 - (256 % alphabet.length)) out += alphabet[b % alphabet.length];
      if (out.length === length) break;
    }
  }
  return out;
}

const objectId = (prefix: string): string => `${prefix}_${randomString(24, ALNUM)}`;

const clone = <T>(value: T): T => structuredClone(value);

const floorDay = (t: number): number => Math.floor(t / DAY) * DAY;
const ceilDay = (t: number): number => Math.ceil(t / DAY) * DAY;

const intervalMonths = (interval: Interval): number => (interval === 'year' ? 12 : 1);

/** anchor + months, keeping the anchor's day of month (clamped to the month's last day) and time of day. */
function addMonths(anchor: number, months: number): number {
  const d = new Date(anchor * 1000);
  const target = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + months, 1, d.getUTCHours(), d.getUTCMinutes(), d.getUTCSeconds()));
  const lastDay = new Date(Date.UTC(target.getUTCFullYear(), target.getUTCMonth() + 1, 0)).getUTCDate();
  target.setUTCDate(Math.min(d.getUTCDate(), lastDay));
  return Math.floor(target.getTime() / 1000);
}

function stableStringify(value: unknown): string {
  if (value === undefined) return 'null';
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(stableStringify).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stableStringify(v)}`).join(',')}}`;
}

const hashParams = (params: unknown): string => createHash('sha256').update(stableStringify(params)).digest('hex');

const isInt = (n: unknown): n is number => typeof n === 'number' && Number.isSafeInteger(n);

function badRequest(message: string, code: string | null = 'parameter_invalid'): ProviderError {
  return new ProviderError(message, 400, code);
}

function missing(type: Kind, id: string): ProviderError {
  return new ProviderError(`No such ${NOUNS[type]}: ${id}`, 404, 'resource_missing');
}

function normalizeCurrency(currency: string): string {
  const c = currency.trim().toLowerCase();
  if (!/^[a-z]{3}$/.test(c)) throw badRequest(`Invalid currency: ${currency}`, 'parameter_invalid');
  return c;
}

const COUNTRY_CURRENCY: Record<string, string> = {
  US: 'usd', GB: 'gbp', CA: 'cad', AU: 'aud', NZ: 'nzd', CH: 'chf', JP: 'jpy', SE: 'sek', NO: 'nok', DK: 'dkk',
  PL: 'pln', CZ: 'czk', HU: 'huf', RO: 'ron', BG: 'bgn', SG: 'sgd', HK: 'hkd', MX: 'mxn', BR: 'brl', IN: 'inr',
  AT: 'eur', BE: 'eur', CY: 'eur', DE: 'eur', EE: 'eur', ES: 'eur', FI: 'eur', FR: 'eur', GR: 'eur', HR: 'eur',
  IE: 'eur', IT: 'eur', LT: 'eur', LU: 'eur', LV: 'eur', MT: 'eur', NL: 'eur', PT: 'eur', SI: 'eur', SK: 'eur',
};

// ---------------------------------------------------------------------------------------------------------------
// Test cards

type CardBehaviour = 'ok' | 'fails_later' | 'generic_decline' | 'insufficient_funds' | 'lost_card' | 'expired_card';

/** Stripe's test card numbers (a subset). Any other number is refused, so a real card is never taken. */
const TEST_CARDS: Record<string, CardBehaviour> = {
  '4242424242424242': 'ok',
  '4000056655665556': 'ok',
  '5555555555554444': 'ok',
  '2223003122003222': 'ok',
  '5200828282828210': 'ok',
  '5105105105105100': 'ok',
  '378282246310005': 'ok',
  '371449635398431': 'ok',
  '6011111111111117': 'ok',
  '6011000990139424': 'ok',
  '3056930009020004': 'ok',
  '36227206271667': 'ok',
  '3566002020360505': 'ok',
  '6200000000000005': 'ok',
  '4000000000000341': 'fails_later',
  '4000000000000002': 'generic_decline',
  '4000000000009995': 'insufficient_funds',
  '4000000000009987': 'lost_card',
  '4000000000000069': 'expired_card',
};

function luhnValid(digits: string): boolean {
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let d = Number(digits[digits.length - 1 - i]);
    if (i % 2 === 1) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return sum % 10 === 0;
}

function cardBrand(digits: string): string {
  if (digits.startsWith('4')) return 'visa';
  if (/^(5[1-5]|2[2-7])/.test(digits)) return 'mastercard';
  if (/^3[47]/.test(digits)) return 'amex';
  if (/^(6011|65|64[4-9])/.test(digits)) return 'discover';
  if (digits.startsWith('35')) return 'jcb';
  if (/^3(0|6|8|9)/.test(digits)) return 'diners';
  if (digits.startsWith('62')) return 'unionpay';
  return 'unknown';
}

interface CheckedCard {
  card: CardInfo;
  /** Set when the card is declined on use (at checkout, or when attached in the portal). */
  decline: ProviderError | null;
}

/** Validates a typed card number like Stripe's card element and says how the card behaves. */
function checkCard(cardNumber: string): CheckedCard {
  const digits = cardNumber.replace(/[\s-]/g, '');
  const behaviour = TEST_CARDS[digits];
  if (!behaviour && (!/^\d{12,19}$/.test(digits) || !luhnValid(digits))) {
    throw new ProviderError('Your card number is incorrect.', 402, 'incorrect_number');
  }
  const card: CardInfo = { paymentMethod: objectId('pm'), brand: cardBrand(digits), last4: digits.slice(-4), failsLater: behaviour === 'fails_later' };
  let decline: ProviderError | null = null;
  switch (behaviour) {
    case 'ok':
    case 'fails_later':
      break;
    case 'generic_decline':
    case 'lost_card':
      decline = new ProviderError('Your card was declined.', 402, 'card_declined');
      break;
    case 'insufficient_funds':
      decline = new ProviderError('Your card has insufficient funds.', 402, 'card_declined');
      break;
    case 'expired_card':
      decline = new ProviderError('Your card has expired.', 402, 'expired_card');
      break;
    case undefined:
      decline = new ProviderError(
        'Your card was declined. Your request was in test mode, but used a non test card. For a list of valid test cards, visit: https://docs.stripe.com/testing.',
        402,
        'card_declined',
      );
      break;
  }
  return { card, decline };
}

// ---------------------------------------------------------------------------------------------------------------
// Webhook signatures (Stripe's scheme)

/** The Stripe-Signature header for a body (Stripe's scheme, shared with the Stripe adapter). */
export function signTestEvent(body: string, secret: string, t: number): string {
  return signStripePayload(body, secret, t);
}

/** A ProviderEvent as Stripe's webhook body (an Event object, `data.object`). */
export function stripeEventBody(event: ProviderEvent): string {
  return JSON.stringify({
    id: event.id,
    object: 'event',
    api_version: null,
    created: event.created,
    type: event.type,
    account: event.account ?? undefined,
    livemode: event.livemode,
    pending_webhooks: 1,
    request: { id: null, idempotency_key: null },
    data: { object: event.object },
  });
}

/** Checks a Stripe-Signature header over the raw body (300 s either way) and returns the event, normalized. */
export function verifyStripeSignature(rawBody: string, header: string | null, secret: string, nowSeconds: number, tolerance = WEBHOOK_TOLERANCE): ProviderEvent {
  checkStripeSignature(rawBody, header, secret, tolerance, nowSeconds);
  return parseStripeEvent(rawBody);
}

// ---------------------------------------------------------------------------------------------------------------
// The provider

export class TestPaymentsProvider implements PaymentProvider {
  readonly kind = 'test' as const;

  private readonly db: Kysely<any>;
  private readonly publicUrl: string;
  private readonly webhookSecret: string;
  private readonly emit: (event: ProviderEvent) => Promise<void>;
  private readonly wallClock: () => number;
  private readonly deliveryOwner = randomString(16, ALNUM);
  private readonly delivering = new AsyncLocalStorage<true>();
  private deliveryChain: Promise<void> = Promise.resolve();
  private readyPromise: Promise<void> | null = null;

  constructor(opts: TestProviderOptions) {
    this.db = opts.db;
    this.publicUrl = opts.publicUrl.replace(/\/+$/, '');
    this.webhookSecret = opts.webhookSecret;
    this.emit = opts.emit;
    this.wallClock = opts.now ?? Date.now;
  }

  // -- infrastructure ----------------------------------------------------------------------------------------

  private ready(): Promise<void> {
    this.readyPromise ??= (async () => {
      await sql`insert into payments.test_clock (id, offset_seconds) values (1, 0) on conflict (id) do nothing`.execute(this.db);
      const now = await this.readClock(this.db);
      await sql`update payments.test_clock set payouts_through = ${floorDay(now)} where id = 1 and payouts_through is null`.execute(this.db);
    })().catch((err: unknown) => {
      this.readyPromise = null;
      throw err;
    });
    return this.readyPromise;
  }

  private async readClock(db: Kysely<any>): Promise<number> {
    const r = await sql<{ offset_seconds: string | number }>`select offset_seconds from payments.test_clock where id = 1`.execute(db);
    return Math.floor(this.wallClock() / 1000) + Number(r.rows[0]?.offset_seconds ?? 0);
  }

  /** Runs fn in a transaction at the provider's time, stores the events it recorded, commits, then delivers. */
  private async run<T>(fn: (ctx: Ctx) => Promise<T>): Promise<T> {
    await this.ready();
    const result = await this.db.transaction().execute(async (trx) => {
      const ctx: Ctx = { trx, now: await this.readClock(trx), events: [] };
      const value = await fn(ctx);
      for (const e of ctx.events) {
        await sql`insert into payments.test_events (id, type, account, created, object)
          values (${e.id}, ${e.type}, ${e.account}, ${e.created}, ${JSON.stringify(e.object)}::jsonb)`.execute(trx);
      }
      return value;
    });
    await this.deliver();
    return result;
  }

  /** Reads at the provider's time, outside any transaction. */
  private async read<T>(fn: (db: Kysely<any>, now: number) => Promise<T>): Promise<T> {
    await this.ready();
    return fn(this.db, await this.readClock(this.db));
  }

  /**
   * Creates with a Stripe-style idempotency key: the first request's object id is stored with the key; a repeat
   * (same key, same operation and parameters) gets that id back with nothing created and nothing emitted.
   */
  private async createIdempotent(key: string, operation: string, params: unknown, create: (ctx: Ctx) => Promise<string>): Promise<string> {
    const hash = hashParams(params);
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.run(async (ctx) => {
          if (key) {
            const r = await sql<{ operation: string; request_hash: string; object_id: string }>`
              select operation, request_hash, object_id from payments.test_idempotency where key = ${key}`.execute(ctx.trx);
            const prior = r.rows[0];
            if (prior) {
              if (prior.operation !== operation || prior.request_hash !== hash) {
                throw new ProviderError(
                  `Keys for idempotent requests can only be used with the same parameters they were first used with. Try using a key other than '${key}' if you meant to execute a different request.`,
                  400,
                  'idempotency_error',
                );
              }
              return prior.object_id;
            }
          }
          const id = await create(ctx);
          if (key) {
            await sql`insert into payments.test_idempotency (key, operation, request_hash, object_id, created)
              values (${key}, ${operation}, ${hash}, ${id}, ${ctx.now})`.execute(ctx.trx);
          }
          return id;
        });
      } catch (err) {
        // A concurrent request with the same key committed first: ours rolled back; answer with its object.
        if (attempt === 0 && isUniqueViolation(err, 'test_idempotency_pkey')) continue;
        throw err;
      }
    }
  }

  private record(ctx: Ctx, type: string, object: object, account: string | null = null): void {
    ctx.events.push({ id: objectId('evt'), type, created: ctx.now, account, livemode: false, object: clone(object) as Record<string, unknown> });
  }

  /**
   * Hands queued events to `emit`, oldest first, one at a time per process. Called from inside an `emit` (the
   * pipeline reacting by calling the provider), it returns at once: the outer delivery loop picks the new
   * events up, so nothing waits on itself.
   */
  private deliver(): Promise<void> {
    if (this.delivering.getStore()) return Promise.resolve();
    const run = this.deliveryChain.then(() => this.delivering.run(true, () => this.deliverPending()));
    this.deliveryChain = run.catch(() => undefined);
    return run;
  }

  private async deliverPending(): Promise<void> {
    for (;;) {
      const r = await sql<RawEventRow>`select seq, id, type, account, created, object, lease_owner, lease_until
        from payments.test_events where delivered_at is null order by seq limit 1`.execute(this.db);
      const row = r.rows[0];
      if (!row) return;
      const nowMs = this.wallClock();
      // Another process is delivering the oldest one: leave the rest to it, in order.
      if (row.lease_owner && row.lease_owner !== this.deliveryOwner && row.lease_until !== null && Number(row.lease_until) > nowMs) return;
      const claimed = await sql`update payments.test_events set lease_owner = ${this.deliveryOwner}, lease_until = ${nowMs + LEASE_MS}
        where seq = ${row.seq} and delivered_at is null
          and (lease_owner is null or lease_owner = ${this.deliveryOwner} or lease_until < ${nowMs})
        returning seq`.execute(this.db);
      if (claimed.rows.length === 0) return;
      const event: ProviderEvent = { id: row.id, type: row.type, created: Number(row.created), account: row.account, livemode: false, object: row.object };
      try {
        await this.emit(event);
      } catch (err) {
        await sql`update payments.test_events set lease_owner = null, lease_until = null where seq = ${row.seq}`.execute(this.db);
        throw err;
      }
      await sql`update payments.test_events set delivered_at = now(), lease_owner = null, lease_until = null where seq = ${row.seq}`.execute(this.db);
    }
  }

  // -- storage -----------------------------------------------------------------------------------------------

  private fromRow<K extends Kind>(row: RawObjectRow): Stored<K> {
    return {
      id: row.id,
      type: row.type as K,
      customer: row.customer,
      account: row.account,
      data: row.data as Kinds[K]['data'],
      internal: row.internal as Kinds[K]['internal'],
      dueAt: row.due_at === null ? null : Number(row.due_at),
      created: Number(row.created),
      persisted: true,
    };
  }

  private async load<K extends Kind>(db: Kysely<any>, type: K, id: string, lock = false): Promise<Stored<K> | null> {
    const r = await sql<RawObjectRow>`select id, type, customer, account, data, internal, due_at, created
      from payments.test_objects where id = ${id} and type = ${type} ${lock ? sql`for update` : sql``}`.execute(db);
    const row = r.rows[0];
    return row ? this.fromRow<K>(row) : null;
  }

  private async must<K extends Kind>(db: Kysely<any>, type: K, id: string, lock = false): Promise<Stored<K>> {
    const found = typeof id === 'string' && id ? await this.load(db, type, id, lock) : null;
    if (!found) throw missing(type, String(id));
    return found;
  }

  private async list<K extends Kind>(db: Kysely<any>, type: K, by: { customer?: string; account?: string }, limit = 1000): Promise<Stored<K>[]> {
    const where = by.customer !== undefined ? sql`customer = ${by.customer}` : sql`account = ${by.account ?? ''}`;
    const r = await sql<RawObjectRow>`select id, type, customer, account, data, internal, due_at, created
      from payments.test_objects where type = ${type} and ${where} order by created desc, seq desc limit ${limit}`.execute(db);
    return r.rows.map((row) => this.fromRow<K>(row));
  }

  private newObject<K extends Kind>(
    ctx: Ctx,
    type: K,
    data: Kinds[K]['data'],
    internal: Kinds[K]['internal'],
    refs: { customer?: string | null; account?: string | null; dueAt?: number | null } = {},
  ): Stored<K> {
    return { id: data.id, type, customer: refs.customer ?? null, account: refs.account ?? null, data, internal, dueAt: refs.dueAt ?? null, created: ctx.now, persisted: false };
  }

  private async save<K extends Kind>(ctx: Ctx, o: Stored<K>): Promise<void> {
    if (o.type === 'subscription') o.dueAt = subscriptionDueAt(o as unknown as Stored<'subscription'>);
    const data = JSON.stringify(o.data);
    const internal = JSON.stringify(o.internal);
    if (!o.persisted) {
      await sql`insert into payments.test_objects (id, type, customer, account, data, internal, due_at, created)
        values (${o.id}, ${o.type}, ${o.customer}, ${o.account}, ${data}::jsonb, ${internal}::jsonb, ${o.dueAt}, ${o.created})`.execute(ctx.trx);
      o.persisted = true;
    } else {
      await sql`update payments.test_objects set data = ${data}::jsonb, internal = ${internal}::jsonb, due_at = ${o.dueAt},
        customer = ${o.customer}, account = ${o.account} where id = ${o.id}`.execute(ctx.trx);
    }
  }

  private async addBalance(ctx: Ctx, t: { account: string; amount: number; currency: string; type: string; source: string; availableOn: number }): Promise<string> {
    const id = objectId('txn');
    await sql`insert into payments.test_balance_transactions (id, account, amount, currency, type, source, available_on, created)
      values (${id}, ${t.account}, ${t.amount}, ${t.currency}, ${t.type}, ${t.source}, ${t.availableOn}, ${ctx.now})`.execute(ctx.trx);
    return id;
  }

  // -- test clock --------------------------------------------------------------------------------------------

  /** The provider's time now (Unix seconds): the wall clock plus the test clock's offset. */
  async clockNow(): Promise<number> {
    return this.read(async (_db, now) => now);
  }

  /** Moves the test clock forward, then runs every transition that came due, in time order. */
  async advanceClock(seconds: number): Promise<{ now: number; events: number }> {
    if (!Number.isFinite(seconds) || seconds < 0) throw badRequest('The clock only moves forward.');
    await this.ready();
    await sql`update payments.test_clock set offset_seconds = offset_seconds + ${Math.floor(seconds)} where id = 1`.execute(this.db);
    const events = await this.runDueTransitions();
    return { now: await this.clockNow(), events };
  }

  /**
   * Runs every transition due at the provider's time, earliest first, each in its own transaction and at its own
   * time (objects and events carry the moment it came due): checkout sessions expiring, trials ending, renewals,
   * payment retries, cancellations at period end, and the daily payouts. Returns the number of events.
   */
  async runDueTransitions(): Promise<number> {
    let total = 0;
    for (let guard = 0; guard < 1_000_000; guard++) {
      const step = await this.run((ctx) => this.step(ctx));
      if (step === null) return total;
      total += step;
    }
    throw new Error('test provider: transitions do not converge');
  }

  private async step(ctx: Ctx): Promise<number | null> {
    const horizon = ctx.now;
    const r = await sql<{ id: string; type: string; due_at: string | number }>`select id, type, due_at from payments.test_objects
      where due_at is not null and due_at <= ${horizon} order by due_at, seq limit 1 for update skip locked`.execute(ctx.trx);
    const next = r.rows[0];
    const objectDue = next ? Number(next.due_at) : null;
    const payoutDay = await this.nextPayoutDay(ctx, horizon);
    if (objectDue === null && payoutDay === null) return null;
    const before = ctx.events.length;
    if (next && objectDue !== null && (payoutDay === null || objectDue <= payoutDay)) {
      ctx.now = objectDue;
      if (next.type === 'subscription') await this.subscriptionDue(ctx, next.id);
      else if (next.type === 'checkout.session') await this.checkoutExpiry(ctx, next.id);
      else await sql`update payments.test_objects set due_at = null where id = ${next.id}`.execute(ctx.trx);
    } else if (payoutDay !== null) {
      ctx.now = payoutDay;
      await this.payoutRun(ctx, payoutDay);
    }
    return ctx.events.length - before;
  }

  // -- catalog -----------------------------------------------------------------------------------------------

  async createProduct(input: { idempotencyKey: string; name: string; description: string; metadata: Record<string, string> }): Promise<{ id: string }> {
    const { idempotencyKey, ...params } = input;
    if (!input.name.trim()) throw badRequest('A product needs a name.');
    const id = await this.createIdempotent(idempotencyKey, 'createProduct', params, async (ctx) => {
      const data: ProductJson = {
        id: objectId('prod'),
        object: 'product',
        name: input.name,
        description: input.description,
        active: true,
        metadata: { ...input.metadata },
        created: ctx.now,
        updated: ctx.now,
        livemode: false,
      };
      await this.save(ctx, this.newObject(ctx, 'product', data, {}));
      return data.id;
    });
    return { id };
  }

  async updateProduct(id: string, input: { name: string; description: string }): Promise<void> {
    if (!input.name.trim()) throw badRequest('A product needs a name.');
    await this.run(async (ctx) => {
      const product = await this.must(ctx.trx, 'product', id, true);
      product.data.name = input.name;
      product.data.description = input.description;
      product.data.updated = ctx.now;
      await this.save(ctx, product);
    });
  }

  async createPrice(input: {
    idempotencyKey: string;
    productId: string;
    unitAmount: number;
    currency: string;
    interval: Interval | null;
    metadata: Record<string, string>;
  }): Promise<{ id: string }> {
    const { idempotencyKey, ...params } = input;
    if (!isInt(input.unitAmount) || input.unitAmount < 0) throw badRequest('unit_amount must be a non-negative integer (minor units).');
    if (input.interval !== null && input.interval !== 'month' && input.interval !== 'year') throw badRequest(`Invalid interval: ${String(input.interval)}`);
    const currency = normalizeCurrency(input.currency);
    const id = await this.createIdempotent(idempotencyKey, 'createPrice', params, async (ctx) => {
      await this.must(ctx.trx, 'product', input.productId);
      const data: PriceJson = {
        id: objectId('price'),
        object: 'price',
        product: input.productId,
        unit_amount: input.unitAmount,
        currency,
        type: input.interval ? 'recurring' : 'one_time',
        recurring: input.interval ? { interval: input.interval, interval_count: 1 } : null,
        active: true,
        metadata: { ...input.metadata },
        created: ctx.now,
        livemode: false,
      };
      await this.save(ctx, this.newObject(ctx, 'price', data, {}));
      return data.id;
    });
    return { id };
  }

  async archivePrice(id: string): Promise<void> {
    await this.run(async (ctx) => {
      const price = await this.must(ctx.trx, 'price', id, true);
      price.data.active = false;
      await this.save(ctx, price);
    });
  }

  async createPromotionCode(input: {
    idempotencyKey: string;
    code: string;
    percentOff: number | null;
    amountOff: number | null;
    currency: string | null;
    duration: 'once' | 'repeating' | 'forever';
    durationInMonths: number | null;
    maxRedemptions: number | null;
    expiresAt: number | null;
    productIds: string[];
    metadata: Record<string, string>;
  }): Promise<{ id: string; couponId: string }> {
    const { idempotencyKey, ...params } = input;
    const code = input.code.trim();
    if (!/^[A-Za-z0-9_-]{1,500}$/.test(code)) throw badRequest('A promotion code is 1 to 500 letters, digits, dashes or underscores.');
    if ((input.percentOff === null) === (input.amountOff === null)) throw badRequest('Give exactly one of percent_off and amount_off.');
    if (input.percentOff !== null && !(input.percentOff > 0 && input.percentOff <= 100)) throw badRequest('percent_off must be more than 0 and at most 100.');
    let currency: string | null = null;
    if (input.amountOff !== null) {
      if (!isInt(input.amountOff) || input.amountOff <= 0) throw badRequest('amount_off must be a positive integer (minor units).');
      if (!input.currency) throw badRequest('amount_off needs a currency.');
      currency = normalizeCurrency(input.currency);
    }
    if (!['once', 'repeating', 'forever'].includes(input.duration)) throw badRequest(`Invalid duration: ${input.duration}`);
    if (input.duration === 'repeating' && !(isInt(input.durationInMonths) && input.durationInMonths > 0)) {
      throw badRequest('A repeating coupon needs duration_in_months.');
    }
    if (input.duration !== 'repeating' && input.durationInMonths !== null) throw badRequest('duration_in_months is only for repeating coupons.');
    if (input.maxRedemptions !== null && !(isInt(input.maxRedemptions) && input.maxRedemptions > 0)) throw badRequest('max_redemptions must be a positive integer.');
    let promotionId: string;
    try {
      promotionId = await this.createIdempotent(idempotencyKey, 'createPromotionCode', params, async (ctx) => {
        if (input.expiresAt !== null && input.expiresAt <= ctx.now) throw badRequest('expires_at must be in the future.');
        for (const productId of input.productIds) await this.must(ctx.trx, 'product', productId);
        const taken = await sql`select 1 from payments.test_objects where type = 'promotion_code'
          and lower(data->>'code') = lower(${code}) and (data->>'active')::boolean`.execute(ctx.trx);
        if (taken.rows.length > 0) throw codeTaken(code);
        const coupon: CouponJson = {
          id: randomString(8, UPPER_ALNUM),
          object: 'coupon',
          percent_off: input.percentOff,
          amount_off: input.amountOff,
          currency,
          duration: input.duration,
          duration_in_months: input.duration === 'repeating' ? input.durationInMonths : null,
          max_redemptions: null,
          redeem_by: null,
          times_redeemed: 0,
          valid: true,
          applies_to: { products: [...input.productIds] },
          metadata: {},
          created: ctx.now,
          livemode: false,
        };
        const data: PromotionCodeJson = {
          id: objectId('promo'),
          object: 'promotion_code',
          code,
          coupon,
          active: true,
          max_redemptions: input.maxRedemptions,
          expires_at: input.expiresAt,
          times_redeemed: 0,
          metadata: { ...input.metadata },
          created: ctx.now,
          livemode: false,
        };
        await this.save(ctx, this.newObject(ctx, 'promotion_code', data, {}));
        return data.id;
      });
    } catch (err) {
      if (isUniqueViolation(err, 'test_objects_active_promotion_code')) throw codeTaken(code);
      throw err;
    }
    const promo = await this.must(this.db, 'promotion_code', promotionId);
    return { id: promo.id, couponId: promo.data.coupon.id };
  }

  async deactivatePromotionCode(id: string): Promise<void> {
    await this.run(async (ctx) => {
      const promo = await this.must(ctx.trx, 'promotion_code', id, true);
      promo.data.active = false;
      await this.save(ctx, promo);
    });
  }

  // -- customers ---------------------------------------------------------------------------------------------

  async createCustomer(input: { idempotencyKey: string; email: string | null; name: string; metadata: Record<string, string> }): Promise<{ id: string }> {
    const { idempotencyKey, ...params } = input;
    const id = await this.createIdempotent(idempotencyKey, 'createCustomer', params, async (ctx) => {
      const data: CustomerJson = {
        id: objectId('cus'),
        object: 'customer',
        email: input.email,
        name: input.name,
        metadata: { ...input.metadata },
        balance: 0,
        currency: null,
        invoice_settings: { default_payment_method: null },
        created: ctx.now,
        livemode: false,
      };
      await this.save(ctx, this.newObject(ctx, 'customer', data, { card: null }, { customer: data.id }));
      return data.id;
    });
    return { id };
  }

  // -- checkout ----------------------------------------------------------------------------------------------

  async createCheckoutSession(input: {
    idempotencyKey: string;
    mode: 'subscription' | 'payment';
    customerId: string;
    priceId: string;
    trialDays: number | null;
    allowPromotionCodes: boolean;
    promotionCodeId: string | null;
    successUrl: string;
    cancelUrl: string;
    destinationAccountId: string | null;
    applicationFeePercent: number | null;
    applicationFeeAmount: number | null;
    requireTerms: boolean;
    metadata: Record<string, string>;
  }): Promise<ProviderCheckoutSession> {
    const { idempotencyKey, ...params } = input;
    if (input.mode !== 'subscription' && input.mode !== 'payment') throw badRequest(`Invalid mode: ${String(input.mode)}`);
    const trialDays = input.trialDays && input.trialDays > 0 ? input.trialDays : null;
    if (trialDays !== null) {
      if (input.mode !== 'subscription') throw badRequest('Trials are only for subscription mode.');
      if (!isInt(trialDays) || trialDays > 730) throw badRequest('trial_period_days must be a whole number of days, at most 730.');
    }
    if (input.promotionCodeId && input.allowPromotionCodes) throw badRequest('You may only specify one of these parameters: allow_promotion_codes, discounts.');
    if (input.applicationFeePercent !== null && !(input.applicationFeePercent >= 0 && input.applicationFeePercent <= 100)) {
      throw badRequest('application_fee_percent must be between 0 and 100.');
    }
    if (input.applicationFeeAmount !== null && !(isInt(input.applicationFeeAmount) && input.applicationFeeAmount >= 0)) {
      throw badRequest('application_fee_amount must be a non-negative integer.');
    }
    for (const url of [input.successUrl, input.cancelUrl]) {
      if (!URL.canParse(url)) throw badRequest(`Not a valid URL: ${url}`, 'url_invalid');
    }
    const id = await this.createIdempotent(idempotencyKey, 'createCheckoutSession', params, async (ctx) => {
      const customer = await this.must(ctx.trx, 'customer', input.customerId);
      const price = await this.must(ctx.trx, 'price', input.priceId);
      if (!price.data.active) throw new ProviderError('The price specified is inactive. This field only accepts active prices.', 400, 'price_inactive');
      if (input.mode === 'subscription' && !price.data.recurring) {
        throw badRequest('You must provide at least one recurring price in `subscription` mode when using prices.');
      }
      if (input.mode === 'payment' && price.data.recurring) {
        throw badRequest('You specified `payment` mode but passed a recurring price. Either switch to `subscription` mode or use only one-time prices.');
      }
      if (input.destinationAccountId) {
        const account = await this.must(ctx.trx, 'account', input.destinationAccountId);
        if (!account.data.charges_enabled) {
          throw new ProviderError(
            'The destination account needs to finish onboarding (transfers capability) before it can receive payments.',
            400,
            'insufficient_capabilities_for_transfer',
          );
        }
      }
      let preset: Stored<'promotion_code'> | null = null;
      if (input.promotionCodeId) {
        preset = await this.must(ctx.trx, 'promotion_code', input.promotionCodeId);
        await this.assertPromotionApplies(ctx, preset, price);
      }
      const subtotal = trialDays ? 0 : price.data.unit_amount;
      const discount = preset && subtotal > 0 ? discountAmount(preset.data.coupon, subtotal, price.data.currency) : 0;
      const sessionId = objectId('cs_test');
      const data: CheckoutSessionJson = {
        id: sessionId,
        object: 'checkout.session',
        mode: input.mode,
        status: 'open',
        url: `${this.publicUrl}/billing/test-checkout/${sessionId}`,
        customer: customer.id,
        subscription: null,
        payment_intent: null,
        invoice: null,
        payment_status: 'unpaid',
        metadata: { ...input.metadata },
        consent: { terms_of_service: null },
        consent_collection: { terms_of_service: input.requireTerms ? 'required' : 'none' },
        customer_details: { email: customer.data.email, name: customer.data.name, tax_ids: [] },
        amount_subtotal: subtotal,
        amount_total: subtotal - discount,
        currency: price.data.currency,
        total_details: { amount_discount: discount, amount_shipping: 0, amount_tax: 0 },
        discounts: preset ? [{ coupon: preset.data.coupon.id, promotion_code: preset.id }] : [],
        allow_promotion_codes: input.allowPromotionCodes,
        success_url: input.successUrl,
        cancel_url: input.cancelUrl,
        expires_at: ctx.now + CHECKOUT_TTL,
        created: ctx.now,
        livemode: false,
      };
      const session = this.newObject(
        ctx,
        'checkout.session',
        data,
        {
          priceId: price.id,
          trialDays,
          destination: input.destinationAccountId,
          feePercent: input.applicationFeePercent,
          feeAmount: input.applicationFeeAmount,
          requireTerms: input.requireTerms,
          presetPromotionCodeId: preset?.id ?? null,
          appliedPromotionCodeId: null,
        },
        { customer: customer.id, dueAt: data.expires_at },
      );
      await this.save(ctx, session);
      return sessionId;
    });
    return this.retrieveCheckoutSession(id);
  }

  async retrieveCheckoutSession(id: string): Promise<ProviderCheckoutSession> {
    return toCheckoutSession((await this.must(this.db, 'checkout.session', id)).data);
  }

  async findCheckoutSessionByPaymentIntent(paymentIntentId: string): Promise<ProviderCheckoutSession | null> {
    const r = await sql<RawObjectRow>`select id, type, customer, account, data, internal, due_at, created from payments.test_objects
      where type = 'checkout.session' and data->>'payment_intent' = ${paymentIntentId} limit 1`.execute(this.db);
    const row = r.rows[0];
    return row ? toCheckoutSession(this.fromRow<'checkout.session'>(row).data) : null;
  }

  /** What the local checkout page shows; null for an unknown session. */
  async describeCheckout(sessionId: string): Promise<TestCheckoutDescription | null> {
    return this.read(async (db, now) => {
      const session = await this.load(db, 'checkout.session', sessionId);
      if (!session) return null;
      const price = await this.must(db, 'price', session.internal.priceId);
      const product = await this.must(db, 'product', price.data.product);
      const promoId = session.internal.appliedPromotionCodeId ?? session.internal.presetPromotionCodeId;
      const promo = promoId ? await this.load(db, 'promotion_code', promoId) : null;
      const d = session.data;
      return {
        id: d.id,
        status: d.status === 'open' && now >= d.expires_at ? 'expired' : d.status,
        mode: d.mode,
        productName: product.data.name,
        productDescription: product.data.description,
        unitAmount: price.data.unit_amount,
        currency: price.data.currency,
        interval: price.data.recurring?.interval ?? null,
        trialDays: session.internal.trialDays,
        allowPromotionCodes: d.allow_promotion_codes,
        promotionCode: promo?.data.code ?? null,
        requireTerms: session.internal.requireTerms,
        successUrl: d.success_url,
        cancelUrl: d.cancel_url,
        customerId: d.customer,
        metadata: { ...d.metadata },
        amountTotal: d.amount_total,
        expiresAt: d.expires_at,
      };
    });
  }

  /**
   * Pays a checkout session from the local checkout page, validating as Stripe's would. Subscription mode
   * creates the subscription (trialing, or active with its first invoice paid); payment mode a payment intent,
   * charge and invoice. Emits customer.subscription.created (subscription mode), charge.succeeded and
   * invoice.paid (when something was charged), checkout.session.completed. Returns where to send the buyer.
   */
  async completeCheckout(sessionId: string, input: TestCheckoutInput): Promise<{ redirectUrl: string }> {
    const { card, decline } = checkCard(input.cardNumber);
    let taxIds: { type: string; value: string }[] = [];
    if (input.taxId) {
      const type = input.taxId.type.trim().toLowerCase();
      const value = input.taxId.value.replace(/\s+/g, '').toUpperCase();
      if (!/^[a-z]{2,3}_[a-z]{2,5}$/.test(type) || !/^[A-Z0-9.\-/]{3,32}$/.test(value)) {
        throw new ProviderError('Your tax ID is invalid.', 400, 'tax_id_invalid');
      }
      taxIds = [{ type, value }];
    }
    return this.run(async (ctx) => {
      // The row lock serialises completes of one session: the second sees it complete.
      const session = await this.must(ctx.trx, 'checkout.session', sessionId, true);
      const s = session.data;
      if (s.status === 'complete') throw new ProviderError('This checkout session is already complete.', 409, 'checkout_session_complete');
      if (s.status === 'expired' || ctx.now >= s.expires_at) {
        throw new ProviderError('This checkout session has expired. Go back and start again.', 400, 'checkout_session_expired');
      }
      if (session.internal.requireTerms && !input.acceptTerms) {
        throw new ProviderError('Please accept the terms of service to continue.', 400, 'terms_not_accepted');
      }
      const price = await this.must(ctx.trx, 'price', session.internal.priceId);
      let promo: Stored<'promotion_code'> | null = null;
      let typed = input.promotionCode?.trim();
      if (typed && session.internal.presetPromotionCodeId) {
        // The page may send back the code it showed as applied.
        const preset = await this.load(ctx.trx, 'promotion_code', session.internal.presetPromotionCodeId);
        if (preset && preset.data.code.toLowerCase() === typed.toLowerCase()) typed = undefined;
      }
      if (typed) {
        if (!s.allow_promotion_codes) throw new ProviderError('This checkout does not accept promotion codes.', 400, 'promotion_code_invalid');
        promo = await this.findActivePromotionCode(ctx, typed);
        if (!promo) throw new ProviderError('This code is invalid.', 400, 'promotion_code_invalid');
      } else if (session.internal.presetPromotionCodeId) {
        promo = await this.must(ctx.trx, 'promotion_code', session.internal.presetPromotionCodeId, true);
      }
      if (promo) await this.assertPromotionApplies(ctx, promo, price);
      if (decline) throw decline;

      const customer = await this.must(ctx.trx, 'customer', s.customer, true);
      customer.internal.card = card;
      customer.data.invoice_settings.default_payment_method = card.paymentMethod;
      customer.data.currency ??= price.data.currency;
      if (promo) {
        promo.data.times_redeemed += 1;
        promo.data.coupon.times_redeemed += 1;
        await this.save(ctx, promo);
        session.internal.appliedPromotionCodeId = promo.id;
      }

      s.status = 'complete';
      s.url = null;
      s.consent = { terms_of_service: input.acceptTerms && session.internal.requireTerms ? 'accepted' : null };
      s.customer_details = { ...s.customer_details, tax_ids: taxIds };
      s.discounts = promo ? [{ coupon: promo.data.coupon.id, promotion_code: promo.id }] : [];
      session.dueAt = null;

      if (s.mode === 'subscription') {
        const { subscription, invoice, charge } = await this.startSubscription(ctx, session, customer, price, promo);
        s.subscription = subscription.id;
        s.invoice = invoice?.id ?? null;
        s.amount_subtotal = invoice?.data.subtotal ?? 0;
        s.amount_total = invoice?.data.total ?? 0;
        s.total_details.amount_discount = invoice ? invoice.data.subtotal - invoice.data.total : 0;
        s.payment_status = invoice && invoice.data.amount_paid > 0 ? 'paid' : 'no_payment_required';
        await this.save(ctx, customer);
        await this.save(ctx, session);
        this.record(ctx, 'customer.subscription.created', subscription.data);
        if (charge) this.record(ctx, 'charge.succeeded', charge.data);
        if (invoice) this.record(ctx, 'invoice.paid', invoice.data);
      } else {
        const { invoice, charge, paymentIntent } = await this.oneTimePayment(ctx, session, customer, price, promo);
        s.payment_intent = paymentIntent?.id ?? null;
        s.invoice = invoice.id;
        s.amount_subtotal = invoice.data.subtotal;
        s.amount_total = invoice.data.total;
        s.total_details.amount_discount = invoice.data.subtotal - invoice.data.total;
        s.payment_status = charge ? 'paid' : 'no_payment_required';
        await this.save(ctx, customer);
        await this.save(ctx, session);
        if (charge) this.record(ctx, 'charge.succeeded', charge.data);
        this.record(ctx, 'invoice.paid', invoice.data);
      }
      this.record(ctx, 'checkout.session.completed', s);
      return { redirectUrl: s.success_url.replaceAll('{CHECKOUT_SESSION_ID}', s.id) };
    });
  }

  private async startSubscription(
    ctx: Ctx,
    session: Stored<'checkout.session'>,
    customer: Stored<'customer'>,
    price: Stored<'price'>,
    promo: Stored<'promotion_code'> | null,
  ): Promise<{ subscription: Stored<'subscription'>; invoice: Stored<'invoice'> | null; charge: Stored<'charge'> | null }> {
    const t = ctx.now;
    const interval = price.data.recurring?.interval ?? 'month';
    const trialEnd = session.internal.trialDays ? t + session.internal.trialDays * DAY : null;
    const periodEnd = trialEnd ?? addMonths(t, intervalMonths(interval));
    const id = objectId('sub');
    const data: SubscriptionJson = {
      id,
      object: 'subscription',
      customer: customer.id,
      status: trialEnd ? 'trialing' : 'incomplete',
      items: {
        object: 'list',
        data: [{ id: objectId('si'), object: 'subscription_item', price: clone(price.data), quantity: 1, subscription: id, current_period_start: t, current_period_end: periodEnd, created: t, metadata: {} }],
        has_more: false,
        total_count: 1,
      },
      current_period_start: t,
      current_period_end: periodEnd,
      billing_cycle_anchor: trialEnd ?? t,
      cancel_at_period_end: false,
      cancel_at: null,
      canceled_at: null,
      ended_at: null,
      trial_start: trialEnd ? t : null,
      trial_end: trialEnd,
      latest_invoice: null,
      metadata: { ...session.data.metadata },
      discount: promo ? makeDiscount(promo.data, t, customer.id, id, session.id) : null,
      application_fee_percent: session.internal.destination ? session.internal.feePercent : null,
      transfer_data: session.internal.destination ? { destination: session.internal.destination, amount_percent: null } : null,
      default_payment_method: customer.data.invoice_settings.default_payment_method,
      currency: price.data.currency,
      start_date: t,
      created: t,
      livemode: false,
    };
    const subscription = this.newObject(
      ctx,
      'subscription',
      data,
      { anchor: trialEnd ?? t, cycles: trialEnd ? -1 : 0, failedAttempts: 0, firstFailureAt: null, nextRetryAt: null, checkoutSession: session.id },
      { customer: customer.id },
    );
    if (trialEnd) {
      await this.save(ctx, subscription);
      return { subscription, invoice: null, charge: null };
    }
    const bill = await this.billSubscription(ctx, subscription, customer, {
      reason: 'subscription_create',
      lines: [priceLine(price.data, `1 × ${await this.productName(ctx, price)}`, t, periodEnd, false)],
      periodStart: t,
      periodEnd,
      discount: 'full',
      initial: true,
    });
    return { subscription, invoice: bill.invoice, charge: bill.charge };
  }

  private async oneTimePayment(
    ctx: Ctx,
    session: Stored<'checkout.session'>,
    customer: Stored<'customer'>,
    price: Stored<'price'>,
    promo: Stored<'promotion_code'> | null,
  ): Promise<{ invoice: Stored<'invoice'>; charge: Stored<'charge'> | null; paymentIntent: Stored<'payment_intent'> | null }> {
    const t = ctx.now;
    const discount = promo ? makeDiscount(promo.data, t, customer.id, null, session.id) : null;
    const invoice = await this.createInvoice(ctx, customer, null, {
      reason: 'manual',
      lines: [priceLine(price.data, `1 × ${await this.productName(ctx, price)}`, t, t, false)],
      periodStart: t,
      periodEnd: t,
      currency: price.data.currency,
      discount,
    });
    const pay = await this.payInvoice(ctx, invoice, customer, {
      destination: session.internal.destination,
      feePercent: null,
      feeAmount: session.internal.destination ? session.internal.feeAmount : null,
      metadata: session.data.metadata,
      initial: true,
      chargeLinksInvoice: false,
    });
    return { invoice, charge: pay.charge, paymentIntent: pay.paymentIntent };
  }

  private async findActivePromotionCode(ctx: Ctx, code: string): Promise<Stored<'promotion_code'> | null> {
    const r = await sql<RawObjectRow>`select id, type, customer, account, data, internal, due_at, created from payments.test_objects
      where type = 'promotion_code' and lower(data->>'code') = lower(${code}) and (data->>'active')::boolean
      order by seq desc limit 1 for update`.execute(ctx.trx);
    const row = r.rows[0];
    return row ? this.fromRow<'promotion_code'>(row) : null;
  }

  private async assertPromotionApplies(ctx: Ctx, promo: Stored<'promotion_code'>, price: Stored<'price'>): Promise<void> {
    const p = promo.data;
    const c = p.coupon;
    if (!p.active || !c.valid) throw new ProviderError('This code is invalid.', 400, 'promotion_code_invalid');
    if ((p.expires_at !== null && ctx.now >= p.expires_at) || (c.redeem_by !== null && ctx.now >= c.redeem_by)) {
      throw new ProviderError('This code has expired.', 400, 'promotion_code_expired');
    }
    if ((p.max_redemptions !== null && p.times_redeemed >= p.max_redemptions) || (c.max_redemptions !== null && c.times_redeemed >= c.max_redemptions)) {
      throw new ProviderError('This code has already been used the maximum number of times.', 400, 'promotion_code_max_redemptions');
    }
    if (c.applies_to.products.length > 0 && !c.applies_to.products.includes(price.data.product)) {
      throw new ProviderError('This code is not valid for this purchase.', 400, 'promotion_code_not_applicable');
    }
    if (c.amount_off !== null && c.currency !== price.data.currency) {
      throw new ProviderError('This code is not valid for this currency.', 400, 'promotion_code_not_applicable');
    }
  }

  private async checkoutExpiry(ctx: Ctx, id: string): Promise<void> {
    const session = await this.must(ctx.trx, 'checkout.session', id, true);
    session.dueAt = null;
    if (session.data.status === 'open' && ctx.now >= session.data.expires_at) {
      session.data.status = 'expired';
      session.data.url = null;
      await this.save(ctx, session);
      this.record(ctx, 'checkout.session.expired', session.data);
    } else {
      await this.save(ctx, session);
    }
  }

  // -- invoices and charges ----------------------------------------------------------------------------------

  private async createInvoice(
    ctx: Ctx,
    customer: Stored<'customer'>,
    subscription: Stored<'subscription'> | null,
    opts: { reason: string; lines: Omit<InvoiceLineJson, 'id' | 'object' | 'currency' | 'quantity'>[]; periodStart: number; periodEnd: number; currency: string; discount: DiscountJson | null },
  ): Promise<Stored<'invoice'>> {
    const lines: InvoiceLineJson[] = opts.lines.map((l) => ({ ...l, id: objectId('il'), object: 'line_item', currency: opts.currency, quantity: 1 }));
    const subtotal = lines.reduce((sum, l) => sum + l.amount, 0);
    const discounted = opts.discount && subtotal > 0 ? discountAmount(opts.discount.coupon, subtotal, opts.currency) : 0;
    const total = subtotal - discounted;
    const starting = customer.data.balance;
    // A credit (negative balance) pays what it can of a positive total; a negative total becomes credit.
    const applied = total > 0 && starting < 0 ? Math.min(-starting, total) : 0;
    const amountDue = total > 0 ? total - applied : 0;
    customer.data.balance = total > 0 ? starting + applied : starting + total;
    const id = objectId('in');
    const paidNow = amountDue === 0;
    const data: InvoiceJson = {
      id,
      object: 'invoice',
      customer: customer.id,
      subscription: subscription?.id ?? null,
      parent: subscription
        ? { type: 'subscription_details', quote_details: null, subscription_details: { subscription: subscription.id, metadata: { ...subscription.data.metadata } } }
        : null,
      charge: null,
      payment_intent: null,
      amount_due: amountDue,
      amount_paid: 0,
      amount_remaining: amountDue,
      subtotal,
      total,
      total_discount_amounts: discounted > 0 && opts.discount ? [{ amount: discounted, discount: opts.discount.id }] : [],
      starting_balance: starting,
      ending_balance: customer.data.balance,
      currency: opts.currency,
      status: paidNow ? 'paid' : 'open',
      paid: paidNow,
      attempted: paidNow,
      attempt_count: 0,
      next_payment_attempt: paidNow ? null : ctx.now,
      billing_reason: opts.reason,
      period_start: opts.periodStart,
      period_end: opts.periodEnd,
      lines: { object: 'list', data: lines, has_more: false, total_count: lines.length },
      status_transitions: { finalized_at: ctx.now, paid_at: paidNow ? ctx.now : null },
      metadata: {},
      created: ctx.now,
      livemode: false,
    };
    const invoice = this.newObject(ctx, 'invoice', data, {}, { customer: customer.id });
    await this.save(ctx, invoice);
    await this.save(ctx, customer);
    return invoice;
  }

  /**
   * One payment attempt on an open invoice with the customer's card: a payment intent per invoice, a charge per
   * attempt. Success pays the invoice and credits the destination account's pending balance with the net.
   */
  private async payInvoice(
    ctx: Ctx,
    invoice: Stored<'invoice'>,
    customer: Stored<'customer'>,
    opts: { destination: string | null; feePercent: number | null; feeAmount: number | null; metadata: Meta; initial: boolean; chargeLinksInvoice: boolean },
  ): Promise<{ ok: boolean; charge: Stored<'charge'> | null; paymentIntent: Stored<'payment_intent'> | null }> {
    const inv = invoice.data;
    if (inv.status === 'paid' || inv.amount_remaining === 0) {
      if (inv.status !== 'paid') {
        inv.status = 'paid';
        inv.paid = true;
        inv.status_transitions.paid_at = ctx.now;
        inv.next_payment_attempt = null;
        await this.save(ctx, invoice);
      }
      return { ok: true, charge: null, paymentIntent: null };
    }
    const card = customer.internal.card;
    const amount = inv.amount_remaining;
    const fee = opts.destination
      ? opts.feePercent !== null
        ? Math.round((amount * opts.feePercent) / 100)
        : opts.feeAmount !== null
          ? Math.min(opts.feeAmount, amount)
          : null
      : null;
    const succeeds = card !== null && (opts.initial || !card.failsLater);

    let pi = inv.payment_intent ? await this.load(ctx.trx, 'payment_intent', inv.payment_intent, true) : null;
    if (!pi) {
      pi = this.newObject(
        ctx,
        'payment_intent',
        {
          id: objectId('pi'),
          object: 'payment_intent',
          amount,
          amount_received: 0,
          currency: inv.currency,
          customer: customer.id,
          status: 'requires_payment_method',
          latest_charge: null,
          invoice: opts.chargeLinksInvoice ? invoice.id : null,
          application_fee_amount: fee,
          transfer_data: opts.destination ? { destination: opts.destination } : null,
          payment_method: card?.paymentMethod ?? null,
          metadata: { ...opts.metadata },
          created: ctx.now,
          livemode: false,
        },
        {},
        { customer: customer.id },
      );
    }
    const chargeData: ChargeJson = {
      id: objectId('ch'),
      object: 'charge',
      amount,
      amount_captured: succeeds ? amount : 0,
      amount_refunded: 0,
      currency: inv.currency,
      customer: customer.id,
      payment_intent: pi.id,
      invoice: opts.chargeLinksInvoice ? invoice.id : null,
      application_fee_amount: succeeds ? fee : null,
      transfer_data: opts.destination ? { destination: opts.destination, amount: null } : null,
      refunded: false,
      disputed: false,
      captured: succeeds,
      paid: succeeds,
      status: succeeds ? 'succeeded' : 'failed',
      failure_code: succeeds ? null : 'card_declined',
      failure_message: succeeds ? null : card ? 'Your card was declined.' : 'The customer has no payment method.',
      outcome: succeeds
        ? { type: 'authorized', network_status: 'approved_by_network', seller_message: 'Payment complete.' }
        : { type: 'issuer_declined', network_status: 'declined_by_network', seller_message: 'The bank did not return any further details with this decline.' },
      payment_method: card?.paymentMethod ?? 'pm_none',
      payment_method_details: { type: 'card', card: { brand: card?.brand ?? 'unknown', last4: card?.last4 ?? '0000' } },
      description: inv.billing_reason === 'manual' ? null : inv.billing_reason === 'subscription_create' ? 'Subscription creation' : 'Subscription update',
      metadata: { ...opts.metadata },
      created: ctx.now,
      livemode: false,
    };
    const transferAmount = succeeds && opts.destination ? amount - (fee ?? 0) : 0;
    const charge = this.newObject(ctx, 'charge', chargeData, { destination: opts.destination, transferAmount, reversed: 0 }, { customer: customer.id });
    await this.save(ctx, charge);

    pi.data.latest_charge = charge.id;
    pi.data.payment_method = card?.paymentMethod ?? null;
    inv.charge = charge.id;
    inv.payment_intent = pi.id;
    inv.attempted = true;
    inv.attempt_count += 1;
    if (succeeds) {
      pi.data.status = 'succeeded';
      pi.data.amount_received = amount;
      inv.status = 'paid';
      inv.paid = true;
      inv.amount_paid += amount;
      inv.amount_remaining = 0;
      inv.next_payment_attempt = null;
      inv.status_transitions.paid_at = ctx.now;
      if (opts.destination && transferAmount !== 0) {
        await this.addBalance(ctx, { account: opts.destination, amount: transferAmount, currency: inv.currency, type: 'payment', source: charge.id, availableOn: ctx.now + AVAILABLE_AFTER });
      }
    }
    await this.save(ctx, pi);
    await this.save(ctx, invoice);
    return { ok: succeeds, charge, paymentIntent: pi };
  }

  private recordPaymentEvents(ctx: Ctx, bill: { ok: boolean; charge: Stored<'charge'> | null; invoice: Stored<'invoice'> | null }): void {
    if (bill.charge) this.record(ctx, bill.ok ? 'charge.succeeded' : 'charge.failed', bill.charge.data);
    if (bill.invoice) this.record(ctx, bill.ok ? 'invoice.paid' : 'invoice.payment_failed', bill.invoice.data);
  }

  // -- subscriptions -----------------------------------------------------------------------------------------

  /**
   * Invoices a subscription (lines given), applies its discount ('full': as Stripe, consuming a `once` coupon;
   * 'percent': proration invoices, percent-off only) and the customer's credit, tries the card, and sets the
   * subscription's status from the outcome (active, or past_due/unpaid with the retry schedule).
   */
  private async billSubscription(
    ctx: Ctx,
    subscription: Stored<'subscription'>,
    customer: Stored<'customer'>,
    opts: {
      reason: string;
      lines: Omit<InvoiceLineJson, 'id' | 'object' | 'currency' | 'quantity'>[];
      periodStart: number;
      periodEnd: number;
      discount: 'full' | 'percent';
      initial: boolean;
    },
  ): Promise<{ ok: boolean; invoice: Stored<'invoice'>; charge: Stored<'charge'> | null }> {
    const s = subscription.data;
    let discount = s.discount;
    if (discount && discount.end !== null && ctx.now >= discount.end) {
      s.discount = null;
      discount = null;
    }
    if (opts.discount === 'percent' && discount?.coupon.percent_off === null) discount = null;
    const invoice = await this.createInvoice(ctx, customer, subscription, {
      reason: opts.reason,
      lines: opts.lines,
      periodStart: opts.periodStart,
      periodEnd: opts.periodEnd,
      currency: s.currency,
      discount,
    });
    if (opts.discount === 'full' && discount?.coupon.duration === 'once' && invoice.data.subtotal > 0) s.discount = null;
    s.latest_invoice = invoice.id;
    subscription.internal.failedAttempts = 0;
    subscription.internal.firstFailureAt = null;
    subscription.internal.nextRetryAt = null;
    const pay = await this.payInvoice(ctx, invoice, customer, {
      destination: s.transfer_data?.destination ?? null,
      feePercent: s.application_fee_percent,
      feeAmount: null,
      metadata: {},
      initial: opts.initial,
      chargeLinksInvoice: true,
    });
    this.applyPaymentOutcome(ctx, subscription, invoice, pay.ok);
    await this.save(ctx, invoice);
    await this.save(ctx, subscription);
    return { ok: pay.ok, invoice, charge: pay.charge };
  }

  private applyPaymentOutcome(ctx: Ctx, subscription: Stored<'subscription'>, invoice: Stored<'invoice'>, ok: boolean): void {
    const i = subscription.internal;
    if (ok) {
      subscription.data.status = 'active';
      i.failedAttempts = 0;
      i.firstFailureAt = null;
      i.nextRetryAt = null;
      return;
    }
    i.firstFailureAt ??= ctx.now;
    i.failedAttempts += 1;
    if (i.failedAttempts >= MAX_PAYMENT_ATTEMPTS) {
      subscription.data.status = 'unpaid';
      i.nextRetryAt = null;
    } else {
      subscription.data.status = 'past_due';
      i.nextRetryAt = i.firstFailureAt + RETRY_EVERY * i.failedAttempts;
    }
    invoice.data.next_payment_attempt = i.nextRetryAt;
  }

  /** A subscription's time-driven transition came due (ctx.now is its time). */
  private async subscriptionDue(ctx: Ctx, id: string): Promise<void> {
    const subscription = await this.must(ctx.trx, 'subscription', id, true);
    const s = subscription.data;
    const t = ctx.now;
    if (subscription.dueAt === null || subscription.dueAt > t) return;
    if (s.cancel_at_period_end && t >= s.current_period_end && s.status !== 'canceled') {
      s.status = 'canceled';
      s.ended_at = s.current_period_end;
      s.canceled_at ??= t;
      subscription.internal.nextRetryAt = null;
      await this.save(ctx, subscription);
      this.record(ctx, 'customer.subscription.deleted', s);
      return;
    }
    const retryAt = subscription.internal.nextRetryAt;
    if (s.status === 'past_due' && retryAt !== null && t >= retryAt && retryAt <= s.current_period_end) {
      await this.retryLatestInvoice(ctx, subscription);
      return;
    }
    if ((s.status === 'trialing' || s.status === 'active' || s.status === 'past_due') && t >= s.current_period_end) {
      await this.renew(ctx, subscription);
      return;
    }
    await this.save(ctx, subscription); // recomputes due_at
  }

  /** Trial end or period end: the next period starts and is invoiced. */
  private async renew(ctx: Ctx, subscription: Stored<'subscription'>): Promise<void> {
    const s = subscription.data;
    const item = firstItem(s);
    const customer = await this.must(ctx.trx, 'customer', s.customer, true);
    const price = await this.must(ctx.trx, 'price', item.price.id);
    const interval = price.data.recurring?.interval ?? 'month';
    subscription.internal.cycles += 1;
    const start = s.current_period_end;
    const end = addMonths(subscription.internal.anchor, (subscription.internal.cycles + 1) * intervalMonths(interval));
    setPeriod(s, start, end);
    const bill = await this.billSubscription(ctx, subscription, customer, {
      reason: 'subscription_cycle',
      lines: [priceLine(price.data, `1 × ${await this.productName(ctx, price)}`, start, end, false)],
      periodStart: start,
      periodEnd: end,
      discount: 'full',
      initial: false,
    });
    this.recordPaymentEvents(ctx, bill);
    this.record(ctx, 'customer.subscription.updated', s);
  }

  private async retryLatestInvoice(ctx: Ctx, subscription: Stored<'subscription'>): Promise<boolean> {
    const s = subscription.data;
    const before = s.status;
    const invoice = s.latest_invoice ? await this.load(ctx.trx, 'invoice', s.latest_invoice, true) : null;
    const customer = await this.must(ctx.trx, 'customer', s.customer, true);
    if (!invoice || invoice.data.status !== 'open') {
      subscription.internal.nextRetryAt = null;
      if (s.status === 'past_due' || s.status === 'unpaid') s.status = 'active';
      await this.save(ctx, subscription);
      if (s.status !== before) this.record(ctx, 'customer.subscription.updated', s);
      return true;
    }
    const pay = await this.payInvoice(ctx, invoice, customer, {
      destination: s.transfer_data?.destination ?? null,
      feePercent: s.application_fee_percent,
      feeAmount: null,
      metadata: {},
      initial: false,
      chargeLinksInvoice: true,
    });
    this.applyPaymentOutcome(ctx, subscription, invoice, pay.ok);
    await this.save(ctx, invoice);
    await this.save(ctx, subscription);
    this.recordPaymentEvents(ctx, { ok: pay.ok, charge: pay.charge, invoice });
    if (s.status !== before) this.record(ctx, 'customer.subscription.updated', s);
    return pay.ok;
  }

  async retrieveSubscription(id: string): Promise<ProviderSubscription> {
    return toSubscription((await this.must(this.db, 'subscription', id)).data);
  }

  /**
   * Switches the price now, prorated for the unused part of the period: a positive difference is invoiced
   * (billing_reason subscription_update) and charged at once; a negative one becomes customer credit, applied to
   * the next invoice. Another interval starts a new period now (full new price less the unused old time).
   */
  async changeSubscriptionPrice(input: { idempotencyKey: string; subscriptionId: string; itemId: string; priceId: string }): Promise<ProviderSubscription> {
    const { idempotencyKey, ...params } = input;
    const id = await this.createIdempotent(idempotencyKey, 'changeSubscriptionPrice', params, async (ctx) => {
      const subscription = await this.must(ctx.trx, 'subscription', input.subscriptionId, true);
      const s = subscription.data;
      const item = firstItem(s);
      if (item.id !== input.itemId) throw new ProviderError(`No such subscription item: ${input.itemId}`, 404, 'resource_missing');
      if (s.status === 'canceled' || s.status === 'incomplete_expired') {
        throw new ProviderError('A canceled subscription can only update its cancellation_details and metadata.', 400, 'subscription_canceled');
      }
      const next = await this.must(ctx.trx, 'price', input.priceId);
      if (!next.data.active) throw new ProviderError('The price specified is inactive. This field only accepts active prices.', 400, 'price_inactive');
      if (!next.data.recurring) throw badRequest('A subscription needs a recurring price.');
      if (next.data.currency !== s.currency) throw badRequest(`The price's currency (${next.data.currency}) differs from the subscription's (${s.currency}).`);
      if (next.id === item.price.id) return subscription.id;
      const old = await this.must(ctx.trx, 'price', item.price.id);
      const t = ctx.now;
      item.price = clone(next.data);

      let bill: { ok: boolean; invoice: Stored<'invoice'>; charge: Stored<'charge'> | null } | null = null;
      if (s.status === 'trialing') {
        // No proration during a trial: the new price applies from the first invoice.
      } else {
        const customer = await this.must(ctx.trx, 'customer', s.customer, true);
        const oldInterval = old.data.recurring?.interval ?? 'month';
        const newInterval = next.data.recurring.interval;
        const span = s.current_period_end - s.current_period_start;
        const unused = span > 0 ? Math.min(1, Math.max(0, (s.current_period_end - t) / span)) : 0;
        const credit = -Math.round(old.data.unit_amount * unused);
        type Line = Omit<InvoiceLineJson, 'id' | 'object' | 'currency' | 'quantity'>;
        const lines: Line[] = [];
        if (credit !== 0) lines.push({ ...priceLine(old.data, `Unused time on ${await this.productName(ctx, old)}`, t, s.current_period_end, true), amount: credit });
        let periodStart = s.current_period_start;
        let periodEnd = s.current_period_end;
        if (oldInterval === newInterval) {
          const charge = Math.round(next.data.unit_amount * unused);
          if (charge !== 0) lines.push({ ...priceLine(next.data, `Remaining time on ${await this.productName(ctx, next)}`, t, periodEnd, true), amount: charge });
        } else {
          subscription.internal.anchor = t;
          subscription.internal.cycles = 0;
          periodStart = t;
          periodEnd = addMonths(t, intervalMonths(newInterval));
          s.billing_cycle_anchor = t;
          lines.push(priceLine(next.data, `1 × ${await this.productName(ctx, next)}`, t, periodEnd, false));
        }
        setPeriod(s, periodStart, periodEnd);
        const net = lines.reduce((sum, l) => sum + l.amount, 0);
        const percent = s.discount && (s.discount.end === null || t < s.discount.end) ? s.discount.coupon.percent_off : null;
        const netAfterDiscount = net > 0 && percent !== null ? net - Math.round((net * percent) / 100) : net;
        if (netAfterDiscount > 0) {
          bill = await this.billSubscription(ctx, subscription, customer, {
            reason: 'subscription_update',
            lines,
            periodStart: t,
            periodEnd,
            discount: 'percent',
            initial: false,
          });
        } else if (netAfterDiscount < 0) {
          customer.data.balance += netAfterDiscount;
          await this.save(ctx, customer);
        }
      }
      await this.save(ctx, subscription);
      if (bill) this.recordPaymentEvents(ctx, bill);
      this.record(ctx, 'customer.subscription.updated', s);
      return subscription.id;
    });
    return this.retrieveSubscription(id);
  }

  private async productName(ctx: Ctx, price: Stored<'price'>): Promise<string> {
    return (await this.load(ctx.trx, 'product', price.data.product))?.data.name ?? price.data.product;
  }

  async setCancelAtPeriodEnd(subscriptionId: string, cancel: boolean): Promise<ProviderSubscription> {
    await this.run((ctx) => this.setCancel(ctx, subscriptionId, cancel, null));
    return this.retrieveSubscription(subscriptionId);
  }

  private async setCancel(ctx: Ctx, subscriptionId: string, cancel: boolean, customerId: string | null): Promise<void> {
    const subscription = await this.must(ctx.trx, 'subscription', subscriptionId, true);
    if (customerId !== null && subscription.data.customer !== customerId) throw missing('subscription', subscriptionId);
    const s = subscription.data;
    if (s.status === 'canceled' || s.status === 'incomplete_expired') {
      throw new ProviderError('A canceled subscription can only update its cancellation_details and metadata.', 400, 'subscription_canceled');
    }
    if (s.cancel_at_period_end === cancel) return;
    s.cancel_at_period_end = cancel;
    s.cancel_at = cancel ? s.current_period_end : null;
    s.canceled_at = cancel ? ctx.now : null;
    await this.save(ctx, subscription);
    this.record(ctx, 'customer.subscription.updated', s);
  }

  async cancelSubscriptionNow(subscriptionId: string): Promise<ProviderSubscription> {
    await this.run(async (ctx) => {
      const subscription = await this.must(ctx.trx, 'subscription', subscriptionId, true);
      const s = subscription.data;
      if (s.status === 'canceled') return;
      s.status = 'canceled';
      s.canceled_at = ctx.now;
      s.ended_at = ctx.now;
      s.cancel_at = null;
      s.cancel_at_period_end = false;
      subscription.internal.nextRetryAt = null;
      await this.save(ctx, subscription);
      this.record(ctx, 'customer.subscription.deleted', s);
    });
    return this.retrieveSubscription(subscriptionId);
  }

  async retrieveInvoice(id: string): Promise<ProviderInvoice> {
    return toInvoice((await this.must(this.db, 'invoice', id)).data);
  }

  async retrieveCharge(id: string): Promise<ProviderCharge> {
    return toCharge((await this.must(this.db, 'charge', id)).data);
  }

  // -- refunds and disputes ----------------------------------------------------------------------------------

  /**
   * Refunds a charge in full (amount null) or in part, up to what is left; emits charge.refunded. The connected
   * account gives back its share (the refund's proportion of what it received).
   */
  async createRefund(input: {
    idempotencyKey: string;
    chargeId: string;
    amount: number | null;
    reason: 'requested_by_customer' | 'duplicate' | 'fraudulent' | null;
  }): Promise<{ id: string; status: string }> {
    const { idempotencyKey, ...params } = input;
    if (input.amount !== null && !(isInt(input.amount) && input.amount > 0)) throw badRequest('The refund amount must be a positive integer.', 'parameter_invalid_integer');
    const id = await this.createIdempotent(idempotencyKey, 'createRefund', params, async (ctx) => {
      const charge = await this.must(ctx.trx, 'charge', input.chargeId, true);
      const c = charge.data;
      if (c.status !== 'succeeded') throw badRequest(`Charge ${c.id} has not succeeded; there is nothing to refund.`, 'charge_not_refundable');
      if (c.disputed) {
        const open = await sql<{ status: string }>`select data->>'status' as status from payments.test_objects
          where type = 'dispute' and data->>'charge' = ${c.id} order by seq desc limit 1`.execute(ctx.trx);
        if (open.rows[0]?.status !== 'won') throw badRequest(`Charge ${c.id} has been charged back; cannot issue a refund.`, 'charge_disputed');
      }
      const remaining = c.amount - c.amount_refunded;
      if (remaining <= 0) throw badRequest(`Charge ${c.id} has already been refunded.`, 'charge_already_refunded');
      const amount = input.amount ?? remaining;
      if (amount > remaining) {
        throw badRequest(`Refund amount (${amount}) is greater than unrefunded amount on charge (${remaining}).`, 'amount_too_large');
      }
      c.amount_refunded += amount;
      c.refunded = c.amount_refunded === c.amount;
      const refund: RefundJson = {
        id: objectId('re'),
        object: 'refund',
        amount,
        charge: c.id,
        payment_intent: c.payment_intent,
        currency: c.currency,
        reason: input.reason,
        status: 'succeeded',
        metadata: {},
        created: ctx.now,
      };
      await this.save(ctx, this.newObject(ctx, 'refund', refund, {}, { customer: c.customer }));
      await this.reverseShare(ctx, charge, amount, c.refunded, 'payment_refund', refund.id);
      await this.save(ctx, charge);
      this.record(ctx, 'charge.refunded', c);
      return refund.id;
    });
    const refund = await this.must(this.db, 'refund', id);
    return { id: refund.id, status: refund.data.status };
  }

  /** Takes back the connected account's share of `amount` of a charge (all of what is left when `all`). */
  private async reverseShare(ctx: Ctx, charge: Stored<'charge'>, amount: number, all: boolean, type: string, source: string): Promise<number> {
    const i = charge.internal;
    if (!i.destination || i.transferAmount <= 0) return 0;
    const left = i.transferAmount - i.reversed;
    const share = all ? left : Math.min(left, Math.round((amount * i.transferAmount) / charge.data.amount));
    if (share <= 0) return 0;
    i.reversed += share;
    await this.addBalance(ctx, { account: i.destination, amount: -share, currency: charge.data.currency, type, source, availableOn: ctx.now });
    return share;
  }

  /**
   * Simulates the cardholder's bank opening a dispute on a charge: status needs_response, evidence due in 7 days;
   * the charge becomes disputed; emits charge.dispute.created.
   */
  async openDispute(chargeId: string, reason = 'fraudulent'): Promise<ProviderDispute> {
    const id = await this.run(async (ctx) => {
      const charge = await this.must(ctx.trx, 'charge', chargeId, true);
      const c = charge.data;
      if (c.status !== 'succeeded') throw badRequest(`Charge ${c.id} has not succeeded.`);
      if (c.disputed) throw badRequest(`Charge ${c.id} has already been disputed.`, 'charge_disputed');
      const amount = c.amount - c.amount_refunded;
      if (amount <= 0) throw badRequest(`Charge ${c.id} has been refunded in full.`, 'charge_already_refunded');
      c.disputed = true;
      const dispute: DisputeJson = {
        id: objectId('dp'),
        object: 'dispute',
        charge: c.id,
        payment_intent: c.payment_intent,
        amount,
        currency: c.currency,
        reason,
        status: 'needs_response',
        evidence: {},
        evidence_details: { due_by: ctx.now + EVIDENCE_WINDOW, has_evidence: false, past_due: false, submission_count: 0 },
        is_charge_refundable: false,
        balance_transactions: [],
        metadata: {},
        created: ctx.now,
        livemode: false,
      };
      await this.save(ctx, this.newObject(ctx, 'dispute', dispute, {}, { customer: c.customer }));
      await this.save(ctx, charge);
      this.record(ctx, 'charge.dispute.created', dispute);
      return dispute.id;
    });
    return this.retrieveDispute(id);
  }

  /**
   * The bank decides: won, or lost (the connected account loses its share of the disputed amount and pays the
   * 1500 dispute fee). Emits charge.dispute.closed.
   */
  async closeDispute(disputeId: string, outcome: 'won' | 'lost'): Promise<ProviderDispute> {
    if (outcome !== 'won' && outcome !== 'lost') throw badRequest(`Invalid outcome: ${String(outcome)}`);
    await this.run(async (ctx) => {
      const dispute = await this.must(ctx.trx, 'dispute', disputeId, true);
      const d = dispute.data;
      if (d.status === 'won' || d.status === 'lost' || d.status === 'warning_closed') throw badRequest('This dispute is already closed.', 'dispute_closed');
      d.status = outcome;
      if (outcome === 'lost') {
        const charge = await this.must(ctx.trx, 'charge', d.charge, true);
        const c = charge.data;
        // The disputed amount is gone: the connected account gives back its share of it, and pays the fee.
        await this.reverseShare(ctx, charge, d.amount, d.amount >= c.amount - c.amount_refunded, 'dispute', d.id);
        const account = charge.internal.destination;
        if (account) await this.addBalance(ctx, { account, amount: -TEST_DISPUTE_FEE, currency: c.currency, type: 'dispute_fee', source: d.id, availableOn: ctx.now });
        d.balance_transactions.push({ id: objectId('txn'), amount: -d.amount, fee: TEST_DISPUTE_FEE, currency: c.currency, type: 'adjustment' });
        await this.save(ctx, charge);
      } else {
        d.is_charge_refundable = true;
      }
      await this.save(ctx, dispute);
      this.record(ctx, 'charge.dispute.closed', d);
    });
    return this.retrieveDispute(disputeId);
  }

  async retrieveDispute(id: string): Promise<ProviderDispute> {
    return toDispute((await this.must(this.db, 'dispute', id)).data);
  }

  async updateDisputeEvidence(id: string, evidence: DisputeEvidence, submit: boolean): Promise<ProviderDispute> {
    await this.run(async (ctx) => {
      const dispute = await this.must(ctx.trx, 'dispute', id, true);
      const d = dispute.data;
      if (d.status !== 'needs_response' && d.status !== 'warning_needs_response') {
        throw badRequest('This dispute is no longer accepting evidence.', 'dispute_already_submitted');
      }
      for (const [key, value] of Object.entries(evidence)) {
        if (value === undefined) continue;
        d.evidence[snakeCase(key)] = value;
      }
      d.evidence_details.has_evidence = Object.values(d.evidence).some((v) => typeof v === 'string' && v.trim() !== '');
      if (submit) {
        d.status = d.status === 'warning_needs_response' ? 'warning_under_review' : 'under_review';
        d.evidence_details.submission_count += 1;
      }
      await this.save(ctx, dispute);
      this.record(ctx, 'charge.dispute.updated', d);
    });
    return this.retrieveDispute(id);
  }

  // -- connected accounts ------------------------------------------------------------------------------------

  async createConnectedAccount(input: { idempotencyKey: string; email: string | null; country: string | null; metadata: Record<string, string> }): Promise<{ id: string }> {
    const { idempotencyKey, ...params } = input;
    const country = (input.country ?? 'US').trim().toUpperCase();
    if (!/^[A-Z]{2}$/.test(country)) throw badRequest(`Invalid country: ${String(input.country)}`);
    const id = await this.createIdempotent(idempotencyKey, 'createConnectedAccount', params, async (ctx) => {
      const due = ['external_account', 'tos_acceptance.date'];
      const data: AccountJson = {
        id: objectId('acct'),
        object: 'account',
        type: 'express',
        email: input.email,
        country,
        charges_enabled: false,
        payouts_enabled: false,
        details_submitted: false,
        requirements: { currently_due: [...due], eventually_due: [...due], past_due: [], disabled_reason: 'requirements.past_due' },
        capabilities: { card_payments: 'inactive', transfers: 'inactive' },
        default_currency: COUNTRY_CURRENCY[country] ?? 'usd',
        metadata: { ...input.metadata },
        created: ctx.now,
      };
      await this.save(ctx, this.newObject(ctx, 'account', data, {}, { account: data.id }));
      return data.id;
    });
    return { id };
  }

  async createAccountLink(input: { accountId: string; refreshUrl: string; returnUrl: string }): Promise<{ url: string }> {
    await this.must(this.db, 'account', input.accountId);
    return { url: `${this.publicUrl}/billing/test-onboarding/${input.accountId}?return=${encodeURIComponent(input.returnUrl)}` };
  }

  /** The local onboarding page's "finish": charges and payouts enabled, nothing due; emits account.updated. */
  async completeOnboarding(accountId: string): Promise<ProviderAccount> {
    await this.run(async (ctx) => {
      const account = await this.must(ctx.trx, 'account', accountId, true);
      const a = account.data;
      if (a.charges_enabled && a.payouts_enabled && a.details_submitted && a.requirements.currently_due.length === 0) return;
      a.charges_enabled = true;
      a.payouts_enabled = true;
      a.details_submitted = true;
      a.requirements = { currently_due: [], eventually_due: [], past_due: [], disabled_reason: null };
      a.capabilities = { card_payments: 'active', transfers: 'active' };
      await this.save(ctx, account);
      this.record(ctx, 'account.updated', a, a.id);
    });
    return this.retrieveAccount(accountId);
  }

  async retrieveAccount(id: string): Promise<ProviderAccount> {
    const a = (await this.must(this.db, 'account', id)).data;
    return {
      id: a.id,
      chargesEnabled: a.charges_enabled,
      payoutsEnabled: a.payouts_enabled,
      detailsSubmitted: a.details_submitted,
      requirementsDue: [...a.requirements.currently_due],
      defaultCurrency: a.default_currency,
    };
  }

  async retrieveBalance(accountId: string): Promise<ProviderBalance> {
    return this.read(async (db, now) => {
      const account = await this.must(db, 'account', accountId);
      const r = await sql<{ currency: string; available: string | number; pending: string | number }>`select currency,
          coalesce(sum(amount) filter (where available_on <= ${now}), 0) as available,
          coalesce(sum(amount) filter (where available_on > ${now}), 0) as pending
        from payments.test_balance_transactions where account = ${accountId} group by currency order by currency`.execute(db);
      if (r.rows.length === 0) {
        const currency = account.data.default_currency;
        return { available: [{ amount: 0, currency }], pending: [{ amount: 0, currency }] };
      }
      return {
        available: r.rows.map((row) => ({ amount: Number(row.available), currency: row.currency })),
        pending: r.rows.map((row) => ({ amount: Number(row.pending), currency: row.currency })),
      };
    });
  }

  async listPayouts(accountId: string, limit: number): Promise<ProviderPayout[]> {
    await this.must(this.db, 'account', accountId);
    const n = Math.max(1, Math.min(100, Math.floor(limit) || 10));
    const payouts = await this.list(this.db, 'payout', { account: accountId }, n);
    return payouts.map((p) => ({ id: p.id, amount: p.data.amount, currency: p.data.currency, status: p.data.status, arrivalDate: p.data.arrival_date, created: p.data.created }));
  }

  /** The next UTC midnight (≤ horizon) at which some payout-enabled account may have an available balance. */
  private async nextPayoutDay(ctx: Ctx, horizon: number): Promise<number | null> {
    const clock = await sql<{ payouts_through: string | number | null }>`select payouts_through from payments.test_clock where id = 1`.execute(ctx.trx);
    const through = Number(clock.rows[0]?.payouts_through ?? floorDay(horizon));
    const first = through + DAY;
    if (first > horizon) return null;
    const positive = await sql`select 1 from payments.test_balance_transactions b
      join payments.test_objects a on a.id = b.account and a.type = 'account'
      where (a.data->>'payouts_enabled')::boolean and b.available_on <= ${first}
      group by b.account, b.currency having sum(b.amount) > 0 limit 1`.execute(ctx.trx);
    if (positive.rows.length > 0) return first;
    const later = await sql<{ m: string | number | null }>`select min(b.available_on) as m from payments.test_balance_transactions b
      join payments.test_objects a on a.id = b.account and a.type = 'account'
      where (a.data->>'payouts_enabled')::boolean and b.amount > 0 and b.available_on > ${first}`.execute(ctx.trx);
    const m = later.rows[0]?.m;
    if (m === null || m === undefined) return null;
    const day = ceilDay(Number(m));
    return day <= horizon ? day : null;
  }

  /** The daily payout at midnight `day`: each payout-enabled account's available balance, per currency. */
  private async payoutRun(ctx: Ctx, day: number): Promise<void> {
    const clock = await sql<{ payouts_through: string | number | null }>`select payouts_through from payments.test_clock where id = 1 for update`.execute(ctx.trx);
    if (Number(clock.rows[0]?.payouts_through ?? 0) >= day) return;
    const r = await sql<{ account: string; currency: string; amount: string | number }>`select b.account, b.currency, sum(b.amount) as amount
      from payments.test_balance_transactions b
      join payments.test_objects a on a.id = b.account and a.type = 'account'
      where (a.data->>'payouts_enabled')::boolean and b.available_on <= ${day}
      group by b.account, b.currency, a.seq having sum(b.amount) > 0
      order by a.seq, b.currency`.execute(ctx.trx);
    for (const row of r.rows) {
      const amount = Number(row.amount);
      const data: PayoutJson = {
        id: objectId('po'),
        object: 'payout',
        amount,
        currency: row.currency,
        status: 'paid',
        arrival_date: day,
        automatic: true,
        method: 'standard',
        type: 'bank_account',
        created: day,
        livemode: false,
      };
      await this.save(ctx, this.newObject(ctx, 'payout', data, {}, { account: row.account }));
      await this.addBalance(ctx, { account: row.account, amount: -amount, currency: row.currency, type: 'payout', source: data.id, availableOn: day });
      this.record(ctx, 'payout.paid', data, row.account);
    }
    await sql`update payments.test_clock set payouts_through = ${day} where id = 1`.execute(ctx.trx);
  }

  // -- customer portal ---------------------------------------------------------------------------------------

  async createPortalSession(input: { customerId: string; returnUrl: string }): Promise<{ url: string }> {
    if (!URL.canParse(input.returnUrl)) throw badRequest(`Not a valid URL: ${input.returnUrl}`, 'url_invalid');
    const url = await this.run(async (ctx) => {
      const customer = await this.must(ctx.trx, 'customer', input.customerId);
      const id = objectId('bps');
      const data: PortalSessionJson = {
        id,
        object: 'billing_portal.session',
        customer: customer.id,
        return_url: input.returnUrl,
        url: `${this.publicUrl}/billing/test-portal/${id}`,
        created: ctx.now,
        livemode: false,
      };
      await this.save(ctx, this.newObject(ctx, 'billing_portal.session', data, { expiresAt: ctx.now + PORTAL_TTL }, { customer: customer.id }));
      return data.url;
    });
    return { url };
  }

  /** What the local portal page shows; null when the session is unknown or expired (1 h). */
  async describePortal(sessionId: string): Promise<TestPortalDescription | null> {
    return this.read(async (db, now) => {
      const portal = await this.load(db, 'billing_portal.session', sessionId);
      if (!portal || now >= portal.internal.expiresAt) return null;
      const customer = await this.must(db, 'customer', portal.data.customer);
      const subscriptions: TestPortalSubscription[] = [];
      for (const sub of await this.list(db, 'subscription', { customer: customer.id })) {
        const price = firstItem(sub.data).price;
        const product = await this.load(db, 'product', price.product);
        subscriptions.push({
          id: sub.id,
          status: sub.data.status,
          productName: product?.data.name ?? price.product,
          unitAmount: price.unit_amount,
          currency: price.currency,
          interval: price.recurring?.interval ?? null,
          currentPeriodEnd: sub.data.current_period_end,
          cancelAtPeriodEnd: sub.data.cancel_at_period_end,
          trialEnd: sub.data.trial_end,
        });
      }
      const invoices = (await this.list(db, 'invoice', { customer: customer.id }, 24)).map((inv) => ({
        id: inv.id,
        amountPaid: inv.data.amount_paid,
        amountDue: inv.data.amount_due,
        currency: inv.data.currency,
        created: inv.data.created,
        status: inv.data.status,
      }));
      const card = customer.internal.card;
      return {
        id: portal.id,
        customerId: customer.id,
        customerName: customer.data.name,
        customerEmail: customer.data.email,
        returnUrl: portal.data.return_url,
        expiresAt: portal.internal.expiresAt,
        card: card ? { brand: card.brand, last4: card.last4 } : null,
        subscriptions,
        invoices,
      };
    });
  }

  private async portalCustomer(ctx: Ctx, portalSessionId: string): Promise<string> {
    const portal = await this.load(ctx.trx, 'billing_portal.session', portalSessionId);
    if (!portal) throw missing('billing_portal.session', portalSessionId);
    if (ctx.now >= portal.internal.expiresAt) throw new ProviderError('This portal session has expired.', 403, 'portal_session_expired');
    return portal.data.customer;
  }

  /** The portal's cancel / "don't cancel" for one of the session customer's subscriptions. */
  async portalSetCancelAtPeriodEnd(portalSessionId: string, subscriptionId: string, cancel: boolean): Promise<ProviderSubscription> {
    await this.run(async (ctx) => this.setCancel(ctx, subscriptionId, cancel, await this.portalCustomer(ctx, portalSessionId)));
    return this.retrieveSubscription(subscriptionId);
  }

  /**
   * The portal's card update: future charges use the new card. A card that is declined when attached is refused.
   * With a working card, past_due/unpaid subscriptions retry their open invoice at once (and reactivate).
   */
  async portalUpdateCard(portalSessionId: string, cardNumber: string): Promise<{ brand: string; last4: string }> {
    const { card, decline } = checkCard(cardNumber);
    return this.run(async (ctx) => {
      const customerId = await this.portalCustomer(ctx, portalSessionId);
      if (decline) throw decline;
      // Lock order as everywhere else: subscriptions (by id), then their customer.
      const live = (await this.list(ctx.trx, 'subscription', { customer: customerId }))
        .filter((sub) => sub.data.status !== 'canceled' && sub.data.status !== 'incomplete_expired')
        .sort((a, b) => (a.id < b.id ? -1 : 1));
      const subscriptions: Stored<'subscription'>[] = [];
      for (const sub of live) subscriptions.push(await this.must(ctx.trx, 'subscription', sub.id, true));
      const customer = await this.must(ctx.trx, 'customer', customerId, true);
      customer.internal.card = card;
      customer.data.invoice_settings.default_payment_method = card.paymentMethod;
      await this.save(ctx, customer);
      for (const sub of subscriptions) {
        sub.data.default_payment_method = card.paymentMethod;
        if (!card.failsLater && (sub.data.status === 'past_due' || sub.data.status === 'unpaid')) await this.retryLatestInvoice(ctx, sub);
        else await this.save(ctx, sub);
      }
      return { brand: card.brand, last4: card.last4 };
    });
  }

  // -- webhooks ----------------------------------------------------------------------------------------------

  verifyWebhook(rawBody: string, signatureHeader: string | null, nowSeconds?: number): ProviderEvent {
    return verifyStripeSignature(rawBody, signatureHeader, this.webhookSecret, nowSeconds ?? Math.floor(this.wallClock() / 1000));
  }

  /** A signed webhook delivery of an event, as Stripe would POST it (for tests and a local webhook replay). */
  signEvent(event: ProviderEvent, t = Math.floor(this.wallClock() / 1000)): { body: string; signature: string } {
    const body = stripeEventBody(event);
    return { body, signature: signTestEvent(body, this.webhookSecret, t) };
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Pure helpers over Stripe JSON

function codeTaken(code: string): ProviderError {
  return new ProviderError(`An active promotion code with \`code: ${code}\` already exists.`, 400, 'resource_already_exists');
}

function firstItem(s: SubscriptionJson): SubscriptionItemJson {
  const item = s.items.data[0];
  if (!item) throw new Error(`test provider: subscription ${s.id} has no item`);
  return item;
}

function setPeriod(s: SubscriptionJson, start: number, end: number): void {
  s.current_period_start = start;
  s.current_period_end = end;
  const item = firstItem(s);
  item.current_period_start = start;
  item.current_period_end = end;
  if (s.cancel_at_period_end) s.cancel_at = end;
}

function subscriptionDueAt(o: Stored<'subscription'>): number | null {
  const s = o.data;
  switch (s.status) {
    case 'trialing':
    case 'active':
      return s.current_period_end;
    case 'past_due':
      return Math.min(o.internal.nextRetryAt ?? Number.POSITIVE_INFINITY, s.current_period_end);
    case 'unpaid':
      return s.cancel_at_period_end ? s.current_period_end : null;
    default:
      return null;
  }
}

function priceLine(price: PriceJson, description: string, start: number, end: number, proration: boolean): Omit<InvoiceLineJson, 'id' | 'object' | 'currency' | 'quantity'> {
  return {
    amount: price.unit_amount,
    description,
    period: { start, end },
    price: { id: price.id, product: price.product, unit_amount: price.unit_amount },
    proration,
  };
}

function discountAmount(coupon: CouponJson, subtotal: number, currency: string): number {
  if (coupon.percent_off !== null) return Math.min(subtotal, Math.round((subtotal * coupon.percent_off) / 100));
  if (coupon.amount_off !== null && coupon.currency === currency) return Math.min(subtotal, coupon.amount_off);
  return 0;
}

function makeDiscount(promo: PromotionCodeJson, start: number, customer: string, subscription: string | null, session: string): DiscountJson {
  const c = promo.coupon;
  return {
    id: objectId('di'),
    object: 'discount',
    coupon: clone(c),
    promotion_code: promo.id,
    customer,
    subscription,
    checkout_session: session,
    start,
    end: c.duration === 'repeating' && c.duration_in_months ? addMonths(start, c.duration_in_months) : null,
  };
}

function snakeCase(key: string): string {
  return key.replace(/[A-Z]/g, (ch) => `_${ch.toLowerCase()}`);
}

function toCheckoutSession(d: CheckoutSessionJson): ProviderCheckoutSession {
  return {
    id: d.id,
    url: d.url,
    status: d.status,
    mode: d.mode,
    customerId: d.customer,
    subscriptionId: d.subscription,
    paymentIntentId: d.payment_intent,
    paymentStatus: d.payment_status,
    metadata: { ...d.metadata },
    termsAccepted: d.consent.terms_of_service === 'accepted',
    customerTaxIds: d.customer_details.tax_ids.map((t) => ({ ...t })),
    amountTotal: d.amount_total,
    currency: d.currency,
  };
}

function toSubscription(s: SubscriptionJson): ProviderSubscription {
  const item = firstItem(s);
  return {
    id: s.id,
    customerId: s.customer,
    status: s.status,
    priceId: item.price.id,
    itemId: item.id,
    currentPeriodStart: s.current_period_start,
    currentPeriodEnd: s.current_period_end,
    cancelAtPeriodEnd: s.cancel_at_period_end,
    canceledAt: s.canceled_at,
    endedAt: s.ended_at,
    trialEnd: s.trial_end,
    latestInvoiceId: s.latest_invoice,
    metadata: { ...s.metadata },
  };
}

function toInvoice(i: InvoiceJson): ProviderInvoice {
  return {
    id: i.id,
    customerId: i.customer,
    subscriptionId: i.subscription,
    chargeId: i.charge,
    paymentIntentId: i.payment_intent,
    amountPaid: i.amount_paid,
    amountDue: i.amount_due,
    currency: i.currency,
    status: i.status,
    billingReason: i.billing_reason,
    created: i.created,
  };
}

function toCharge(c: ChargeJson): ProviderCharge {
  return {
    id: c.id,
    amount: c.amount,
    amountRefunded: c.amount_refunded,
    currency: c.currency,
    customerId: c.customer,
    paymentIntentId: c.payment_intent,
    invoiceId: c.invoice,
    applicationFeeAmount: c.application_fee_amount,
    refunded: c.refunded,
    disputed: c.disputed,
    status: c.status,
    created: c.created,
    metadata: { ...c.metadata },
  };
}

function toDispute(d: DisputeJson): ProviderDispute {
  return {
    id: d.id,
    chargeId: d.charge,
    paymentIntentId: d.payment_intent,
    amount: d.amount,
    currency: d.currency,
    reason: d.reason,
    status: d.status,
    evidenceDueBy: d.evidence_details.due_by,
    evidenceSubmitted: d.evidence_details.submission_count > 0,
    created: d.created,
  };
}

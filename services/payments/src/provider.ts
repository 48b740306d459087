/**
 * The payment provider behind paid circles, as the payments domain sees it. Two implementations, chosen by
 * configuration (never by an `if` in domain code):
 *
 * - `StripeProvider` (providers/stripe.ts): Stripe's REST API, form-encoded, `Idempotency-Key` on every create,
 *   webhooks verified from the raw body. Used when STRIPE_SECRET_KEY is set.
 * - `TestPaymentsProvider` (providers/test-provider.ts): a built-in, clearly labelled stand-in for trying paid
 *   circles without a Stripe account (the embedded default). It keeps Stripe-shaped objects in the payments
 *   schema, has a local checkout page, a test clock, and emits Stripe-shaped events into the same pipeline that
 *   Stripe's webhooks feed, so everything downstream runs the same code in both modes.
 *
 * Objects use Stripe's names and shapes (ids, statuses, amounts in the currency's minor unit, Unix seconds), so
 * the domain maps one vocabulary. Charges are destination charges: the customer, subscription and charge live on
 * the platform account, money goes to the creator's connected account (`transfer_data.destination`), the platform
 * keeps an application fee. Connected-account reads (balance, payouts) pass that account's id.
 */

export type ProviderKind = 'stripe' | 'test';

export type Interval = 'month' | 'year';

/** Every call that creates something takes a key the caller stored before the first attempt. */
export interface Idempotent {
  idempotencyKey: string;
}

export type SubscriptionStatus = 'incomplete' | 'incomplete_expired' | 'trialing' | 'active' | 'past_due' | 'canceled' | 'unpaid' | 'paused';

export interface ProviderSubscription {
  id: string;
  customerId: string;
  status: SubscriptionStatus;
  /** The provider price the subscription is on now (one item per subscription here). */
  priceId: string;
  /** Its subscription item (needed to change the price). */
  itemId: string;
  currentPeriodStart: number;
  currentPeriodEnd: number;
  cancelAtPeriodEnd: boolean;
  canceledAt: number | null;
  endedAt: number | null;
  trialEnd: number | null;
  latestInvoiceId: string | null;
  metadata: Record<string, string>;
}

export interface ProviderCheckoutSession {
  id: string;
  /** Where to send the buyer (Stripe-hosted, or the local test checkout page). */
  url: string | null;
  status: 'open' | 'complete' | 'expired';
  mode: 'subscription' | 'payment';
  customerId: string | null;
  subscriptionId: string | null;
  paymentIntentId: string | null;
  /** Set once paid: 'paid' | 'unpaid' | 'no_payment_required' (a trial). */
  paymentStatus: string;
  metadata: Record<string, string>;
  /** Terms of service accepted at checkout (consent_collection), when asked. */
  termsAccepted: boolean;
  /** Tax ids the buyer entered (tax_id_collection), type and value. */
  customerTaxIds: { type: string; value: string }[];
  amountTotal: number | null;
  currency: string | null;
}

export interface ProviderInvoice {
  id: string;
  customerId: string | null;
  subscriptionId: string | null;
  chargeId: string | null;
  paymentIntentId: string | null;
  amountPaid: number;
  amountDue: number;
  currency: string;
  status: 'draft' | 'open' | 'paid' | 'uncollectible' | 'void';
  /** subscription_create | subscription_cycle | subscription_update | manual ... */
  billingReason: string | null;
  created: number;
}

export interface ProviderCharge {
  id: string;
  amount: number;
  amountRefunded: number;
  currency: string;
  customerId: string | null;
  paymentIntentId: string | null;
  invoiceId: string | null;
  /** The platform's application fee on this charge, when known. */
  applicationFeeAmount: number | null;
  refunded: boolean;
  disputed: boolean;
  status: 'succeeded' | 'pending' | 'failed';
  created: number;
  metadata: Record<string, string>;
}

export type DisputeStatus = 'warning_needs_response' | 'warning_under_review' | 'warning_closed' | 'needs_response' | 'under_review' | 'won' | 'lost';

export interface ProviderDispute {
  id: string;
  chargeId: string;
  paymentIntentId: string | null;
  amount: number;
  currency: string;
  reason: string;
  status: DisputeStatus;
  /** Unix seconds by which evidence must be submitted. */
  evidenceDueBy: number | null;
  evidenceSubmitted: boolean;
  created: number;
}

/** What the owner submits for a dispute (a subset of Stripe's `evidence` hash, all text). */
export interface DisputeEvidence {
  customerName?: string;
  customerEmailAddress?: string;
  productDescription?: string;
  serviceDate?: string;
  accessActivityLog?: string;
  customerCommunication?: string;
  refundPolicy?: string;
  cancellationPolicy?: string;
  uncategorizedText?: string;
}

export interface ProviderAccount {
  id: string;
  chargesEnabled: boolean;
  payoutsEnabled: boolean;
  detailsSubmitted: boolean;
  /** Requirements currently due (Stripe's requirements.currently_due). */
  requirementsDue: string[];
  defaultCurrency: string | null;
}

export interface Money {
  amount: number;
  currency: string;
}

export interface ProviderBalance {
  available: Money[];
  pending: Money[];
}

export interface ProviderPayout {
  id: string;
  amount: number;
  currency: string;
  status: 'paid' | 'pending' | 'in_transit' | 'canceled' | 'failed';
  arrivalDate: number;
  created: number;
}

/** A provider event (Stripe's Event object): `object` is `data.object` as sent, in the provider's own JSON. */
export interface ProviderEvent {
  id: string;
  type: string;
  /** Unix seconds. */
  created: number;
  /** The connected account the event happened on (Connect events), else null. */
  account: string | null;
  livemode: boolean;
  object: Record<string, unknown>;
}

export class WebhookSignatureError extends Error {
  override readonly name = 'WebhookSignatureError';
}

/** A call the provider refused (a card error, bad parameters): the message is safe to show to the caller. */
export class ProviderError extends Error {
  override readonly name = 'ProviderError';
  constructor(
    message: string,
    readonly status: number,
    readonly code: string | null = null,
  ) {
    super(message);
  }
}

export interface PaymentProvider {
  readonly kind: ProviderKind;

  /** The provider's time in Unix seconds: the wall clock for Stripe, the test clock for the test provider. */
  clockNow(): Promise<number>;

  createProduct(input: Idempotent & { name: string; description: string; metadata: Record<string, string> }): Promise<{ id: string }>;
  updateProduct(id: string, input: { name: string; description: string }): Promise<void>;
  /** interval null: a one-time price. Prices are immutable; a new amount is a new price. */
  createPrice(input: Idempotent & { productId: string; unitAmount: number; currency: string; interval: Interval | null; metadata: Record<string, string> }): Promise<{ id: string }>;
  /** Stops new checkouts on it; existing subscriptions stay on it. */
  archivePrice(id: string): Promise<void>;

  /** A coupon with its customer-facing code (Stripe: coupon + promotion code). */
  createPromotionCode(
    input: Idempotent & {
      code: string;
      percentOff: number | null;
      amountOff: number | null;
      currency: string | null;
      duration: 'once' | 'repeating' | 'forever';
      durationInMonths: number | null;
      maxRedemptions: number | null;
      expiresAt: number | null;
      /** Products the coupon applies to (empty: any). */
      productIds: string[];
      metadata: Record<string, string>;
    },
  ): Promise<{ id: string; couponId: string }>;
  deactivatePromotionCode(id: string): Promise<void>;

  createCustomer(input: Idempotent & { email: string | null; name: string; metadata: Record<string, string> }): Promise<{ id: string }>;

  /**
   * Hosted checkout with automatic tax and tax-id collection. Subscription mode carries trial days and the
   * destination account with the platform's fee percent; payment mode (one-time) carries the fee as an amount.
   */
  createCheckoutSession(
    input: Idempotent & {
      mode: 'subscription' | 'payment';
      customerId: string;
      priceId: string;
      trialDays: number | null;
      /** Let the buyer type a promotion code, or apply this one. */
      allowPromotionCodes: boolean;
      promotionCodeId: string | null;
      successUrl: string;
      cancelUrl: string;
      destinationAccountId: string | null;
      applicationFeePercent: number | null;
      /** One-time purchases: the fee in minor units. */
      applicationFeeAmount: number | null;
      /** Require accepting the terms of service (consent_collection[terms_of_service]=required). */
      requireTerms: boolean;
      metadata: Record<string, string>;
    },
  ): Promise<ProviderCheckoutSession>;
  retrieveCheckoutSession(id: string): Promise<ProviderCheckoutSession>;
  /** The checkout session that created this payment intent (one-time purchases), if any. */
  findCheckoutSessionByPaymentIntent(paymentIntentId: string): Promise<ProviderCheckoutSession | null>;

  /** Card changes, invoices and cancellation, hosted by the provider. */
  createPortalSession(input: { customerId: string; returnUrl: string }): Promise<{ url: string }>;

  retrieveSubscription(id: string): Promise<ProviderSubscription>;
  /** Moves a subscription to another price, prorated (upgrade or downgrade). */
  changeSubscriptionPrice(input: Idempotent & { subscriptionId: string; itemId: string; priceId: string }): Promise<ProviderSubscription>;
  /** true: ends at the period's end; false: undoes that. */
  setCancelAtPeriodEnd(subscriptionId: string, cancel: boolean): Promise<ProviderSubscription>;
  /** Ends it now (used when a refund should also end access). */
  cancelSubscriptionNow(subscriptionId: string): Promise<ProviderSubscription>;

  retrieveInvoice(id: string): Promise<ProviderInvoice>;
  retrieveCharge(id: string): Promise<ProviderCharge>;
  /** Refunds a charge in full (amount null) or in part. */
  createRefund(input: Idempotent & { chargeId: string; amount: number | null; reason: 'requested_by_customer' | 'duplicate' | 'fraudulent' | null }): Promise<{ id: string; status: string }>;

  retrieveDispute(id: string): Promise<ProviderDispute>;
  /** Saves evidence; submit true sends it to the bank (no further edits). */
  updateDisputeEvidence(id: string, evidence: DisputeEvidence, submit: boolean): Promise<ProviderDispute>;

  /** Connect (Express): the creator's account, its onboarding link, its state, balance and payouts. */
  createConnectedAccount(input: Idempotent & { email: string | null; country: string | null; metadata: Record<string, string> }): Promise<{ id: string }>;
  createAccountLink(input: { accountId: string; refreshUrl: string; returnUrl: string }): Promise<{ url: string }>;
  retrieveAccount(id: string): Promise<ProviderAccount>;
  retrieveBalance(accountId: string): Promise<ProviderBalance>;
  listPayouts(accountId: string, limit: number): Promise<ProviderPayout[]>;

  /**
   * Checks a webhook delivery: the signature over the raw body with the endpoint secret, within the tolerance
   * (300 s). Throws WebhookSignatureError when it does not verify; returns the parsed event otherwise.
   */
  verifyWebhook(rawBody: string, signatureHeader: string | null, nowSeconds?: number): ProviderEvent;
}

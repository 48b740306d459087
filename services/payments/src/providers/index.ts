import { randomBytes } from 'node:crypto';
import type { Config, Database } from '@circles/platform';
import type { PaymentProvider, ProviderEvent } from '../provider.ts';
import { StripeProvider } from './stripe.ts';
import { TestPaymentsProvider } from './test-provider.ts';

/**
 * The one place that picks the payment provider, from configuration: Stripe when STRIPE_SECRET_KEY is set,
 * otherwise the built-in test provider (no real money; its pages say so). Domain code sees only the interface.
 */
export function createPaymentProvider(
  config: Config,
  opts: { db: Database['db']; emit: (event: ProviderEvent) => Promise<void> },
): { provider: PaymentProvider; test: TestPaymentsProvider | null } {
  if (config.stripeSecretKey) {
    const provider = new StripeProvider({ secretKey: config.stripeSecretKey, webhookSecret: config.stripeWebhookSecret!, apiBase: config.stripeApiBase, apiVersion: config.stripeApiVersion });
    return { provider, test: null };
  }
  // The test provider hands its events over in-process; its webhook secret exists only to satisfy the interface,
  // so nothing posted to the webhook route from outside is ever accepted in test mode.
  const webhookSecret = `whsec_${randomBytes(24).toString('hex')}`;
  const test = new TestPaymentsProvider({ db: opts.db, publicUrl: config.publicUrl.replace(/\/$/, ''), webhookSecret, emit: opts.emit });
  return { provider: test, test };
}

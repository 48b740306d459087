import { readFileSync } from 'node:fs';
import { defineService } from '@circles/platform';
import { parse } from 'graphql';
import { migrations } from '../migrations/index.ts';
import { ProviderEventProcessor } from './events.ts';
import { createPaymentsHttp } from './http.ts';
import type { ProviderEvent } from './provider.ts';
import { createPaymentProvider } from './providers/index.ts';
import { createPaymentsResolvers } from './resolvers.ts';
import { type DisputeOpened, PaymentsService } from './service.ts';

export const typeDefs = parse(readFileSync(new URL('./schema.graphql', import.meta.url), 'utf8'));

export const paymentsService = defineService({
  name: 'payments',
  typeDefs,
  migrations,
  create(deps) {
    let processor: ProviderEventProcessor | null = null;
    // The test provider's events enter the same pipeline as Stripe's webhooks, and are applied before the call
    // that caused them returns (the buyer lands on an open circle); the worker would apply them anyway.
    const emit = async (event: ProviderEvent) => {
      await processor!.receive(event);
      await processor!.kick();
    };
    const { provider, test } = createPaymentProvider(deps.config, { db: deps.db, emit });
    const service = new PaymentsService(deps, provider, test);
    processor = new ProviderEventProcessor(service, provider, deps.log);
    processor.start();
    const sweep = setInterval(() => {
      void service.sweepGrace().catch((err) => deps.log.error('grace sweep failed', { err }));
      // The test provider's clock also moves with real time: renewals, retries and payouts come due by themselves.
      void test?.runDueTransitions().catch((err) => deps.log.error('test payments transitions failed', { err }));
    }, 60_000);
    sweep.unref();
    deps.log.info(provider.kind === 'test' ? 'payments: built-in TEST provider (no real money; set STRIPE_SECRET_KEY for Stripe)' : 'payments: Stripe');
    return {
      resolvers: createPaymentsResolvers(service),
      http: createPaymentsHttp(service, provider, processor),
      eventHandlers: {
        // The owner hears of a dispute by email too (after the commit; the revenue page shows it either way).
        'payments.dispute_opened': async (event) => () => service.notifyDispute(event.payload as DisputeOpened),
      },
      async stop() {
        clearInterval(sweep);
        await processor!.stop();
      },
    };
  },
});

export { PaymentsService } from './service.ts';
export default paymentsService;

import { distributedServicesAvailable, type FakeStripe, type FakeStripeObject, modes, startFakeStripe, startTestPlatform, type TestPlatform } from '@circles/testing';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * Stripe webhooks in, against the payments service configured for Stripe. Stripe's API is hosted and cannot run
 * here, so the service talks to a local server that speaks Stripe's REST protocol (packages/testing/src/stripe-fake.ts;
 * endpoints used: /v1/products, /v1/prices, /v1/customers, /v1/checkout/sessions, /v1/subscriptions, /v1/invoices,
 * /v1/charges, /v1/disputes, /v1/accounts, /v1/account_links), and the test plays Stripe's side: it changes the
 * fake's objects the way Stripe would and delivers the matching signed events to POST /payments/webhooks/stripe.
 *
 * The lifecycle (checkout, renewal, partial refund, dispute opened and won, cancellation at period end) is run for
 * two members: one gets each event once, in order, right after its change; the other gets every event three
 * times, concurrently and shuffled, after all changes. Both must end with the same access and the same ledger.
 */
const canRunDistributed = await distributedServicesAvailable();
const pw = 'violet-kettle-sunrise-42';
const WEBHOOK_SECRET = 'whsec_circlestestsecret0123456789';

describe.each(modes)('Stripe webhooks (%s)', (mode) => {
  let p: TestPlatform;
  let stripe: FakeStripe;
  const run = mode === 'embedded' || canRunDistributed;
  const tokens: Record<string, string> = {};
  const ids: Record<string, string> = {};
  let community: string;
  let circle: string;
  let tier: string;

  const ok = async (query: string, vars: Record<string, unknown>, who: string) => {
    const r = await p.gql(query, vars, { token: tokens[who] });
    expect(r.errors, JSON.stringify(r.errors)).toBeUndefined();
    return r.data;
  };
  const deliver = (body: string, header: string | null) =>
    fetch(`${p.url}/payments/webhooks/stripe`, { method: 'POST', headers: { 'content-type': 'application/json', ...(header ? { 'stripe-signature': header } : {}) }, body });
  const send = async (type: string, object: FakeStripeObject, extra: { account?: string } = {}) => {
    const event = stripe.event(type, object, extra);
    const { body, header } = stripe.signEvent(event, WEBHOOK_SECRET);
    return { event, body, header };
  };
  const pending = async () => Number((await sql<{ n: string }>`select count(*)::text as n from payments.provider_events where applied_at is null`.execute(p.infra.database!.db)).rows[0]!.n);
  const inCircle = async (who: string) => (await ok(`query($id: ID!) { circle(id: $id) { viewerIsMember } }`, { id: circle }, who)).circle?.viewerIsMember;
  const state = async (who: string) => {
    const [sub] = (await ok(`{ mySubscriptions { status entitled cancelAtPeriodEnd suspendedReason } }`, {}, who)).mySubscriptions;
    const ledger = (await ok(`query($c: ID!) { ledger(communityId: $c, first: 500) { kind amount currency user { id } } }`, { c: community }, 'owner')).ledger
      .filter((l: { user: { id: string } | null }) => l.user?.id === ids[who])
      .map((l: { kind: string; amount: number; currency: string }) => `${l.kind} ${l.amount} ${l.currency}`)
      .sort();
    return { sub, ledger, member: await inCircle(who) };
  };

  /** Plays one member's whole lifecycle on Stripe's side; returns the events in the order Stripe would send them. */
  async function lifecycle(who: string, onEach: (type: string, object: FakeStripeObject) => Promise<void>) {
    const start = (await ok(`mutation($t: ID!) { startCheckout(tierId: $t, interval: MONTH) { url checkoutId } }`, { t: tier }, who)).startCheckout;
    const sessionId = [...stripe.checkoutSessions.values()].find((s) => s.metadata?.circles_checkout === start.checkoutId)!.id;
    // The session carries what the issue asks of checkout: automatic tax, tax ids, terms, the creator's account and fee.
    const params = stripe.checkoutParams.get(sessionId)!;
    expect(params).toMatchObject({ automatic_tax: { enabled: 'true' }, tax_id_collection: { enabled: 'true' }, consent_collection: { terms_of_service: 'required' } });
    expect((params.subscription_data as Record<string, any>).transfer_data.destination).toMatch(/^acct_/);
    expect((params.subscription_data as Record<string, any>).application_fee_percent).toBe('5');
    const paid = stripe.completeCheckout(sessionId, { termsAccepted: true, taxIds: [{ type: 'eu_vat', value: 'DE123456789' }] });
    const sub = paid.subscription!;
    await onEach('customer.subscription.created', stripe.subscriptions.get(sub.id)!);
    await onEach('charge.succeeded', stripe.charges.get(paid.charge!.id)!);
    await onEach('invoice.paid', stripe.invoices.get(paid.invoice!.id)!);
    await onEach('checkout.session.completed', stripe.checkoutSessions.get(sessionId)!);
    // A month later: renewal.
    const now = stripe.now();
    stripe.setSubscriptionPeriod(sub.id, now + 30 * 86_400, now + 60 * 86_400);
    const renewal = stripe.createInvoice({ subscription: sub.id, amountPaid: 900, currency: 'usd', billingReason: 'subscription_cycle' });
    const renewalCharge = [...stripe.charges.values()].find((c) => c.id !== paid.charge!.id && (c.invoice === renewal.id || c.payment_intent === (stripe.invoicePayments.get(renewal.id)?.[0]?.payment as any)?.payment_intent))!;
    await onEach('invoice.paid', stripe.invoices.get(renewal.id)!);
    await onEach('charge.succeeded', stripe.charges.get(renewalCharge.id)!);
    await onEach('customer.subscription.updated', stripe.subscriptions.get(sub.id)!);
    // Part of the renewal is refunded.
    stripe.setCharge(renewalCharge.id, { amount_refunded: 300, refunded: false });
    await onEach('charge.refunded', stripe.charges.get(renewalCharge.id)!);
    // The first charge is disputed, then the creator wins.
    const dispute = stripe.createDispute({ charge: paid.charge!.id, amount: 900, reason: 'fraudulent', status: 'needs_response' });
    await onEach('charge.dispute.created', stripe.disputes.get(dispute.id)!);
    stripe.setDispute(dispute.id, { status: 'won' });
    await onEach('charge.dispute.closed', stripe.disputes.get(dispute.id)!);
    // The member cancels in the portal: it ends at the period's end.
    stripe.setSubscription(sub.id, { cancel_at_period_end: true });
    await onEach('customer.subscription.updated', stripe.subscriptions.get(sub.id)!);
    return sub.id;
  }

  beforeAll(async () => {
    if (!run) return;
    stripe = await startFakeStripe();
    p = await startTestPlatform(mode, {}, { STRIPE_SECRET_KEY: stripe.apiKey, STRIPE_WEBHOOK_SECRET: WEBHOOK_SECRET, STRIPE_API_BASE: stripe.url });
    for (const who of ['owner', 'ana', 'ben']) {
      const r = await p.gql(`mutation($input: SignUpInput!) { signUp(input: $input) { token account { id } } }`, {
        input: { email: `${who}@hooks.example`, password: pw, handle: `w_${who}`, displayName: who, delivery: 'BEARER' },
      });
      tokens[who] = r.data.signUp.token;
      ids[who] = r.data.signUp.account.id;
    }
    community = (await ok(`mutation { createCommunity(input: { name: "Hooks", slug: "hooks" }) { id } }`, {}, 'owner')).createCommunity.id;
    circle = (await ok(`mutation($c: ID!) { createCircle(communityId: $c, input: { name: "Vault", access: PAID }) { id } }`, { c: community }, 'owner')).createCircle.id;
    for (const who of ['ana', 'ben']) await ok(`mutation($id: ID!) { joinCommunity(id: $id) { id } }`, { id: community }, who);
    tier = (await ok(`mutation($c: ID!, $i: TierInput!) { createTier(communityId: $c, input: $i) { id } }`, { c: community, i: { name: 'Vault', circleIds: [circle], currency: 'usd', monthlyAmount: 900 } }, 'owner')).createTier.id;
  });
  afterAll(async () => {
    await p?.stop();
    await stripe?.close();
  });

  it.runIf(run)('the creator onboards through Connect; account.updated enables sales', async () => {
    expect((await ok(`{ paymentsInfo { provider testMode } }`, {}, 'ana')).paymentsInfo).toEqual({ provider: 'STRIPE', testMode: false });
    const link = (await ok(`mutation($c: ID!) { startPayoutOnboarding(communityId: $c) }`, { c: community }, 'owner')).startPayoutOnboarding;
    expect(link).toMatch(/^https:\/\/connect\.stripe\.test\//);
    const accountId = [...stripe.accounts.keys()][0]!;
    expect(stripe.requestsTo('POST', '/v1/accounts')[0]!.params).toMatchObject({ type: 'express' });
    const account = stripe.completeOnboarding(accountId);
    const { body, header } = await send('account.updated', account, { account: accountId });
    expect((await deliver(body, header)).status).toBe(200);
    await expect.poll(async () => (await ok(`query($c: ID!) { payoutAccount(communityId: $c) { chargesEnabled payoutsEnabled } }`, { c: community }, 'owner')).payoutAccount).toEqual({ chargesEnabled: true, payoutsEnabled: true });
    // The tier reached Stripe as a product and a price, each created once under its idempotency key.
    expect(stripe.requestsTo('POST', '/v1/products')).toHaveLength(1);
    expect(stripe.requestsTo('POST', '/v1/prices')[0]!.headers['idempotency-key']).toMatch(/^price:/);
  });

  it.runIf(run)('the test provider is off once Stripe is configured; the billing portal is Stripe\'s', async () => {
    for (const [q, v] of [
      [`mutation($c: ID!) { advanceTestClock(communityId: $c, seconds: 60) }`, { c: community }],
      [`query { testCheckout(id: "cs_test_x") { id } }`, {}],
      [`mutation { completeTestOnboarding(accountId: "acct_x") }`, {}],
    ] as const) {
      const r = await p.gql(q, v, { token: tokens.owner });
      expect(r.errors?.[0]?.extensions?.code, q).toBe('FAILED_PRECONDITION');
      expect(r.errors?.[0]?.message).toMatch(/Test payments are off/);
    }
    // Without a billing account yet there is no portal to open; after a checkout there is.
    expect((await p.gql(`mutation { openBillingPortal }`, {}, { token: tokens.ana })).errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
  });

  it.runIf(run)('invalid deliveries get 400 and change nothing', async () => {
    const object = stripe.setAccount([...stripe.accounts.keys()][0]!);
    const event = stripe.event('account.updated', object);
    const good = stripe.signEvent(event, WEBHOOK_SECRET);
    const tampered = good.body.replace('"account.updated"', '"account.updatex"');
    expect((await deliver(tampered, good.header)).status).toBe(400);
    expect((await deliver(good.body, stripe.signEvent(event, 'whsec_someoneelse0123456789').header)).status).toBe(400);
    expect((await deliver(good.body, stripe.signEvent(event, WEBHOOK_SECRET, Math.floor(Date.now() / 1000) - 301).header)).status).toBe(400);
    expect((await deliver(good.body, stripe.signEvent(event, WEBHOOK_SECRET, Math.floor(Date.now() / 1000) + 301).header)).status).toBe(400);
    expect((await deliver(good.body, null)).status).toBe(400);
    expect((await deliver(good.body, 't=abc,v1=')).status).toBe(400);
    const malformed = stripe.signEvent({ not: 'an event' }, WEBHOOK_SECRET);
    expect((await deliver(malformed.body, malformed.header)).status).toBe(400);
    const n = Number((await sql<{ n: string }>`select count(*)::text as n from payments.provider_events where id = ${event.id}`.execute(p.infra.database!.db)).rows[0]!.n);
    expect(n).toBe(0);
    // The real one is taken once; a repeat says so.
    expect(await (await deliver(good.body, good.header)).json()).toEqual({ received: true, duplicate: false });
    expect(await (await deliver(good.body, good.header)).json()).toEqual({ received: true, duplicate: true });
  });

  it.runIf(run)('three shuffled concurrent deliveries of a whole lifecycle end exactly like one in-order delivery', async () => {
    // ana: each event once, right after its change, waiting for it to be applied.
    await lifecycle('ana', async (type, object) => {
      const { body, header } = await send(type, object);
      expect((await deliver(body, header)).status).toBe(200);
      await expect.poll(pending).toBe(0);
    });
    const portal = await ok(`mutation { openBillingPortal(returnPath: "/account/subscriptions") }`, {}, 'ana');
    expect(portal.openBillingPortal).toMatch(/^https:\/\/billing\.stripe\.test\//);
    expect(stripe.requestsTo('POST', '/v1/billing_portal/sessions').at(-1)!.params).toMatchObject({ return_url: expect.stringMatching(/\/account\/subscriptions$/) });
    expect((await p.gql(`mutation { openBillingPortal(returnPath: "https://evil.example/") }`, {}, { token: tokens.ana })).errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'returnPath' });
    const inOrder = await state('ana');
    expect(inOrder.sub).toMatchObject({ status: 'ACTIVE', entitled: true, cancelAtPeriodEnd: true, suspendedReason: null });
    expect(inOrder.member).toBe(true);
    expect(inOrder.ledger).toEqual(['CHARGE 900 usd', 'CHARGE 900 usd', 'DISPUTE -900 usd', 'DISPUTE_REVERSAL 900 usd', 'FEE -45 usd', 'FEE -45 usd', 'REFUND -300 usd'].sort());

    // ben: all changes first, then every event three times, shuffled, all at once.
    const events: { body: string; header: string }[] = [];
    await lifecycle('ben', async (type, object) => {
      const { body, header } = await send(type, object);
      events.push({ body, header });
    });
    const deliveries = [...events, ...events, ...events];
    for (let i = deliveries.length - 1; i > 0; i--) {
      const j = Math.floor(Math.random() * (i + 1));
      [deliveries[i], deliveries[j]] = [deliveries[j]!, deliveries[i]!];
    }
    const statuses = await Promise.all(deliveries.map((d) => deliver(d.body, d.header).then((r) => r.status)));
    expect(statuses.every((s) => s === 200)).toBe(true);
    await expect.poll(pending, { timeout: 30_000 }).toBe(0);
    await expect.poll(async () => (await state('ben')).member).toBe(true);
    const shuffled = await state('ben');
    expect(shuffled).toEqual(inOrder);
    // Exactly once: each of the 11 events is stored once (33 deliveries) and applied.
    const eventIds = events.map((e) => JSON.parse(e.body).id as string);
    expect(new Set(eventIds).size).toBe(11);
    const stored = await sql<{ n: string }>`select count(*)::text as n from payments.provider_events where id = any(${eventIds}) and applied_at is not null`.execute(p.infra.database!.db);
    expect(Number(stored.rows[0]!.n)).toBe(11);
  });

  it.runIf(run)('the subscription ends when Stripe deletes it, whatever the order of the last events', async () => {
    const subId = [...stripe.subscriptions.values()].find((s) => s.metadata?.circles_user === ids.ana)!.id;
    stripe.setSubscription(subId, { status: 'canceled', ended_at: stripe.now(), canceled_at: stripe.now() });
    const deleted = await send('customer.subscription.deleted', stripe.subscriptions.get(subId)!);
    // An older "updated" event arrives after the deletion: re-reading the subscription keeps it ended.
    const stale = await send('customer.subscription.updated', { ...stripe.subscriptions.get(subId)!, status: 'active' });
    expect((await deliver(deleted.body, deleted.header)).status).toBe(200);
    expect((await deliver(stale.body, stale.header)).status).toBe(200);
    await expect.poll(pending).toBe(0);
    await expect.poll(() => inCircle('ana')).toBe(false);
    expect((await state('ana')).sub).toMatchObject({ status: 'CANCELED', entitled: false });
    expect(await inCircle('ben')).toBe(true);
  });
});

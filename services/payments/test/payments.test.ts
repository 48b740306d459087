import { codeOf, distributedServicesAvailable, modes, startTestPlatform, type TestPlatform } from '@circles/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * Paid circles end to end through the API with the built-in test provider (the embedded default: no Stripe keys),
 * in both modes. Stripe's own protocol is covered by stripe-adapter.test.ts and webhooks.test.ts.
 */
const canRunDistributed = await distributedServicesAvailable();
const pw = 'violet-kettle-sunrise-42';
const DAY = 86_400;

const SUB_FIELDS = `id status entitled cancelAtPeriodEnd currentPeriodEnd suspendedReason interval price { amount currency active } tier { id name }`;

describe.each(modes)('paid circles with the test provider (%s)', (mode) => {
  let p: TestPlatform;
  const run = mode === 'embedded' || canRunDistributed;
  const tokens: Record<string, string> = {};
  const ids: Record<string, string> = {};
  let community: string;
  let circle: string;
  let openCircle: string;
  let tier: string;
  let subscription: string;

  const as = (who: string | null) => (who ? { token: tokens[who] } : {});
  const ok = async (query: string, vars: Record<string, unknown>, who: string | null) => {
    const r = await p.gql(query, vars, as(who));
    expect(r.errors, JSON.stringify(r.errors)).toBeUndefined();
    return r.data;
  };
  const inCircle = async (who: string) => (await ok(`query($id: ID!) { circle(id: $id) { viewerIsMember } }`, { id: circle }, who)).circle?.viewerIsMember;
  const mine = async (who: string) => (await ok(`{ mySubscriptions { ${SUB_FIELDS} } }`, {}, who)).mySubscriptions;
  const checkout = async (who: string, interval = 'MONTH', card = '4242424242424242') => {
    const start = await ok(`mutation($t: ID!, $i: BillingInterval!) { startCheckout(tierId: $t, interval: $i) { url checkoutId } }`, { t: tier, i: interval }, who);
    const sessionId = new URL(start.startCheckout.url).pathname.split('/').pop();
    const page = await ok(`query($id: ID!) { testCheckout(id: $id) { amount currency interval requireTerms productName } }`, { id: sessionId }, who);
    expect(page.testCheckout).toMatchObject({ requireTerms: true, productName: 'Insiders' });
    return p.gql(`mutation($i: TestCheckoutInput!) { completeTestCheckout(input: $i) }`, { i: { checkoutId: sessionId, cardNumber: card, acceptTerms: true } }, as(who));
  };

  beforeAll(async () => {
    if (!run) return;
    p = await startTestPlatform(mode);
    for (const who of ['owner', 'mia', 'otto', 'zed']) {
      const r = await p.gql(`mutation($input: SignUpInput!) { signUp(input: $input) { token account { id } } }`, {
        input: { email: `${who}@pay.example`, password: pw, handle: `p_${who}`, displayName: who, delivery: 'BEARER' },
      });
      tokens[who] = r.data.signUp.token;
      ids[who] = r.data.signUp.account.id;
    }
    community = (await ok(`mutation { createCommunity(input: { name: "Paid club", slug: "paid-club" }) { id } }`, {}, 'owner')).createCommunity.id;
    circle = (await ok(`mutation($c: ID!) { createCircle(communityId: $c, input: { name: "Inner", access: PAID }) { id } }`, { c: community }, 'owner')).createCircle.id;
    openCircle = (await ok(`mutation($c: ID!) { createCircle(communityId: $c, input: { name: "Lobby", access: OPEN }) { id } }`, { c: community }, 'owner')).createCircle.id;
    for (const who of ['mia', 'otto']) await ok(`mutation($id: ID!) { joinCommunity(id: $id) { id } }`, { id: community }, who);
  });
  afterAll(async () => {
    await p?.stop();
  });

  it.runIf(run)('says it is in test mode', async () => {
    expect((await ok(`{ paymentsInfo { provider testMode platformFeePercent gracePeriodDays } }`, {}, null)).paymentsInfo).toEqual({ provider: 'TEST', testMode: true, platformFeePercent: 5, gracePeriodDays: 3 });
  });

  it.runIf(run)('owners define tiers; bad input is refused with the field named; others may not', async () => {
    const create = (who: string, input: Record<string, unknown>) =>
      p.gql(`mutation($c: ID!, $i: TierInput!) { createTier(communityId: $c, input: $i) { id name benefits trialDays circles { id } prices { interval amount currency active } } }`, { c: community, i: input }, as(who));
    const base = { name: 'Insiders', description: 'The inner circle', benefits: ['Weekly call', 'Archive'], circleIds: [circle], currency: 'USD', monthlyAmount: 900, yearlyAmount: 9000 };
    expect(codeOf(await create('mia', base))).toBe('FORBIDDEN');
    const notPaid = await create('owner', { ...base, circleIds: [openCircle] });
    expect(notPaid.errors?.[0]).toMatchObject({ extensions: { code: 'BAD_USER_INPUT', field: 'circleIds' } });
    expect(notPaid.errors?.[0]?.message).toContain('Lobby');
    expect((await create('owner', { ...base, monthlyAmount: null, yearlyAmount: null })).errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT' });
    expect((await create('owner', { ...base, currency: 'dollars' })).errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'currency' });
    expect((await create('owner', { ...base, monthlyAmount: -5 })).errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'monthlyAmount' });
    expect((await create('owner', { ...base, name: '' })).errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'name' });
    const made = await create('owner', base);
    expect(made.errors).toBeUndefined();
    tier = made.data.createTier.id;
    expect(made.data.createTier).toMatchObject({ name: 'Insiders', benefits: ['Weekly call', 'Archive'], trialDays: 0, circles: [{ id: circle }] });
    expect(made.data.createTier.prices).toEqual(
      expect.arrayContaining([
        { interval: 'MONTH', amount: 900, currency: 'usd', active: true },
        { interval: 'YEAR', amount: 9000, currency: 'usd', active: true },
      ]),
    );
    // Anyone who can see the circle sees what it costs (the page is public for listed communities).
    const seen = await ok(`query($id: ID!) { circle(id: $id) { tiers { name prices { interval amount } } } }`, { id: circle }, 'mia');
    expect(seen.circle.tiers).toHaveLength(1);
  });

  it.runIf(run)('no sales before the owner finishes payouts onboarding; members only', async () => {
    const start = (who: string) => p.gql(`mutation($t: ID!) { startCheckout(tierId: $t, interval: MONTH) { url } }`, { t: tier }, as(who));
    expect(codeOf(await start('mia'))).toBe('FAILED_PRECONDITION');
    expect(codeOf(await p.gql(`mutation($c: ID!) { startPayoutOnboarding(communityId: $c) }`, { c: community }, as('mia')))).toBe('FORBIDDEN');
    const link = (await ok(`mutation($c: ID!) { startPayoutOnboarding(communityId: $c) }`, { c: community }, 'owner')).startPayoutOnboarding as string;
    const accountId = /\/billing\/test-onboarding\/([^/?]+)/.exec(link)![1]!;
    expect(codeOf(await p.gql(`mutation($a: ID!) { completeTestOnboarding(accountId: $a) }`, { a: accountId }, as('mia')))).toBe('FORBIDDEN');
    await ok(`mutation($a: ID!) { completeTestOnboarding(accountId: $a) }`, { a: accountId }, 'owner');
    const account = (await ok(`query($c: ID!) { payoutAccount(communityId: $c) { exists chargesEnabled payoutsEnabled requirementsDue } }`, { c: community }, 'owner')).payoutAccount;
    expect(account).toEqual({ exists: true, chargesEnabled: true, payoutsEnabled: true, requirementsDue: [] });
    // zed is not a member of the community.
    expect(codeOf(await start('zed'))).toBe('FORBIDDEN');
    expect(codeOf(await p.gql(`mutation($t: ID!) { startCheckout(tierId: $t, interval: ONCE) { url } }`, { t: tier }, as('mia')))).toBe('BAD_USER_INPUT');
  });

  it.runIf(run)('paying opens the circle; a second checkout is refused; the paid member cannot be removed like a comped one', async () => {
    const declined = await checkout('mia', 'MONTH', '4000000000000002');
    expect(declined.errors?.[0]?.message).toMatch(/declined/i);
    expect(await inCircle('mia')).toBe(false);
    const paid = await checkout('mia');
    expect(paid.errors).toBeUndefined();
    expect(paid.data.completeTestCheckout).toContain(`/circles/${circle}?checkout=success`);
    await expect.poll(() => inCircle('mia')).toBe(true);
    const [sub] = await mine('mia');
    subscription = sub.id;
    expect(sub).toMatchObject({ status: 'ACTIVE', entitled: true, cancelAtPeriodEnd: false, interval: 'MONTH', price: { amount: 900, currency: 'usd' } });
    expect(codeOf(await p.gql(`mutation($t: ID!) { startCheckout(tierId: $t, interval: YEAR) { url } }`, { t: tier }, as('mia')))).toBe('CONFLICT');
    // Paid access is not an admin's to take away one member at a time, nor the member's to drop without cancelling.
    expect(codeOf(await p.gql(`mutation($c: ID!, $u: ID!) { removeCircleMember(circleId: $c, userId: $u) }`, { c: circle, u: ids.mia }, as('owner')))).toBe('CONFLICT');
    expect(codeOf(await p.gql(`mutation($c: ID!) { leaveCircle(id: $c) }`, { c: circle }, as('mia')))).toBe('CONFLICT');
    // Comped access coexists: an admin adds otto without payment.
    await ok(`mutation($c: ID!, $u: ID!) { addCircleMember(circleId: $c, userId: $u) { role } }`, { c: circle, u: ids.otto }, 'owner');
    const members = (await ok(`query($c: ID!) { circleMembers(circleId: $c) { user { id } paid addedByAdmin } }`, { c: circle }, 'owner')).circleMembers;
    expect(members).toEqual(
      expect.arrayContaining([
        { user: { id: ids.mia }, paid: true, addedByAdmin: false },
        { user: { id: ids.otto }, paid: false, addedByAdmin: true },
      ]),
    );
    // The ledger has the charge and the platform's 5% fee; the audit trail has both.
    const ledger = (await ok(`query($c: ID!) { ledger(communityId: $c) { kind amount currency subscriptionId } }`, { c: community }, 'owner')).ledger;
    expect(ledger).toEqual(
      expect.arrayContaining([
        { kind: 'CHARGE', amount: 900, currency: 'usd', subscriptionId: subscription },
        { kind: 'FEE', amount: -45, currency: 'usd', subscriptionId: subscription },
      ]),
    );
    expect(codeOf(await p.gql(`query($c: ID!) { ledger(communityId: $c) { kind } }`, { c: community }, as('mia')))).toBe('FORBIDDEN');
  });

  it.runIf(run)('a new price is for new subscribers; existing ones keep theirs', async () => {
    const updated = await ok(`mutation($t: ID!) { updateTier(id: $t, input: { monthlyAmount: 1200 }) { prices { interval amount active } } }`, { t: tier }, 'owner');
    expect(updated.updateTier.prices).toEqual(expect.arrayContaining([{ interval: 'MONTH', amount: 1200, active: true }]));
    const [sub] = await mine('mia');
    expect(sub.price).toEqual({ amount: 900, currency: 'usd', active: false });
  });

  it.runIf(run)('cancel keeps access to the end of the period, then it ends; resubscribing opens it again', async () => {
    const cancelled = await ok(`mutation($s: ID!) { cancelSubscription(id: $s) { ${SUB_FIELDS} } }`, { s: subscription }, 'mia');
    expect(cancelled.cancelSubscription).toMatchObject({ status: 'ACTIVE', cancelAtPeriodEnd: true, entitled: true });
    expect(codeOf(await p.gql(`mutation($s: ID!) { cancelSubscription(id: $s) { id } }`, { s: subscription }, as('otto')))).toBe('NOT_FOUND');
    expect(await inCircle('mia')).toBe(true);
    // The test clock moves past the period's end (the provider's own clock, advanced by the test).
    expect(codeOf(await p.gql(`mutation($c: ID!) { advanceTestClock(communityId: $c, seconds: 86400) }`, { c: community }, as('mia')))).toBe('FORBIDDEN');
    await ok(`mutation($c: ID!, $s: Int!) { advanceTestClock(communityId: $c, seconds: $s) }`, { c: community, s: 32 * DAY }, 'owner');
    const [ended] = await mine('mia');
    expect(ended).toMatchObject({ status: 'CANCELED', entitled: false });
    await expect.poll(() => inCircle('mia')).toBe(false);
    // otto's comped access is untouched.
    expect(await inCircle('otto')).toBe(true);
    const again = await checkout('mia');
    expect(again.errors).toBeUndefined();
    await expect.poll(() => inCircle('mia')).toBe(true);
    const subs = await mine('mia');
    expect(subs[0]).toMatchObject({ status: 'ACTIVE', entitled: true, price: { amount: 1200 } });
    subscription = subs[0].id;
  });

  it.runIf(run)('a dispute suspends access at once with an evidence packet; a won dispute restores it', async () => {
    // mia reads a paid post before disputing: the packet shows it, with her sign-ins.
    const post = (await ok(`mutation($i: CreatePostInput!) { createPost(input: $i) { id } }`, { i: { communityId: community, spaceId: circle, title: 'Members-only guide', body: 'The good stuff.' } }, 'owner')).createPost.id;
    expect((await ok(`query($id: ID!) { post(id: $id) { id } }`, { id: post }, 'mia')).post.id).toBe(post);
    // ...talks in the circle's chat...
    const lounge = (await ok(`mutation($i: CreateChannelInput!) { createChannel(input: $i) { id } }`, { i: { communityId: community, spaceId: circle, name: 'lounge' } }, 'owner')).createChannel.id;
    await ok(`mutation($i: SendMessageInput!) { sendMessage(input: $i) { message { id } } }`, { i: { channelId: lounge, clientId: `mia-${Date.now()}`, body: 'Loving the guide' } }, 'mia');
    // She also logged in on another device and logged out there: that sign-in is history, not a session, and counts.
    const other = await p.gql(`mutation($i: LogInInput!) { logIn(input: $i) { token } }`, { i: { email: 'mia@pay.example', password: pw, delivery: 'BEARER' } });
    expect((await p.gql(`mutation { logOut }`, {}, { token: other.data.logIn.token })).data.logOut).toBe(true);
    const opened = await ok(`mutation($s: ID!) { simulateTestDispute(subscriptionId: $s) { id status amount currency reason evidence } }`, { s: subscription }, 'owner');
    expect(opened.simulateTestDispute).toMatchObject({ status: 'NEEDS_RESPONSE', amount: 1200, currency: 'usd' });
    const evidence = JSON.parse(opened.simulateTestDispute.evidence);
    expect(evidence.accessActivityLog).toMatch(/terms of service version 1 accepted/);
    expect(evidence.accessActivityLog).toMatch(/"Members-only guide" first opened .*, 1 time\(s\)/);
    expect(evidence.accessActivityLog).toMatch(/Sign-ins \(2, newest first\):\n {2}\S+ logged in with password from \S+ .*\n {2}\S+ created the account from /);
    expect(evidence.accessActivityLog).toMatch(/Paid circle chat \(1 channel\(s\)\):\n {2}#lounge: last read \S+; 1 message\(s\) sent, last \S+/);
    expect(evidence.accessActivityLog).toMatch(/Sessions still open \(1\):\n {2}signed in .* last active .* from /);
    expect(evidence.productDescription).toContain('Insiders');
    const [sub] = await mine('mia');
    expect(sub).toMatchObject({ entitled: false, suspendedReason: 'dispute' });
    // The owner is told by email, with where to answer.
    await expect.poll(async () => (await p.mail()).find((m) => m.to === 'owner@pay.example' && m.subject === 'A payment to Paid club is disputed')?.text).toMatch(/\$12\.00 payment.*suspended[\s\S]*\/c\/paid-club\/settings\/revenue/);
    await expect.poll(() => inCircle('mia')).toBe(false);
    const revenue = (await ok(`query($c: ID!) { revenue(communityId: $c) { openDisputes activeSubscribers mrr { amount currency } } }`, { c: community }, 'owner')).revenue;
    expect(revenue.openDisputes).toBe(1);
    const disputeId = opened.simulateTestDispute.id;
    expect(codeOf(await p.gql(`mutation($d: ID!) { saveDisputeEvidence(id: $d, evidence: { uncategorizedText: "x" }) { id } }`, { d: disputeId }, as('mia')))).toBe('FORBIDDEN');
    const submitted = await ok(`mutation($d: ID!) { saveDisputeEvidence(id: $d, evidence: { customerCommunication: "Member used the circle daily." }, submit: true) { submittedAt evidence } }`, { d: disputeId }, 'owner');
    expect(submitted.saveDisputeEvidence.submittedAt).toBeTruthy();
    expect(JSON.parse(submitted.saveDisputeEvidence.evidence)).toMatchObject({ customerCommunication: 'Member used the circle daily.', productDescription: evidence.productDescription });
    const won = await ok(`mutation($d: ID!) { simulateTestDisputeOutcome(disputeId: $d, won: true) { status } }`, { d: disputeId }, 'owner');
    expect(won.simulateTestDisputeOutcome.status).toBe('WON');
    await expect.poll(() => inCircle('mia')).toBe(true);
    const kinds = (await ok(`query($c: ID!) { ledger(communityId: $c) { kind amount } }`, { c: community }, 'owner')).ledger.map((l: { kind: string; amount: number }) => `${l.kind}:${l.amount}`);
    expect(kinds).toEqual(expect.arrayContaining(['DISPUTE:-1200', 'DISPUTE_REVERSAL:1200']));
  });

  it.runIf(run)('a refund ends access; the ledger exports as CSV by a signed link only', async () => {
    expect(codeOf(await p.gql(`mutation($s: ID!) { refundSubscription(id: $s) { id } }`, { s: subscription }, as('mia')))).toBe('FORBIDDEN');
    const refunded = await ok(`mutation($s: ID!) { refundSubscription(id: $s) { ${SUB_FIELDS} } }`, { s: subscription }, 'owner');
    expect(refunded.refundSubscription).toMatchObject({ status: 'REFUNDED', entitled: false });
    await expect.poll(() => inCircle('mia')).toBe(false);
    const url = (await ok(`query($c: ID!) { ledgerExportUrl(communityId: $c) }`, { c: community }, 'owner')).ledgerExportUrl as string;
    const res = await fetch(p.url + url);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/csv');
    const rows = (await res.text()).trim().split('\r\n');
    expect(rows[0]).toBe('sequence,id,kind,amount,currency,user_id,subscription_id,provider_object_id,description,occurred_at,recorded_at');
    const kinds = rows.slice(1).map((r) => r.split(',')[2]);
    expect(kinds).toEqual(expect.arrayContaining(['"charge"', '"fee"', '"refund"', '"dispute"', '"dispute_reversal"']));
    expect((await fetch(p.url + url.replace(/sig=[^&]+/, 'sig=forged'))).status).toBe(403);
    expect((await fetch(`${p.url}/payments/ledger/${community}.csv`)).status).toBe(403);
    expect(codeOf(await p.gql(`query($c: ID!) { ledgerExportUrl(communityId: $c) }`, { c: community }, as('otto')))).toBe('FORBIDDEN');
  });

  it.runIf(run)('renewals charge again; an archived tier stops selling but keeps its subscribers', async () => {
    // otto pays yearly: the next year renews with a new charge.
    const before = (await ok(`query($c: ID!) { ledger(communityId: $c, first: 500) { kind } }`, { c: community }, 'owner')).ledger.filter((l: { kind: string }) => l.kind === 'CHARGE').length;
    expect((await checkout('otto', 'YEAR')).errors).toBeUndefined();
    await ok(`mutation($c: ID!, $s: Int!) { advanceTestClock(communityId: $c, seconds: $s) }`, { c: community, s: 366 * DAY }, 'owner');
    const after = (await ok(`query($c: ID!) { ledger(communityId: $c, first: 500) { kind } }`, { c: community }, 'owner')).ledger.filter((l: { kind: string }) => l.kind === 'CHARGE').length;
    expect(after).toBe(before + 2);
    expect((await mine('otto'))[0]).toMatchObject({ status: 'ACTIVE', entitled: true, interval: 'YEAR' });
    await ok(`mutation($t: ID!) { archiveTier(id: $t) { archived } }`, { t: tier }, 'owner');
    expect((await ok(`query($id: ID!) { circle(id: $id) { tiers { id } } }`, { id: circle }, 'mia')).circle.tiers).toEqual([]);
    expect(codeOf(await p.gql(`mutation($t: ID!) { startCheckout(tierId: $t, interval: MONTH) { url } }`, { t: tier }, as('mia')))).toBe('BAD_USER_INPUT');
    expect((await mine('otto'))[0]).toMatchObject({ entitled: true });
    const summary = (await ok(`query($c: ID!) { revenue(communityId: $c) { activeSubscribers mrr { amount currency } newLast30Days } }`, { c: community }, 'owner')).revenue;
    expect(summary.activeSubscribers).toBe(1);
    expect(summary.mrr).toEqual([{ amount: 750, currency: 'usd' }]);
  });

  it.runIf(run)('promotion codes discount; changing tier prorates; a failed renewal keeps access through the grace period only; payouts reach the ledger', async () => {
    const mk = async (name: string, monthlyAmount: number) =>
      (await ok(`mutation($c: ID!, $i: TierInput!) { createTier(communityId: $c, input: $i) { id } }`, { c: community, i: { name, circleIds: [circle], currency: 'usd', monthlyAmount } }, 'owner')).createTier.id as string;
    const basic = await mk('Basic', 1000);
    const pro = await mk('Pro', 2000);
    const promo = (i: Record<string, unknown>) => p.gql(`mutation($c: ID!, $i: PromoCodeInput!) { createPromoCode(communityId: $c, input: $i) { id code percentOff duration active tierIds } }`, { c: community, i }, as('owner'));
    expect((await promo({ code: 'BOTH', percentOff: 10, amountOff: 100, currency: 'usd' })).errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'percentOff' });
    expect((await promo({ code: 'x', percentOff: 10 })).errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'code' });
    expect(codeOf(await p.gql(`mutation($c: ID!, $i: PromoCodeInput!) { createPromoCode(communityId: $c, input: $i) { id } }`, { c: community, i: { code: 'MINE', percentOff: 10 } }, as('mia')))).toBe('FORBIDDEN');
    const half = await promo({ code: 'HALF', percentOff: 50, duration: 'ONCE', tierIds: [basic] });
    expect(half.data.createPromoCode).toMatchObject({ code: 'HALF', percentOff: 50, duration: 'ONCE', active: true, tierIds: [basic] });
    expect(codeOf(await promo({ code: 'half', percentOff: 20 }))).toBe('CONFLICT');
    await ok(`mutation($id: ID!) { joinCommunity(id: $id) { id } }`, { id: community }, 'zed');

    const buy = async (who: string, tierId: string, card: string, promoCode: string | null = null) => {
      const start = await p.gql(`mutation($t: ID!, $p: String) { startCheckout(tierId: $t, interval: MONTH, promoCode: $p) { url } }`, { t: tierId, p: promoCode }, as(who));
      if (start.errors) return start;
      const sessionId = new URL(start.data.startCheckout.url).pathname.split('/').pop();
      return p.gql(`mutation($i: TestCheckoutInput!) { completeTestCheckout(input: $i) }`, { i: { checkoutId: sessionId, cardNumber: card, acceptTerms: true } }, as(who));
    };
    const charges = async (who: string) =>
      (await ok(`query($c: ID!) { ledger(communityId: $c, first: 500) { kind amount user { id } } }`, { c: community }, 'owner')).ledger
        .filter((l: { kind: string; user: { id: string } | null }) => l.kind === 'CHARGE' && l.user?.id === ids[who])
        .map((l: { amount: number }) => l.amount);
    expect((await buy('zed', basic, '4242424242424242', 'nope')).errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'promoCode' });
    expect((await buy('zed', pro, '4242424242424242', 'HALF')).errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'promoCode' });
    expect((await buy('zed', basic, '4242424242424242', 'half')).errors).toBeUndefined();
    expect(await charges('zed')).toEqual([500]);
    await expect.poll(() => inCircle('zed')).toBe(true);

    // Upgrade mid-period: the difference for the rest of the period is charged now, and the tier changes.
    const zedSub = (await mine('zed'))[0];
    const upgraded = await ok(`mutation($s: ID!, $t: ID!) { changeSubscription(id: $s, tierId: $t, interval: MONTH) { tier { name } price { amount } entitled } }`, { s: zedSub.id, t: pro }, 'zed');
    expect(upgraded.changeSubscription).toMatchObject({ tier: { name: 'Pro' }, price: { amount: 2000 }, entitled: true });
    await expect.poll(async () => (await charges('zed')).length).toBe(2);
    expect((await charges('zed'))[0]).toBeGreaterThan(0);
    expect(codeOf(await p.gql(`mutation($s: ID!, $t: ID!) { changeSubscription(id: $s, tierId: $t, interval: ONCE) { id } }`, { s: zedSub.id, t: pro }, as('zed')))).toBe('BAD_USER_INPUT');

    // mia pays with a card that fails later: the renewal fails, access continues through the grace period, then ends.
    expect((await buy('mia', basic, '4000000000000341')).errors).toBeUndefined();
    await expect.poll(() => inCircle('mia')).toBe(true);
    await ok(`mutation($c: ID!, $s: Int!) { advanceTestClock(communityId: $c, seconds: $s) }`, { c: community, s: 31 * DAY }, 'owner');
    const pastDue = (await mine('mia'))[0];
    expect(pastDue).toMatchObject({ status: 'PAST_DUE', entitled: true, tier: { name: 'Basic' } });
    expect(await inCircle('mia')).toBe(true);
    await ok(`mutation($c: ID!, $s: Int!) { advanceTestClock(communityId: $c, seconds: $s) }`, { c: community, s: 4 * DAY }, 'owner');
    expect((await mine('mia'))[0]).toMatchObject({ entitled: false });
    await expect.poll(() => inCircle('mia')).toBe(false);
    // zed's renewal went through meanwhile.
    expect((await mine('zed'))[0]).toMatchObject({ status: 'ACTIVE', entitled: true });

    // Daily payouts to the creator's bank are in the ledger and on the payouts page.
    const account = (await ok(`query($c: ID!) { payoutAccount(communityId: $c) { payouts { amount currency status } available { amount } pending { amount } } }`, { c: community }, 'owner')).payoutAccount;
    expect(account.payouts.length).toBeGreaterThan(0);
    expect(account.payouts[0]).toMatchObject({ currency: 'usd', status: 'paid' });
    await expect.poll(async () => (await ok(`query($c: ID!) { ledger(communityId: $c, first: 500) { kind } }`, { c: community }, 'owner')).ledger.some((l: { kind: string }) => l.kind === 'PAYOUT')).toBe(true);
    expect(codeOf(await p.gql(`query($c: ID!) { payoutAccount(communityId: $c) { exists } }`, { c: community }, as('zed')))).toBe('FORBIDDEN');

    // A lost dispute ends the subscription too: no further charges for access that is gone.
    const dispute = (await ok(`mutation($s: ID!) { simulateTestDispute(subscriptionId: $s) { id } }`, { s: zedSub.id }, 'owner')).simulateTestDispute.id;
    await expect.poll(() => inCircle('zed')).toBe(false);
    expect((await ok(`mutation($d: ID!) { simulateTestDisputeOutcome(disputeId: $d, won: false) { status } }`, { d: dispute }, 'owner')).simulateTestDisputeOutcome.status).toBe('LOST');
    await expect.poll(async () => (await mine('zed'))[0]).toMatchObject({ status: 'CANCELED', entitled: false, suspendedReason: 'dispute lost' });
    expect(await inCircle('zed')).toBe(false);
  });

  it.runIf(run)('a one-time purchase opens the circle for good until refunded; the test billing portal cancels and resumes', async () => {
    const once = (await ok(`mutation($c: ID!, $i: TierInput!) { createTier(communityId: $c, input: $i) { id prices { interval amount } } }`, { c: community, i: { name: 'Lifetime', circleIds: [circle], currency: 'usd', onceAmount: 15000 } }, 'owner')).createTier;
    expect(once.prices).toEqual([{ interval: 'ONCE', amount: 15000 }]);
    const start = (await ok(`mutation($t: ID!) { startCheckout(tierId: $t, interval: ONCE) { url } }`, { t: once.id }, 'zed')).startCheckout;
    const sessionId = new URL(start.url).pathname.split('/').pop();
    expect((await ok(`query($id: ID!) { testCheckout(id: $id) { mode interval amountDue } }`, { id: sessionId }, 'zed')).testCheckout).toEqual({ mode: 'payment', interval: 'ONCE', amountDue: 15000 });
    // Someone else's checkout page is not theirs to see or pay.
    expect((await ok(`query($id: ID!) { testCheckout(id: $id) { mode } }`, { id: sessionId }, 'mia')).testCheckout).toBeNull();
    expect(codeOf(await p.gql(`mutation($i: TestCheckoutInput!) { completeTestCheckout(input: $i) }`, { i: { checkoutId: sessionId, cardNumber: '4242424242424242', acceptTerms: true } }, as('mia')))).toBe('NOT_FOUND');
    expect((await p.gql(`mutation($i: TestCheckoutInput!) { completeTestCheckout(input: $i) }`, { i: { checkoutId: sessionId, cardNumber: '4242424242424242', acceptTerms: false } }, as('zed'))).errors?.[0]?.message).toMatch(/terms/i);
    await ok(`mutation($i: TestCheckoutInput!) { completeTestCheckout(input: $i) }`, { i: { checkoutId: sessionId, cardNumber: '4242424242424242', acceptTerms: true } }, 'zed');
    await expect.poll(() => inCircle('zed')).toBe(true);
    const bought = (await mine('zed'))[0];
    expect(bought).toMatchObject({ status: 'PAID', entitled: true, interval: 'ONCE', currentPeriodEnd: null });
    expect(codeOf(await p.gql(`mutation($s: ID!) { cancelSubscription(id: $s) { id } }`, { s: bought.id }, as('zed')))).toBe('BAD_USER_INPUT');
    // A year of test time later it still opens the circle.
    await ok(`mutation($c: ID!, $s: Int!) { advanceTestClock(communityId: $c, seconds: $s) }`, { c: community, s: 400 * DAY }, 'owner');
    expect((await mine('zed'))[0]).toMatchObject({ status: 'PAID', entitled: true });
    await ok(`mutation($s: ID!) { refundSubscription(id: $s) { status } }`, { s: bought.id }, 'owner');
    await expect.poll(() => inCircle('zed')).toBe(false);

    // otto's yearly subscription, managed in the (test) billing portal.
    const portalUrl = (await ok(`mutation { openBillingPortal(returnPath: "/account/subscriptions") }`, {}, 'otto')).openBillingPortal as string;
    const portalId = /\/billing\/test-portal\/([^/?]+)/.exec(portalUrl)![1]!;
    expect((await ok(`query($id: ID!) { testPortal(id: $id) { id } }`, { id: portalId }, 'mia')).testPortal).toBeNull();
    const portal = (await ok(`query($id: ID!) { testPortal(id: $id) { returnUrl subscriptions { id status cancelAtPeriodEnd interval } invoices { amountPaid } } }`, { id: portalId }, 'otto')).testPortal;
    expect(portal.returnUrl).toMatch(/\/account\/subscriptions$/);
    const live = portal.subscriptions.find((x: { status: string }) => x.status === 'active');
    expect(live).toMatchObject({ cancelAtPeriodEnd: false, interval: 'YEAR' });
    expect(portal.invoices.length).toBeGreaterThan(0);
    const cancelled = (await ok(`mutation($p: ID!, $s: ID!) { testPortalCancel(portalId: $p, subscriptionId: $s, cancel: true) { subscriptions { id cancelAtPeriodEnd } } }`, { p: portalId, s: live.id }, 'otto')).testPortalCancel;
    expect(cancelled.subscriptions.find((x: { id: string }) => x.id === live.id).cancelAtPeriodEnd).toBe(true);
    // The portal's change reaches us as the provider's event: our record follows.
    expect((await mine('otto'))[0]).toMatchObject({ cancelAtPeriodEnd: true, entitled: true });
    await ok(`mutation($p: ID!, $s: ID!) { testPortalCancel(portalId: $p, subscriptionId: $s, cancel: false) { id } }`, { p: portalId, s: live.id }, 'otto');
    expect((await mine('otto'))[0]).toMatchObject({ cancelAtPeriodEnd: false });
  });
});

/**
 * Set-up shared by the payments security tests (payments-authz-matrix.test.ts, payments-hostile-input.test.ts):
 * people, a community selling a paid circle with its payouts onboarded, and a purchase through the built-in test
 * provider's checkout — all through the public API, the way services/payments/test/payments.test.ts drives it.
 */
import type { GqlResult, TestPlatform } from '@circles/testing';

export const PASSWORD = 'violet-kettle-sunrise-42';
/** Stripe's test card that always succeeds (the test provider accepts only Stripe's test numbers). */
export const GOOD_CARD = '4242424242424242';

export type Vars = Record<string, unknown>;

/** A GraphQL call as someone (a bearer token) or anonymously (null). */
export type Call = (token: string | null, query: string, variables?: Vars) => Promise<GqlResult>;

/** Signs everyone up (bearer tokens), each from its own address so sign-up throttling never gets in the way. */
export async function signUpPeople<P extends string>(p: TestPlatform, people: readonly P[], tag: string): Promise<{ tokens: Record<P, string>; ids: Record<P, string> }> {
  const tokens = {} as Record<P, string>;
  const ids = {} as Record<P, string>;
  let n = 0;
  for (const who of people) {
    const handle = `${tag}_${who}`.toLowerCase().slice(0, 30);
    const r = await p.gql(
      `mutation($input: SignUpInput!) { signUp(input: $input) { token account { id } } }`,
      { input: { email: `${handle}@payments.example`, password: PASSWORD, handle, displayName: `${tag} ${who}`, delivery: 'BEARER' } },
      { ip: `198.18.${Math.floor(++n / 250)}.${(n % 250) + 1}` },
    );
    if (!r.data) throw new Error(`sign-up of ${who} failed: ${JSON.stringify(r.errors)}`);
    tokens[who] = r.data.signUp.token;
    ids[who] = r.data.signUp.account.id;
  }
  return { tokens, ids };
}

/** Runs a set-up call that must succeed. */
export async function must(call: Call, token: string | null, query: string, variables: Vars = {}): Promise<any> {
  const r = await call(token, query, variables);
  if (r.errors?.length || !r.data) throw new Error(`set-up call failed: ${JSON.stringify(r.errors)}\n${query}`);
  return r.data;
}

/** The last path segment of a test-provider page address (checkout session, portal session, account). */
export const lastSegment = (url: string) => new URL(url, 'http://x').pathname.split('/').pop()!;

export interface PaidCommunity {
  id: string;
  slug: string;
  /** A visible circle with access PAID. */
  circleId: string;
  /** The test provider's connected account, onboarded (charges and payouts enabled). */
  accountId: string;
}

/** A community with a paid circle whose owner has finished payouts onboarding, so it can sell. */
export async function paidCommunity(call: Call, ownerToken: string, input: { name: string; slug: string; visibility?: 'LISTED' | 'UNLISTED' | 'PRIVATE' }): Promise<PaidCommunity> {
  const c = (await must(call, ownerToken, `mutation($i: CreateCommunityInput!) { createCommunity(input: $i) { id slug } }`, { i: { visibility: 'LISTED', ...input } })).createCommunity;
  const circle = (await must(call, ownerToken, `mutation($c: ID!) { createCircle(communityId: $c, input: { name: "Paid room", access: PAID }) { id } }`, { c: c.id })).createCircle.id;
  const link: string = (await must(call, ownerToken, `mutation($c: ID!) { startPayoutOnboarding(communityId: $c) }`, { c: c.id })).startPayoutOnboarding;
  const accountId = /\/billing\/test-onboarding\/([^/?]+)/.exec(link)![1]!;
  await must(call, ownerToken, `mutation($a: ID!) { completeTestOnboarding(accountId: $a) }`, { a: accountId });
  return { id: c.id, slug: c.slug, circleId: circle, accountId };
}

export const CREATE_TIER = `mutation($c: ID!, $i: TierInput!) { createTier(communityId: $c, input: $i) { id name } }`;

/** Opens a checkout for a tier; returns our checkout id and the test provider's session id (the page's address). */
export async function startCheckout(call: Call, token: string, tierId: string, interval = 'MONTH'): Promise<{ checkoutId: string; sessionId: string }> {
  const s = (await must(call, token, `mutation($t: ID!, $i: BillingInterval!) { startCheckout(tierId: $t, interval: $i) { url checkoutId } }`, { t: tierId, i: interval })).startCheckout;
  return { checkoutId: s.checkoutId, sessionId: lastSegment(s.url) };
}

/** Buys a tier with the good test card, terms accepted. */
export async function buy(call: Call, token: string, tierId: string, interval = 'MONTH'): Promise<void> {
  const { sessionId } = await startCheckout(call, token, tierId, interval);
  await must(call, token, `mutation($i: TestCheckoutInput!) { completeTestCheckout(input: $i) }`, { i: { checkoutId: sessionId, cardNumber: GOOD_CARD, acceptTerms: true } });
}

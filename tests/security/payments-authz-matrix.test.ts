/**
 * The Payments authorization matrix: every query and mutation of the payments subgraph (and the two entity types
 * it extends, reached through the gateway as a client reaches them) × 8 kinds of actor × 3 targets, each cell with
 * exactly one expected outcome — run through the gateway with bearer tokens, against the built-in test provider,
 * in both modes.
 *
 * The expectations are generated from a written policy, not copied from the implementation: `policy` says who sees,
 * who is a member, who manages (manage_community) and who owns each community; each operation names the rule that
 * decides it (the table below), and the rule turns (role, target) into an outcome.
 *
 * Actors (roles): anonymous; outsider (signed in, in no community); member, moderator, admin, owner (A's roles);
 * subscriber (a plain member of A with an active monthly subscription to A's tier T1); otherOwner (owns community
 * B, and is nothing in A).
 *
 * Targets:
 * - A: the object in community A (listed): A itself, its tier, promotion code, dispute, payout account — and for
 *   operations on a subscription, checkout or billing portal, SOMEONE ELSE's in A (the "payer", a member of A).
 * - B: the same in community B (private, owned by otherOwner; none of A's people is in it): cross-community.
 * - own: the actor's OWN subscription (only the subscriber has one), checkout or billing portal; for the viewer's
 *   own list and billing portal, the actor themself.
 *
 * Policy table (A = admin, owner; B = otherOwner unless said; anonymous gets UNAUTHENTICATED wherever an account is
 * needed):
 *
 *   rule          | who succeeds                             | the others get                         | operations
 *   --------------|------------------------------------------|----------------------------------------|-----------------------------
 *   manage        | the community's owner and admins         | FORBIDDEN (also for B: no existence    | communityTiers, createTier, updateTier, archiveTier,
 *                 |                                          | oracle — a random id is FORBIDDEN too) | createPromoCode, deactivatePromoCode, promoCodes, revenue,
 *                 |                                          |                                        | ledger, ledgerExportUrl, payoutAccount, disputes,
 *                 |                                          |                                        | communitySubscriptions, refundSubscription
 *   owner         | the community's owner (not admins)       | FORBIDDEN                              | startPayoutOnboarding, completeTestOnboarding,
 *                 |                                          |                                        | saveDisputeEvidence, advanceTestClock (and only
 *                 |                                          |                                        | the instance admin: the clock is instance-wide),
 *                 |                                          |                                        | simulateTestDispute, simulateTestDisputeOutcome
 *   buy           | members of the tier's community          | FORBIDDEN if they can see it, NOT_FOUND | startCheckout (own: a tier one has already:
 *                 |                                          | if not (B is private)                   | CONFLICT)
 *   self          | the subscription's own subscriber        | NOT_FOUND (owners and admins too)      | cancelSubscription, resumeSubscription,
 *                 |                                          |                                        | changeSubscription
 *   buyer         | the checkout's / portal's own buyer      | queries: null; mutations: NOT_FOUND    | testCheckout, completeTestCheckout, testPortal,
 *                 |                                          |                                        | testPortalCancel, testPortalUpdateCard
 *   viewer        | anyone signed in, about themself         | —                                      | mySubscriptions (exactly their own), openBillingPortal
 *                 |                                          |                                        | (no billing account yet: BAD_USER_INPUT, documented)
 *   see           | whoever can see the community            | null                                   | tier, Community.tiers, Space.tiers; archived tiers:
 *                 |                                          |                                        | managers only; Tier.viewerSubscription: own only
 *
 * Outcomes: 'ok' (answered, and the operation's own check of what it did passed), 'null', or an error code
 * (`extensions.code`). `na(reason)` marks a cell that does not apply (the actor has no such object); `reported`
 * marks a cell left out because the service does not meet the policy there (said in the cell and in the report).
 */
import { readFileSync } from 'node:fs';
import { distributedServicesAvailable, type GqlResult, modes, startTestPlatform, type TestPlatform } from '@circles/testing';
import { Kind, parse } from 'graphql';
import { type Kysely, sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buy, type Call, CREATE_TIER, GOOD_CARD, lastSegment, must, type PaidCommunity, paidCommunity, signUpPeople, startCheckout, type Vars } from './payments-fixture.ts';

const canRunDistributed = await distributedServicesAvailable();

const roles = ['anonymous', 'outsider', 'member', 'moderator', 'admin', 'owner', 'subscriber', 'otherOwner'] as const;
type Role = (typeof roles)[number];
const targets = ['A', 'B', 'own'] as const;
type Target = (typeof targets)[number];
type Side = 'A' | 'B';
/** The actors, and the people who only set the scene: someone else paying in A and in B, and someone disputing. */
type Person = Exclude<Role, 'anonymous'> | 'payer' | 'disputer' | 'payerB' | 'disputerB';
const people: Person[] = ['owner', 'admin', 'moderator', 'member', 'subscriber', 'outsider', 'otherOwner', 'payer', 'disputer', 'payerB', 'disputerB'];

type Code = 'UNAUTHENTICATED' | 'FORBIDDEN' | 'NOT_FOUND' | 'BAD_USER_INPUT' | 'CONFLICT';
type Outcome = 'ok' | 'null' | Code;
interface NotApplicable {
  na: string;
}
interface Reported {
  reported: string;
}
type Cell = Outcome | NotApplicable | Reported;

const U = 'UNAUTHENTICATED' as const;
const F = 'FORBIDDEN' as const;
const NF = 'NOT_FOUND' as const;
const na = (reason: string): NotApplicable => ({ na: reason });
const isNa = (c: Cell): c is NotApplicable => typeof c === 'object' && 'na' in c;
const isReported = (c: Cell): c is Reported => typeof c === 'object' && 'reported' in c;
const set = (...r: Role[]) => new Set<Role>(r);

// ---- the written policy -------------------------------------------------------------------------------------------

/** Per community: who sees it, who is a member, who manages it (manage_community), who owns it. */
const policy: Record<Side, { sees: Set<Role>; members: Set<Role>; managers: Set<Role>; owner: Set<Role> }> = {
  // A is listed: everyone sees it. The subscriber is a plain member; otherOwner is nothing in A.
  A: { sees: new Set(roles), members: set('member', 'moderator', 'admin', 'owner', 'subscriber'), managers: set('admin', 'owner'), owner: set('owner') },
  // B is private: only its owner (of the actors) is in it. A's owner and admin must get nothing there.
  B: { sees: set('otherOwner'), members: set('otherOwner'), managers: set('otherOwner'), owner: set('otherOwner') },
};
/** Who has a billing account at the provider (they started a checkout in the fixture), so a checkout page and portal of their own. */
const billing = set('member', 'moderator', 'admin', 'owner', 'subscriber', 'otherOwner');
/** Where each buyer buys when the target is their own checkout: their own community. */
const homeOf = (r: Role): Side => (r === 'otherOwner' ? 'B' : 'A');

type Gate = (r: Role, side: Side) => Outcome;
type Expect = (r: Role, t: Target) => Cell;

const manage: Gate = (r, s) => (r === 'anonymous' ? U : policy[s].managers.has(r) ? 'ok' : F);
const ownerOnly: Gate = (r, s) => (r === 'anonymous' ? U : policy[s].owner.has(r) ? 'ok' : F);
/** A rule aimed at a community (or something of it): no "own" target. */
const onCommunity =
  (gate: Gate): Expect =>
  (r, t) =>
    t === 'own' ? na('takes a community or one of its objects, nothing of the actor’s own') : gate(r, t);
/** A rule aimed at a subscription: someone else's in A or B, or the subscriber's own (in A). */
const onSubscription =
  (gate: Gate): Expect =>
  (r, t) =>
    t !== 'own' ? gate(r, t) : r === 'subscriber' ? gate(r, 'A') : na('has no subscription of their own');
/** Self-service on a subscription: its subscriber only; to everyone else it does not exist. */
const self: Expect = (r, t) => (t === 'own' ? (r === 'subscriber' ? 'ok' : na('has no subscription of their own')) : r === 'anonymous' ? U : NF);
/** The buyer's own checkout page or portal: theirs works; someone else's is null (queries) or NOT_FOUND (mutations). */
const buyer =
  (foreign: Outcome): Expect =>
  (r, t) =>
    t === 'own' ? (billing.has(r) ? 'ok' : na('no checkout or billing account of their own')) : r === 'anonymous' ? U : foreign;
/** Checkout: members of the tier's community; visible non-members are refused, invisible communities do not exist. */
const purchase: Expect = (r, t) => {
  if (t === 'own') return r === 'subscriber' ? 'CONFLICT' : na('has no subscription of their own');
  if (r === 'anonymous') return U;
  return policy[t].members.has(r) ? 'ok' : policy[t].sees.has(r) ? F : NF;
};
/** Public reads of what is on sale: whoever can see the community. */
const see: Expect = (r, t) => (t === 'own' ? na('takes a community or one of its objects') : policy[t].sees.has(r) ? 'ok' : 'null');
/** Per-person operations (no community): run once per actor, under the "own" target. */
const perPerson = na('about the viewer: no community target');

// ---- the fixture --------------------------------------------------------------------------------------------------

interface SideWorld extends PaidCommunity {
  ownerPerson: Person;
  payer: Person;
  /** The tier the payer (and, in A, the subscriber) is subscribed to monthly: T1 / TB1. */
  tier: string;
  /** Another tier on sale, to change to: T2 / TB2. */
  tier2: string;
  /** A tier people open checkouts for without paying: TC (A) / TB2 (B). */
  checkoutTier: string;
  checkoutTierName: string;
  archivedTier: string;
  promoId: string;
  /** An open dispute (needs response) on the disputer's subscription. */
  disputeId: string;
  /** The payer's subscription to `tier`: "someone else's". */
  theirSub: string;
  theirProviderSub: string;
  /** The payer's open, unpaid checkout, and their billing portal session. */
  theirCheckout: { checkoutId: string; sessionId: string };
  theirPortal: string;
}
interface World {
  A: SideWorld;
  B: SideWorld;
  /** The subscriber's own subscription (to A's T1), and its id at the provider. */
  ownSub: string;
  ownProviderSub: string;
}

interface Ctx {
  role: Role;
  t: Target;
  /** The community of the target ("own" things live in the actor's home community). */
  side: Side;
  w: World;
  expected: Outcome;
  actorId: string | null;
  /** What vars() set up, for check(). */
  meta: Record<string, any>;
}

interface Operation {
  /** `Query.x` / `Mutation.x` / `Entity.T` (what the schema has), optionally followed by a variant in brackets. */
  name: string;
  document: string;
  expect: Expect;
  vars(c: Ctx): Vars | Promise<Vars>;
  /** The value the outcome is read from (default: the root field). */
  pick?(data: any): unknown;
  /** A look at what an 'ok' cell did; returns a complaint, or nothing when fine. */
  check?(value: any, c: Ctx, vars: Vars): string | undefined | void | Promise<string | undefined | void>;
}

const sideOf = (c: { t: Target; role: Role }): Side => (c.t === 'own' ? homeOf(c.role) : c.t);

/** The schema's operations: Query.x, Mutation.x, and Entity.T for each resolvable @key type. */
function schemaOperations(): string[] {
  const doc = parse(readFileSync(new URL('../../services/payments/src/schema.graphql', import.meta.url), 'utf8'));
  const ops: string[] = [];
  for (const def of doc.definitions) {
    if (def.kind !== Kind.OBJECT_TYPE_DEFINITION && def.kind !== Kind.OBJECT_TYPE_EXTENSION) continue;
    const type = def.name.value;
    if (type === 'Query' || type === 'Mutation') for (const f of def.fields ?? []) ops.push(`${type}.${f.name.value}`);
    const key = def.directives?.find((d) => d.name.value === 'key');
    const resolvable = key?.arguments?.find((a) => a.name.value === 'resolvable');
    if (key && !(resolvable?.value.kind === Kind.BOOLEAN && resolvable.value.value === false)) ops.push(`Entity.${type}`);
  }
  return ops;
}

describe.each(modes)('payments authorization matrix (%s)', (mode) => {
  const run = mode === 'embedded' || canRunDistributed;
  let p: TestPlatform;
  let db: Kysely<any>;
  let tokens: Record<Person, string>;
  let ids: Record<Person, string>;
  let w: World;
  let baseline: string;
  let seq = 0;
  const unique = (prefix: string) => `${prefix}-${(++seq).toString(36)}${Date.now().toString(36)}`;
  const tally = { ops: 0, cells: 0, na: 0, reported: 0, requests: 0, started: Date.now(), setupMs: 0 };

  const call: Call = (token, query, variables = {}) => {
    tally.requests++;
    return p.gql(query, variables, token ? { token } : {});
  };
  const tok = (who: Person | Role | null) => (who && who !== 'anonymous' ? tokens[who as Person] : null);
  const as = (who: Person, query: string, variables: Vars = {}) => must(call, tokens[who], query, variables);
  const rows = async <T,>(q: { execute(db: Kysely<any>): Promise<{ rows: T[] }> }) => (await q.execute(db)).rows;
  const subOf = async (userId: string, tierId: string) =>
    (await rows<{ id: string; provider_subscription_id: string }>(sql`select id, provider_subscription_id from payments.subscriptions where user_id = ${userId} and tier_id = ${tierId} order by created_at desc limit 1`))[0]!;

  // ---- set-up helpers, run as the people involved, through the API ----------------------------------------------

  const tierInput = (s: SideWorld, name: string, monthlyAmount = 1000) => ({ name, circleIds: [s.circleId], currency: 'usd', monthlyAmount });
  const fresh = {
    tier: async (s: Side): Promise<string> => (await as(w[s].ownerPerson, CREATE_TIER, { c: w[s].id, i: tierInput(w[s], unique('Fresh tier')) })).createTier.id,
    /** A new subscription of the side's payer, to a new tier. */
    sub: async (s: Side): Promise<string> => {
      const tier = await fresh.tier(s);
      await buy(call, tokens[w[s].payer], tier);
      return (await subOf(ids[w[s].payer], tier)).id;
    },
    dispute: async (s: Side): Promise<string> =>
      (await as(w[s].ownerPerson, `mutation($s: ID!) { simulateTestDispute(subscriptionId: $s) { id } }`, { s: await fresh.sub(s) })).simulateTestDispute.id,
    promo: async (s: Side): Promise<string> =>
      (await as(w[s].ownerPerson, `mutation($c: ID!, $i: PromoCodeInput!) { createPromoCode(communityId: $c, input: $i) { id } }`, { c: w[s].id, i: { code: unique('MXF').toUpperCase(), percentOff: 5 } })).createPromoCode.id,
    /** The actor's own open checkout in their community. */
    checkout: (r: Role, tierId = w[homeOf(r)].checkoutTier) => startCheckout(call, tokens[r as Person], tierId),
    portal: async (who: Person): Promise<string> => lastSegment((await as(who, `mutation { openBillingPortal }`)).openBillingPortal),
  };

  /** The subscriber's own subscription back on T1 and not cancelling (own-target cells change it). */
  async function restoreOwnSub() {
    const [row] = await rows<{ tier_id: string; cancel_at_period_end: boolean }>(sql`select tier_id, cancel_at_period_end from payments.subscriptions where id = ${w.ownSub}`);
    if (row!.tier_id !== w.A.tier) await as('subscriber', `mutation($id: ID!, $t: ID!) { changeSubscription(id: $id, tierId: $t, interval: MONTH) { id } }`, { id: w.ownSub, t: w.A.tier });
    if (row!.cancel_at_period_end) await as('subscriber', `mutation($id: ID!) { resumeSubscription(id: $id) { id } }`, { id: w.ownSub });
  }

  async function buildSide(side: Side): Promise<SideWorld> {
    const ownerPerson: Person = side === 'A' ? 'owner' : 'otherOwner';
    const payer: Person = side === 'A' ? 'payer' : 'payerB';
    const disputer: Person = side === 'A' ? 'disputer' : 'disputerB';
    const c = await paidCommunity(call, tokens[ownerPerson], side === 'A' ? { name: 'Alpha Paid', slug: unique('alpha') } : { name: 'Beta Paid', slug: unique('beta'), visibility: 'PRIVATE' });
    if (side === 'A') {
      for (const who of ['admin', 'moderator', 'member', 'subscriber', 'payer', 'disputer'] as const) await as(who, `mutation($id: ID!) { joinCommunity(id: $id) { id } }`, { id: c.id });
      for (const who of ['admin', 'moderator'] as const) {
        await as('owner', `mutation($c: ID!, $u: ID!, $r: CommunityRole!) { setMemberRole(communityId: $c, userId: $u, role: $r) { role } }`, { c: c.id, u: ids[who], r: who.toUpperCase() });
      }
    } else {
      const code = (await as('otherOwner', `mutation($c: ID!) { createInvite(communityId: $c) { code } }`, { c: c.id })).createInvite.code;
      for (const who of ['payerB', 'disputerB'] as const) await as(who, `mutation($code: String!) { joinByInvite(code: $code) { id } }`, { code });
    }
    const s = { ...c } as SideWorld;
    const tier = async (name: string, extra: Vars = {}) => (await as(ownerPerson, CREATE_TIER, { c: c.id, i: { ...tierInput(s, name), ...extra } })).createTier.id as string;
    const t1 = await tier(`${side} Insiders`, { monthlyAmount: 900, yearlyAmount: 9000 });
    const t2 = await tier(`${side} Patrons`, { monthlyAmount: 1500 });
    const checkoutTierName = side === 'A' ? 'A Window shopping' : 'B Patrons';
    const tc = side === 'A' ? await tier(checkoutTierName, { monthlyAmount: 500 }) : t2;
    const archived = await tier(`${side} Retired`, { monthlyAmount: 100 });
    await as(ownerPerson, `mutation($t: ID!) { archiveTier(id: $t) { id } }`, { t: archived });
    const promoId = (await as(ownerPerson, `mutation($c: ID!, $i: PromoCodeInput!) { createPromoCode(communityId: $c, input: $i) { id } }`, { c: c.id, i: { code: unique(`MX${side}`).toUpperCase(), percentOff: 10 } })).createPromoCode.id;
    await buy(call, tokens[payer], t1);
    const their = await subOf(ids[payer], t1);
    await buy(call, tokens[disputer], t1);
    const disputeId = (await as(ownerPerson, `mutation($s: ID!) { simulateTestDispute(subscriptionId: $s) { id } }`, { s: (await subOf(ids[disputer], t1)).id })).simulateTestDispute.id;
    const theirCheckout = await startCheckout(call, tokens[payer], tc);
    const theirPortal = lastSegment((await as(payer, `mutation { openBillingPortal }`)).openBillingPortal);
    return Object.assign(s, { ownerPerson, payer, tier: t1, tier2: t2, checkoutTier: tc, checkoutTierName, archivedTier: archived, promoId, disputeId, theirSub: their.id, theirProviderSub: their.provider_subscription_id, theirCheckout, theirPortal });
  }

  async function buildWorld(): Promise<World> {
    const A = await buildSide('A');
    const B = await buildSide('B');
    await buy(call, tokens.subscriber, A.tier);
    const own = await subOf(ids.subscriber, A.tier);
    // Everyone who may buy somewhere has a billing account (an opened checkout makes one): their own checkout
    // page and portal exist, and openBillingPortal's answer does not depend on which cell ran first.
    for (const who of ['member', 'moderator', 'admin', 'owner'] as const) await startCheckout(call, tokens[who], A.checkoutTier);
    await startCheckout(call, tokens.otherOwner, B.checkoutTier);
    return { A, B, ownSub: own.id, ownProviderSub: own.provider_subscription_id };
  }

  /** What no cell may change (fresh objects, new tiers and codes, and the subscriber's own subscription aside). */
  async function snapshot(): Promise<string> {
    const tiers = [w.A.tier, w.A.tier2, w.A.checkoutTier, w.A.archivedTier, w.B.tier, w.B.tier2, w.B.archivedTier];
    const subs = [w.A.theirSub, w.B.theirSub];
    const disputes = [w.A.disputeId, w.B.disputeId];
    return JSON.stringify({
      tiers: await rows(sql`select id, name, description, benefits, circle_ids, trial_days, archived_at is not null as archived from payments.tiers where id in (${sql.join(tiers)}) order by id`),
      prices: await rows(sql`select id, amount, active from payments.prices where tier_id in (${sql.join(tiers)}) order by id`),
      promos: await rows(sql`select id, code, active from payments.promo_codes where id in (${sql.join([w.A.promoId, w.B.promoId])}) order by id`),
      subscriptions: await rows(
        sql`select id, tier_id, price_id, status, cancel_at_period_end, refunded_at is not null as refunded, suspended_reason, entitled from payments.subscriptions where id in (${sql.join(subs)}) or id in (select subscription_id from payments.disputes where id in (${sql.join(disputes)})) order by id`,
      ),
      disputes: await rows(sql`select id, status, evidence, submitted_at is not null as submitted from payments.disputes where id in (${sql.join(disputes)}) order by id`),
      checkouts: await rows(sql`select id, status from payments.checkouts where id in (${sql.join([w.A.theirCheckout.checkoutId, w.B.theirCheckout.checkoutId])}) order by id`),
      accounts: await rows(sql`select community_id, provider_account_id, charges_enabled, payouts_enabled from payments.accounts where community_id in (${sql.join([w.A.id, w.B.id])}) order by 1`),
    });
  }

  /** Of these ids in `table`, how many belong to another community than `communityId`. */
  const foreign = async (table: 'ledger' | 'promo_codes' | 'disputes', list: string[], communityId: string) =>
    list.length
      ? (await rows<{ n: number }>(sql`select count(*)::int as n from ${sql.table(`payments.${table}`)} where id in (${sql.join(list)}) and community_id <> ${communityId}`))[0]!.n
      : 0;
  const idsOf = (list: { id: string }[]) => list.map((x) => x.id);

  // ---- the operations -----------------------------------------------------------------------------------------------

  const subscriptionOf = (c: Ctx) => (c.t === 'own' ? w.ownSub : w[c.t].theirSub);

  const operations: Operation[] = [
    // ============================== queries ==============================
    {
      name: 'Query.paymentsInfo',
      document: `query { paymentsInfo { provider testMode } }`,
      expect: (_r, t) => (t === 'A' ? 'ok' : na('instance-wide: run once per actor')),
      vars: () => ({}),
      check: (v) => (v.provider === 'TEST' && v.testMode === true ? undefined : JSON.stringify(v)),
    },
    {
      name: 'Query.tier',
      document: `query($id: ID!) { tier(id: $id) { id communityId archived prices { amount } } }`,
      // On sale in listed A: anyone. In private B: only whoever can see B (its circle's visibility decides).
      expect: (r, t) => (t === 'own' ? na('takes a tier') : see(r, t)),
      vars: (c) => ({ id: w[c.side].tier }),
      check: (v, c) => (v.id === w[c.side].tier && v.communityId === w[c.side].id && !v.archived && v.prices.length ? undefined : JSON.stringify(v)),
    },
    {
      name: 'Query.tier (archived)',
      document: `query($id: ID!) { tier(id: $id) { id archived } }`,
      // "archived for the community's managers": for everyone else it no longer exists.
      expect: (r, t) => (t === 'own' ? na('takes a tier') : policy[t].managers.has(r) ? 'ok' : 'null'),
      vars: (c) => ({ id: w[c.side].archivedTier }),
      check: (v) => (v.archived === true ? undefined : 'not archived'),
    },
    {
      name: 'Query.communityTiers',
      document: `query($c: ID!) { communityTiers(communityId: $c) { id communityId archived } }`,
      expect: onCommunity(manage),
      vars: (c) => ({ c: w[c.side].id }),
      check: (v: { id: string; communityId: string }[], c) => {
        if (v.some((x) => x.communityId !== w[c.side].id)) return 'another community’s tier listed';
        const got = idsOf(v);
        if (!got.includes(w[c.side].tier) || !got.includes(w[c.side].archivedTier)) return 'the tier or the archived tier is missing';
      },
    },
    {
      name: 'Query.mySubscriptions',
      document: `query { mySubscriptions { id } }`,
      expect: (r, t) => (t !== 'own' ? perPerson : r === 'anonymous' ? U : 'ok'),
      vars: () => ({}),
      // Exactly the viewer's own, never anyone else's (the fixture has several other people's).
      check: async (v: { id: string }[], c) => {
        const mine = (await rows<{ id: string }>(sql`select id from payments.subscriptions where user_id = ${c.actorId}`)).map((x) => x.id).sort();
        const got = idsOf(v).sort();
        if (got.join() !== mine.join()) return `listed ${got.length}, owns ${mine.length}`;
        if (c.role === 'subscriber' && !got.includes(w.ownSub)) return 'own subscription missing';
      },
    },
    {
      name: 'Query.revenue',
      document: `query($c: ID!) { revenue(communityId: $c) { activeSubscribers openDisputes mrr { amount currency } } }`,
      expect: onCommunity(manage),
      vars: (c) => ({ c: w[c.side].id }),
      check: (v) => (v.activeSubscribers >= 1 && v.openDisputes >= 1 && v.mrr.length ? undefined : JSON.stringify(v)),
    },
    {
      name: 'Query.ledger',
      document: `query($c: ID!) { ledger(communityId: $c, first: 500) { id kind amount } }`,
      expect: onCommunity(manage),
      vars: (c) => ({ c: w[c.side].id }),
      check: async (v: { id: string; kind: string }[], c) => {
        if (!v.some((e) => e.kind === 'CHARGE')) return 'no charges';
        if (await foreign('ledger', idsOf(v), w[c.side].id)) return 'another community’s entries listed';
      },
    },
    {
      name: 'Query.ledgerExportUrl',
      document: `query($c: ID!) { ledgerExportUrl(communityId: $c) }`,
      expect: onCommunity(manage),
      vars: (c) => ({ c: w[c.side].id }),
      // The link is for this community's ledger only, and downloads it.
      check: async (url: string, c) => {
        if (!url.startsWith(`/payments/ledger/${w[c.side].id}.csv?`)) return url;
        tally.requests++;
        const res = await fetch(p.url + url);
        if (res.status !== 200) return `download answered ${res.status}`;
        const lines = (await res.text()).trim().split('\r\n').length - 1;
        const [n] = await rows<{ n: number }>(sql`select count(*)::int as n from payments.ledger where community_id = ${w[c.side].id}`);
        if (lines !== n!.n) return `${lines} rows in the file, ${n!.n} in the ledger`;
      },
    },
    {
      name: 'Query.payoutAccount',
      document: `query($c: ID!) { payoutAccount(communityId: $c) { exists chargesEnabled payoutsEnabled } }`,
      expect: onCommunity(manage),
      vars: (c) => ({ c: w[c.side].id }),
      check: (v) => (v.exists && v.chargesEnabled && v.payoutsEnabled ? undefined : JSON.stringify(v)),
    },
    {
      name: 'Query.disputes',
      document: `query($c: ID!) { disputes(communityId: $c) { id status } }`,
      expect: onCommunity(manage),
      vars: (c) => ({ c: w[c.side].id }),
      check: async (v: { id: string }[], c) => {
        if (!idsOf(v).includes(w[c.side].disputeId)) return 'the open dispute is missing';
        if (await foreign('disputes', idsOf(v), w[c.side].id)) return 'another community’s dispute listed';
      },
    },
    {
      name: 'Query.communitySubscriptions',
      document: `query($c: ID!) { communitySubscriptions(communityId: $c, first: 500) { id communityId } }`,
      expect: onCommunity(manage),
      vars: (c) => ({ c: w[c.side].id }),
      check: (v: { id: string; communityId: string }[], c) =>
        !idsOf(v).includes(w[c.side].theirSub) ? 'the payer’s subscription is missing' : v.some((x) => x.communityId !== w[c.side].id) ? 'another community’s subscription listed' : undefined,
    },
    {
      name: 'Query.promoCodes',
      document: `query($c: ID!) { promoCodes(communityId: $c) { id code } }`,
      expect: onCommunity(manage),
      vars: (c) => ({ c: w[c.side].id }),
      check: async (v: { id: string }[], c) => {
        if (!idsOf(v).includes(w[c.side].promoId)) return 'the code is missing';
        if (await foreign('promo_codes', idsOf(v), w[c.side].id)) return 'another community’s code listed';
      },
    },
    {
      name: 'Query.testCheckout',
      document: `query($id: ID!) { testCheckout(id: $id) { id status productName amount } }`,
      expect: buyer('null'),
      // Someone else's: by our checkout id in A, by the provider's session id (the page's address) in B.
      vars: async (c) => {
        if (c.t !== 'own') return { id: c.t === 'A' ? w.A.theirCheckout.checkoutId : w.B.theirCheckout.sessionId };
        return { id: (await fresh.checkout(c.role)).sessionId };
      },
      check: (v, c) => (v.status === 'open' && v.productName === w[c.side].checkoutTierName ? undefined : JSON.stringify(v)),
    },
    {
      name: 'Query.testPortal',
      document: `query($id: ID!) { testPortal(id: $id) { id subscriptions { id } } }`,
      expect: buyer('null'),
      vars: async (c) => ({ id: c.t === 'own' ? await fresh.portal(c.role as Person) : w[c.t].theirPortal }),
      check: (v, c, vars) => {
        if (v.id !== vars.id) return `portal ${v.id}`;
        if (c.role === 'subscriber' && !idsOf(v.subscriptions).includes(w.ownProviderSub)) return 'own subscription not in own portal';
        if (idsOf(v.subscriptions).some((s) => s === w.A.theirProviderSub || s === w.B.theirProviderSub)) return 'someone else’s subscription in the portal';
      },
    },

    // ============================== mutations ==============================
    {
      name: 'Mutation.createTier',
      document: `mutation($c: ID!, $i: TierInput!) { createTier(communityId: $c, input: $i) { id name communityId prices { amount } } }`,
      expect: onCommunity(manage),
      vars: (c) => ({ c: w[c.side].id, i: tierInput(w[c.side], unique('Matrix tier'), 1234) }),
      check: (v, c, vars) => (v.name === (vars.i as { name: string }).name && v.communityId === w[c.side].id && v.prices[0]?.amount === 1234 ? undefined : JSON.stringify(v)),
    },
    {
      name: 'Mutation.updateTier',
      document: `mutation($id: ID!, $n: String!) { updateTier(id: $id, input: { name: $n }) { id name } }`,
      // A refusal is tried on the fixture's tier (the snapshot proves it unchanged); a success on a fresh one.
      expect: onCommunity(manage),
      vars: async (c) => ({ id: c.expected === 'ok' ? await fresh.tier(c.side) : w[c.side].tier, n: unique('Renamed') }),
      check: (v, _c, vars) => (v.name === vars.n ? undefined : `name ${v.name}`),
    },
    {
      name: 'Mutation.archiveTier',
      document: `mutation($id: ID!) { archiveTier(id: $id) { id archived } }`,
      expect: onCommunity(manage),
      vars: async (c) => ({ id: c.expected === 'ok' ? await fresh.tier(c.side) : w[c.side].tier }),
      check: (v) => (v.archived ? undefined : 'not archived'),
    },
    {
      name: 'Mutation.startCheckout',
      document: `mutation($t: ID!) { startCheckout(tierId: $t, interval: MONTH) { url checkoutId } }`,
      expect: purchase,
      // own: the tier the subscriber already has.
      vars: (c) => ({ t: c.t === 'own' ? w.A.tier : w[c.t].checkoutTier }),
      check: async (v, c, vars) => {
        if (!/\/billing\/test-checkout\/cs_test_/.test(v.url)) return v.url;
        const [row] = await rows<{ user_id: string; tier_id: string }>(sql`select user_id, tier_id from payments.checkouts where id = ${v.checkoutId}`);
        if (row?.user_id !== c.actorId || row?.tier_id !== vars.t) return `checkout ${JSON.stringify(row)}`;
      },
    },
    {
      name: 'Mutation.openBillingPortal',
      document: `mutation { openBillingPortal }`,
      // Someone who never opened a checkout has no billing account: a clear, documented BAD_USER_INPUT.
      expect: (r, t) => (t !== 'own' ? perPerson : r === 'anonymous' ? U : billing.has(r) ? 'ok' : 'BAD_USER_INPUT'),
      vars: () => ({}),
      check: async (url: string, c) => {
        const m = /\/billing\/test-portal\/(bps_\w+)$/.exec(url);
        if (!m) return url;
        const r = await call(tok(c.role), `query($id: ID!) { testPortal(id: $id) { id } }`, { id: m[1] });
        if (r.data?.testPortal?.id !== m[1]) return 'the portal is not the actor’s';
      },
    },
    {
      name: 'Mutation.cancelSubscription',
      document: `mutation($id: ID!) { cancelSubscription(id: $id) { id cancelAtPeriodEnd entitled } }`,
      expect: self,
      vars: (c) => ({ id: subscriptionOf(c) }),
      check: (v) => (v.cancelAtPeriodEnd && v.entitled ? undefined : JSON.stringify(v)),
    },
    {
      name: 'Mutation.resumeSubscription',
      document: `mutation($id: ID!) { resumeSubscription(id: $id) { id cancelAtPeriodEnd } }`,
      expect: self,
      vars: async (c) => {
        if (c.t === 'own') await as('subscriber', `mutation($id: ID!) { cancelSubscription(id: $id) { id } }`, { id: w.ownSub });
        return { id: subscriptionOf(c) };
      },
      check: (v) => (v.cancelAtPeriodEnd === false ? undefined : 'still cancelling'),
    },
    {
      name: 'Mutation.changeSubscription',
      document: `mutation($id: ID!, $t: ID!) { changeSubscription(id: $id, tierId: $t, interval: MONTH) { id tier { id } entitled } }`,
      expect: self,
      vars: (c) => ({ id: subscriptionOf(c), t: w[c.side].tier2 }),
      check: (v, _c, vars) => (v.tier.id === vars.t && v.entitled ? undefined : JSON.stringify(v)),
    },
    {
      name: 'Mutation.startPayoutOnboarding',
      document: `mutation($c: ID!) { startPayoutOnboarding(communityId: $c) }`,
      expect: onCommunity(ownerOnly),
      vars: (c) => ({ c: w[c.side].id }),
      check: (url: string, c) => (url.includes(`/billing/test-onboarding/${w[c.side].accountId}?`) ? undefined : url),
    },
    {
      name: 'Mutation.refundSubscription',
      document: `mutation($id: ID!) { refundSubscription(id: $id) { id status entitled } }`,
      expect: onSubscription(manage),
      vars: async (c) => ({ id: c.expected === 'ok' ? await fresh.sub(c.side) : subscriptionOf(c) }),
      check: (v) => (v.status === 'REFUNDED' && v.entitled === false ? undefined : JSON.stringify(v)),
    },
    {
      name: 'Mutation.createPromoCode',
      document: `mutation($c: ID!, $i: PromoCodeInput!) { createPromoCode(communityId: $c, input: $i) { id code percentOff active } }`,
      expect: onCommunity(manage),
      // Codes are unique per run: the provider's codes are instance-wide.
      vars: (c) => ({ c: w[c.side].id, i: { code: unique('MXC').toUpperCase(), percentOff: 15 } }),
      check: async (v, c, vars) => {
        if (v.code !== (vars.i as { code: string }).code || !v.active || v.percentOff !== 15) return JSON.stringify(v);
        if (await foreign('promo_codes', [v.id], w[c.side].id)) return 'stored in another community';
      },
    },
    {
      name: 'Mutation.deactivatePromoCode',
      document: `mutation($id: ID!) { deactivatePromoCode(id: $id) { id active } }`,
      expect: onCommunity(manage),
      vars: async (c) => ({ id: c.expected === 'ok' ? await fresh.promo(c.side) : w[c.side].promoId }),
      check: (v) => (v.active === false ? undefined : 'still active'),
    },
    {
      name: 'Mutation.saveDisputeEvidence',
      document: `mutation($id: ID!, $e: DisputeEvidenceInput!) { saveDisputeEvidence(id: $id, evidence: $e) { id status evidence submittedAt } }`,
      expect: onCommunity(ownerOnly),
      vars: async (c) => ({ id: c.expected === 'ok' ? await fresh.dispute(c.side) : w[c.side].disputeId, e: { uncategorizedText: unique(`evidence from ${c.role}`) } }),
      check: (v, _c, vars) => (JSON.parse(v.evidence).uncategorizedText === (vars.e as { uncategorizedText: string }).uncategorizedText && !v.submittedAt ? undefined : v.evidence),
    },
    {
      name: 'Mutation.completeTestCheckout',
      document: `mutation($i: TestCheckoutInput!) { completeTestCheckout(input: $i) }`,
      expect: buyer(NF),
      // Someone else's: by the session id in A, by our checkout id in B. Own: a new tier, so paying changes no
      // other cell's world.
      vars: async (c) => {
        const pay = (checkoutId: string) => ({ i: { checkoutId, cardNumber: GOOD_CARD, acceptTerms: true } });
        if (c.t !== 'own') return pay(c.t === 'A' ? w.A.theirCheckout.sessionId : w.B.theirCheckout.checkoutId);
        c.meta.tier = await fresh.tier(c.side);
        return pay((await fresh.checkout(c.role, c.meta.tier)).sessionId);
      },
      check: async (url: string, c) => {
        if (!url.includes('checkout=success')) return url;
        const [row] = await rows<{ entitled: boolean }>(sql`select entitled from payments.subscriptions where user_id = ${c.actorId} and tier_id = ${c.meta.tier}`);
        if (!row?.entitled) return 'paid, but no entitled subscription';
      },
    },
    {
      name: 'Mutation.testPortalCancel',
      document: `mutation($p: ID!, $s: ID!) { testPortalCancel(portalId: $p, subscriptionId: $s, cancel: true) { id subscriptions { id cancelAtPeriodEnd } } }`,
      // Someone else's portal and their subscription; own: the subscriber's portal and own subscription.
      expect: (r, t) => (t === 'own' ? (r === 'subscriber' ? 'ok' : na('no subscription in their portal')) : r === 'anonymous' ? U : NF),
      vars: async (c) => (c.t === 'own' ? { p: await fresh.portal('subscriber'), s: w.ownProviderSub } : { p: w[c.t].theirPortal, s: w[c.t].theirProviderSub }),
      check: (v) => (v.subscriptions.find((s: { id: string }) => s.id === w.ownProviderSub)?.cancelAtPeriodEnd === true ? undefined : JSON.stringify(v.subscriptions)),
    },
    {
      name: 'Mutation.testPortalUpdateCard',
      document: `mutation($p: ID!) { testPortalUpdateCard(portalId: $p, cardNumber: "4242 4242 4242 4242") { id } }`,
      expect: buyer(NF),
      vars: async (c) => ({ p: c.t === 'own' ? await fresh.portal(c.role as Person) : w[c.t].theirPortal }),
      check: (v, _c, vars) => (v.id === vars.p ? undefined : v.id),
    },
    {
      name: 'Mutation.completeTestOnboarding',
      document: `mutation($a: ID!) { completeTestOnboarding(accountId: $a) }`,
      expect: onCommunity(ownerOnly),
      vars: (c) => ({ a: w[c.side].accountId }),
      check: (v, c) => (v === w[c.side].id ? undefined : `answered ${v}`),
    },
    {
      name: 'Mutation.advanceTestClock',
      document: `mutation($c: ID!) { advanceTestClock(communityId: $c, seconds: 60) }`,
      // The clock is the instance's: its admin (the first account, here A's owner) moves it, from a community they own.
      expect: onCommunity((r, s) => (r === 'anonymous' ? U : s === 'A' && r === 'owner' ? 'ok' : F)),
      vars: async (c) => {
        c.meta.offset = Number((await rows<{ o: string }>(sql`select offset_seconds::text as o from payments.test_clock where id = 1`))[0]!.o);
        return { c: w[c.side].id };
      },
      check: async (_v, c) => {
        const now = Number((await rows<{ o: string }>(sql`select offset_seconds::text as o from payments.test_clock where id = 1`))[0]!.o);
        if (now - c.meta.offset !== 60) return `the clock moved ${now - c.meta.offset} s`;
      },
    },
    {
      name: 'Mutation.simulateTestDispute',
      document: `mutation($s: ID!) { simulateTestDispute(subscriptionId: $s) { id status amount } }`,
      expect: onSubscription(ownerOnly),
      vars: async (c) => ({ s: c.expected === 'ok' ? await fresh.sub(c.side) : subscriptionOf(c) }),
      check: async (v, c) => {
        if (v.status !== 'NEEDS_RESPONSE') return v.status;
        if (await foreign('disputes', [v.id], w[c.side].id)) return 'opened in another community';
      },
    },
    {
      name: 'Mutation.simulateTestDisputeOutcome',
      document: `mutation($d: ID!) { simulateTestDisputeOutcome(disputeId: $d, won: true) { id status } }`,
      expect: onCommunity(ownerOnly),
      vars: async (c) => ({ d: c.expected === 'ok' ? await fresh.dispute(c.side) : w[c.side].disputeId }),
      check: (v) => (v.status === 'WON' ? undefined : v.status),
    },

    // ============================== entities, through the gateway ==============================
    {
      name: 'Entity.Community',
      document: `query($slug: String!) { community(slug: $slug) { id tiers { id } } }`,
      expect: see,
      vars: (c) => ({ slug: w[c.side].slug }),
      check: (v, c) => {
        const got = idsOf(v.tiers);
        if (!got.includes(w[c.side].tier)) return 'the tier on sale is missing';
        if (got.includes(w[c.side].archivedTier)) return 'an archived tier is on sale';
      },
    },
    {
      name: 'Entity.Space',
      document: `query($id: ID!) { circle(id: $id) { id tiers { id } } }`,
      expect: see,
      vars: (c) => ({ id: w[c.side].circleId }),
      check: (v, c) => (idsOf(v.tiers).includes(w[c.side].tier) ? undefined : 'the tier is missing'),
    },
    {
      name: 'Tier.viewerSubscription',
      document: `query($id: ID!) { tier(id: $id) { id viewerSubscription { id } } }`,
      // T1 holds the subscriber's, the payer's and the disputer's subscriptions: each viewer sees only their own.
      expect: (r, t) => (t === 'own' ? na('takes a tier') : t === 'A' && r === 'subscriber' ? 'ok' : 'null'),
      vars: (c) => ({ id: w[c.side].tier }),
      pick: (d) => d.tier?.viewerSubscription,
      check: (v) => (v.id === w.ownSub ? undefined : `subscription ${v.id}`),
    },
  ];

  // ---- one cell ------------------------------------------------------------------------------------------------------

  const rootField = (document: string) => {
    const def = parse(document).definitions[0]!;
    if (def.kind !== Kind.OPERATION_DEFINITION) throw new Error('one operation per document');
    const sel = def.selectionSet.selections[0]!;
    if (sel.kind !== Kind.FIELD) throw new Error('the first selection must be the field under test');
    return sel.name.value;
  };

  async function runCell(op: Operation, role: Role, t: Target, expected: Outcome): Promise<string | null> {
    const c: Ctx = { role, t, side: sideOf({ role, t }), w, expected, actorId: role === 'anonymous' ? null : ids[role], meta: {} };
    const vars = await op.vars(c);
    const r: GqlResult = await call(tok(role), op.document, vars);
    let outcome: string;
    let detail = '';
    const value = r.data ? (op.pick ? op.pick(r.data) : r.data[rootField(op.document)]) : undefined;
    if (r.errors?.length) {
      outcome = String(r.errors[0]!.extensions?.code ?? `NO_CODE (HTTP ${r.status})`);
      if (value != null) outcome += ' (with data!)';
      detail = r.errors[0]!.message;
    } else outcome = value === null || value === undefined ? 'null' : 'ok';
    if (outcome !== expected) return `${role} × ${t}: expected ${expected}, got ${outcome}${detail ? ` (${detail})` : ''}`;
    if (outcome === 'ok' && op.check) {
      const complaint = await op.check(value, c, vars);
      if (complaint) return `${role} × ${t}: ok, but ${complaint}`;
    }
    return null;
  }

  // ---- the platform ----------------------------------------------------------------------------------------------

  beforeAll(async () => {
    if (!run) return;
    tally.started = Date.now();
    p = await startTestPlatform(mode);
    db = p.infra.database!.db as Kysely<any>;
    ({ tokens, ids } = await signUpPeople(p, people, `pm${mode[0]}`));
    w = await buildWorld();
    baseline = await snapshot();
    tally.setupMs = Date.now() - tally.started;
  }, 180_000);

  afterAll(async () => {
    if (run && tally.ops) {
      const seconds = ((Date.now() - tally.started) / 1000).toFixed(1);
      console.log(
        `payments authz matrix (${mode}): ${tally.ops} operations × ${roles.length} roles × ${targets.length} targets = ${tally.ops * roles.length * targets.length} cells; ` +
          `${tally.cells} asserted, ${tally.na} not applicable, ${tally.reported} left out (reported); ${tally.requests} requests (set-up included) in ${seconds}s ` +
          `(platform, sign-ups and fixture ${(tally.setupMs / 1000).toFixed(1)}s)`,
      );
    }
    await p?.stop();
  });

  // ---- coverage and fixture ------------------------------------------------------------------------------------------

  it.runIf(run)('has an entry for every operation of the Payments schema, and none for operations it no longer has', () => {
    const inSchema = new Set(schemaOperations());
    const inMatrix = new Set(operations.map((o) => o.name.split(' ')[0]!));
    const missing = [...inSchema].filter((o) => !inMatrix.has(o));
    const stale = [...inMatrix].filter((o) => /^(Query|Mutation|Entity)\./.test(o) && !inSchema.has(o));
    expect(missing, `operations without a matrix entry: ${missing.join(', ')}`).toEqual([]);
    expect(stale, `entries for operations the schema no longer has: ${stale.join(', ')}`).toEqual([]);
  });

  it.runIf(run)('the fixture is what the matrix assumes', async () => {
    const members = (await as('owner', `query($id: ID!) { communityMembers(communityId: $id, first: 200) { role user { id } } }`, { id: w.A.id })).communityMembers as { role: string; user: { id: string } }[];
    const roleOf = (who: Person) => members.find((m) => m.user.id === ids[who])?.role ?? null;
    expect({ owner: roleOf('owner'), admin: roleOf('admin'), moderator: roleOf('moderator'), member: roleOf('member'), subscriber: roleOf('subscriber'), outsider: roleOf('outsider'), otherOwner: roleOf('otherOwner') }).toEqual({
      owner: 'OWNER',
      admin: 'ADMIN',
      moderator: 'MODERATOR',
      member: 'MEMBER',
      subscriber: 'MEMBER',
      outsider: null,
      otherOwner: null,
    });
    // None of A's people is in B; B is private (its home is hidden from them).
    const [inB] = await rows<{ n: number }>(sql`select count(*)::int as n from community.members where community_id = ${w.B.id} and user_id in (${sql.join(roles.filter((r) => r !== 'anonymous' && r !== 'otherOwner').map((r) => ids[r as Person]))})`);
    expect(inB!.n).toBe(0);
    expect((await call(tokens.owner, `query($s: String!) { community(slug: $s) { id } }`, { s: w.B.slug })).data.community).toBeNull();
    const subs = await rows<{ id: string; status: string; entitled: boolean }>(sql`select id, status, entitled from payments.subscriptions where id in (${sql.join([w.ownSub, w.A.theirSub, w.B.theirSub])})`);
    expect(subs.map((s) => `${s.status}:${s.entitled}`)).toEqual(['active:true', 'active:true', 'active:true']);
    const disputes = await rows<{ status: string }>(sql`select status from payments.disputes where id in (${sql.join([w.A.disputeId, w.B.disputeId])})`);
    expect(disputes.map((d) => d.status)).toEqual(['needs_response', 'needs_response']);
  });

  // ---- the matrix ------------------------------------------------------------------------------------------------

  for (const op of operations) {
    it.runIf(run)(`${op.name}: every cell has its allowed outcome`, async () => {
      tally.ops++;
      await restoreOwnSub();
      const wrong: string[] = [];
      for (const role of roles) {
        for (const t of targets) {
          const cell = op.expect(role, t);
          if (isNa(cell)) {
            tally.na++;
            continue;
          }
          if (isReported(cell)) {
            tally.reported++;
            continue;
          }
          tally.cells++;
          try {
            const problem = await runCell(op, role, t, cell);
            if (problem) wrong.push(problem);
          } catch (err) {
            wrong.push(`${role} × ${t}: set-up or call failed: ${(err as Error).message}`);
          }
        }
      }
      const now = await snapshot();
      if (now !== baseline) {
        wrong.push(`the operation changed the shared fixture:\n  before ${baseline}\n  after  ${now}`);
        baseline = now;
      }
      expect(wrong, `${op.name}: ${wrong.length} wrong cell(s)`).toEqual([]);
    });
  }

  // ---- references across communities and customers, outside the grid ---------------------------------------------------

  it.runIf(run)('refuses references from one community to another’s circles, tiers and codes', async () => {
    const before = await snapshot();
    const code = (r: GqlResult) => [r.errors?.[0]?.extensions?.code, r.errors?.[0]?.extensions?.field];
    // A's owner builds a tier on B's circle, a code for B's tier, moves A's tier onto B's circle.
    expect(code(await call(tokens.owner, CREATE_TIER, { c: w.A.id, i: tierInput(w.B, unique('Smuggled')) }))).toEqual(['BAD_USER_INPUT', 'circleIds']);
    expect(code(await call(tokens.owner, `mutation($c: ID!, $i: PromoCodeInput!) { createPromoCode(communityId: $c, input: $i) { id } }`, { c: w.A.id, i: { code: unique('XC').toUpperCase(), percentOff: 50, tierIds: [w.B.tier] } }))).toEqual([
      'BAD_USER_INPUT',
      'tierIds',
    ]);
    expect(code(await call(tokens.owner, `mutation($id: ID!, $c: [ID!]!) { updateTier(id: $id, input: { circleIds: $c }) { id } }`, { id: w.A.tier, c: [w.B.circleId] }))).toEqual(['BAD_USER_INPUT', 'circleIds']);
    // The subscriber moves their subscription onto B's tier.
    expect(code(await call(tokens.subscriber, `mutation($id: ID!, $t: ID!) { changeSubscription(id: $id, tierId: $t, interval: MONTH) { id } }`, { id: w.ownSub, t: w.B.tier }))).toEqual(['BAD_USER_INPUT', 'tierId']);
    // A member of A names B's code when checking out in A.
    const bCode = (await rows<{ code: string }>(sql`select code from payments.promo_codes where id = ${w.B.promoId}`))[0]!.code;
    expect(code(await call(tokens.member, `mutation($t: ID!, $p: String) { startCheckout(tierId: $t, interval: MONTH, promoCode: $p) { url } }`, { t: w.A.checkoutTier, p: bCode }))).toEqual(['BAD_USER_INPUT', 'promoCode']);
    // The refusal for B is the one for a community that does not exist: FORBIDDEN tells A's owner nothing about B.
    for (const c of [w.B.id, crypto.randomUUID()]) {
      expect(code(await call(tokens.owner, `query($c: ID!) { communityTiers(communityId: $c) { id } }`, { c }))).toEqual(['FORBIDDEN', undefined]);
      expect(code(await call(tokens.owner, `mutation($c: ID!) { startPayoutOnboarding(communityId: $c) }`, { c }))).toEqual(['FORBIDDEN', undefined]);
    }
    expect(await snapshot()).toBe(before);
  });

  it.runIf(run)('a billing portal session reaches only its own customer’s subscriptions', async () => {
    const before = await snapshot();
    const portal = await fresh.portal('subscriber');
    // The subscriber's own portal, aimed at the payer's subscription in A and in B: the provider does not know it
    // for this customer (BAD_USER_INPUT "No such subscription", the provider's refusal), and nothing changes.
    for (const s of [w.A.theirProviderSub, w.B.theirProviderSub]) {
      const r = await call(tokens.subscriber, `mutation($p: ID!, $s: ID!) { testPortalCancel(portalId: $p, subscriptionId: $s, cancel: true) { id } }`, { p: portal, s });
      expect(r.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
      expect(r.errors?.[0]?.message).toMatch(/no such subscription/i);
    }
    expect(await snapshot()).toBe(before);
  });
});

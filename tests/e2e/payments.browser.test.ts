/**
 * Paid circles in a real browser, against the whole embedded platform with the built-in TEST payments provider (no
 * Stripe keys: no real money, local checkout/portal/onboarding pages):
 * - the owner creates a community and a paid circle, sets up payouts through the UI (revenue page -> "Set up
 *   payouts" -> the test onboarding page -> "Finish onboarding" -> back on the revenue page, ready), and creates a
 *   tier with a monthly price in the tier editor (a mistyped amount and a tier without any price are refused on
 *   the field they concern, the latter by the API's `extensions.field`);
 * - anonymous visitors get the tiers server-rendered on the circle page, with "Log in to subscribe";
 * - a member joins the community, opens the circle (paywall with the tier), subscribes monthly -> the test checkout
 *   page (TEST MODE, the order) refuses a missing terms acceptance and a declined card with the API's message, then
 *   pays with 4242… -> back on the circle page, which is open (the composer and feed instead of the paywall);
 * - My subscriptions: cancel at period end (with a confirmation) -> access continues; then THE TEST ADVANCES THE
 *   TEST CLOCK by 32 days (GraphQL, as the owner: advanceTestClock), past the period end -> the circle page shows
 *   the paywall again -> the member subscribes again -> the circle is open again;
 * - a promotion code given before checkout: the test checkout page shows the discounted amount due, the code, and
 *   "Pay <that amount>";
 * - the revenue page names the subscriber of each subscription, and shows the ledger's charges and the test controls;
 * - axe finds no serious or critical violation on the test checkout page, My subscriptions and the revenue page (and
 *   the tier editor, the onboarding page and the paywalled circle page).
 *
 * Needs Chromium (`apt-get install -y chromium`) and builds the web app first if it has no production build.
 * Without Chromium the test is skipped locally but FAILS under CI=true.
 */
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { axeViolations, type BrowserPlatform, browserTestsRun, gqlInPage, openHydrated as openHydratedAt, waitHydrated, signUpInBrowser, startBrowserPlatform } from '@circles/testing';

const owner = { email: 'ada@example.com', password: 'a long passphrase for circles 42', handle: 'ada', displayName: 'Ada Lovelace' };
const member = { email: 'charles@example.com', password: 'another long passphrase 42', handle: 'charles', displayName: 'Charles Babbage' };
const community = { name: 'Analytical Engines', slug: 'analytical-engines' };
const circleName = 'Engine Room';
const tier = { name: 'Supporter', description: 'Keeps the engine running.', benefits: ['Monthly Q&A', 'Early access to notes'] };
const composerHeading = `Write a post in ${circleName}`;

// Locally a machine without Chromium skips (browserTestsRun); in CI a missing browser is a failure, never a silent skip.
describe.runIf(browserTestsRun)('paid circles in the browser (test payments provider)', () => {
  let platform: BrowserPlatform;
  let url: (p: string) => string;

  beforeAll(async () => {
    platform = await startBrowserPlatform('payments-e2e');
    url = platform.url;
  }, 240_000);

  afterAll(async () => {
    await platform?.stop();
  });

  const openHydrated = (page: Page, p: string) => openHydratedAt(page, url(p));
  const problems: string[] = [];
  const audit = async (page: Page, label: string) => {
    for (const v of await axeViolations(page)) problems.push(`${label}: ${v}`);
  };

  /** The circle is open to the viewer: the composer is there and the paywall is not. */
  const circleIsOpen = async (page: Page) => (await page.getByRole('heading', { name: composerHeading }).count()) === 1 && (await page.getByTestId('paywall').count()) === 0;

  /** From the circle page: Subscribe monthly -> the test checkout -> pay with 4242… and the terms -> back on the circle. */
  async function subscribeMonthly(page: Page, circlePath: string, opts: { tryMistakes?: boolean } = {}) {
    const paywall = page.getByTestId('paywall');
    await paywall.getByRole('button', { name: `Subscribe monthly: ${tier.name}, $9.99 / month` }).click();
    await page.waitForURL((u) => u.pathname.startsWith('/billing/test-checkout/'));
    await waitHydrated(page);
    expect(await page.getByTestId('test-mode-banner').textContent()).toContain('No real money moves. Use card 4242 4242 4242 4242.');
    const summary = page.getByTestId('checkout-summary');
    expect(await summary.textContent()).toContain(tier.name);
    expect(await summary.textContent()).toContain('$9.99 / month');
    // No code applied up front: the full price is due now.
    expect(await page.getByTestId('checkout-amount-due').textContent()).toBe('$9.99');
    expect(await page.getByTestId('checkout-promotion-code').count()).toBe(0);
    const form = page.getByRole('form', { name: 'Payment' });
    if (opts.tryMistakes) {
      await audit(page, 'test checkout');
      // The terms must be accepted (checked before asking the API, reported on the checkbox).
      await form.getByLabel('Card number').fill('4242 4242 4242 4242');
      await form.getByRole('button', { name: 'Pay $9.99' }).click();
      await expect.poll(() => form.getByText('Accept the terms of service to continue.').isVisible()).toBe(true);
      expect(await form.getByLabel('I accept the terms of service').getAttribute('aria-invalid')).toBe('true');
      // A declined card: the API's (the provider's) message, announced.
      await form.getByLabel('Card number').fill('4000 0000 0000 0002');
      await form.getByLabel('I accept the terms of service').check();
      await form.getByRole('button', { name: 'Pay $9.99' }).click();
      await expect.poll(() => form.getByRole('alert').filter({ hasText: 'Your card was declined.' }).isVisible()).toBe(true);
      await audit(page, 'test checkout (declined)');
    }
    await form.getByLabel('Card number').fill('4242 4242 4242 4242');
    await form.getByLabel('I accept the terms of service').check();
    await form.getByRole('button', { name: 'Pay $9.99' }).click();
    await page.waitForURL((u) => u.pathname === circlePath && u.searchParams.get('checkout') === 'success', { timeout: 30_000 });
    // Access arrives by an event between services: the page says so and checks again by itself.
    await expect.poll(() => page.getByText('Payment received — welcome!').first().isVisible(), { timeout: 30_000 }).toBe(true);
    await expect.poll(() => circleIsOpen(page), { timeout: 30_000 }).toBe(true);
  }

  it('sells a paid circle: payouts, a tier, checkout, cancel, period end, resubscribe', { timeout: 300_000 }, async () => {
    // --- The owner: a community and a paid circle (the API; their own pages are tested elsewhere). ---
    const ownerDevice = await platform.newDevice();
    const op = ownerDevice.page;
    await signUpInBrowser(op, platform.webUrl, owner);
    const { createCommunity } = await gqlInPage<{ createCommunity: { id: string } }>(op, 'mutation($input: CreateCommunityInput!) { createCommunity(input: $input) { id } }', {
      input: { name: community.name, slug: community.slug, visibility: 'LISTED', joinPolicy: 'OPEN' },
    });
    const communityId = createCommunity.id;
    const { createCircle } = await gqlInPage<{ createCircle: { id: string } }>(op, 'mutation($id: ID!, $input: CreateCircleInput!) { createCircle(communityId: $id, input: $input) { id } }', {
      id: communityId,
      input: { name: circleName, description: 'Where the gears turn.', access: 'PAID' },
    });
    const circlePath = `/c/${community.slug}/circles/${createCircle.id}`;
    const revenuePath = `/c/${community.slug}/settings/revenue`;

    // --- Payouts through the UI: revenue page -> Set up payouts -> test onboarding -> Finish -> back. ---
    await openHydrated(op, revenuePath);
    expect(await op.getByRole('heading', { level: 1 }).textContent()).toContain('Revenue');
    await expect.poll(() => op.getByTestId('test-mode-badge').first().isVisible()).toBe(true);
    await expect.poll(() => op.getByRole('navigation', { name: `Settings of ${community.name}` }).getByRole('link', { name: 'Tiers' }).isVisible()).toBe(true);
    expect(await op.getByTestId('payout-status').textContent()).toContain('Not set up');
    await op.getByRole('button', { name: 'Set up payouts' }).click();
    await op.waitForURL((u) => u.pathname.startsWith('/billing/test-onboarding/'));
    expect(new URL(op.url()).searchParams.get('return')).toBe(url(`${revenuePath}?onboarding=done`));
    await waitHydrated(op);
    await expect.poll(() => op.getByTestId('test-mode-banner').isVisible()).toBe(true);
    await audit(op, 'test onboarding');
    await op.getByRole('button', { name: 'Finish onboarding' }).click();
    await op.waitForURL((u) => u.pathname === revenuePath && u.searchParams.get('onboarding') === 'done');
    await expect.poll(() => op.getByText('Payouts are set up: this community can take payments.').isVisible()).toBe(true);
    expect(await op.getByTestId('payout-status').textContent()).toContain('Ready');

    // --- A tier in the tier editor, with a monthly price typed in dollars. ---
    await openHydrated(op, `/c/${community.slug}/settings/tiers`);
    await audit(op, 'tier editor');
    const create = op.getByRole('form', { name: 'Create a tier' });
    await create.getByLabel('Tier name').fill(tier.name);
    await create.getByLabel('Description').fill(tier.description);
    await create.getByLabel('Benefits').fill(tier.benefits.join('\n'));
    expect(await create.getByRole('checkbox', { name: circleName }).isChecked()).toBe(true);
    // No price at all: the API refuses it and names the field (extensions.field = monthlyAmount).
    await create.getByRole('button', { name: 'Create tier' }).click();
    await expect.poll(() => create.getByText('Give at least one price: monthly, yearly or one-time.').isVisible()).toBe(true);
    expect(await create.getByLabel('Monthly price').getAttribute('aria-invalid')).toBe('true');
    await audit(op, 'tier editor (API error on a field)');
    // Not an amount: refused on the field before asking.
    await create.getByLabel('Monthly price').fill('nine');
    await create.getByRole('button', { name: 'Create tier' }).click();
    await expect.poll(() => create.getByText('Enter an amount like 9.99.').isVisible()).toBe(true);
    await create.getByLabel('Monthly price').fill('9.99');
    await create.getByRole('button', { name: 'Create tier' }).click();
    await expect.poll(() => op.getByText(`Tier “${tier.name}” created.`).isVisible()).toBe(true);
    const row = op.getByTestId('tier-row').filter({ hasText: tier.name });
    await expect.poll(() => row.textContent()).toContain('$9.99 / month');
    expect(await row.textContent()).toContain(`Unlocks: ${circleName}`);

    // --- Anonymous visitors get the offer server-rendered, and are asked to log in. ---
    const html = await (await fetch(url(circlePath))).text();
    expect(html).toContain(tier.name);
    expect(html).toContain('$9.99 / month');
    expect(html).toContain('Log in to subscribe');
    expect(html).toContain('Test mode');

    // --- A member joins and subscribes: paywall -> test checkout -> back on an open circle. ---
    const memberDevice = await platform.newDevice();
    const mp = memberDevice.page;
    await signUpInBrowser(mp, platform.webUrl, member);
    await openHydrated(mp, `/c/${community.slug}`);
    await mp.getByRole('button', { name: `Join ${community.name}` }).click();
    await mp.getByRole('button', { name: `Leave ${community.name}` }).waitFor();
    await openHydrated(mp, circlePath);
    const paywall = mp.getByTestId('paywall');
    await expect.poll(() => paywall.getByRole('heading', { name: tier.name }).isVisible()).toBe(true);
    expect(await paywall.getByRole('list', { name: `Benefits of ${tier.name}` }).textContent()).toContain('Monthly Q&A');
    expect(await mp.getByRole('heading', { name: composerHeading }).count()).toBe(0);
    await audit(mp, 'circle page (paywall)');
    await subscribeMonthly(mp, circlePath, { tryMistakes: true });

    // --- My subscriptions (from the account page): cancel at period end; access continues. ---
    await openHydrated(mp, '/account');
    await mp.getByRole('link', { name: 'My subscriptions' }).click();
    await mp.waitForURL((u) => u.pathname === '/account/subscriptions');
    await waitHydrated(mp);
    const sub = mp.getByTestId('subscription').filter({ hasText: tier.name });
    expect(await sub.textContent()).toContain('Active');
    expect(await sub.textContent()).toContain('$9.99 / month');
    expect(await sub.textContent()).toContain('Renews');
    await audit(mp, 'my subscriptions');
    await sub.getByRole('button', { name: `Cancel ${tier.name}` }).click();
    const dialog = mp.getByRole('dialog', { name: `Cancel ${tier.name}?` });
    expect(await dialog.textContent()).toContain('You keep access until the end of the period you paid for');
    await audit(mp, 'my subscriptions (cancel dialog)');
    await dialog.getByRole('button', { name: 'Cancel subscription' }).click();
    await expect.poll(() => mp.getByText(`${tier.name} is canceled: you keep access until the end of the period.`).isVisible()).toBe(true);
    await expect.poll(async () => (await sub.textContent()) ?? '').toContain('Access ends');
    await expect.poll(() => sub.getByRole('button', { name: `Resume ${tier.name}` }).isVisible()).toBe(true);
    await openHydrated(mp, circlePath);
    expect(await circleIsOpen(mp)).toBe(true);
    expect(await mp.getByTestId('viewer-subscription').textContent()).toContain('Access ends');

    // --- The test advances the TEST CLOCK by 32 days (as the owner, through GraphQL): past the period end. ---
    await gqlInPage(op, 'mutation($c: ID!, $s: Int!) { advanceTestClock(communityId: $c, seconds: $s) }', { c: communityId, s: 32 * 86_400 });
    // The subscription ended at the period end: the paywall is back (access leaves by an event; reload until then).
    await expect
      .poll(
        async () => {
          await openHydrated(mp, circlePath);
          return (await mp.getByTestId('paywall').count()) === 1 && (await mp.getByRole('heading', { name: composerHeading }).count()) === 0;
        },
        { timeout: 30_000, interval: 500 },
      )
      .toBe(true);
    await openHydrated(mp, '/account/subscriptions');
    expect(await mp.getByRole('region', { name: 'Ended' }).getByTestId('subscription').filter({ hasText: tier.name }).count()).toBe(1);

    // --- A promotion code given before checkout: the checkout page says the discounted amount due and the code. ---
    const promo = 'ENGINE2OFF';
    await gqlInPage(op, 'mutation($c: ID!, $input: PromoCodeInput!) { createPromoCode(communityId: $c, input: $input) { id } }', {
      c: communityId,
      input: { code: promo, amountOff: 200, currency: 'usd' },
    });
    const { community: seen } = await gqlInPage<{ community: { tiers: { id: string; name: string }[] } }>(mp, 'query($s: String!) { community(slug: $s) { tiers { id name } } }', { s: community.slug });
    const tierId = seen.tiers.find((x) => x.name === tier.name)!.id;
    const { startCheckout } = await gqlInPage<{ startCheckout: { url: string } }>(mp, 'mutation($t: ID!, $p: String) { startCheckout(tierId: $t, interval: MONTH, promoCode: $p) { url } }', { t: tierId, p: promo });
    await openHydrated(mp, new URL(startCheckout.url).pathname);
    expect(await mp.getByTestId('checkout-amount-due').textContent()).toBe('$7.99');
    expect(await mp.getByTestId('checkout-promotion-code').textContent()).toBe(`${promo} (applied)`);
    const discounted = mp.getByRole('form', { name: 'Payment' });
    await expect.poll(() => discounted.getByRole('button', { name: 'Pay $7.99' }).isVisible()).toBe(true);
    expect(await discounted.getByLabel('Promotion code').count()).toBe(0);
    await audit(mp, 'test checkout (promotion code applied)');

    // --- Subscribes again (without the code): open again. ---
    await openHydrated(mp, circlePath);
    await subscribeMonthly(mp, circlePath);

    // --- The owner's revenue page: one active subscriber, the charges in the ledger, the test controls. ---
    await openHydrated(op, revenuePath);
    const summary = op.getByTestId('revenue-summary');
    expect(await summary.textContent()).toContain('Active subscribers1');
    expect(await summary.textContent()).toContain('$9.99');
    const subscriptions = op.getByTestId('community-subscriptions');
    // Each subscription names its subscriber (TierSubscription.user), never "Unknown person".
    expect(await subscriptions.getByRole('row').filter({ hasText: 'Charles Babbage (@charles)' }).count()).toBe(2);
    expect(await subscriptions.getByText('Unknown person').count()).toBe(0);
    expect(await subscriptions.getByRole('rowheader', { name: 'Charles Babbage (@charles)' }).count()).toBe(2);
    const ledger = op.getByTestId('ledger');
    await expect.poll(async () => ledger.getByRole('row').filter({ hasText: 'Charge' }).count()).toBeGreaterThanOrEqual(2);
    await expect.poll(() => op.getByRole('region', { name: 'Test controls' }).getByRole('button', { name: 'Advance clock' }).isVisible()).toBe(true);
    await audit(op, 'revenue page');

    await memberDevice.context.close();
    await ownerDevice.context.close();
    expect(problems).toEqual([]);
  });
});

/**
 * Running a community in a real browser, against the whole embedded platform (issue 3's flow):
 * the owner creates a community and a hidden circle and makes an invite link, all through the settings pages,
 * reading the link off the page -> a second person joins by that link and cannot see the hidden circle (not in
 * the list; its address answers 404) -> the owner adds them on the circle's page, and now they see it -> the owner
 * bans them from Settings → Members and they lose access on their very next page load.
 *
 * Needs Chromium (`apt-get install -y chromium`) and builds the web app first if it has no production build.
 * Without Chromium the test is skipped locally but FAILS under CI=true.
 */
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BrowserPlatform, browserTestsRun, openHydrated as openHydratedAt, waitHydrated, signUpInBrowser, startBrowserPlatform } from '@circles/testing';

const owner = { email: 'le.guin@example.com', password: 'a long passphrase for circles 42', handle: 'leguin', displayName: 'Ursula Le Guin' };
const guest = { email: 'delany@example.com', password: 'another long passphrase 42', handle: 'delany', displayName: 'Samuel Delany' };
const community = { name: 'Earthsea Readers', slug: 'earthsea-readers' };
const circle = { name: 'Roke Council', description: 'Where the mages meet.' };

// Locally a machine without Chromium skips (browserTestsRun); in CI a missing browser is a failure, never a silent skip.
describe.runIf(browserTestsRun)('running a community in the browser', () => {
  let platform: BrowserPlatform;
  let url: (p: string) => string;

  beforeAll(async () => {
    platform = await startBrowserPlatform('community-admin-e2e');
    url = platform.url;
  }, 240_000);

  afterAll(async () => {
    await platform?.stop();
  });

  const openHydrated = (page: Page, p: string) => openHydratedAt(page, url(p));

  const signUp = (page: Page, who: typeof owner, next?: string) => signUpInBrowser(page, platform.webUrl, who, next);

  /** A polite announcement in the main region with this text. */
  const announced = (page: Page, text: string) => page.getByRole('main').getByRole('status').filter({ hasText: text });

  it('invites, hides a circle, adds to it and bans, with access following at once', async () => {
    // The owner creates an invite-only community.
    const first = await platform.newDevice();
    const ownerPage = first.page;
    await signUp(ownerPage, owner);
    await openHydrated(ownerPage, '/communities/new');
    const form = ownerPage.getByRole('form', { name: 'Create a community' });
    await form.getByLabel('Name', { exact: true }).fill(community.name);
    await form.getByRole('radio', { name: /^By invitation/ }).check();
    await form.getByRole('button', { name: 'Create community' }).click();
    await ownerPage.waitForURL((u) => u.pathname === `/c/${community.slug}`);

    // Settings are one click away for the owner; they open on General.
    await ownerPage.getByRole('link', { name: 'Settings', exact: true }).click();
    await ownerPage.waitForURL((u) => u.pathname === `/c/${community.slug}/settings/general`);
    expect(await ownerPage.getByRole('heading', { level: 1 }).textContent()).toBe('General settings');

    // A hidden circle, made in Settings → Circles.
    await openHydrated(ownerPage, `/c/${community.slug}/settings/circles`);
    const create = ownerPage.getByRole('form', { name: 'Create a circle' });
    await create.getByLabel('Circle name').fill(circle.name);
    await create.getByLabel('Description').fill(circle.description);
    await create.getByRole('radio', { name: /^By invitation/ }).check();
    await create.getByRole('checkbox', { name: /^Hidden/ }).check();
    await create.getByRole('button', { name: 'Create circle' }).click();
    await announced(ownerPage, `Circle “${circle.name}” created.`).waitFor();
    const circleLink = ownerPage.getByRole('list', { name: 'All circles' }).getByRole('link', { name: circle.name });
    await circleLink.waitFor();
    const circlePath = (await circleLink.getAttribute('href'))!;
    expect(circlePath).toMatch(new RegExp(`^/c/${community.slug}/circles/[0-9a-f-]{36}$`));

    // An invite link, made in Settings → Invites and read off the page.
    await openHydrated(ownerPage, `/c/${community.slug}/settings/invites`);
    const inviteForm = ownerPage.getByRole('form', { name: 'Create an invite link' });
    await inviteForm.getByLabel('Expire after').selectOption({ label: '1 day' });
    await inviteForm.getByLabel('Maximum number of uses').selectOption({ label: '5 uses' });
    await inviteForm.getByRole('button', { name: 'Create link' }).click();
    const linkField = ownerPage.getByLabel('New invite link');
    await linkField.waitFor();
    const inviteLink = await linkField.inputValue();
    expect(inviteLink).toMatch(new RegExp(`^${url('/join/')}[A-Za-z0-9_-]+$`));
    // The owner manages members, so the list holds everyone's links.
    const listed = ownerPage.getByRole('list', { name: 'All invite links' }).getByTestId('invite');
    await expect.poll(() => listed.count()).toBe(1);
    expect(await listed.first().textContent()).toContain('Used 0 of 5 times');

    // The second person follows the link, signs up on the way and joins.
    const second = await platform.newDevice();
    const guestPage = second.page;
    await openHydrated(guestPage, new URL(inviteLink).pathname);
    await guestPage.getByRole('main').getByRole('link', { name: 'Sign up' }).click();
    await guestPage.waitForURL((u) => u.pathname === '/signup');
    await waitHydrated(guestPage);
    await guestPage.getByLabel('Email', { exact: true }).fill(guest.email);
    await guestPage.getByLabel('Handle', { exact: true }).fill(guest.handle);
    await guestPage.getByLabel('Display name', { exact: true }).fill(guest.displayName);
    await guestPage.getByLabel('Password', { exact: true }).fill(guest.password);
    await guestPage.getByRole('button', { name: 'Sign up' }).click();
    await guestPage.waitForURL((u) => u.pathname === new URL(inviteLink).pathname);
    await waitHydrated(guestPage);
    await guestPage.getByRole('button', { name: `Join ${community.name}` }).click();
    await guestPage.waitForURL((u) => u.pathname === `/c/${community.slug}`);
    await guestPage.getByText('You are a member (Member).').waitFor();

    // The hidden circle is not listed for them, and its address says it does not exist.
    expect(await guestPage.getByRole('main').getByText(circle.name).count()).toBe(0);
    expect((await guestPage.goto(url(circlePath)))?.status()).toBe(404);
    // Nor may they open the community's settings beyond what every member may do (invite people).
    expect((await guestPage.goto(url(`/c/${community.slug}/settings/general`)))?.status()).toBe(404);
    expect((await guestPage.goto(url(`/c/${community.slug}/settings/members`)))?.status()).toBe(404);

    // The owner adds them on the circle's page, finding them by handle.
    await openHydrated(ownerPage, circlePath);
    expect(await ownerPage.getByRole('heading', { level: 1 }).textContent()).toContain(circle.name);
    await ownerPage.getByLabel('Find community members').fill(guest.handle);
    await ownerPage.getByRole('search', { name: 'Search for people to add' }).getByRole('button', { name: 'Search' }).click();
    await ownerPage.getByRole('button', { name: `Add ${guest.displayName} (@${guest.handle}) to ${circle.name}` }).click();
    await announced(ownerPage, `${guest.displayName} (@${guest.handle}) was added to the circle.`).waitFor();
    const circleMembers = ownerPage.getByRole('list', { name: 'Members of this circle' }).getByTestId('circle-member');
    await expect.poll(() => circleMembers.count()).toBe(2);

    // Now they see it, in the list and on its own page.
    await openHydrated(guestPage, `/c/${community.slug}`);
    await guestPage.getByRole('list', { name: 'Circles' }).getByRole('link', { name: circle.name }).click();
    await guestPage.waitForURL((u) => u.pathname === circlePath);
    expect(await guestPage.getByRole('heading', { level: 1 }).textContent()).toContain(circle.name);
    await expect.poll(() => guestPage.getByRole('button', { name: `Leave circle ${circle.name}` }).isVisible()).toBe(true);

    // A member sees only their own invite links (none yet), under a heading that says so.
    await openHydrated(guestPage, `/c/${community.slug}/settings/invites`);
    await expect.poll(() => guestPage.getByRole('heading', { name: 'Your invite links' }).isVisible()).toBe(true);
    await expect.poll(() => guestPage.getByText('You have not made any invite links yet.').isVisible()).toBe(true);

    // The owner times them out and lifts it again from Settings → Members.
    await openHydrated(ownerPage, `/c/${community.slug}/settings/members`);
    await ownerPage.getByRole('button', { name: `Time out: ${guest.displayName} (@${guest.handle})` }).click();
    const timeout = ownerPage.getByRole('dialog', { name: `Time out ${guest.displayName} (@${guest.handle})` });
    await timeout.getByRole('button', { name: 'Time out', exact: true }).click();
    await announced(ownerPage, `${guest.displayName} (@${guest.handle}) is timed out.`).waitFor();
    const lift = ownerPage.getByRole('button', { name: `Lift timeout: ${guest.displayName} (@${guest.handle})` });
    await lift.click();
    await announced(ownerPage, `The timeout of ${guest.displayName} (@${guest.handle}) was lifted.`).waitFor();
    await expect.poll(() => lift.count()).toBe(0);
    expect(await ownerPage.getByText(/Timed out until/).count()).toBe(0);

    // The owner bans them from Settings → Members, confirming in a dialog.
    await openHydrated(ownerPage, `/c/${community.slug}/settings/members`);
    await ownerPage.getByRole('button', { name: `Ban: ${guest.displayName} (@${guest.handle})` }).click();
    const dialog = ownerPage.getByRole('dialog', { name: `Ban ${guest.displayName} (@${guest.handle})?` });
    await dialog.getByLabel('Reason').fill('Spoilers for Tehanu');
    await dialog.getByLabel('Ban length').selectOption({ label: '1 week' });
    await dialog.getByRole('button', { name: 'Ban', exact: true }).click();
    await announced(ownerPage, `${guest.displayName} (@${guest.handle}) was banned.`).waitFor();
    expect(await dialog.isVisible()).toBe(false);
    const members = ownerPage.getByRole('list', { name: 'Members' }).getByTestId('member');
    await expect.poll(() => members.count()).toBe(1);
    await openHydrated(ownerPage, `/c/${community.slug}/settings/bans`);
    const ban = ownerPage.getByRole('list', { name: 'Active bans' }).getByTestId('ban');
    expect(await ban.count()).toBe(1);
    expect(await ban.first().textContent()).toContain('Reason: Spoilers for Tehanu');

    // Their very next page loads are refused: the circle does not exist for them, the member list is closed, the
    // home page tells them they are banned (why and until when) instead of offering a way in, and so does the
    // invite link.
    expect((await guestPage.goto(url(circlePath)))?.status()).toBe(404);
    await openHydrated(guestPage, `/c/${community.slug}/members`);
    await expect.poll(() => guestPage.getByText('Only members can see who belongs to this community.').isVisible()).toBe(true);
    await openHydrated(guestPage, `/c/${community.slug}`);
    expect(await guestPage.getByText('You are a member').count()).toBe(0);
    const notice = guestPage.getByRole('main').getByRole('alert');
    expect(await notice.textContent()).toMatch(/^You are banned from this communityReason: Spoilers for TehanuThe ban ends .+\.$/);
    expect(await guestPage.getByText('This community is invite-only.').count()).toBe(0);
    expect(await guestPage.getByRole('main').getByText(circle.name).count()).toBe(0);
    await openHydrated(guestPage, new URL(inviteLink).pathname);
    expect(await guestPage.getByRole('main').getByRole('alert').textContent()).toContain('You are banned from this community');
    expect(await guestPage.getByRole('button', { name: `Join ${community.name}` }).count()).toBe(0);

    // Everything the owner did is in the audit log, and the chain verifies.
    await openHydrated(ownerPage, `/c/${community.slug}/settings/audit`);
    const log = ownerPage.getByTestId('audit-log');
    for (const action of ['Community created', 'Circle created', 'Invite link created', 'Added to a circle', 'Member timed out', 'Timeout lifted', 'Member banned']) {
      expect(await log.getByRole('cell', { name: action, exact: true }).count(), action).toBeGreaterThan(0);
    }
    // The banned person is no longer a member, and the record still names them.
    const banRecord = log.locator('tbody').filter({ has: ownerPage.getByRole('cell', { name: 'Member banned', exact: true }) });
    expect(await banRecord.getByRole('cell', { name: `${guest.displayName} (@${guest.handle})`, exact: true }).count()).toBe(1);
    await ownerPage.getByRole('button', { name: 'Verify chain' }).click();
    await expect.poll(() => ownerPage.getByTestId('audit-verdict').textContent()).toMatch(/^The chain is intact: \d+ records checked\.$/);

    await second.context.close();
    await first.context.close();
  }, 300_000);
});

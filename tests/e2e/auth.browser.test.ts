/**
 * The account journey in a real browser, against the whole embedded platform (gateway, auth service, web app):
 * sign up -> verify email from the admin mail outbox -> log out -> log in -> a second device logs in ->
 * the first device revokes it -> the second device is logged out.
 *
 * Needs Chromium (`apt-get install -y chromium`) and builds the web app first if it has no production build.
 * Without Chromium the test is skipped locally but FAILS under CI=true.
 */
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BrowserPlatform, browserTestsRun, startBrowserPlatform } from '@circles/testing';


const user = { email: 'ada@example.com', password: 'a long passphrase for circles 42', handle: 'ada', displayName: 'Ada Lovelace' };

// Locally a machine without Chromium skips (browserTestsRun); in CI a missing browser is a failure, never a silent skip.
describe.runIf(browserTestsRun)('auth in the browser', () => {
  let platform: BrowserPlatform;
  let url: (p: string) => string;
  const newDevice = () => platform.newDevice();

  beforeAll(async () => {
    platform = await startBrowserPlatform('e2e');
    url = platform.url;
  }, 240_000);

  afterAll(async () => {
    await platform?.stop();
  });

  async function logIn(page: Page) {
    await page.goto(url('/login'));
    await page.getByLabel('Email', { exact: true }).fill(user.email);
    await page.getByLabel('Password', { exact: true }).fill(user.password);
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.waitForURL((u) => u.pathname === '/account');
  }

  it('signs up, verifies, logs in on two devices and revokes one', async () => {
    const first = await newDevice();
    const page = first.page;

    // Sign up: the first account becomes the instance admin.
    await page.goto(url('/signup'));
    await page.getByLabel('Email', { exact: true }).fill(user.email);
    await page.getByLabel('Handle', { exact: true }).fill(user.handle);
    await page.getByLabel('Display name', { exact: true }).fill(user.displayName);
    await page.getByLabel('Password', { exact: true }).fill(user.password);
    await page.getByRole('button', { name: 'Sign up' }).click();
    await page.waitForURL((u) => u.pathname === '/account');
    await expect.poll(() => page.getByText(`@${user.handle}`).first().isVisible()).toBe(true);
    await expect.poll(() => page.getByText('Not verified').isVisible()).toBe(true);

    // The session cookie is invisible to scripts.
    const cookie = (await first.context.cookies()).find((c) => c.name === 'circles_session');
    expect(cookie).toBeDefined();
    expect(cookie!.httpOnly).toBe(true);
    expect(cookie!.sameSite).toBe('Lax');
    expect(await page.evaluate(() => document.cookie)).not.toContain('circles_session');

    // Read the verification email in the admin mail outbox and follow its link.
    await page.getByRole('navigation').getByRole('link', { name: 'Mail outbox' }).click();
    await page.waitForURL((u) => u.pathname === '/admin/mail');
    await page.getByRole('link', { name: 'Verify your email for Circles' }).first().click();
    await page.waitForURL((u) => u.pathname.startsWith('/admin/mail/'));
    await page.locator('a[href*="/verify-email?token="]').first().click();
    await page.waitForURL((u) => u.pathname === '/verify-email');
    await expect.poll(() => page.getByText('Your email address is verified').isVisible()).toBe(true);
    await page.goto(url('/account'));
    await expect.poll(() => page.getByText('Verified', { exact: true }).isVisible()).toBe(true);

    // Log out, then back in.
    await page.getByRole('button', { name: 'Log out', exact: true }).click();
    await page.waitForURL((u) => u.pathname === '/login');
    expect((await first.context.cookies()).some((c) => c.name === 'circles_session')).toBe(false);
    await logIn(page);

    // A second device logs in as the same person.
    const second = await newDevice();
    await logIn(second.page);

    // The first device sees both sessions and revokes the other one.
    await page.reload();
    const sessions = page.getByRole('list', { name: 'Sessions' }).getByTestId('session');
    await expect.poll(() => sessions.count()).toBe(2);
    const current = sessions.filter({ hasText: 'This device' });
    expect(await current.count()).toBe(1);
    const other = sessions.filter({ hasNotText: 'This device' });
    await other.getByRole('button', { name: 'Revoke' }).click();
    await expect.poll(() => sessions.count()).toBe(1);
    expect(await sessions.first().textContent()).toContain('This device');

    // The second device is logged out: its next visit to /account lands on the login page.
    await second.page.reload();
    await second.page.waitForURL((u) => u.pathname === '/login');

    // The first device is still signed in.
    await page.reload();
    expect(page.url()).toBe(url('/account'));

    // Its sign-in history keeps every sign-in, the revoked device's and the logged-out one's included, newest first.
    const signIns = page.getByRole('list', { name: 'Recent sign-ins' }).getByTestId('sign-in');
    expect(await signIns.count()).toBe(3);
    expect(await signIns.nth(0).textContent()).toContain('Logged in with password');
    expect(await signIns.nth(1).textContent()).toContain('Logged in with password');
    expect(await signIns.nth(2).textContent()).toContain('Account created');
    expect(await signIns.nth(2).textContent()).toMatch(/IP address (127\.0\.0\.1|::1)/);

    // Editing the profile: a malformed handle is refused on its field and nothing changes; a good one is saved.
    const profile = page.getByRole('form', { name: 'Edit profile' });
    await profile.getByLabel('Handle', { exact: true }).fill('ada lovelace');
    await profile.getByRole('button', { name: 'Save profile' }).click();
    await expect.poll(() => profile.getByText('Handles may contain only letters, digits and underscores.').count()).toBe(1);
    expect(await profile.getByLabel('Handle', { exact: true }).getAttribute('aria-invalid')).toBe('true');
    await profile.getByLabel('Handle', { exact: true }).fill('countess_ada');
    await profile.getByLabel('Display name', { exact: true }).fill('Augusta Ada King');
    await profile.getByRole('button', { name: 'Save profile' }).click();
    await expect.poll(() => page.getByText('Profile saved.').count()).toBe(1);
    await expect.poll(() => page.getByText('@countess_ada').first().isVisible()).toBe(true);
    await page.reload();
    await expect.poll(() => page.getByText('Augusta Ada King').first().isVisible()).toBe(true);
    expect(await page.getByText(`@${user.handle}`, { exact: true }).count()).toBe(0);

    await second.context.close();
    await first.context.close();
  }, 300_000);
});

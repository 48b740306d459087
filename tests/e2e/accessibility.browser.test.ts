/**
 * The web app is usable by keyboard and screen reader, and fits small screens, checked in a real browser against
 * the whole embedded platform:
 * - axe-core finds no serious or critical violation on any page, signed out and signed in, in light mode (all
 *   rules) and dark mode (contrast), and on forms showing errors;
 * - every page has a title, one h1, lang="en" and a skip link to its main landmark;
 * - logging in and out works with the keyboard alone, with a visible focus indicator at every step, and a wrong
 *   password is announced and points at the fields it concerns;
 * - at 375 px and 1280 px wide, /signup and /account do not scroll sideways and their buttons are big enough.
 *
 * Needs Chromium (`apt-get install -y chromium`) and builds the web app first if it has no production build.
 * Without Chromium the test is skipped locally but FAILS under CI=true.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCircles } from '@circles/server/embedded';
import { browserTestsRun, ensureWebBuild, launchChromium } from '@circles/testing';

const AXE_SOURCE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

const admin = { email: 'grace@example.com', password: 'a long passphrase for circles 42', handle: 'grace', displayName: 'Grace Hopper' };

/** Every page, visited signed out and signed in (a mail message's own page is added once the outbox has one). */
const PAGES = [
  '/',
  '/signup',
  '/login',
  '/forgot-password',
  '/reset-password?token=x',
  '/verify-email?token=x',
  '/account',
  '/admin/mail',
  '/admin/mail/no-such-message',
  '/no-such-page',
];
const NOT_FOUND = '/no-such-page';

// Locally a machine without Chromium skips (browserTestsRun); in CI a missing browser is a failure, never a silent skip.
interface AxeResult {
  violations: { id: string; impact: string | null; help: string; nodes: { target: unknown[] }[] }[];
}
declare global {
  interface Window {
    axe?: { run(context: Document, options: object): Promise<AxeResult> };
  }
}

/** Serious and critical axe violations on the page as it is now, one readable line each ("rule: targets"). */
async function axeViolations(page: Page, options: object = {}): Promise<string[]> {
  if (!(await page.evaluate(() => Boolean(window.axe)))) await page.addScriptTag({ content: AXE_SOURCE });
  const result = await page.evaluate((opts) => window.axe!.run(document, { resultTypes: ['violations'], ...opts }), options);
  return result.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id} (${v.impact}): ${v.help} -> ${v.nodes.map((n) => JSON.stringify(n.target)).join(', ')}`);
}

/** What every page must have; an empty list when it has it all. */
async function structureProblems(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const problems: string[] = [];
    if (!document.title.trim()) problems.push('no <title>');
    const h1s = document.querySelectorAll('h1').length;
    if (h1s !== 1) problems.push(`${h1s} <h1> elements`);
    if (document.documentElement.lang !== 'en') problems.push(`html lang="${document.documentElement.lang}"`);
    const mains = document.querySelectorAll('main, [role="main"]');
    if (mains.length !== 1) problems.push(`${mains.length} main landmarks`);
    const skip = document.querySelector<HTMLAnchorElement>('body a[href^="#"]');
    const target = skip ? document.getElementById(skip.hash.slice(1)) : null;
    if (!skip || !target || !mains[0]?.contains(target)) problems.push('no skip link to the main landmark');
    return problems;
  });
}

/** A short description of the focused element, for assertions and failure messages. */
function focused(page: Page) {
  return page.evaluate(() => {
    const el = document.activeElement as HTMLElement | null;
    if (!el || el === document.body) return { tag: 'body', name: '', focusRing: false };
    const label = el instanceof HTMLInputElement ? (el.labels?.[0]?.textContent ?? '') : (el.getAttribute('aria-label') ?? el.textContent ?? '');
    const style = getComputedStyle(el);
    const outline = style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) > 0;
    const shadow = style.boxShadow !== 'none';
    return { tag: el.tagName.toLowerCase(), name: label.trim(), focusRing: outline || shadow };
  });
}

/** Presses Tab (or Shift+Tab) until the focused element matches, checking each stop shows where focus is. */
async function tabTo(page: Page, tag: string, name: string, { maxTabs = 30, key = 'Tab' } = {}): Promise<string[]> {
  const path: string[] = [];
  for (let i = 0; i < maxTabs; i++) {
    await page.keyboard.press(key);
    const now = await focused(page);
    path.push(`${now.tag} "${now.name}"`);
    expect(now.focusRing, `no visible focus indicator on ${now.tag} "${now.name}"`).toBe(true);
    if (now.tag === tag && now.name === name) return path;
  }
  throw new Error(`Tab never reached ${tag} "${name}"; it visited: ${path.join(' -> ')}`);
}

describe.runIf(browserTestsRun)('accessibility in the browser', () => {
  let circles: Awaited<ReturnType<typeof startCircles>> | undefined;
  let browser: Browser;
  let dataDir: string | undefined;
  let url: (p: string) => string;
  let signedOut: BrowserContext;
  let signedIn: BrowserContext;
  let mailMessagePath: string;

  beforeAll(async () => {
    ensureWebBuild();
    dataDir = mkdtempSync(path.join(os.tmpdir(), 'circles-a11y-'));
    circles = await startCircles({ dataDir });
    const base = circles.webUrl;
    url = (p) => new URL(p, base).toString();
    browser = await launchChromium();
    signedOut = await browser.newContext();
    signedIn = await browser.newContext();

    // The first account is the instance admin, so every page (the mail outbox too) is reachable signed in.
    const page = await signedIn.newPage();
    page.setDefaultTimeout(15_000);
    await openHydrated(page, '/signup');
    await page.getByLabel('Email', { exact: true }).fill(admin.email);
    await page.getByLabel('Handle', { exact: true }).fill(admin.handle);
    await page.getByLabel('Display name', { exact: true }).fill(admin.displayName);
    await page.getByLabel('Password', { exact: true }).fill(admin.password);
    await page.getByRole('button', { name: 'Sign up' }).click();
    await page.waitForURL((u) => u.pathname === '/account');
    await page.goto(url('/admin/mail'));
    mailMessagePath = new URL((await page.getByRole('list', { name: 'Messages' }).getByRole('link').first().getAttribute('href'))!, base).pathname;
    await page.close();
  }, 240_000);

  afterAll(async () => {
    await browser?.close();
    await circles?.stop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  async function newPage(context: BrowserContext): Promise<Page> {
    const page = await context.newPage();
    page.setDefaultTimeout(15_000);
    return page;
  }

  /** Opens a page and waits for its scripts, so forms are handled by the app rather than submitted natively. */
  async function openHydrated(page: Page, p: string) {
    await page.goto(url(p));
    await page.waitForLoadState('networkidle');
  }

  /**
   * Visits every page in one state and lists what is wrong: axe violations with every rule in light mode and
   * contrast in dark mode (the same page, re-rendered by the media query), and missing structure.
   */
  async function auditEveryPage(context: BrowserContext) {
    const page = await newPage(context);
    const problems: string[] = [];
    for (const p of [...PAGES, mailMessagePath]) {
      await page.emulateMedia({ colorScheme: 'light' });
      // The server-rendered markup is what hydration keeps, so the audit need not wait for the network to settle.
      const response = await page.goto(url(p));
      const where = page.url() === url(p) ? p : `${p} (at ${new URL(page.url()).pathname})`;
      expect(response?.status(), where).toBe(p === NOT_FOUND ? 404 : 200);
      if (p.startsWith('/verify-email')) expect(await page.getByText('This verification link is invalid or has expired.').isVisible(), where).toBe(true);
      for (const v of await axeViolations(page)) problems.push(`${where}: ${v}`);
      for (const s of await structureProblems(page)) problems.push(`${where}: ${s}`);
      await page.emulateMedia({ colorScheme: 'dark' });
      for (const v of await axeViolations(page, { runOnly: ['color-contrast'] })) problems.push(`${where} (dark): ${v}`);
    }
    await page.close();
    return problems;
  }

  it('has no serious accessibility violations and a sound structure on any page, signed out', async () => {
    expect(await auditEveryPage(signedOut)).toEqual([]);
  }, 120_000);

  it('has no serious accessibility violations and a sound structure on any page, signed in', async () => {
    expect(await auditEveryPage(signedIn)).toEqual([]);
  }, 120_000);

  it('has no serious accessibility violations on forms showing errors', async () => {
    const problems: string[] = [];
    const check = async (page: Page, what: string) => {
      for (const v of await axeViolations(page)) problems.push(`${what}: ${v}`);
      for (const s of await structureProblems(page)) problems.push(`${what}: ${s}`);
    };
    const page = await newPage(signedOut);

    await openHydrated(page, '/login');
    await page.getByLabel('Email', { exact: true }).fill(admin.email);
    await page.getByLabel('Password', { exact: true }).fill('not the password');
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.getByRole('main').getByRole('alert').waitFor();
    await check(page, 'log in with a wrong password');

    await openHydrated(page, '/signup');
    await page.getByRole('button', { name: 'Sign up' }).click();
    await page.getByText('This field is required.').first().waitFor();
    await check(page, 'sign up with empty fields');

    await page.getByLabel('Email', { exact: true }).fill('someone.else@example.com');
    await page.getByLabel('Handle', { exact: true }).fill(admin.handle);
    await page.getByLabel('Display name', { exact: true }).fill('Someone Else');
    await page.getByLabel('Password', { exact: true }).fill(admin.password);
    await page.getByRole('button', { name: 'Sign up' }).click();
    await page.getByText('That handle is taken').waitFor();
    const handle = page.getByLabel('Handle', { exact: true });
    expect(await handle.getAttribute('aria-invalid')).toBe('true');
    expect(await handle.evaluate((el) => el === document.activeElement)).toBe(true);
    await check(page, 'sign up with a taken handle');

    await openHydrated(page, '/reset-password?token=x');
    await page.getByLabel('New password', { exact: true }).fill(admin.password);
    await page.getByRole('button', { name: 'Set new password' }).click();
    await page.getByRole('main').getByRole('alert').waitFor();
    await check(page, 'reset password with a bad token');
    await page.close();

    const account = await newPage(signedIn);
    await openHydrated(account, '/account');
    await account.getByLabel('Current password', { exact: true }).fill('not the password');
    await account.getByLabel('New password', { exact: true }).fill('another long passphrase 42');
    await account.getByRole('button', { name: 'Change password' }).click();
    await account.getByText('Your current password is not correct.').waitFor();
    await check(account, 'change password with a wrong current password');
    await account.close();

    expect(problems).toEqual([]);
  }, 60_000);

  it('fits phone and desktop widths without sideways scrolling; buttons are visible and large enough', async () => {
    const pages = [
      { context: signedOut, path: '/signup' },
      { context: signedIn, path: '/account' },
    ];
    for (const { context, path: p } of pages) {
      const page = await newPage(context);
      for (const viewport of [
        { width: 375, height: 740 },
        { width: 1280, height: 800 },
      ]) {
        await page.setViewportSize(viewport);
        await page.goto(url(p));
        await page.waitForLoadState('networkidle');
        const where = `${p} at ${viewport.width}px`;
        const { scrollWidth, innerWidth } = await page.evaluate(() => ({ scrollWidth: document.documentElement.scrollWidth, innerWidth: window.innerWidth }));
        expect(scrollWidth, `${where} scrolls sideways`).toBeLessThanOrEqual(innerWidth);
        if (viewport.width !== 375) continue;
        const buttons = page.locator('main button');
        expect(await buttons.count(), where).toBeGreaterThan(0);
        for (const button of await buttons.all()) {
          await button.scrollIntoViewIfNeeded();
          const name = (await button.textContent())?.trim();
          expect(await button.isVisible(), `${where}: "${name}" is hidden`).toBe(true);
          const box = (await button.boundingBox())!;
          expect(box.height, `${where}: "${name}" is ${box.height}px tall`).toBeGreaterThanOrEqual(40);
          expect(box.x, `${where}: "${name}" starts off screen`).toBeGreaterThanOrEqual(0);
          expect(box.x + box.width, `${where}: "${name}" ends off screen`).toBeLessThanOrEqual(viewport.width);
        }
      }
      await page.close();
    }
  }, 60_000);

  // Last: it revokes a session of the admin, which the tests above must not see.
  it('logs in, revokes a session and logs out with the keyboard alone; errors are announced and focused', async () => {
    const context = await browser.newContext();
    const page = await newPage(context);
    await openHydrated(page, '/login');

    // Tab reaches Email, then Password, then the button, with nothing in between; every stop shows its focus.
    await tabTo(page, 'input', 'Email', { maxTabs: 10 });
    await page.keyboard.type(admin.email);
    await page.keyboard.press('Tab');
    expect(await focused(page)).toEqual({ tag: 'input', name: 'Password', focusRing: true });
    await page.keyboard.type('not the password');
    await page.keyboard.press('Tab');
    expect(await focused(page)).toEqual({ tag: 'button', name: 'Log in', focusRing: true });
    await page.keyboard.press('Enter');

    // A wrong password is announced, and focus and aria-invalid point at the fields it concerns.
    const alert = page.getByRole('main').getByRole('alert');
    await expect.poll(() => alert.textContent()).toContain('That email and password do not match an account.');
    await expect.poll(() => focused(page)).toEqual({ tag: 'input', name: 'Password', focusRing: true });
    const password = page.getByLabel('Password', { exact: true });
    const alertId = await alert.getAttribute('id');
    expect(alertId).toBeTruthy();
    for (const field of [password, page.getByLabel('Email', { exact: true })]) {
      expect(await field.getAttribute('aria-invalid')).toBe('true');
      expect((await field.getAttribute('aria-describedby'))?.split(' ')).toContain(alertId);
    }

    // Correct the password where focus already is and submit with Enter from the field.
    await page.keyboard.press('ControlOrMeta+A');
    await page.keyboard.type(admin.password);
    expect(await password.getAttribute('aria-invalid')).toBeNull();
    await page.keyboard.press('Enter');
    await page.waitForURL((u) => u.pathname === '/account');
    await page.waitForLoadState('networkidle');

    // The skip link is the first stop, is visible when focused and moves focus to the main landmark.
    await page.keyboard.press('Tab');
    expect(await focused(page)).toEqual({ tag: 'a', name: 'Skip to content', focusRing: true });
    const skip = (await page.getByRole('link', { name: 'Skip to content' }).boundingBox())!;
    expect(skip.y).toBeGreaterThanOrEqual(0);
    await page.keyboard.press('Enter');
    expect(await page.evaluate(() => document.activeElement?.tagName)).toBe('MAIN');

    // Revoke another device by keyboard; focus stays in the session list rather than falling to the top.
    const other = await browser.newContext();
    const otherPage = await newPage(other);
    await openHydrated(otherPage, '/login');
    await otherPage.getByLabel('Email', { exact: true }).fill(admin.email);
    await otherPage.getByLabel('Password', { exact: true }).fill(admin.password);
    await otherPage.getByRole('button', { name: 'Log in' }).click();
    await otherPage.waitForURL((u) => u.pathname === '/account');
    await page.reload();
    await page.waitForLoadState('networkidle');
    await page.locator('#main').focus();
    // Newest first after this device: the first Revoke button is the device that just logged in.
    await tabTo(page, 'button', 'Revoke');
    await page.keyboard.press('Enter');
    await expect.poll(() => page.getByRole('status').filter({ hasText: 'Session revoked.' }).count()).toBe(1);
    await expect.poll(() => focused(page)).toMatchObject({ tag: 'ul', name: 'Sessions' });
    await otherPage.reload();
    await otherPage.waitForURL((u) => u.pathname === '/login');
    await other.close();

    // Back up to "Log out" with Shift+Tab and activate it with Enter.
    await tabTo(page, 'button', 'Log out', { key: 'Shift+Tab' });
    await page.keyboard.press('Enter');
    await page.waitForURL((u) => u.pathname === '/login');
    await expect.poll(() => page.getByRole('status').filter({ hasText: 'You have been logged out.' }).count()).toBe(1);
    expect((await context.cookies()).some((c) => c.name === 'circles_session')).toBe(false);
    await context.close();
  }, 60_000);
});

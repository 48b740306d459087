/**
 * The web app is usable by keyboard and screen reader, and fits small screens, checked in a real browser against
 * the whole embedded platform:
 * - axe-core finds no serious or critical violation on any page, signed out and signed in, in light mode (all
 *   rules) and dark mode (contrast), and on forms showing errors;
 * - every page has a title, one h1, lang="en" and a skip link to its main landmark;
 * - logging in and out works with the keyboard alone, with a visible focus indicator at every step, and a wrong
 *   password is announced and points at the fields it concerns;
 * - at 375 px and 1280 px wide, /signup and /account do not scroll sideways and their buttons are big enough.
 * - the community pages (home, members, circles, every settings section) pass the same audit as the owner, as a
 *   member, as someone waiting for approval, as someone banned (home and invite pages) and signed out, with an
 *   avatar, a banner and a circle image in place, including with each dialog open and with forms showing errors
 *   (an image field refusing a file, the new-owner search); every dialog opens by keyboard, keeps Tab inside,
 *   closes with Escape and hands focus back;
 * - the community directory, its first page and a later one (more communities than fit on one).
 *
 * Needs Chromium (`apt-get install -y chromium`) and builds the web app first if it has no production build.
 * Without Chromium the test is skipped locally but FAILS under CI=true.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCircles } from '@circles/server/embedded';
import sharp from 'sharp';
import { axeViolations, browserTestsRun, ensureWebBuild, gqlInPage, launchChromium, openHydrated as openHydratedAt, waitHydrated } from '@circles/testing';

const admin = { email: 'grace@example.com', password: 'a long passphrase for circles 42', handle: 'grace', displayName: 'Grace Hopper' };

/** Every page, visited signed out and signed in (a mail message's own page is added once the outbox has one). */
const PAGES = [
  '/',
  '/communities',
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
interface Seeded {
  slug: string;
  communityId: string;
  openCircle: string;
  hiddenCircle: string;
  /** Signed in as a plain member (Mia). */
  member: BrowserContext;
  /** Signed in as someone whose request to join waits (Noor). */
  pending: BrowserContext;
  /** Signed in as someone banned from the community (Ravi). */
  banned: BrowserContext;
  inviteCode: string;
  /** `?after=` for the directory's second page. */
  directoryCursor: string;
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
  /** The seeded community, its circles and the contexts of its other people (see seedCommunity). */
  let seeded: Seeded;

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
    seeded = await seedCommunity(page);
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

  const openHydrated = (page: Page, p: string) => openHydratedAt(page, url(p));

  const gql = gqlInPage;

  /** Uploads a PNG as the page's signed-in person, the way the app's image field does; returns the upload id. */
  async function upload(page: Page, purpose: string, width: number, height: number, background: string): Promise<string> {
    const bytes = [...(await sharp({ create: { width, height, channels: 3, background } }).png().toBuffer())];
    return page.evaluate(
      async ({ purpose, bytes }) => {
        const res = await fetch(`/media/images?purpose=${purpose}`, { method: 'POST', headers: { 'content-type': 'image/png', 'x-circles-csrf': '1' }, body: new Uint8Array(bytes) });
        if (res.status !== 201) throw new Error(`upload: ${res.status} ${await res.text()}`);
        return ((await res.json()) as { id: string }).id;
      },
      { purpose, bytes },
    );
  }

  /** Someone else, signed up in a context of their own (signUp sets the session cookie). */
  async function person(handle: string, displayName: string): Promise<{ context: BrowserContext; page: Page; id: string }> {
    const context = await browser.newContext();
    const page = await newPage(context);
    await page.goto(url('/'));
    const { signUp } = await gql<{ signUp: { account: { user: { id: string } } } }>(page, 'mutation($input: SignUpInput!) { signUp(input: $input) { account { user { id } } } }', {
      input: { email: `${handle}@example.com`, handle, displayName, password: 'a long passphrase for circles 42' },
    });
    return { context, page, id: signUp.account.user.id };
  }

  /**
   * A community with something in every settings section: the admin owns it, with an avatar and a banner; Mia is
   * a member with a custom role, timed out, in the open circle (which has a picture); Noor's request to join
   * waits; Ravi is banned; moderators may not post in the open circle; one circle is hidden. Enough other listed
   * communities that the directory has a second page.
   */
  async function seedCommunity(owner: Page) {
    const slug = 'accessible-readers';
    const { createCommunity } = await gql<{ createCommunity: { id: string } }>(owner, 'mutation($input: CreateCommunityInput!) { createCommunity(input: $input) { id } }', {
      input: { name: 'Accessible Readers', slug, description: 'Books for everyone.', joinPolicy: 'APPROVAL', joinQuestions: ['What do you read?', 'How did you find us?'] },
    });
    const communityId: string = createCommunity.id;
    const { createRole } = await gql<{ createRole: { id: string } }>(owner, 'mutation($id: ID!) { createRole(communityId: $id, name: "Speakers", permissions: ["post", "speak"]) { id } }', { id: communityId });
    const circle = async (name: string, hidden: boolean, access: string) =>
      (await gql<{ createCircle: { id: string } }>(owner, 'mutation($id: ID!, $input: CreateCircleInput!) { createCircle(communityId: $id, input: $input) { id } }', { id: communityId, input: { name, description: `About ${name}.`, hidden, access } })).createCircle.id;
    const openCircle = await circle('Open Lounge', false, 'OPEN');
    const hiddenCircle = await circle('Back Room', true, 'INVITE');
    const { createInvite } = await gql<{ createInvite: { code: string } }>(owner, 'mutation($id: ID!) { createInvite(communityId: $id, maxUses: 5, expiresInSeconds: 86400) { code } }', { id: communityId });
    const mia = await person('mia', 'Mia Member');
    const noor = await person('noor', 'Noor Waiting');
    const ravi = await person('ravi', 'Ravi Banned');
    for (const who of [mia, ravi]) await gql(who.page, 'mutation($code: String!) { joinByInvite(code: $code) { id } }', { code: createInvite.code });
    await gql(noor.page, 'mutation($id: ID!) { requestToJoin(communityId: $id, answers: ["Poetry", "A friend"]) { id } }', { id: communityId });
    await gql(owner, 'mutation($c: ID!, $u: ID!, $r: ID!) { assignRole(communityId: $c, userId: $u, roleId: $r) }', { c: communityId, u: mia.id, r: createRole.id });
    await gql(owner, 'mutation($c: ID!, $u: ID!) { timeoutMember(communityId: $c, userId: $u, durationSeconds: 3600, reason: "Cool down") { role } }', { c: communityId, u: mia.id });
    await gql(owner, 'mutation($c: ID!, $u: ID!) { addCircleMember(circleId: $c, userId: $u) { role } }', { c: openCircle, u: mia.id });
    await gql(owner, 'mutation($c: ID!, $u: ID!) { banMember(communityId: $c, userId: $u, reason: "Spam", durationSeconds: 604800) { reason } }', { c: communityId, u: ravi.id });
    await gql(owner, 'mutation($s: ID!) { setSpaceOverride(spaceId: $s, subject: "moderator", allow: [], deny: ["post"]) { subject } }', { s: openCircle });
    for (const [kind, purpose, width, height] of [
      ['AVATAR', 'COMMUNITY_AVATAR', 600, 600],
      ['BANNER', 'COMMUNITY_BANNER', 1600, 400],
    ] as const) {
      const uploadId = await upload(owner, purpose, width, height, '#1e3a5f');
      await gql(owner, 'mutation($c: ID!, $k: CommunityImageKind!, $u: ID) { setCommunityImage(communityId: $c, kind: $k, uploadId: $u) { id } }', { c: communityId, k: kind, u: uploadId });
    }
    await gql(owner, 'mutation($c: ID!, $u: ID) { setCircleImage(circleId: $c, uploadId: $u) { id } }', { c: openCircle, u: await upload(owner, 'CIRCLE_IMAGE', 1200, 675, '#5f1e3a') });
    // The directory shows 24 a page: these fill the first one, so the seeded community opens the second.
    for (let i = 1; i <= 24; i++) await gql(owner, 'mutation($input: CreateCommunityInput!) { createCommunity(input: $input) { id } }', { input: { name: `Filler ${i}`, slug: `filler-${i}` } });
    const { communities } = await gql<{ communities: { id: string }[] }>(owner, 'query { communities(first: 24) { id } }');
    return { slug, communityId, openCircle, hiddenCircle, member: mia.context, pending: noor.context, banned: ravi.context, inviteCode: createInvite.code, directoryCursor: communities[23]!.id };
  }

  /** The community pages each kind of visitor gets, with the status each should answer. */
  function communityPages(as: 'owner' | 'member' | 'pending' | 'banned' | 'anonymous'): { path: string; status: number; at?: string }[] {
    const c = `/c/${seeded.slug}`;
    const settings = ['general', 'members', 'roles', 'permissions', `permissions?space=${seeded.openCircle}`, 'circles', 'invites', 'requests', 'requests?status=rejected', 'bans', 'audit', 'audit?action=member.ban'];
    switch (as) {
      case 'owner':
        return [c, `${c}/members`, `${c}/circles/${seeded.openCircle}`, `${c}/circles/${seeded.hiddenCircle}`, ...settings.map((s) => `${c}/settings/${s}`)].map((path) => ({ path, status: 200 }));
      case 'member':
        // A plain member may invite people, and nothing else in settings; the hidden circle does not exist for them.
        return [
          { path: c, status: 200 },
          { path: `${c}/circles/${seeded.openCircle}`, status: 200 },
          { path: `${c}/circles/${seeded.hiddenCircle}`, status: 404 },
          { path: `${c}/settings`, status: 200, at: `${c}/settings/invites` },
          { path: `${c}/settings/general`, status: 404 },
        ];
      case 'pending':
        return [
          { path: c, status: 200 },
          { path: `${c}/members`, status: 200 },
        ];
      case 'banned':
        // Told why and until when, on the home page and on an invite's page.
        return [
          { path: c, status: 200 },
          { path: `/join/${seeded.inviteCode}`, status: 200 },
        ];
      case 'anonymous':
        return [
          { path: c, status: 200 },
          { path: `${c}/members`, status: 200 },
          { path: `${c}/circles/${seeded.openCircle}`, status: 200 },
          { path: `${c}/circles/${seeded.hiddenCircle}`, status: 404 },
          { path: `${c}/settings/general`, status: 200, at: '/login' },
          { path: `/communities?after=${seeded.directoryCursor}`, status: 200 },
        ];
    }
  }

  /**
   * Visits pages in one state and lists what is wrong: axe violations with every rule in light mode and contrast
   * in dark mode (the same page, re-rendered by the media query), and missing structure.
   */
  async function auditPages(context: BrowserContext, pages: { path: string; status: number; at?: string }[]) {
    const page = await newPage(context);
    const problems: string[] = [];
    for (const { path: p, status, at } of pages) {
      await page.emulateMedia({ colorScheme: 'light' });
      // The server-rendered markup is what hydration keeps, so the audit need not wait for the network to settle.
      const response = await page.goto(url(p));
      const where = page.url() === url(p) ? p : `${p} (at ${new URL(page.url()).pathname})`;
      // A redirect reports the final page's status; say where it should have landed.
      expect(response?.status(), where).toBe(status);
      if (at) expect(new URL(page.url()).pathname, where).toBe(at);
      for (const v of await axeViolations(page)) problems.push(`${where}: ${v}`);
      for (const s of await structureProblems(page)) problems.push(`${where}: ${s}`);
      await page.emulateMedia({ colorScheme: 'dark' });
      for (const v of await axeViolations(page, { runOnly: ['color-contrast'] })) problems.push(`${where} (dark): ${v}`);
    }
    await page.close();
    return problems;
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
  }, 300_000);

  it('has no serious accessibility violations and a sound structure on any page, signed in', async () => {
    expect(await auditEveryPage(signedIn)).toEqual([]);
  }, 300_000);

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
  }, 300_000);

  it('has no serious accessibility violations and a sound structure on the community pages, for everyone who sees them', async () => {
    const problems = [
      ...(await auditPages(signedIn, communityPages('owner'))),
      ...(await auditPages(seeded.member, communityPages('member'))),
      ...(await auditPages(seeded.pending, communityPages('pending'))),
      ...(await auditPages(seeded.banned, communityPages('banned'))),
      ...(await auditPages(signedOut, communityPages('anonymous'))),
    ];
    expect(problems).toEqual([]);
    // The person waiting is told so on the home page, and managers find their way to settings from it.
    const waiting = await newPage(seeded.pending);
    await waiting.goto(url(`/c/${seeded.slug}`));
    await expect.poll(() => waiting.getByText('Your request is waiting for review.').isVisible()).toBe(true);
    await waiting.close();
    const banned = await newPage(seeded.banned);
    await banned.goto(url(`/c/${seeded.slug}`));
    expect(await banned.getByRole('main').getByRole('alert').textContent()).toContain('You are banned from this community');
    await banned.close();
    // Every picture the pages show is sized in the markup, so nothing moves when it loads.
    const home = await newPage(signedOut);
    for (const p of [`/c/${seeded.slug}`, '/communities?after=' + seeded.directoryCursor, `/c/${seeded.slug}/circles/${seeded.openCircle}`]) {
      await home.goto(url(p));
      const unsized = await home.locator('main img').evaluateAll((imgs) => imgs.filter((img) => !img.getAttribute('width') || !img.getAttribute('height')).map((img) => img.outerHTML));
      expect(unsized, p).toEqual([]);
      expect(await home.locator('main img').count(), p).toBeGreaterThan(0);
    }
    await home.close();
  }, 300_000);

  it('opens every community dialog by keyboard, keeps Tab inside it, closes it with Escape and returns focus', async () => {
    const c = `/c/${seeded.slug}`;
    const dialogs = [
      { path: `${c}/settings/general`, button: 'Transfer ownership', dialog: 'Transfer ownership of Accessible Readers' },
      { path: `${c}/settings/general`, button: 'Archive community', dialog: 'Archive Accessible Readers' },
      { path: `${c}/settings/general`, button: 'Delete community', dialog: 'Delete Accessible Readers' },
      { path: `${c}/settings/members`, button: 'Change role: Mia Member (@mia)', dialog: 'Change the role of Mia Member (@mia)' },
      { path: `${c}/settings/members`, button: 'Custom roles: Mia Member (@mia)', dialog: 'Custom roles of Mia Member (@mia)' },
      { path: `${c}/settings/members`, button: 'Time out: Mia Member (@mia)', dialog: 'Time out Mia Member (@mia)' },
      { path: `${c}/settings/members`, button: 'Remove: Mia Member (@mia)', dialog: 'Remove Mia Member (@mia)?' },
      { path: `${c}/settings/members`, button: 'Ban: Mia Member (@mia)', dialog: 'Ban Mia Member (@mia)?' },
      { path: `${c}/settings/roles`, button: 'Edit role Speakers', dialog: 'Edit role “Speakers”' },
      { path: `${c}/settings/roles`, button: 'Delete role Speakers', dialog: 'Delete role “Speakers”?' },
      { path: `${c}/settings/circles`, button: 'Edit circle Open Lounge', dialog: 'Edit circle “Open Lounge”' },
      { path: `${c}/settings/circles`, button: 'Delete circle Open Lounge', dialog: 'Delete circle “Open Lounge”?' },
      { path: `${c}/settings/bans`, button: 'Unban: Ravi Banned (@ravi)', dialog: 'Unban Ravi Banned (@ravi)?' },
      { path: `${c}/circles/${seeded.openCircle}`, button: 'Remove Mia Member (@mia) from the circle', dialog: 'Remove Mia Member (@mia) from Open Lounge?' },
    ];
    const page = await newPage(signedIn);
    const problems: string[] = [];
    const inDialog = () => page.evaluate(() => Boolean(document.activeElement?.closest('dialog[open]')));
    for (const d of dialogs) {
      if (page.url() !== url(d.path)) await openHydrated(page, d.path);
      const opener = page.getByRole('button', { name: d.button, exact: true });
      await opener.focus();
      await page.keyboard.press('Enter');
      const dialog = page.getByRole('dialog', { name: d.dialog, exact: true });
      await dialog.waitFor();
      expect(await inDialog(), `${d.dialog}: focus moves into the dialog`).toBe(true);
      for (const v of await axeViolations(page)) problems.push(`${d.dialog} (open): ${v}`);
      // Around the dialog and back, both ways: focus never leaves it and always shows.
      const stops = await dialog.locator('a[href], button:not([disabled]), input:not([disabled]), select:not([disabled]), textarea:not([disabled])').count();
      for (const key of ['Tab', 'Shift+Tab']) {
        for (let i = 0; i <= stops; i++) {
          await page.keyboard.press(key);
          const now = await focused(page);
          expect(await inDialog(), `${d.dialog}: ${key} ${i + 1} left the dialog for ${now.tag} "${now.name}"`).toBe(true);
          expect(now.focusRing, `${d.dialog}: no visible focus on ${now.tag} "${now.name}"`).toBe(true);
        }
      }
      await page.keyboard.press('Escape');
      await dialog.waitFor({ state: 'hidden' });
      expect(await opener.evaluate((el) => el === document.activeElement), `${d.dialog}: focus returns to "${d.button}"`).toBe(true);
    }
    await page.close();
    expect(problems).toEqual([]);
  }, 300_000);

  it('has no serious accessibility violations on community forms showing errors; the error sits on its field', async () => {
    const c = `/c/${seeded.slug}`;
    const problems: string[] = [];
    const page = await newPage(signedIn);
    const expectFieldError = async (label: string, message: string, what: string) => {
      const field = page.getByLabel(label, { exact: true });
      await page.getByText(message).first().waitFor();
      expect(await field.getAttribute('aria-invalid'), what).toBe('true');
      expect(await field.evaluate((el) => el === document.activeElement), `${what}: the field has focus`).toBe(true);
      for (const v of await axeViolations(page)) problems.push(`${what}: ${v}`);
    };

    // A role name that exists (the server says so about the name field).
    await openHydrated(page, `${c}/settings/roles`);
    const createRole = page.getByRole('form', { name: 'Create a role' });
    await createRole.getByLabel('Role name').fill('Speakers');
    await createRole.getByRole('button', { name: 'Create role' }).click();
    await expectFieldError('Role name', 'That name is taken. Choose another.', 'create a role with a taken name');

    // A language the server does not accept, and an empty name (checked before sending).
    await openHydrated(page, `${c}/settings/general`);
    await page.getByLabel('Language').fill('english');
    await page.getByRole('button', { name: 'Save changes' }).click();
    await expectFieldError('Language', 'Use a language code such as en or pt-BR.', 'general settings with a bad language');
    await page.getByLabel('Name', { exact: true }).fill('');
    await page.getByRole('button', { name: 'Save changes' }).click();
    await expectFieldError('Name', 'This field is required.', 'general settings without a name');

    // Deleting a circle with its name mistyped, inside the dialog.
    await openHydrated(page, `${c}/settings/circles`);
    await page.getByRole('button', { name: 'Delete circle Open Lounge' }).click();
    const dialog = page.getByRole('dialog', { name: 'Delete circle “Open Lounge”?' });
    await dialog.getByLabel('Type the circle’s name “Open Lounge” to confirm').fill('Open lounge');
    await dialog.getByRole('button', { name: 'Delete circle' }).click();
    await expectFieldError('Type the circle’s name “Open Lounge” to confirm', "Type the circle's name to confirm.", 'delete a circle with the name mistyped');
    await expect.poll(() => dialog.isVisible()).toBe(true);

    // An image field refusing a file the server cannot read; the message is on the field.
    await openHydrated(page, `${c}/settings/general`);
    const avatarField = page.getByRole('group', { name: 'Avatar' });
    await avatarField.locator('input[type=file]').setInputFiles({ name: 'notes.png', mimeType: 'image/png', buffer: Buffer.from('not a picture') });
    await expect.poll(() => avatarField.getByRole('alert').textContent()).toBe('Upload a PNG, JPEG, GIF or WebP image.');
    for (const v of await axeViolations(page)) problems.push(`avatar field refusing a text file: ${v}`);

    // Transferring ownership: the new owner is found by a search inside the dialog, then chosen; submitting
    // without choosing says so.
    await page.getByRole('button', { name: 'Transfer ownership' }).click();
    const transfer = page.getByRole('dialog', { name: 'Transfer ownership of Accessible Readers' });
    await transfer.getByLabel('Find the new owner').fill('mia');
    await transfer.getByLabel('Find the new owner').press('Enter');
    await expect.poll(() => transfer.getByRole('status').textContent()).toBe('1 member found. Choose them below.');
    await expect.poll(() => transfer.getByRole('radio', { name: 'Mia Member (@mia)' }).isVisible()).toBe(true);
    expect(await transfer.isVisible(), 'Enter in the search field searches, it does not submit').toBe(true);
    await transfer.getByLabel('Type the address “accessible-readers” to confirm').fill('accessible-readers');
    await transfer.getByRole('button', { name: 'Transfer ownership' }).click();
    await transfer.getByText('Search for the new owner and choose them.').waitFor();
    for (const v of await axeViolations(page)) problems.push(`transfer ownership without choosing: ${v}`);
    await page.keyboard.press('Escape');
    await transfer.waitFor({ state: 'hidden' });

    // Archiving with the address mistyped.
    await openHydrated(page, `${c}/settings/general`);
    await page.getByRole('button', { name: 'Archive community' }).click();
    const archive = page.getByRole('dialog', { name: 'Archive Accessible Readers' });
    await archive.getByLabel('Type the address “accessible-readers” to confirm').fill('accessible');
    await archive.getByRole('button', { name: 'Archive community' }).click();
    await expectFieldError('Type the address “accessible-readers” to confirm', "Type the community's address to confirm.", 'archive with the address mistyped');
    await page.close();

    expect(problems).toEqual([]);
  }, 300_000);

  it('fits phone and desktop widths without sideways scrolling; buttons are visible and large enough', async () => {
    const c = `/c/${seeded.slug}`;
    const pages = [
      { context: signedOut, path: '/signup' },
      { context: signedIn, path: '/account' },
      // A plain member's home page (the owner's has links, not buttons).
      { context: seeded.member, path: c },
      ...[`${c}/circles/${seeded.openCircle}`, ...['general', 'members', 'roles', 'permissions', 'circles', 'invites', 'requests', 'bans', 'audit'].map((s) => `${c}/settings/${s}`)].map((path) => ({
        context: signedIn,
        path,
      })),
    ];
    for (const { context, path: p } of pages) {
      const page = await newPage(context);
      for (const viewport of [
        { width: 375, height: 740 },
        { width: 1280, height: 800 },
      ]) {
        await page.setViewportSize(viewport);
        await page.goto(url(p));
        await waitHydrated(page);
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
  }, 300_000);

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
    await waitHydrated(page);

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
    await waitHydrated(page);
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
  }, 300_000);
});

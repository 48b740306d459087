/**
 * Community pictures and what a visitor is told, in a real browser against the whole embedded platform:
 * the owner uploads an avatar and a banner through Settings → General (PNG files made here with sharp, one set on
 * the field's file input, one dropped onto the field; a slow one shows its progress and is cancelled) -> the home page shows them, link previews use the banner, the directory and the header's
 * switcher show the avatar's small size -> replacing the avatar deletes the old file, removing the banner takes it
 * off the page -> a text file named .png is refused by the server and an SVG by the field itself, each message on
 * the field -> a circle host sets the circle's picture on its page -> a banned person sees why and until when on the
 * home page and the invite page -> the directory loads more communities in place (focus on the first new one) and,
 * without JavaScript, by its link; the sitemap lists every one.
 *
 * Needs Chromium (`apt-get install -y chromium`) and builds the web app first if it has no production build.
 * Without Chromium the test is skipped locally but FAILS under CI=true.
 */
import type { Page } from 'playwright-core';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BrowserPlatform, browserTestsRun, gqlInPage, openHydrated as openHydratedAt, startBrowserPlatform } from '@circles/testing';

const community = { name: 'Aperture Club', slug: 'aperture-club' };
/** The directory shows this many at a time (apps/web/src/components/DirectoryList.tsx). */
const DIRECTORY_PAGE = 24;

/** A solid-colour PNG of the given size. */
const png = (width: number, height: number, background: string) => sharp({ create: { width, height, channels: 3, background } }).png().toBuffer();

// Locally a machine without Chromium skips (browserTestsRun); in CI a missing browser is a failure, never a silent skip.
describe.runIf(browserTestsRun)('community images, ban notices and the directory in the browser', () => {
  let platform: BrowserPlatform;
  let url: (p: string) => string;

  beforeAll(async () => {
    platform = await startBrowserPlatform('community-images-e2e');
    url = platform.url;
  }, 240_000);

  afterAll(async () => {
    await platform?.stop();
  });

  const openHydrated = (page: Page, p: string) => openHydratedAt(page, url(p));

  const gql = gqlInPage;

  /** Someone signed up in a device of their own (signUp sets the session cookie). */
  async function person(handle: string, displayName: string) {
    const device = await platform.newDevice();
    await device.page.goto(url('/'));
    const { signUp } = await gql<{ signUp: { account: { user: { id: string } } } }>(device.page, 'mutation($input: SignUpInput!) { signUp(input: $input) { account { user { id } } } }', {
      input: { email: `${handle}@example.com`, handle, displayName, password: 'a long passphrase for circles 42' },
    });
    return { ...device, id: signUp.account.user.id };
  }

  /** Whether an <img> has loaded, and how wide its file is (0 while loading or when it failed). */
  const loadedWidth = (page: Page, selector: string) => page.locator(selector).first().evaluate((img: HTMLImageElement) => (img.complete ? img.naturalWidth : 0));

  it('uploads, shows, replaces and removes images; refuses non-images on the field; tells a banned person why', async () => {
    const owner = await person('imogen', 'Imogen Cunningham');
    const { createCommunity } = await gql<{ createCommunity: { id: string } }>(owner.page, 'mutation($input: CreateCommunityInput!) { createCommunity(input: $input) { id } }', {
      input: { name: community.name, slug: community.slug, description: 'Pictures, mostly.', joinPolicy: 'OPEN' },
    });
    const home = `/c/${community.slug}`;

    // Settings → General: an avatar and a banner, each saved as soon as it is uploaded.
    await openHydrated(owner.page, `${home}/settings/general`);
    const avatarField = owner.page.getByRole('group', { name: 'Avatar' });
    const bannerField = owner.page.getByRole('group', { name: 'Banner' });
    await avatarField.locator('input[type=file]').setInputFiles({ name: 'avatar.png', mimeType: 'image/png', buffer: await png(800, 600, '#c0392b') });
    await expect.poll(() => avatarField.getByRole('status').textContent()).toBe('Avatar saved.');
    const avatar = (await avatarField.getByRole('img', { name: `Current avatar of ${community.name}` }).getAttribute('src'))!;
    expect(avatar).toMatch(/^\/media\/images\/[0-9a-f-]{36}\/main\.webp$/);
    // The banner is dropped onto its field rather than chosen.
    const dropped = await owner.page.evaluateHandle((bytes) => {
      const transfer = new DataTransfer();
      transfer.items.add(new File([new Uint8Array(bytes)], 'banner.png', { type: 'image/png' }));
      return transfer;
    }, [...(await png(2000, 500, '#2c3e50'))]);
    for (const type of ['dragenter', 'dragover', 'drop']) await bannerField.dispatchEvent(type, { dataTransfer: dropped });
    await expect.poll(() => bannerField.getByRole('status').textContent()).toBe('Banner saved.');
    const banner = (await bannerField.getByRole('img', { name: `Current banner of ${community.name}` }).getAttribute('src'))!;
    expect(banner).toMatch(/^\/media\/images\/[0-9a-f-]{36}\/main\.webp$/);
    await expect.poll(() => bannerField.getByRole('button', { name: 'Replace image: Banner' }).isVisible()).toBe(true);

    // On a slow connection the transfer shows its progress (announced by quarters) and can be cancelled, leaving
    // the avatar as it was.
    const cdp = await owner.context.newCDPSession(owner.page);
    await cdp.send('Network.enable');
    await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: 256 * 1024 });
    const noisy = await sharp({ create: { width: 600, height: 600, channels: 3, background: '#808080', noise: { type: 'gaussian', mean: 128, sigma: 60 } } }).png().toBuffer();
    await avatarField.locator('input[type=file]').setInputFiles({ name: 'noise.png', mimeType: 'image/png', buffer: noisy });
    const progress = avatarField.getByRole('progressbar', { name: 'Avatar upload progress' });
    await expect.poll(() => progress.evaluate((el: HTMLProgressElement) => el.value)).toBeGreaterThan(0);
    await expect.poll(() => avatarField.getByRole('status').textContent()).toMatch(/^Avatar: (25|50|75)% uploaded…$/);
    await avatarField.getByRole('button', { name: 'Cancel upload: Avatar' }).click();
    await expect.poll(() => avatarField.getByRole('status').textContent()).toBe('Avatar: upload cancelled.');
    expect(await progress.count()).toBe(0);
    expect(await avatarField.getByRole('img').getAttribute('src')).toBe(avatar);
    await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: -1 });
    await cdp.detach();

    // The home page shows both, sized before they load; link previews get the banner as an absolute URL.
    await owner.page.goto(url(home));
    expect(await owner.page.getByTestId('community-banner').getAttribute('src')).toBe(banner);
    await expect.poll(() => loadedWidth(owner.page, '[data-testid=community-banner]')).toBe(1600);
    const homeAvatar = owner.page.getByTestId('community-avatar').locator('img');
    expect(await homeAvatar.getAttribute('src')).toBe(avatar.replace('/main.webp', '/thumb.webp'));
    expect(await homeAvatar.getAttribute('alt')).toBe('');
    expect(await homeAvatar.getAttribute('width')).toBe('72');
    await expect.poll(() => loadedWidth(owner.page, '[data-testid=community-avatar] img')).toBe(96);
    const html = await (await fetch(url(home))).text();
    expect(html).toContain(`<meta property="og:image" content="${url(banner)}"`);
    expect(html).toContain('<meta property="og:image:width" content="1600"');

    // The directory and the header's switcher show the avatar's small size.
    const anonymous = await platform.newDevice();
    await anonymous.page.goto(url('/communities'));
    const entry = anonymous.page.getByTestId('directory-entry').filter({ hasText: community.name });
    expect(await entry.locator('img').getAttribute('src')).toBe(avatar.replace('/main.webp', '/thumb.webp'));
    await owner.page.getByText('My communities').click();
    expect(await owner.page.getByRole('navigation').getByRole('link', { name: community.name }).locator('img').getAttribute('src')).toBe(avatar.replace('/main.webp', '/thumb.webp'));

    // Replacing the avatar gives it a new address and deletes the old file; removing the banner takes it away.
    await openHydrated(owner.page, `${home}/settings/general`);
    await avatarField.locator('input[type=file]').setInputFiles({ name: 'avatar-2.png', mimeType: 'image/png', buffer: await png(512, 512, '#27ae60') });
    await expect.poll(() => avatarField.getByRole('status').textContent()).toBe('Avatar saved.');
    const newAvatar = (await avatarField.getByRole('img').getAttribute('src'))!;
    expect(newAvatar).not.toBe(avatar);
    expect((await fetch(url(avatar))).status).toBe(404);
    expect((await fetch(url(newAvatar))).status).toBe(200);
    await bannerField.getByRole('button', { name: 'Remove: Banner' }).click();
    await expect.poll(() => bannerField.getByRole('status').textContent()).toBe('Banner removed.');
    expect(await bannerField.getByRole('img').count()).toBe(0);
    // The Remove button went with the banner: focus is on the button that adds one.
    expect(await owner.page.evaluate(() => document.activeElement?.getAttribute('aria-label'))).toBe('Choose image: Banner');
    await owner.page.goto(url(home));
    expect(await owner.page.getByTestId('community-banner').count()).toBe(0);
    expect(await owner.page.getByTestId('community-avatar').locator('img').getAttribute('src')).toBe(newAvatar.replace('/main.webp', '/thumb.webp'));
    expect(await (await fetch(url(home))).text()).toContain(`<meta property="og:image" content="${url(newAvatar)}"`);

    // A text file named .png reaches the server, which reads the bytes and refuses it; the message sits on the field
    // and describes its button. An SVG is stopped by the field before anything is sent.
    await openHydrated(owner.page, `${home}/settings/general`);
    await avatarField.locator('input[type=file]').setInputFiles({ name: 'notes.png', mimeType: 'image/png', buffer: Buffer.from('Just some notes, not a picture.\n') });
    const fieldError = avatarField.getByRole('alert');
    await expect.poll(() => fieldError.textContent()).toBe('Upload a PNG, JPEG, GIF or WebP image.');
    const choose = avatarField.getByRole('button', { name: 'Replace image: Avatar' });
    expect((await choose.getAttribute('aria-describedby'))?.split(' ')).toContain(await fieldError.getAttribute('id'));
    expect(await avatarField.getByRole('img').getAttribute('src')).toBe(newAvatar);
    await avatarField.locator('input[type=file]').setInputFiles({ name: 'logo.svg', mimeType: 'image/svg+xml', buffer: Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>') });
    await expect.poll(() => fieldError.textContent()).toBe('That file type is not accepted. Choose a PNG, JPEG, GIF or WebP image.');

    // A circle's picture, set on the circle's own page by its host (its creator), shows there and in the list.
    const { createCircle } = await gql<{ createCircle: { id: string } }>(owner.page, 'mutation($id: ID!) { createCircle(communityId: $id, input: { name: "Darkroom", access: OPEN }) { id } }', { id: createCommunity.id });
    await openHydrated(owner.page, `${home}/circles/${createCircle.id}`);
    const circleField = owner.page.getByRole('group', { name: 'Circle image' });
    await circleField.locator('input[type=file]').setInputFiles({ name: 'circle.png', mimeType: 'image/png', buffer: await png(1600, 900, '#8e44ad') });
    await expect.poll(() => circleField.getByRole('status').textContent()).toBe('Circle image saved.');
    await expect.poll(() => owner.page.getByTestId('circle-image').count()).toBe(1);
    await owner.page.goto(url(home));
    const card = owner.page.getByTestId('circle-card').filter({ hasText: 'Darkroom' });
    expect(await card.locator('img').getAttribute('src')).toMatch(/^\/media\/images\/[0-9a-f-]{36}\/thumb\.webp$/);
    await expect.poll(() => loadedWidth(owner.page, '[data-testid=circle-card] img')).toBe(320);

    // A banned person is told so, with the reason and the end, instead of being offered to join; on the invite
    // page too.
    const banned = await person('weegee', 'Arthur Fellig');
    await gql(banned.page, 'mutation($id: ID!) { joinCommunity(id: $id) { id } }', { id: createCommunity.id });
    await gql(owner.page, 'mutation($c: ID!, $u: ID!) { banMember(communityId: $c, userId: $u, reason: "Flash photography in the darkroom", durationSeconds: 86400) { expiresAt } }', { c: createCommunity.id, u: banned.id });
    const { createInvite } = await gql<{ createInvite: { code: string } }>(owner.page, 'mutation($id: ID!) { createInvite(communityId: $id) { code } }', { id: createCommunity.id });
    for (const p of [home, `/join/${createInvite.code}`]) {
      await openHydrated(banned.page, p);
      const notice = banned.page.getByRole('main').getByRole('alert');
      await expect.poll(() => notice.textContent(), { message: p }).toContain('You are banned from this community');
      const text = (await notice.textContent())!;
      expect(text, p).toContain('Reason: Flash photography in the darkroom');
      expect(text, p).toMatch(/The ban ends .+\./);
      expect(await banned.page.getByRole('button', { name: /^Join/ }).count(), p).toBe(0);
    }

    await banned.context.close();
    await anonymous.context.close();
    await owner.context.close();
  }, 300_000);

  it('loads more of the directory in place or, without JavaScript, by its link; the sitemap lists every community', async () => {
    const maker = await person('berenice', 'Berenice Abbott');
    const slugs: string[] = [];
    for (let i = 1; i <= DIRECTORY_PAGE + 2; i++) {
      const slug = `street-${String(i).padStart(2, '0')}`;
      slugs.push(slug);
      await gql(maker.page, 'mutation($input: CreateCommunityInput!) { createCommunity(input: $input) { id } }', { input: { name: `Street ${i}`, slug } });
    }
    // Newest first: the page after the first ends with the two oldest of these, then the first test's community.
    const total = slugs.length + 1;

    await openHydrated(maker.page, '/communities');
    const entries = maker.page.getByRole('list', { name: 'Communities' }).getByTestId('directory-entry');
    expect(await entries.count()).toBe(DIRECTORY_PAGE);
    await maker.page.getByRole('link', { name: 'Load more communities' }).click();
    await expect.poll(() => entries.count()).toBe(total);
    // Reading continues at the first new community, and the count is announced.
    await expect.poll(() => maker.page.evaluate(() => document.activeElement?.textContent)).toBe('Street 2');
    expect(await maker.page.getByRole('status').filter({ hasText: '3 more communities loaded.' }).count()).toBe(1);
    expect(await maker.page.getByRole('link', { name: 'Load more communities' }).count()).toBe(0);
    expect(new URL(maker.page.url()).search).toBe('');

    // Without JavaScript the same link opens the next page, landing on its list.
    const noScript = await platform.browser.newContext({ javaScriptEnabled: false });
    const page = await noScript.newPage();
    await page.goto(url('/communities'));
    await page.getByRole('link', { name: 'Load more communities' }).click();
    await page.waitForURL((u) => u.searchParams.has('after'));
    expect(new URL(page.url()).hash).toBe('#directory-list');
    const later = page.getByRole('list', { name: 'Communities' }).getByTestId('directory-entry');
    expect(await later.count()).toBe(total - DIRECTORY_PAGE);
    expect(await later.first().textContent()).toContain('Street 2');
    await expect.poll(() => page.getByRole('link', { name: 'Back to the newest communities' }).isVisible()).toBe(true);
    expect(await page.locator('meta[name=robots]').getAttribute('content')).toBe('noindex, follow');
    await noScript.close();

    const sitemap = await (await fetch(url('/sitemap.xml'))).text();
    for (const slug of [...slugs, community.slug]) expect(sitemap).toContain(`<loc>${url(`/c/${slug}`)}</loc>`);
    await maker.context.close();
  }, 300_000);
});

/**
 * Posts in a real browser against the whole embedded platform:
 * - the flow: a member's feed marks what is new since their last visit; the author writes a post with a
 *   Markdown preview, an image dropped onto the composer (a text file attached and removed again) and a poll;
 *   another member comments, reacts and votes, the author replies (threaded); the author edits and the edit
 *   history shows; a moderator pins it, then removes it with a reason; the author sees the reason, others a
 *   tombstone; the file library lists the image and filters by type and by who shared it;
 * - the feed's sort links and "Load more" work in place and without JavaScript; a gated circle's posts are teasers
 *   with "Join to read" for non-members;
 * - XSS: the renderer's filter-evasion corpus (services/posts/test/xss-corpus.ts) posted as a post and as comments
 *   runs nothing in Chromium (alert/confirm/prompt and a `__xss` trap, dialogs watched, handlers provoked) and leaves
 *   no script, handler, `javascript:` link or active element in the rendered bodies; the composer's own preview of
 *   the same text is just as inert;
 * - SEO: a public post is server-rendered for a cookie-less fetch with DiscussionForumPosting JSON-LD; a gated
 *   post gives the teaser and `isAccessibleForFree: false`, never the body; Googlebot gets the same page;
 * - axe finds no serious or critical violation on the post page, the feeds and the file library.
 *
 * Needs Chromium (`apt-get install -y chromium`) and builds the web app first if it has no production build.
 * Without Chromium the test is skipped locally but FAILS under CI=true.
 */
import type { BrowserContext, Page } from 'playwright-core';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { axeViolations, type BrowserPlatform, browserTestsRun, gqlInPage as gql, openHydrated as openHydratedAt, waitHydrated, startBrowserPlatform } from '@circles/testing';
import { xssCorpus } from '../../services/posts/test/xss-corpus.ts';

/** Posts per feed page (apps/web/src/lib/posts.ts). */
const FEED_PAGE = 20;

const png = (width: number, height: number, background: string) => sharp({ create: { width, height, channels: 3, background } }).png().toBuffer();

interface Person {
  context: BrowserContext;
  page: Page;
  id: string;
}

describe.runIf(browserTestsRun)('posts in the browser', () => {
  let platform: BrowserPlatform;
  let url: (p: string) => string;
  let owner: Person;
  let author: Person;
  let member: Person;
  let outsider: Person;
  let communityId: string;
  let centerId: string;
  let circleId: string;
  const slug = 'garden-club';
  const home = `/c/${slug}`;

  const openHydrated = (page: Page, p: string) => openHydratedAt(page, url(p));

  /** Someone signed up in a browser context of their own (signUp sets the session cookie). */
  async function person(handle: string, displayName: string): Promise<Person> {
    const device = await platform.newDevice();
    await device.page.goto(url('/'));
    const { signUp } = await gql<{ signUp: { account: { user: { id: string } } } }>(device.page, 'mutation($input: SignUpInput!) { signUp(input: $input) { account { user { id } } } }', {
      input: { email: `${handle}@example.com`, handle, displayName, password: 'a long passphrase for circles 42' },
    });
    return { ...device, id: signUp.account.user.id };
  }

  const createPost = async (who: Person, input: Record<string, unknown>) =>
    (await gql<{ createPost: { id: string } }>(who.page, 'mutation($input: CreatePostInput!) { createPost(input: $input) { id } }', { input: { communityId, spaceId: centerId, ...input } })).createPost.id;

  beforeAll(async () => {
    platform = await startBrowserPlatform('posts-e2e');
    url = platform.url;
    owner = await person('olive', 'Olive Owner');
    const { createCommunity } = await gql<{ createCommunity: { id: string; publicCenter: { id: string } } }>(
      owner.page,
      'mutation($input: CreateCommunityInput!) { createCommunity(input: $input) { id publicCenter { id } } }',
      { input: { name: 'Garden Club', slug, description: 'Vegetables, mostly.', joinPolicy: 'OPEN' } },
    );
    communityId = createCommunity.id;
    centerId = createCommunity.publicCenter.id;
    circleId = (await gql<{ createCircle: { id: string } }>(owner.page, 'mutation($id: ID!) { createCircle(communityId: $id, input: { name: "Seed Vault", access: INVITE }) { id } }', { id: communityId })).createCircle.id;
    author = await person('ada', 'Ada Gardener');
    member = await person('ben', 'Ben Okri');
    outsider = await person('cleo', 'Cleo Outsider');
    for (const who of [author, member, outsider]) await gql(who.page, 'mutation($id: ID!) { joinCommunity(id: $id) { id } }', { id: communityId });
  }, 240_000);

  afterAll(async () => {
    await platform?.stop();
  });

  it('writes a post with an image and a poll; comments, reactions and votes; edit history; pin; removal with a reason', async () => {
    // Ben has seen the feed before Ada posts, so her post is new to him.
    await openHydrated(member.page, home);
    await expect.poll(() => member.page.getByRole('heading', { name: 'Posts' }).isVisible()).toBe(true);

    // Ada writes: title, Markdown body (previewed), an image dropped onto the composer, a text file chosen and removed, a poll.
    await openHydrated(author.page, home);
    const composer = author.page.getByRole('form', { name: 'New post in Public Center' });
    await composer.getByLabel('Title').fill('First harvest');
    const body = composer.getByRole('textbox', { name: /^Post/ });
    await body.fill('Our **first** tomatoes, thanks @ben!\n\n- red\n- yellow');
    await composer.getByRole('button', { name: 'Preview' }).click();
    const preview = composer.getByTestId('markdown-preview');
    expect(await preview.innerHTML()).toContain('<strong>first</strong>');
    expect(await preview.locator('a.mention').getAttribute('href')).toBe('/u/ben');
    expect(await composer.getByRole('button', { name: 'Preview' }).getAttribute('aria-pressed')).toBe('true');
    await composer.getByRole('button', { name: 'Write' }).click();
    await expect.poll(() => body.isVisible()).toBe(true);

    const attachments = composer.getByRole('group', { name: /^Attachments/ });
    const dropped = await author.page.evaluateHandle((bytes) => {
      const transfer = new DataTransfer();
      transfer.items.add(new File([new Uint8Array(bytes)], 'tomatoes.png', { type: 'image/png' }));
      return transfer;
    }, [...(await png(900, 600, '#c0392b'))]);
    for (const type of ['dragenter', 'dragover', 'drop']) await attachments.dispatchEvent(type, { dataTransfer: dropped });
    const image = attachments.getByTestId('attachment-item').filter({ hasText: 'tomatoes.png' });
    await expect.poll(() => image.getAttribute('data-status')).toBe('done');
    expect(await image.locator('img').getAttribute('src')).toMatch(/^\/media\/files\/[0-9a-f-]{36}\/thumb\?/);
    await expect.poll(() => attachments.getByRole('status').textContent()).toBe('tomatoes.png uploaded.');
    await attachments.locator('input[type=file]').setInputFiles({ name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from('Water daily.\n') });
    await expect.poll(() => attachments.getByTestId('attachment-item').filter({ hasText: 'notes.txt' }).getAttribute('data-status')).toBe('done');
    await attachments.getByRole('button', { name: 'Remove notes.txt' }).click();
    expect(await attachments.getByTestId('attachment-item').count()).toBe(1);
    await expect.poll(() => attachments.getByRole('status').textContent()).toBe('notes.txt removed.');

    await composer.getByRole('button', { name: 'Add a poll' }).click();
    const poll = composer.getByRole('group', { name: 'Poll' });
    await poll.getByLabel('Question').fill('Which next?');
    await poll.getByLabel('Option 1').fill('Beans');
    await poll.getByLabel('Option 2').fill('Squash');
    await poll.getByRole('button', { name: 'Add an option' }).click();
    // The new option's field has focus; an empty option is refused before anything is sent, then removed.
    expect(await author.page.evaluate(() => (document.activeElement as HTMLInputElement | null)?.name)).toBe('poll.options.2');
    await poll.getByRole('button', { name: 'Remove option 3' }).click();
    await composer.getByRole('button', { name: 'Post', exact: true }).click();
    await author.page.waitForURL(/\/c\/garden-club\/posts\/[0-9a-f-]{36}$/);
    const postPath = new URL(author.page.url()).pathname;
    const postId = postPath.split('/').pop()!;

    expect(await author.page.getByRole('heading', { level: 1 }).textContent()).toBe('First harvest');
    expect(await author.page.getByTestId('post-body').innerHTML()).toContain('<strong>first</strong>');
    const shown = author.page.getByRole('img', { name: 'Image: tomatoes.png' });
    await expect.poll(() => shown.evaluate((img: HTMLImageElement) => (img.complete ? img.naturalWidth : 0))).toBe(480);
    expect(await author.page.getByTestId('poll').getByTestId('poll-result').count()).toBe(2);

    // Ben sees it as new in the feed, then comments, reacts and votes.
    await openHydrated(member.page, home);
    const card = member.page.getByTestId('post-card').filter({ hasText: 'First harvest' });
    expect(await card.getByText('New', { exact: true }).count()).toBe(1);
    expect(await member.page.getByTestId('feed-new-marker').textContent()).toMatch(/^1 new since your last visit/);
    expect(await card.textContent()).toContain('1 file');
    await card.getByRole('link', { name: 'First harvest' }).click();
    await member.page.waitForURL((u) => u.pathname === postPath);
    await waitHydrated(member.page);
    const commentForm = member.page.getByRole('form', { name: 'Add a comment' });
    await commentForm.getByRole('textbox', { name: /^Add a comment/ }).fill('Looks _delicious_!');
    await commentForm.getByRole('button', { name: 'Comment' }).click();
    const comments = member.page.getByTestId('comment');
    await expect.poll(() => comments.count()).toBe(1);
    expect(await comments.first().innerHTML()).toContain('<em>delicious</em>');
    await expect.poll(() => member.page.evaluate(() => document.activeElement?.id)).toMatch(/^comment-/);
    await expect.poll(() => member.page.getByRole('heading', { name: '1 comment' }).isVisible()).toBe(true);

    const thumbs = member.page.getByRole('group', { name: 'Reactions to this post' }).getByRole('button', { name: 'Thumbs up: 0' });
    expect(await thumbs.getAttribute('aria-pressed')).toBe('false');
    await thumbs.click();
    const pressed = member.page.getByRole('group', { name: 'Reactions to this post' }).getByRole('button', { name: 'Thumbs up: 1' });
    await expect.poll(() => pressed.getAttribute('aria-pressed')).toBe('true');
    await member.page.getByRole('button', { name: 'Who reacted' }).click();
    await expect.poll(() => member.page.getByTestId('reactions-post').getByRole('definition').first().textContent()).toBe('Ben Okri');

    const vote = member.page.getByRole('form', { name: 'Vote: Which next?' });
    await vote.getByLabel('Squash').check();
    await vote.getByRole('button', { name: 'Vote' }).click();
    await expect.poll(() => member.page.getByTestId('poll-result').filter({ hasText: 'Squash' }).textContent()).toContain('1 vote (100%)');
    expect(await member.page.getByTestId('poll').textContent()).toContain('1 person voted');
    await expect.poll(() => vote.getByRole('button', { name: 'Change vote' }).isVisible()).toBe(true);

    // Ada replies to Ben: the reply sits in his comment's thread.
    await openHydrated(author.page, postPath);
    await author.page.getByRole('button', { name: 'Reply to Ben Okri' }).click();
    const replyForm = author.page.getByRole('form', { name: 'Reply to Ben Okri' });
    expect(await author.page.evaluate(() => (document.activeElement as HTMLTextAreaElement | null)?.name)).toBe('body');
    await replyForm.getByRole('textbox').fill('Thank you!');
    await replyForm.getByRole('button', { name: 'Reply', exact: true }).click();
    await expect.poll(() => author.page.locator('.c-comment-replies [data-testid=comment]').count()).toBe(1);
    expect(await author.page.locator('.c-comment-replies [data-testid=comment]').textContent()).toContain('Thank you!');
    await expect.poll(() => author.page.getByRole('heading', { name: '2 comments' }).isVisible()).toBe(true);

    // Ada edits; the edit history keeps the version before.
    await author.page.getByRole('button', { name: 'Edit post' }).click();
    const editor = author.page.getByRole('form', { name: 'Edit post' });
    expect(await editor.getByTestId('attachment-item').count()).toBe(1);
    await editor.getByRole('textbox', { name: /^Post/ }).fill('Our **second** look: the tomatoes are ripe.');
    await editor.getByRole('button', { name: 'Save changes' }).click();
    await expect.poll(() => author.page.getByTestId('post-body').innerHTML()).toContain('<strong>second</strong>');
    await expect.poll(() => author.page.getByTestId('post-edited').count()).toBe(1);
    const history = author.page.getByTestId('edit-history');
    expect(await history.locator('summary').textContent()).toBe('Edit history (1 earlier version)');
    await history.locator('summary').click();
    expect(await history.locator('pre').textContent()).toBe('Our **first** tomatoes, thanks @ben!\n\n- red\n- yellow');
    expect(await author.page.getByRole('img', { name: 'Image: tomatoes.png' }).count()).toBe(1);

    // The file library lists the image; filters by type and by who shared it.
    await openHydrated(member.page, `${home}/files`);
    const rows = member.page.getByTestId('file-row');
    expect(await rows.count()).toBe(1);
    expect(await rows.first().textContent()).toContain('tomatoes.png');
    await member.page.getByLabel('Type').selectOption('DOCUMENT');
    await member.page.getByRole('button', { name: 'Filter', exact: true }).click();
    await member.page.waitForURL((u) => u.searchParams.get('kind') === 'DOCUMENT');
    await expect.poll(() => member.page.getByText('No files match this filter.').isVisible()).toBe(true);
    await openHydrated(member.page, `${home}/files`);
    await member.page.getByRole('link', { name: 'Files shared by Ada Gardener' }).click();
    await member.page.waitForURL((u) => u.searchParams.get('uploader') === author.id);
    expect(await member.page.getByTestId('file-row').count()).toBe(1);
    expect(await member.page.getByLabel('Shared by', { exact: true }).inputValue()).toBe(author.id);

    // The owner (a moderator) pins it: first in the feed, marked.
    await openHydrated(owner.page, postPath);
    await owner.page.getByRole('button', { name: 'Pin', exact: true }).click();
    await expect.poll(() => owner.page.getByRole('button', { name: 'Unpin' }).count()).toBe(1);
    await createPost(author, { title: 'Later news', body: 'Compost day.' });
    await openHydrated(owner.page, home);
    const firstCard = owner.page.getByTestId('post-card').first();
    expect(await firstCard.textContent()).toContain('First harvest');
    expect(await firstCard.getByText('Pinned', { exact: true }).count()).toBe(1);

    // ... and removes it with a reason, in a dialog.
    await openHydrated(owner.page, postPath);
    await owner.page.getByRole('button', { name: 'Remove post' }).click();
    const dialog = owner.page.getByRole('dialog', { name: 'Remove this post?' });
    expect(await owner.page.evaluate(() => document.activeElement?.tagName)).toBe('TEXTAREA');
    // A reason is required before anything is sent.
    await dialog.getByRole('button', { name: 'Remove post' }).click();
    await expect.poll(() => dialog.getByText('This field is required.').isVisible()).toBe(true);
    await dialog.getByLabel('Reason').fill('Please keep harvest photos in the Seed Vault.');
    await dialog.getByRole('button', { name: 'Remove post' }).click();
    await expect.poll(() => dialog.count()).toBe(0);
    await expect.poll(() => owner.page.getByTestId('removal-reason').textContent()).toBe('Reason: Please keep harvest photos in the Seed Vault.');
    await expect.poll(() => owner.page.getByRole('button', { name: 'Restore post' }).isVisible()).toBe(true);

    // Ada sees why; Ben and visitors see a tombstone, the comments stay.
    await openHydrated(author.page, postPath);
    expect(await author.page.getByTestId('removal-reason').textContent()).toBe('Reason: Please keep harvest photos in the Seed Vault.');
    expect(await author.page.getByTestId('post-body').textContent()).toContain('the tomatoes are ripe');
    for (const page of [member.page, (await platform.newDevice()).page]) {
      await openHydrated(page, postPath);
      expect(await page.getByTestId('post-tombstone').textContent()).toBe('This post was removed by a moderator.');
      expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('Removed post');
      expect(await page.content()).not.toContain('tomatoes are ripe');
      expect(await page.content()).not.toContain('Seed Vault.');
      expect(await page.getByTestId('comment').count()).toBe(2);
    }
    const html = await (await fetch(url(postPath))).text();
    expect(html).not.toContain('tomatoes are ripe');
    expect(html).not.toContain('application/ld+json');
    expect(postId).toMatch(/^[0-9a-f-]{36}$/);
  }, 300_000);

  it('sorts the feed by links, loads more in place and without JavaScript, and shows teasers of a gated circle', async () => {
    // Feeds list published posts only: with "Later news" (the removed post is gone from them), one more than a page.
    // Two authors, as each may post 20 in ten minutes.
    for (let i = 1; i <= FEED_PAGE; i++) await createPost(i % 2 ? member : outsider, { title: `Tip ${String(i).padStart(2, '0')}`, body: `Gardening tip number ${i}.` });
    await openHydrated(member.page, home);
    const cards = member.page.getByRole('list', { name: 'Posts' }).getByTestId('post-card');
    expect(await cards.count()).toBe(FEED_PAGE);
    await member.page.getByRole('link', { name: 'Load more posts' }).click();
    await expect.poll(() => cards.count()).toBe(FEED_PAGE + 1);
    // Reading continues at the first new one.
    await expect.poll(() => member.page.evaluate(() => document.activeElement?.textContent)).toBe('Later news');
    expect(await member.page.getByRole('status').filter({ hasText: '1 more post loaded.' }).count()).toBe(1);
    expect(await member.page.getByRole('link', { name: 'Load more posts' }).count()).toBe(0);

    // Sort links are addresses; "Top" offers its periods.
    await member.page.getByRole('navigation', { name: 'Sort posts' }).getByRole('link', { name: 'Top' }).click();
    await member.page.waitForURL((u) => u.searchParams.get('sort') === 'top');
    expect(await member.page.getByRole('link', { name: 'Top' }).getAttribute('aria-current')).toBe('page');
    await member.page.getByRole('link', { name: 'All time' }).click();
    await member.page.waitForURL((u) => u.searchParams.get('period') === 'all');

    // Without JavaScript "Load more" opens the next page.
    const noScript = await platform.browser.newContext({ javaScriptEnabled: false });
    const page = await noScript.newPage();
    await page.goto(url(home));
    await page.getByRole('link', { name: 'Load more posts' }).click();
    await page.waitForURL((u) => u.searchParams.has('after'));
    expect(await page.getByTestId('post-card').count()).toBe(1);
    await expect.poll(() => page.getByRole('link', { name: 'Back to the first posts' }).isVisible()).toBe(true);
    await noScript.close();

    // A gated circle: the owner posts; Cleo (not in the circle) gets a teaser with "Join to read", no body.
    await gql(owner.page, 'mutation($i: CreatePostInput!) { createPost(input: $i) { id } }', {
      i: { communityId, spaceId: circleId, title: 'Vault inventory', body: 'Heirloom seeds we keep. The combination is 4-8-15.' },
    });
    await openHydrated(outsider.page, `${home}/circles/${circleId}`);
    const teaser = outsider.page.getByTestId('post-card').filter({ hasText: 'Vault inventory' });
    expect(await teaser.getByText('Members only').count()).toBe(1);
    expect(await teaser.getByRole('link', { name: 'Join to read' }).getAttribute('href')).toBe('#circle-membership');
    expect(await outsider.page.getByRole('link', { name: 'Files', exact: true }).count()).toBe(0);

    // The API's refusal lands on the field it names (extensions.field "poll.options"), which takes focus.
    await openHydrated(member.page, home);
    const composer = member.page.getByRole('form', { name: 'New post in Public Center' });
    await composer.getByRole('textbox', { name: /^Post/ }).fill('Which one?');
    await composer.getByRole('button', { name: 'Add a poll' }).click();
    await composer.getByLabel('Option 1').fill('Beans');
    await composer.getByLabel('Option 2').fill('beans');
    await composer.getByRole('button', { name: 'Post', exact: true }).click();
    const option = composer.getByLabel('Option 1');
    await expect.poll(() => option.getAttribute('aria-invalid')).toBe('true');
    const errorId = (await option.getAttribute('aria-describedby'))!.split(' ').find((id) => id.endsWith('-error'))!;
    expect(await member.page.locator(`[id="${errorId}"]`).textContent()).toBe('Poll options must differ.');
    expect(await member.page.evaluate(() => (document.activeElement as HTMLInputElement | null)?.name)).toBe('poll.options.0');
  }, 300_000);

  /** What the XSS trap caught on a page: script calls, dialogs. */
  async function trapped(context: BrowserContext) {
    const hits: string[] = [];
    await context.addInitScript(() => {
      const w = window as unknown as { __xssHits: string[]; __xss: (...a: unknown[]) => void };
      w.__xssHits = [];
      w.__xss = (...a) => w.__xssHits.push(`__xss(${a.join(',')})`);
      for (const name of ['alert', 'confirm', 'prompt'] as const) {
        (window as unknown as Record<string, unknown>)[name] = (m: unknown) => {
          w.__xssHits.push(`${name}(${String(m)})`);
          return null;
        };
      }
    });
    context.on('page', (p) => p.on('dialog', (d) => void (hits.push(`dialog ${d.message()}`), d.dismiss())));
    return hits;
  }

  /** Active content in the given containers: elements, handlers, script URLs. Also provokes any handler left. */
  const activeContent = (page: Page, selector: string) =>
    page.evaluate((sel) => {
      const found: string[] = [];
      const banned = new Set(['script', 'iframe', 'object', 'embed', 'svg', 'math', 'style', 'form', 'input', 'button', 'base', 'meta', 'link', 'template', 'details', 'noscript', 'frame', 'frameset', 'applet']);
      const containers = Array.from(document.querySelectorAll(sel));
      for (const root of containers) {
        for (const el of Array.from(root.querySelectorAll('*'))) {
          const tag = el.tagName.toLowerCase();
          if (banned.has(tag)) found.push(`<${tag}>`);
          for (const attr of Array.from(el.attributes)) {
            if (/^on/i.test(attr.name)) found.push(`${tag}[${attr.name}]`);
            if (['href', 'src', 'action', 'formaction', 'data', 'xlink:href'].includes(attr.name) && /^\s*(javascript|data|vbscript):/i.test(attr.value)) found.push(`${tag}[${attr.name}=${attr.value}]`);
            if (attr.name === 'style' && /url\(|expression/i.test(attr.value)) found.push(`${tag}[style=${attr.value}]`);
          }
          // Would run an inline handler if one had survived.
          for (const type of ['mouseover', 'click', 'focus', 'error', 'load', 'toggle', 'animationstart']) {
            const event = new Event(type, { cancelable: true });
            if (type === 'click') el.addEventListener('click', (e) => e.preventDefault(), { once: true });
            el.dispatchEvent(event);
          }
        }
      }
      return { containers: containers.length, found };
    }, selector);

  it('runs none of the XSS corpus in a post, its comments or the composer preview', async () => {
    const context = await platform.browser.newContext();
    const hits = await trapped(context);
    const page = await context.newPage();
    page.setDefaultTimeout(15_000);
    await page.goto(url('/'));
    await gql(page, 'mutation($input: SignUpInput!) { signUp(input: $input) { account { id } } }', { input: { email: 'eve@example.com', handle: 'eve', displayName: 'Eve <img src=x onerror=__xss(1)>', password: 'a long passphrase for circles 42' } });
    await gql(page, 'mutation($id: ID!) { joinCommunity(id: $id) { id } }', { id: communityId });
    const body = xssCorpus.join('\n\n');
    const { createPost: post } = await gql<{ createPost: { id: string } }>(page, 'mutation($input: CreatePostInput!) { createPost(input: $input) { id } }', {
      input: { communityId, spaceId: centerId, title: '<script>__xss("title")</script>', body, poll: { question: '<img src=x onerror=__xss(2)>', options: ['<svg onload=__xss(3)>', '"><script>__xss(4)</script>'] } },
    });
    // Comments: the same payloads, calling the trap instead of alert.
    for (const payload of xssCorpus) await gql(page, 'mutation($p: ID!, $b: String!) { createComment(postId: $p, body: $b) { id } }', { p: post.id, b: payload.replace(/alert/g, '__xss') });

    const postPath = `${home}/posts/${post.id}`;
    await openHydrated(page, postPath);
    expect(await page.getByTestId('comment').count()).toBe(xssCorpus.length);
    // Hover and focus everything in the bodies, as a reader would.
    for (const target of await page.locator('[data-testid=post-body] *, .c-comment__body *').all()) await target.hover({ force: true, timeout: 1000 }).catch(() => {});
    const inBodies = await activeContent(page, '[data-testid=post-body], .c-comment__body');
    expect(inBodies.containers).toBe(xssCorpus.length + 1);
    expect(inBodies.found).toEqual([]);
    // Only the page's own JSON-LD is a script inside the content.
    expect(await page.locator('main script:not([type="application/ld+json"])').count()).toBe(0);
    expect(await page.evaluate(() => (window as unknown as { __xssHits: string[] }).__xssHits)).toEqual([]);
    expect(hits).toEqual([]);
    // The payloads are shown as text, not swallowed.
    expect(await page.getByTestId('post-body').textContent()).toContain('<script>alert(1)</script>');
    expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('<script>__xss("title")</script>');

    // The composer's preview renders the same text in the browser itself: just as inert.
    await openHydrated(page, home);
    const composer = page.getByRole('form', { name: 'New post in Public Center' });
    await composer.getByRole('textbox', { name: /^Post/ }).fill(`${body}\n\n${xssCorpus.map((p) => p.replace(/alert/g, '__xss')).join('\n\n')}`);
    await composer.getByRole('button', { name: 'Preview' }).click();
    const preview = await activeContent(page, '[data-testid=markdown-preview]');
    expect(preview.containers).toBe(1);
    expect(preview.found).toEqual([]);
    await page.waitForTimeout(300);
    expect(await page.evaluate(() => (window as unknown as { __xssHits: string[] }).__xssHits)).toEqual([]);
    expect(hits).toEqual([]);
    // The trap itself works: a payload that did run would have been caught.
    await page.evaluate(() => (window as unknown as { __xss: (m: string) => void }).__xss('control'));
    await page.evaluate(() => window.alert('control'));
    expect(await page.evaluate(() => (window as unknown as { __xssHits: string[] }).__xssHits)).toEqual(['__xss(control)', 'alert(control)']);
    await context.close();
  }, 300_000);

  it('serves search engines what visitors get: a public post with JSON-LD, a gated post as a teaser', async () => {
    const body = 'Sow **beans** after the last frost. Water deeply once a week; mulch keeps the roots cool.';
    const publicId = await createPost(author, { title: 'When to sow beans', body });
    await gql(member.page, 'mutation($p: ID!) { createComment(postId: $p, body: "Thanks, very useful.") { id } }', { p: publicId });
    const path = `${home}/posts/${publicId}`;

    const html = await (await fetch(url(path))).text();
    expect(html).toContain('<strong>beans</strong>');
    expect(html).toContain('<title>When to sow beans · Garden Club · Circles</title>');
    expect(html).toContain(`<link rel="canonical" href="${url(path)}"/>`);
    expect(html).toMatch(/<meta name="description" content="Sow beans after the last frost/);
    expect(html).not.toMatch(/<meta name="robots"/);
    const scripts = [...html.matchAll(/<script type="application\/ld\+json">(.*?)<\/script>/g)].map((m) => JSON.parse(m[1]!));
    const posting = scripts.find((s) => s['@type'] === 'DiscussionForumPosting');
    expect(posting).toMatchObject({
      '@context': 'https://schema.org',
      headline: 'When to sow beans',
      text: body,
      url: url(path),
      author: { '@type': 'Person', name: 'Ada Gardener', url: url('/u/ada') },
      commentCount: 1,
      comment: [{ '@type': 'Comment', text: 'Thanks, very useful.', author: { name: 'Ben Okri' } }],
    });
    expect(posting.datePublished).toMatch(/^\d{4}-\d\d-\d\dT/);
    expect(posting.dateModified).toBe(posting.datePublished);
    expect(posting.interactionStatistic).toEqual(expect.arrayContaining([expect.objectContaining({ interactionType: 'https://schema.org/CommentAction', userInteractionCount: 1 })]));
    expect(posting.isAccessibleForFree).toBeUndefined();

    // A gated circle's post: the teaser and the paywall markup, never the body.
    const secret = 'The vault combination is 16-23-42 and nobody outside the circle may read it.';
    const gatedBody = `${'Seed saving notes for the season. '.repeat(10)}\n\n${secret}`;
    const { createPost: gated } = await gql<{ createPost: { id: string } }>(owner.page, 'mutation($i: CreatePostInput!) { createPost(input: $i) { id } }', {
      i: { communityId, spaceId: circleId, title: 'Seed saving', body: gatedBody },
    });
    const gatedPath = `${home}/posts/${gated.id}`;
    const gatedResponse = await fetch(url(gatedPath));
    expect(gatedResponse.status).toBe(200);
    const gatedHtml = await gatedResponse.text();
    expect(gatedHtml).toContain('"isAccessibleForFree":false');
    expect(gatedHtml).toContain('"cssSelector":".c-post-paywalled"');
    expect(gatedHtml).toContain('class="c-post-paywalled"');
    expect(gatedHtml).toContain('Seed saving notes for the season.');
    expect(gatedHtml).not.toContain('16-23-42');
    expect(gatedHtml).toContain('Log in to read');

    // Googlebot gets the same page as anyone (no user-agent sniffing): same main content, same data.
    const googlebot = 'Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)';
    const main = (s: string) => s.match(/<main[^>]*>([\s\S]*)<\/main>/)![1]!.replace(/_R_[A-Za-z0-9_]+_|«[^»]*»/g, 'ID');
    for (const [p, plain] of [
      [path, html],
      [gatedPath, gatedHtml],
    ] as const) {
      const bot = await (await fetch(url(p), { headers: { 'user-agent': googlebot } })).text();
      expect(main(bot)).toBe(main(plain));
      expect(bot.match(/<script type="application\/ld\+json">.*?<\/script>/g)).toEqual(plain.match(/<script type="application\/ld\+json">.*?<\/script>/g));
    }
  }, 300_000);

  it('has no serious or critical axe violations on the post page, the feeds and the file library', async () => {
    const id = await createPost(author, { title: 'Accessible post', body: 'Some *text* with a [link](https://example.com).', poll: { question: 'Rain or sun?', options: ['Rain', 'Sun'] } });
    await gql(member.page, 'mutation($p: ID!) { setPostReaction(postId: $p, emoji: "🎉", reacted: true) { id } }', { p: id });
    const { createComment } = await gql<{ createComment: { id: string } }>(member.page, 'mutation($p: ID!) { createComment(postId: $p, body: "Sun, please.") { id } }', { p: id });
    await gql(author.page, 'mutation($p: ID!, $c: ID!) { createComment(postId: $p, parentId: $c, body: "Agreed!") { id } }', { p: id, c: createComment.id });
    const anonymous = (await platform.newDevice()).page;
    const problems: string[] = [];
    const check = async (page: Page, path: string, label: string, prepare?: () => Promise<void>) => {
      await openHydrated(page, path);
      if (prepare) await prepare();
      await page.emulateMedia({ colorScheme: 'light' });
      for (const v of await axeViolations(page)) problems.push(`${label} ${path}: ${v}`);
      await page.emulateMedia({ colorScheme: 'dark' });
      for (const v of await axeViolations(page, { runOnly: ['color-contrast'] })) problems.push(`${label} ${path} (dark): ${v}`);
      await page.emulateMedia({ colorScheme: 'light' });
    };
    const post = `${home}/posts/${id}`;
    await check(author.page, post, 'author');
    await check(member.page, post, 'member');
    await check(anonymous, post, 'anonymous');
    await check(owner.page, post, 'moderator, remove dialog', async () => {
      await owner.page.getByRole('button', { name: 'Remove post' }).click();
      await owner.page.getByRole('dialog').getByRole('button', { name: 'Remove post' }).click();
    });
    await check(author.page, post, 'author, editing', async () => {
      await author.page.getByRole('button', { name: 'Edit post' }).click();
      await author.page.getByRole('form', { name: 'Edit post' }).getByRole('button', { name: 'Preview' }).click();
    });
    await check(member.page, home, 'member, composer with a poll', async () => {
      await member.page.getByRole('button', { name: 'Add a poll' }).click();
      await member.page.getByRole('button', { name: 'Post', exact: true }).click();
    });
    await check(anonymous, home, 'anonymous');
    await check(outsider.page, `${home}/circles/${circleId}`, 'outsider (teasers)');
    await check(owner.page, `${home}/circles/${circleId}`, 'owner (circle feed)');
    await check(member.page, `${home}/files`, 'member');
    await check(owner.page, `${home}/circles/${circleId}/files`, 'owner');
    await check(anonymous, `${home}/posts/${id}?comments=top`, 'anonymous, top comments');
    await check(anonymous, '/u/ada', 'anonymous');
    expect(problems).toEqual([]);

    // On a phone: nothing scrolls sideways, every button is on screen and big enough to hit.
    for (const [page, path] of [
      [member.page, post],
      [author.page, home],
    ] as const) {
      await page.setViewportSize({ width: 375, height: 740 });
      await openHydrated(page, path);
      expect(await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth), path).toBeLessThanOrEqual(0);
      for (const button of await page.locator('main button').all()) {
        await button.scrollIntoViewIfNeeded();
        const box = (await button.boundingBox())!;
        const name = `${path}: "${(await button.textContent())?.trim()}"`;
        expect(box.height, name).toBeGreaterThanOrEqual(40);
        expect(box.x, name).toBeGreaterThanOrEqual(0);
        expect(box.x + box.width, name).toBeLessThanOrEqual(375);
      }
      await page.setViewportSize({ width: 1280, height: 720 });
    }
  }, 300_000);
});

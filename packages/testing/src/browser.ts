import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { startCircles } from '@circles/server/embedded';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { ensureWebBuild } from './processes.ts';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
/** What this machine's closed network needs: no background connections, no sandbox as root, no GPU. */
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** Locally a machine without Chromium skips the browser suites; under CI a missing browser is a failure. */
export const browserTestsRun = existsSync(CHROMIUM) || process.env.CI === 'true' || process.env.CI === '1';

export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) throw new Error(`Chromium not found at ${CHROMIUM}: apt-get install -y chromium chromium-driver`);
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
}

export interface BrowserPlatform {
  browser: Browser;
  webUrl: string;
  /** An absolute URL on the web app. */
  url(path: string): string;
  /** A fresh browser context (its own cookies: a separate device) with one page. */
  newDevice(): Promise<{ context: BrowserContext; page: Page }>;
  stop(): Promise<void>;
}

/**
 * The whole embedded platform (web included, built if needed) on a fresh data folder, plus Chromium. `env` is extra
 * configuration (e.g. a higher chat rate limit for seeding history).
 */
export async function startBrowserPlatform(name: string, options: { env?: Record<string, string> } = {}): Promise<BrowserPlatform> {
  ensureWebBuild();
  const dataDir = mkdtempSync(path.join(os.tmpdir(), `circles-${name}-`));
  const circles = await startCircles({ dataDir, ...(options.env ? { env: options.env } : {}) });
  const browser = await launchChromium();
  return {
    browser,
    webUrl: circles.webUrl,
    url: (p) => new URL(p, circles.webUrl).toString(),
    async newDevice() {
      const context = await browser.newContext();
      const page = await context.newPage();
      page.setDefaultTimeout(15_000);
      return { context, page };
    },
    async stop() {
      await browser.close();
      await circles.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/**
 * Waits until React has hydrated every control on the page, so forms and links are handled by the app rather than
 * submitted or followed natively. The network going quiet is not enough on a loaded machine: the scripts may have
 * arrived and still be running. React marks each element it has hydrated with a `__reactFiber$…` key, so this waits
 * for that key on every form, button, field and link in the body, except those inside HTML React set as a whole
 * (`dangerouslySetInnerHTML`: rendered Markdown), which React never marks.
 */
export async function waitHydrated(page: Page, timeout = 30_000) {
  await page.waitForLoadState('networkidle');
  // Plain page-side JavaScript: a string is evaluated as written, untouched by the test's TypeScript transform.
  const unhydrated = `(() => {
    const key = (el, prefix) => Object.keys(el).find((k) => k.startsWith(prefix));
    const setAsHtml = (el) => {
      for (let up = el.parentElement; up; up = up.parentElement) {
        const props = key(up, '__reactProps$');
        if (props && up[props] && up[props].dangerouslySetInnerHTML) return true;
      }
      return false;
    };
    return [...document.body.querySelectorAll('form, button, input, textarea, select, a[href]')]
      .filter((el) => !key(el, '__reactFiber$') && !setAsHtml(el))
      .map((el) => el.outerHTML.slice(0, 160));
  })()`;
  await page.waitForFunction(`${unhydrated}.length === 0`, undefined, { timeout, polling: 50 }).catch(async (error: unknown) => {
    const bare = ((await page.evaluate(unhydrated)) as string[]).slice(0, 5);
    throw new Error(`${page.url()} did not hydrate; controls React has not reached: ${bare.join(' | ')}`, { cause: error });
  });
}

/** Opens a page and waits for it to hydrate (see `waitHydrated`). */
export async function openHydrated(page: Page, url: string) {
  const response = await page.goto(url);
  await waitHydrated(page);
  return response;
}

export interface BrowserPerson {
  email: string;
  handle: string;
  displayName: string;
  password: string;
}

/** Signs up through the form (which sets the session cookie) and waits to land on `next` (default /account). */
export async function signUpInBrowser(page: Page, baseUrl: string, who: BrowserPerson, next?: string) {
  await openHydrated(page, new URL(next ? `/signup?next=${encodeURIComponent(next)}` : '/signup', baseUrl).toString());
  await page.getByLabel('Email', { exact: true }).fill(who.email);
  await page.getByLabel('Handle', { exact: true }).fill(who.handle);
  await page.getByLabel('Display name', { exact: true }).fill(who.displayName);
  await page.getByLabel('Password', { exact: true }).fill(who.password);
  await page.getByRole('button', { name: 'Sign up' }).click();
  await page.waitForURL((u) => u.pathname === (next ?? '/account'));
}

/** A GraphQL call from the page, as its signed-in person (cookie and CSRF header, like the app's own client). */
export async function gqlInPage<T = any>(page: Page, query: string, variables: object = {}): Promise<T> {
  return page.evaluate(
    async ({ query, variables }) => {
      const res = await fetch('/graphql', { method: 'POST', headers: { 'content-type': 'application/json', 'x-circles-csrf': '1' }, body: JSON.stringify({ query, variables }) });
      const body = (await res.json()) as { data?: unknown; errors?: unknown[] };
      if (body.errors) throw new Error(JSON.stringify(body.errors));
      return body.data as never;
    },
    { query, variables },
  );
}

const AXE_SOURCE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
interface AxeRun {
  violations: { id: string; impact: string | null; help: string; nodes: { target: unknown[] }[] }[];
}

/** Serious and critical axe violations on the page as it is now, one readable line each ("rule: targets"). */
export async function axeViolations(page: Page, options: object = {}): Promise<string[]> {
  if (!(await page.evaluate(() => Boolean((window as { axe?: unknown }).axe)))) await page.addScriptTag({ content: AXE_SOURCE });
  const result = await page.evaluate(
    (opts) => (window as unknown as { axe: { run(d: Document, o: object): Promise<AxeRun> } }).axe.run(document, { resultTypes: ['violations'], ...opts }),
    options,
  );
  return result.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id} (${v.impact}): ${v.help} -> ${v.nodes.map((n) => JSON.stringify(n.target)).join(', ')}`);
}

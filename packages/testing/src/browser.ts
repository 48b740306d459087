import { existsSync, mkdtempSync, rmSync } from 'node:fs';
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

/** The whole embedded platform (web included, built if needed) on a fresh data folder, plus Chromium. */
export async function startBrowserPlatform(name: string): Promise<BrowserPlatform> {
  ensureWebBuild();
  const dataDir = mkdtempSync(path.join(os.tmpdir(), `circles-${name}-`));
  const circles = await startCircles({ dataDir });
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

/**
 * Launches a real Chromium for end-to-end tests without ever downloading one: `CHROMIUM_PATH`,
 * then Debian's `/usr/bin/chromium`, then a browser Playwright already has in its cache.
 *
 * Test sites get real host names through Chromium's resolver rules, so a page on `site.test` and a
 * Mautic on `mautic.test` are cross-site exactly as in production, while both listen on 127.0.0.1.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CHROMIUM_FLAGS, hostRulesFlag, systemChromium } from './chromium-flags.mjs';
import { chromium, type Browser, type BrowserContext, type LaunchOptions } from 'playwright';

/** Host names the launched browser resolves to 127.0.0.1. */
export const TEST_HOSTS = ['site.test', 'mautic.test', 'other.test', 'proxy.test'] as const;

export function findChromium(): string {
  const system = systemChromium();
  if (system) return system;
  try {
    const cached = chromium.executablePath();
    if (cached && existsSync(cached)) return cached;
  } catch {
    // Playwright throws when it has no browser of its own; fall through to the clear error below.
  }
  throw new Error(
    'No Chromium found. Set CHROMIUM_PATH or install Debian\'s chromium (apt-get install -y chromium).',
  );
}

export function launchChromium(options: LaunchOptions = {}): Promise<Browser> {
  return chromium.launch({
    executablePath: findChromium(),
    headless: true,
    ...options,
    args: [...CHROMIUM_FLAGS, hostRulesFlag(TEST_HOSTS), ...(options.args ?? [])],
  });
}

/**
 * A fresh browser context (its own cookies and storage) whose console errors and uncaught page
 * errors are collected, so a test can assert that the SDK never threw into the host page.
 */
export async function newWatchedContext(browser: Browser): Promise<{ context: BrowserContext; pageErrors: string[] }> {
  const context = await browser.newContext();
  const pageErrors: string[] = [];
  context.on('weberror', (error) => pageErrors.push(String(error.error())));
  return { context, pageErrors };
}

/**
 * A Chromium whose profile has "Send a Do Not Track request" turned on, as a visitor sets it in
 * the browser's settings: the browser itself then reports `navigator.doNotTrack == '1'` and sends
 * `DNT: 1` with every request. A persistent context (the only way to give Chromium a profile);
 * `close()` closes it and removes its profile folder.
 */
export async function launchDoNotTrackContext(options: LaunchOptions = {}): Promise<BrowserContext> {
  const profile = mkdtempSync(join(tmpdir(), 'mt-dnt-'));
  mkdirSync(join(profile, 'Default'));
  writeFileSync(join(profile, 'Default', 'Preferences'), JSON.stringify({ enable_do_not_track: true }));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: findChromium(),
    headless: true,
    ...options,
    args: [...CHROMIUM_FLAGS, hostRulesFlag(TEST_HOSTS), ...(options.args ?? [])],
  });
  const close = context.close.bind(context);
  context.close = async (...args) => {
    await close(...args);
    rmSync(profile, { recursive: true, force: true });
  };
  return context;
}

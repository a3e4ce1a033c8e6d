import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, expect, test } from 'vitest';
import type { Browser } from 'playwright';
import { launchChromium } from '../support/chromium.js';

let browser: Browser;
beforeAll(async () => {
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
});

test('Chromium resolves the test host names to loopback', async () => {
  const server = createServer((_req, res) => res.end('<title>ok</title>'));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  try {
    const page = await browser.newPage();
    await page.goto(`http://site.test:${port}/`);
    expect(await page.title()).toBe('ok');
  } finally {
    server.close();
  }
});

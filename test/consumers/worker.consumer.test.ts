/**
 * A Cloudflare Worker using the packed package as the README shows (`createMauticProxy` in the
 * Worker, `mtc.js` among its static assets), run in workerd by `wrangler dev`, browsed in
 * Chromium: Mautic's snippet on the Worker's page loads /mt/mtc.js and its pageview reaches the
 * stand-in through the Worker's proxy, with the visitor's IP from CF-Connecting-IP. The Worker
 * has no compatibility flag, and wrangler must not warn about Node builtins.
 */
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { mauticSnippet } from '../support/site-server.js';
import { waitForOutput } from './support/project.js';
import { consumerPort, startRig, type Rig } from './support/rig.js';

const tarball = inject('tarball');

const files: Record<string, string> = {
  // The README's Worker sample.
  'src/worker.js': [
    "import { createMauticProxy } from 'mautic-tracker/server';",
    '',
    'let proxy;',
    '',
    'export default {',
    '  async fetch(request, env) {',
    '    proxy ??= createMauticProxy({',
    '      mauticUrl: env.MAUTIC_URL,',
    "      basePath: '/mt',",
    '      secret: env.MT_PROXY_SECRET,',
    '    });',
    "    if (!proxy.owns(new URL(request.url).pathname)) return new Response('Not found', { status: 404 });",
    "    return proxy.handle(request, { clientIp: request.headers.get('CF-Connecting-IP') ?? '' });",
    '  },',
    '};',
    '',
  ].join('\n'),
  'wrangler.toml': ['name = "mautic-tracker-consumer"', 'main = "src/worker.js"', 'compatibility_date = "2024-09-23"', 'assets = { directory = "./public" }', ''].join('\n'),
};

describe('a Cloudflare Worker', () => {
  let rig: Rig;

  beforeAll(async () => {
    // wrangler 3: the last line that runs on Node 20 (wrangler 4 needs Node 22).
    rig = await startRig('worker', files, { 'mautic-tracker': `file:${tarball}` }, { wrangler: '^3.90.0' });
    // As the README says: the script among the Worker's static assets, at /mt/mtc.js.
    mkdirSync(join(rig.app.dir, 'public', 'mt'), { recursive: true });
    copyFileSync(join(rig.app.dir, 'node_modules', 'mautic-tracker', 'dist', 'mtc.js'), join(rig.app.dir, 'public', 'mt', 'mtc.js'));
  });
  afterAll(() => rig?.close());

  it('relays the snippet\'s pageview from the Worker\'s own origin to Mautic', async () => {
    writeFileSync(
      join(rig.app.dir, 'public', 'index.html'),
      `<!doctype html><html><head><title>Worker home</title></head><body>${mauticSnippet({ scriptUrl: '/mt/mtc.js' })}</body></html>`,
    );
    const port = await consumerPort();
    const dev = rig.app.start('npx', [
      'wrangler', 'dev', '--port', String(port), '--ip', '127.0.0.1',
      '--var', `MAUTIC_URL:${rig.mautic.url}`, '--var', 'MT_PROXY_SECRET:worker-consumer-secret-0123456789abcdef',
    ]);
    let devOutput = '';
    const collect = (chunk: Buffer): void => {
      devOutput += chunk.toString();
    };
    dev.stdout?.on('data', collect);
    dev.stderr?.on('data', collect);
    await waitForOutput(dev, /Ready on/, 120_000);

    const context = await rig.browser.newContext();
    const errors: string[] = [];
    context.on('weberror', (error) => errors.push(String(error.error())));
    const page = await context.newPage();
    await page.goto(`http://127.0.0.1:${port}/`);
    await rig.mautic.waitFor((s) => s.hits.length >= 1, 30_000);
    // The stand-in records the hit before its answer is back in the page: wait for the script to
    // have stored the id it was given, rather than reading at once.
    const stored = await page
      .waitForFunction(() => localStorage.getItem('mautic_device_id'), undefined, { timeout: 10_000 })
      .then((handle) => handle.jsonValue())
      .catch(() => null);
    await context.close();

    expect(errors).toEqual([]);
    // `mautic-tracker/server` names no Node module: wrangler bundles it with no compatibility flag
    // and says nothing about Node builtins (it would, with `nodejs_compat` advice, for a `node:` import).
    expect(devOutput).not.toMatch(/nodejs_compat|node:[a-z]|built into node|Node\.js built-in/i);
    const [hit] = rig.mautic.hits;
    expect(hit?.title).toBe('Worker home');
    expect(hit?.contactId).toBe(rig.mautic.contacts[0]?.id);
    // The script learnt its ids through the Worker (a first-party answer it can read).
    expect(stored).toBe(hit?.deviceId);
  });
});

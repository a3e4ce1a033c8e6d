/**
 * Runs the README's runnable samples. A sample is runnable when the line right before its code
 * fence is a marker:
 *
 *   <!-- readme-sample: <kind> [flags…] -->
 *
 * kinds:
 *   html            a page fragment: served on a real site (the demo site server, proxy at /mt) and
 *                   opened in Chromium; its pageview (and event, if it sends one) must reach the stand-in
 *   browser-module  an ES module using `import … from 'mautic-tracker'`: run as <script type="module">
 *                   with the import pointed at the built dist/index.mjs (served at /sdk/index.mjs)
 *   node-server     a Node program listening on $PORT: a hit sent through its /mt proxy must reach the
 *                   stand-in and /mt/mtc.js must be served; flag `login`: POST /login with the sample's
 *                   demo user (jane@example.com / correct horse battery staple) returns a token, a wrong
 *                   password gets 401, and /mt/identify with the token puts the email on the contact
 *   node-script     a Node program that must exit 0; flag `prints-token`: it prints an identity token
 *   next-route      a Next.js route module exporting GET/POST: called with Web Requests
 *   worker          a Cloudflare Worker module (`export default { fetch }`): called with a Request and env
 *
 * Placeholders the samples use are replaced by the local servers: https://www.example.com → the
 * site, and the environment (MAUTIC_URL, MAUTIC_CLIENT_ID, MAUTIC_CLIENT_SECRET, MT_PROXY_SECRET,
 * PORT) points at the dev server. Set README_SAMPLES_FILE to check another file (e.g. a draft).
 */
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { freePort } from '../support/free-port.js';
import { join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Browser } from 'playwright';
import { launchChromium, newWatchedContext } from '../support/chromium.js';
import { startDevServer, type DevServer } from '../../src/devserver/index.js';
import { startDemoSite, type DemoSite } from '../../src/devserver/demo-site/server.js';

const README = process.env.README_SAMPLES_FILE ?? 'README.md';
const KINDS = ['html', 'browser-module', 'node-server', 'node-script', 'next-route', 'worker'] as const;
type Kind = (typeof KINDS)[number];
interface Sample {
  index: number;
  kind: Kind;
  flags: string[];
  code: string;
  line: number;
}

function extractSamples(markdown: string): Sample[] {
  const samples: Sample[] = [];
  const pattern = /^<!-- readme-sample: ([a-z-]+)((?: [a-z-]+)*) -->\r?\n```[A-Za-z]*\r?\n([\s\S]*?)\r?\n```/gm;
  for (const match of markdown.matchAll(pattern)) {
    const kind = match[1] as Kind;
    if (!KINDS.includes(kind)) throw new Error(`unknown readme-sample kind "${kind}"`);
    samples.push({
      index: samples.length + 1,
      kind,
      flags: (match[2] ?? '').trim().split(' ').filter(Boolean),
      code: match[3] ?? '',
      line: markdown.slice(0, match.index).split('\n').length,
    });
  }
  return samples;
}

const markdown = readFileSync(README, 'utf8');
const samples = extractSamples(markdown);
const WORK = resolve('test-results/readme-samples');
const SITE_DIR = join(WORK, 'site');
const ARRIVES_MS = 15_000;

const apiClient = { id: 'readme-samples', secret: randomBytes(16).toString('hex') };
const proxySecret = randomBytes(32).toString('hex');
let dev: DevServer;
let site: DemoSite;
let browser: Browser;

beforeAll(async () => {
  rmSync(WORK, { recursive: true, force: true });
  mkdirSync(SITE_DIR, { recursive: true });
  dev = await startDevServer({ port: 0, api: { clients: [apiClient] }, scriptFile: 'dist/mtc.js' });
  site = await startDemoSite({
    port: 0,
    siteDir: SITE_DIR,
    distDir: resolve('dist'),
    mauticUrl: dev.url,
    auth: { type: 'oauth2', clientId: apiClient.id, clientSecret: apiClient.secret },
    secret: proxySecret,
  });
  browser = await launchChromium();
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await site?.close();
  await dev?.close();
});

function sampleEnv(port?: number): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const key of Object.keys(env)) if (key.startsWith('MAUTIC_')) delete env[key];
  return {
    ...env,
    MAUTIC_URL: dev.url,
    MAUTIC_CLIENT_ID: apiClient.id,
    MAUTIC_CLIENT_SECRET: apiClient.secret,
    MT_PROXY_SECRET: proxySecret,
    ...(port ? { PORT: String(port) } : {}),
  };
}

function run(file: string, args: string[], env: NodeJS.ProcessEnv, timeoutMs = 30_000) {
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((done) => {
    const child = spawn(process.execPath, [file, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('exit', (code) => {
      clearTimeout(timer);
      done({ code, stdout, stderr });
    });
  });
}

/** A hit as the SDK would send it, for the server-side samples. */
function hitBody(pageUrl: string): string {
  return new URLSearchParams({ page_title: 'README sample', page_url: pageUrl, counter: '0' }).toString();
}
const HIT_HEADERS = { 'Content-Type': 'application/x-www-form-urlencoded', 'X-Requested-With': 'XMLHttpRequest' };

const hitsFor = (pageUrlPart: string) => dev.standin.hits.filter((h) => (h.pageUrl ?? '').includes(pageUrlPart));

test(`${README} has runnable samples of every kind`, () => {
  const kinds = new Set(samples.map((s) => s.kind));
  expect([...kinds].sort(), `${README} lacks runnable samples (markers \`<!-- readme-sample: <kind> -->\` before a code fence)`).toEqual(
    [...KINDS].sort(),
  );
});

describe.each(samples.map((s) => [`#${s.index} ${s.kind} (line ${s.line})`, s] as const))('README sample %s', (_name, sample) => {
  test('runs', async () => {
    switch (sample.kind) {
      case 'html':
      case 'browser-module': {
        const file = `sample-${sample.index}.html`;
        const origin = `http://site.test:${site.port}`;
        let code = sample.code.replaceAll('https://www.example.com', origin);
        if (sample.kind === 'browser-module') {
          code = `<script type="module">\n${code.replaceAll("from 'mautic-tracker'", "from '/sdk/index.mjs'")}\n</script>`;
        }
        writeFileSync(join(SITE_DIR, file), `<!doctype html>\n<title>README sample ${sample.index}</title>\n<body>\n${code}\n</body>\n`);
        const { context, pageErrors } = await newWatchedContext(browser);
        try {
          const page = await context.newPage();
          await page.goto(`${origin}/${file}`);
          await dev.standin.waitFor(() => hitsFor(file).length > 0, ARRIVES_MS);
          const sendsEvent = /'event'|\.event\(/.test(sample.code);
          if (sendsEvent) await dev.standin.waitFor(() => hitsFor(file).some((h) => h.query.mt_action !== undefined), ARRIVES_MS);
          const pageviews = hitsFor(file).filter((h) => h.query.mt_action === undefined);
          expect(pageviews).toHaveLength(1);
          expect(pageviews[0]?.title).toBe(`README sample ${sample.index}`);
          expect(pageErrors).toEqual([]);
        } finally {
          await context.close();
        }
        return;
      }

      case 'node-server': {
        const file = join(WORK, `sample-${sample.index}.mjs`);
        writeFileSync(file, sample.code);
        const port = await freePort();
        const child = spawn(process.execPath, [file], { env: sampleEnv(port), stdio: ['ignore', 'pipe', 'pipe'] });
        let stderr = '';
        child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
        const base = `http://127.0.0.1:${port}`;
        try {
          await expect
            .poll(async () => (await fetch(`${base}/mt/mtc.js`).catch(() => undefined))?.status, { timeout: ARRIVES_MS, message: `server did not start: ${stderr}` })
            .toBe(200);
          const script = await (await fetch(`${base}/mt/mtc.js`)).text();
          expect(script).toBe(readFileSync('dist/mtc.js', 'utf8'));

          const pageUrl = `${base}/readme-sample-${sample.index}`;
          const hit = await fetch(`${base}/mt/mtc/event`, { method: 'POST', headers: { ...HIT_HEADERS, Origin: base }, body: hitBody(pageUrl) });
          expect(hit.status).toBe(200);
          const ids = (await hit.json()) as { id: number };
          expect(ids.id).toBeGreaterThan(0);
          expect(hitsFor(pageUrl)).toHaveLength(1);

          if (sample.flags.includes('login')) {
            const email = 'jane@example.com';
            const postLogin = (password: string) =>
              fetch(`${base}/login`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ email, password }) });
            expect((await postLogin('guess')).status).toBe(401);
            const login = await postLogin('correct horse battery staple');
            expect(login.status).toBe(200);
            const { token } = (await login.json()) as { token: string };
            const cookies = hit.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
            const identify = await fetch(`${base}/mt/identify`, {
              method: 'POST',
              headers: { 'Content-Type': 'application/json', Origin: base, Cookie: cookies },
              body: JSON.stringify({ email, token, fields: { firstname: 'Readme' } }),
            });
            expect(identify.status, await identify.clone().text()).toBeLessThan(300);
            expect(dev.standin.contact(ids.id)?.fields).toMatchObject({ email, firstname: 'Readme' });
          }
        } finally {
          child.kill('SIGTERM');
        }
        return;
      }

      case 'node-script': {
        const file = join(WORK, `sample-${sample.index}.mjs`);
        writeFileSync(file, sample.code);
        const result = await run(file, [], sampleEnv());
        expect(result.code, result.stderr).toBe(0);
        if (sample.flags.includes('prints-token')) expect(result.stdout.trim()).toMatch(/^v2\.\d+\.[A-Za-z0-9_-]{16}\.[A-Za-z0-9_-]{43}$/);
        return;
      }

      case 'next-route':
      case 'worker': {
        const file = join(WORK, `sample-${sample.index}.mjs`);
        writeFileSync(file, sample.code);
        // A harness plays the platform: it imports the module and calls it with Web Requests.
        const harness = join(WORK, `harness-${sample.index}.mjs`);
        const pageUrl = `https://www.example.com/readme-sample-${sample.index}`;
        writeFileSync(
          harness,
          `const mod = await import(${JSON.stringify(file)});
const kind = ${JSON.stringify(sample.kind)};
const call = (request) => kind === 'worker'
  ? mod.default.fetch(request, { ...process.env }, { waitUntil() {}, passThroughOnException() {} })
  : mod[request.method](request);
const hit = await call(new Request('https://www.example.com/mt/mtc/event', {
  method: 'POST',
  headers: { ...${JSON.stringify(HIT_HEADERS)}, Origin: 'https://www.example.com', 'x-real-ip': '203.0.113.9', 'CF-Connecting-IP': '203.0.113.9' },
  body: ${JSON.stringify(hitBody(pageUrl))},
}));
const script = kind === 'worker' ? null : await call(new Request('https://www.example.com/mt/mtc.js'));
console.log(JSON.stringify({ hit: hit.status, body: await hit.json(), script: script && script.status, scriptType: script && script.headers.get('content-type') }));
`,
        );
        const result = await run(harness, [], sampleEnv());
        expect(result.code, result.stderr).toBe(0);
        const out = JSON.parse(result.stdout.trim().split('\n').pop() ?? '{}') as { hit: number; body: { id: number }; script: number | null; scriptType: string | null };
        expect(out.hit).toBe(200);
        expect(out.body.id).toBeGreaterThan(0);
        if (sample.kind === 'next-route') {
          expect(out.script).toBe(200);
          expect(out.scriptType).toMatch(/javascript/);
        }
        const [recorded] = hitsFor(pageUrl);
        expect(recorded?.contactId).toBe(out.body.id);
        // The visitor's IP is the one the platform reported, not the proxy's.
        expect(recorded?.ip).toBe('203.0.113.9');
        return;
      }
    }
  }, 60_000);
});

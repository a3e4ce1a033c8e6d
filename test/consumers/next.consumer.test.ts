/**
 * A Next.js App Router app using the packed package as the README shows: the tracking client
 * component in the root layout and the proxy in a route handler made with
 * `createLazyMauticProxy`. `next build` runs with no secret in the environment (as in CI builds),
 * then `next start` gets them; Chromium browses the app; the stand-in records one contact and a
 * pageview per page with its metadata title.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { waitForOutput } from './support/project.js';
import { consumerPort, startRig, type Rig } from './support/rig.js';

const tarball = inject('tarball');

const page = (title: string, links: string) =>
  [
    "import Link from 'next/link';",
    `export const metadata = { title: '${title}' };`,
    `export default function Page() { return <main><h1>${title}</h1><nav>${links}</nav></main>; }`,
    '',
  ].join('\n');

const files: Record<string, string> = {
  'next.config.mjs': 'export default {};\n',
  'jsconfig.json': '{ "compilerOptions": {} }\n',
  'app/layout.jsx': [
    "import { Tracking } from './tracking';",
    'export default function RootLayout({ children }) {',
    '  return <html lang="en"><body>{children}<Tracking /></body></html>;',
    '}',
    '',
  ].join('\n'),
  // The README's Next.js client component, as is.
  'app/tracking.jsx': [
    "'use client';",
    "import { useEffect } from 'react';",
    "import { createTracker } from 'mautic-tracker';",
    '',
    'export function Tracking() {',
    '  useEffect(() => {',
    "    const tracker = createTracker({ url: new URL('/mt', location.href).href });",
    '    tracker.pageview();',
    '    return tracker.enableAutoPageviews();',
    '  }, []);',
    '  return null;',
    '}',
    '',
  ].join('\n'),
  'app/page.jsx': page('Home', '<Link href="/pricing">Pricing</Link>'),
  'app/pricing/page.jsx': page('Pricing', '<Link href="/">Home</Link>'),
  // The README's route handler: the proxy is made on the first request, not at build time.
  'app/mt/[...path]/route.js': [
    "import { createLazyMauticProxy, loadSdkScript } from 'mautic-tracker/server/node';",
    '',
    'const mautic = createLazyMauticProxy(async () => ({',
    '  mauticUrl: process.env.MAUTIC_URL,',
    "  basePath: '/mt',",
    '  secret: process.env.MT_PROXY_SECRET,',
    '  script: await loadSdkScript(),',
    '}));',
    '',
    "const handle = (request) => mautic.handle(request, { clientIp: request.headers.get('x-real-ip') ?? '' });",
    '',
    'export { handle as GET, handle as HEAD, handle as POST };',
    '',
  ].join('\n'),
};

describe('a Next.js App Router app', () => {
  let rig: Rig;

  beforeAll(async () => {
    rig = await startRig('next', files, { 'mautic-tracker': `file:${tarball}`, next: '^16.0.0', react: '^19.2.0', 'react-dom': '^19.2.0' });
  });
  afterAll(() => rig?.close());

  it('builds with no secret set, then tracks one contact and each page with its title under next start', async () => {
    // The deployment's secrets are not there at build time.
    await rig.app.exec('npx', ['next', 'build'], { MAUTIC_URL: '', MT_PROXY_SECRET: '' });

    const port = await consumerPort();
    const server = rig.app.start('npx', ['next', 'start', '-p', String(port), '-H', '127.0.0.1'], {
      MAUTIC_URL: rig.mautic.url,
      MT_PROXY_SECRET: 'next-consumer-secret-0123456789abcdef',
    });
    await waitForOutput(server, /Ready in|started server|Local:/);

    const context = await rig.browser.newContext();
    const errors: string[] = [];
    context.on('weberror', (error) => errors.push(String(error.error())));
    const tab = await context.newPage();
    await tab.goto(`http://127.0.0.1:${port}/`);
    await rig.mautic.waitFor((s) => s.hits.length >= 1, 30_000);
    await tab.getByRole('link', { name: 'Pricing' }).click();
    await rig.mautic.waitFor((s) => s.hits.length >= 2, 15_000);
    await tab.waitForTimeout(1500);
    await context.close();

    expect(errors).toEqual([]);
    expect(rig.mautic.contacts).toHaveLength(1);
    expect(rig.mautic.hits.map((hit) => [new URL(hit.pageUrl ?? '').pathname, hit.title])).toEqual([
      ['/', 'Home'],
      ['/pricing', 'Pricing'],
    ]);
  });
});

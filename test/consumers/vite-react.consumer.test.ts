/**
 * A Vite + React 19 + React Router 7 app using the packed package as the README shows, in its dev
 * server (StrictMode, the template default, runs effects twice) and as a production build, driven
 * in Chromium against the stand-in: one contact per visitor, one pageview per page, each with the
 * title the page sets in an effect.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { waitForOutput } from './support/project.js';
import { consumerPort, startRig, type Rig } from './support/rig.js';

const tarball = inject('tarball');

const files = (): Record<string, string> => ({
  'index.html': '<!doctype html><html><head><title>Loading</title></head><body><div id="root"></div><script type="module" src="/src/main.jsx"></script></body></html>\n',
  'vite.config.js': "import { defineConfig } from 'vite';\nimport react from '@vitejs/plugin-react';\nexport default defineConfig({ plugins: [react()] });\n",
  'src/main.jsx': [
    "import { StrictMode, useEffect } from 'react';",
    "import { createRoot } from 'react-dom/client';",
    "import { BrowserRouter, Link, Route, Routes } from 'react-router';",
    "import { createTracker } from 'mautic-tracker';",
    '',
    '// The README\'s React snippet, as is.',
    'function Tracking() {',
    '  useEffect(() => {',
    '    const tracker = createTracker({ url: import.meta.env.VITE_MAUTIC_URL });',
    '    tracker.pageview();',
    '    return tracker.enableAutoPageviews();',
    '  }, []);',
    '  return null;',
    '}',
    '',
    'function Page({ title }) {',
    '  useEffect(() => { document.title = title; }, [title]);',
    '  return <main><h1>{title}</h1><nav><Link to="/">Home</Link> <Link to="/pricing">Pricing</Link> <Link to="/about">About</Link></nav></main>;',
    '}',
    '',
    "createRoot(document.getElementById('root')).render(",
    '  <StrictMode>',
    '    <BrowserRouter>',
    '      <Tracking />',
    '      <Routes>',
    '        <Route path="/" element={<Page title="Home" />} />',
    '        <Route path="/pricing" element={<Page title="Pricing" />} />',
    '        <Route path="/about" element={<Page title="About" />} />',
    '      </Routes>',
    '    </BrowserRouter>',
    '  </StrictMode>,',
    ');',
    '',
  ].join('\n'),
});

describe('a Vite + React app', () => {
  let rig: Rig;

  beforeAll(async () => {
    rig = await startRig(
        'vite-react',
        files(),
        { 'mautic-tracker': `file:${tarball}`, react: '^19.2.0', 'react-dom': '^19.2.0', 'react-router': '^7.9.0' },
        { vite: '^8.0.0', '@vitejs/plugin-react': '^5.1.0' },
      );
  });
  afterAll(() => rig?.close());

  /** One visitor: lands on /, clicks to /pricing and /about; returns what the stand-in recorded. */
  async function visit(siteUrl: string): Promise<void> {
    rig.mautic.reset();
    const context = await rig.browser.newContext();
    const errors: string[] = [];
    context.on('weberror', (error) => errors.push(String(error.error())));
    const page = await context.newPage();
    await page.goto(siteUrl);
    await rig.mautic.waitFor((s) => s.hits.length >= 1, 20_000);
    await page.getByRole('link', { name: 'Pricing' }).click();
    await rig.mautic.waitFor((s) => s.hits.length >= 2, 10_000);
    await page.getByRole('link', { name: 'About' }).click();
    await rig.mautic.waitFor((s) => s.hits.length >= 3, 10_000);
    // Anything doubled (a second tracker, a second pageview) would arrive within this.
    await page.waitForTimeout(1500);
    await context.close();
    expect(errors).toEqual([]);
  }

  function recorded(): { contacts: number; pages: Array<[string, string | null]> } {
    return {
      contacts: rig.mautic.contacts.length,
      pages: rig.mautic.hits.map((hit) => [new URL(hit.pageUrl ?? '').pathname, hit.title]),
    };
  }

  it('in the dev server with StrictMode: one contact, one pageview per page, each with its own title', async () => {
    const port = await consumerPort();
    const dev = rig.app.start('npx', ['vite', '--port', String(port), '--strictPort', '--host', '127.0.0.1'], { VITE_MAUTIC_URL: rig.mautic.url });
    await waitForOutput(dev, /ready in|Local:/);
    await visit(`http://127.0.0.1:${port}/`);
    expect(recorded()).toEqual({ contacts: 1, pages: [['/', 'Home'], ['/pricing', 'Pricing'], ['/about', 'About']] });
  });

  it('as a production build: the same', async () => {
    await rig.app.exec('npx', ['vite', 'build'], { VITE_MAUTIC_URL: rig.mautic.url });
    const port = await consumerPort();
    const preview = rig.app.start('npx', ['vite', 'preview', '--port', String(port), '--strictPort', '--host', '127.0.0.1']);
    await waitForOutput(preview, /Local:|http:\/\/127\.0\.0\.1/);
    await visit(`http://127.0.0.1:${port}/`);
    expect(recorded()).toEqual({ contacts: 1, pages: [['/', 'Home'], ['/pricing', 'Pricing'], ['/about', 'About']] });
  });
});

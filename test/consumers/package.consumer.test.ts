/**
 * The published package, linted as arethetypeswrong and publint see it, and used by TypeScript
 * and Node consumers of both module systems.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createProject, type ConsumerProject } from './support/project.js';

const tarball = inject('tarball');

describe('the packed package', () => {
  let linters: ConsumerProject;
  beforeAll(async () => {
    linters = await createProject('linters', {}, {}, { '@arethetypeswrong/cli': '0.18.5', publint: '0.3.25' });
  });
  afterAll(() => linters?.close());

  it('has correct types for node10, node16 (ESM and CJS) and bundler resolution (arethetypeswrong)', async () => {
    // mtc.js and mtc.durable.js are browser scripts for a <script> tag or a bundler's asset URL, not modules.
    const { stdout } = await linters.exec('npx', ['attw', tarball, '--format', 'json', '--exclude-entrypoints', 'mtc.js', 'mtc.durable.js']);
    const report = JSON.parse(stdout) as { analysis: { problems: unknown[] } };
    expect(report.analysis.problems).toEqual([]);
  });

  it('passes publint with no errors or warnings', async () => {
    const { stdout } = await linters.exec('npx', ['publint', tarball, '--strict']);
    expect(stdout).toMatch(/All good!/);
  });
});

describe('TypeScript and Node consumers', () => {
  let app: ConsumerProject;
  beforeAll(async () => {
    app = await createProject(
      'typescript',
      {
        'tsconfig.json': JSON.stringify({
          compilerOptions: { module: 'nodenext', moduleResolution: 'nodenext', target: 'es2022', strict: true, noEmit: true, lib: ['es2022', 'dom'], types: ['node'] },
          include: ['*.mts', '*.cts'],
        }),
        // ESM: every entry, with types that would fail to compile if they were wrong.
        'esm.mts': [
          "import { createTracker, type SendResult, type Tracker } from 'mautic-tracker';",
          "import { createMauticProxy, mintIdentityToken, type MauticProxy } from 'mautic-tracker/server';",
          "import { startStandin } from 'mautic-tracker/devserver';",
          "const tracker: Tracker = createTracker({ url: 'https://mautic.example.com' });",
          'const result: Promise<SendResult> = tracker.pageview();',
          "const proxy: MauticProxy = createMauticProxy({ mauticUrl: 'https://mautic.example.com', secret: 'x'.repeat(32) });",
          "const token: Promise<string> = mintIdentityToken({ email: 'a@example.com', secret: 'x'.repeat(32) });",
          'void [result, proxy, token, startStandin];',
          '',
        ].join('\n'),
        // CommonJS: the same through require (TS1479 if the types were ESM-only).
        'cjs.cts': [
          "import mt = require('mautic-tracker');",
          "import server = require('mautic-tracker/server');",
          "const tracker: mt.Tracker = mt.createTracker({ url: 'https://mautic.example.com' });",
          "const proxy: server.MauticProxy = server.createMauticProxy({ mauticUrl: 'https://mautic.example.com', secret: 'x'.repeat(32) });",
          'void [tracker, proxy];',
          '',
        ].join('\n'),
        'run.cjs': [
          "const { createTracker } = require('mautic-tracker');",
          "const { createMauticProxy } = require('mautic-tracker/server');",
          "const { startStandin } = require('mautic-tracker/devserver');",
          "const proxy = createMauticProxy({ mauticUrl: 'https://mautic.example.com', secret: 'x'.repeat(32) });",
          "console.log(JSON.stringify({ tracker: typeof createTracker, owns: proxy.owns('/mt/mtc/event'), standin: typeof startStandin }));",
          '',
        ].join('\n'),
        // The consumer's own unrelated build output must never be served as the tracker.
        'dist/mtc.js': '/* the consumer app, not the tracker */\n',
        'devserver.mjs': [
          "import { readFileSync } from 'node:fs';",
          "import { startDevServer } from 'mautic-tracker/devserver';",
          'const dev = await startDevServer({ port: 0 });',
          "const served = await (await fetch(`${dev.url}/mtc.js`)).text();",
          'await dev.close();',
          "const packaged = readFileSync('node_modules/mautic-tracker/dist/mtc.js', 'utf8');",
          'console.log(JSON.stringify({ packaged: served === packaged, bytes: served.length }));',
          '',
        ].join('\n'),
        'run.mjs': [
          "import { createTracker } from 'mautic-tracker';",
          "import { createMauticProxy } from 'mautic-tracker/server';",
          "const proxy = createMauticProxy({ mauticUrl: 'https://mautic.example.com', secret: 'x'.repeat(32) });",
          "const result = await createTracker({ url: 'https://mautic.example.com' }).pageview();",
          "console.log(JSON.stringify({ owns: proxy.owns('/mt/mtc/event'), ok: result.ok }));",
          '',
        ].join('\n'),
      },
      { 'mautic-tracker': `file:${tarball}` },
      { typescript: '5.9', '@types/node': '^20.19.0' },
    );
  });
  afterAll(() => app?.close());

  it('type-checks an ESM (.mts) and a CommonJS (.cts) consumer under module nodenext', async () => {
    await app.exec('npx', ['tsc', '-p', 'tsconfig.json']);
  });

  it('runs under require and import in Node (the SSR-safe tracker resolves { ok: false })', async () => {
    const cjs = JSON.parse((await app.exec('node', ['run.cjs'])).stdout) as Record<string, unknown>;
    expect(cjs).toEqual({ tracker: 'function', owns: true, standin: 'function' });
    const esm = JSON.parse((await app.exec('node', ['run.mjs'])).stdout) as Record<string, unknown>;
    expect(esm).toEqual({ owns: true, ok: false });
  });

  it('startDevServer() serves the package\'s own mtc.js, not the consumer\'s dist/mtc.js', async () => {
    const served = JSON.parse((await app.exec('node', ['devserver.mjs'])).stdout) as { packaged: boolean; bytes: number };
    expect(served.packaged).toBe(true);
    expect(served.bytes).toBeGreaterThan(1000);
  });

  it('ships what the package points at and no stray sources', async () => {
    const { stdout } = await app.exec('npm', ['pack', '--dry-run', '--json', tarball]);
    const [{ files }] = JSON.parse(stdout) as [{ files: { path: string }[] }];
    const paths = files.map((file) => file.path);
    expect(paths.filter((path) => path.startsWith('src/'))).toEqual([]);
    expect(paths).toEqual(expect.arrayContaining(['dist/mtc.js', 'dist/index.mjs', 'dist/index.cjs', 'CHANGELOG.md', 'README.md', 'LICENSE']));
  });
});

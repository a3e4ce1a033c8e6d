/**
 * The proxy carries its `paths` renames into the script it serves by rewriting the script's route
 * literals. This holds every build of dist/mtc.js to what that needs (each default route literal
 * exactly once), and checks what a site would see at the script route: the renamed routes in the
 * served script, none of the defaults, the default script unchanged when nothing is renamed, and a
 * script that cannot carry the renames refused at start-up.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { TRACKER_ROUTES, type SendRouteName } from '../../src/protocol/routes.js';
import { SCRIPT_VIA_MAUTIC, SCRIPT_VIA_PROXY } from '../../src/protocol/wire.js';
import { routeLiteralPattern } from '../../src/server/core/script-routes.js';
import { createMauticProxy, MauticProxyConfigError, type MauticProxyConfig } from '../../src/server/index.js';
import { SECRET } from './support/secrets.js';

const SENT: SendRouteName[] = ['event', 'pixel', 'contactIds', 'identify'];
const built = readFileSync('dist/mtc.js', 'utf8');
const base: MauticProxyConfig = { mauticUrl: 'https://mautic.example.com', basePath: '/mt', secret: SECRET, script: built };

async function served(config: MauticProxyConfig, path: string): Promise<{ status: number; text: string; etag: string | null }> {
  const response = await createMauticProxy(config).handle(new Request(`https://www.example.com/mt${path}`), { clientIp: '192.0.2.1' });
  return { status: response.status, text: await response.text(), etag: response.headers.get('etag') };
}

const count = (text: string, route: SendRouteName): number => (text.match(routeLiteralPattern(route)) ?? []).length;

describe('dist/mtc.js route literals', () => {
  it.each(SENT)('the default %s route is one string literal, exactly once', (route) => {
    expect(count(built, route), `${TRACKER_ROUTES[route]} in dist/mtc.js`).toBe(1);
  });
});

describe('the served script', () => {
  it('is the file, byte for byte, when no route is renamed', async () => {
    const { status, text } = await served(base, '/mtc.js');
    expect(status).toBe(200);
    expect(text).toBe(built);
  });

  it('sends to the renamed routes and to none of the defaults', async () => {
    const { status, text } = await served({ ...base, paths: { event: '/e', pixel: '/p.gif', contactIds: '/ids', identify: '/who' } }, '/mtc.js');
    expect(status).toBe(200);
    for (const route of SENT) expect(count(text, route)).toBe(0);
    for (const literal of ['"/e"', '"/p.gif?', '"/ids"', '"/who"']) expect(text).toContain(literal);
  });

  it('renamed into a subfolder, reaches the routes one folder up', async () => {
    const { status, text } = await served({ ...base, paths: { script: '/js/t.js', event: '/e' } }, '/js/t.js');
    expect(status).toBe(200);
    expect(text).toContain('"/../e"');
    expect(text).toContain('"/../mtc"');
    expect(text).toContain('"/../identify"');
    for (const route of SENT) expect(count(text, route)).toBe(0);
  });

  it('has its own ETag once rewritten', async () => {
    const plain = await served(base, '/mtc.js');
    const renamed = await served({ ...base, paths: { event: '/e' } }, '/mtc.js');
    expect(renamed.etag).not.toBe(plain.etag);
  });

  it('that cannot carry the renames is refused at start-up, naming the route', () => {
    const other = 'console.log("not our build: /mtc/event twice", "/mtc/event", "/mtc/event")';
    expect(() => createMauticProxy({ ...base, script: other, paths: { event: '/e' } })).toThrow(MauticProxyConfigError);
    expect(() => createMauticProxy({ ...base, script: other, paths: { event: '/e' } })).toThrow(/paths\.event/);
    // Without renames any script is served as given.
    expect(() => createMauticProxy({ ...base, script: other })).not.toThrow();
  });
});

describe('dist/mtc.durable.js served by the proxy', () => {
  const durable = readFileSync('dist/mtc.durable.js', 'utf8');
  const durableBase: MauticProxyConfig = { ...base, script: durable };

  it.each(SENT)('has the default %s route once too, so renames carry into it', (route) => {
    expect(count(durable, route), `${TRACKER_ROUTES[route]} in dist/mtc.durable.js`).toBe(1);
  });

  it('carries the straight-to-Mautic mark once; the proxy serves it marked as proxied (and renamed)', async () => {
    expect(durable.split(`"${SCRIPT_VIA_MAUTIC}"`)).toHaveLength(2);
    expect(durable).not.toContain(SCRIPT_VIA_PROXY);
    const { status, text } = await served({ ...durableBase, paths: { event: '/e' } }, '/mtc.js');
    expect(status).toBe(200);
    expect(text).toContain(`"${SCRIPT_VIA_PROXY}"`);
    expect(text).not.toContain(SCRIPT_VIA_MAUTIC);
    expect(text).toContain('"/e"');
    expect(text.length).toBe(durable.length - SCRIPT_VIA_MAUTIC.length + SCRIPT_VIA_PROXY.length - '/mtc/event'.length + '/e'.length);
  });

  it('dist/mtc.js has no mark: served byte for byte (above)', () => {
    expect(built).not.toContain(SCRIPT_VIA_MAUTIC);
  });
});

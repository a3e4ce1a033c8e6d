/**
 * The stand-in's focus item scripts over real HTTP: `GET /focus/{id}.js` for a positive integer id
 * answers a script that draws through `MauticJS`; anything else under /focus/ is 404.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startStandin, type Standin } from '../../src/devserver/index.js';

let mautic: Standin;
beforeAll(async () => {
  mautic = await startStandin();
});
afterAll(() => mautic.close());

it('answers GET /focus/{id}.js with a script for that id that uses MauticJS', async () => {
  const response = await fetch(`${mautic.url}/focus/7.js`);
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toBe('application/javascript');
  const script = await response.text();
  expect(script).toContain('MauticJS.documentReady(');
  expect(script).toContain('MauticJS.onFirstEventDelivery(');
  expect(script).toContain("data-focus-id', '7'");
  expect(script).toContain('w.MauticFocus7 = true');
});

it.each(['/focus/0.js', '/focus/abc.js', '/focus/7', '/focus/7.js/x', '/focus/1234567890.js'])('answers %s 404', async (path) => {
  const response = await fetch(`${mautic.url}${path}`);
  expect(response.status).toBe(404);
});

it('refuses POST with 405', async () => {
  const response = await fetch(`${mautic.url}/focus/7.js`, { method: 'POST' });
  expect(response.status).toBe(405);
  expect(response.headers.get('allow')).toBe('GET');
});

/**
 * Mautic's API never redirects: an answer of 301/302 means the configured base URL is wrong (http
 * behind an https redirect, a moved install), and following it could send the credentials
 * elsewhere. The REST client refuses it as a network failure, without the platform's
 * `redirect: 'error'` (workerd does not implement it), so the same holds on every runtime.
 */
import { createServer } from 'node:http';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { BasicAuth, MauticNetworkError, MauticRestClient, OAuth2ClientCredentials } from '../../src/server/index.js';
import { listenLocal, type LocalServer } from '../support/local-server.js';

let target: LocalServer;
let redirecting: LocalServer;
let targetHits = 0;

beforeAll(async () => {
  target = await listenLocal(
    createServer((_req, res) => {
      targetHits += 1;
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"contact":{"id":1,"fields":{"all":{}}},"access_token":"t","expires_in":3600}');
    }),
  );
  redirecting = await listenLocal(createServer((req, res) => res.writeHead(301, { location: target.url + (req.url ?? '/') }).end()));
});
afterAll(async () => {
  await redirecting?.close();
  await target?.close();
});

it('a redirected API call fails as a network error and is not followed (the credentials stay home)', async () => {
  const client = new MauticRestClient({ baseUrl: redirecting.url, auth: new BasicAuth({ username: 'u', password: 'p' }), timeoutMs: 2000 });
  await expect(client.getContact(1)).rejects.toBeInstanceOf(MauticNetworkError);
  expect(targetHits).toBe(0);
});

it('a redirected token request fails the same way', async () => {
  const auth = new OAuth2ClientCredentials({ baseUrl: redirecting.url, clientId: 'id', clientSecret: 'secret', timeoutMs: 2000 });
  const client = new MauticRestClient({ baseUrl: redirecting.url, auth, timeoutMs: 2000 });
  await expect(client.getContact(1)).rejects.toBeInstanceOf(MauticNetworkError);
  expect(targetHits).toBe(0);
});

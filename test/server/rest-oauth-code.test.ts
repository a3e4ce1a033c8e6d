/**
 * OAuth2 authorization code with rotating refresh tokens, end to end against the stand-in:
 * the loopback authorisation (in real Chromium, and through the built CLI), token stores that
 * survive restarts and are shared between instances, one refresh for all concurrent callers,
 * and each refusal of Mautic's OAuth2 server as its own error class.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startStandin, type Standin } from '../../src/devserver/index.js';
import { MemoryStore } from '../../src/server/core/store.js';
import { AuthorizeError, authorizeWithLoopback } from '../../src/server/node/authorize.js';
import { FileTokenStore } from '../../src/server/node/index.js';
import {
  KeyValueTokenStore,
  MauticInvalidGrantError,
  MauticNotAuthorizedError,
  MauticRestClient,
  MauticUnauthorizedClientError,
  MemoryTokenStore,
  OAuth2AuthorizationCode,
  OAuth2ClientCredentials,
  exchangeAuthorizationCode,
  type OAuthTokens,
  type TokenStore,
} from '../../src/server/index.js';
import { launchChromium } from '../support/chromium.js';

const CODE_CLIENT = { id: 'code-client', secret: 'code-client-secret-6Fh2', grantTypes: ['authorization_code', 'refresh_token'] as const };
const CLI = join(import.meta.dirname, '../../dist/cli.mjs');

let mautic: Standin;
let clock = Date.now();
let dir: string;

beforeAll(async () => {
  mautic = await startStandin({
    api: {
      clients: [{ ...CODE_CLIENT, grantTypes: [...CODE_CLIENT.grantTypes], redirectUris: ['http://127.0.0.1'], name: 'site-user [2]' }],
    },
    clock: () => clock,
  });
  dir = mkdtempSync(join(tmpdir(), 'mt-oauth-'));
});
afterAll(async () => {
  await mautic?.close();
  rmSync(dir, { recursive: true, force: true });
});
beforeEach(() => {
  mautic.reset();
  clock = Date.now();
});

const grants = (type: string): number =>
  mautic.requests.filter((r) => r.path === '/oauth/v2/token' && r.method === 'POST' && r.body.includes(`grant_type=${type}`)).length;

/** Accepts on the stand-in's consent page the way a browser's form post does; follows nothing. */
async function consent(url: string, accept = true): Promise<string> {
  const page = await fetch(url);
  expect(page.status).toBe(200);
  expect(await page.text()).toContain('Accept');
  const query = new URL(url).searchParams;
  if (accept) query.set('accepted', '1');
  const answer = await fetch(url.split('?')[0]!, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: query.toString(), redirect: 'manual' });
  expect(answer.status).toBe(302);
  return answer.headers.get('location')!;
}

/** Runs the loopback flow, finishing it with `drive(url)`; resolves the flow's outcome. */
async function authorize(tokens: TokenStore, drive: (url: string) => Promise<void>): Promise<{ tokens: OAuthTokens; redirectUri: string }> {
  let printed: (url: string) => void;
  const url = new Promise<string>((resolve) => (printed = resolve));
  const flow = authorizeWithLoopback({
    mauticUrl: mautic.url,
    clientId: CODE_CLIENT.id,
    clientSecret: CODE_CLIENT.secret,
    tokens,
    port: 0,
    timeoutMs: 10_000,
    print: (line) => {
      if (line.includes('/oauth/v2/authorize?')) printed(line.trim());
    },
  });
  // The flow may end while `drive` is still awaiting (a denial): its outcome is read below.
  flow.catch(() => undefined);
  await drive(await url);
  return flow;
}

async function authorized(): Promise<MemoryTokenStore> {
  const store = new MemoryTokenStore();
  await authorize(store, async (url) => {
    await fetch(await consent(url));
  });
  return store;
}

function codeClient(tokens: TokenStore): { client: MauticRestClient; auth: OAuth2AuthorizationCode } {
  const auth = new OAuth2AuthorizationCode({ baseUrl: mautic.url, clientId: CODE_CLIENT.id, clientSecret: CODE_CLIENT.secret, tokens, now: () => clock });
  return { client: new MauticRestClient({ baseUrl: mautic.url, auth }), auth };
}

describe('authorize from the command line (loopback redirect)', () => {
  let browser: Browser;
  beforeAll(async () => {
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
  });

  it('a person accepts in Chromium; the tokens land in a 0600 file and the API works with them', async () => {
    const file = join(dir, 'chromium-tokens.json');
    const page = await browser.newPage();
    const result = await authorize(new FileTokenStore(file), async (url) => {
      expect(url).toMatch(/response_type=code/);
      expect(url).toMatch(/redirect_uri=http%3A%2F%2F127\.0\.0\.1%3A\d+%2Fcallback/);
      await page.goto(url);
      await page.getByRole('button', { name: 'Accept' }).click();
      await page.getByText('mautic-tracker is authorized').waitFor();
    });
    await page.close();
    expect(result.tokens.refreshToken).toBeTruthy();
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const saved = JSON.parse(readFileSync(file, 'utf8')) as OAuthTokens;
    expect(saved.refreshToken).toBe(result.tokens.refreshToken);
    const { client } = codeClient(new FileTokenStore(file));
    const { contact } = await client.createOrUpdateContact({ email: 'code@example.com' });
    expect(mautic.contact(contact.id)?.fields.email).toBe('code@example.com');
    expect(grants('authorization_code')).toBe(1);
    expect(grants('refresh_token')).toBe(0);
  });

  it('npx mautic-tracker authorize: prints the URL, receives the code, saves the token file, exits 0', async () => {
    const file = join(dir, 'cli-tokens.json');
    const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, MAUTIC_URL: mautic.url, MAUTIC_CLIENT_ID: CODE_CLIENT.id, MAUTIC_CLIENT_SECRET: CODE_CLIENT.secret };
    const child = spawn(process.execPath, [CLI, 'authorize', '--port', '0', '--token-file', file, '--timeout', '20'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const url = await new Promise<string>((resolve, reject) => {
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        const match = /(http:\/\/\S+\/oauth\/v2\/authorize\?\S+)/.exec(out);
        if (match) resolve(match[1]!);
      });
      child.on('exit', () => reject(new Error(`exited early: ${out} ${err}`)));
    });
    const callback = await fetch(await consent(url));
    expect(await callback.text()).toContain('authorized');
    const code = await new Promise<number | null>((resolve) => (child.exitCode !== null ? resolve(child.exitCode) : child.on('exit', resolve)));
    expect(err).toBe('');
    expect(code).toBe(0);
    expect(out).toContain(`Saved to ${file}`);
    expect(out).not.toContain(CODE_CLIENT.secret);
    expect((await new FileTokenStore(file).load())?.refreshToken).toBeTruthy();

    // The other commands then work with that client too (MAUTIC_TOKEN_FILE): setup-identify here.
    const setup = spawn(process.execPath, [CLI, 'setup-identify', '--no-probe'], { env: { ...env, MAUTIC_TOKEN_FILE: file }, stdio: ['ignore', 'pipe', 'pipe'] });
    let setupOut = '';
    let setupErr = '';
    setup.stdout.on('data', (d: Buffer) => (setupOut += d.toString()));
    setup.stderr.on('data', (d: Buffer) => (setupErr += d.toString()));
    const setupCode = await new Promise<number | null>((resolve) => setup.on('exit', resolve));
    expect(setupErr).toBe('');
    expect(setupCode).toBe(0);
    expect(setupOut).toContain('identify: { history:');
    expect(grants('client_credentials')).toBe(0);
  });

  it('a denial, a foreign state and a missing secret end as told; a foreign state does not end the wait', async () => {
    const store = new MemoryTokenStore();
    const denied = authorize(store, async (url) => {
      const location = new URL(await consent(url, false));
      expect(location.searchParams.get('error')).toBe('access_denied');
      // Someone else's callback first (wrong state): refused, still waiting.
      const forged = new URL(location);
      forged.searchParams.set('state', 'guessed');
      forged.searchParams.set('code', 'planted');
      expect((await fetch(forged)).status).toBe(400);
      expect((await fetch(location)).status).toBe(400);
    });
    await expect(denied).rejects.toBeInstanceOf(AuthorizeError);
    await expect(denied).rejects.toThrow(/access_denied/);
    expect(await store.load()).toBeNull();
    expect(grants('authorization_code')).toBe(0);

    const child = spawn(process.execPath, [CLI, 'authorize', '--url', mautic.url, '--client-id', 'x'], { env: { PATH: process.env.PATH }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exit = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    expect(exit).toBe(2);
    expect(stderr).toContain('MAUTIC_CLIENT_SECRET is required');
  });
});

describe('the authorization code grant as Mautic checks it', () => {
  it('/oauth/v2/authorize refuses no client, an unknown one and a redirect URI that is not registered', async () => {
    const at = (query: string): Promise<Response> => fetch(`${mautic.url}/oauth/v2/authorize?${query}`, { redirect: 'manual' });
    const body = async (res: Response): Promise<unknown> => ((await res.json()) as { errors: unknown[] }).errors[0];
    let res = await at('response_type=code');
    expect([res.status, await body(res)]).toEqual([400, { message: 'No client id supplied', code: 400, type: 'invalid_request' }]);
    res = await at('client_id=nobody&response_type=code');
    expect([res.status, await body(res)]).toEqual([400, { message: 'Unknown client', code: 400, type: 'invalid_client' }]);
    res = await at(`client_id=${CODE_CLIENT.id}&response_type=code&redirect_uri=${encodeURIComponent('https://evil.test/cb')}`);
    expect([res.status, await body(res)]).toEqual([400, { message: 'The redirect URI provided does not match registered URI(s).', code: 400, type: 'redirect_uri_mismatch' }]);
    res = await at(`client_id=${CODE_CLIENT.id}&response_type=code&redirect_uri=${encodeURIComponent('http://127.0.0.1/../cb')}`);
    expect(res.status).toBe(400);
    res = await at(`client_id=${CODE_CLIENT.id}&response_type=token&state=s&redirect_uri=${encodeURIComponent('http://127.0.0.1:1/cb')}`);
    expect(res.status).toBe(302);
    expect(res.headers.get('location')).toBe('http://127.0.0.1:1/cb?error=unsupported_response_type&state=s');
  });

  it('a code works once, within 30 s, for its redirect URI', async () => {
    const codes: string[] = [];
    const capture = async (): Promise<{ code: string; redirectUri: string }> => {
      const store = new MemoryTokenStore();
      let redirectUri = '';
      // Drive the flow to the redirect, then answer the listener without the code it wants.
      const flow = authorize(store, async (url) => {
        const location = new URL(await consent(url));
        codes.push(location.searchParams.get('code')!);
        redirectUri = `${location.origin}${location.pathname}`;
        location.searchParams.delete('code');
        await fetch(location);
      });
      await expect(flow).rejects.toThrow(/without an authorization code/);
      return { code: codes.at(-1)!, redirectUri };
    };
    const base = { baseUrl: mautic.url, clientId: CODE_CLIENT.id, clientSecret: CODE_CLIENT.secret };

    const first = await capture();
    await expect(exchangeAuthorizationCode({ ...base, code: first.code, redirectUri: 'http://127.0.0.1.evil.test/callback' })).rejects.toThrow(/redirect URI is missing or do not match/);
    const tokens = await exchangeAuthorizationCode({ ...base, ...first });
    expect(tokens.refreshToken).toBeTruthy();
    const reused = await exchangeAuthorizationCode({ ...base, ...first }).catch((e: unknown) => e);
    expect(reused).toBeInstanceOf(MauticInvalidGrantError);
    expect((reused as MauticInvalidGrantError).messages).toEqual(["Code doesn't exist or is invalid for the client"]);

    const second = await capture();
    clock += 31_000;
    await expect(exchangeAuthorizationCode({ ...base, ...second })).rejects.toThrow('The authorization code has expired');
  });

  it('this client may not use client_credentials: unauthorized_client, its own class', async () => {
    const auth = new OAuth2ClientCredentials({ baseUrl: mautic.url, clientId: CODE_CLIENT.id, clientSecret: CODE_CLIENT.secret });
    const err = await new MauticRestClient({ baseUrl: mautic.url, auth }).getContact(1).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MauticUnauthorizedClientError);
    expect((err as MauticUnauthorizedClientError).reason).toBe('unauthorized_client');
  });
});

describe('refresh tokens: rotation, one refresh for all, restarts, several instances', () => {
  it('an expired access token is refreshed once for 12 concurrent callers; the rotated refresh token is saved and the old one is dead', async () => {
    const store = await authorized();
    const before = (await store.load())!;
    const { client, auth } = codeClient(store);
    const { contact } = await client.createOrUpdateContact({ email: 'rotate@example.com' });
    clock += 3601_000;
    await Promise.all(Array.from({ length: 12 }, () => client.getContact(contact.id)));
    expect(auth.tokenRequests).toBe(1);
    expect(grants('refresh_token')).toBe(1);
    const after = (await store.load())!;
    expect(after.refreshToken).not.toBe(before.refreshToken);
    expect(after.accessToken).not.toBe(before.accessToken);
    // Mautic deleted the refresh token it was given.
    const stale = new OAuth2AuthorizationCode({ baseUrl: mautic.url, clientId: CODE_CLIENT.id, clientSecret: CODE_CLIENT.secret, tokens: new MemoryTokenStore({ ...before, accessTokenExpiresAt: 0 }), now: () => clock });
    const err = await stale.authorization().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MauticInvalidGrantError);
    expect((err as MauticInvalidGrantError).messages).toEqual(['Invalid refresh token']);
  });

  it('survives a restart: a new process reads the file and calls without a token request', async () => {
    const file = join(dir, 'restart.json');
    const memory = await authorized();
    await new FileTokenStore(file).save((await memory.load())!);
    const first = codeClient(new FileTokenStore(file));
    await first.client.createOrUpdateContact({ email: 'restart@example.com' });
    clock += 3601_000;
    await first.client.searchContacts('email:restart@example.com');
    expect(first.auth.tokenRequests).toBe(1);
    // "Restart": a fresh provider on the same file uses the rotated tokens as they are.
    const second = codeClient(new FileTokenStore(file));
    const { total } = await second.client.searchContacts('email:restart@example.com');
    expect(total).toBe(1);
    expect(second.auth.tokenRequests).toBe(0);
    expect(grants('refresh_token')).toBe(1);
  });

  it('two instances sharing a ProxyStore refresh once between them, and both go on', async () => {
    const shared = new MemoryStore();
    const seed = await authorized();
    const kv = (): KeyValueTokenStore => new KeyValueTokenStore(shared, { key: 'mt:tok:test' });
    await kv().save((await seed.load())!);
    const a = codeClient(kv());
    const b = codeClient(kv());
    await Promise.all([a.client.searchContacts('email:x@example.com'), b.client.searchContacts('email:x@example.com')]);
    expect(grants('refresh_token')).toBe(0);
    clock += 3601_000;
    await Promise.all([...Array.from({ length: 5 }, () => a.client.searchContacts('email:x@example.com')), ...Array.from({ length: 5 }, () => b.client.searchContacts('email:x@example.com'))]);
    expect(grants('refresh_token')).toBe(1);
    expect(a.auth.tokenRequests + b.auth.tokenRequests).toBe(1);
  });

  it('two processes on one token file refresh once between them (the lock file)', async () => {
    const file = join(dir, 'two-processes.json');
    await new FileTokenStore(file).save((await (await authorized()).load())!);
    const a = codeClient(new FileTokenStore(file));
    const b = codeClient(new FileTokenStore(file));
    clock += 3601_000;
    await Promise.all([a.client.searchContacts('email:y@example.com'), b.client.searchContacts('email:y@example.com')]);
    expect(grants('refresh_token')).toBe(1);
  });

  it('a refresh token past its 14 days: invalid_grant, "run authorize again"; no tokens at all: not_authorized, no call', async () => {
    const { client } = codeClient(await authorized());
    clock += 15 * 86_400_000;
    const expired = await client.getContact(1).catch((e: unknown) => e);
    expect(expired).toBeInstanceOf(MauticInvalidGrantError);
    expect((expired as MauticInvalidGrantError).messages).toEqual(['Refresh token has expired']);

    const requests = mautic.requests.length;
    const never = await codeClient(new MemoryTokenStore()).client.getContact(1).catch((e: unknown) => e);
    expect(never).toBeInstanceOf(MauticNotAuthorizedError);
    expect((never as MauticNotAuthorizedError).reason).toBe('not_authorized');
    expect(mautic.requests.length).toBe(requests);
  });
});

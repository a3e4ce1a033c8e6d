/**
 * `npx mautic-tracker authorize`: the one-time OAuth2 authorization-code flow from a terminal.
 * It prints Mautic's authorize URL, receives the code on a loopback redirect
 * (`http://127.0.0.1:<port>/callback`, which must be the API client's redirect URI in Mautic),
 * trades it for tokens and saves them in a token file the proxy then reads and keeps rotating.
 *
 * The listener binds 127.0.0.1 only, answers nothing but its callback path, accepts the code only
 * with the random `state` it printed (so a page that guesses the port cannot plant a code) and
 * stops after the first good callback or the timeout. The client secret comes from the
 * environment, never from the command line (where `ps` shows it).
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { parseArgs } from 'node:util';
import { authorizeUrl, exchangeAuthorizationCode } from '../rest/auth.js';
import { MauticApiError } from '../rest/errors.js';
import type { OAuthTokens, TokenStore } from '../rest/token-store.js';
import { FileTokenStore } from './file-token-store.js';

export const DEFAULT_AUTHORIZE_PORT = 8719;
export const DEFAULT_TOKEN_FILE = '.mautic-tokens.json';
const CALLBACK_PATH = '/callback';

export interface LoopbackAuthorizeOptions {
  mauticUrl: string;
  clientId: string;
  clientSecret: string;
  /** Where the tokens go, e.g. `new FileTokenStore('.mautic-tokens.json')`. */
  tokens: TokenStore;
  /** Port of the loopback listener. Default 8719; 0 picks a free one (then register that URI). */
  port?: number;
  /** How long to wait for the browser, ms. Default 5 minutes. */
  timeoutMs?: number;
  /** Told the URL to open, and progress. */
  print?: (line: string) => void;
  fetch?: typeof fetch;
  /** Ends the wait early. */
  signal?: AbortSignal;
}

export interface LoopbackAuthorizeResult {
  tokens: OAuthTokens;
  redirectUri: string;
}

/** The flow failed: Mautic refused, the user denied, or nobody came back in time. */
export class AuthorizeError extends Error {
  override name = 'AuthorizeError';
}

export async function authorizeWithLoopback(options: LoopbackAuthorizeOptions): Promise<LoopbackAuthorizeResult> {
  const print = options.print ?? (() => undefined);
  const state = randomBytes(24).toString('base64url');
  const server = createServer();
  await listen(server, options.port ?? DEFAULT_AUTHORIZE_PORT);
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : options.port ?? DEFAULT_AUTHORIZE_PORT;
  const redirectUri = `http://127.0.0.1:${port}${CALLBACK_PATH}`;
  try {
    print(`Open this URL in a browser, log in to Mautic and accept:`);
    print('');
    print(`  ${authorizeUrl({ baseUrl: options.mauticUrl, clientId: options.clientId, redirectUri, state })}`);
    print('');
    print(`Waiting for Mautic to redirect to ${redirectUri} …`);
    const tokens = await new Promise<OAuthTokens>((resolve, reject) => {
      let settled = false;
      const finish = (outcome: { tokens: OAuthTokens } | { error: Error }): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        options.signal?.removeEventListener('abort', onAbort);
        if ('tokens' in outcome) resolve(outcome.tokens);
        else reject(outcome.error);
      };
      const timer = setTimeout(() => finish({ error: new AuthorizeError('no redirect from Mautic in time; run the command again') }), options.timeoutMs ?? 300_000);
      const onAbort = (): void => finish({ error: new AuthorizeError('stopped') });
      options.signal?.addEventListener('abort', onAbort, { once: true });
      const flow = { state, redirectUri, options, claimed: false, done: () => settled };
      server.on('request', (req: IncomingMessage, res: ServerResponse) => {
        void handleCallback(req, res, flow).then((outcome) => {
          if (outcome) finish(outcome);
        });
      });
    });
    print('Tokens saved. The proxy can now use the API; each refresh renews the refresh token (Mautic: 14 days by default).');
    return { tokens, redirectUri };
  } finally {
    server.closeAllConnections?.();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

/** One request to the listener: null while it is not the callback that ends the flow. */
async function handleCallback(
  req: IncomingMessage,
  res: ServerResponse,
  ctx: { state: string; redirectUri: string; options: LoopbackAuthorizeOptions; claimed: boolean; done: () => boolean },
): Promise<{ tokens: OAuthTokens } | { error: Error } | null> {
  const url = new URL(req.url ?? '/', 'http://127.0.0.1');
  if (req.method !== 'GET' || url.pathname !== CALLBACK_PATH || ctx.done() || ctx.claimed) {
    page(res, 404, 'Not found.');
    return null;
  }
  // A callback without our state is not Mautic's answer to our request: ignored, still waiting.
  if (url.searchParams.get('state') !== ctx.state) {
    page(res, 400, 'This is not the answer to the authorization this terminal is waiting for.');
    return null;
  }
  // The first answer with our state ends the flow; a repeated request (a reload) gets a 404.
  ctx.claimed = true;
  const error = url.searchParams.get('error');
  if (error) {
    const description = (url.searchParams.get('error_description') ?? '').slice(0, 200);
    page(res, 400, `Mautic answered: ${error}. ${description}`);
    return { error: new AuthorizeError(`Mautic refused the authorization: ${error.slice(0, 64)}${description ? ` (${description})` : ''}`) };
  }
  const code = url.searchParams.get('code');
  if (!code || code.length > 2048) {
    page(res, 400, 'No authorization code in the redirect.');
    return { error: new AuthorizeError('Mautic redirected without an authorization code') };
  }
  try {
    const { options } = ctx;
    const tokens = await exchangeAuthorizationCode({
      baseUrl: options.mauticUrl,
      clientId: options.clientId,
      clientSecret: options.clientSecret,
      code,
      redirectUri: ctx.redirectUri,
      fetch: options.fetch,
    });
    await options.tokens.save(tokens);
    page(res, 200, 'mautic-tracker is authorized. You can close this tab.');
    return { tokens };
  } catch (err) {
    page(res, 502, 'Mautic refused the authorization code; see the terminal.');
    const message = err instanceof MauticApiError ? err.message : err instanceof Error ? err.message : String(err);
    return { error: new AuthorizeError(`exchanging the code failed: ${message}`) };
  }
}

function page(res: ServerResponse, status: number, text: string): void {
  const html = `<!doctype html><meta charset="utf-8"><title>mautic-tracker</title><p>${text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)}</p>`;
  res.writeHead(status, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store', 'content-security-policy': "default-src 'none'" });
  res.end(html);
}

function listen(server: Server, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
}

export interface AuthorizeCommandIo {
  print: (line: string) => void;
  error: (line: string) => void;
  fetch?: typeof fetch;
  signal?: AbortSignal;
}

export const AUTHORIZE_USAGE = `Usage: mautic-tracker authorize [options]

Authorizes the proxy with Mautic once (OAuth2 authorization code), for API clients that may not
use client_credentials. Register http://127.0.0.1:<port>/callback as the client's redirect URI.

Options:
  --url <url>           Mautic's base URL (or MAUTIC_URL)
  --client-id <id>      the API client's public id (or MAUTIC_CLIENT_ID)
  --port <n>            loopback port of the redirect (default ${DEFAULT_AUTHORIZE_PORT})
  --token-file <path>   where to save the tokens (or MAUTIC_TOKEN_FILE; default ${DEFAULT_TOKEN_FILE})
  --timeout <seconds>   how long to wait for the browser (default 300)
The client secret is read from MAUTIC_CLIENT_SECRET only.`;

/** The command: parses its arguments, runs the flow, returns the exit code. */
export async function authorizeCommand(argv: readonly string[], env: NodeJS.ProcessEnv, io: AuthorizeCommandIo): Promise<number> {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: {
        url: { type: 'string' },
        'client-id': { type: 'string' },
        port: { type: 'string' },
        'token-file': { type: 'string' },
        timeout: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (err) {
    io.error(`${err instanceof Error ? err.message : String(err)}\n\n${AUTHORIZE_USAGE}`);
    return 2;
  }
  if (values.help) {
    io.print(AUTHORIZE_USAGE);
    return 0;
  }
  const mauticUrl = String(values.url ?? env.MAUTIC_URL ?? '').trim();
  const clientId = String(values['client-id'] ?? env.MAUTIC_CLIENT_ID ?? '').trim();
  const clientSecret = env.MAUTIC_CLIENT_SECRET ?? '';
  const port = Number(values.port ?? DEFAULT_AUTHORIZE_PORT);
  const timeoutSeconds = Number(values.timeout ?? 300);
  const problems: string[] = [];
  try {
    const u = new URL(mauticUrl);
    if (u.protocol !== 'https:' && u.protocol !== 'http:') problems.push('--url must be an http(s) URL');
  } catch {
    problems.push('--url (or MAUTIC_URL) is required: your Mautic, e.g. https://mautic.example.com');
  }
  if (clientId === '') problems.push('--client-id (or MAUTIC_CLIENT_ID) is required');
  if (clientSecret === '') problems.push('MAUTIC_CLIENT_SECRET is required (in the environment)');
  if (!Number.isInteger(port) || port < 0 || port > 65535) problems.push('--port must be 0..65535');
  if (!Number.isFinite(timeoutSeconds) || timeoutSeconds < 1 || timeoutSeconds > 3600) problems.push('--timeout must be 1..3600 seconds');
  if (problems.length > 0) {
    io.error(problems.join('\n'));
    return 2;
  }
  const tokenFile = String(values['token-file'] ?? env.MAUTIC_TOKEN_FILE ?? DEFAULT_TOKEN_FILE);
  try {
    await authorizeWithLoopback({
      mauticUrl: mauticUrl.replace(/\/+$/, ''),
      clientId,
      clientSecret,
      tokens: new FileTokenStore(tokenFile),
      port,
      timeoutMs: timeoutSeconds * 1000,
      print: io.print,
      fetch: io.fetch,
      signal: io.signal,
    });
    io.print(`Saved to ${tokenFile}. In the proxy config:`);
    io.print(`  auth: { type: 'oauth2', grant: 'authorization_code', clientId, clientSecret, tokens: new FileTokenStore('${tokenFile}') }`);
    return 0;
  } catch (err) {
    if (err instanceof AuthorizeError) {
      io.error(err.message);
      return 1;
    }
    if ((err as NodeJS.ErrnoException).code === 'EADDRINUSE') {
      io.error(`port ${port} is in use; pick another with --port (and register that redirect URI in Mautic)`);
      return 1;
    }
    throw err;
  }
}

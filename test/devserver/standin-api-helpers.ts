/**
 * REST helpers for the stand-in tests: a client_credentials token and JSON calls over real HTTP.
 */
import { afterAll, beforeAll, beforeEach } from 'vitest';
import { startStandin, type Standin, type StandinOptions } from '../../src/devserver/index.js';

export const API_CLIENT = { id: 'client-1', secret: 's3cret-value' };

export const CHROME_UA =
  'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.6099.109 Safari/537.36';

export async function apiToken(mautic: Standin): Promise<string> {
  const response = await fetch(`${mautic.url}/oauth/v2/token`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: `grant_type=client_credentials&client_id=${API_CLIENT.id}&client_secret=${API_CLIENT.secret}`,
  });
  if (response.status !== 200) throw new Error(`token request answered ${response.status}`);
  return ((await response.json()) as { access_token: string }).access_token;
}

export interface ApiAnswer {
  status: number;
  headers: Headers;
  /** Parsed JSON; loosely typed so assertions can walk recorded-style shapes. */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  body: any;
}

/** A call with a JSON body (when given); the answer's JSON parsed. */
export async function apiCall(mautic: Standin, token: string, method: string, path: string, body?: unknown): Promise<ApiAnswer> {
  const headers: Record<string, string> = { Authorization: `Bearer ${token}` };
  const init: RequestInit = { method, headers };
  if (body !== undefined) {
    init.body = JSON.stringify(body);
    headers['Content-Type'] = 'application/json';
  }
  const response = await fetch(`${mautic.url}${path}`, init);
  const text = await response.text();
  return { status: response.status, headers: response.headers, body: text === '' ? null : (JSON.parse(text) as unknown) };
}

/**
 * For a describe block: one stand-in that accepts the test client, reset with a fresh token before
 * each test, closed after the block.
 */
export interface ApiStandin {
  readonly mautic: Standin;
  call(method: string, path: string, body?: unknown): Promise<ApiAnswer>;
  /** A fresh stand-in state (what `reset()` restores) and a new token, within a test. */
  reset(): Promise<void>;
}

export function useApiStandin(options: StandinOptions = {}): ApiStandin {
  let mautic: Standin;
  let token = '';
  beforeAll(async () => {
    mautic = await startStandin({ api: { clients: [API_CLIENT] }, ...options });
  });
  afterAll(() => mautic.close());
  const reset = async (): Promise<void> => {
    mautic.reset();
    token = await apiToken(mautic);
  };
  beforeEach(reset);
  return {
    reset,
    get mautic() {
      return mautic;
    },
    call: (method, path, body) => apiCall(mautic, token, method, path, body),
  };
}

/**
 * Start-up validation: unusable configs fail at once with messages that say what to fix, and
 * never echo a secret.
 */
import { describe, expect, it } from 'vitest';
import { createMauticProxy, MauticProxyConfigError, MemoryStore, type MauticProxyConfig } from '../../src/server/index.js';
import { installCapture } from './support/capture.js';
import { CLIENT_ID, CLIENT_SECRET, SECRET } from './support/secrets.js';

const capture = installCapture();
const base: MauticProxyConfig = { mauticUrl: 'https://mautic.example.com', secret: SECRET };

function problems(config: unknown): string[] {
  try {
    createMauticProxy(config as MauticProxyConfig);
  } catch (err) {
    expect(err).toBeInstanceOf(MauticProxyConfigError);
    capture.lines.push((err as Error).message);
    return (err as MauticProxyConfigError).problems;
  }
  return [];
}

describe('config validation', () => {
  it('accepts a minimal https config and loopback http', () => {
    expect(problems(base)).toEqual([]);
    for (const url of ['http://127.0.0.1:8080', 'http://localhost', 'http://[::1]:9000', 'https://example.com/mautic/']) {
      expect(problems({ ...base, mauticUrl: url }), url).toEqual([]);
    }
  });

  it('requires https unless the upstream is loopback, and a clean URL', () => {
    expect(problems({ ...base, mauticUrl: 'http://mautic.example.com' })).toEqual([
      'mauticUrl must use https (plain http is only allowed for loopback hosts)',
    ]);
    expect(problems({ ...base, mauticUrl: 'ftp://x' })[0]).toMatch(/http\(s\)/);
    expect(problems({ ...base, mauticUrl: 'mautic.example.com' })[0]).toMatch(/absolute URL/);
    expect(problems({ ...base, mauticUrl: undefined })[0]).toMatch(/required/);
    expect(problems({ ...base, mauticUrl: 'https://u:p@mautic.example.com' })[0]).toMatch(/credentials/);
    expect(problems({ ...base, mauticUrl: 'https://mautic.example.com/?a=1' })[0]).toMatch(/query/);
  });

  it('requires a secret of sane length, without echoing it', () => {
    expect(problems({ ...base, secret: '' })).toEqual(['secret is required (a non-empty string)']);
    expect(problems({ ...base, secret: 'short-secret' })).toEqual(['secret is too short: use at least 32 characters (random)']);
    expect(problems({ ...base, secret: ` ${SECRET}` })[0]).toMatch(/whitespace/);
    expect(problems({ ...base, secret: 'x'.repeat(5000) })[0]).toMatch(/too long/);
    const msg = problems({ ...base, auth: { type: 'oauth2', clientId: CLIENT_ID, clientSecret: 'abc' } }).join('\n');
    expect(msg).toMatch(/auth.clientSecret is too short/);
    expect(msg).not.toContain("'abc'");
  });

  it('checks basePath and route names', () => {
    for (const bad of ['mt', '/mt/', '/m t', '/mt/../x', '//mt', '/mt?x', '/%2e']) {
      expect(problems({ ...base, basePath: bad }).join(), bad).toMatch(/basePath/);
    }
    expect(problems({ ...base, basePath: '' })).toEqual([]);
    expect(problems({ ...base, basePath: '/a/b-c_d.e' })).toEqual([]);
    expect(problems({ ...base, paths: { event: 'e' } })).toEqual([`paths.event must look like '/e' or '/p.gif'`]);
    expect(problems({ ...base, paths: { event: '/x', pixel: '/x' } })).toEqual([`paths: '/x' is used by two routes`]);
    expect(problems({ ...base, paths: { admin: '/a' } })[0]).toMatch(/paths.admin is not a route/);
  });

  it('checks identify: needs auth, sane fields and origins, sane limits', () => {
    expect(problems({ ...base, identify: {} })).toEqual(['identify needs auth (REST API credentials)']);
    const auth = { type: 'oauth2', clientId: CLIENT_ID, clientSecret: CLIENT_SECRET } as const;
    expect(problems({ ...base, auth, identify: { allowedFields: ['firstname', 'last_name'] } })).toEqual([]);
    const p = problems({
      ...base,
      auth,
      identify: { mode: 'magic', allowedFields: ['FirstName', 'owner', 'points', 'a b'], allowedOrigins: ['https://ok.example', 'https://x.example/path', '*'], rateLimit: { max: 0 } },
    });
    expect(p).toEqual([
      `identify.mode must be 'token' or 'unsigned'`,
      `identify.allowedFields: 'FirstName' is not a field alias (lowercase letters, digits, _)`,
      `identify.allowedFields: 'owner' may not be set from a browser`,
      `identify.allowedFields: 'points' may not be set from a browser`,
      `identify.allowedFields: 'a b' is not a field alias (lowercase letters, digits, _)`,
      `identify.allowedOrigins: 'https://x.example/path' is not an origin like https://www.example.com`,
      `identify.allowedOrigins: '*' is not an origin like https://www.example.com`,
      'identify.rateLimit.max must be an integer between 1 and 1000000',
    ]);
    expect(problems({ ...base, auth: { type: 'token' } }).join()).toMatch(/auth.type must be/);
    expect(problems({ ...base, auth: { type: 'basic', username: 'a:b', password: 'long-enough-pw' } }).join()).toMatch(/username/);
  });

  it('checks identify.history (what setup-identify prints), the store, and names the removed per-feature stores', () => {
    const auth = { type: 'oauth2', clientId: CLIENT_ID, clientSecret: CLIENT_SECRET } as const;
    const ok = { field: 'mt_visitor_ref', formId: 3, survivor: 'tracked', mauticVersion: '5.1.0' } as const;
    expect(problems({ ...base, auth, identify: { history: ok } })).toEqual([]);
    expect(problems({ ...base, auth, identify: { history: false } })).toEqual([]);
    expect(problems({ ...base, store: new MemoryStore() })).toEqual([]);
    expect(problems({ ...base, store: { get: () => undefined } as never, hitIdTtlSeconds: 10 })).toEqual([
      'store must implement increment, setIfAbsent, get and set (see ProxyStore)',
      'hitIdTtlSeconds must be an integer between 60 and 604800',
    ]);
    expect(problems({ ...base, auth, identify: { usedTokens: { claim: () => true }, rateLimit: { store: { hit: () => 1 } } } as never })).toEqual([
      'identify.rateLimit.store was removed: pass one `store` (a ProxyStore) to createMauticProxy',
      'identify.usedTokens was removed: pass one `store` (a ProxyStore) to createMauticProxy',
    ]);
    expect(
      problems({
        ...base,
        auth,
        identify: {
          history: { field: 'Bad Field', formId: 0, survivor: 'newest', mauticVersion: '5.1.0; drop' } as never,
        },
      }),
    ).toEqual([
      `identify.history.field must be a custom field alias like 'mt_visitor_ref'`,
      'identify.history.formId must be a positive integer (the form setup-identify created)',
      `identify.history.survivor must be 'tracked', 'found' or 'oldest'`,
      'identify.history.mauticVersion must be a version like 5.1.0',
    ]);
    expect(problems({ ...base, auth, identify: { history: { ...ok, field: 'email' } } })).toEqual([`identify.history.field must be a custom field alias like 'mt_visitor_ref'`]);
  });

  it('checks the parameter policy options: field aliases and a boolean', () => {
    expect(problems({ ...base, uniqueIdentifierFields: ['email', 'customer_ref'], passIdentityParams: false })).toEqual([]);
    expect(problems({ ...base, passIdentityParams: true })).toEqual([]);
    expect(problems({ ...base, uniqueIdentifierFields: 'email' as unknown as string[] })).toEqual(['uniqueIdentifierFields must be an array of field aliases']);
    expect(problems({ ...base, uniqueIdentifierFields: ['Email', 'a b', 7 as unknown as string] })).toEqual([
      `uniqueIdentifierFields: 'Email' is not a field alias (lowercase letters, digits, _)`,
      `uniqueIdentifierFields: 'a b' is not a field alias (lowercase letters, digits, _)`,
      `uniqueIdentifierFields: '7' is not a field alias (lowercase letters, digits, _)`,
    ]);
    expect(problems({ ...base, passIdentityParams: 'yes' as unknown as boolean })).toEqual(['passIdentityParams must be true or false']);
  });

  it('lists every problem at once', () => {
    const p = problems({ mauticUrl: 'http://mautic.example.com', secret: 'x', basePath: 'bad', timeoutMs: -1, maxBodyBytes: 10 });
    expect(p).toHaveLength(5);
    expect(() => createMauticProxy({ mauticUrl: 'http://mautic.example.com', secret: 'x' })).toThrow(/Invalid mautic proxy config:\n - /);
  });
});

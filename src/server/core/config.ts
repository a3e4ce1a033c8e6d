/**
 * The proxy's configuration: the public shape, defaults, and start-up validation with clear
 * messages. Validation collects every problem, then throws one `MauticProxyConfigError`.
 * Messages name the offending option but never echo a secret's value.
 */
import { TRACKER_ROUTES, type RoutePaths } from '../../protocol/routes.js';
import { ALWAYS_IDENTITY_PARAMS } from './hit-params.js';
import type { LoggerOption } from './logger.js';
import { proxiedScript, routedScript } from './script-routes.js';
import type { TokenStore } from '../rest/token-store.js';
import { MemoryStore, type ProxyStore } from './store.js';

/** Renamable route paths, relative to `basePath` (defaults: `TRACKER_ROUTES`, src/protocol/routes.ts). */
export type ProxyRoutePaths = RoutePaths;

/**
 * REST API credentials. Never sent to a browser, never logged. OAuth2 with
 * `grant: 'client_credentials'` (default; API clients an admin made) or
 * `grant: 'authorization_code'` (any API client; authorise once with `npx mautic-tracker authorize`,
 * `tokens` then holds the rotating refresh token), or HTTP Basic.
 */
export type MauticAuthConfig =
  | { type: 'oauth2'; clientId: string; clientSecret: string; grant?: 'client_credentials'; tokens?: TokenStore }
  | { type: 'oauth2'; clientId: string; clientSecret: string; grant: 'authorization_code'; tokens: TokenStore }
  | { type: 'basic'; username: string; password: string };

/** Which contact Mautic keeps when a form post merges two (docs/protocol.md §10.18, §12). */
export type MergeSurvivor = 'tracked' | 'found' | 'oldest';

/**
 * Moving an anonymous browser contact's history onto the known contact (what
 * `npx mautic-tracker setup-identify` prints). Mautic's REST API cannot merge; a form post that
 * finds the anonymous contact through a hidden unique field does, with the known contact kept.
 */
export interface IdentifyHistoryConfig {
  /** Alias of the hidden custom contact field (a unique identifier), e.g. `mt_visitor_ref`. */
  field: string;
  /** Id of the standalone form that carries that field as a hidden field. */
  formId: number;
  /** The form field's alias when it differs from `field`. */
  formField?: string;
  /**
   * Which contact this Mautic keeps in a form-post merge, as setup-identify measured it. Absent:
   * unknown, and the merge is skipped (it could otherwise delete the known contact).
   */
  survivor?: MergeSurvivor;
  /** The Mautic version that was measured; absent, or on any other version, the merge is skipped until setup-identify runs again. */
  mauticVersion?: string;
}

export interface IdentifyConfig {
  /**
   * `'token'` (default): the browser must send a token minted by the site's backend with
   * `mintIdentityToken`. `'unsigned'`: anyone may claim any email. Use it only for public lead
   * forms, where the visitor types their own email: that visitor's browser then counts for the
   * contact with that email.
   */
  mode?: 'token' | 'unsigned';
  /** Secret for identity tokens; defaults to the proxy's `secret` (the signatures are domain-separated). */
  tokenSecret?: string;
  /** Contact field aliases the browser may set besides `email`. Default: none. */
  allowedFields?: string[];
  /**
   * Origins allowed to call identify (CSRF). Default: the origin the browser used, from its
   * `Host` header (or `X-Forwarded-Host` behind `trustedHops` in the Node adapters).
   */
  allowedOrigins?: string[];
  /** Per-IP limit. Default 10 requests per 60 s, counted in the proxy's `store`. */
  rateLimit?: { max?: number; windowSeconds?: number };
  /**
   * Move an anonymous browser contact's history (hits, UTM rows, tags) onto the known contact
   * whose email it logs in with. `false`: never (no form submission on your contacts'
   * timelines; later hits still count for the known contact). Absent: off, with a warning.
   * Never runs in `mode: 'unsigned'`.
   */
  history?: IdentifyHistoryConfig | false;
}

export interface MauticProxyConfig {
  /** Mautic's base URL. https unless loopback. */
  mauticUrl: string;
  /** Where the routes live on the site, e.g. `/mt` (default). `''` mounts them at the root. */
  basePath?: string;
  /** Signs the binding cookie. At least 32 characters. */
  secret: string;
  /** Route names, e.g. `{ event: '/e', pixel: '/p.gif' }` so ad-block lists don't match. */
  paths?: Partial<ProxyRoutePaths>;
  /**
   * The SDK script: `dist/mtc.js`, or `dist/mtc.durable.js` (the durable send queue; the proxy marks
   * the copy it serves, so its hits carry hit ids). Load it with `loadSdkScript()` on Node. Absent: 404.
   */
  script?: string | Uint8Array;
  /** `Cache-Control` max-age of the script, seconds. Default 3600. */
  scriptMaxAgeSeconds?: number;
  /** REST credentials; required for identification. */
  auth?: MauticAuthConfig;
  /** Enables `{base}/identify` (needs `auth`). */
  identify?: IdentifyConfig;
  /** Upstream timeout, ms. Default 10000. */
  timeoutMs?: number;
  /** Request body limit, bytes. Default 16384. */
  maxBodyBytes?: number;
  /** Longest accepted request URL (path + query), characters. Default 8192. */
  maxUrlLength?: number;
  /** Force `Secure` on cookies; default: when the request URL is https. */
  secureCookies?: boolean;
  /** Path of the relayed Mautic cookies. Default `/`, shared with the SDK's own cookies. */
  cookiePath?: string;
  /** Name of the signed binding cookie. Default `mt_binding`. */
  bindingCookieName?: string;
  /** Lifetime of the binding cookie, seconds. Default 400 days. */
  bindingMaxAgeSeconds?: number;
  /** Log sink. Default `'silent'`. */
  logger?: LoggerOption;
  /** Custom fetch (tests, instrumentation). Default `globalThis.fetch`. */
  fetch?: typeof fetch;
  /**
   * The contact fields your Mautic uses as unique identifiers (*Custom Fields → Is Unique
   * Identifier*). Default `['email']`. Relayed hits never carry them (nor `email`, `ct`,
   * `mtc_id`), in the hit or in its `page_url`'s query, unless `passIdentityParams` is true.
   */
  uniqueIdentifierFields?: string[];
  /**
   * Pass `email`, the unique-identifier fields, `ct` and `mtc_id` of hits on to Mautic. Default
   * false. Only for sites that set publicly updatable fields from the browser and accept that
   * anyone can then claim any contact by its email; identify through `/identify` instead.
   */
  passIdentityParams?: boolean;
  /**
   * What to do with hits that carry `DNT: 1` or `Sec-GPC: 1`. `'forward'` (default): pass both
   * headers on to Mautic, which drops such hits from 7.1 on (5.x and 6.x still record them).
   * `'answer'`: the proxy answers them itself, without calling Mautic, as Mautic answers a hit it
   * does not track: `{"success":1,"id":0,"sid":null,"device_id":null,"events":[]}` (event),
   * `{"id":0,"sid":null,"device_id":null}` (contact ids), the GIF (pixel), no cookie.
   */
  privacySignals?: 'forward' | 'answer';
  /**
   * Where the state shared between requests lives: the identify rate limit, spent identity
   * tokens, hit ids and the OAuth2 token cache. Default: this process's memory (bounded). Several
   * instances pass one shared store, e.g. `createRedisStore()` from `mautic-tracker/server/redis`
   * or `createCloudflareStore()` from `mautic-tracker/server/cloudflare`.
   */
  store?: ProxyStore;
  /**
   * How long a hit id (`mt_hit_id`) is remembered, seconds: a retry of the same hit within this
   * time is answered from the store and not recorded again. Default 86 400 (24 h).
   */
  hitIdTtlSeconds?: number;
}

/** Thrown by `createMauticProxy` when the configuration is unusable. */
export class MauticProxyConfigError extends Error {
  readonly problems: string[];
  constructor(problems: string[]) {
    super(`Invalid mautic proxy config:\n - ${problems.join('\n - ')}`);
    this.name = 'MauticProxyConfigError';
    this.problems = problems;
  }
}

export const DEFAULT_PATHS: Readonly<ProxyRoutePaths> = TRACKER_ROUTES;

/** Fields the browser may never set, even if an admin allowlists them by mistake. */
const RESERVED_FIELDS = new Set([
  'id',
  'owner',
  'ipaddress',
  'lastactive',
  'tags',
  'points',
  'stage',
  'donotcontact',
  'frequencyrules',
  'overwritewithblank',
  'email',
]);

export interface ResolvedConfig {
  mauticUrl: string;
  basePath: string;
  secret: string;
  paths: ProxyRoutePaths;
  script: Uint8Array<ArrayBuffer> | null;
  scriptMaxAgeSeconds: number;
  auth: MauticAuthConfig | null;
  identify: {
    mode: 'token' | 'unsigned';
    tokenSecret: string;
    allowedFields: ReadonlySet<string>;
    allowedOrigins: ReadonlySet<string> | null;
    rateLimit: { max: number; windowMs: number };
    /** null: off (`explicitlyOff` says whether the site chose that). */
    history: Required<Omit<IdentifyHistoryConfig, 'survivor' | 'mauticVersion'>> & Pick<IdentifyHistoryConfig, 'survivor' | 'mauticVersion'> | null;
    historyExplicitlyOff: boolean;
  } | null;
  timeoutMs: number;
  maxBodyBytes: number;
  maxUrlLength: number;
  secureCookies: boolean | null;
  cookiePath: string;
  bindingCookieName: string;
  bindingMaxAgeSeconds: number;
  logger: LoggerOption | undefined;
  fetch: typeof fetch;
  /** Hit parameter names the relay drops (PHP-normalised, see hit-params.ts); empty with `passIdentityParams`. */
  droppedHitParams: ReadonlySet<string>;
  /** `privacySignals: 'answer'`: hits with `DNT: 1` or `Sec-GPC: 1` are answered without Mautic. */
  answerPrivacySignals: boolean;
  /** Every secret value, for the log redactor. */
  secrets: string[];
  /** The configured store, or a fresh bounded memory store. */
  store: ProxyStore;
  /**
   * Where hit ids go: the configured store, or (in memory) a store of their own, so a flood of
   * distinct hit ids can never push spent tokens or rate-limit counters out of a full memory store.
   */
  hitStore: ProxyStore;
  hitIdTtlMs: number;
}

const PATH_SEGMENT = /^[A-Za-z0-9._~-]+$/;
/** A Mautic contact field alias. */
const FIELD_ALIAS = /^[a-z][a-z0-9_]{0,63}$/;

/** `/a/b` form: leading slash, no trailing slash, no empty or dot segments, safe characters. */
export function isCleanPath(path: string, allowEmpty: boolean): boolean {
  if (path === '') return allowEmpty;
  if (!path.startsWith('/') || path.length > 200) return false;
  return path
    .slice(1)
    .split('/')
    .every((seg) => PATH_SEGMENT.test(seg) && seg !== '.' && seg !== '..');
}

export function isLoopbackHost(hostname: string): boolean {
  const h = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  return h === 'localhost' || h.endsWith('.localhost') || /^127\.\d+\.\d+\.\d+$/.test(h) || h === '::1';
}

function checkSecret(problems: string[], name: string, value: unknown, min: number): void {
  if (typeof value !== 'string' || value.length === 0) problems.push(`${name} is required (a non-empty string)`);
  else if (value.trim().length !== value.length) problems.push(`${name} must not start or end with whitespace`);
  else if (value.length < min) problems.push(`${name} is too short: use at least ${min} characters (random)`);
  else if (value.length > 4096) problems.push(`${name} is too long (at most 4096 characters)`);
}

function checkInt(problems: string[], name: string, value: unknown, min: number, max: number): void {
  if (value === undefined) return;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    problems.push(`${name} must be an integer between ${min} and ${max}`);
  }
}

const SURVIVORS: ReadonlySet<string> = new Set(['tracked', 'found', 'oldest']);

function resolveHistory(problems: string[], value: IdentifyHistoryConfig | false | undefined): NonNullable<ResolvedConfig['identify']>['history'] {
  if (value === undefined || value === false) return null;
  if (typeof value !== 'object' || value === null) {
    problems.push('identify.history must be false or { field, formId, survivor, mauticVersion } (see `npx mautic-tracker setup-identify`)');
    return null;
  }
  const before = problems.length;
  if (typeof value.field !== 'string' || !FIELD_ALIAS.test(value.field) || RESERVED_FIELDS.has(value.field)) {
    problems.push(`identify.history.field must be a custom field alias like 'mt_visitor_ref'`);
  }
  if (typeof value.formId !== 'number' || !Number.isSafeInteger(value.formId) || value.formId < 1) {
    problems.push('identify.history.formId must be a positive integer (the form setup-identify created)');
  }
  if (value.formField !== undefined && (typeof value.formField !== 'string' || !FIELD_ALIAS.test(value.formField))) {
    problems.push('identify.history.formField must be a form field alias');
  }
  if (value.survivor !== undefined && !SURVIVORS.has(value.survivor)) {
    problems.push(`identify.history.survivor must be 'tracked', 'found' or 'oldest'`);
  }
  if (value.mauticVersion !== undefined && (typeof value.mauticVersion !== 'string' || !/^[0-9A-Za-z.+-]{1,32}$/.test(value.mauticVersion))) {
    problems.push('identify.history.mauticVersion must be a version like 5.1.0');
  }
  if (problems.length > before) return null;
  return {
    field: value.field,
    formId: value.formId,
    formField: value.formField ?? value.field,
    ...(value.survivor ? { survivor: value.survivor } : {}),
    ...(value.mauticVersion ? { mauticVersion: value.mauticVersion } : {}),
  };
}

/** Validates and fills defaults. Throws `MauticProxyConfigError` listing every problem. */
export function resolveConfig(input: MauticProxyConfig): ResolvedConfig {
  const problems: string[] = [];
  if (typeof input !== 'object' || input === null) throw new MauticProxyConfigError(['config must be an object']);

  let mauticUrl = '';
  try {
    const url = new URL(String(input.mauticUrl));
    if (url.protocol !== 'https:' && url.protocol !== 'http:') problems.push('mauticUrl must be an http(s) URL');
    else if (url.protocol === 'http:' && !isLoopbackHost(url.hostname)) {
      problems.push('mauticUrl must use https (plain http is only allowed for loopback hosts)');
    }
    if (url.username || url.password) problems.push('mauticUrl must not contain credentials; use `auth`');
    if (url.search || url.hash) problems.push('mauticUrl must not have a query or fragment');
    mauticUrl = url.origin + url.pathname.replace(/\/+$/, '');
  } catch {
    problems.push('mauticUrl is required and must be an absolute URL, e.g. https://mautic.example.com');
  }

  const basePath = input.basePath ?? '/mt';
  if (typeof basePath !== 'string' || !isCleanPath(basePath, true)) {
    problems.push(`basePath must be '' or like '/mt' (leading slash, no trailing slash, letters, digits, . _ ~ -)`);
  }

  checkSecret(problems, 'secret', input.secret, 32);

  const paths: ProxyRoutePaths = { ...DEFAULT_PATHS };
  for (const [key, value] of Object.entries(input.paths ?? {})) {
    if (!(key in DEFAULT_PATHS)) {
      problems.push(`paths.${key} is not a route (known: ${Object.keys(DEFAULT_PATHS).join(', ')})`);
      continue;
    }
    if (typeof value !== 'string' || !isCleanPath(value, false)) {
      problems.push(`paths.${key} must look like '/e' or '/p.gif'`);
      continue;
    }
    paths[key as keyof ProxyRoutePaths] = value;
  }
  const seen = new Set<string>();
  for (const value of Object.values(paths)) {
    if (seen.has(value)) problems.push(`paths: '${value}' is used by two routes`);
    seen.add(value);
  }

  let script: Uint8Array<ArrayBuffer> | null = null;
  if (typeof input.script === 'string') script = new TextEncoder().encode(input.script);
  else if (input.script instanceof Uint8Array) script = new Uint8Array(input.script); // a private copy: later edits by the caller cannot change the ETag
  else if (input.script !== undefined) problems.push('script must be a string or Uint8Array (the content of dist/mtc.js)');
  if (script) {
    // The served script must send to the renamed routes, or every hit from it would be a 404.
    const routed = routedScript(script, paths);
    if (routed.ok) script = proxiedScript(routed.script);
    else problems.push(`script: cannot carry paths.${routed.route} into it (its route '${TRACKER_ROUTES[routed.route]}' is not there exactly once: is it dist/mtc.js of this version?)`);
  }

  checkInt(problems, 'scriptMaxAgeSeconds', input.scriptMaxAgeSeconds, 0, 31_536_000);
  checkInt(problems, 'timeoutMs', input.timeoutMs, 100, 120_000);
  checkInt(problems, 'maxBodyBytes', input.maxBodyBytes, 1024, 1_048_576);
  checkInt(problems, 'maxUrlLength', input.maxUrlLength, 256, 65_536);
  checkInt(problems, 'bindingMaxAgeSeconds', input.bindingMaxAgeSeconds, 60, 34_560_000);

  const cookiePath = input.cookiePath ?? '/';
  if (typeof cookiePath !== 'string' || !(cookiePath === '/' || isCleanPath(cookiePath, false))) {
    problems.push(`cookiePath must be '/' or like '/mt'`);
  }
  const bindingCookieName = input.bindingCookieName ?? 'mt_binding';
  if (typeof bindingCookieName !== 'string' || !/^[A-Za-z0-9_-]{1,64}$/.test(bindingCookieName)) {
    problems.push('bindingCookieName must be 1–64 letters, digits, _ or -');
  }

  const secrets: string[] = typeof input.secret === 'string' ? [input.secret] : [];

  let auth: MauticAuthConfig | null = null;
  if (input.auth !== undefined) {
    const a = input.auth as Partial<Record<string, unknown>>;
    if (a.type === 'oauth2') {
      if (typeof a.clientId !== 'string' || a.clientId.length === 0) problems.push('auth.clientId is required');
      checkSecret(problems, 'auth.clientSecret', a.clientSecret, 8);
      if (typeof a.clientSecret === 'string') secrets.push(a.clientSecret);
      if (a.grant !== undefined && a.grant !== 'client_credentials' && a.grant !== 'authorization_code') {
        problems.push(`auth.grant must be 'client_credentials' or 'authorization_code'`);
      }
      const tokens = a.tokens as Partial<TokenStore> | undefined;
      if (tokens !== undefined && (typeof tokens?.load !== 'function' || typeof tokens.save !== 'function')) {
        problems.push('auth.tokens must be a token store (load(), save(tokens)), e.g. new FileTokenStore(path)');
      } else if (a.grant === 'authorization_code' && tokens === undefined) {
        problems.push("auth.tokens is required with grant 'authorization_code' (where `npx mautic-tracker authorize` saved them)");
      }
    } else if (a.type === 'basic') {
      if (typeof a.username !== 'string' || a.username.length === 0 || a.username.includes(':')) {
        problems.push('auth.username is required and must not contain ":"');
      }
      checkSecret(problems, 'auth.password', a.password, 8);
      if (typeof a.password === 'string') secrets.push(a.password);
    } else {
      problems.push(`auth.type must be 'oauth2' or 'basic'`);
    }
    auth = input.auth;
  }

  let identify: ResolvedConfig['identify'] = null;
  if (input.identify !== undefined) {
    const id = input.identify;
    if (!auth) problems.push('identify needs auth (REST API credentials)');
    const mode = id.mode ?? 'token';
    if (mode !== 'token' && mode !== 'unsigned') problems.push(`identify.mode must be 'token' or 'unsigned'`);
    const tokenSecret = id.tokenSecret ?? (typeof input.secret === 'string' ? input.secret : '');
    if (id.tokenSecret !== undefined) {
      checkSecret(problems, 'identify.tokenSecret', id.tokenSecret, 32);
      if (typeof id.tokenSecret === 'string') secrets.push(id.tokenSecret);
    }
    const fields = new Set<string>();
    if (id.allowedFields !== undefined && !Array.isArray(id.allowedFields)) {
      problems.push('identify.allowedFields must be an array of field aliases');
    }
    for (const field of id.allowedFields ?? []) {
      if (typeof field !== 'string' || !FIELD_ALIAS.test(field)) {
        problems.push(`identify.allowedFields: '${String(field)}' is not a field alias (lowercase letters, digits, _)`);
      } else if (RESERVED_FIELDS.has(field)) {
        problems.push(`identify.allowedFields: '${field}' may not be set from a browser`);
      } else fields.add(field);
    }
    let origins: Set<string> | null = null;
    if (id.allowedOrigins !== undefined) {
      origins = new Set();
      for (const origin of Array.isArray(id.allowedOrigins) ? id.allowedOrigins : [null]) {
        try {
          const u = new URL(String(origin));
          if (u.origin === 'null' || u.origin !== String(origin)) throw new Error('not an origin');
          origins.add(u.origin);
        } catch {
          problems.push(`identify.allowedOrigins: '${String(origin)}' is not an origin like https://www.example.com`);
        }
      }
    }
    const rl = id.rateLimit ?? {};
    checkInt(problems, 'identify.rateLimit.max', rl.max, 1, 1_000_000);
    checkInt(problems, 'identify.rateLimit.windowSeconds', rl.windowSeconds, 1, 86_400);
    // Removed in 0.2 (one `store` for every piece of state): a JavaScript caller gets told, not ignored.
    if ((rl as Record<string, unknown>).store !== undefined) problems.push('identify.rateLimit.store was removed: pass one `store` (a ProxyStore) to createMauticProxy');
    if ((id as Record<string, unknown>).usedTokens !== undefined) problems.push('identify.usedTokens was removed: pass one `store` (a ProxyStore) to createMauticProxy');
    const history = resolveHistory(problems, id.history);
    identify = {
      history,
      historyExplicitlyOff: id.history === false,
      mode: mode === 'unsigned' ? 'unsigned' : 'token',
      tokenSecret,
      allowedFields: fields,
      allowedOrigins: origins,
      rateLimit: { max: rl.max ?? 10, windowMs: (rl.windowSeconds ?? 60) * 1000 },
    };
  }

  const uniqueFields = input.uniqueIdentifierFields ?? ['email'];
  if (!Array.isArray(uniqueFields)) problems.push('uniqueIdentifierFields must be an array of field aliases');
  else {
    for (const field of uniqueFields) {
      if (typeof field !== 'string' || !FIELD_ALIAS.test(field)) {
        problems.push(`uniqueIdentifierFields: '${String(field)}' is not a field alias (lowercase letters, digits, _)`);
      }
    }
  }
  if (input.passIdentityParams !== undefined && typeof input.passIdentityParams !== 'boolean') {
    problems.push('passIdentityParams must be true or false');
  }
  const droppedHitParams: ReadonlySet<string> =
    input.passIdentityParams === true ? new Set() : new Set(['email', ...ALWAYS_IDENTITY_PARAMS, ...(Array.isArray(uniqueFields) ? uniqueFields : [])]);

  if (input.privacySignals !== undefined && input.privacySignals !== 'forward' && input.privacySignals !== 'answer') {
    problems.push(`privacySignals must be 'forward' or 'answer'`);
  }
  const store = input.store ?? new MemoryStore();
  if (!isProxyStore(store)) problems.push('store must implement increment, setIfAbsent, get and set (see ProxyStore)');
  checkInt(problems, 'hitIdTtlSeconds', input.hitIdTtlSeconds, 60, 604_800);

  const fetchImpl = input.fetch ?? globalThis.fetch;
  if (typeof fetchImpl !== 'function') problems.push('no fetch available: pass config.fetch');

  if (problems.length > 0) throw new MauticProxyConfigError(problems);

  return {
    mauticUrl,
    basePath,
    secret: input.secret,
    paths,
    script,
    scriptMaxAgeSeconds: input.scriptMaxAgeSeconds ?? 3600,
    auth,
    identify,
    timeoutMs: input.timeoutMs ?? 10_000,
    maxBodyBytes: input.maxBodyBytes ?? 16_384,
    maxUrlLength: input.maxUrlLength ?? 8192,
    secureCookies: input.secureCookies ?? null,
    cookiePath,
    bindingCookieName,
    bindingMaxAgeSeconds: input.bindingMaxAgeSeconds ?? 400 * 86_400,
    logger: input.logger,
    fetch: fetchImpl,
    droppedHitParams,
    answerPrivacySignals: input.privacySignals === 'answer',
    secrets,
    store,
    hitStore: input.store ?? new MemoryStore(),
    hitIdTtlMs: (input.hitIdTtlSeconds ?? 86_400) * 1000,
  };
}

function isProxyStore(value: unknown): value is ProxyStore {
  if (typeof value !== 'object' || value === null) return false;
  const s = value as Record<string, unknown>;
  return ['increment', 'setIfAbsent', 'get', 'set'].every((name) => typeof s[name] === 'function');
}

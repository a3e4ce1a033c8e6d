/**
 * Node builtins for the relay's transport, looked up at run time (`process.getBuiltinModule`,
 * Node ≥ 20.16) rather than imported: the package entry must stay importable on runtimes without
 * Node builtins, and a static import would break that.
 */
import type * as Http from 'node:http';
import type * as Https from 'node:https';
import type * as Zlib from 'node:zlib';

export interface NodeModules {
  http: typeof Http;
  https: typeof Https;
  zlib: typeof Zlib;
}

/** Null where unavailable: the adapters then keep the relay's `fetch` transport. */
export function nodeModules(): NodeModules | null {
  const get = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process?.getBuiltinModule;
  if (typeof get !== 'function') return null;
  const http = get('node:http') as typeof Http | undefined;
  const https = get('node:https') as typeof Https | undefined;
  const zlib = get('node:zlib') as typeof Zlib | undefined;
  return http && https && zlib ? { http, https, zlib } : null;
}

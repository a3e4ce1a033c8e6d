/**
 * Hit parameter encoding (PROTOCOL §3).
 *
 * Mautic's script sends `null`, `undefined` and objects as the strings `null`, `undefined`,
 * `[object Object]`, which Mautic stores (§9.5). We leave such values (and functions, symbols)
 * out instead; arrays stay comma lists (`tags: ['a', '-b']` → `tags=a%2C-b`), strings, numbers,
 * booleans and bigints go through `String()`.
 */
import type { HitParams } from './types.js';

/** The wire form of one value, or `undefined` when the value is left out. */
export const wireValue = (value: unknown): string | undefined =>
  // typeof: 'string', 'number', 'boolean', 'bigint' pass; 'symbol', 'object', 'function', 'undefined' don't.
  Array.isArray(value) || /^(st|n|b)/.test(typeof value) ? '' + value : undefined;

/**
 * Copies the sendable entries of `source` onto `target`. A key already in `target` keeps its
 * position and takes the new value, so a custom `page_title` replaces the default in place.
 * Anything but a plain object as `source` is ignored.
 *
 * @example mergeParams({ a: '1' }, { b: 2, c: null, a: 'x' }) // → { a: 'x', b: '2' }
 */
export const mergeParams = (target: HitParams, source: unknown): HitParams => {
  if (source && typeof source == 'object' && !Array.isArray(source)) {
    for (const key of Object.keys(source)) {
      const value = wireValue((source as Record<string, unknown>)[key]);
      if (value != null) target[key] = value;
    }
  }
  return target;
};

/**
 * `key=value&…` with `encodeURIComponent` on both sides (spaces as `%20`, as Mautic's script).
 *
 * @example encodeParams({ page_title: 'A & B' }) // → 'page_title=A%20%26%20B'
 */
export const encodeParams = (params: HitParams): string =>
  Object.keys(params)
    .map((key) => encodeURIComponent(key) + '=' + encodeURIComponent(params[key]!))
    .join('&');

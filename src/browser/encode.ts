/**
 * Hit parameter encoding (PROTOCOL §3).
 *
 * Mautic's script sends `null`, `undefined` and objects as the strings `null`, `undefined`,
 * `[object Object]`, which Mautic stores (§9.5). We leave such values (and functions, symbols)
 * out instead; arrays stay comma lists (`tags: ['a', '-b']` → `tags=a%2C-b`), strings, numbers,
 * booleans and bigints go through `String()`.
 */
import type { HitParams } from './types.js';

/**
 * Copies the sendable entries of `source` onto `target`, as strings: strings, numbers, booleans,
 * bigints and arrays (as comma lists); other values are left out. A key already in `target`
 * keeps its position and takes the new value, so a custom `page_title` replaces the default in
 * place. Anything but a plain object as `source` is ignored.
 *
 * @example mergeParams({ a: '1' }, { b: 2, c: null, a: 'x' }) // → { a: 'x', b: '2' }
 */
export const mergeParams = (target: HitParams, source: unknown): HitParams => {
  if (typeof source == 'object' && !Array.isArray(source)) {
    // for…in over null runs no iteration, so null needs no test of its own.
    for (const key in source as Record<string, unknown>) {
      try {
        const value = (source as Record<string, unknown>)[key];
        // typeof: 'string', 'number', 'boolean', 'bigint' pass; 'symbol', 'object', 'function', 'undefined' don't.
        if (Array.isArray(value) || /^(st|n|b)/.test(typeof value)) target[key] = '' + value;
      } catch {
        // A throwing getter (or an array whose item throws in toString): left out like any odd value.
      }
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

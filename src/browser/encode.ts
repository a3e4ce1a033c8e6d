/**
 * Hit parameter encoding (docs/protocol.md §3).
 *
 * Mautic's script sends every value through `String()`, so `null`, `undefined`, objects, `NaN`
 * and function source reach Mautic as `null`, `[object Object]`, `NaN`, … and are stored (§9.5).
 * We send only strings, finite numbers and booleans, and arrays of those as comma lists (`tags:
 * ['a', '-b']` → `tags=a%2C-b`, items of any other kind dropped); every other value (null,
 * undefined, objects, functions, symbols, NaN, ±Infinity, BigInt, Date, Promise, Map…) is left out.
 */
import type { HitParams } from './types.js';

/**
 * A value Mautic stores as meant: a string, a boolean or a finite number. BigInt and Date are left
 * out as well: a page that means the number or the date can pass `Number(x)` or an ISO string,
 * while `String()` of them (`10`, `Tue Dec 01 2026 10:00:00 GMT+0100 …`) is a guess Mautic cannot read back.
 */
const sendable = (value: unknown): boolean => typeof value == 'string' || typeof value == 'boolean' || Number.isFinite(value);

/**
 * Copies the sendable entries of `source` onto `target`, as strings (see above). A key already
 * in `target` keeps its position and takes the new value, so a custom `page_title` replaces the
 * default in place. Anything but a plain object as `source` is ignored; no `source` (a throwing
 * getter, a Proxy whose traps throw, a lone surrogate that `encodeURIComponent` refuses) can make
 * it throw: such an entry, or the rest of such an object, is left out.
 *
 * @example mergeParams({ a: '1' }, { b: 2, c: null, a: 'x', d: [1, {}, 'y'] }) // → { a: 'x', b: '2', d: '1,y' }
 */
export const mergeParams = (target: HitParams, source: unknown): HitParams => {
  try {
    if (typeof source == 'object' && !Array.isArray(source)) {
      // for…in over null runs no iteration, so null needs no test of its own.
      for (const key in source as Record<string, unknown>) {
        try {
          let value = (source as Record<string, unknown>)[key];
          if (Array.isArray(value)) value = '' + value.filter(sendable);
          // The probe throws for a lone surrogate in the key or the value (the `0` keeps two
          // halves from pairing across them), which would later throw out of `encodeParams`.
          if (sendable(value) && encodeURIComponent(key + 0 + value)) target[key] = '' + value;
        } catch {
          // A throwing getter or array item: left out like any odd value.
        }
      }
    }
  } catch {
    // A Proxy whose key listing throws: what was copied so far stays.
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

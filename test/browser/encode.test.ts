import { expect, test } from 'vitest';
import { encodeParams, mergeParams } from '../../src/browser/encode.js';

test('strings, finite numbers, booleans and arrays are sent; null, undefined, objects, functions, symbols, BigInt, Date are left out', () => {
  const params = mergeParams(
    {},
    {
      s: 'a b',
      n: 4.5,
      zero: 0,
      t: true,
      f: false,
      big: 10n,
      tags: ['a', '-b'],
      empty: '',
      nul: null,
      undef: undefined,
      obj: { a: 1 },
      date: new Date(0),
      fn: () => 1,
      sym: Symbol('x'),
    },
  );
  expect(params).toEqual({ s: 'a b', n: '4.5', zero: '0', t: 'true', f: 'false', tags: 'a,-b', empty: '' });
  expect(encodeParams(params)).toBe('s=a%20b&n=4.5&zero=0&t=true&f=false&tags=a%2C-b&empty=');
});

test('junk the attack run saw reach Mautic is left out: NaN, ±Infinity, Promises, Maps, functions, and such array items (issue 12)', () => {
  const params = mergeParams(
    {},
    {
      nan: NaN,
      inf: Infinity,
      ninf: -Infinity,
      promise: Promise.resolve(1),
      map: new Map([['a', 1]]),
      set: new Set([1]),
      boxed: new String('x'),
      regexp: /x/,
      error: new Error('x'),
      fn: function named() {
        return 1;
      },
      tags: [{ a: 1 }, null, 'x', undefined, NaN, Infinity, 2, false, () => 1, Symbol('s'), 10n, new Date(0), [1, 2], Promise.resolve()],
      onlyJunk: [null, {}],
      kept: 'yes',
    },
  );
  expect(params).toEqual({ tags: 'x,2,false', onlyJunk: '', kept: 'yes' });
});

test('prototype-polluting keys pollute nothing, and a lone surrogate (which encodeURIComponent refuses) is left out', () => {
  const source = JSON.parse('{"__proto__": {"polluted": "yes"}, "constructor": "c", "toString": "t", "ok": "1"}') as Record<string, unknown>;
  const target = mergeParams({}, source);
  expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  expect(Object.getPrototypeOf(target)).toBe(Object.prototype);
  expect(target).toEqual({ constructor: 'c', toString: 't', ok: '1' });
  expect(mergeParams({}, { bad: '\uD800', ['\uDC00key']: 'x', pair: '\uD83D\uDE00', ok: 1 })).toEqual({ pair: '\uD83D\uDE00', ok: '1' });
  expect(() => encodeParams(mergeParams({}, { a: '\uD800' }))).not.toThrow();
});

test('Proxies whose traps throw, revoked Proxies, cyclic and frozen objects never make it throw', () => {
  const trap = () => {
    throw new Error('trap');
  };
  const throwing = new Proxy({}, { ownKeys: trap, get: trap, getOwnPropertyDescriptor: trap, has: trap, getPrototypeOf: trap });
  const { proxy: revoked, revoke } = Proxy.revocable({ a: 1 }, {});
  revoke();
  const cyclic: Record<string, unknown> & unknown[] = Object.assign([] as unknown[], {}) as Record<string, unknown> & unknown[];
  cyclic.push(cyclic, 'c');
  const frozen = Object.freeze({ a: 'x', list: Object.freeze(['y', Object.freeze({})]) });
  const getters = new Proxy({ a: 1, b: 2 }, { get: (target, key) => (key === 'a' ? trap() : Reflect.get(target, key)) });
  for (const source of [throwing, revoked, { nested: throwing }, { nested: revoked }]) {
    expect(() => mergeParams({ keep: 'k' }, source)).not.toThrow();
    expect(mergeParams({ keep: 'k' }, source)).toEqual({ keep: 'k' });
  }
  expect(mergeParams({}, { cyclic })).toEqual({ cyclic: 'c' });
  expect(mergeParams({}, frozen)).toEqual({ a: 'x', list: 'y' });
  expect(mergeParams({}, getters)).toEqual({ b: '2' });
});

test('a key already present keeps its position and takes the new value', () => {
  const target = { page_title: 'Old', page_url: 'u', counter: '0' };
  mergeParams(target, { extra: 'x', page_url: 'new' });
  expect(Object.entries(target)).toEqual([
    ['page_title', 'Old'],
    ['page_url', 'new'],
    ['counter', '0'],
    ['extra', 'x'],
  ]);
});

test('a null entry does not remove or blank the default of the same name', () => {
  expect(mergeParams({ page_title: 'T' }, { page_title: null })).toEqual({ page_title: 'T' });
});

test('anything but a plain object as params is ignored', () => {
  for (const odd of [null, undefined, 0, 42, 'string', true, ['a', 'b'], () => 1, Symbol('s')]) {
    expect(mergeParams({ a: '1' }, odd)).toEqual({ a: '1' });
  }
});

test('encoding is encodeURIComponent on keys and values, spaces as %20', () => {
  expect(encodeParams({ 'a key': "x&y=z/é ü'()*!~" })).toBe("a%20key=x%26y%3Dz%2F%C3%A9%20%C3%BC'()*!~");
  expect(encodeParams({})).toBe('');
});

test('a throwing getter is left out, the rest is kept; an item whose toString throws is never called', () => {
  const hostile = { ok: 'yes' };
  Object.defineProperty(hostile, 'bad', {
    enumerable: true,
    get() {
      throw new Error('hostile getter');
    },
  });
  const badItem = { toString: () => { throw new Error('no'); } };
  // An object item is left out without being stringified: its throwing toString never runs.
  expect(mergeParams({}, { ...{ first: 1 }, list: [badItem, 'ok'] })).toEqual({ first: '1', list: 'ok' });
  expect(mergeParams({}, hostile)).toEqual({ ok: 'yes' });
});

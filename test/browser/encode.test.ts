import { expect, test } from 'vitest';
import { encodeParams, mergeParams } from '../../src/browser/encode.js';

test('strings, numbers, booleans, bigints and arrays are sent; null, undefined, objects, functions, symbols are left out', () => {
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
  expect(params).toEqual({ s: 'a b', n: '4.5', zero: '0', t: 'true', f: 'false', big: '10', tags: 'a,-b', empty: '' });
  expect(encodeParams(params)).toBe('s=a%20b&n=4.5&zero=0&t=true&f=false&big=10&tags=a%2C-b&empty=');
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

test('a throwing getter (or an item whose toString throws) is left out, the rest is kept', () => {
  const hostile = { ok: 'yes' };
  Object.defineProperty(hostile, 'bad', {
    enumerable: true,
    get() {
      throw new Error('hostile getter');
    },
  });
  const badItem = { toString: () => { throw new Error('no'); } };
  expect(mergeParams({}, { ...{ first: 1 }, list: [badItem] })).toEqual({ first: '1' });
  expect(mergeParams({}, hostile)).toEqual({ ok: 'yes' });
});

/**
 * Forwarded client IPs (issue 12, finding 5): only a syntactically valid IPv4 or IPv6 address is
 * taken from `X-Forwarded-For`; anything else (a port, brackets, a zone, `::::`) falls back to
 * the socket address. Checked on what a recording upstream receives through the Node adapter and
 * through `handle()`, and the core's Web-standard validator against Node's own parser.
 */
import { isIP } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { isIpAddress } from '../../src/server/core/ip.js';
import { createMauticProxy, toNodeListener, type MauticProxy } from '../../src/server/node/index.js';
import { installCapture } from './support/capture.js';
import { DEVICE, listen, startFakeUpstream, TRACKING_JSON, type FakeUpstream } from './support/fake-upstream.js';
import { rawRequest } from './support/raw-request.js';
import { SECRET } from './support/secrets.js';

const capture = installCapture();

/** Not addresses, though made of the characters addresses are made of. */
const NOT_ADDRESSES = [
  '1.2.3.4:5678',
  '::::',
  '[::1]',
  '[2001:db8::1]:443',
  'fe80::1%eth0',
  'fe80::1%25eth0',
  '1.2.3',
  '256.1.1.1',
  '01.2.3.4',
  '1.2.3.4/24',
  '1::2::3',
  ':::1',
  '1:2:3:4:5:6:7:8:9',
  '1:2:3:4:5:6:7::8',
  '12345::1',
  'g::1',
  '::ffff:01.2.3.4',
  'unknown',
  '',
];
const ADDRESSES = ['203.0.113.7', '0.0.0.0', '255.255.255.255', '::1', '::', '2001:db8::1', '1:2:3:4:5:6:7:8', '::ffff:1.2.3.4', '1:2:3:4:5:6:1.2.3.4', '1::', 'FE80::ABCD'];

describe('the core validator', () => {
  it('accepts addresses and refuses everything else, as node:net isIP does (zones aside)', () => {
    for (const text of ADDRESSES) expect(isIpAddress(text), text).toBe(true);
    for (const text of NOT_ADDRESSES) expect(isIpAddress(text), text).toBe(false);
    // Agreement with Node's parser on a seeded spread of near-addresses (zones are refused on purpose).
    let seed = 12;
    const random = (): number => ((seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31);
    const alphabet = '0123456789abcdef:.%[]';
    const disagreements: string[] = [];
    for (let i = 0; i < 20_000; i++) {
      let text = '';
      const length = 1 + Math.floor(random() * 20);
      for (let j = 0; j < length; j++) text += alphabet[Math.floor(random() * alphabet.length)];
      const node = isIP(text) !== 0 && !text.includes('%');
      if (node !== isIpAddress(text)) disagreements.push(text);
    }
    for (const text of [...ADDRESSES, ...NOT_ADDRESSES]) if ((isIP(text) !== 0 && !text.includes('%')) !== isIpAddress(text)) disagreements.push(text);
    expect(disagreements).toEqual([]);
  });
});

let upstream: FakeUpstream;
let proxy: MauticProxy;
let hopsSite: Awaited<ReturnType<typeof listen>>;

beforeAll(async () => {
  upstream = await startFakeUpstream(() => ({ status: 200, headers: { 'content-type': 'application/json' }, body: TRACKING_JSON(42, DEVICE) }));
  proxy = createMauticProxy({ mauticUrl: upstream.url, secret: SECRET, logger: capture.logger });
  hopsSite = await listen(toNodeListener(proxy, { trustedHops: 1 }));
});

afterAll(async () => {
  await Promise.all([hopsSite?.close(), upstream?.close()]);
});

beforeEach(() => {
  upstream.requests.length = 0;
});

const FORM = 'page_url=http%3A%2F%2Fsite.test%2Fp&counter=0';

describe('X-Forwarded-For through the Node adapter (trustedHops: 1)', () => {
  it('forwards a valid address of the trusted hop', async () => {
    for (const address of ['203.0.113.7', '2001:db8::1', '::ffff:198.51.100.2']) {
      const res = await rawRequest({
        port: hopsSite.port,
        method: 'POST',
        path: '/mt/mtc/event',
        headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-forwarded-for': `6.6.6.6, ${address}` },
        body: FORM,
      });
      expect(res.status, address).toBe(200);
    }
    expect(upstream.requests.map((r) => r.headers['x-forwarded-for'])).toEqual([['203.0.113.7'], ['2001:db8::1'], ['198.51.100.2']]);
  });

  it('falls back to the socket address for anything that is not an address', async () => {
    for (const junk of NOT_ADDRESSES.filter((text) => text !== '')) {
      const res = await rawRequest({
        port: hopsSite.port,
        method: 'POST',
        path: '/mt/mtc/event',
        headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-forwarded-for': `6.6.6.6, ${junk}` },
        body: FORM,
      });
      expect(res.status, junk).toBe(200);
      expect(upstream.requests.at(-1)!.headers['x-forwarded-for'], junk).toEqual(['127.0.0.1']);
    }
  });
});

describe('the clientIp a runtime passes to handle()', () => {
  it('is forwarded only when it is an address; otherwise no X-Forwarded-For is sent', async () => {
    const valid = ADDRESSES.slice(0, 3);
    for (const clientIp of [...valid, ...NOT_ADDRESSES]) {
      const res = await proxy.handle(
        new Request('https://site.test/mt/mtc/event', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: FORM }),
        { clientIp },
      );
      expect(res.status, clientIp).toBe(200);
      await capture.record(res);
      expect(upstream.requests.at(-1)!.headers['x-forwarded-for'], clientIp).toEqual(valid.includes(clientIp) ? [clientIp] : undefined);
    }
  });
});

/**
 * Two proxy instances for real: two Node processes running the built package, sharing nothing but
 * one redis-server, in front of the Mautic stand-in. A token spent on one is refused by the other;
 * the identify rate limit counts requests to both; a hit retried across them is recorded once,
 * also when the retry reaches the second while the first is still at Mautic.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStandin, type Standin } from '../../src/devserver/index.js';
import { mintIdentityToken } from '../../src/server/index.js';
import { installCapture } from './support/capture.js';
import { startRedisServer, type RedisServer } from './support/redis-server.js';
import { CLIENT_ID, CLIENT_SECRET, SECRET, TOKEN_SECRET } from './support/secrets.js';

const capture = installCapture();
const ORIGIN = 'http://site.test';
const FORM = 'page_title=Home&page_url=http%3A%2F%2Fsite.test%2F&counter=0';
const RATE_MAX = 6;

let redis: RedisServer;
let mautic: Standin;
const children: ChildProcess[] = [];
let one: string;
let two: string;

function startInstance(): Promise<string> {
  const config = {
    redisUrl: redis.url,
    proxy: {
      mauticUrl: mautic.url,
      secret: SECRET,
      auth: { type: 'oauth2', clientId: CLIENT_ID, clientSecret: CLIENT_SECRET },
      identify: { tokenSecret: TOKEN_SECRET, allowedOrigins: [ORIGIN], history: false, rateLimit: { max: RATE_MAX, windowSeconds: 60 } },
    },
  };
  const child = spawn(process.execPath, ['test/server/support/proxy-instance.mjs'], { env: { ...process.env, MT_INSTANCE: JSON.stringify(config) }, stdio: ['pipe', 'pipe', 'pipe'] });
  children.push(child);
  return new Promise((resolve, reject) => {
    let seen = '';
    const timer = setTimeout(() => reject(new Error(`instance did not start:\n${seen}`)), 15_000);
    const onData = (chunk: Buffer): void => {
      seen += chunk.toString();
      const match = /listening (\d+)/.exec(seen);
      if (match) {
        clearTimeout(timer);
        resolve(`http://127.0.0.1:${match[1]}`);
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`instance exited with ${code}:\n${seen}`)));
  });
}

beforeAll(async () => {
  [redis, mautic] = await Promise.all([startRedisServer(), startStandin({ api: { clients: [{ id: CLIENT_ID, secret: CLIENT_SECRET }] } })]);
  [one, two] = await Promise.all([startInstance(), startInstance()]);
}, 30_000);
afterAll(async () => {
  await Promise.all(
    children.map(
      (child) =>
        new Promise<void>((resolve) => {
          if (child.exitCode !== null) return resolve();
          child.once('exit', () => resolve());
          child.stdin!.end();
        }),
    ),
  );
  await mautic?.close();
  await redis?.stop();
});

async function identify(base: string, body: unknown, ip: string): Promise<{ status: number; error: unknown }> {
  const res = await fetch(`${base}/mt/identify`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', origin: ORIGIN, 'x-forwarded-for': ip },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const json = JSON.parse(await capture.record(res)) as Record<string, unknown>;
  return { status: res.status, error: json.error };
}

async function hit(base: string, hitId: string): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(`${base}/mt/mtc/event`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: `${FORM}&mt_hit_id=${hitId}` });
  return { status: res.status, json: JSON.parse(await capture.record(res)) as Record<string, unknown> };
}

const apiCalls = (): number => mautic.requests.filter((r) => r.path.startsWith('/api') || r.path.startsWith('/oauth')).length;

describe('two Node instances sharing one Redis', () => {
  it('a token spent on one is refused by the other, with no Mautic call', async () => {
    const token = await mintIdentityToken({ email: 'jane@example.com', secret: TOKEN_SECRET });
    capture.sensitive.add(token);
    expect(await identify(one, { email: 'jane@example.com', token }, '198.51.100.10')).toEqual({ status: 200, error: undefined });
    const before = apiCalls();
    expect(await identify(two, { email: 'jane@example.com', token }, '198.51.100.10')).toEqual({ status: 401, error: 'token_used' });
    expect(await identify(one, { email: 'jane@example.com', token }, '198.51.100.10')).toEqual({ status: 401, error: 'token_used' });
    expect(apiCalls()).toBe(before);
    // A fresh token still works on the other instance.
    const fresh = await mintIdentityToken({ email: 'jane@example.com', secret: TOKEN_SECRET });
    capture.sensitive.add(fresh);
    expect((await identify(two, { email: 'jane@example.com', token: fresh }, '198.51.100.10')).status).toBe(200);
  });

  it('the rate limit counts requests to both instances against one limit per IP', async () => {
    const ip = '203.0.113.77';
    const statuses: number[] = [];
    // Malformed bodies: the limit is counted before the body is read, and nothing reaches Mautic.
    for (let i = 0; i < RATE_MAX + 2; i++) statuses.push((await identify(i % 2 === 0 ? one : two, '{', ip)).status);
    expect(statuses).toEqual([...Array<number>(RATE_MAX).fill(400), 429, 429]);
    // Another IP has its own count, on either instance.
    expect((await identify(two, '{', '203.0.113.78')).status).toBe(400);
  });

  it('a hit retried across the instances is recorded once; the retry gets the first answer', async () => {
    const before = mautic.hits.length;
    const first = await hit(one, 'acrossinstances000000001');
    const retry = await hit(two, 'acrossinstances000000001');
    expect([first.status, retry.status]).toEqual([200, 200]);
    expect(mautic.hits.length).toBe(before + 1);
    expect([retry.json.id, retry.json.device_id]).toEqual([first.json.id, first.json.device_id]);
    expect(mautic.hits.at(-1)!.rawBody).toBe(FORM);
  });

  it('a retry reaching the other instance while the first is still at Mautic waits for it: recorded once', async () => {
    const before = mautic.hits.length;
    mautic.inject({ route: 'event', delayMs: 700, times: 1 });
    const firstP = hit(one, 'inflightacross0000000001');
    await new Promise((resolve) => setTimeout(resolve, 200));
    const retry = await hit(two, 'inflightacross0000000001');
    const first = await firstP;
    expect([first.status, retry.status]).toEqual([200, 200]);
    expect(mautic.hits.length).toBe(before + 1);
    expect(retry.json.id).toBe(first.json.id);
  });
});

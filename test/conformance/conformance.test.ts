/**
 * Conformance of the Mautic stand-in with a real Mautic 5.1.0: every recorded exchange in
 * exchanges/ is replayed against a fresh stand-in put in the state the exchange implies, and the
 * answer is compared with the recorded one (compare.ts). Data-driven: a new recording file is a
 * new case; an exchange the stand-in deliberately does not reproduce is listed with its reason.
 */
import { readdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { startStandin, type StandinOptions } from '../../src/devserver/index.js';
import { compareAnswers } from './compare.js';
import { loadExchanges, sharedRecordingDir, type Exchange } from './exchanges.js';
import {
  BROWSER_UA,
  RECORDED_ALLOWED_ORIGIN,
  RECORDED_BASIC_USER,
  RECORDED_CLIENT,
  sendRaw,
  type Scenario,
  type Setup,
} from './scenario.js';
import { apiScenarios } from './scenarios/api.js';
import { identityScenarios } from './scenarios/identity.js';
import { scenarios } from './scenarios/index.js';
import { trackingScenarios } from './scenarios/tracking.js';

const exchanges = loadExchanges();
const outcome = { passed: 0, passedInFull: 0, failed: 0, listed: [] as string[], relaxed: [] as string[] };
/** `CONFORMANCE_REPORT=<file>` writes every case's differences there as JSON (for working through them). */
const reportFile = process.env.CONFORMANCE_REPORT;
const differences: Record<string, string[]> = {};

/** Headers the harness computes itself rather than replaying. */
const COMPUTED_HEADERS = new Set(['content-length', 'host', 'connection']);

async function runCase(exchange: Exchange, scenario: Scenario): Promise<string[]> {
  let now = Date.parse('2026-12-01T08:00:00Z');
  const options: StandinOptions = {
    cors: [RECORDED_ALLOWED_ORIGIN],
    clock: () => now,
    ...scenario.options,
    api: {
      clients: [{ id: RECORDED_CLIENT.id, secret: RECORDED_CLIENT.secret }],
      basicUsers: [{ ...RECORDED_BASIC_USER }],
      ...scenario.options?.api,
    },
  };
  const standin = await startStandin(options);
  try {
    const subs: Array<[string, string]> = [];
    let keepAuthorization = false;
    const token = async (): Promise<string> => {
      const answer = await sendRaw(
        standin.url,
        'POST',
        '/oauth/v2/token',
        { 'Content-Type': 'application/x-www-form-urlencoded', 'User-Agent': BROWSER_UA },
        new URLSearchParams({ grant_type: 'client_credentials', client_id: RECORDED_CLIENT.id, client_secret: RECORDED_CLIENT.secret }).toString(),
      );
      const parsed = JSON.parse(answer.text) as { access_token?: string };
      if (!parsed.access_token) throw new Error(`setup: no token (${answer.status} ${answer.text})`);
      return parsed.access_token;
    };
    const setup: Setup = {
      standin,
      advance: (ms) => {
        now += ms;
      },
      token,
      async api(method, path, body) {
        const headers: Record<string, string> = { Authorization: `Bearer ${await token()}`, 'User-Agent': BROWSER_UA };
        if (body !== undefined) headers['Content-Type'] = 'application/json';
        const answer = await sendRaw(standin.url, method, path, headers, body === undefined ? undefined : JSON.stringify(body));
        return { status: answer.status, headers: answer.headers, body: answer.text === '' ? ({} as never) : JSON.parse(answer.text) };
      },
      async hit(params, hitOptions = {}) {
        const headers: Record<string, string> = {
          'Content-Type': 'application/x-www-form-urlencoded',
          'X-Requested-With': 'XMLHttpRequest',
          Origin: hitOptions.origin ?? RECORDED_ALLOWED_ORIGIN,
          'User-Agent': hitOptions.userAgent ?? BROWSER_UA,
        };
        if (hitOptions.cookie) headers.Cookie = hitOptions.cookie;
        const answer = await sendRaw(standin.url, 'POST', '/mtc/event', headers, new URLSearchParams(params).toString());
        const parsed = JSON.parse(answer.text) as { id: number; device_id: string };
        return { id: parsed.id, deviceId: parsed.device_id, setCookies: answer.headers.getSetCookie() };
      },
      send: (method, path, headers = {}, body) => sendRaw(standin.url, method, path, { 'User-Agent': BROWSER_UA, ...headers }, body),
      sub: (recorded, actual) => {
        subs.push([recorded, String(actual)]);
      },
      keepAuthorization: () => {
        keepAuthorization = true;
      },
    };
    await scenario.setup?.(setup);

    const apply = (text: string): string => subs.reduce((acc, [from, to]) => acc.split(from).join(to), text);
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(exchange.request.headers)) {
      if (!COMPUTED_HEADERS.has(name.toLowerCase())) headers[name] = apply(value);
    }
    const recordedAuth = exchange.request.headers.Authorization;
    const substituted = subs.some(([from]) => recordedAuth?.includes(from));
    if (recordedAuth?.startsWith('Bearer ') && !keepAuthorization && !substituted) {
      headers.Authorization = `Bearer ${await token()}`;
    }
    const body = exchange.request.body;
    const answer = await sendRaw(
      standin.url,
      exchange.request.method,
      apply(exchange.request.path),
      headers,
      typeof body === 'string' ? apply(body) : undefined,
    );
    return compareAnswers(exchange.response, answer, { relaxedPaths: scenario.relaxed?.paths ?? [] });
  } finally {
    await standin.close();
  }
}

describe('the stand-in answers like the recorded Mautic 5.1.0', () => {
  for (const exchange of exchanges) {
    const scenario = scenarios[exchange.name] ?? {};
    if (scenario.notReproduced) {
      outcome.listed.push(`${exchange.name}: ${scenario.notReproduced}`);
      it.skip(`${exchange.name} — not reproduced: ${scenario.notReproduced}`, () => {});
      continue;
    }
    if (scenario.relaxed) outcome.relaxed.push(`${exchange.name}: ${scenario.relaxed.paths.join(', ')} (${scenario.relaxed.reason})`);
    it(`${exchange.request.method} ${exchange.request.path.slice(0, 60)} (${exchange.name})`, async () => {
      const problems = await runCase(exchange, scenario);
      differences[exchange.name] = problems;
      if (problems.length > 0) outcome.failed += 1;
      else {
        outcome.passed += 1;
        if (!scenario.relaxed) outcome.passedInFull += 1;
      }
      expect(problems, `differences from the recorded answer of ${exchange.name}`).toEqual([]);
    });
  }

  afterAll(() => {
    if (reportFile) writeFileSync(reportFile, JSON.stringify(differences, null, 1));
    const lines = [
      `conformance: ${outcome.passed} of ${exchanges.length} recorded exchanges agree (${outcome.passedInFull} compared in full, ` +
        `${outcome.passed - outcome.passedInFull} with named body paths left out), ${outcome.failed} differ, ` +
        `${outcome.listed.length} listed as not reproduced`,
      ...outcome.listed.map((line) => `  not reproduced: ${line}`),
      ...outcome.relaxed.map((line) => `  compared without: ${line}`),
    ];
    process.stdout.write(lines.join('\n') + '\n');
  });
});

describe('the recorded exchanges and their scenarios', () => {
  it('every scenario names a recorded exchange', () => {
    const names = new Set(exchanges.map((exchange) => exchange.name));
    expect(Object.keys(scenarios).filter((name) => !names.has(name))).toEqual([]);
  });

  it('no exchange has a scenario in two area files (the later one would silently replace the other)', () => {
    const seen = new Map<string, string>();
    const twice: string[] = [];
    for (const [file, area] of Object.entries({ 'api.ts': apiScenarios, 'tracking.ts': trackingScenarios, 'identity.ts': identityScenarios })) {
      for (const name of Object.keys(area)) {
        const before = seen.get(name);
        if (before) twice.push(`${name} (${before}, ${file})`);
        else seen.set(name, file);
      }
    }
    expect(twice).toEqual([]);
  });

  // Skipped, not passed, where the shared folder is absent (a clean clone, a worktree): there is
  // nothing to compare with there.
  const shared = sharedRecordingDir(fileURLToPath(new URL('../..', import.meta.url)));
  it.skipIf(!shared)('every recording of the shared folder is part of this suite', () => {
    const here = new Set(exchanges.map((exchange) => `${exchange.name}.json`));
    const missing = readdirSync(shared!).filter((file) => file.endsWith('.json') && !here.has(file));
    expect(missing, 'copy these recordings into test/conformance/exchanges/').toEqual([]);
  });
});

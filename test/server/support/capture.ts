/**
 * Captures every log line (the proxy's logger and every console method) and every response a
 * test file sees, and proves that no secret, token, password, cookie or Authorization value
 * appears in any of them. Each server test file installs one capture; its `afterAll` check runs
 * in every file, so the suite as a whole is covered.
 */
import { afterAll, beforeAll, expect, vi } from 'vitest';
import type { LogEntry, Logger } from '../../../src/server/index.js';
import { ALL_SECRETS } from './secrets.js';

export interface Capture {
  /** Pass to every proxy as `logger`. */
  logger: Logger;
  /** Every captured line, as text. */
  lines: string[];
  /** Every response seen through `record` (status line, headers, body). */
  responses: string[];
  /** Values that must not leak (tokens, cookies seen during the test), in addition to ALL_SECRETS. */
  sensitive: Set<string>;
  /** Records a response's headers and body text for the leak check; returns the body text. */
  record(res: Response): Promise<string>;
}

/** Every (needle, text) pair where a needle occurs in a text. */
export function findLeaks(texts: readonly string[], needles: readonly string[]): Array<{ needle: string; text: string }> {
  const leaks: Array<{ needle: string; text: string }> = [];
  for (const needle of needles) for (const text of texts) if (text.includes(needle)) leaks.push({ needle, text });
  return leaks;
}

export function installCapture(options: { expectLogs?: boolean } = {}): Capture {
  const capture: Capture = {
    lines: [],
    responses: [],
    sensitive: new Set(),
    logger: (entry: LogEntry) => {
      capture.lines.push(JSON.stringify(entry));
    },
    async record(res) {
      const text = await res.text();
      const headers: string[] = [];
      res.headers.forEach((v, k) => headers.push(`${k}: ${v}`));
      capture.responses.push(`${res.status}\n${headers.join('\n')}\n\n${text}`);
      return text;
    },
  };
  const spies: Array<{ mockRestore(): void }> = [];
  beforeAll(() => {
    for (const method of ['log', 'info', 'warn', 'error', 'debug'] as const) {
      const original = console[method].bind(console);
      spies.push(
        vi.spyOn(console, method).mockImplementation((...args: unknown[]) => {
          capture.lines.push(`console.${method}: ${args.map((a) => (a instanceof Error ? `${a.message} ${a.stack}` : typeof a === 'string' ? a : JSON.stringify(a))).join(' ')}`);
          original(...args);
        }),
      );
    }
  });
  afterAll(() => {
    for (const spy of spies) spy.mockRestore();
    if (options.expectLogs) expect(capture.lines.length, 'this file is expected to produce log lines').toBeGreaterThan(0);
    const needles = [...ALL_SECRETS, ...capture.sensitive].filter((s) => s.length >= 6);
    expect(findLeaks(capture.lines, needles).map((l) => l.text.slice(0, 160)), 'log lines leaking a secret').toEqual([]);
    // Responses may legitimately carry cookies the proxy sets; secrets and credentials never.
    expect(findLeaks(capture.responses, ALL_SECRETS).map((l) => l.text.slice(0, 160)), 'responses leaking a secret').toEqual([]);
  });
  return capture;
}

/**
 * The recorded Mautic 5.1.0 exchanges (test/conformance/exchanges/*.json, copied from the
 * recording of a real server; see docs/protocol.md §10). Each file is one request and Mautic's
 * answer; binary bodies are `{"base64": …}`.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const EXCHANGES_DIR = fileURLToPath(new URL('./exchanges/', import.meta.url));

export type RecordedBody = string | { base64: string } | null;

export interface RecordedRequest {
  method: string;
  /** Path and query, as sent. */
  path: string;
  headers: Record<string, string>;
  body: RecordedBody;
}

export interface RecordedAnswer {
  status: number;
  headers: Record<string, string | string[]>;
  body: RecordedBody;
}

export interface Exchange {
  /** File name without `.json`, e.g. `api_contacts_patch_422_duplicate_email`. */
  name: string;
  request: RecordedRequest;
  response: RecordedAnswer;
}

export function loadExchanges(dir = EXCHANGES_DIR): Exchange[] {
  return readdirSync(dir)
    .filter((file) => file.endsWith('.json'))
    .sort()
    .map((file) => {
      const parsed = JSON.parse(readFileSync(join(dir, file), 'utf8')) as Omit<Exchange, 'name'>;
      return { name: file.slice(0, -'.json'.length), request: parsed.request, response: parsed.response };
    });
}

/**
 * The shared recording beside the repository (`../shared/mautic-5.1-exchanges`), when this
 * checkout has one: new recordings there must be copied here to count.
 */
export function sharedRecordingDir(repoRoot: string): string | null {
  const dir = join(repoRoot, '..', 'shared', 'mautic-5.1-exchanges');
  return existsSync(dir) ? dir : null;
}

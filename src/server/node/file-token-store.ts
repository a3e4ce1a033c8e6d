/**
 * OAuth2 tokens in a file, for Node: what `npx mautic-tracker authorize` writes and the proxy
 * reads, rewritten on every refresh (Mautic rotates refresh tokens). The file is the owner's
 * only (0600), replaced atomically (write aside, then rename) so a crash mid-write never leaves
 * half a token, and a lock file lets several processes on one machine refresh one at a time.
 * `node:fs` is imported lazily, so importing `mautic-tracker/server` stays free of Node builtins.
 */

const fs = (): Promise<typeof NodeFs> => import('node:fs/promises');

function randomSuffix(): string {
  return Array.from(crypto.getRandomValues(new Uint8Array(6)), (b) => b.toString(16).padStart(2, '0')).join('');
}
import type * as NodeFs from 'node:fs/promises';
import { parseTokens, serializeTokens, type OAuthTokens, type TokenStore } from '../rest/token-store.js';

export class FileTokenStore implements TokenStore {
  private readonly lockPath: string;
  private holdsLock = false;

  /** @param path e.g. `.mautic-tokens.json` (keep it out of version control). */
  constructor(readonly path: string) {
    if (typeof path !== 'string' || path === '') throw new TypeError('FileTokenStore needs a file path');
    this.lockPath = `${path}.lock`;
  }

  async load(): Promise<OAuthTokens | null> {
    let text: string;
    try {
      text = await (await fs()).readFile(this.path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw err;
    }
    return parseTokens(text);
  }

  async save(tokens: OAuthTokens): Promise<void> {
    const { writeFile, rename, unlink } = await fs();
    const aside = `${this.path}.${randomSuffix()}.tmp`;
    try {
      await writeFile(aside, serializeTokens(tokens) + '\n', { mode: 0o600, flag: 'wx' });
      await rename(aside, this.path);
    } catch (err) {
      await unlink(aside).catch(() => undefined);
      throw err;
    }
  }

  /** An exclusive lock file; one older than `ttlMs` is a crashed holder's and is taken over. */
  async lock(ttlMs: number): Promise<boolean> {
    const { open, stat, unlink } = await fs();
    for (let tries = 0; tries < 2; tries++) {
      try {
        const handle = await open(this.lockPath, 'wx', 0o600);
        await handle.close();
        this.holdsLock = true;
        return true;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
        const age = await stat(this.lockPath).then((s) => Date.now() - s.mtimeMs, () => 0);
        if (age <= ttlMs) return false;
        await unlink(this.lockPath).catch(() => undefined);
      }
    }
    return false;
  }

  async unlock(): Promise<void> {
    if (!this.holdsLock) return;
    this.holdsLock = false;
    await (await fs()).unlink(this.lockPath).catch(() => undefined);
  }
}

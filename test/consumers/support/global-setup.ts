/**
 * Packs the package once (`npm pack`, exactly what a user installs) and hands the tarball's path
 * to every consumer test.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';

declare module 'vitest' {
  export interface ProvidedContext {
    tarball: string;
  }
}

export default function setup(project: TestProject): () => void {
  const dir = mkdtempSync(join(tmpdir(), 'mautic-tracker-pack-'));
  execFileSync('npm', ['pack', '--silent', '--pack-destination', dir], { stdio: ['ignore', 'ignore', 'inherit'] });
  const file = readdirSync(dir).find((name) => name.endsWith('.tgz'));
  if (!file) throw new Error('npm pack made no tarball');
  project.provide('tarball', join(dir, file));
  return () => rmSync(dir, { recursive: true, force: true });
}

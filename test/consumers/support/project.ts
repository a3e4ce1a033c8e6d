/**
 * A consumer project in a temporary folder: its files, its dependencies (the packed
 * mautic-tracker among them) installed from the registry, and commands run in it.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface ConsumerProject {
  dir: string;
  /** Runs a command in the project; rejects with its output when it fails. */
  exec(command: string, args: string[], env?: Record<string, string>): Promise<{ stdout: string; stderr: string }>;
  /** Starts a long-running command (a server); killed by `close()`. */
  start(command: string, args: string[], env?: Record<string, string>): ChildProcess;
  close(): Promise<void>;
}

/** Environment for every command: no browser downloads, no telemetry, no prompts. */
const QUIET_ENV = {
  PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD: '1',
  NEXT_TELEMETRY_DISABLED: '1',
  WRANGLER_SEND_METRICS: 'false',
  CI: 'true',
  npm_config_audit: 'false',
  npm_config_fund: 'false',
  npm_config_update_notifier: 'false',
};

export async function createProject(
  name: string,
  files: Record<string, string>,
  dependencies: Record<string, string>,
  devDependencies: Record<string, string> = {},
): Promise<ConsumerProject> {
  const dir = mkdtempSync(join(tmpdir(), `consumer-${name}-`));
  const manifest = { name: `consumer-${name}`, private: true, type: 'module', dependencies, devDependencies };
  writeFileSync(join(dir, 'package.json'), JSON.stringify(manifest, null, 2));
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), content);
  }
  const children = new Set<ChildProcess>();
  const env = (extra: Record<string, string> = {}) => ({ ...process.env, ...QUIET_ENV, ...extra });
  const project: ConsumerProject = {
    dir,
    async exec(command, args, extra) {
      try {
        return await run(command, args, { cwd: dir, env: env(extra), maxBuffer: 64 * 1024 * 1024, timeout: 600_000 });
      } catch (error) {
        const failed = error as { stdout?: string; stderr?: string; message: string };
        throw new Error(`${command} ${args.join(' ')} failed in ${dir}:\n${failed.stdout ?? ''}\n${failed.stderr ?? ''}\n${failed.message}`);
      }
    },
    start(command, args, extra) {
      const child = spawn(command, args, { cwd: dir, env: env(extra), stdio: ['ignore', 'pipe', 'pipe'], detached: true });
      children.add(child);
      child.on('exit', () => children.delete(child));
      return child;
    },
    async close() {
      for (const child of children) {
        try {
          // The whole process group: servers like `next start` fork workers.
          if (child.pid) process.kill(-child.pid, 'SIGTERM');
        } catch {
          // Already gone.
        }
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
  await project.exec('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error']);
  return project;
}

/** Resolves with the first line of `child`'s output that matches, or rejects on exit or timeout. */
export function waitForOutput(child: ChildProcess, pattern: RegExp, timeoutMs = 120_000): Promise<RegExpMatchArray> {
  return new Promise((resolve, reject) => {
    let seen = '';
    const timer = setTimeout(() => reject(new Error(`no output matching ${pattern} within ${timeoutMs} ms:\n${seen}`)), timeoutMs);
    const onData = (chunk: Buffer): void => {
      seen += chunk.toString();
      const match = seen.match(pattern);
      if (match) {
        clearTimeout(timer);
        resolve(match);
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`exited with ${code} before printing ${pattern}:\n${seen}`));
    });
  });
}

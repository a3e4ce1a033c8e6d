/**
 * The `mautic-tracker` command line: argument validation (clear errors, exit code 2), --help, and
 * `dev` as a real subprocess of the built CLI (dist/cli.mjs): it prints its URLs, serves the
 * dashboard, and exits 0 on SIGTERM.
 */
import { spawn, spawnSync } from 'node:child_process';
import { createServer } from 'node:net';
import { existsSync } from 'node:fs';
import { afterEach, describe, expect, test } from 'vitest';
import { parseCliArgs, UsageError, DEFAULT_DEV_PORT, DEFAULT_DEMO_PORT } from '../../src/devserver/cli-args.js';
import { startStandin } from '../../src/devserver/index.js';

const CLI = 'dist/cli.mjs';

function cleanEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const key of Object.keys(env)) if (key.startsWith('MAUTIC_')) delete env[key];
  return env;
}

function usageError(argv: string[], env: Record<string, string> = {}): string {
  try {
    parseCliArgs(argv, env);
  } catch (error) {
    expect(error).toBeInstanceOf(UsageError);
    return (error as Error).message;
  }
  throw new Error(`expected a usage error for ${argv.join(' ')}`);
}

describe('argument parsing', () => {
  test('defaults are the documented ports and a loopback host', () => {
    expect(parseCliArgs(['dev'], {})).toEqual({
      command: 'dev',
      host: '127.0.0.1',
      port: DEFAULT_DEV_PORT,
      cors: 'any',
      failRate: 0,
      latencyMs: 0,
      publicFields: [],
      apiClientId: 'mautic-tracker-dev',
      apiClientSecret: null,
    });
    expect(parseCliArgs(['demo'], {})).toMatchObject({ command: 'demo', port: 8200, demoPort: 8300 });
    expect(DEFAULT_DEMO_PORT).toBe(8300);
  });

  test('every flag, in both --flag value and --flag=value forms', () => {
    expect(
      parseCliArgs(
        ['dev', '--port', '9000', '--host=0.0.0.0', '--cors', 'restrictive', '--fail-rate', '0.2', '--latency=300', '--public-fields', 'email, FirstName'],
        {},
      ),
    ).toEqual({
      command: 'dev',
      host: '0.0.0.0',
      port: 9000,
      cors: 'restrictive',
      failRate: 0.2,
      latencyMs: 300,
      publicFields: ['email', 'firstname'],
      apiClientId: 'mautic-tracker-dev',
      apiClientSecret: null,
    });
    expect(parseCliArgs(['dev', '--cors', 'https://a.example,http://localhost:3000/'], {})).toMatchObject({
      cors: ['https://a.example', 'http://localhost:3000'],
    });
  });

  test('environment variables set ports; flags win', () => {
    const env = { MAUTIC_TRACKER_DEV_PORT: '9100', MAUTIC_TRACKER_DEMO_PORT: '9101' };
    expect(parseCliArgs(['demo'], env)).toMatchObject({ port: 9100, demoPort: 9101 });
    expect(parseCliArgs(['demo', '--demo-port', '0'], env)).toMatchObject({ port: 9100, demoPort: 0 });
    expect(usageError(['dev'], { MAUTIC_TRACKER_DEV_PORT: 'http' })).toContain('MAUTIC_TRACKER_DEV_PORT must be a whole number');
  });

  test('bad input gets a message that names the flag and the expected value', () => {
    expect(usageError(['serve'])).toBe('Unknown command "serve". Use "dev", "demo" or "setup-identify".');
    expect(usageError(['dev', '--port', '70000'])).toContain('--port must be a whole number from 0 to 65535, got "70000"');
    expect(usageError(['dev', '--port', 'abc'])).toContain('--port must be a whole number');
    expect(usageError(['dev', '--fail-rate', '20%'])).toContain('--fail-rate must be a number from 0 to 1');
    expect(usageError(['dev', '--fail-rate', '1.5'])).toContain('--fail-rate must be a number from 0 to 1');
    expect(usageError(['dev', '--latency', '-5'])).toContain('--latency must be whole milliseconds');
    expect(usageError(['dev', '--cors', 'sometimes'])).toContain('--cors must be "any", "restrictive" or a comma list of origins');
    expect(usageError(['dev', '--public-fields', 'email,first name'])).toContain('"first name" is not one');
    expect(usageError(['dev', '--port'])).toBe('--port needs a value.');
    expect(usageError(['dev', '--verbose', 'yes'])).toBe('Unknown option "--verbose" for "dev".');
    expect(usageError(['dev', '--port', '1', '--port', '2'])).toBe('--port is given twice.');
    expect(usageError(['dev', '--demo-port', '9000'])).toContain('only applies to the "demo" command');
    expect(usageError(['demo', '--port', '9000', '--demo-port', '9000'])).toContain('need different ports');
    expect(usageError(['dev', 'extra'])).toContain('Unexpected argument "extra"');
  });

  test('setup-identify: defaults, flags, and clear errors', () => {
    expect(parseCliArgs(['setup-identify'], {})).toEqual({ command: 'setup-identify', url: null, field: 'mt_visitor_ref', formAlias: 'mtidentify', probe: true });
    expect(parseCliArgs(['setup-identify', '--url', 'https://m.example.com', '--field=visitor_ref', '--form-alias', 'ident', '--no-probe'], {})).toEqual({
      command: 'setup-identify',
      url: 'https://m.example.com',
      field: 'visitor_ref',
      formAlias: 'ident',
      probe: false,
    });
    expect(usageError(['setup-identify', '--url', 'mautic'])).toContain('--url must be your Mautic');
    expect(usageError(['setup-identify', '--field', 'Bad-Name'])).toContain('--field must be a contact field alias');
    expect(usageError(['setup-identify', '--form-alias', 'muchtoolongalias'])).toContain('--form-alias must be 1–10');
    expect(usageError(['setup-identify', '--port', '1'])).toBe('Unknown option "--port" for "setup-identify".');
  });

  test('dev: the API client from flags or environment; a bad secret is refused without echoing it', () => {
    expect(parseCliArgs(['dev', '--api-client-id', 'site', '--api-client-secret', 'secret-0123'], {})).toMatchObject({ apiClientId: 'site', apiClientSecret: 'secret-0123' });
    expect(parseCliArgs(['dev'], { MAUTIC_TRACKER_API_CLIENT_ID: 'env-id', MAUTIC_TRACKER_API_CLIENT_SECRET: 'env-secret-99' })).toMatchObject({ apiClientId: 'env-id', apiClientSecret: 'env-secret-99' });
    const message = usageError(['dev', '--api-client-secret', 'short']);
    expect(message).toContain('--api-client-secret must be 8–200 printable characters');
    expect(message).not.toContain('short');
  });

  test('help and version', () => {
    expect(parseCliArgs([], {})).toEqual({ command: 'help', noCommand: true });
    expect(parseCliArgs(['--help'], {})).toEqual({ command: 'help' });
    expect(parseCliArgs(['dev', '--help'], {})).toEqual({ command: 'help', topic: 'dev' });
    expect(parseCliArgs(['-v'], {})).toEqual({ command: 'version' });
  });
});

describe('the built CLI', () => {
  const children: ReturnType<typeof spawn>[] = [];
  afterEach(() => {
    for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
  });

  test('dist/cli.mjs exists (npm test builds it first)', () => {
    expect(existsSync(CLI), 'run `npm run build` before this test').toBe(true);
  });

  test('--help prints the usage and exits 0; a bad flag exits 2 with the message on stderr', () => {
    const help = spawnSync(process.execPath, [CLI, '--help'], { encoding: 'utf8', env: cleanEnv() });
    expect(help.status).toBe(0);
    expect(help.stdout).toContain('Usage: mautic-tracker <command> [options]');
    expect(help.stdout).toContain('--fail-rate <0..1>');

    // Each command has its own help: its options, not the others'.
    const devHelp = spawnSync(process.execPath, [CLI, 'dev', '--help'], { encoding: 'utf8', env: cleanEnv() });
    expect(devHelp.status).toBe(0);
    expect(devHelp.stdout).toContain('Usage: mautic-tracker dev [options]');
    expect(devHelp.stdout).toContain('--fail-rate <0..1>');
    expect(devHelp.stdout).not.toContain('--demo-port');
    expect(devHelp.stdout).not.toContain('--form-alias');
    const setupHelp = spawnSync(process.execPath, [CLI, 'setup-identify', '--help'], { encoding: 'utf8', env: cleanEnv() });
    expect(setupHelp.stdout).toContain('--form-alias');
    expect(setupHelp.stdout).not.toContain('--fail-rate');

    // No command at all is a mistake: the help goes to stderr and the exit code says so.
    const none = spawnSync(process.execPath, [CLI], { encoding: 'utf8', env: cleanEnv() });
    expect(none.status).toBe(2);
    expect(none.stdout).toBe('');
    expect(none.stderr).toContain('a command is required');
    expect(none.stderr).toContain('Usage: mautic-tracker <command> [options]');

    const bad = spawnSync(process.execPath, [CLI, 'dev', '--latency', 'soon'], { encoding: 'utf8', env: cleanEnv() });
    expect(bad.status).toBe(2);
    expect(bad.stdout).toBe('');
    expect(bad.stderr).toContain('mautic-tracker: --latency must be whole milliseconds from 0 to 60000, got "soon".');
    expect(bad.stderr).toContain('mautic-tracker --help');
  });

  test('setup-identify against a Mautic (the stand-in): creates, prints the config line, is idempotent; bad credentials exit 1', async () => {
    const mautic = await startStandin({ mauticVersion: '5.1.0', api: { clients: [{ id: 'site-client', secret: 'site-client-secret-0123456789' }] } });
    try {
      const run = (secret: string) =>
        new Promise<{ status: number | null; stdout: string; stderr: string }>((done) => {
          const child = spawn(process.execPath, [CLI, 'setup-identify'], {
            env: { ...cleanEnv(), MAUTIC_URL: mautic.url, MAUTIC_CLIENT_ID: 'site-client', MAUTIC_CLIENT_SECRET: secret },
            stdio: ['ignore', 'pipe', 'pipe'],
          });
          children.push(child);
          let stdout = '';
          let stderr = '';
          child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
          child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
          child.on('exit', (status) => done({ status, stdout, stderr }));
        });
      const first = await run('site-client-secret-0123456789');
      expect(first.status, first.stderr).toBe(0);
      expect(first.stdout).toContain('Created contact field "mt_visitor_ref"');
      expect(first.stdout).toMatch(/Created standalone form "mtidentify" \(id \d+\)/);
      expect(first.stdout).toContain('keeps the tracked contact');
      const line = /identify: \{ history: \{ field: 'mt_visitor_ref', formId: (\d+), survivor: 'tracked', mauticVersion: '5\.1\.0' \} \}/.exec(first.stdout);
      expect(line, first.stdout).not.toBeNull();
      // What the site owner must grant, printed with what was created.
      expect(first.stdout).toContain("Contacts: view, edit and create others' contacts");
      expect(first.stdout).toContain('Custom Fields: create, Forms: create, Contacts: delete');
      const second = await run('site-client-secret-0123456789');
      expect(second.status).toBe(0);
      expect(second.stdout).toContain('exists: kept');
      expect(second.stdout).toContain(`formId: ${line![1]}`);
      expect(mautic.contacts).toEqual([]); // the probe's throwaway contacts are gone
      const wrong = await run('not-the-secret-000');
      expect(wrong.status).toBe(1);
      expect(wrong.stderr).toContain('invalid_client');
      expect(wrong.stderr + wrong.stdout).not.toContain('not-the-secret-000');
      const missing = spawnSync(process.execPath, [CLI, 'setup-identify'], { encoding: 'utf8', env: cleanEnv() });
      expect(missing.status).toBe(2);
      expect(missing.stderr).toContain('setup-identify needs your Mautic');
    } finally {
      await mautic.close();
    }
  });

  test('MAUTIC_URL without credentials is refused with an explanation', () => {
    const result = spawnSync(process.execPath, [CLI, 'demo', '--port', '0', '--demo-port', '0'], {
      encoding: 'utf8',
      env: { ...cleanEnv(), MAUTIC_URL: 'https://mautic.example.com' },
    });
    expect(result.status).toBe(2);
    expect(result.stderr).toContain('MAUTIC_URL is set but its credentials are not');
  });

  test('`demo` with MAUTIC_URL and API credentials relays to that Mautic and starts no stand-in of its own', async () => {
    // A separately started stand-in plays the user's real Mautic, reached over real HTTP.
    const mautic = await startStandin({ api: { clients: [{ id: 'site-client', secret: 'site-client-secret-0123456789' }] } });
    try {
      const child = spawn(process.execPath, [CLI, 'demo', '--port', '0', '--demo-port', '0'], {
        env: { ...cleanEnv(), MAUTIC_URL: mautic.url, MAUTIC_CLIENT_ID: 'site-client', MAUTIC_CLIENT_SECRET: 'site-client-secret-0123456789' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      children.push(child);
      let stdout = '';
      child.stdout.setEncoding('utf8');
      child.stdout.on('data', (chunk: string) => {
        stdout += chunk;
      });
      await expect.poll(() => stdout, { timeout: 15_000 }).toContain('Press Ctrl-C to stop.');
      expect(stdout).toContain('against your Mautic (no local stand-in, no dashboard)');
      expect(stdout).not.toContain('Dashboard:');
      const siteUrl = /Demo site:\s+(\S+?)\/?\s/.exec(stdout)?.[1];
      expect(siteUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);

      const response = await fetch(`${siteUrl}/mt/mtc/event`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded', 'X-Requested-With': 'XMLHttpRequest' },
        body: 'page_title=Home&page_url=http%3A%2F%2Fsite.example%2Fhome',
      });
      expect(response.status).toBe(200);
      expect(await response.json()).toMatchObject({ success: 1, id: 1 });
      expect(mautic.hits.map((hit) => hit.params.page_url)).toEqual(['http://site.example/home']);

      const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
      child.kill('SIGINT');
      expect(await exited).toBe(0);
    } finally {
      await mautic.close();
    }
  });

  test('a taken port is reported clearly and the process exits 1', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as { port: number }).port;
    try {
      const result = spawnSync(process.execPath, [CLI, 'dev', '--port', String(port)], { encoding: 'utf8', env: cleanEnv(), timeout: 15_000 });
      expect(result.status).toBe(1);
      expect(result.stderr).toContain(`Port ${port} on 127.0.0.1 is already in use (dev server)`);
    } finally {
      blocker.close();
    }
  });

  test('`dev` prints its URLs, serves the dashboard and stops cleanly on SIGTERM', async () => {
    const child = spawn(process.execPath, [CLI, 'dev', '--port', '0', '--fail-rate', '0.5'], { env: cleanEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(child);
    let stdout = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      stdout += chunk;
    });
    await expect.poll(() => stdout, { timeout: 15_000 }).toContain('Press Ctrl-C to stop.');
    const dashboardUrl = /Dashboard:\s+(\S+)/.exec(stdout)?.[1];
    expect(dashboardUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/_dashboard\/$/);
    const snapshot = (await (await fetch(`${dashboardUrl}export.json`)).json()) as { settings: Record<string, unknown> };
    expect(snapshot.settings).toMatchObject({ 'fail rate': 0.5, cors: 'any' });

    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(stdout).toContain('Stopped.');
  });
});

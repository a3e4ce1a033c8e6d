/**
 * `mautic-tracker` command line (`npx mautic-tracker dev`, `npm start` = `mautic-tracker demo`).
 * Run `mautic-tracker --help` for the options; the README documents them too.
 */
import { existsSync, readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseCliArgs, UsageError, usageFor, type CliCommand, type DevFlags, type SetupIdentifyFlags } from './cli-args.js';
import { startDevServer, type DevServer } from './dev-server.js';
import { startDemoSite, type DemoSite } from './demo-site/server.js';
import { authorizeCommand } from '../server/node/authorize.js';
import { FileTokenStore } from '../server/node/file-token-store.js';
import {
  BasicAuth,
  MauticAuthError,
  MauticApiError,
  MauticRestClient,
  OAuth2AuthorizationCode,
  OAuth2ClientCredentials,
  setupIdentify,
  SetupIdentifyError,
  type IdentifyHistoryConfig,
  type MauticAuthConfig,
} from '../server/index.js';

type Closable = { close(): Promise<void> };

const here = dirname(fileURLToPath(import.meta.url));
/** dist/ when run as dist/cli.mjs; the package root is its parent. */
const distDir = here;
const packageRoot = resolve(here, '..');

function print(line = ''): void {
  process.stdout.write(`${line}\n`);
}

function fail(message: string, code: number): number {
  process.stderr.write(`mautic-tracker: ${message}\n`);
  return code;
}

function version(): string {
  try {
    const pkg = JSON.parse(readFileSync(join(packageRoot, 'package.json'), 'utf8')) as { version?: string };
    return pkg.version ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

function requireBuild(): string | undefined {
  const script = join(distDir, 'mtc.js');
  return existsSync(script) ? undefined : `${script} is missing. Run \`npm run build\` first.`;
}

/** Real-Mautic mode: MAUTIC_URL plus OAuth2 client or Basic credentials. */
export function realMauticFromEnv(env: NodeJS.ProcessEnv): { url: string; auth: MauticAuthConfig } | { error: string } | undefined {
  const url = env.MAUTIC_URL?.trim();
  if (!url) return undefined;
  if (env.MAUTIC_CLIENT_ID && env.MAUTIC_CLIENT_SECRET) {
    // With a token file (`mautic-tracker authorize`): the authorization code grant, for clients no admin made.
    const tokens = env.MAUTIC_TOKEN_FILE ? { grant: 'authorization_code' as const, tokens: new FileTokenStore(env.MAUTIC_TOKEN_FILE) } : {};
    return { url, auth: { type: 'oauth2', clientId: env.MAUTIC_CLIENT_ID, clientSecret: env.MAUTIC_CLIENT_SECRET, ...tokens } };
  }
  if (env.MAUTIC_USERNAME && env.MAUTIC_PASSWORD) {
    return { url, auth: { type: 'basic', username: env.MAUTIC_USERNAME, password: env.MAUTIC_PASSWORD } };
  }
  return {
    error:
      'MAUTIC_URL is set but its credentials are not: set MAUTIC_CLIENT_ID and MAUTIC_CLIENT_SECRET (an OAuth2 API client), ' +
      'or MAUTIC_USERNAME and MAUTIC_PASSWORD (Basic auth enabled in Mautic). Unset MAUTIC_URL to use the local stand-in.',
  };
}

/** The stand-in's API client: from flags/env, else the default id and a random secret per run. */
function apiClientOf(flags: DevFlags): { id: string; secret: string } {
  return { id: flags.apiClientId, secret: flags.apiClientSecret ?? randomBytes(24).toString('hex') };
}

function devServerOptions(flags: DevFlags, apiClient: { id: string; secret: string }) {
  return {
    host: flags.host,
    port: flags.port,
    cors: flags.cors,
    publicFields: flags.publicFields,
    failRate: flags.failRate,
    latencyMs: flags.latencyMs,
    scriptFile: join(distDir, 'mtc.js'),
    // Like a client an admin made in Mautic: every grant, and the redirect `mautic-tracker authorize` listens on.
    api: { clients: [{ ...apiClient, grantTypes: ['client_credentials' as const, 'authorization_code' as const, 'refresh_token' as const], redirectUris: ['http://127.0.0.1'] }] },
  };
}

function printDev(dev: DevServer, apiClient: { id: string; secret: string }, history: IdentifyHistoryConfig | false): void {
  print('mautic-tracker dev server is running');
  print();
  print(`  Dashboard:        ${dev.dashboardUrl}`);
  print(`  Mautic stand-in:  ${dev.url}`);
  print(`  Snippet script:   ${dev.url}/mtc.js`);
  print(`  JSON export:      ${dev.dashboardUrl}export.json`);
  print();
  print('  API client (OAuth2 client_credentials), for your proxy\'s identification:');
  print(`    MAUTIC_URL=${dev.url}`);
  print(`    MAUTIC_CLIENT_ID=${apiClient.id}`);
  print(`    MAUTIC_CLIENT_SECRET=${apiClient.secret}`);
  print('  (fixed with --api-client-id/--api-client-secret or MAUTIC_TRACKER_API_CLIENT_ID/_SECRET;');
  print('   it also takes the authorization code flow: try `npx mautic-tracker authorize` with them)');
  if (history) {
    print();
    print('  Identify history merge, set up on this stand-in (its form and field); in your proxy config:');
    print(`    identify: { history: ${jsLiteral(history)} }`);
  }
}

async function runDev(flags: DevFlags): Promise<Closable[]> {
  const apiClient = apiClientOf(flags);
  const dev = await startDevServer(devServerOptions(flags, apiClient));
  // What `setup-identify` does to a real Mautic, done here already: identification works out of the box.
  const history = await standInHistory(dev.url, apiClient);
  printDev(dev, apiClient, history);
  return [dev];
}

function restClientFor(url: string, auth: MauticAuthConfig): MauticRestClient {
  const baseUrl = url.replace(/\/+$/, '');
  const provider =
    auth.type === 'basic'
      ? new BasicAuth({ username: auth.username, password: auth.password })
      : auth.grant === 'authorization_code'
        ? new OAuth2AuthorizationCode({ baseUrl, clientId: auth.clientId, clientSecret: auth.clientSecret, tokens: auth.tokens })
        : new OAuth2ClientCredentials({ baseUrl, clientId: auth.clientId, clientSecret: auth.clientSecret });
  return new MauticRestClient({ baseUrl: url, auth: provider });
}

/** The history merge set up on our own stand-in, or false (printed why) when that fails. */
async function standInHistory(url: string, apiClient: { id: string; secret: string }): Promise<IdentifyHistoryConfig | false> {
  try {
    const result = await setupIdentify({ client: restClientFor(url, { type: 'oauth2', clientId: apiClient.id, clientSecret: apiClient.secret }), mauticUrl: url });
    return result.survivor ? result.history : false;
  } catch (error) {
    print(`  (identify history merge off: ${error instanceof Error ? error.message : String(error)})`);
    return false;
  }
}

/** `{ field: 'mt_visitor_ref', formId: 3 }`: a flat object as it is written in JavaScript. */
function jsLiteral(value: object): string {
  const parts = Object.entries(value).map(([key, v]) => `${key}: ${typeof v === 'string' ? `'${v.replace(/[\\']/g, '\\$&')}'` : String(v)}`);
  return `{ ${parts.join(', ')} }`;
}

/** The Mautic permissions identification and this setup use (README "Identification"). */
const SETUP_PERMISSIONS = [
  'Mautic permissions (the API user of the credentials; an OAuth2 client made by an administrator):',
  "  the proxy:       Contacts: view, edit and create others' contacts (the contact devices and",
  '                   /api/stats/lead_devices are read and edited under the same access)',
  '  setup-identify:  also Custom Fields: create, Forms: create, Contacts: delete (its probe contacts)',
].join('\n');

async function runSetupIdentify(flags: SetupIdentifyFlags, env: NodeJS.ProcessEnv): Promise<number> {
  const real = realMauticFromEnv(flags.url ? { ...env, MAUTIC_URL: flags.url } : env);
  if (!real) return fail('setup-identify needs your Mautic: --url or MAUTIC_URL, and credentials in the environment (MAUTIC_CLIENT_ID + MAUTIC_CLIENT_SECRET, or MAUTIC_USERNAME + MAUTIC_PASSWORD).', 2);
  if ('error' in real) return fail(real.error, 2);
  print(`Setting up identification's history merge on ${real.url}`);
  try {
    const result = await setupIdentify({
      client: restClientFor(real.url, real.auth),
      mauticUrl: real.url,
      field: flags.field,
      formAlias: flags.formAlias,
      probe: flags.probe,
      report: (line) => print(`  ${line}`),
    });
    print();
    print('Add this to your proxy config (createMauticProxy):');
    print();
    print(`  identify: { history: ${jsLiteral(result.history)} }`);
    print();
    print(SETUP_PERMISSIONS);
    if (!result.survivor) {
      print();
      print(flags.probe
        ? 'The probe saw no merge: the proxy will not merge histories on this Mautic (later hits still count for the right contact).'
        : 'Without the probe the proxy skips the history merge. Run again without --no-probe to enable it.');
    }
    return 0;
  } catch (error) {
    if (error instanceof MauticAuthError) {
      const hint = error.reason === 'forbidden' ? `\n${SETUP_PERMISSIONS}` : '';
      return fail(`Mautic refused the credentials or API access (${error.reason}): ${error.messages.join('; ') || error.message}${hint}`, 1);
    }
    if (error instanceof MauticApiError || error instanceof SetupIdentifyError) return fail(error.message, 1);
    throw error;
  }
}

async function runDemo(flags: DevFlags & { demoPort: number }, env: NodeJS.ProcessEnv): Promise<Closable[] | string> {
  const siteDir = join(packageRoot, 'demo', 'site');
  if (!existsSync(join(siteDir, 'index.html'))) {
    return `the demo pages (${siteDir}) are not part of this installation; they ship with the git repository.`;
  }
  const secret = env.MAUTIC_TRACKER_SECRET && env.MAUTIC_TRACKER_SECRET.length >= 32 ? env.MAUTIC_TRACKER_SECRET : randomBytes(32).toString('hex');
  const real = realMauticFromEnv(env);
  if (real && 'error' in real) return real.error;

  if (real) {
    // Never changes the user's Mautic on its own: the history merge needs `setup-identify` first.
    const site = await startDemoSite({ host: flags.host, port: flags.demoPort, siteDir, distDir, mauticUrl: real.url, auth: real.auth, secret, identifyHistory: false });
    print('mautic-tracker demo is running against your Mautic (no local stand-in, no dashboard)');
    print();
    print(`  Demo site:        ${site.url}/`);
    print(`  Proxy:            ${site.proxyUrl}  →  ${real.url}`);
    print(`  Mautic:           ${real.url}  (see contacts there)`);
    return [site];
  }

  const apiClient = apiClientOf(flags);
  const dev = await startDevServer(devServerOptions(flags, apiClient));
  let site: DemoSite;
  let identifyHistory: IdentifyHistoryConfig | false;
  try {
    identifyHistory = await standInHistory(dev.url, apiClient);
    site = await startDemoSite({
      identifyHistory,
      host: flags.host,
      port: flags.demoPort,
      siteDir,
      distDir,
      mauticUrl: dev.url,
      auth: { type: 'oauth2', clientId: apiClient.id, clientSecret: apiClient.secret },
      secret,
      dashboardUrl: dev.dashboardUrl,
    });
  } catch (error) {
    await dev.close();
    throw error;
  }
  print('mautic-tracker demo is running');
  print();
  print(`  Demo site:        ${site.url}/`);
  print(`  Dashboard:        ${dev.dashboardUrl}`);
  print(`  Proxy:            ${site.proxyUrl}  →  Mautic stand-in ${dev.url}`);
  print(`  JSON export:      ${dev.dashboardUrl}export.json`);
  print(`  API client:       ${apiClient.id} (the proxy's identification uses it)`);
  print(`  History merge:    ${identifyHistory ? `on (form ${identifyHistory.formId}, field ${identifyHistory.field})` : 'off'}`);
  return [site, dev];
}

/** Stops everything on the first SIGINT/SIGTERM and exits 0; a second signal exits at once. */
function stopOnSignal(running: Closable[]): void {
  let stopping = false;
  const stop = (signal: NodeJS.Signals): void => {
    if (stopping) {
      process.exit(130);
    }
    stopping = true;
    print(`\n${signal}: stopping…`);
    void Promise.allSettled(running.map((r) => r.close())).then(() => {
      print('Stopped.');
      process.exit(0);
    });
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

export async function main(argv: readonly string[], env: NodeJS.ProcessEnv): Promise<number | 'running'> {
  // Its own options and parser (src/server/node/authorize.ts).
  if (argv[0] === 'authorize') return authorizeCommand(argv.slice(1), env, { print, error: (line) => void fail(line, 1) });
  let command: CliCommand;
  try {
    command = parseCliArgs(argv, env);
  } catch (error) {
    if (error instanceof UsageError) return fail(`${error.message}\nRun \`mautic-tracker --help\` for usage.`, 2);
    throw error;
  }
  if (command.command === 'help') {
    // With no command at all, the help is an error message: on stderr, and a failing exit code.
    if (command.noCommand) return fail(`a command is required.\n\n${usageFor(undefined)}`, 2);
    print(usageFor(command.topic));
    return 0;
  }
  if (command.command === 'version') {
    print(version());
    return 0;
  }
  const missing = requireBuild();
  if (missing) return fail(missing, 1);

  if (command.command === 'setup-identify') return runSetupIdentify(command, env);

  let running: Closable[] | string;
  try {
    running = command.command === 'dev' ? await runDev(command) : await runDemo(command, env);
  } catch (error) {
    return fail(error instanceof Error ? error.message : String(error), 1);
  }
  if (typeof running === 'string') return fail(running, 2);
  // Handlers first: a supervisor may signal as soon as it reads the line below.
  stopOnSignal(running);
  print();
  print('Press Ctrl-C to stop.');
  return 'running';
}

const invokedDirectly = (() => {
  const entry = process.argv[1];
  if (!entry) return false;
  try {
    return resolve(entry) === fileURLToPath(import.meta.url) || /[\\/](cli\.[cm]?js|mautic-tracker)$/.test(entry);
  } catch {
    return false;
  }
})();

if (invokedDirectly) {
  main(process.argv.slice(2), process.env).then(
    (result) => {
      if (result !== 'running') process.exitCode = result;
    },
    (error: unknown) => {
      process.stderr.write(`mautic-tracker: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
      process.exitCode = 1;
    },
  );
}

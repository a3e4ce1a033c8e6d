/**
 * Command-line parsing for `mautic-tracker`. Pure (no I/O) so tests can check every error message.
 *
 * @example
 * parseCliArgs(['dev', '--port', '8200', '--fail-rate', '0.2'], {});
 * // → { command: 'dev', port: 8200, failRate: 0.2, ... }
 */
import { parseArgs } from 'node:util';

export type CorsSetting = 'any' | 'restrictive' | string[];

export interface DevFlags {
  host: string;
  /** Port of the dev server (stand-in + dashboard). 0 picks a free one. */
  port: number;
  cors: CorsSetting;
  /** Probability in [0, 1] that a tracking or API request is answered with an injected 503. */
  failRate: number;
  /** Extra delay in ms added before every tracking and API response. */
  latencyMs: number;
  /** Contact fields a hit may write (Mautic's "publicly updatable"); none by default, like Mautic. */
  publicFields: string[];
  /** OAuth2 client id the stand-in accepts (a site's proxy points at it). */
  apiClientId: string;
  /** Its secret; null: a random one per run (printed). */
  apiClientSecret: string | null;
}

/** `setup-identify`: the one-time Mautic setup for identification's history merge. */
export interface SetupIdentifyFlags {
  /** Mautic's URL; default MAUTIC_URL. */
  url: string | null;
  field: string;
  formAlias: string;
  probe: boolean;
}

export type CliCommand =
  | ({ command: 'dev' } & DevFlags)
  | ({ command: 'demo'; demoPort: number } & DevFlags)
  | ({ command: 'setup-identify' } & SetupIdentifyFlags)
  /** `noCommand`: run with no arguments at all (a mistake: help on stderr, non-zero exit). */
  | { command: 'help'; topic?: 'dev' | 'demo' | 'setup-identify'; noCommand?: true }
  | { command: 'version' };

/** A mistake in the command line: the message is meant for the user, followed by a usage hint. */
export class UsageError extends Error {
  override name = 'UsageError';
}

export const DEFAULT_DEV_PORT = 8200;
export const DEFAULT_DEMO_PORT = 8300;
export const DEFAULT_HOST = '127.0.0.1';

/** Environment variables that set defaults; flags win over them. */
export const ENV_VARS = {
  devPort: 'MAUTIC_TRACKER_DEV_PORT',
  demoPort: 'MAUTIC_TRACKER_DEMO_PORT',
  host: 'MAUTIC_TRACKER_HOST',
  apiClientId: 'MAUTIC_TRACKER_API_CLIENT_ID',
  apiClientSecret: 'MAUTIC_TRACKER_API_CLIENT_SECRET',
} as const;

export const DEFAULT_API_CLIENT_ID = 'mautic-tracker-dev';

const COMMANDS_HELP = `Usage: mautic-tracker <command> [options]

Commands:
  dev             Start a local Mautic stand-in with a live dashboard and an API client.
  demo            Start the stand-in and dashboard plus a demo website with the proxy mounted at /mt
                  (this is what \`npm start\` runs).
  setup-identify  Prepare a Mautic for identification's history merge (once; safe to repeat).
  help            Show this help.

`;

const DEV_OPTIONS_HELP = `Options (dev and demo):
  --port <n>              Dev server port (stand-in + dashboard). Default ${DEFAULT_DEV_PORT}, env ${ENV_VARS.devPort}. 0 = any free port.
  --host <address>        Address to listen on. Default ${DEFAULT_HOST}, env ${ENV_VARS.host}.
  --cors <mode>           any (default: every origin allowed), restrictive (a fresh Mautic install:
                          no origin allowed), or a comma list of allowed origins.
  --fail-rate <0..1>      Answer this share of tracking/API requests with an injected 503. Default 0.
  --latency <ms>          Delay every tracking/API response by this many milliseconds. Default 0.
  --public-fields <list>  Comma list of contact fields a hit may set (Mautic's "publicly updatable"),
                          e.g. email,firstname. Default none, like Mautic.
  --api-client-id <id>    OAuth2 client id the stand-in accepts. Default ${DEFAULT_API_CLIENT_ID}, env ${ENV_VARS.apiClientId}.
  --api-client-secret <s> Its secret (8+ characters). Default: random per run, printed. Env ${ENV_VARS.apiClientSecret}.

`;

const DEMO_OPTIONS_HELP = `Options (demo only):
  --demo-port <n>         Demo website port. Default ${DEFAULT_DEMO_PORT}, env ${ENV_VARS.demoPort}. 0 = any free port.

`;

const SETUP_OPTIONS_HELP = `Options (setup-identify):
  --url <url>             Your Mautic. Default: env MAUTIC_URL. Credentials come from the environment:
                          MAUTIC_CLIENT_ID + MAUTIC_CLIENT_SECRET, or MAUTIC_USERNAME + MAUTIC_PASSWORD.
  --field <alias>         Hidden unique contact field to create or reuse. Default mt_visitor_ref.
  --form-alias <alias>    Standalone form to create or reuse. Default mtidentify.
  --no-probe              Do not measure which contact a form-post merge keeps (then the proxy skips
                          the history merge until you run it with the probe).
  It prints what it created or kept, the config line for your proxy, and the Mautic permissions
  it and the proxy need (Contacts view/edit/create/delete, Custom Fields create, Forms create).

`;

const OTHER_HELP = `Other:
  -h, --help              Show this help.
  -v, --version           Print the version.

`;

const REAL_MAUTIC_HELP = `Real Mautic: with MAUTIC_URL and credentials (MAUTIC_CLIENT_ID + MAUTIC_CLIENT_SECRET, or
MAUTIC_USERNAME + MAUTIC_PASSWORD) in the environment, \`demo\` points its proxy at that Mautic and
starts no stand-in (so there is no dashboard: look at the contacts in Mautic itself).
`;

/** The whole help (`mautic-tracker --help`). */
export const USAGE = [COMMANDS_HELP, DEV_OPTIONS_HELP, DEMO_OPTIONS_HELP, SETUP_OPTIONS_HELP, OTHER_HELP, REAL_MAUTIC_HELP].join('');

/** The help of one command (`mautic-tracker dev --help`): its usage line and its options only. */
export function usageFor(topic: 'dev' | 'demo' | 'setup-identify' | undefined): string {
  switch (topic) {
    case 'dev':
      return `Usage: mautic-tracker dev [options]\n\nStart a local Mautic stand-in with a live dashboard and an API client.\n\n${DEV_OPTIONS_HELP}`;
    case 'demo':
      return `Usage: mautic-tracker demo [options]\n\nStart the stand-in and dashboard plus a demo website with the proxy mounted at /mt.\n\n${DEV_OPTIONS_HELP}${DEMO_OPTIONS_HELP}${REAL_MAUTIC_HELP}`;
    case 'setup-identify':
      return `Usage: mautic-tracker setup-identify [options]\n\nPrepare a Mautic for identification's history merge (once; safe to repeat).\n\n${SETUP_OPTIONS_HELP}`;
    default:
      return USAGE;
  }
}

const FIELD_NAME = /^[a-z][a-z0-9_]{0,63}$/;
const MAX_LATENCY_MS = 60_000;

function parsePort(raw: string, what: string): number {
  if (!/^\d{1,5}$/.test(raw) || Number(raw) > 65535) {
    throw new UsageError(`${what} must be a whole number from 0 to 65535, got "${raw}".`);
  }
  return Number(raw);
}

function parseFailRate(raw: string): number {
  const value = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(value) || value < 0 || value > 1) {
    throw new UsageError(`--fail-rate must be a number from 0 to 1 (e.g. 0.2 for 20%), got "${raw}".`);
  }
  return value;
}

function parseLatency(raw: string): number {
  if (!/^\d+$/.test(raw) || Number(raw) > MAX_LATENCY_MS) {
    throw new UsageError(`--latency must be whole milliseconds from 0 to ${MAX_LATENCY_MS}, got "${raw}".`);
  }
  return Number(raw);
}

function parseCors(raw: string): CorsSetting {
  if (raw === 'any' || raw === 'restrictive') return raw;
  const origins = raw.split(',').map((o) => o.trim()).filter(Boolean);
  for (const origin of origins) {
    let parsed: URL | undefined;
    try {
      parsed = new URL(origin);
    } catch {
      parsed = undefined;
    }
    if (!parsed || !/^https?:$/.test(parsed.protocol) || parsed.origin !== origin.replace(/\/$/, '')) {
      throw new UsageError(
        `--cors must be "any", "restrictive" or a comma list of origins like https://www.example.com, got "${raw}".`,
      );
    }
  }
  if (origins.length === 0) throw new UsageError('--cors needs a value: any, restrictive, or a comma list of origins.');
  return origins.map((o) => o.replace(/\/$/, ''));
}

function parsePublicFields(raw: string): string[] {
  const fields = raw.split(',').map((f) => f.trim().toLowerCase()).filter(Boolean);
  for (const field of fields) {
    if (!FIELD_NAME.test(field)) {
      throw new UsageError(`--public-fields takes field aliases like email,firstname; "${field}" is not one.`);
    }
  }
  return fields;
}

function parseClientId(raw: string, what: string): string {
  if (!/^[A-Za-z0-9_.-]{1,100}$/.test(raw)) throw new UsageError(`${what} must be 1–100 letters, digits, _ . or -, got "${raw}".`);
  return raw;
}

function parseClientSecret(raw: string, what: string): string {
  // The value is never echoed: it is a secret.
  if (!/^[\x21-\x7e]{8,200}$/.test(raw)) throw new UsageError(`${what} must be 8–200 printable characters without spaces.`);
  return raw;
}

/** The options a command takes: `string` ones have a value, `boolean` ones (switches) none. */
type OptionSpec = Readonly<Record<string, 'string' | 'boolean'>>;

const SETUP_OPTIONS: OptionSpec = { url: 'string', field: 'string', 'form-alias': 'string', 'no-probe': 'boolean' };
const DEV_OPTIONS: OptionSpec = {
  port: 'string',
  host: 'string',
  cors: 'string',
  'fail-rate': 'string',
  latency: 'string',
  'public-fields': 'string',
  'api-client-id': 'string',
  'api-client-secret': 'string',
  'demo-port': 'string',
};

/**
 * A command's options in order, as `['--name', value]` (`--name value` or `--name=value`, each
 * name at most once; switches have the value ''), or `'help'` for `-h`/`--help`. `node:util`
 * `parseArgs` splits the arguments; its tokens, read in order, give each mistake its own message.
 */
function readOptions(rest: readonly string[], command: string, spec: OptionSpec): Array<[string, string]> | 'help' {
  const options = Object.fromEntries([...Object.entries(spec).map(([name, type]) => [name, { type }]), ['help', { type: 'boolean', short: 'h' }]]);
  // Not strict: an unknown option or a missing value must get our message, not parseArgs' own.
  const { tokens } = parseArgs({ args: [...rest], options, strict: false, allowPositionals: true, tokens: true });
  const found: Array<[string, string]> = [];
  const seen = new Set<string>();
  for (const token of tokens) {
    if (token.kind === 'positional') throw new UsageError(`Unexpected argument "${token.value}". Options start with --.`);
    if (token.kind === 'option-terminator') throw new UsageError('Unexpected argument "--". Options start with --.');
    if (token.name === 'help' && (token.rawName === '--help' || token.rawName === '-h')) return 'help';
    if (!token.rawName.startsWith('--')) throw new UsageError(`Unexpected argument "${token.rawName}". Options start with --.`);
    const name = token.rawName;
    const type = Object.hasOwn(spec, token.name) ? spec[token.name] : undefined;
    if (type === undefined) throw new UsageError(`Unknown option "${name}" for "${command}".`);
    // parseArgs takes the next argument as the value even when it is another option (`--port --host`).
    if (type === 'string' && (token.value === undefined || (!token.inlineValue && token.value.startsWith('--')))) {
      throw new UsageError(`${name} needs a value.`);
    }
    if (seen.has(name)) throw new UsageError(`${name} is given twice.`);
    seen.add(name);
    found.push([name, token.value ?? '']);
  }
  return found;
}

function parseSetupIdentify(rest: readonly string[]): CliCommand {
  const flags: SetupIdentifyFlags = { url: null, field: 'mt_visitor_ref', formAlias: 'mtidentify', probe: true };
  const options = readOptions(rest, 'setup-identify', SETUP_OPTIONS);
  if (options === 'help') return { command: 'help', topic: 'setup-identify' };
  for (const [name, value] of options) {
    switch (name) {
      case '--no-probe':
        flags.probe = false;
        break;
      case '--url': {
        let ok = false;
        try {
          ok = /^https?:$/.test(new URL(value).protocol);
        } catch {
          ok = false;
        }
        if (!ok) throw new UsageError(`--url must be your Mautic's address like https://mautic.example.com, got "${value}".`);
        flags.url = value;
        break;
      }
      case '--field':
        if (!FIELD_NAME.test(value)) throw new UsageError(`--field must be a contact field alias like mt_visitor_ref, got "${value}".`);
        flags.field = value;
        break;
      case '--form-alias':
        if (!/^[a-z][a-z0-9_]{0,9}$/.test(value)) throw new UsageError(`--form-alias must be 1–10 lowercase letters, digits or _, got "${value}".`);
        flags.formAlias = value;
        break;
    }
  }
  return { command: 'setup-identify', ...flags };
}

function parseHost(raw: string): string {
  if (!/^[A-Za-z0-9.:\-[\]]{1,253}$/.test(raw)) throw new UsageError(`--host must be an address like 127.0.0.1, got "${raw}".`);
  return raw;
}

/**
 * Parses `argv` (without `node` and the script path). Throws {@link UsageError} with a clear
 * message for anything it does not understand; never guesses.
 */
export function parseCliArgs(argv: readonly string[], env: Readonly<Record<string, string | undefined>>): CliCommand {
  const [first, ...rest] = argv;
  if (first === undefined) return { command: 'help', noCommand: true };
  if (first === 'help' || first === '--help' || first === '-h') {
    const topic = rest[0] === 'dev' || rest[0] === 'demo' || rest[0] === 'setup-identify' ? rest[0] : undefined;
    return topic ? { command: 'help', topic } : { command: 'help' };
  }
  if (first === '--version' || first === '-v') return { command: 'version' };
  if (first === 'setup-identify') return parseSetupIdentify(rest);
  if (first !== 'dev' && first !== 'demo') {
    throw new UsageError(`Unknown command "${first}". Use "dev", "demo" or "setup-identify".`);
  }

  const flags: DevFlags = {
    host: env[ENV_VARS.host] ? parseHost(env[ENV_VARS.host] as string) : DEFAULT_HOST,
    port: env[ENV_VARS.devPort] ? parsePort(env[ENV_VARS.devPort] as string, ENV_VARS.devPort) : DEFAULT_DEV_PORT,
    cors: 'any',
    failRate: 0,
    latencyMs: 0,
    publicFields: [],
    apiClientId: env[ENV_VARS.apiClientId] ? parseClientId(env[ENV_VARS.apiClientId] as string, ENV_VARS.apiClientId) : DEFAULT_API_CLIENT_ID,
    apiClientSecret: env[ENV_VARS.apiClientSecret] ? parseClientSecret(env[ENV_VARS.apiClientSecret] as string, ENV_VARS.apiClientSecret) : null,
  };
  let demoPort = env[ENV_VARS.demoPort] ? parsePort(env[ENV_VARS.demoPort] as string, ENV_VARS.demoPort) : DEFAULT_DEMO_PORT;
  const options = readOptions(rest, first, DEV_OPTIONS);
  if (options === 'help') return { command: 'help', topic: first };
  for (const [name, value] of options) {
    switch (name) {
      case '--port':
        flags.port = parsePort(value, '--port');
        break;
      case '--host':
        flags.host = parseHost(value);
        break;
      case '--cors':
        flags.cors = parseCors(value);
        break;
      case '--fail-rate':
        flags.failRate = parseFailRate(value);
        break;
      case '--latency':
        flags.latencyMs = parseLatency(value);
        break;
      case '--public-fields':
        flags.publicFields = parsePublicFields(value);
        break;
      case '--api-client-id':
        flags.apiClientId = parseClientId(value, '--api-client-id');
        break;
      case '--api-client-secret':
        flags.apiClientSecret = parseClientSecret(value, '--api-client-secret');
        break;
      case '--demo-port':
        if (first !== 'demo') throw new UsageError('--demo-port only applies to the "demo" command.');
        demoPort = parsePort(value, '--demo-port');
        break;
    }
  }

  if (first === 'demo') {
    if (demoPort !== 0 && demoPort === flags.port) {
      throw new UsageError(`The dev server and the demo site need different ports (both are ${demoPort}).`);
    }
    return { command: 'demo', demoPort, ...flags };
  }
  return { command: 'dev', ...flags };
}

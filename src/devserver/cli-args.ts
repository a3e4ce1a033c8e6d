/**
 * Command-line parsing for `mautic-tracker`. Pure (no I/O) so tests can check every error message.
 *
 * @example
 * parseCliArgs(['dev', '--port', '8200', '--fail-rate', '0.2'], {});
 * // → { command: 'dev', port: 8200, failRate: 0.2, ... }
 */

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
}

export type CliCommand =
  | ({ command: 'dev' } & DevFlags)
  | ({ command: 'demo'; demoPort: number } & DevFlags)
  | { command: 'help'; topic?: 'dev' | 'demo' }
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
} as const;

export const USAGE = `Usage: mautic-tracker <command> [options]

Commands:
  dev     Start a local Mautic stand-in with a live dashboard.
  demo    Start the stand-in and dashboard plus a demo website with the proxy mounted at /mt
          (this is what \`npm start\` runs).
  help    Show this help.

Options (dev and demo):
  --port <n>              Dev server port (stand-in + dashboard). Default ${DEFAULT_DEV_PORT}, env ${ENV_VARS.devPort}. 0 = any free port.
  --host <address>        Address to listen on. Default ${DEFAULT_HOST}, env ${ENV_VARS.host}.
  --cors <mode>           any (default: every origin allowed), restrictive (a fresh Mautic install:
                          no origin allowed), or a comma list of allowed origins.
  --fail-rate <0..1>      Answer this share of tracking/API requests with an injected 503. Default 0.
  --latency <ms>          Delay every tracking/API response by this many milliseconds. Default 0.
  --public-fields <list>  Comma list of contact fields a hit may set (Mautic's "publicly updatable"),
                          e.g. email,firstname. Default none, like Mautic.

Options (demo only):
  --demo-port <n>         Demo website port. Default ${DEFAULT_DEMO_PORT}, env ${ENV_VARS.demoPort}. 0 = any free port.

Other:
  -h, --help              Show this help.
  -v, --version           Print the version.

Real Mautic: with MAUTIC_URL and credentials (MAUTIC_CLIENT_ID + MAUTIC_CLIENT_SECRET, or
MAUTIC_USERNAME + MAUTIC_PASSWORD) in the environment, \`demo\` points its proxy at that Mautic and
starts no stand-in (so there is no dashboard: look at the contacts in Mautic itself).
`;

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
  if (first === undefined || first === 'help' || first === '--help' || first === '-h') {
    const topic = rest[0] === 'dev' || rest[0] === 'demo' ? rest[0] : undefined;
    return topic ? { command: 'help', topic } : { command: 'help' };
  }
  if (first === '--version' || first === '-v') return { command: 'version' };
  if (first !== 'dev' && first !== 'demo') {
    throw new UsageError(`Unknown command "${first}". Use "dev" or "demo".`);
  }

  const flags: DevFlags = {
    host: env[ENV_VARS.host] ? parseHost(env[ENV_VARS.host] as string) : DEFAULT_HOST,
    port: env[ENV_VARS.devPort] ? parsePort(env[ENV_VARS.devPort] as string, ENV_VARS.devPort) : DEFAULT_DEV_PORT,
    cors: 'any',
    failRate: 0,
    latencyMs: 0,
    publicFields: [],
  };
  let demoPort = env[ENV_VARS.demoPort] ? parsePort(env[ENV_VARS.demoPort] as string, ENV_VARS.demoPort) : DEFAULT_DEMO_PORT;
  const seen = new Set<string>();

  for (let i = 0; i < rest.length; i++) {
    const arg = rest[i] as string;
    if (arg === '--help' || arg === '-h') return { command: 'help', topic: first };
    if (!arg.startsWith('--')) throw new UsageError(`Unexpected argument "${arg}". Options start with --.`);
    const eq = arg.indexOf('=');
    const name = eq === -1 ? arg : arg.slice(0, eq);
    let value: string | undefined = eq === -1 ? undefined : arg.slice(eq + 1);
    if (value === undefined) {
      const next = rest[i + 1];
      if (next === undefined || next.startsWith('--')) throw new UsageError(`${name} needs a value.`);
      value = next;
      i++;
    }
    if (seen.has(name)) throw new UsageError(`${name} is given twice.`);
    seen.add(name);
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
      case '--demo-port':
        if (first !== 'demo') throw new UsageError('--demo-port only applies to the "demo" command.');
        demoPort = parsePort(value, '--demo-port');
        break;
      default:
        throw new UsageError(`Unknown option "${name}" for "${first}".`);
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

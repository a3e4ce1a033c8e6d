/**
 * Logging with redaction. The proxy never logs a header value, cookie, body or token; on top of
 * that every line passes through a redactor that masks any configured secret, so a secret that
 * slips into an error message still cannot reach a log sink.
 */

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

/** One structured log line. `fields` never carries header, cookie, body or token values. */
export interface LogEntry {
  level: LogLevel;
  message: string;
  fields?: Record<string, string | number | boolean | null>;
}

/**
 * Where log lines go.
 *
 * @example
 * createMauticProxy({ ..., logger: (entry) => myLogger[entry.level](entry.message, entry.fields) });
 */
export type Logger = (entry: LogEntry) => void;

/** `'silent'` (default) drops everything; `'console'` writes redacted info/warn/error lines to `console`. */
export type LoggerOption = Logger | 'console' | 'silent';

const REDACTED = '[redacted]';

/** Replaces every occurrence of each secret in `text` (longest first, so prefixes don't leak). */
export function redactSecrets(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of secrets) {
    if (secret.length >= 4 && out.includes(secret)) out = out.split(secret).join(REDACTED);
  }
  return out;
}

/** The internal logging function: never throws, always redacts. */
export type Log = (level: LogLevel, message: string, fields?: LogEntry['fields']) => void;

/** `secrets` is a getter: OAuth tokens are issued while running and must be redacted too. */
export function createLog(option: LoggerOption | undefined, secrets: () => readonly string[]): Log {
  const sink = resolveSink(option);
  if (!sink) return () => {};
  return (level, message, fields) => {
    try {
      const ordered = [...new Set(secrets())].sort((a, b) => b.length - a.length);
      const clean: LogEntry = { level, message: redactSecrets(message, ordered) };
      if (fields) {
        const out: Record<string, string | number | boolean | null> = {};
        for (const [key, value] of Object.entries(fields)) {
          out[key] = typeof value === 'string' ? redactSecrets(value, ordered) : value;
        }
        clean.fields = out;
      }
      sink(clean);
    } catch {
      // A broken logger must never break a request.
    }
  };
}

function resolveSink(option: LoggerOption | undefined): Logger | null {
  if (option === undefined || option === 'silent') return null;
  if (option === 'console') {
    return (entry) => {
      // Per-request debug lines (every refused request) would flood a console.
      if (entry.level === 'debug') return;
      const line = `[mautic-proxy] ${entry.message}${entry.fields ? ' ' + JSON.stringify(entry.fields) : ''}`;
      if (entry.level === 'error') console.error(line);
      else if (entry.level === 'warn') console.warn(line);
      else console.info(line);
    };
  }
  return option;
}

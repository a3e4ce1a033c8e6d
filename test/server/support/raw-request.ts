/**
 * An HTTP client that sends the request target exactly as given (fetch would normalize `..`
 * and `%2e` away before the proxy ever saw them) and can stream a body in chunks.
 */
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { connect } from 'node:net';

export interface RawResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
  /** Response as text for leak checks. */
  text: string;
}

export function rawRequest(options: {
  port: number;
  method?: string;
  path: string;
  headers?: Record<string, string | string[]>;
  body?: string | Buffer;
  /** Streams the body in this many chunks of `chunk`, without Content-Length. */
  chunked?: { chunk: Buffer; count: number };
}): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      { host: '127.0.0.1', port: options.port, method: options.method ?? 'GET', path: options.path, headers: options.headers, agent: false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const body = Buffer.concat(chunks);
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body, text: body.toString('utf8') });
        });
        res.on('error', reject);
      },
    );
    req.on('error', (err: NodeJS.ErrnoException) => {
      // The server may answer 413 and close before the whole body was written.
      if (err.code === 'EPIPE' || err.code === 'ECONNRESET') return;
      reject(err);
    });
    if (options.chunked) {
      let sent = 0;
      const writeNext = (): void => {
        while (sent < options.chunked!.count) {
          sent += 1;
          if (!req.write(options.chunked!.chunk)) {
            req.once('drain', writeNext);
            return;
          }
        }
        req.end();
      };
      writeNext();
    } else {
      req.end(options.body);
    }
  });
}

/**
 * A client that declares a body of `declaredBytes` and then sends it one byte every `intervalMs`
 * (a slowloris body), straight over TCP. Resolves with the status line's code and the time from
 * the end of the headers to the first byte of the answer; `waitMs` bounds the whole wait
 * (status 0 when no answer came).
 */
export function trickleRequest(options: {
  port: number;
  path: string;
  headers: Record<string, string>;
  declaredBytes: number;
  intervalMs: number;
  waitMs: number;
}): Promise<{ status: number; elapsedMs: number; text: string }> {
  return new Promise((resolve) => {
    const socket = connect(options.port, '127.0.0.1');
    const started = Date.now();
    let answer = '';
    let sent = 0;
    const finish = (): void => {
      clearInterval(ticker);
      clearTimeout(giveUp);
      socket.destroy();
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(answer)?.[1] ?? 0);
      resolve({ status, elapsedMs: Date.now() - started, text: answer });
    };
    const head = [`POST ${options.path} HTTP/1.1`, 'Host: 127.0.0.1', `Content-Length: ${options.declaredBytes}`];
    for (const [name, value] of Object.entries(options.headers)) head.push(`${name}: ${value}`);
    socket.write(head.join('\r\n') + '\r\n\r\n');
    const ticker = setInterval(() => {
      if (sent < options.declaredBytes - 1 && !socket.destroyed) {
        sent += 1;
        socket.write('a');
      }
    }, options.intervalMs);
    const giveUp = setTimeout(finish, options.waitMs);
    socket.on('data', (chunk: Buffer) => {
      answer += chunk.toString('utf8');
      // The whole (small) answer is in once its body is: the proxy's errors are one JSON object.
      if (answer.includes('\r\n\r\n') && answer.trimEnd().endsWith('}')) finish();
    });
    socket.on('error', () => undefined);
    socket.on('close', finish);
  });
}

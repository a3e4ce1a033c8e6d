/**
 * An HTTP client that sends the request target exactly as given (fetch would normalize `..`
 * and `%2e` away before the proxy ever saw them) and can stream a body in chunks.
 */
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';

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

/**
 * Express/Connect middleware. Mount it before any body parser (it streams the raw body itself);
 * requests outside the proxy's base path go to `next()`.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { MauticProxy } from '../core/proxy.js';
import { errorMessage } from '../core/http.js';
import { handleNode, writePlainResponse, type NodeAdapterOptions } from './listener.js';

type ConnectRequest = IncomingMessage & { originalUrl?: string };
export type ConnectMiddleware = (req: ConnectRequest, res: ServerResponse, next: (err?: unknown) => void) => void;

/**
 * @example
 * const app = express();
 * app.use(expressMiddleware(proxy, { trustedHops: 1 })); // before express.json()
 */
export function expressMiddleware(proxy: MauticProxy, options: NodeAdapterOptions = {}): ConnectMiddleware {
  return (req, res, next) => {
    // `originalUrl` is the full target even when the middleware is mounted under a prefix.
    const target = req.originalUrl ?? req.url ?? '/';
    const method = req.method ?? 'GET';
    if (method !== 'GET' && method !== 'HEAD' && req.readableEnded && proxy.owns(target.split('?')[0] ?? '')) {
      // A body parser ran first and consumed the stream: fail loudly rather than relay nothing.
      writePlainResponse(res, errorMessage(500, 'internal_error'), method);
      return;
    }
    handleNode(proxy, req, res, target, options, () => next()).catch(next);
  };
}

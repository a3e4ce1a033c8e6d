/**
 * Servers of the tests listen on 127.0.0.1 only, on a free port, and close with every connection
 * they still hold (kept-alive sockets, hanging requests), so no test waits on a socket.
 *
 * @example
 * const site = await listenLocal(createServer(listener));
 * await fetch(site.url + '/mt/mtc.js');
 * await site.close();
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface LocalServer {
  port: number;
  /** `http://127.0.0.1:<port>` */
  url: string;
  close(): Promise<void>;
}

export async function listenLocal(server: Server): Promise<LocalServer> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

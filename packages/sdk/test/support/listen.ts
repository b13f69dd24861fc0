import { createServer, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A node:http server for `listener` on 127.0.0.1, any port; its origin and a close that ends open connections. */
export async function listen(listenerOrServer: RequestListener | Server): Promise<{ origin: string; close: () => Promise<void> }> {
  const server = typeof listenerOrServer === 'function' ? createServer(listenerOrServer) : listenerOrServer;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

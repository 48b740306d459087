import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export interface RunningServer {
  readonly port: number;
  readonly server: http.Server;
  /** Stops accepting, lets in-flight requests finish (up to graceMs), then drops what is left. */
  close(graceMs: number): Promise<void>;
}

export async function listen(handler: http.RequestListener, port: number, host: string): Promise<RunningServer> {
  const server = http.createServer(handler);
  // Headers timeout above typical proxy keep-alive so idle proxies do not see resets.
  server.keepAliveTimeout = 65_000;
  const active = new Map<Socket, number>();
  server.on('connection', (socket) => {
    active.set(socket, 0);
    socket.on('close', () => active.delete(socket));
  });
  server.on('request', (req, res) => {
    const socket = req.socket;
    active.set(socket, (active.get(socket) ?? 0) + 1);
    res.on('finish', () => {
      const n = (active.get(socket) ?? 1) - 1;
      active.set(socket, n);
      if (closing && n === 0) socket.destroy();
    });
  });
  let closing = false;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    server,
    close: async (graceMs) => {
      closing = true;
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const [socket, n] of active) if (n === 0) socket.destroy();
      const timer = setTimeout(() => {
        for (const socket of active.keys()) socket.destroy();
      }, graceMs);
      await closed;
      clearTimeout(timer);
    },
  };
}

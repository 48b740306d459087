import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';

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

/** Answers an upgrade request with a plain HTTP error and closes the connection (before any WebSocket exists). */
export function refuseUpgrade(socket: Duplex, status: number, code: string, message: string): void {
  const body = JSON.stringify({ error: { code, message } });
  const reason = http.STATUS_CODES[status] ?? 'Error';
  socket.end(`HTTP/1.1 ${status} ${reason}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
}

/**
 * Forwards a WebSocket upgrade to another process and pipes the two connections together once it is accepted
 * (the web tier to the gateway, the gateway to the chat service's process). A refusal is passed back as is.
 */
export function proxyUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer, target: URL, headers: Record<string, string>, onError?: (err: Error) => void): void {
  const forward: Record<string, string> = {};
  for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string' && k !== 'host') forward[k] = v;
  const upstream = http.request({
    host: target.hostname,
    port: target.port,
    path: req.url,
    method: 'GET',
    headers: { ...forward, ...headers, connection: 'Upgrade', upgrade: 'websocket' },
  });
  const fail = (err: Error) => {
    onError?.(err);
    if (socket.writable) refuseUpgrade(socket, 502, 'BAD_GATEWAY', 'The chat service is unavailable. Try again shortly.');
  };
  upstream.on('error', fail);
  upstream.on('response', (res) => {
    // Refused before the upgrade: relay the status and body.
    const chunks: Buffer[] = [];
    res.on('data', (c: Buffer) => chunks.push(c));
    res.on('end', () => {
      const body = Buffer.concat(chunks);
      socket.end(
        Buffer.concat([
          Buffer.from(`HTTP/1.1 ${res.statusCode} ${res.statusMessage ?? ''}\r\nContent-Type: ${res.headers['content-type'] ?? 'text/plain'}\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n`),
          body,
        ]),
      );
    });
  });
  upstream.on('upgrade', (res, upstreamSocket, upstreamHead) => {
    let head101 = `HTTP/1.1 101 Switching Protocols\r\n`;
    for (let i = 0; i < res.rawHeaders.length; i += 2) head101 += `${res.rawHeaders[i]}: ${res.rawHeaders[i + 1]}\r\n`;
    socket.write(head101 + '\r\n');
    if (upstreamHead.length) socket.write(upstreamHead);
    if (head.length) upstreamSocket.write(head);
    upstreamSocket.setNoDelay?.(true);
    const end = () => {
      socket.destroy();
      upstreamSocket.destroy();
    };
    upstreamSocket.on('error', end).on('close', end);
    socket.on('error', end).on('close', end);
    upstreamSocket.pipe(socket);
    socket.pipe(upstreamSocket);
  });
  upstream.end();
}

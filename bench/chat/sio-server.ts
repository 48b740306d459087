/**
 * The baseline for `npm run bench:chat`: a minimal Socket.IO 4 server doing the same broadcast as the Circles chat
 * socket, with @socket.io/redis-adapter on the same Redis (so a broadcast also goes out on Redis pub/sub, as it would
 * with several nodes). WebSocket transport only. It checks a bearer token on the upgrade, lets a socket join a room
 * (`join`, acknowledged with the room's last sequence number), and for `send` builds a message shaped like the
 * Circles wire message (id, seq, author, clientId, body, timestamps), broadcasts `{channelId, message}` to the room
 * with `io.to(room).emit('msg', …)` and acknowledges the sender with id and seq. Nothing is stored: the Circles side
 * commits every message to PostgreSQL before it is broadcast; this one does not.
 *
 * Usage: node --import tsx bench/chat/sio-server.ts <port> <redisUrl> <redisPrefix> <token>
 * Prints one JSON line `{"ready":true,"port":…}` when listening; stops on SIGTERM.
 */
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import { createAdapter } from '@socket.io/redis-adapter';
import { Redis } from 'ioredis';
import { Server } from 'socket.io';

const [portArg, redisUrl, prefix, token] = process.argv.slice(2);
if (!portArg || !redisUrl || prefix === undefined || !token) throw new Error('usage: sio-server.ts <port> <redisUrl> <redisPrefix> <token>');

const pub = new Redis(redisUrl, { lazyConnect: false });
const sub = pub.duplicate();
await Promise.all([pub, sub].map((c) => (c.status === 'ready' ? undefined : new Promise((resolve, reject) => c.once('ready', resolve).once('error', reject)))));

const server = http.createServer((_req, res) => {
  res.writeHead(404).end();
});
const io = new Server(server, {
  transports: ['websocket'],
  serveClient: false,
  // The Circles socket pings every 25 s too (CHAT_HEARTBEAT_MS); these are Socket.IO's defaults, written out.
  pingInterval: 25_000,
  pingTimeout: 20_000,
  perMessageDeflate: false,
  maxHttpBufferSize: 64 * 1024,
  adapter: createAdapter(pub, sub, { key: `${prefix}socket.io` }),
});

const expected = `Bearer ${token}`;
io.use((socket, next) => {
  if (socket.handshake.headers.authorization !== expected) return next(new Error('unauthorized'));
  socket.data.userId = randomUUID();
  next();
});

interface SendInput {
  channelId?: unknown;
  clientId?: unknown;
  body?: unknown;
}
const seqs = new Map<string, number>();

io.on('connection', (socket) => {
  socket.on('join', (room: unknown, ack?: (r: unknown) => void) => {
    if (typeof room !== 'string' || room.length > 64) return ack?.({ error: 'BAD_ROOM' });
    void socket.join(room);
    ack?.({ channelId: room, lastSeq: seqs.get(room) ?? 0 });
  });
  socket.on('send', (input: SendInput, ack?: (r: unknown) => void) => {
    const { channelId, clientId, body } = input ?? {};
    if (typeof channelId !== 'string' || !socket.rooms.has(channelId) || typeof clientId !== 'string' || typeof body !== 'string' || body.length > 4000) {
      return ack?.({ error: 'BAD_USER_INPUT' });
    }
    const seq = (seqs.get(channelId) ?? 0) + 1;
    seqs.set(channelId, seq);
    const message = {
      id: randomUUID(),
      channelId,
      seq,
      authorId: socket.data.userId as string,
      clientId,
      body,
      replyToId: null,
      threadId: null,
      createdAt: new Date().toISOString(),
      editedAt: null,
      deleted: false,
    };
    io.to(channelId).emit('msg', { channelId, message });
    ack?.({ channelId, clientId, id: message.id, seq });
  });
});

server.listen(Number(portArg), '127.0.0.1', () => {
  const address = server.address();
  process.stdout.write(`${JSON.stringify({ ready: true, port: typeof address === 'object' && address ? address.port : Number(portArg), pid: process.pid })}\n`);
});

process.once('SIGTERM', () => {
  io.close();
  pub.disconnect();
  sub.disconnect();
  setTimeout(() => process.exit(0), 200).unref();
});

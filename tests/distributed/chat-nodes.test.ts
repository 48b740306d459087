import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort } from '@circles/server/embedded';
import { ChatTestSocket, type CirclesProcess, deleteRedisPrefix, distributedServicesAvailable, freshPostgres, gqlClient, REDIS_URL, spawnCircles, waitReady } from '@circles/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const run = await distributedServicesAvailable();
const pw = 'violet-kettle-sunrise-42';
type Status = { id: string; status: string };

/**
 * Chat on two server processes sharing the real PostgreSQL and Redis (each a whole node: gateway and every service):
 * - a client on each node: messages, typing and presence cross between them (Redis pub/sub, Redis presence);
 * - a node killed with SIGKILL: its people read offline within the presence TTL on the other node;
 * - crash safety: clients send a burst with their own message ids, the node is SIGKILLed mid-burst and restarted,
 *   the clients resend whatever was not acknowledged, and every message ends up stored exactly once — every
 *   acknowledged one with the sequence number its acknowledgement gave, numbers without gaps.
 */
describe.runIf(run)('chat across two nodes on PostgreSQL and Redis', () => {
  let db: Awaited<ReturnType<typeof freshPostgres>>;
  const prefix = `circles-chatnodes-${Date.now()}:`;
  const secret = randomBytes(32).toString('hex');
  const dirs: string[] = [];
  const ports: number[] = [];
  const nodes: (CirclesProcess | null)[] = [null, null];
  const url = (i: number) => `http://127.0.0.1:${ports[i]}`;
  const tokens: Record<string, string> = {};
  const ids: Record<string, string> = {};
  const sockets: ChatTestSocket[] = [];
  let general: string;

  const startNode = async (i: number) => {
    const node = spawnCircles({
      CIRCLES_ENV: 'test',
      CIRCLES_ROLES: 'gateway,auth,community,media,posts,chat,payments',
      GATEWAY_PORT: String(ports[i]),
      HOST: '127.0.0.1',
      DATA_DIR: dirs[i]!,
      DATABASE_URL: db.url,
      REDIS_URL,
      REDIS_PREFIX: prefix,
      GATEWAY_SECRET: secret,
      TRUST_PROXY: 'true',
      LOG_LEVEL: 'warn',
      CHAT_HEARTBEAT_MS: '1000',
      CHAT_PRESENCE_REFRESH_MS: '250',
      CHAT_PRESENCE_TTL_MS: '1500',
    });
    nodes[i] = node;
    await waitReady(`${url(i)}/readyz`, node, 90_000);
  };
  const connect = async (i: number, who: string) => {
    const s = await ChatTestSocket.open(url(i), { token: tokens[who] });
    sockets.push(s);
    return s;
  };
  const gql = (i: number) => gqlClient(url(i));
  const ok = async (query: string, vars: Record<string, unknown>, who: string, node = 0) => {
    const r = await gql(node)(query, vars, { token: tokens[who] });
    expect(r.errors, JSON.stringify(r.errors)).toBeUndefined();
    return r.data;
  };
  const statusOf = (s: ChatTestSocket, userId: string | undefined, status: string, since = 0) =>
    s.next((f) => f.t === 'presence' && f.users.some((u: Status) => u.id === userId && u.status === status), 10_000, since);

  beforeAll(async () => {
    db = await freshPostgres();
    for (let i = 0; i < 2; i++) {
      dirs.push(mkdtempSync(path.join(os.tmpdir(), `circles-chatnode${i}-`)));
      ports.push(await freePort());
    }
    // One after the other: both run migrations, and the second finds them applied.
    await startNode(0);
    await startNode(1);
    const people = ['olga', 'mike', 'nina', 'ivan', 'p1', 'p2', 'p3', 'p4', 'p5'];
    for (const who of people) {
      const r = await gql(0)(`mutation($input: SignUpInput!) { signUp(input: $input) { token account { id } } }`, {
        input: { email: `${who}@nodes.example`, password: pw, handle: `n_${who}`, displayName: who, delivery: 'BEARER' },
      }, { headers: { 'x-forwarded-for': `10.9.0.${people.indexOf(who) + 1}` } });
      expect(r.errors, JSON.stringify(r.errors)).toBeUndefined();
      tokens[who] = r.data.signUp.token;
      ids[who] = r.data.signUp.account.id;
    }
    const c = (await ok(`mutation { createCommunity(input: { name: "Two nodes", slug: "two-nodes" }) { id publicCenter { id } } }`, {}, 'olga')).createCommunity;
    for (const who of people.filter((w) => w !== 'olga')) await ok(`mutation($id: ID!) { joinCommunity(id: $id) { id } }`, { id: c.id }, who, 1);
    general = (await ok(`mutation($i: CreateChannelInput!) { createChannel(input: $i) { id } }`, { i: { communityId: c.id, spaceId: c.publicCenter.id, name: 'general' } }, 'olga')).createChannel.id;
  }, 180_000);

  afterAll(async () => {
    for (const s of sockets) s.close();
    for (const n of nodes) await n?.stop();
    await db?.drop();
    await deleteRedisPrefix(prefix);
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it('messages, typing and presence cross between the nodes', async () => {
    const mikeA = await connect(0, 'mike');
    const ninaB = await connect(1, 'nina');
    await mikeA.subscribe([general]);
    await ninaB.subscribe([general]);
    const a = await mikeA.sendMessage(general, 'from node A', `cross-a-${Date.now()}`);
    expect(a.t).toBe('ack');
    expect((await ninaB.next((f) => f.t === 'msg' && f.message.id === a.id)).message).toMatchObject({ body: 'from node A', authorId: ids.mike });
    const b = await ninaB.sendMessage(general, 'from node B', `cross-b-${Date.now()}`);
    expect((await mikeA.next((f) => f.t === 'msg' && f.message.id === b.id)).message.seq).toBe(b.seq);
    ninaB.send({ t: 'typing', channelId: general });
    expect(await mikeA.next((f) => f.t === 'typing' && f.userId === ids.nina)).toBeTruthy();
    // An edit made through node B's GraphQL reaches node A's socket.
    await ok(`mutation($id: ID!) { editMessage(id: $id, body: "from node B, edited") { id } }`, { id: b.id }, 'nina', 1);
    expect((await mikeA.next((f) => f.t === 'edit' && f.message.id === b.id)).message.body).toBe('from node B, edited');

    const olgaA = await connect(0, 'olga');
    olgaA.send({ t: 'watch', userIds: [ids.ivan] });
    await statusOf(olgaA, ids.ivan, 'offline');
    const ivanB = await connect(1, 'ivan');
    await statusOf(olgaA, ids.ivan, 'online');
    ivanB.send({ t: 'status', status: 'idle' });
    await statusOf(olgaA, ids.ivan, 'idle');
    ivanB.close();
    await statusOf(olgaA, ids.ivan, 'offline', olgaA.frames.length - 1);
  });

  it("a killed node's people go offline on the other node within the presence TTL", async () => {
    const olgaA = await connect(0, 'olga');
    olgaA.send({ t: 'watch', userIds: [ids.ivan] });
    await olgaA.next((f) => f.t === 'presence');
    const ivanB = await connect(1, 'ivan');
    await statusOf(olgaA, ids.ivan, 'online');
    const since = olgaA.frames.length;
    const killedAt = Date.now();
    nodes[1]!.child.kill('SIGKILL');
    await nodes[1]!.exited;
    await statusOf(olgaA, ids.ivan, 'offline', since);
    const tookMs = Date.now() - killedAt;
    // TTL 1.5 s + one refresh (0.25 s) + slack for a busy machine.
    expect(tookMs).toBeLessThan(8_000);
    console.log(`dead node's user offline after ${tookMs} ms (CHAT_PRESENCE_TTL_MS=1500)`);
    expect(ivanB.closed ?? (await ivanB.waitClosed(5_000))).toBeTruthy();
    await startNode(1);
  });

  it('crash mid-burst: every acknowledged message is stored exactly once, and resends fill in the rest', async () => {
    const senders = ['p1', 'p2', 'p3', 'p4', 'p5'];
    const perSender = 12;
    const acked = new Map<string, { id: string; seq: number }>();
    const clientIds = new Map<string, string[]>();
    const conns = new Map<string, ChatTestSocket>();
    for (const who of senders) {
      const s = await connect(1, who);
      conns.set(who, s);
      clientIds.set(who, Array.from({ length: perSender }, (_, k) => `crash-${who}-${k}-${randomBytes(4).toString('hex')}`));
    }
    const onAck = (s: ChatTestSocket) =>
      s.ws.on('message', (data) => {
        const f = JSON.parse(data.toString());
        if (f.t === 'ack') acked.set(f.clientId, { id: f.id, seq: f.seq });
      });
    for (const s of conns.values()) onAck(s);
    // Everyone bursts at once, without waiting for acknowledgements.
    for (let k = 0; k < perSender; k++) for (const who of senders) conns.get(who)!.send({ t: 'send', channelId: general, clientId: clientIds.get(who)![k]!, body: `burst ${who} #${k}` });
    const deadline = Date.now() + 20_000;
    while (acked.size < 15 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    nodes[1]!.child.kill('SIGKILL');
    await nodes[1]!.exited;
    const ackedBeforeCrash = new Map(acked);
    expect(ackedBeforeCrash.size).toBeGreaterThanOrEqual(15);
    expect(ackedBeforeCrash.size).toBeLessThan(senders.length * perSender);
    await startNode(1);
    // Each client resends what it holds no acknowledgement for, on a new connection, with the same ids.
    for (const who of senders) {
      const s = await connect(1, who);
      onAck(s);
      for (const clientId of clientIds.get(who)!) {
        if (ackedBeforeCrash.has(clientId)) continue;
        const r = await s.sendMessage(general, `burst ${who} #${clientIds.get(who)!.indexOf(clientId)}`, clientId);
        expect(r.t, JSON.stringify(r)).toBe('ack');
      }
    }
    // What is stored: read it all back.
    const stored: { seq: number; clientId: string; id: string }[] = [];
    let after = 0;
    for (;;) {
      const page = (await ok(`query($c: ID!, $a: Int) { messages(channelId: $c, after: $a, first: 200, includeThreadReplies: true) { hasMoreAfter messages { id seq clientId } } }`, { c: general, a: after }, 'olga')).messages;
      stored.push(...page.messages);
      if (!page.hasMoreAfter) break;
      after = page.messages.at(-1).seq;
    }
    const burst = stored.filter((m) => m.clientId.startsWith('crash-'));
    const all = [...clientIds.values()].flat();
    expect(burst.map((m) => m.clientId).sort()).toEqual([...all].sort()); // every message, once
    for (const [clientId, a] of ackedBeforeCrash) {
      const m = burst.find((x) => x.clientId === clientId)!;
      expect({ id: m.id, seq: m.seq }).toEqual(a); // acknowledged = stored, as acknowledged
    }
    expect(stored.map((m) => m.seq)).toEqual(stored.map((_, i) => i + 1)); // no gaps
    console.log(`crash test: ${ackedBeforeCrash.size} of ${all.length} acknowledged before SIGKILL; ${all.length} stored exactly once after resends`);
  });
});

/**
 * The chat WebSocket (docs/chat-protocol.md) in both modes — embedded (in-process PubSub and presence) and
 * distributed (Redis pub/sub and presence, PostgreSQL): the edge (session, Origin), send with acknowledgement and
 * idempotent resend, live events to other people's sockets, typing, presence and its expiry, rights taking effect on
 * open sockets (ban, removal from a circle), logging out closing the socket, and frames that are refused.
 */
import { ChatTestSocket, codeOf, distributedServicesAvailable, modes, startTestPlatform, type TestPlatform } from '@circles/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const canRunDistributed = await distributedServicesAvailable();
const pw = 'violet-kettle-sunrise-42';

describe.each(modes)('chat sockets (%s)', (mode) => {
  let p: TestPlatform;
  const run = mode === 'embedded' || canRunDistributed;
  const tokens: Record<string, string> = {};
  const ids: Record<string, string> = {};
  let community: string;
  let general: string;
  let circleChannel: string;
  let circle: string;
  const open: ChatTestSocket[] = [];
  let n = 0;
  const cid = () => `rt-${mode}-${++n}-${Date.now()}`;

  const connect = async (who: string) => {
    const s = await ChatTestSocket.open(p.url, { token: tokens[who] });
    open.push(s);
    return s;
  };
  const ok = async (query: string, vars: Record<string, unknown>, who: string) => {
    const r = await p.gql(query, vars, { token: tokens[who] });
    expect(r.errors, JSON.stringify(r.errors)).toBeUndefined();
    return r.data;
  };

  beforeAll(async () => {
    if (!run) return;
    // Fast heartbeats and presence expiry, so the test sees them happen.
    p = await startTestPlatform(mode, {}, { CHAT_HEARTBEAT_MS: '300', CHAT_PRESENCE_REFRESH_MS: '200', CHAT_PRESENCE_TTL_MS: '1000' });
    for (const who of ['olga', 'mike', 'nina', 'ivan', 'zed']) {
      const r = await p.gql(`mutation($input: SignUpInput!) { signUp(input: $input) { token account { id } } }`, {
        input: { email: `${who}@rt.example`, password: pw, handle: `rt_${who}`, displayName: who, delivery: 'BEARER' },
      });
      tokens[who] = r.data.signUp.token;
      ids[who] = r.data.signUp.account.id;
    }
    const c = (await ok(`mutation { createCommunity(input: { name: "Live", slug: "live-chat" }) { id publicCenter { id } } }`, {}, 'olga')).createCommunity;
    community = c.id;
    for (const who of ['mike', 'nina', 'ivan']) await ok(`mutation($id: ID!) { joinCommunity(id: $id) { id } }`, { id: c.id }, who);
    circle = (await ok(`mutation($c: ID!) { createCircle(communityId: $c, input: { name: "Inner", access: INVITE }) { id } }`, { c: c.id }, 'olga')).createCircle.id;
    await ok(`mutation($c: ID!, $u: ID!) { addCircleMember(circleId: $c, userId: $u) { role } }`, { c: circle, u: ids.nina }, 'olga');
    const create = async (spaceId: string, name: string) =>
      (await ok(`mutation($i: CreateChannelInput!) { createChannel(input: $i) { id } }`, { i: { communityId: community, spaceId, name } }, 'olga')).createChannel.id as string;
    general = await create(c.publicCenter.id, 'general');
    circleChannel = await create(circle, 'inner-talk');
  });
  afterAll(async () => {
    for (const s of open) s.close();
    await p?.stop();
  });

  it.runIf(run)('accepts only a live session with our Origin', async () => {
    const refused = (opts: Parameters<typeof ChatTestSocket.open>[1]) => ChatTestSocket.open(p.url, opts).then(() => 0, (e: { status?: number }) => e.status ?? -1);
    const ours = new URL(p.url).origin;
    expect(await refused({ origin: ours })).toBe(401);
    expect(await refused({ token: 'not-a-session' })).toBe(401);
    expect(await refused({ cookie: 'circles_session=expired-or-forged', origin: ours })).toBe(401);
    // No Origin and no bearer token: not an app, and not a browser we can check.
    expect(await refused({})).toBe(403);
    // A foreign page cannot ride the visitor's cookie, and a cookie without an Origin is not a browser we trust.
    expect(await refused({ cookie: `circles_session=${tokens.mike}`, origin: 'https://evil.example' })).toBe(403);
    expect(await refused({ token: tokens.mike, origin: 'https://evil.example' })).toBe(403);
    expect(await refused({ cookie: `circles_session=${tokens.mike}` })).toBe(403);
    // Our own origin with the cookie (a browser on our pages), and a bearer app without an Origin, get in.
    const browser = await ChatTestSocket.open(p.url, { cookie: `circles_session=${tokens.mike}`, origin: new URL(p.url).origin });
    open.push(browser);
    browser.send({ t: 'ping' });
    await browser.next((f) => f.t === 'pong');
    const app = await connect('mike');
    app.send({ t: 'bogus' });
    expect((await app.next((f) => f.t === 'error')).code).toBe('BAD_USER_INPUT');
  });

  it.runIf(run)('sends with an acknowledgement, fans out once stored, and a resend is a no-op', async () => {
    const mike = await connect('mike');
    const nina = await connect('nina');
    const outsider = await connect('zed');
    expect((await mike.subscribe([general]))[0]).toMatchObject({ t: 'subbed', channelId: general, lastSeq: 0 });
    await nina.subscribe([general]);
    // zed is not a member: chat, even a public center's, is for members.
    expect((await outsider.subscribe([general]))[0]).toMatchObject({ t: 'error', code: 'FORBIDDEN' });
    const clientId = cid();
    const ack = await mike.sendMessage(general, 'Hello from a socket', clientId);
    expect(ack).toMatchObject({ t: 'ack', clientId, channelId: general, seq: 1, duplicate: false });
    const got = await nina.next((f) => f.t === 'msg' && f.message.clientId === clientId);
    expect(got.message).toMatchObject({ id: ack.id, seq: 1, authorId: ids.mike, body: 'Hello from a socket', deleted: false });
    // The ack was "lost": the same clientId again stores nothing and nobody hears it twice.
    const again = await mike.sendMessage(general, 'Hello from a socket', clientId);
    expect(again).toMatchObject({ t: 'ack', id: ack.id, seq: 1, duplicate: true });
    const history = await ok(`query($c: ID!) { messages(channelId: $c) { messages { seq clientId } } }`, { c: general }, 'mike');
    expect(history.messages.messages).toEqual([{ seq: 1, clientId }]);
    await new Promise((r) => setTimeout(r, 150));
    expect(nina.frames.filter((f) => f.t === 'msg' && f.message.clientId === clientId)).toHaveLength(1);
    // Refusals come back as nacks with the domain's code.
    expect(await outsider.sendMessage(general, 'let me in', cid())).toMatchObject({ t: 'nack', code: 'FORBIDDEN' });
    expect(await mike.sendMessage(general, '   ', cid())).toMatchObject({ t: 'nack', code: 'BAD_USER_INPUT' });
    expect(await mike.sendMessage(general, 'x', 'bad id!')).toMatchObject({ t: 'nack', code: 'BAD_USER_INPUT' });
    // Edits and deletes made over GraphQL reach the sockets.
    await ok(`mutation($id: ID!) { editMessage(id: $id, body: "Hello, edited") { id } }`, { id: ack.id }, 'mike');
    expect((await nina.next((f) => f.t === 'edit' && f.message.id === ack.id)).message).toMatchObject({ body: 'Hello, edited' });
    await ok(`mutation($id: ID!) { deleteMessage(id: $id) { id } }`, { id: ack.id }, 'mike');
    expect(await nina.next((f) => f.t === 'del' && f.id === ack.id)).toMatchObject({ seq: 1 });
    // Your own other devices learn your read position.
    const mike2 = await connect('mike');
    const second = await mike.sendMessage(general, 'second', cid());
    await ok(`mutation($c: ID!, $s: Int!) { markChannelRead(channelId: $c, seq: $s) { id } }`, { c: general, s: second.seq }, 'mike');
    expect(await mike2.next((f) => f.t === 'read' && f.channelId === general && f.seq === second.seq)).toBeTruthy();
  });

  it.runIf(run)('typing reaches the channel, throttled; only subscribers who may send can type', async () => {
    const mike = await connect('mike');
    const ivan = await connect('ivan');
    const zed = await connect('zed');
    await mike.subscribe([general]);
    await ivan.subscribe([general]);
    expect((await zed.subscribe([general]))[0]!.t).toBe('error');
    ivan.send({ t: 'typing', channelId: general });
    expect(await mike.next((f) => f.t === 'typing' && f.userId === ids.ivan)).toMatchObject({ channelId: general, threadId: null });
    ivan.send({ t: 'typing', channelId: general });
    zed.send({ t: 'typing', channelId: general }); // not a member, not subscribed: refused
    expect((await zed.next((f) => f.t === 'error' && f.code === 'NOT_SUBSCRIBED')).channelId).toBe(general);
    mike.send({ t: 'ping' });
    await mike.next((f) => f.t === 'pong');
    await new Promise((r) => setTimeout(r, 300));
    expect(mike.frames.filter((f) => f.t === 'typing' && f.userId === ids.ivan)).toHaveLength(1);
    expect(mike.frames.some((f) => f.t === 'typing' && f.userId === ids.zed)).toBe(false);
    const unsubscribed = await connect('ivan');
    unsubscribed.send({ t: 'typing', channelId: circleChannel });
    expect((await unsubscribed.next((f) => f.t === 'error')).code).toBe('NOT_SUBSCRIBED');
  });

  it.runIf(run)('presence: online, idle, offline when the last device leaves; only for people who share a community', async () => {
    const watcher = await connect('olga');
    watcher.send({ t: 'watch', userIds: [ids.ivan, ids.zed] });
    const first = await watcher.next((f) => f.t === 'presence');
    // zed shares no community with olga: always offline to her, whatever zed does.
    expect(first.users).toEqual(expect.arrayContaining([{ id: ids.zed, status: 'offline' }]));
    const laptop = await connect('ivan');
    await watcher.next((f) => f.t === 'presence' && f.users.some((u: { id: string; status: string }) => u.id === ids.ivan && u.status === 'online'));
    laptop.send({ t: 'status', status: 'idle' });
    // Other sockets of ivan's from earlier tests are still open and online: close them so idle shows.
    for (const s of open.filter((s) => s !== laptop && s !== watcher)) s.close();
    await watcher.next((f) => f.t === 'presence' && f.users.some((u: { id: string; status: string }) => u.id === ids.ivan && u.status === 'idle'));
    laptop.close();
    await watcher.next((f) => f.t === 'presence' && f.users.some((u: { id: string; status: string }) => u.id === ids.ivan && u.status === 'offline'));
    const zed = await connect('zed');
    zed.send({ t: 'ping' });
    await zed.next((f) => f.t === 'pong');
    await new Promise((r) => setTimeout(r, 400));
    expect(watcher.frames.some((f) => f.t === 'presence' && f.users.some((u: { id: string; status: string }) => u.id === ids.zed && u.status !== 'offline'))).toBe(false);
  });

  it.runIf(run)("a ban or removal from a circle stops the open socket's channel at once", async () => {
    const nina = await connect('nina');
    const olga = await connect('olga');
    expect((await nina.subscribe([general, circleChannel])).map((f) => f.t)).toEqual(['subbed', 'subbed']);
    await olga.subscribe([circleChannel]);
    // Removed from the circle: the circle's channel goes, the public one stays.
    await ok(`mutation($c: ID!, $u: ID!) { removeCircleMember(circleId: $c, userId: $u) }`, { c: circle, u: ids.nina }, 'olga');
    expect(await nina.next((f) => f.t === 'revoked')).toMatchObject({ channelId: circleChannel });
    const secret = await olga.sendMessage(circleChannel, 'members only now', cid());
    expect(secret.t).toBe('ack');
    await olga.next((f) => f.t === 'msg' && f.message.id === secret.id);
    const pub = await olga.sendMessage(general, 'still public', cid());
    await nina.next((f) => f.t === 'msg' && f.message.id === pub.id);
    expect(nina.frames.some((f) => f.t === 'msg' && f.message.id === secret.id)).toBe(false);
    // Banned from the community: the public center's channel goes too, and she cannot subscribe again.
    await ok(`mutation($c: ID!, $u: ID!) { banMember(communityId: $c, userId: $u, reason: "spam") { __typename } }`, { c: community, u: ids.nina }, 'olga');
    expect(await nina.next((f) => f.t === 'revoked' && f.channelId === general)).toBeTruthy();
    const after = await olga.sendMessage(general, 'after the ban', cid());
    await olga.next((f) => f.t === 'msg' && f.message.id === after.id);
    await new Promise((r) => setTimeout(r, 200));
    expect(nina.frames.some((f) => f.t === 'msg' && f.message.id === after.id)).toBe(false);
    expect(await nina.sendMessage(general, 'let me back', cid())).toMatchObject({ t: 'nack' });
    const banned = await connect('nina');
    expect((await banned.subscribe([general, circleChannel])).map((f) => f.t)).toEqual(['error', 'error']);
  });

  it.runIf(run)('logging out closes the socket; a dead connection is dropped by the heartbeat', async () => {
    const r = await p.gql(`mutation($input: LogInInput!) { logIn(input: $input) { token } }`, { input: { email: 'mike@rt.example', password: pw, delivery: 'BEARER' } });
    const token = r.data?.logIn?.token as string;
    expect(token, JSON.stringify(r.errors)).toBeTruthy();
    const s = await ChatTestSocket.open(p.url, { token });
    open.push(s);
    expect(codeOf(await p.gql(`mutation { logOut }`, {}, { token }))).toBeUndefined();
    expect((await s.waitClosed(5_000)).code).toBe(4001);
    // A client that stops answering pings (its socket paused) is terminated.
    // (Paused, it cannot see the server hang up either; resumed after a few missed heartbeats, it finds the
    // connection gone instead of answering the next ping.)
    const frozen = await connect('ivan');
    const raw = (frozen.ws as unknown as { _socket: { pause(): void; resume(): void } })._socket;
    raw.pause();
    await new Promise((r) => setTimeout(r, 1500));
    raw.resume();
    expect((await frozen.waitClosed(5_000)).code).toBe(1006);
  });
});

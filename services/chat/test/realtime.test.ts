/**
 * The chat WebSocket (docs/chat-protocol.md) in both modes — embedded (in-process PubSub and presence) and
 * distributed (Redis pub/sub and presence, PostgreSQL): the edge (session, Origin), send with acknowledgement and
 * idempotent resend, live events to other people's sockets, typing, presence and its expiry, rights taking effect on
 * open sockets (ban, removal from a circle), logging out closing the socket, and frames that are refused.
 */
import { ChatTestSocket, codeOf, distributedServicesAvailable, modes, startTestPlatform, type TestPlatform } from '@circles/testing';
import { sql } from 'kysely';
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
  let center: string;
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
    // The gap test posts 1,000 messages from one person: lift the per-member and per-channel flood limits.
    p = await startTestPlatform(mode, {}, { CHAT_HEARTBEAT_MS: '5000', CHAT_PRESENCE_REFRESH_MS: '200', CHAT_PRESENCE_TTL_MS: '1000', CHAT_MEMBER_RATE: '5000', CHAT_CHANNEL_RATE: '5000' });
    for (const who of ['olga', 'mike', 'nina', 'ivan', 'zed']) {
      const r = await p.gql(`mutation($input: SignUpInput!) { signUp(input: $input) { token account { id } } }`, {
        input: { email: `${who}@rt.example`, password: pw, handle: `rt_${who}`, displayName: who, delivery: 'BEARER' },
      });
      tokens[who] = r.data.signUp.token;
      ids[who] = r.data.signUp.account.id;
    }
    const c = (await ok(`mutation { createCommunity(input: { name: "Live", slug: "live-chat" }) { id publicCenter { id } } }`, {}, 'olga')).createCommunity;
    community = c.id;
    center = c.publicCenter.id;
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

  it.runIf(run)('followers hear channel-list changes; a message with a file carries a working signed link', async () => {
    const mike = await connect('mike');
    mike.send({ t: 'follow', communityIds: [community] });
    await mike.next((f) => f.t === 'following' && f.communityId === community);
    const zed = await connect('zed');
    zed.send({ t: 'follow', communityIds: ['00000000-0000-4000-8000-000000000000'] });
    expect((await zed.next((f) => f.t === 'error')).code).toBe('NOT_FOUND');
    const since = mike.frames.length;
    const created = (await ok(`mutation($i: CreateChannelInput!) { createChannel(input: $i) { id } }`, { i: { communityId: community, spaceId: center, name: 'announcements' } }, 'olga')).createChannel.id;
    expect(await mike.next((f) => f.t === 'channels' && f.communityId === community, 10_000, since)).toBeTruthy();
    const upload = await fetch(`${p.url}/media/files?name=notes.txt`, { method: 'POST', headers: { authorization: `Bearer ${tokens.mike}` }, body: 'plain notes' });
    expect(upload.status).toBe(201);
    const file = (await upload.json()) as { id: string };
    await mike.subscribe([created]);
    const ack = await mike.sendMessage(created, 'see attached', cid(), { attachmentIds: [file.id] });
    expect(ack.t, JSON.stringify(ack)).toBe('ack');
    const frame = await mike.next((f) => f.t === 'msg' && f.message.id === ack.id);
    const att = frame.message.attachments[0];
    expect(att).toMatchObject({ id: file.id, name: 'notes.txt', kind: 'text' });
    const got = await fetch(`${p.url}${att.url}`);
    expect(got.status).toBe(200);
    expect(await got.text()).toBe('plain notes');
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

  it.runIf(run)('@here reaches the people online or idle who may read the channel, as it is sent (or as an edit adds it)', async () => {
    const MENTIONS = `id seq mentions { here viewer }`;
    const send = async (channelId: string, body: string) =>
      (await ok(`mutation($i: SendMessageInput!) { sendMessage(input: $i) { message { ${MENTIONS} } } }`, { i: { channelId, clientId: cid(), body } }, 'olga')).sendMessage.message;
    const viewer = async (who: string, id: string) => (await ok(`query($id: ID!) { message(id: $id) { mentions { viewer } } }`, { id }, who)).message.mentions.viewer as boolean;
    const mentionCount = async (who: string, id: string) => (await ok(`query($id: ID!) { channel(id: $id) { mentionCount } }`, { id }, who)).channel.mentionCount as number;
    const present = async () => (await p.infra.presence.present()).sort();
    const create = async (spaceId: string, name: string) =>
      (await ok(`mutation($i: CreateChannelInput!) { createChannel(input: $i) { id } }`, { i: { communityId: community, spaceId, name } }, 'olga')).createChannel.id as string;
    const standup = await create(center, 'standup');
    const inner = await create(circle, 'inner-standup');
    // Nobody from earlier tests stays connected.
    for (const s of open.splice(0)) s.close();
    await expect.poll(present).toEqual([]);

    // mike online, nina idle, zed online but no member; ivan away.
    const mike = await connect('mike');
    const nina = await connect('nina');
    await connect('zed');
    nina.send({ t: 'status', status: 'idle' });
    await expect.poll(present).toEqual([ids.mike, ids.nina, ids.zed].sort());
    await expect.poll(async () => (await p.infra.presence.statuses([ids.nina!])).get(ids.nina!)).toBe('idle');
    await mike.subscribe([standup]);

    const first = await send(standup, '@here standup in five');
    expect(first.mentions).toEqual({ here: true, viewer: false });
    const frame = await mike.next((f) => f.t === 'msg' && f.message.id === first.id);
    expect([...frame.message.mentions.hereUserIds].sort()).toEqual([ids.mike, ids.nina].sort());
    await mike.next((f) => f.t === 'mention' && f.messageId === first.id);
    await nina.next((f) => f.t === 'mention' && f.messageId === first.id);
    expect({ mike: await viewer('mike', first.id), nina: await viewer('nina', first.id), ivan: await viewer('ivan', first.id), olga: await viewer('olga', first.id) }).toEqual({
      mike: true,
      nina: true,
      ivan: false,
      olga: false,
    });
    expect({ mike: await mentionCount('mike', standup), nina: await mentionCount('nina', standup), ivan: await mentionCount('ivan', standup) }).toEqual({ mike: 1, nina: 1, ivan: 0 });

    // In a circle only those who may read it: nina is in it, mike is not.
    const circleCall = await send(inner, '@here circle sync');
    await nina.next((f) => f.t === 'mention' && f.messageId === circleCall.id);
    const { rows } = await sql<{ here_ids: string[] }>`select here_ids from chat.messages where id = ${circleCall.id}::uuid`.execute(p.infra.database!.db);
    expect(rows[0]!.here_ids).toEqual([ids.nina]);
    expect(mike.frames.some((f) => f.t === 'mention' && f.messageId === circleCall.id)).toBe(false);

    // Coming online later is not being reached by an earlier @here; an edit that adds @here reaches who is there then.
    const ivan = await connect('ivan');
    await expect.poll(present).toContain(ids.ivan);
    expect(await viewer('ivan', first.id)).toBe(false);
    const plain = await send(standup, 'standup moved to 10:15');
    expect(plain.mentions).toEqual({ here: false, viewer: false });
    await ok(`mutation($id: ID!) { editMessage(id: $id, body: "standup moved to 10:15 @here") { id } }`, { id: plain.id }, 'olga');
    await ivan.next((f) => f.t === 'mention' && f.messageId === plain.id);
    expect(await viewer('ivan', plain.id)).toBe(true);
    // Editing again keeps whom it reached and tells nobody twice.
    const since = ivan.frames.length;
    await ok(`mutation($id: ID!) { editMessage(id: $id, body: "standup moved to 10:20 @here") { id } }`, { id: plain.id }, 'olga');
    await new Promise((r) => setTimeout(r, 300));
    expect(ivan.frames.slice(since).some((f) => f.t === 'mention')).toBe(false);
    expect(await viewer('ivan', plain.id)).toBe(true);

    // Once everyone has left, an @here reaches nobody.
    for (const s of open.splice(0)) s.close();
    await expect.poll(present).toEqual([]);
    const empty = await send(standup, '@here anyone?');
    expect(await viewer('mike', empty.id)).toBe(false);
    expect(await mentionCount('mike', standup)).toBe(2);
  });

  it.runIf(run)("a ban or removal from a circle stops the open socket's channel at once", async () => {
    const nina = await connect('nina');
    const olga = await connect('olga');
    expect((await nina.subscribe([general, circleChannel])).map((f) => f.t)).toEqual(['subbed', 'subbed']);
    await olga.subscribe([circleChannel, general]);
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

  it.runIf(run)('gap: a client away while 1,000 messages are posted catches up to exactly the stored set', async () => {
    const channel = (await ok(`mutation($i: CreateChannelInput!) { createChannel(input: $i) { id } }`, { i: { communityId: community, spaceId: center, name: 'busy' } }, 'olga')).createChannel.id as string;
    const sender = await connect('olga');
    await sender.subscribe([channel]);
    // The reader is here for the first messages, then drops off.
    let reader = await connect('mike');
    await reader.subscribe([channel]);
    const held = new Map<number, string>();
    const hold = (s: ChatTestSocket) => s.ws.on('message', (d) => {
      const f = JSON.parse(d.toString());
      if (f.t === 'msg' && f.channelId === channel) held.set(f.message.seq, f.message.id);
    });
    hold(reader);
    const total = 1000;
    const acks: Promise<unknown>[] = [];
    const results: unknown[] = [];
    for (let i = 1; i <= total; i++) {
      // A client keeps a bounded number of sends unacknowledged (the server nacks beyond 100).
      if (acks.length >= 50) results.push(await acks.shift());
      if (i === 50) {
        results.push(...(await Promise.all(acks.splice(0))));
        await reader.next((f) => f.t === 'msg' && f.message.seq === 49);
        reader.ws.terminate();
      }
      const clientId = `gap-${mode}-${i}`;
      sender.send({ t: 'send', channelId: channel, clientId, body: `message ${i}` });
      acks.push(sender.next((f) => (f.t === 'ack' || f.t === 'nack') && f.clientId === clientId, 60_000));
      // Reconnect while the rest are still being posted: live frames and catch-up overlap.
      if (i === 700) {
        reader = await connect('mike');
        hold(reader);
      }
    }
    // What a client does on reconnecting (docs/chat-protocol.md): subscribe, then fetch after the highest
    // contiguous number it holds until nothing more is there.
    const subbed = (await reader.subscribe([channel]))[0]!;
    expect(subbed.t).toBe('subbed');
    results.push(...(await Promise.all(acks)));
    expect(results).toHaveLength(total);
    expect(results.every((f) => (f as { t: string }).t === 'ack')).toBe(true);
    const contiguous = () => {
      let n = 0;
      while (held.has(n + 1)) n++;
      return n;
    };
    for (;;) {
      const page: { hasMoreAfter: boolean; messages: { id: string; seq: number }[] } = (await ok(`query($c: ID!, $a: Int) { messages(channelId: $c, after: $a, first: 200, includeThreadReplies: true) { hasMoreAfter messages { id seq } } }`, { c: channel, a: contiguous() }, 'mike')).messages;
      for (const m of page.messages) held.set(m.seq, m.id);
      if (!page.hasMoreAfter && contiguous() >= held.size) break;
    }
    // Exactly the stored set: every number from 1 to 1,000 with the stored message's id, nothing else.
    const stored = new Map<number, string>();
    for (let before: number | null = null; ; ) {
      const page: { hasMoreBefore: boolean; messages: { id: string; seq: number }[] } = (await ok(`query($c: ID!, $b: Int) { messages(channelId: $c, before: $b, first: 200) { hasMoreBefore messages { id seq } } }`, { c: channel, b: before }, 'olga')).messages;
      for (const m of page.messages) stored.set(m.seq, m.id);
      if (!page.hasMoreBefore) break;
      before = page.messages[0]!.seq;
    }
    expect(stored.size).toBe(total);
    expect([...held.entries()].sort((a, b) => a[0] - b[0])).toEqual([...stored.entries()].sort((a, b) => a[0] - b[0]));
  }, 240_000);

});


// Short heartbeats on a platform of their own: a busy test machine must not starve the other tests' sockets.
describe.each(modes)('chat socket liveness (%s)', (mode) => {
  let p: TestPlatform;
  const run = mode === 'embedded' || canRunDistributed;
  const tokens: Record<string, string> = {};
  const open: ChatTestSocket[] = [];
  const connect = async (who: string) => {
    const s = await ChatTestSocket.open(p.url, { token: tokens[who] });
    open.push(s);
    return s;
  };
  beforeAll(async () => {
    if (!run) return;
    // Events gathered for 1 s (the most allowed): long enough to see that a reply does not overtake them.
    p = await startTestPlatform(mode, {}, { CHAT_HEARTBEAT_MS: '1000', CHAT_FLUSH_MS: '1000' });
    for (const who of ['mike', 'ivan']) {
      const r = await p.gql(`mutation($input: SignUpInput!) { signUp(input: $input) { token account { id } } }`, {
        input: { email: `${who}@rt.example`, password: pw, handle: `rt_${who}`, displayName: who, delivery: 'BEARER' },
      });
      tokens[who] = r.data.signUp.token;
    }
  });
  afterAll(async () => {
    for (const s of open) s.close();
    await p?.stop();
  });

  it.runIf(run)('a reply goes out after the channel events already gathered for the socket', async () => {
    const ok = async (query: string, vars: Record<string, unknown>, who: string) => {
      const r = await p.gql(query, vars, { token: tokens[who] });
      expect(r.errors, JSON.stringify(r.errors)).toBeUndefined();
      return r.data;
    };
    const c = (await ok(`mutation { createCommunity(input: { name: "Order", slug: "reply-order" }) { id publicCenter { id } } }`, {}, 'mike')).createCommunity;
    await ok(`mutation($id: ID!) { joinCommunity(id: $id) { id } }`, { id: c.id }, 'ivan');
    const channelId = (await ok(`mutation($i: CreateChannelInput!) { createChannel(input: $i) { id } }`, { i: { communityId: c.id, spaceId: c.publicCenter.id, name: 'order' } }, 'mike')).createChannel.id as string;
    const ivan = await connect('ivan');
    await ivan.subscribe([channelId]);
    const since = ivan.frames.length;
    await ok(`mutation($i: SendMessageInput!) { sendMessage(input: $i) { message { id } } }`, { i: { channelId, body: 'first in line', clientId: `order-${mode}` } }, 'mike');
    // The event reaches ivan's socket (through Redis, distributed) and waits there for the window to close; ivan
    // pings meanwhile. Without the reply flushing what was gathered, the pong would come first.
    await new Promise((r) => setTimeout(r, 300));
    ivan.send({ t: 'ping' });
    await ivan.next((f) => f.t === 'pong', 5_000, since);
    const types = ivan.frames.slice(since).map((f) => f.t);
    expect(types.indexOf('msg')).toBeGreaterThanOrEqual(0);
    expect(types.indexOf('msg')).toBeLessThan(types.indexOf('pong'));
  });

  it.runIf(run)('logging out closes the socket; a dead connection is dropped by the heartbeat', async () => {
    const r = await p.gql(`mutation($input: LogInInput!) { logIn(input: $input) { token } }`, { input: { email: 'mike@rt.example', password: pw, delivery: 'BEARER' } });
    const token = r.data?.logIn?.token as string;
    expect(token, JSON.stringify(r.errors)).toBeTruthy();
    const s = await ChatTestSocket.open(p.url, { token });
    open.push(s);
    expect(codeOf(await p.gql(`mutation { logOut }`, {}, { token }))).toBeUndefined();
    expect((await s.waitClosed(6_000)).code).toBe(4001);
    // A client that stops answering pings (its socket paused) is terminated.
    // (Paused, it cannot see the server hang up either; resumed after a few missed heartbeats, it finds the
    // connection gone instead of answering the next ping.)
    const frozen = await connect('ivan');
    const raw = (frozen.ws as unknown as { _socket: { pause(): void; resume(): void } })._socket;
    raw.pause();
    await new Promise((r) => setTimeout(r, 4000));
    raw.resume();
    expect((await frozen.waitClosed(5_000)).code).toBe(1006);
  });
});

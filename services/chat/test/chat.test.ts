import { codeOf, distributedServicesAvailable, modes, startTestPlatform, type TestPlatform } from '@circles/testing';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const canRunDistributed = await distributedServicesAvailable();
const pw = 'violet-kettle-sunrise-42';
const SEND = `mutation($i: SendMessageInput!) { sendMessage(input: $i) { duplicate message { id seq clientId body author { handle } replyToId } } }`;
const HISTORY = `query($c: ID!, $b: Int, $a: Int, $f: Int) { messages(channelId: $c, before: $b, after: $a, first: $f) { hasMoreBefore hasMoreAfter messages { seq body deleted editedAt author { handle } } } }`;

describe.each(modes)('chat channels and durable messages (%s)', (mode) => {
  let p: TestPlatform;
  const run = mode === 'embedded' || canRunDistributed;
  const tokens: Record<string, string> = {};
  const ids: Record<string, string> = {};
  let community: { id: string; center: string };
  let circle: string;
  let general: string;
  let n = 0;
  const cid = () => `msg-${mode}-${++n}-${Date.now()}`;

  const as = (who: string | null) => (who ? { token: tokens[who] } : {});
  const ok = async (query: string, vars: Record<string, unknown>, who: string | null) => {
    const r = await p.gql(query, vars, as(who));
    expect(r.errors, JSON.stringify(r.errors)).toBeUndefined();
    return r.data;
  };
  const send = (who: string, channelId: string, body: string, clientId = cid(), extra: Record<string, unknown> = {}) =>
    p.gql(SEND, { i: { channelId, clientId, body, ...extra } }, as(who));

  beforeAll(async () => {
    if (!run) return;
    p = await startTestPlatform(mode);
    for (const who of ['olga', 'mike', 'nina', 'mod']) {
      const r = await p.gql(`mutation($input: SignUpInput!) { signUp(input: $input) { token account { id } } }`, {
        input: { email: `${who}@chat.example`, password: pw, handle: `c_${who}`, displayName: who, delivery: 'BEARER' },
      });
      tokens[who] = r.data.signUp.token;
      ids[who] = r.data.signUp.account.id;
    }
    const c = (await ok(`mutation { createCommunity(input: { name: "Chatters", slug: "chatters" }) { id publicCenter { id } } }`, {}, 'olga')).createCommunity;
    community = { id: c.id, center: c.publicCenter.id };
    for (const who of ['mike', 'mod']) await ok(`mutation($id: ID!) { joinCommunity(id: $id) { id } }`, { id: c.id }, who);
    await ok(`mutation($c: ID!, $u: ID!) { setMemberRole(communityId: $c, userId: $u, role: MODERATOR) { role } }`, { c: c.id, u: ids.mod }, 'olga');
    circle = (await ok(`mutation($c: ID!) { createCircle(communityId: $c, input: { name: "Inner", access: INVITE }) { id } }`, { c: c.id }, 'olga')).createCircle.id;
  });
  afterAll(async () => {
    await p?.stop();
  });

  it.runIf(run)('admins create, rename, order and delete channels; others cannot', async () => {
    const create = (who: string, name: string, spaceId = community.center, extra: Record<string, unknown> = {}) =>
      p.gql(`mutation($i: CreateChannelInput!) { createChannel(input: $i) { id name topic position slowModeSeconds lastSeq viewerCanManage viewerCanSend } }`, { i: { communityId: community.id, spaceId, name, ...extra } }, as(who));
    const g = await create('olga', 'General', community.center, { topic: 'Say hi' });
    expect(g.data.createChannel).toMatchObject({ name: 'general', topic: 'Say hi', position: 0, lastSeq: 0, viewerCanManage: true, viewerCanSend: true });
    general = g.data.createChannel.id;
    const second = (await create('olga', 'show-and-tell')).data.createChannel;
    expect(second.position).toBe(1);
    expect(codeOf(await create('olga', 'GENERAL'))).toBe('CONFLICT');
    expect(codeOf(await create('olga', 'no spaces'))).toBe('BAD_USER_INPUT');
    expect(codeOf(await create('mike', 'mine'))).toBe('FORBIDDEN');
    expect(codeOf(await create('mod', 'mods'))).toBe('FORBIDDEN');
    expect(codeOf(await create('olga', 'slow', community.center, { slowModeSeconds: 999_999 }))).toBe('BAD_USER_INPUT');
    const reordered = await ok(`mutation($s: ID!, $ids: [ID!]!) { reorderChannels(spaceId: $s, channelIds: $ids) { name } }`, { s: community.center, ids: [second.id, general] }, 'olga');
    expect(reordered.reorderChannels.map((c: { name: string }) => c.name)).toEqual(['show-and-tell', 'general']);
    expect(codeOf(await p.gql(`mutation($s: ID!, $ids: [ID!]!) { reorderChannels(spaceId: $s, channelIds: $ids) { name } }`, { s: community.center, ids: [general] }, as('olga')))).toBe('BAD_USER_INPUT');
    const renamed = await ok(`mutation($id: ID!) { updateChannel(id: $id, input: { topic: "Show us your bakes" }) { topic } }`, { id: second.id }, 'olga');
    expect(renamed.updateChannel.topic).toBe('Show us your bakes');
    // Anyone may list a public space's channels, but only members send.
    const listed = await ok(`query($c: ID!, $s: ID!) { channels(communityId: $c, spaceId: $s) { name viewerCanSend } }`, { c: community.id, s: community.center }, null);
    expect(listed.channels).toEqual([
      { name: 'show-and-tell', viewerCanSend: false },
      { name: 'general', viewerCanSend: false },
    ]);
    expect(codeOf(await p.gql(`mutation($id: ID!) { deleteChannel(id: $id, confirmName: "nope") }`, { id: second.id }, as('olga')))).toBe('BAD_USER_INPUT');
    expect((await ok(`mutation($id: ID!) { deleteChannel(id: $id, confirmName: "show-and-tell") }`, { id: second.id }, 'olga')).deleteChannel).toBe(true);
  });

  it.runIf(run)('stores a message before acknowledging it, numbers it, and a resend with the same id is a no-op', async () => {
    const clientId = cid();
    const first = await send('mike', general, 'Hello, bakers!', clientId);
    expect(first.errors).toBeUndefined();
    expect(first.data.sendMessage).toMatchObject({ duplicate: false, message: { seq: 1, body: 'Hello, bakers!', clientId, author: { handle: 'c_mike' } } });
    const again = await send('mike', general, 'Hello, bakers! (resent)', clientId);
    expect(again.data.sendMessage).toMatchObject({ duplicate: true, message: { id: first.data.sendMessage.message.id, seq: 1, body: 'Hello, bakers!' } });
    // Concurrent resends of one message store it once; concurrent different messages get distinct, gap-free numbers.
    const racing = cid();
    const results = await Promise.all([...Array.from({ length: 5 }, () => send('mike', general, 'race', racing)), ...Array.from({ length: 10 }, (_, i) => send('olga', general, `burst ${i}`))]);
    expect(results.every((r) => r.errors === undefined)).toBe(true);
    expect(new Set(results.slice(0, 5).map((r) => r.data.sendMessage.message.id)).size).toBe(1);
    const { rows } = await sql<{ seq: string }>`select seq from chat.messages where channel_id = ${general}::uuid order by seq`.execute(p.infra.database!.db);
    expect(rows.map((r) => Number(r.seq))).toEqual(Array.from({ length: 12 }, (_, i) => i + 1));
    expect(codeOf(await send('mike', general, 'x', 'short'))).toBe('BAD_USER_INPUT');
    expect(codeOf(await send('mike', general, 'x'.repeat(4001)))).toBe('BAD_USER_INPUT');
    expect(codeOf(await send('mike', general, '   '))).toBe('BAD_USER_INPUT');
    expect(codeOf(await send('nina', general, 'let me in'))).toBe('FORBIDDEN');
    expect(codeOf(await p.gql(SEND, { i: { channelId: general, clientId: cid(), body: 'anon' } }))).toBe('UNAUTHENTICATED');
  });

  it.runIf(run)('pages history both ways and catches a reconnecting client up exactly', async () => {
    const newest = (await ok(HISTORY, { c: general, f: 5 }, 'mike')).messages;
    expect(newest.messages.map((m: { seq: number }) => m.seq)).toEqual([8, 9, 10, 11, 12]);
    expect(newest).toMatchObject({ hasMoreBefore: true, hasMoreAfter: false });
    const older = (await ok(HISTORY, { c: general, b: 8, f: 5 }, 'mike')).messages;
    expect(older.messages.map((m: { seq: number }) => m.seq)).toEqual([3, 4, 5, 6, 7]);
    expect(older).toMatchObject({ hasMoreBefore: true, hasMoreAfter: true });
    // A client that saw up to 9 while offline asks for what came after.
    const missed = (await ok(HISTORY, { c: general, a: 9 }, 'mike')).messages;
    expect(missed.messages.map((m: { seq: number }) => m.seq)).toEqual([10, 11, 12]);
    expect(missed).toMatchObject({ hasMoreBefore: true, hasMoreAfter: false });
    expect(codeOf(await p.gql(HISTORY, { c: general, a: 1, b: 5 }, as('mike')))).toBe('BAD_USER_INPUT');
    expect(codeOf(await p.gql(HISTORY, { c: general, f: 500 }, as('mike')))).toBe('BAD_USER_INPUT');
  });

  it.runIf(run)('edits are marked, deletes keep the number; replies stay in their channel', async () => {
    const m = (await send('mike', general, 'Typo hre')).data.sendMessage.message;
    const edited = await ok(`mutation($id: ID!) { editMessage(id: $id, body: "Typo here") { body editedAt } }`, { id: m.id }, 'mike');
    expect(edited.editMessage.editedAt).not.toBeNull();
    expect(codeOf(await p.gql(`mutation($id: ID!) { editMessage(id: $id, body: "mine") { id } }`, { id: m.id }, as('olga')))).toBe('FORBIDDEN');
    const reply = await send('olga', general, 'Fixed!', cid(), { replyToId: m.id });
    expect(reply.data.sendMessage.message.replyToId).toBe(m.id);
    // Nina is not in the community: chat is for members, so the message does not exist for her.
    expect(codeOf(await p.gql(`mutation($id: ID!) { deleteMessage(id: $id) { id } }`, { id: m.id }, as('nina')))).toBe('NOT_FOUND');
    // A moderator deletes someone else's message: the text goes, the number stays.
    const gone = await ok(`mutation($id: ID!) { deleteMessage(id: $id) { seq body deleted author { id } } }`, { id: m.id }, 'mod');
    expect(gone.deleteMessage).toEqual({ seq: m.seq, body: null, deleted: true, author: null });
    const around = (await ok(HISTORY, { c: general, a: m.seq - 1, f: 2 }, 'mike')).messages.messages;
    expect(around.map((x: { seq: number; deleted: boolean }) => [x.seq, x.deleted])).toEqual([
      [m.seq, true],
      [m.seq + 1, false],
    ]);
  });

  it.runIf(run)('circle channels are for the circle; slow mode spaces out members but not moderators', async () => {
    const inner = (await ok(`mutation($i: CreateChannelInput!) { createChannel(input: $i) { id } }`, { i: { communityId: community.id, spaceId: circle, name: 'inner', slowModeSeconds: 60 } }, 'olga')).createChannel.id;
    expect(codeOf(await send('mike', inner, 'hi'))).toBe('FORBIDDEN');
    expect(codeOf(await p.gql(HISTORY, { c: inner }, as('mike')))).toBe('FORBIDDEN');
    expect(codeOf(await p.gql(`query($c: ID!, $s: ID!) { channels(communityId: $c, spaceId: $s) { id } }`, { c: community.id, s: circle }, as('mike')))).toBe('FORBIDDEN');
    await ok(`mutation($s: ID!, $u: ID!) { addCircleMember(circleId: $s, userId: $u) { role } }`, { s: circle, u: ids.mike }, 'olga');
    expect((await send('mike', inner, 'first')).errors).toBeUndefined();
    const slowed = await send('mike', inner, 'second');
    expect(codeOf(slowed)).toBe('RATE_LIMITED');
    expect(slowed.errors![0]!.extensions!.retryAfterSeconds).toBeGreaterThan(50);
    // The owner moderates: exempt.
    expect((await send('olga', inner, 'one')).errors).toBeUndefined();
    expect((await send('olga', inner, 'two')).errors).toBeUndefined();
    // Removed from the circle: no more reading or sending, at once.
    await ok(`mutation($s: ID!, $u: ID!) { removeCircleMember(circleId: $s, userId: $u) }`, { s: circle, u: ids.mike }, 'olga');
    expect(codeOf(await p.gql(HISTORY, { c: inner }, as('mike')))).toBe('FORBIDDEN');
  });

  it.runIf(run)('unread counts and read positions are kept on the server, move only forward, and skip your own messages', async () => {
    const room = (await ok(`mutation($i: CreateChannelInput!) { createChannel(input: $i) { id } }`, { i: { communityId: community.id, spaceId: community.center, name: 'reads' } }, 'olga')).createChannel.id;
    const state = async (who: string) =>
      (await ok(`query($c: ID!, $s: ID!) { channels(communityId: $c, spaceId: $s) { id viewerReadSeq unreadCount lastSeq } }`, { c: community.id, s: community.center }, who)).channels.find(
        (c: { id: string }) => c.id === room,
      );
    for (let i = 0; i < 3; i++) await send('olga', room, `news ${i}`);
    expect(await state('mike')).toMatchObject({ viewerReadSeq: 0, unreadCount: 3, lastSeq: 3 });
    expect(await state('olga')).toMatchObject({ viewerReadSeq: 3, unreadCount: 0 }); // the sender has read what they sent
    await ok(`mutation($c: ID!) { markChannelRead(channelId: $c, seq: 2) { id } }`, { c: room }, 'mike');
    expect(await state('mike')).toMatchObject({ viewerReadSeq: 2, unreadCount: 1 });
    // Another device of mike's, behind, cannot move it back; past the end is the end.
    await ok(`mutation($c: ID!) { markChannelRead(channelId: $c, seq: 1) { id } }`, { c: room }, 'mike');
    expect((await state('mike')).viewerReadSeq).toBe(2);
    await ok(`mutation($c: ID!) { markChannelRead(channelId: $c, seq: 99) { id } }`, { c: room }, 'mike');
    expect(await state('mike')).toMatchObject({ viewerReadSeq: 3, unreadCount: 0 });
    // Mike's own message leaves him with nothing unread; olga sees one.
    await send('mike', room, 'thanks');
    expect(await state('mike')).toMatchObject({ viewerReadSeq: 4, unreadCount: 0 });
    expect((await state('olga')).unreadCount).toBe(1);
    expect(codeOf(await p.gql(`mutation($c: ID!) { markChannelRead(channelId: $c, seq: -1) { id } }`, { c: room }, as('mike')))).toBe('BAD_USER_INPUT');
    expect(codeOf(await p.gql(`mutation($c: ID!) { markChannelRead(channelId: $c, seq: 1) { id } }`, { c: room }))).toBe('UNAUTHENTICATED');
  });

  it.runIf(run)('deleting a circle deletes its channels and history', async () => {
    const temp = (await ok(`mutation($c: ID!) { createCircle(communityId: $c, input: { name: "Temp", access: OPEN }) { id } }`, { c: community.id }, 'olga')).createCircle.id;
    const ch = (await ok(`mutation($i: CreateChannelInput!) { createChannel(input: $i) { id } }`, { i: { communityId: community.id, spaceId: temp, name: 'temp' } }, 'olga')).createChannel.id;
    await send('olga', ch, 'soon gone');
    await ok(`mutation($id: ID!) { deleteCircle(id: $id, confirmName: "Temp") }`, { id: temp }, 'olga');
    await expect
      .poll(async () => (await sql<{ n: number }>`select count(*)::int as n from chat.channels where id = ${ch}::uuid`.execute(p.infra.database!.db)).rows[0]!.n)
      .toBe(0);
  });
});

import { codeOf, distributedServicesAvailable, modes, startTestPlatform, type TestPlatform } from '@circles/testing';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const canRunDistributed = await distributedServicesAvailable();
const pw = 'violet-kettle-sunrise-42';
const MSG = `id seq body threadId replyCount lastReplyAt viewerFollowsThread pinned pinnedBy { id } deleted
  author { id } reactions { emoji count viewerReacted } mentions { users { id } everyone here }
  attachments { id name kind contentType bytes url thumbUrl }`;
const SEND = `mutation($i: SendMessageInput!) { sendMessage(input: $i) { duplicate message { ${MSG} } } }`;
const HISTORY = `query($c: ID!, $t: ID, $b: Int, $a: Int, $ar: Int, $f: Int) {
  messages(channelId: $c, threadId: $t, before: $b, after: $a, around: $ar, first: $f) { hasMoreBefore hasMoreAfter messages { seq body threadId } } }`;
const CHANNEL = `id kind name communityId spaceId members { id } lastSeq unreadCount mentionCount viewerReadSeq viewerCanSend viewerCanPin viewerCanAddMembers viewerCanManage`;
const OPEN = `mutation($u: [ID!]!, $n: String) { openDirectChannel(userIds: $u, name: $n) { ${CHANNEL} } }`;

describe.each(modes)('chat: DMs, threads, reactions, mentions, files, pins (%s)', (mode) => {
  let p: TestPlatform;
  const run = mode === 'embedded' || canRunDistributed;
  const tokens: Record<string, string> = {};
  const ids: Record<string, string> = {};
  const people = ['olga', 'mike', 'nina', 'mod', 'omar', 'pia', 'quin', 'rita', 'sam', 'tess', 'uma', 'vic', 'loner'];
  let community: { id: string; center: string };
  let general: string;
  let n = 0;
  const cid = () => `m-${mode}-${++n}-${Date.now()}`;

  const as = (who: string | null) => (who ? { token: tokens[who] } : {});
  const ok = async (query: string, vars: Record<string, unknown>, who: string | null) => {
    const r = await p.gql(query, vars, as(who));
    expect(r.errors, JSON.stringify(r.errors)).toBeUndefined();
    return r.data;
  };
  const send = (who: string, channelId: string, body: string, extra: Record<string, unknown> = {}) => p.gql(SEND, { i: { channelId, clientId: cid(), body, ...extra } }, as(who));
  const sent = async (who: string, channelId: string, body: string, extra: Record<string, unknown> = {}) => {
    const r = await send(who, channelId, body, extra);
    expect(r.errors, JSON.stringify(r.errors)).toBeUndefined();
    return r.data.sendMessage.message;
  };
  const channel = async (who: string, id: string) => (await ok(`query($id: ID!) { channel(id: $id) { ${CHANNEL} } }`, { id }, who)).channel;
  /** Frames published for sockets on a PubSub topic (chat:ch:<id> or chat:user:<id>), collected while `fn` runs. */
  const frames = async (topics: string[], fn: () => Promise<unknown>) => {
    const got: any[] = [];
    const subs = await Promise.all(topics.map((t) => p.infra.pubsub.subscribe(t, (m) => got.push(JSON.parse(m as string)))));
    try {
      await fn();
      await new Promise((r) => setTimeout(r, mode === 'distributed' ? 300 : 50));
    } finally {
      for (const unsub of subs) await unsub();
    }
    return got;
  };

  beforeAll(async () => {
    if (!run) return;
    p = await startTestPlatform(mode);
    for (const who of people) {
      const r = await p.gql(`mutation($input: SignUpInput!) { signUp(input: $input) { token account { id } } }`, {
        input: { email: `${who}@dm.example`, password: pw, handle: `d_${who}`, displayName: who, delivery: 'BEARER' },
      });
      tokens[who] = r.data.signUp.token;
      ids[who] = r.data.signUp.account.id;
    }
    const c = (await ok(`mutation { createCommunity(input: { name: "Talkers", slug: "talkers" }) { id publicCenter { id } } }`, {}, 'olga')).createCommunity;
    community = { id: c.id, center: c.publicCenter.id };
    for (const who of people.filter((w) => w !== 'olga' && w !== 'loner')) await ok(`mutation($id: ID!) { joinCommunity(id: $id) { id } }`, { id: c.id }, who);
    await ok(`mutation($c: ID!, $u: ID!) { setMemberRole(communityId: $c, userId: $u, role: MODERATOR) { role } }`, { c: c.id, u: ids.mod }, 'olga');
    general = (await ok(`mutation($i: CreateChannelInput!) { createChannel(input: $i) { id } }`, { i: { communityId: c.id, spaceId: c.publicCenter.id, name: 'general' } }, 'olga')).createChannel.id;
    // Mentions resolve through chat's projection of auth's handles, fed by events: wait until it has everyone.
    for (let tries = 0; ; tries++) {
      const { rows } = await sql<{ n: number }>`select count(*)::int as n from chat.profiles where handle like 'd\\_%'`.execute(p.infra.database!.db);
      if (rows[0]!.n === people.length) break;
      if (tries > 150) throw new Error(`chat.profiles has ${rows[0]!.n} of ${people.length} handles`);
      await new Promise((r) => setTimeout(r, 100));
    }
  });
  afterAll(async () => {
    await p?.stop();
  });

  it.runIf(run)('a DM is one per pair, from either side; only people sharing a community; only its members read and send', async () => {
    const dm = (await ok(OPEN, { u: [ids.mike] }, 'nina')).openDirectChannel;
    expect(dm).toMatchObject({ kind: 'DM', name: null, communityId: null, spaceId: null, lastSeq: 0, viewerCanSend: true, viewerCanPin: true, viewerCanAddMembers: false, viewerCanManage: false });
    expect(dm.members.map((m: { id: string }) => m.id).sort()).toEqual([ids.mike, ids.nina].sort());
    // Again, from the other side, and with the viewer listed too: the same conversation.
    expect((await ok(OPEN, { u: [ids.nina] }, 'mike')).openDirectChannel.id).toBe(dm.id);
    expect((await ok(OPEN, { u: [ids.nina, ids.mike] }, 'nina')).openDirectChannel.id).toBe(dm.id);
    // Opening it at the same moment from both sides still makes one.
    const racing = await Promise.all([p.gql(OPEN, { u: [ids.pia] }, as('omar')), p.gql(OPEN, { u: [ids.omar] }, as('pia')), p.gql(OPEN, { u: [ids.pia] }, as('omar'))]);
    expect(new Set(racing.map((r) => r.data.openDirectChannel.id)).size).toBe(1);
    // No shared community: refused, and an unknown id looks the same.
    const lonely = await p.gql(OPEN, { u: [ids.loner] }, as('nina'));
    expect(lonely.errors?.[0]?.extensions).toMatchObject({ code: 'FORBIDDEN', field: 'userIds', userIds: [ids.loner] });
    expect(codeOf(await p.gql(OPEN, { u: ['00000000-0000-4000-8000-000000000000'] }, as('nina')))).toBe('FORBIDDEN');
    expect(codeOf(await p.gql(OPEN, { u: [ids.nina] }, as('nina')))).toBe('BAD_USER_INPUT');
    expect(codeOf(await p.gql(OPEN, { u: [ids.mike], n: 'Pals' }, as('nina')))).toBe('BAD_USER_INPUT');
    expect(codeOf(await p.gql(OPEN, { u: [ids.mike] }))).toBe('UNAUTHENTICATED');
    // A banned member no longer shares that community.
    expect((await ok(OPEN, { u: [ids.vic] }, 'uma')).openDirectChannel.kind).toBe('DM');
    await ok(`mutation($c: ID!, $u: ID!) { banMember(communityId: $c, userId: $u, reason: "spam") { reason } }`, { c: community.id, u: ids.vic }, 'olga');
    expect(codeOf(await p.gql(OPEN, { u: [ids.vic] }, as('nina')))).toBe('FORBIDDEN');

    const hello = await sent('nina', dm.id, 'Hi Mike');
    expect(hello.seq).toBe(1);
    expect((await channel('mike', dm.id)).unreadCount).toBe(1);
    // Outsiders: the conversation does not exist for them.
    expect((await ok(`query($id: ID!) { channel(id: $id) { id } }`, { id: dm.id }, 'olga')).channel).toBeNull();
    expect(codeOf(await p.gql(HISTORY, { c: dm.id }, as('olga')))).toBe('NOT_FOUND');
    expect(codeOf(await send('olga', dm.id, 'let me in'))).toBe('NOT_FOUND');
    expect((await ok(`query($id: ID!) { message(id: $id) { id } }`, { id: hello.id }, 'olga')).message).toBeNull();
    expect((await ok(`query($id: ID!) { message(id: $id) { id body } }`, { id: hello.id }, 'mike')).message).toEqual({ id: hello.id, body: 'Hi Mike' });
    expect(codeOf(await p.gql(`mutation($id: ID!) { deleteMessage(id: $id) { id } }`, { id: hello.id }, as('olga')))).toBe('NOT_FOUND');
    // In a DM nobody moderates: mike cannot delete nina's message; nor leave a DM.
    expect(codeOf(await p.gql(`mutation($id: ID!) { deleteMessage(id: $id) { id } }`, { id: hello.id }, as('mike')))).toBe('FORBIDDEN');
    expect(codeOf(await p.gql(`mutation($c: ID!) { leaveChannel(channelId: $c) }`, { c: dm.id }, as('mike')))).toBe('BAD_USER_INPUT');
    // The DM list: newest activity first, members as users.
    const list = (await ok(`{ directChannels { channels { id kind members { id handle } } hasNextPage } }`, {}, 'nina')).directChannels;
    expect(list.channels[0]).toMatchObject({ id: dm.id, kind: 'DM' });
    expect(list.channels[0].members.map((m: { handle: string }) => m.handle).sort()).toEqual(['d_mike', 'd_nina']);
  });

  it.runIf(run)('groups: 3 to 10 people, members add (up to 10) and leave; everyone in it hears, the leaver is revoked', async () => {
    const tooMany = ['mike', 'nina', 'mod', 'omar', 'pia', 'quin', 'rita', 'sam', 'tess', 'uma'].map((w) => ids[w]);
    expect(codeOf(await p.gql(OPEN, { u: tooMany }, as('olga')))).toBe('BAD_USER_INPUT');
    const group = (await ok(OPEN, { u: [ids.mike, ids.nina], n: '  Bakers  ' }, 'olga')).openDirectChannel;
    expect(group).toMatchObject({ kind: 'GROUP', name: 'Bakers', viewerCanAddMembers: true });
    expect(group.members).toHaveLength(3);
    // A second group of the same people is a new conversation (groups are not one per set).
    expect((await ok(OPEN, { u: [ids.mike, ids.nina] }, 'olga')).openDirectChannel.id).not.toBe(group.id);
    const ADD = `mutation($c: ID!, $u: [ID!]!) { addChannelMembers(channelId: $c, userIds: $u) { id members { id } } }`;
    const heard = await frames([`chat:user:${ids.olga}`, `chat:user:${ids.omar}`], () => ok(ADD, { c: group.id, u: ['mod', 'omar', 'pia', 'quin', 'rita', 'sam'].map((w) => ids[w]) }, 'mike'));
    expect(heard.filter((f) => f.t === 'dm' && f.channelId === group.id)).toHaveLength(2);
    expect((await channel('olga', group.id)).members).toHaveLength(9);
    // Two more would make 11.
    expect(codeOf(await p.gql(ADD, { c: group.id, u: [ids.tess, ids.uma] }, as('nina')))).toBe('BAD_USER_INPUT');
    expect(codeOf(await p.gql(ADD, { c: group.id, u: [ids.loner] }, as('nina')))).toBe('FORBIDDEN');
    expect(codeOf(await p.gql(ADD, { c: group.id, u: [ids.tess] }, as('tess')))).toBe('NOT_FOUND');
    await ok(ADD, { c: group.id, u: [ids.tess] }, 'nina');
    await sent('tess', group.id, 'Thanks for having me');
    // Leaving: the leaver is told they lost it, the rest refetch; the leaver can no longer read.
    const left = await frames([`chat:user:${ids.tess}`, `chat:user:${ids.olga}`], () => ok(`mutation($c: ID!) { leaveChannel(channelId: $c) }`, { c: group.id }, 'tess'));
    expect(left).toEqual(expect.arrayContaining([{ t: 'revoked', channelId: group.id }, { t: 'dm', channelId: group.id }]));
    expect(left.filter((f) => f.t === 'revoked')).toHaveLength(1);
    expect(codeOf(await p.gql(HISTORY, { c: group.id }, as('tess')))).toBe('NOT_FOUND');
    expect((await channel('olga', group.id)).members).toHaveLength(9);
    expect(codeOf(await p.gql(`mutation($c: ID!, $u: [ID!]!) { addChannelMembers(channelId: $c, userIds: $u) { id } }`, { c: general, u: [ids.tess] }, as('olga')))).toBe('BAD_USER_INPUT');
    // The last one out deletes it.
    const pair = (await ok(OPEN, { u: [ids.mike, ids.nina] }, 'omar')).openDirectChannel;
    for (const who of ['omar', 'mike', 'nina']) await ok(`mutation($c: ID!) { leaveChannel(channelId: $c) }`, { c: pair.id }, who);
    expect((await sql<{ n: number }>`select count(*)::int as n from chat.channels where id = ${pair.id}::uuid`.execute(p.infra.database!.db)).rows[0]!.n).toBe(0);
  });

  it.runIf(run)('threads: replies take channel numbers, stay out of the main timeline and unread counts; roots carry the summary; following', async () => {
    const room = (await ok(`mutation($i: CreateChannelInput!) { createChannel(input: $i) { id } }`, { i: { communityId: community.id, spaceId: community.center, name: 'threads' } }, 'olga')).createChannel.id;
    const root = await sent('olga', room, 'Sourdough starters: discuss');
    const other = await sent('olga', room, 'Unrelated');
    const published = await frames([`chat:ch:${room}`], async () => {
      await sent('mike', room, 'Mine is 3 years old', { threadId: root.id });
    });
    expect(published.find((f) => f.t === 'msg')?.message).toMatchObject({ threadId: root.id, seq: 3, mentions: { userIds: [], everyone: false, here: false }, attachments: [], pinned: false, replyCount: 0 });
    expect(published.find((f) => f.t === 'thread')).toMatchObject({ channelId: room, rootId: root.id, replyCount: 1 });
    const reply2 = await sent('nina', room, 'Rye here', { threadId: root.id });
    expect(reply2.seq).toBe(4);
    // A reply cannot start a thread; a thread root must be in this channel.
    expect((await send('mike', room, 'nested', { threadId: reply2.id })).errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'threadId' });
    expect(codeOf(await send('mike', general, 'elsewhere', { threadId: root.id }))).toBe('BAD_USER_INPUT');
    const main = (await ok(HISTORY, { c: room }, 'mike')).messages;
    expect(main.messages.map((m: { seq: number }) => m.seq)).toEqual([1, 2]);
    const thread = (await ok(HISTORY, { c: room, t: root.id }, 'mike')).messages;
    expect(thread).toMatchObject({ hasMoreBefore: false, hasMoreAfter: false });
    expect(thread.messages.map((m: { seq: number; threadId: string }) => [m.seq, m.threadId])).toEqual([
      [3, root.id],
      [4, root.id],
    ]);
    const firstReply = (await ok(HISTORY, { c: room, t: root.id, f: 1 }, 'mike')).messages;
    expect(firstReply).toMatchObject({ hasMoreBefore: true, hasMoreAfter: false, messages: [{ seq: 4 }] });
    expect((await ok(HISTORY, { c: room, t: root.id, a: 3 }, 'mike')).messages).toMatchObject({ hasMoreBefore: true, hasMoreAfter: false, messages: [{ seq: 4 }] });
    // Thread replies do not count as unread in the channel list (olga has read her own 2 messages).
    expect((await channel('olga', room)).unreadCount).toBe(0);
    const GET = `query($id: ID!) { message(id: $id) { replyCount lastReplyAt viewerFollowsThread } }`;
    const summary = (await ok(GET, { id: root.id }, 'olga')).message;
    expect(summary.replyCount).toBe(2);
    expect(summary.lastReplyAt).not.toBeNull();
    // The starter and the repliers follow; others do not; unfollowing sticks.
    expect(summary.viewerFollowsThread).toBe(true);
    expect((await ok(GET, { id: root.id }, 'mike')).message.viewerFollowsThread).toBe(true);
    expect((await ok(GET, { id: root.id }, 'mod')).message.viewerFollowsThread).toBe(false);
    await ok(`mutation($id: ID!) { unfollowThread(messageId: $id) { id } }`, { id: root.id }, 'olga');
    await sent('mike', room, 'Feed it daily', { threadId: root.id });
    expect((await ok(GET, { id: root.id }, 'olga')).message.viewerFollowsThread).toBe(false);
    expect((await ok(`mutation($id: ID!) { followThread(messageId: $id) { viewerFollowsThread } }`, { id: root.id }, 'mod')).followThread.viewerFollowsThread).toBe(true);
    expect(codeOf(await p.gql(`mutation($id: ID!) { followThread(messageId: $id) { id } }`, { id: reply2.id }, as('mod')))).toBe('BAD_USER_INPUT');
    // The thread list: most recently replied first; deleting a reply lowers the count.
    await sent('nina', room, 'Newer thread', { threadId: other.id });
    const list = (await ok(`query($c: ID!) { threads(channelId: $c) { threads { id replyCount } hasNextPage } }`, { c: room }, 'mike')).threads;
    expect(list.threads).toEqual([
      { id: other.id, replyCount: 1 },
      { id: root.id, replyCount: 3 },
    ]);
    const page1 = (await ok(`query($c: ID!) { threads(channelId: $c, first: 1) { threads { id } endCursor hasNextPage } }`, { c: room }, 'mike')).threads;
    expect(page1).toMatchObject({ threads: [{ id: other.id }], hasNextPage: true });
    expect((await ok(`query($c: ID!, $a: String) { threads(channelId: $c, first: 1, after: $a) { threads { id } hasNextPage } }`, { c: room, a: page1.endCursor }, 'mike')).threads).toEqual({ threads: [{ id: root.id }], hasNextPage: false });
    const gone = await frames([`chat:ch:${room}`], () => ok(`mutation($id: ID!) { deleteMessage(id: $id) { id } }`, { id: reply2.id }, 'nina'));
    expect(gone.find((f) => f.t === 'thread')).toMatchObject({ rootId: root.id, replyCount: 2 });
  });

  it.runIf(run)('reactions: one emoji each, counted per message in one query, 20 kinds at most, live and in the outbox', async () => {
    const m = await sent('mike', general, 'React to me');
    const REACT = `mutation($id: ID!, $e: String!) { reactToMessage(messageId: $id, emoji: $e) { reactions { emoji count viewerReacted } } }`;
    const live = await frames([`chat:ch:${general}`], async () => {
      await ok(REACT, { id: m.id, e: '🎉' }, 'nina');
      await ok(REACT, { id: m.id, e: '🎉' }, 'olga');
      await ok(REACT, { id: m.id, e: '🎉' }, 'olga'); // again: harmless, no event
    });
    expect(live.filter((f) => f.t === 'react')).toEqual([
      { t: 'react', channelId: general, messageId: m.id, emoji: '🎉', userId: ids.nina, added: true, count: 1 },
      { t: 'react', channelId: general, messageId: m.id, emoji: '🎉', userId: ids.olga, added: true, count: 2 },
    ]);
    const mine = await ok(REACT, { id: m.id, e: '👍🏽' }, 'nina');
    expect(mine.reactToMessage.reactions).toEqual([
      { emoji: '🎉', count: 2, viewerReacted: true },
      { emoji: '👍🏽', count: 1, viewerReacted: true },
    ]);
    const undone = await ok(`mutation($id: ID!, $e: String!) { unreactToMessage(messageId: $id, emoji: $e) { reactions { emoji count viewerReacted } } }`, { id: m.id, e: '🎉' }, 'nina');
    expect(undone.unreactToMessage.reactions[0]).toEqual({ emoji: '🎉', count: 1, viewerReacted: false });
    for (const bad of ['lol', '🎉🎉', '', ':)']) expect((await p.gql(REACT, { id: m.id, e: bad }, as('nina'))).errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'emoji' });
    // Chat is for members: someone outside the community cannot even see the message.
    expect(codeOf(await p.gql(REACT, { id: m.id, e: '🎉' }, as('loner')))).toBe('NOT_FOUND');
    const emoji = ['😀', '😃', '😄', '😁', '😆', '😅', '😂', '🤣', '😊', '😇', '🙂', '🙃', '😉', '😌', '😍', '🥰', '😘', '😗'];
    for (const e of emoji) await ok(REACT, { id: m.id, e }, 'mike');
    expect(codeOf(await p.gql(REACT, { id: m.id, e: '🤯' }, as('mike')))).toBe('BAD_USER_INPUT');
    await ok(REACT, { id: m.id, e: '😀' }, 'omar'); // an emoji already there is fine
    // A page of history asks for its reactions once.
    const page = (await ok(`query($c: ID!) { messages(channelId: $c, first: 5) { messages { id reactions { emoji count } } } }`, { c: general }, 'mike')).messages.messages;
    expect(page.find((x: { id: string }) => x.id === m.id).reactions).toHaveLength(20);
    const seen: { topic: string; payload: any }[] = [];
    const sub = await p.infra.eventLog.consume({
      consumer: `chat-react-test-${mode}-${Date.now()}`,
      topics: ['chat.reaction_added', 'chat.reaction_removed'],
      handler: async (e) => void seen.push({ topic: e.topic, payload: e.payload }),
    });
    try {
      await expect.poll(() => seen.filter((e) => e.payload.messageId === m.id && e.payload.userId === ids.nina).map((e) => `${e.topic} ${e.payload.emoji}`)).toEqual([
        'chat.reaction_added 🎉',
        'chat.reaction_added 👍🏽',
        'chat.reaction_removed 🎉',
      ]);
    } finally {
      await sub.stop();
    }
    expect(seen[0]!.payload).toMatchObject({ channelId: general, communityId: community.id, targetAuthorId: ids.mike });
  });

  it.runIf(run)('mentions: @handle for people who can read, @everyone and @here only from moderators (anyone in a DM), counted as mentionCount', async () => {
    const room = (await ok(`mutation($i: CreateChannelInput!) { createChannel(input: $i) { id } }`, { i: { communityId: community.id, spaceId: community.center, name: 'mentions' } }, 'olga')).createChannel.id;
    const live = await frames([`chat:user:${ids.nina}`, `chat:user:${ids.mike}`], async () => {
      const m = await sent('mike', room, 'Hey @d_nina and @D_OMAR, not `@d_pia` or me@d_quin.com or @nobody_here');
      expect(m.mentions).toEqual({ users: [{ id: ids.nina }, { id: ids.omar }], everyone: false, here: false });
    });
    expect(live.filter((f) => f.t === 'mention')).toEqual([{ t: 'mention', channelId: room, messageId: expect.any(String), seq: 1 }]);
    // A member's @everyone stays text; a moderator's is a mass mention.
    const plain = await sent('mike', room, '@everyone look!');
    expect(plain.mentions).toEqual({ users: [], everyone: false, here: false });
    const mass = await sent('mod', room, '@everyone and @here: meeting');
    expect(mass.mentions).toEqual({ users: [], everyone: true, here: true });
    expect((await channel('nina', room)).mentionCount).toBe(2);
    expect((await channel('pia', room)).mentionCount).toBe(1);
    expect((await channel('mike', room)).mentionCount).toBe(1);
    await ok(`mutation($c: ID!) { markChannelRead(channelId: $c, seq: 2) { id } }`, { c: room }, 'nina');
    expect((await channel('nina', room)).mentionCount).toBe(1);
    // A mention in a thread reply counts too; an edit that adds someone tells them.
    const reply = await sent('pia', room, 'cc @d_nina', { threadId: plain.id });
    expect((await channel('nina', room)).mentionCount).toBe(2);
    const edited = await frames([`chat:user:${ids.sam}`], () => ok(`mutation($id: ID!) { editMessage(id: $id, body: "cc @d_nina @d_sam") { mentions { users { id } } } }`, { id: reply.id }, 'pia'));
    expect(edited).toEqual([{ t: 'mention', channelId: room, messageId: reply.id, seq: reply.seq }]);
    // Someone who cannot read the circle is not mentioned there.
    const circle = (await ok(`mutation($c: ID!) { createCircle(communityId: $c, input: { name: "Quiet", access: INVITE }) { id } }`, { c: community.id }, 'olga')).createCircle.id;
    const quiet = (await ok(`mutation($i: CreateChannelInput!) { createChannel(input: $i) { id } }`, { i: { communityId: community.id, spaceId: circle, name: 'quiet' } }, 'olga')).createChannel.id;
    expect((await sent('olga', quiet, 'psst @d_nina')).mentions.users).toEqual([]);
    // In a DM anyone may @everyone.
    const dm = (await ok(OPEN, { u: [ids.sam] }, 'rita')).openDirectChannel;
    expect((await sent('rita', dm.id, '@here you there?')).mentions).toEqual({ users: [], everyone: false, here: true });
    // @here reaches only who is online or idle (nobody has a socket here; realtime.test.ts connects them)...
    expect((await channel('sam', dm.id)).mentionCount).toBe(0);
    // ...and @everyone reaches everyone.
    await sent('rita', dm.id, '@everyone ping');
    expect((await channel('sam', dm.id)).mentionCount).toBe(1);
    // The outbox event carries them for notifications.
    const seen: any[] = [];
    const sub = await p.infra.eventLog.consume({ consumer: `chat-mention-test-${mode}-${Date.now()}`, topics: ['chat.message_created'], handler: async (e) => void seen.push(e.payload) });
    try {
      await expect.poll(() => seen.find((e) => e.messageId === mass.id)).toMatchObject({ channelId: room, channelKind: 'space', mentionIds: [], everyone: true, here: true, authorId: ids.mod });
      expect(seen.find((e) => e.messageId === reply.id)).toMatchObject({ threadId: plain.id, mentionIds: [ids.nina] });
    } finally {
      await sub.stop();
    }
  });

  it.runIf(run)('attachments: files only is fine, empty is not; claimed from media, signed for minutes, released on delete', async () => {
    const upload = async (who: string, name: string, bytes: Buffer) => {
      const res = await fetch(`${p.url}/media/files?name=${encodeURIComponent(name)}`, { method: 'POST', headers: { authorization: `Bearer ${tokens[who]}` }, body: new Uint8Array(bytes) });
      expect(res.status, await res.clone().text()).toBe(201);
      return (await res.json()) as { id: string };
    };
    const pdf = Buffer.from('%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n');
    const doc = await upload('mike', 'recipe.pdf', pdf);
    const notes = await upload('mike', 'notes.txt', Buffer.from('flour, water, salt\n'));
    expect(codeOf(await send('mike', general, '   '))).toBe('BAD_USER_INPUT');
    const stolen = await send('olga', general, 'mine now', { attachmentIds: [doc.id] });
    expect(stolen.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'attachments' });
    expect(codeOf(await send('mike', general, 'x', { attachmentIds: Array.from({ length: 11 }, () => doc.id) }))).toBe('BAD_USER_INPUT');
    const live = await frames([`chat:ch:${general}`], async () => {
      const m = await sent('mike', general, '', { attachmentIds: [doc.id, notes.id] });
      expect(m.body).toBe('');
      expect(m.attachments.map((a: { name: string; kind: string }) => [a.name, a.kind])).toEqual([
        ['recipe.pdf', 'DOCUMENT'],
        ['notes.txt', 'TEXT'],
      ]);
      const [file] = m.attachments;
      expect(file.url).toMatch(/^\/media\/files\/[0-9a-f-]{36}\/original\?exp=\d+&sig=/);
      const exp = Number(new URL(file.url, p.url).searchParams.get('exp')) * 1000;
      expect(exp - Date.now()).toBeLessThan(31 * 60_000);
      const got = await fetch(new URL(file.url, p.url));
      expect(got.status).toBe(200);
      expect(Buffer.from(await got.arrayBuffer()).equals(pdf)).toBe(true);
      // Claimed: nobody can attach it again.
      expect(codeOf(await send('mike', general, 'again', { attachmentIds: [doc.id] }))).toBe('BAD_USER_INPUT');
      await ok(`mutation($id: ID!) { deleteMessage(id: $id) { id } }`, { id: m.id }, 'mike');
      await expect.poll(async () => (await fetch(new URL(file.url, p.url))).status).toBe(404);
    });
    const wire = live.find((f) => f.t === 'msg')!.message;
    // The live frame carries the metadata and a link signed once for every subscriber.
    expect(wire.attachments[0]).toMatchObject({ id: doc.id, name: 'recipe.pdf', contentType: 'application/pdf', kind: 'document', bytes: pdf.length, width: null, height: null, thumbUrl: null });
    expect(wire.attachments[0].url).toMatch(new RegExp(`^/media/files/${doc.id}/original\\?exp=\\d+&sig=`));
    // In a DM the files are the DM's.
    const dm = (await ok(OPEN, { u: [ids.nina] }, 'mike')).openDirectChannel;
    const dmFile = await upload('mike', 'dm.txt', Buffer.from('just for you\n'));
    const dmMsg = await sent('mike', dm.id, 'for you', { attachmentIds: [dmFile.id] });
    const usedBy = (await sql<{ used_by: string }>`select used_by from media.files where id = ${dmFile.id}::uuid`.execute(p.infra.database!.db)).rows[0]!.used_by;
    expect(usedBy).toBe(`dm:${dm.id}:msg:${dmMsg.id}`);
    const seen = (await ok(`query($id: ID!) { message(id: $id) { attachments { url } } }`, { id: dmMsg.id }, 'nina')).message.attachments[0].url;
    expect((await fetch(new URL(seen, p.url))).status).toBe(200);
  });

  it.runIf(run)('pins: moderators in a space, anyone in a DM; listed newest first; live', async () => {
    const m1 = await sent('mike', general, 'Rules: be kind');
    const m2 = await sent('mike', general, 'Schedule: Tuesdays');
    const PIN = `mutation($id: ID!) { pinMessage(id: $id) { pinned pinnedBy { id } } }`;
    expect(codeOf(await p.gql(PIN, { id: m1.id }, as('mike')))).toBe('FORBIDDEN');
    const live = await frames([`chat:ch:${general}`], async () => {
      expect((await ok(PIN, { id: m1.id }, 'mod')).pinMessage).toEqual({ pinned: true, pinnedBy: { id: ids.mod } });
      await ok(PIN, { id: m2.id }, 'olga');
    });
    expect(live).toEqual([
      { t: 'pin', channelId: general, messageId: m1.id, pinned: true, by: ids.mod },
      { t: 'pin', channelId: general, messageId: m2.id, pinned: true, by: ids.olga },
    ]);
    const PINNED = `query($c: ID!) { pinnedMessages(channelId: $c) { id pinned } }`;
    expect((await ok(PINNED, { c: general }, 'nina')).pinnedMessages.map((m: { id: string }) => m.id)).toEqual([m2.id, m1.id]);
    await ok(`mutation($id: ID!) { unpinMessage(id: $id) { pinned } }`, { id: m2.id }, 'mod');
    expect((await ok(PINNED, { c: general }, 'nina')).pinnedMessages.map((m: { id: string }) => m.id)).toEqual([m1.id]);
    const dm = (await ok(OPEN, { u: [ids.quin] }, 'pia')).openDirectChannel;
    const d = await sent('pia', dm.id, 'address: 1 Bread St');
    expect((await ok(PIN, { id: d.id }, 'quin')).pinMessage.pinned).toBe(true);
    expect(codeOf(await p.gql(PIN, { id: d.id }, as('olga')))).toBe('NOT_FOUND');
  });

  it.runIf(run)('a link to a message: a page around it, edges right, and the message by id', async () => {
    const room = (await ok(`mutation($i: CreateChannelInput!) { createChannel(input: $i) { id } }`, { i: { communityId: community.id, spaceId: community.center, name: 'around' } }, 'olga')).createChannel.id;
    const made: { id: string; seq: number }[] = [];
    for (let i = 1; i <= 12; i++) made.push(await sent(i % 2 ? 'olga' : 'mod', room, `m${i}`));
    const around = (ar: number, f: number) => ok(HISTORY, { c: room, ar, f }, 'mike').then((d) => d.messages);
    const mid = await around(6, 5);
    expect(mid.messages.map((m: { seq: number }) => m.seq)).toEqual([4, 5, 6, 7, 8]);
    expect(mid).toMatchObject({ hasMoreBefore: true, hasMoreAfter: true });
    const start = await around(1, 5);
    expect(start.messages.map((m: { seq: number }) => m.seq)).toEqual([1, 2, 3, 4, 5]);
    expect(start).toMatchObject({ hasMoreBefore: false, hasMoreAfter: true });
    const end = await around(12, 5);
    expect(end.messages.map((m: { seq: number }) => m.seq)).toEqual([8, 9, 10, 11, 12]);
    expect(end).toMatchObject({ hasMoreBefore: true, hasMoreAfter: false });
    const all = await around(6, 50);
    expect(all.messages).toHaveLength(12);
    expect(all).toMatchObject({ hasMoreBefore: false, hasMoreAfter: false });
    expect(codeOf(await p.gql(HISTORY, { c: room, ar: 3, a: 1 }, as('mike')))).toBe('BAD_USER_INPUT');
    expect(codeOf(await p.gql(HISTORY, { c: room, ar: -3 }, as('mike')))).toBe('BAD_USER_INPUT');
    // "before" pages know there is more after them.
    expect(await ok(HISTORY, { c: room, b: 5, f: 2 }, 'mike').then((d) => d.messages)).toMatchObject({ hasMoreBefore: true, hasMoreAfter: true, messages: [{ seq: 3 }, { seq: 4 }] });
    const link = (await ok(`query($id: ID!) { message(id: $id) { id seq channelId } }`, { id: made[6]!.id }, 'mike')).message;
    expect(link).toEqual({ id: made[6]!.id, seq: 7, channelId: room });
    expect((await ok(`query($id: ID!) { message(id: $id) { id } }`, { id: '00000000-0000-4000-8000-000000000000' }, 'mike')).message).toBeNull();
    // Outside the community (or signed out) the link leads nowhere.
    expect((await ok(`query($id: ID!) { message(id: $id) { id } }`, { id: made[6]!.id }, 'loner')).message).toBeNull();
    expect((await ok(`query($id: ID!) { message(id: $id) { id } }`, { id: made[6]!.id }, null)).message).toBeNull();
  });

  it.runIf(run)('a changed handle is what @mentions resolve (chat and posts); a given-up one passes to its next holder; late events change nothing', async () => {
    const UPDATE = `mutation($i: UpdateProfileInput!) { updateProfile(input: $i) { id } }`;
    await ok(UPDATE, { i: { handle: 'd_quincy' } }, 'quin');
    await ok(UPDATE, { i: { handle: 'd_quin' } }, 'sam');
    const db = p.infra.database!.db;
    const handleIn = async (table: 'chat.profiles' | 'posts.profiles', userId: string) =>
      (await sql<{ handle: string }>`select handle from ${sql.table(table)} where user_id = ${userId}::uuid`.execute(db)).rows[0]?.handle ?? null;
    for (const table of ['chat.profiles', 'posts.profiles'] as const) {
      await expect.poll(() => handleIn(table, ids.quin!)).toBe('d_quincy');
      await expect.poll(() => handleIn(table, ids.sam!)).toBe('d_quin');
    }
    const m = await sent('mike', general, 'ping @d_quincy and @d_quin, not @d_sam');
    expect(m.mentions.users.map((u: { id: string }) => u.id).sort()).toEqual([ids.quin, ids.sam].sort());
    const post = await ok(`mutation($i: CreatePostInput!) { createPost(input: $i) { mentions { id } } }`, { i: { communityId: community.id, spaceId: community.center, title: 'Hello', body: 'cc @d_quincy' } }, 'mike');
    expect(post.createPost.mentions).toEqual([{ id: ids.quin }]);
    // The member directory searches the new handle.
    const found = await ok(`query($c: ID!, $s: String) { communityMembers(communityId: $c, search: $s) { user { id } } }`, { c: community.id, s: 'd_quincy' }, 'olga');
    expect(found.communityMembers.map((r: { user: { id: string } }) => r.user.id)).toEqual([ids.quin]);
    // A registration event delivered again, late, does not put back the old handle (nor take sam's away).
    const late = crypto.randomUUID();
    await p.infra.eventLog.append([{ id: late, topic: 'auth.user.registered', source: 'auth', payload: { userId: ids.quin, handle: 'd_quin', displayName: 'quin', version: 0 }, occurredAt: new Date().toISOString() }]);
    // Chat and posts have taken it (their inboxes record it) and kept the newer handles.
    for (const inbox of ['chat.inbox', 'posts.inbox'] as const) {
      await expect.poll(async () => (await sql<{ n: number }>`select count(*)::int as n from ${sql.table(inbox)} where event_id = ${late}::uuid`.execute(db)).rows[0]!.n).toBe(1);
    }
    expect(await handleIn('posts.profiles', ids.quin!)).toBe('d_quincy');
    expect(await handleIn('chat.profiles', ids.quin!)).toBe('d_quincy');
    expect(await handleIn('chat.profiles', ids.sam!)).toBe('d_quin');
  });

  it.runIf(run)("tells payments a person's own reading and writing in given spaces' channels (dispute evidence)", async () => {
    const circle = (await ok(`mutation($c: ID!) { createCircle(communityId: $c, input: { name: "Backstage", access: INVITE }) { id } }`, { c: community.id }, 'olga')).createCircle.id;
    await ok(`mutation($c: ID!, $u: ID!) { addCircleMember(circleId: $c, userId: $u) { role } }`, { c: circle, u: ids.tess }, 'olga');
    const create = async (name: string) => (await ok(`mutation($i: CreateChannelInput!) { createChannel(input: $i) { id } }`, { i: { communityId: community.id, spaceId: circle, name } }, 'olga')).createChannel.id as string;
    const [talk, quiet, untouched] = [await create('talk'), await create('quiet-room'), await create('untouched')];
    await sent('tess', talk, 'first');
    await sent('tess', talk, 'second');
    await sent('tess', talk, 'gone');
    await ok(`mutation($id: ID!) { deleteMessage(id: $id) { id } }`, { id: (await sent('tess', talk, 'oops')).id }, 'tess');
    await sent('olga', quiet, 'hello tess');
    await ok(`mutation($c: ID!, $s: Int!) { markChannelRead(channelId: $c, seq: $s) { id } }`, { c: quiet, s: 1 }, 'tess');
    const api = p.host.apis!.chat;
    const activity = await api.activityIn({ userId: ids.tess!, spaceIds: [circle] });
    expect(activity.map((a) => [a.name, a.messagesSent])).toEqual(expect.arrayContaining([['talk', 3], ['quiet-room', 0]]));
    expect(activity).toHaveLength(2);
    expect(activity.find((a) => a.channelId === untouched)).toBeUndefined();
    const t = activity.find((a) => a.channelId === talk)!;
    expect(t).toMatchObject({ spaceId: circle, lastReadAt: expect.any(String), lastSentAt: expect.any(String) });
    expect(new Date(t.lastSentAt!).getTime()).toBeGreaterThan(Date.now() - 60_000);
    expect(activity.find((a) => a.channelId === quiet)).toMatchObject({ messagesSent: 0, lastSentAt: null, lastReadAt: expect.any(String) });
    // Other spaces, other people and junk give nothing.
    expect(await api.activityIn({ userId: ids.tess!, spaceIds: [community.center] })).toEqual([]);
    expect(await api.activityIn({ userId: ids.uma!, spaceIds: [circle] })).toEqual([]);
    expect(await api.activityIn({ userId: 'nope', spaceIds: [circle] })).toEqual([]);
    expect(await api.activityIn({ userId: ids.tess!, spaceIds: ['nope'] })).toEqual([]);
  });
});

describe.each(modes)('chat: a channel takes so many messages at once (%s)', (mode) => {
  let p: TestPlatform;
  const run = mode === 'embedded' || canRunDistributed;
  beforeAll(async () => {
    if (run) p = await startTestPlatform(mode, { chatChannelRate: 6 });
  });
  afterAll(async () => {
    await p?.stop();
  });

  it.runIf(run)('the per-channel limit holds across senders, with its own code detail and a retry hint', async () => {
    const tokens: string[] = [];
    for (const who of ['ra', 'rb', 'rc']) {
      const r = await p.gql(`mutation($input: SignUpInput!) { signUp(input: $input) { token } }`, { input: { email: `${who}@rate.example`, password: pw, handle: `rate_${who}`, displayName: who, delivery: 'BEARER' } });
      tokens.push(r.data.signUp.token);
    }
    const c = (await p.gql(`mutation { createCommunity(input: { name: "Busy", slug: "busy" }) { id publicCenter { id } } }`, {}, { token: tokens[0] })).data.createCommunity;
    for (const t of tokens.slice(1)) await p.gql(`mutation($id: ID!) { joinCommunity(id: $id) { id } }`, { id: c.id }, { token: t });
    const ch = (await p.gql(`mutation($i: CreateChannelInput!) { createChannel(input: $i) { id } }`, { i: { communityId: c.id, spaceId: c.publicCenter.id, name: 'busy' } }, { token: tokens[0] })).data.createChannel.id;
    const other = (await p.gql(`mutation($i: CreateChannelInput!) { createChannel(input: $i) { id } }`, { i: { communityId: c.id, spaceId: c.publicCenter.id, name: 'calm' } }, { token: tokens[0] })).data.createChannel.id;
    const sendAs = (i: number, channelId: string) => p.gql(SEND, { i: { channelId, clientId: `rate-${mode}-${i}-${Date.now()}-${Math.random().toString(36).slice(2)}`, body: `msg ${i}` } }, { token: tokens[i % 3] });
    const results = [];
    for (let i = 0; i < 6; i++) results.push(await sendAs(i, ch));
    expect(results.every((r) => r.errors === undefined)).toBe(true);
    const refused = await sendAs(6, ch);
    expect(refused.errors?.[0]?.extensions).toMatchObject({ code: 'RATE_LIMITED', limit: 'channel' });
    expect(refused.errors![0]!.extensions!.retryAfterSeconds).toBeGreaterThan(0);
    // Other channels are not affected.
    expect((await sendAs(7, other)).errors).toBeUndefined();
  });
});

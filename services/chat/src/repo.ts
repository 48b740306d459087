import { type Generated, type Kysely, sql } from 'kysely';

export type ChannelKind = 'space' | 'dm' | 'group';

export interface ChatTables {
  'chat.channels': {
    id: string;
    kind: Generated<ChannelKind>;
    community_id: string | null;
    space_id: string | null;
    name: string | null;
    topic: string;
    position: number;
    slow_mode_seconds: number;
    last_seq: Generated<string>;
    dm_key: string | null;
    last_activity_at: Generated<Date>;
    created_by: string;
    created_at: Generated<Date>;
  };
  'chat.channel_members': { channel_id: string; user_id: string; joined_at: Generated<Date> };
  'chat.messages': {
    id: string;
    channel_id: string;
    seq: number | string;
    author_id: string;
    client_id: string;
    body: string;
    reply_to_id: string | null;
    thread_id: string | null;
    reply_count: number;
    last_reply_at: Date | null;
    mention_ids: string[];
    mentions_everyone: boolean;
    mentions_here: boolean;
    /** Who @here reached: people who could read the channel and were online or idle when it was written. */
    here_ids: string[];
    pinned_at: Date | null;
    pinned_by: string | null;
    created_at: Date;
    edited_at: Date | null;
    deleted_at: Date | null;
  };
  'chat.read_positions': { user_id: string; channel_id: string; seq: number | string; updated_at: Generated<Date> };
  'chat.thread_follows': { root_id: string; user_id: string; following: boolean };
  'chat.reactions': { message_id: string; emoji: string; user_id: string; created_at: Generated<Date> };
  'chat.attachments': {
    id: string;
    message_id: string;
    channel_id: string;
    uploader_id: string;
    position: number;
    name: string;
    content_type: string;
    kind: string;
    bytes: number | string;
    width: number | null;
    height: number | null;
    has_thumb: boolean;
    created_at: Generated<Date>;
  };
  'chat.profiles': { user_id: string; handle: string; version: Generated<number> };
}
export type ChatDb = Kysely<ChatTables>;
export type ChannelRow = {
  id: string;
  kind: ChannelKind;
  community_id: string | null;
  space_id: string | null;
  name: string | null;
  topic: string;
  position: number;
  slow_mode_seconds: number;
  last_seq: string;
  dm_key: string | null;
  last_activity_at: Date;
  created_by: string;
  created_at: Date;
};
/** A channel in a community's space (community_id and space_id set). */
export type SpaceChannelRow = ChannelRow & { kind: 'space'; community_id: string; space_id: string; name: string };
export type MessageRow = ChatTables['chat.messages'];
export type AttachmentRow = Omit<ChatTables['chat.attachments'], 'created_at'> & { created_at: Date };
export type ReactionSummary = { emoji: string; count: number; viewerReacted: boolean };
/** A page key: [ISO time, id]. */
export type Cursor = [string, string];

/** Where a history page reads: the main timeline (no thread replies) or one thread's replies. */
/** A channel's main timeline (threadId null), one thread, or everything in it ('all': catching up by number). */
export type Timeline = { channelId: string; threadId: string | null | 'all' };

export class ChatRepository {
  constructor(readonly db: ChatDb) {}

  transaction<T>(fn: (trx: ChatDb) => Promise<T>): Promise<T> {
    return this.db.transaction().execute(fn);
  }

  // Channels -------------------------------------------------------------------------------------------------------

  channel(id: string, trx: ChatDb = this.db) {
    return trx.selectFrom('chat.channels').selectAll().where('id', '=', id).executeTakeFirst() as Promise<ChannelRow | undefined>;
  }

  channels(spaceId: string) {
    return this.db.selectFrom('chat.channels').selectAll().where('space_id', '=', spaceId).orderBy('position').orderBy('created_at').execute() as Promise<SpaceChannelRow[]>;
  }

  async insertChannel(trx: ChatDb, row: { id: string; community_id: string; space_id: string; name: string; topic: string; slow_mode_seconds: number; created_by: string }) {
    // At the end of the space's list; the advisory lock keeps two admins from taking the same position.
    await sql`select pg_advisory_xact_lock(hashtext(${'chat-channels:' + row.space_id}))`.execute(trx);
    const { max } = (await trx.selectFrom('chat.channels').select(sql<number>`coalesce(max(position), -1)::int`.as('max')).where('space_id', '=', row.space_id).executeTakeFirstOrThrow()) as { max: number };
    return trx.insertInto('chat.channels').values({ ...row, kind: 'space', dm_key: null, position: max + 1 }).returningAll().executeTakeFirstOrThrow() as Promise<SpaceChannelRow>;
  }

  updateChannel(id: string, patch: Partial<Pick<ChannelRow, 'name' | 'topic' | 'slow_mode_seconds'>>) {
    return this.db.updateTable('chat.channels').set(patch).where('id', '=', id).returningAll().executeTakeFirstOrThrow() as Promise<ChannelRow>;
  }

  setPosition(trx: ChatDb, id: string, position: number) {
    return trx.updateTable('chat.channels').set({ position }).where('id', '=', id).execute();
  }

  deleteChannel(trx: ChatDb, id: string) {
    return trx.deleteFrom('chat.channels').where('id', '=', id).execute();
  }

  /** Holds the channel row until commit: sequence numbers are handed out one sender at a time, without gaps. */
  lockChannel(trx: ChatDb, id: string) {
    return trx.selectFrom('chat.channels').selectAll().where('id', '=', id).forUpdate().executeTakeFirst() as Promise<ChannelRow | undefined>;
  }

  setLastSeq(trx: ChatDb, id: string, seq: number, at: Date) {
    return trx.updateTable('chat.channels').set({ last_seq: String(seq), last_activity_at: at }).where('id', '=', id).execute();
  }

  // Direct conversations -------------------------------------------------------------------------------------------

  /**
   * The DM of a pair, created if missing. Two people opening it at once meet on the unique dm_key: the loser's
   * insert does nothing and it reads the winner's row.
   */
  async openDm(trx: ChatDb, row: { id: string; dm_key: string; created_by: string }, members: string[]): Promise<{ channel: ChannelRow; created: boolean }> {
    const inserted = (await trx
      .insertInto('chat.channels')
      .values({ id: row.id, kind: 'dm', community_id: null, space_id: null, name: null, topic: '', position: 0, slow_mode_seconds: 0, dm_key: row.dm_key, created_by: row.created_by })
      .onConflict((oc) => oc.column('dm_key').doNothing())
      .returningAll()
      .executeTakeFirst()) as ChannelRow | undefined;
    if (!inserted) {
      const existing = (await trx.selectFrom('chat.channels').selectAll().where('dm_key', '=', row.dm_key).executeTakeFirstOrThrow()) as ChannelRow;
      return { channel: existing, created: false };
    }
    await this.addMembers(trx, inserted.id, members);
    return { channel: inserted, created: true };
  }

  async insertGroup(trx: ChatDb, row: { id: string; name: string | null; created_by: string }, members: string[]): Promise<ChannelRow> {
    const channel = (await trx
      .insertInto('chat.channels')
      .values({ id: row.id, kind: 'group', community_id: null, space_id: null, name: row.name, topic: '', position: 0, slow_mode_seconds: 0, dm_key: null, created_by: row.created_by })
      .returningAll()
      .executeTakeFirstOrThrow()) as ChannelRow;
    await this.addMembers(trx, channel.id, members);
    return channel;
  }

  async addMembers(trx: ChatDb, channelId: string, userIds: string[]): Promise<string[]> {
    if (!userIds.length) return [];
    const rows = await trx
      .insertInto('chat.channel_members')
      .values(userIds.map((user_id) => ({ channel_id: channelId, user_id })))
      .onConflict((oc) => oc.columns(['channel_id', 'user_id']).doNothing())
      .returning('user_id')
      .execute();
    return rows.map((r) => r.user_id);
  }

  async removeMember(trx: ChatDb, channelId: string, userId: string): Promise<boolean> {
    const r = await trx.deleteFrom('chat.channel_members').where('channel_id', '=', channelId).where('user_id', '=', userId).executeTakeFirst();
    return Number(r.numDeletedRows) > 0;
  }

  async isMember(channelId: string, userId: string): Promise<boolean> {
    const row = await this.db.selectFrom('chat.channel_members').select('user_id').where('channel_id', '=', channelId).where('user_id', '=', userId).executeTakeFirst();
    return row !== undefined;
  }

  async memberIds(channelId: string, trx: ChatDb = this.db): Promise<string[]> {
    const rows = await trx.selectFrom('chat.channel_members').select('user_id').where('channel_id', '=', channelId).orderBy('joined_at').orderBy('user_id').execute();
    return rows.map((r) => r.user_id);
  }

  /** Members of several channels at once, in the order they joined. */
  async membersOf(channelIds: readonly string[]) {
    const out = new Map<string, string[]>();
    if (!channelIds.length) return out;
    const rows = await this.db
      .selectFrom('chat.channel_members')
      .select(['channel_id', 'user_id'])
      .where('channel_id', 'in', [...channelIds])
      .orderBy('joined_at')
      .orderBy('user_id')
      .execute();
    for (const r of rows) out.set(r.channel_id, [...(out.get(r.channel_id) ?? []), r.user_id]);
    return out;
  }

  /** A person's DMs and groups, the most recently active first. */
  directChannels(userId: string, limit: number, after: Cursor | null) {
    let q = this.db
      .selectFrom('chat.channels as c')
      .innerJoin('chat.channel_members as m', 'm.channel_id', 'c.id')
      .selectAll('c')
      .where('m.user_id', '=', userId);
    if (after) q = q.where(sql<boolean>`(c.last_activity_at, c.id) < (${new Date(after[0])}::timestamptz, ${after[1]}::uuid)`);
    return q.orderBy('c.last_activity_at', 'desc').orderBy('c.id', 'desc').limit(limit).execute() as Promise<ChannelRow[]>;
  }

  // Messages -------------------------------------------------------------------------------------------------------

  insertMessage(trx: ChatDb, row: MessageRow) {
    return trx.insertInto('chat.messages').values(row).returningAll().executeTakeFirstOrThrow();
  }

  /**
   * Appends a message in one statement: takes the channel's next sequence number (the row lock is taken here and
   * held to commit, so everything after this in the transaction is time other senders wait), inserts the message,
   * for the main timeline moves the sender's read position to it, and writes its outbox event. Run on its own
   * (autocommit), the lock is held for this one statement's execution and commit, with no client round trip. A second message with the same
   * (channel, author, clientId) fails on the unique index and rolls back, so no number is lost.
   */
  async appendMessage(
    trx: ChatDb,
    row: Omit<MessageRow, 'seq'>,
    markRead: boolean,
    /** Its outbox event (`Outbox.row`); the statement adds the number it took as `seq`. */
    event: { table: string; id: string; topic: string; payload: string },
  ): Promise<MessageRow> {
    if (event.table !== 'chat.outbox') throw new Error(`chat writes its own outbox, not ${event.table}`);
    const { rows } = await sql<MessageRow>`
      with bumped as (
        update chat.channels set last_seq = last_seq + 1, last_activity_at = ${row.created_at} where id = ${row.channel_id}::uuid returning last_seq
      ), msg as (
        insert into chat.messages (id, channel_id, seq, author_id, client_id, body, reply_to_id, thread_id, reply_count, last_reply_at,
          mention_ids, mentions_everyone, mentions_here, here_ids, pinned_at, pinned_by, created_at, edited_at, deleted_at)
        select ${row.id}::uuid, ${row.channel_id}::uuid, bumped.last_seq, ${row.author_id}::uuid, ${row.client_id}, ${row.body}, ${row.reply_to_id}::uuid,
          ${row.thread_id}::uuid, ${row.reply_count}, ${row.last_reply_at}, ${[...row.mention_ids]}::uuid[], ${row.mentions_everyone}, ${row.mentions_here}, ${[...row.here_ids]}::uuid[],
          ${row.pinned_at}, ${row.pinned_by}::uuid, ${row.created_at}, ${row.edited_at}, ${row.deleted_at}
        from bumped
        returning *
      ), read as (
        insert into chat.read_positions (user_id, channel_id, seq)
        select msg.author_id, msg.channel_id, msg.seq from msg where ${markRead}
        on conflict (user_id, channel_id) do update set seq = greatest(chat.read_positions.seq, excluded.seq), updated_at = now()
      ), event as (
        insert into chat.outbox (id, topic, payload)
        select ${event.id}::uuid, ${event.topic}, ${event.payload}::jsonb || jsonb_build_object('seq', msg.seq) from msg
      )
      select * from msg`.execute(trx);
    const message = rows[0];
    if (!message) throw new Error(`channel ${row.channel_id} vanished while sending`);
    return message;
  }

  message(id: string, trx: ChatDb = this.db) {
    return trx.selectFrom('chat.messages').selectAll().where('id', '=', id).executeTakeFirst();
  }

  byClientId(channelId: string, authorId: string, clientId: string, trx: ChatDb = this.db) {
    return trx.selectFrom('chat.messages').selectAll().where('channel_id', '=', channelId).where('author_id', '=', authorId).where('client_id', '=', clientId).executeTakeFirst();
  }

  async lastSentAt(trx: ChatDb, channelId: string, authorId: string): Promise<Date | null> {
    const row = await trx
      .selectFrom('chat.messages')
      .select('created_at')
      .where('channel_id', '=', channelId)
      .where('author_id', '=', authorId)
      .orderBy('seq', 'desc')
      .limit(1)
      .executeTakeFirst();
    return row?.created_at ?? null;
  }

  private timeline(t: Timeline) {
    const q = this.db.selectFrom('chat.messages').selectAll().where('channel_id', '=', t.channelId);
    if (t.threadId === 'all') return q;
    return t.threadId ? q.where('thread_id', '=', t.threadId) : q.where('thread_id', 'is', null);
  }

  /** Newest first when paging back (or with no cursor); oldest first from a position on (`from` is included). */
  history(t: Timeline, opts: { before: number | null; from: number | null; limit: number }) {
    if (opts.from !== null) return this.timeline(t).where('seq', '>=', opts.from).orderBy('seq', 'asc').limit(opts.limit).execute();
    let q = this.timeline(t);
    if (opts.before !== null) q = q.where('seq', '<', opts.before);
    return q.orderBy('seq', 'desc').limit(opts.limit).execute();
  }

  /** Whether the timeline has a message before (or after) a sequence number. */
  async hasBeyond(t: Timeline, side: 'before' | 'after', seq: number): Promise<boolean> {
    const row = await this.timeline(t)
      .clearSelect()
      .select('id')
      .where('seq', side === 'before' ? '<' : '>', seq)
      .limit(1)
      .executeTakeFirst();
    return row !== undefined;
  }

  updateMessage(trx: ChatDb, id: string, patch: Partial<Omit<MessageRow, 'id' | 'channel_id' | 'seq' | 'author_id' | 'client_id'>>) {
    return trx.updateTable('chat.messages').set(patch).where('id', '=', id).returningAll().executeTakeFirstOrThrow();
  }

  // Threads --------------------------------------------------------------------------------------------------------

  /** A reply came in (+1) or went (-1): the root's count, and on a new reply its time. */
  bumpThread(trx: ChatDb, rootId: string, delta: 1 | -1, at: Date | null) {
    return trx
      .updateTable('chat.messages')
      .set({ reply_count: sql`greatest(reply_count + ${delta}, 0)`, ...(at ? { last_reply_at: at } : {}) })
      .where('id', '=', rootId)
      .returningAll()
      .executeTakeFirstOrThrow();
  }

  /** Roots with replies, the most recently replied to first. */
  threads(channelId: string, limit: number, after: Cursor | null) {
    let q = this.db.selectFrom('chat.messages').selectAll().where('channel_id', '=', channelId).where('reply_count', '>', 0);
    if (after) q = q.where(sql<boolean>`(last_reply_at, id) < (${new Date(after[0])}::timestamptz, ${after[1]}::uuid)`);
    return q.orderBy('last_reply_at', 'desc').orderBy('id', 'desc').limit(limit).execute();
  }

  /** Follow (or stop following) a thread. `onlyIfNew` follows unless the person has a say already (an explicit unfollow). */
  async setFollow(trx: ChatDb, rootId: string, userId: string, following: boolean, onlyIfNew = false) {
    await trx
      .insertInto('chat.thread_follows')
      .values({ root_id: rootId, user_id: userId, following })
      .onConflict((oc) => (onlyIfNew ? oc.columns(['root_id', 'user_id']).doNothing() : oc.columns(['root_id', 'user_id']).doUpdateSet({ following })))
      .execute();
  }

  async followsOf(rootIds: readonly string[], userId: string) {
    const out = new Map<string, boolean>();
    if (!rootIds.length) return out;
    const rows = await this.db.selectFrom('chat.thread_follows').select(['root_id', 'following']).where('root_id', 'in', [...rootIds]).where('user_id', '=', userId).execute();
    for (const r of rows) out.set(r.root_id, r.following);
    return out;
  }

  // Reactions ------------------------------------------------------------------------------------------------------

  async addReaction(trx: ChatDb, messageId: string, userId: string, emoji: string): Promise<boolean> {
    const r = await trx.insertInto('chat.reactions').values({ message_id: messageId, user_id: userId, emoji }).onConflict((oc) => oc.doNothing()).executeTakeFirst();
    return Number(r.numInsertedOrUpdatedRows ?? 0) > 0;
  }

  async removeReaction(trx: ChatDb, messageId: string, userId: string, emoji: string): Promise<boolean> {
    const r = await trx.deleteFrom('chat.reactions').where('message_id', '=', messageId).where('user_id', '=', userId).where('emoji', '=', emoji).executeTakeFirst();
    return Number(r.numDeletedRows) > 0;
  }

  async distinctEmoji(trx: ChatDb, messageId: string): Promise<string[]> {
    const rows = await trx.selectFrom('chat.reactions').select('emoji').distinct().where('message_id', '=', messageId).execute();
    return rows.map((r) => r.emoji);
  }

  async reactionCount(trx: ChatDb, messageId: string, emoji: string): Promise<number> {
    const row = await trx.selectFrom('chat.reactions').select(sql<number>`count(*)::int`.as('n')).where('message_id', '=', messageId).where('emoji', '=', emoji).executeTakeFirstOrThrow();
    return row.n;
  }

  deleteReactions(trx: ChatDb, messageId: string) {
    return trx.deleteFrom('chat.reactions').where('message_id', '=', messageId).execute();
  }

  /** Per message: each emoji's count and whether this viewer used it, in order of first use. */
  async reactionSummaries(messageIds: readonly string[], viewerId: string | null) {
    const out = new Map<string, ReactionSummary[]>();
    if (!messageIds.length) return out;
    const rows = await this.db
      .selectFrom('chat.reactions')
      .select([
        'message_id',
        'emoji',
        sql<number>`count(*)::int`.as('count'),
        sql<Date>`min(created_at)`.as('first'),
        viewerId ? sql<boolean>`bool_or(user_id = ${viewerId}::uuid)`.as('mine') : sql<boolean>`false`.as('mine'),
      ])
      .where('message_id', 'in', [...messageIds])
      .groupBy(['message_id', 'emoji'])
      .orderBy('first')
      .orderBy('emoji')
      .execute();
    for (const r of rows) out.set(r.message_id, [...(out.get(r.message_id) ?? []), { emoji: r.emoji, count: r.count, viewerReacted: r.mine }]);
    return out;
  }

  // Attachments ----------------------------------------------------------------------------------------------------

  insertAttachments(trx: ChatDb, rows: Omit<AttachmentRow, 'created_at'>[]) {
    if (!rows.length) return Promise.resolve();
    return trx.insertInto('chat.attachments').values(rows).execute();
  }

  async attachmentsOf(messageIds: readonly string[], trx: ChatDb = this.db) {
    const out = new Map<string, AttachmentRow[]>();
    if (!messageIds.length) return out;
    const rows = (await trx.selectFrom('chat.attachments').selectAll().where('message_id', 'in', [...messageIds]).orderBy('position').execute()) as AttachmentRow[];
    for (const r of rows) out.set(r.message_id, [...(out.get(r.message_id) ?? []), r]);
    return out;
  }

  /** Removes a message's attachment records; returns the file ids to release in media. */
  async deleteAttachments(trx: ChatDb, messageId: string): Promise<string[]> {
    const rows = await trx.deleteFrom('chat.attachments').where('message_id', '=', messageId).returning('id').execute();
    return rows.map((r) => r.id);
  }

  async channelFileIds(trx: ChatDb, channelId: string): Promise<string[]> {
    const rows = await trx.selectFrom('chat.attachments').select('id').where('channel_id', '=', channelId).execute();
    return rows.map((r) => r.id);
  }

  // Pins -----------------------------------------------------------------------------------------------------------

  async pinCount(trx: ChatDb, channelId: string): Promise<number> {
    const row = await trx.selectFrom('chat.messages').select(sql<number>`count(*)::int`.as('n')).where('channel_id', '=', channelId).where('pinned_at', 'is not', null).executeTakeFirstOrThrow();
    return row.n;
  }

  pinned(channelId: string, limit: number) {
    return this.db.selectFrom('chat.messages').selectAll().where('channel_id', '=', channelId).where('pinned_at', 'is not', null).orderBy('pinned_at', 'desc').limit(limit).execute();
  }

  // Read positions -------------------------------------------------------------------------------------------------

  /** Moves a member's read position forward (never back: a slow device cannot undo a faster one). */
  async markRead(trx: ChatDb, userId: string, channelId: string, seq: number) {
    await sql`insert into chat.read_positions (user_id, channel_id, seq) values (${userId}::uuid, ${channelId}::uuid, ${seq})
      on conflict (user_id, channel_id) do update set seq = greatest(chat.read_positions.seq, excluded.seq), updated_at = now()`.execute(trx);
  }

  /**
   * Per channel: the member's read position, how many main-timeline messages by others came after it, and how many
   * messages by others after it mention the member (by id, @everyone, or @here while they were present), each counted
   * up to `cap`.
   */
  async readState(userId: string, channelIds: readonly string[], cap: number) {
    const out = new Map<string, { readSeq: number; unread: number; mentions: number }>();
    if (!channelIds.length) return out;
    const { rows } = await sql<{ channel_id: string; read_seq: string; unread: number; mentions: number }>`
      select c.id as channel_id, coalesce(r.seq, 0) as read_seq,
        (select count(*)::int from (select 1 from chat.messages m
           where m.channel_id = c.id and m.thread_id is null and m.seq > coalesce(r.seq, 0) and m.author_id <> ${userId}::uuid
             and m.deleted_at is null
           limit ${cap}) x) as unread,
        (select count(*)::int from (select 1 from chat.messages m
           where m.channel_id = c.id and m.seq > coalesce(r.seq, 0) and m.author_id <> ${userId}::uuid and m.deleted_at is null
             and (${userId}::uuid = any(m.mention_ids) or m.mentions_everyone or (m.mentions_here and ${userId}::uuid = any(m.here_ids)))
           limit ${cap}) y) as mentions
      from chat.channels c
      left join chat.read_positions r on r.channel_id = c.id and r.user_id = ${userId}::uuid
      where c.id = any(${[...channelIds]}::uuid[])`.execute(this.db);
    for (const r of rows) out.set(r.channel_id, { readSeq: Number(r.read_seq), unread: r.unread, mentions: r.mentions });
    return out;
  }

  /** A person's reading and writing in the space channels of these spaces (channels they never touched left out). */
  async activityIn(userId: string, spaceIds: string[]) {
    const { rows } = await sql<{ id: string; space_id: string; name: string; last_read_at: Date | null; sent: number; last_sent_at: Date | null }>`
      select c.id, c.space_id, c.name, r.updated_at as last_read_at, coalesce(s.sent, 0)::int as sent, s.last_sent_at
      from chat.channels c
      left join chat.read_positions r on r.channel_id = c.id and r.user_id = ${userId}::uuid
      left join lateral (select count(*) as sent, max(m.created_at) as last_sent_at from chat.messages m
        where m.channel_id = c.id and m.author_id = ${userId}::uuid and m.deleted_at is null) s on true
      where c.kind = 'space' and c.space_id = any(${spaceIds}::uuid[]) and (r.user_id is not null or s.sent > 0)
      order by greatest(r.updated_at, s.last_sent_at) desc nulls last, c.id`.execute(this.db);
    return rows;
  }

  // Profiles (projection of auth's handles) --------------------------------------------------------------------------

  async userIdsByHandles(handles: string[]): Promise<string[]> {
    if (!handles.length) return [];
    const rows = await this.db
      .selectFrom('chat.profiles')
      .select(['user_id', 'handle'])
      .where(sql`lower(handle)`, 'in', handles.map((h) => h.toLowerCase()))
      .execute();
    const byHandle = new Map(rows.map((r) => [r.handle.toLowerCase(), r.user_id]));
    return handles.map((h) => byHandle.get(h.toLowerCase())).filter((id): id is string => id !== undefined);
  }

  /**
   * A person's handle as auth last said (registration or a change), unless a newer version is already here. Whoever
   * held that handle before has moved on (auth keeps handles unique): their row goes until their own event arrives.
   */
  async upsertProfile(trx: ChatDb, userId: string, handle: string, version: number) {
    const held = await trx.selectFrom('chat.profiles').select('version').where('user_id', '=', userId).executeTakeFirst();
    if (held && Number(held.version) > version) return;
    await sql`delete from chat.profiles where lower(handle) = lower(${handle}) and user_id <> ${userId}::uuid`.execute(trx);
    await sql`insert into chat.profiles (user_id, handle, version) values (${userId}::uuid, ${handle}, ${version})
      on conflict (user_id) do update set handle = excluded.handle, version = excluded.version where chat.profiles.version <= excluded.version`.execute(trx);
  }
}

import { type Generated, type Kysely, sql } from 'kysely';

export interface ChatTables {
  'chat.channels': {
    id: string;
    community_id: string;
    space_id: string;
    name: string;
    topic: string;
    position: number;
    slow_mode_seconds: number;
    last_seq: Generated<string>;
    created_by: string;
    created_at: Generated<Date>;
  };
  'chat.messages': {
    id: string;
    channel_id: string;
    seq: number | string;
    author_id: string;
    client_id: string;
    body: string;
    reply_to_id: string | null;
    created_at: Date;
    edited_at: Date | null;
    deleted_at: Date | null;
  };
}
export type ChatDb = Kysely<ChatTables & { 'chat.read_positions': { user_id: string; channel_id: string; seq: number | string; updated_at: Generated<Date> } }>;
export type ChannelRow = { id: string; community_id: string; space_id: string; name: string; topic: string; position: number; slow_mode_seconds: number; last_seq: string; created_by: string; created_at: Date };
export type MessageRow = ChatTables['chat.messages'];

export class ChatRepository {
  constructor(readonly db: ChatDb) {}

  transaction<T>(fn: (trx: ChatDb) => Promise<T>): Promise<T> {
    return this.db.transaction().execute(fn);
  }

  channel(id: string) {
    return this.db.selectFrom('chat.channels').selectAll().where('id', '=', id).executeTakeFirst() as Promise<ChannelRow | undefined>;
  }

  channels(spaceId: string) {
    return this.db.selectFrom('chat.channels').selectAll().where('space_id', '=', spaceId).orderBy('position').orderBy('created_at').execute() as Promise<ChannelRow[]>;
  }

  async insertChannel(trx: ChatDb, row: Omit<ChannelRow, 'position' | 'last_seq' | 'created_at'>) {
    // At the end of the space's list; the advisory lock keeps two admins from taking the same position.
    await sql`select pg_advisory_xact_lock(hashtext(${'chat-channels:' + row.space_id}))`.execute(trx);
    const { max } = (await trx.selectFrom('chat.channels').select(sql<number>`coalesce(max(position), -1)::int`.as('max')).where('space_id', '=', row.space_id).executeTakeFirstOrThrow()) as { max: number };
    return trx.insertInto('chat.channels').values({ ...row, position: max + 1 }).returningAll().executeTakeFirstOrThrow() as Promise<ChannelRow>;
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

  setLastSeq(trx: ChatDb, id: string, seq: number) {
    return trx.updateTable('chat.channels').set({ last_seq: String(seq) }).where('id', '=', id).execute();
  }

  insertMessage(trx: ChatDb, row: MessageRow) {
    return trx.insertInto('chat.messages').values(row).returningAll().executeTakeFirstOrThrow();
  }

  message(id: string) {
    return this.db.selectFrom('chat.messages').selectAll().where('id', '=', id).executeTakeFirst();
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

  /** Newest first when paging back (or with no cursor); oldest first after a position. */
  history(channelId: string, opts: { before: number | null; after: number | null; limit: number }) {
    let q = this.db.selectFrom('chat.messages').selectAll().where('channel_id', '=', channelId);
    if (opts.after !== null) return q.where('seq', '>', opts.after).orderBy('seq', 'asc').limit(opts.limit).execute();
    if (opts.before !== null) q = q.where('seq', '<', opts.before);
    return q.orderBy('seq', 'desc').limit(opts.limit).execute();
  }

  updateMessage(trx: ChatDb, id: string, patch: Partial<Pick<MessageRow, 'body' | 'edited_at' | 'deleted_at'>>) {
    return trx.updateTable('chat.messages').set(patch).where('id', '=', id).returningAll().executeTakeFirstOrThrow();
  }

  /** Moves a member's read position forward (never back: a slow device cannot undo a faster one). */
  async markRead(trx: ChatDb, userId: string, channelId: string, seq: number) {
    await sql`insert into chat.read_positions (user_id, channel_id, seq) values (${userId}::uuid, ${channelId}::uuid, ${seq})
      on conflict (user_id, channel_id) do update set seq = greatest(chat.read_positions.seq, excluded.seq), updated_at = now()`.execute(trx);
  }

  /** Per channel: the member's read position and how many messages by others came after it (counted up to `cap`). */
  async readState(userId: string, channelIds: readonly string[], cap: number) {
    const out = new Map<string, { readSeq: number; unread: number }>();
    if (!channelIds.length) return out;
    const { rows } = await sql<{ channel_id: string; read_seq: string; unread: number }>`
      select c.id as channel_id, coalesce(r.seq, 0) as read_seq,
        (select count(*)::int from (select 1 from chat.messages m
           where m.channel_id = c.id and m.seq > coalesce(r.seq, 0) and m.author_id <> ${userId}::uuid and m.deleted_at is null
           limit ${cap}) x) as unread
      from chat.channels c
      left join chat.read_positions r on r.channel_id = c.id and r.user_id = ${userId}::uuid
      where c.id = any(${[...channelIds]}::uuid[])`.execute(this.db);
    for (const r of rows) out.set(r.channel_id, { readSeq: Number(r.read_seq), unread: r.unread });
    return out;
  }
}

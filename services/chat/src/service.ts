import { badInput, type Identity, isUniqueViolation, newId, parseInput, type ServiceDeps, unauthenticated } from '@circles/platform';
import type { Kysely } from 'kysely';
import { chatErrors } from './errors.ts';
import { createChannelInput, messageBody, sendMessageInput, updateChannelInput, uuid } from './inputs.ts';
import { ChatLive } from './realtime/live.ts';
import { wireMessage } from './realtime/wire.ts';
import { type ChannelRow, type ChatDb, ChatRepository, type MessageRow } from './repo.ts';

export const chatTopics = {
  channelCreated: 'chat.channel_created',
  channelDeleted: 'chat.channel_deleted',
  messageCreated: 'chat.message_created',
  messageEdited: 'chat.message_edited',
  messageDeleted: 'chat.message_deleted',
} as const;

const pageSize = (first: number | null | undefined) => {
  const n = first ?? 50;
  if (!Number.isInteger(n) || n < 1 || n > 200) throw badInput('Ask for between 1 and 200 messages at a time.', 'first');
  return n;
};

/** Channels and durable messages. Resolvers only translate; reading and sending rights come from Community. */
export class ChatService {
  readonly repo: ChatRepository;
  /** Live events for sockets, published after commit (docs/chat-protocol.md). */
  readonly live: ChatLive;
  private readonly memberLimit;

  constructor(readonly deps: ServiceDeps) {
    this.repo = new ChatRepository(deps.db as ChatDb);
    this.live = new ChatLive(deps.pubsub);
    // A burst of typing is fine; a script is not: 20 messages per member per 10 seconds across channels.
    this.memberLimit = deps.limits.limiter({ name: 'chat-send', points: 20, windowMs: 10_000 });
  }

  private requireUser(identity: Identity): string {
    if (!identity.userId) throw unauthenticated();
    return identity.userId;
  }

  /** The channel, if its space exists for this viewer; readable says whether they may read it. */
  async channelFor(identity: Identity, channelId: string) {
    const channel = await this.repo.channel(parseInput(uuid, channelId));
    const access = channel ? await this.deps.apis.community.spaceAccess({ userId: identity.userId, communityId: channel.community_id, spaceId: channel.space_id }) : null;
    if (!channel || !access) throw chatErrors.channelNotFound();
    return { channel, access };
  }

  can(identity: Identity, permission: string, channel: Pick<ChannelRow, 'community_id' | 'space_id'>, wholeCommunity = false) {
    if (!identity.userId) return Promise.resolve(false);
    return this.deps.apis.community.can({ userId: identity.userId, permission, communityId: channel.community_id, spaceId: wholeCommunity ? undefined : channel.space_id });
  }

  async channels(identity: Identity, communityId: string, spaceId: string) {
    const c = parseInput(uuid, communityId);
    const s = parseInput(uuid, spaceId);
    const access = await this.deps.apis.community.spaceAccess({ userId: identity.userId, communityId: c, spaceId: s });
    if (!access) throw chatErrors.spaceNotFound();
    if (!access.readable) throw chatErrors.cannotRead();
    return (await this.repo.channels(s)).filter((ch) => ch.community_id === c);
  }

  async messages(identity: Identity, channelId: string, args: { before?: number | null; after?: number | null; first?: number | null }) {
    const { channel, access } = await this.channelFor(identity, channelId);
    if (!access.readable) throw chatErrors.cannotRead();
    if (args.before != null && args.after != null) throw chatErrors.bothCursors();
    const limit = pageSize(args.first);
    const rows = await this.repo.history(channel.id, { before: args.before ?? null, after: args.after ?? null, limit: limit + 1 });
    const more = rows.length > limit;
    const page = rows.slice(0, limit);
    // Sequence numbers start at 1 and have no gaps (deleted messages keep theirs), so the edges are arithmetic.
    if (args.after != null) return { messages: page, hasMoreBefore: page.length ? Number(page[0]!.seq) > 1 : args.after > 0, hasMoreAfter: more };
    page.reverse();
    const newest = page.at(-1);
    return { messages: page, hasMoreBefore: more, hasMoreAfter: newest ? Number(newest.seq) < Number(channel.last_seq) : false };
  }

  async createChannel(identity: Identity, input: unknown): Promise<ChannelRow> {
    const userId = this.requireUser(identity);
    const i = parseInput(createChannelInput, input);
    const access = await this.deps.apis.community.spaceAccess({ userId, communityId: i.communityId, spaceId: i.spaceId });
    if (!access) throw chatErrors.spaceNotFound();
    if (!(await this.can(identity, 'manage_community', { community_id: i.communityId, space_id: i.spaceId }, true))) throw chatErrors.notAdmin();
    try {
      return await this.repo.transaction(async (trx) => {
        const row = await this.repo.insertChannel(trx, {
          id: newId(),
          community_id: i.communityId,
          space_id: i.spaceId,
          name: i.name,
          topic: i.topic,
          slow_mode_seconds: i.slowModeSeconds,
          created_by: userId,
        });
        await this.deps.outbox.write(trx as Kysely<any>, chatTopics.channelCreated, { channelId: row.id, communityId: row.community_id, spaceId: row.space_id, name: row.name });
        return row;
      });
    } catch (err) {
      if (isUniqueViolation(err)) throw chatErrors.nameTaken();
      throw err;
    } finally {
      this.deps.outbox.nudge();
    }
  }

  private async managed(identity: Identity, channelId: string) {
    this.requireUser(identity);
    const { channel } = await this.channelFor(identity, channelId);
    if (!(await this.can(identity, 'manage_community', channel, true))) throw chatErrors.notAdmin();
    return channel;
  }

  async updateChannel(identity: Identity, channelId: string, input: unknown): Promise<ChannelRow> {
    const channel = await this.managed(identity, channelId);
    const i = parseInput(updateChannelInput, input);
    const patch = {
      ...(i.name != null ? { name: i.name } : {}),
      ...(i.topic != null ? { topic: i.topic } : {}),
      ...(i.slowModeSeconds != null ? { slow_mode_seconds: i.slowModeSeconds } : {}),
    };
    if (!Object.keys(patch).length) return channel;
    try {
      const updated = await this.repo.updateChannel(channel.id, patch);
      this.live.channel(channel.id, { t: 'channel', channelId: channel.id, change: 'updated' });
      return updated;
    } catch (err) {
      if (isUniqueViolation(err)) throw chatErrors.nameTaken();
      throw err;
    }
  }

  async reorderChannels(identity: Identity, spaceId: string, channelIds: string[]): Promise<ChannelRow[]> {
    this.requireUser(identity);
    const s = parseInput(uuid, spaceId);
    const current = await this.repo.channels(s);
    if (!current.length) throw chatErrors.spaceNotFound();
    await this.managed(identity, current[0]!.id);
    const wanted = channelIds.map((id) => id.toLowerCase());
    if (wanted.length !== current.length || new Set(wanted).size !== wanted.length || !current.every((c) => wanted.includes(c.id))) throw chatErrors.badOrder();
    await this.repo.transaction(async (trx) => {
      for (const [position, id] of wanted.entries()) await this.repo.setPosition(trx, id, position);
    });
    return this.repo.channels(s);
  }

  async deleteChannel(identity: Identity, channelId: string, confirmName: string): Promise<boolean> {
    const channel = await this.managed(identity, channelId);
    if ((confirmName ?? '').trim().toLowerCase() !== channel.name) throw chatErrors.confirmName();
    await this.repo.transaction(async (trx) => {
      await this.repo.deleteChannel(trx, channel.id);
      await this.deps.outbox.write(trx as Kysely<any>, chatTopics.channelDeleted, { channelId: channel.id, communityId: channel.community_id, spaceId: channel.space_id });
    });
    this.deps.outbox.nudge();
    this.live.channel(channel.id, { t: 'channel', channelId: channel.id, change: 'deleted' });
    return true;
  }

  /**
   * Stores a message and hands it its sequence number, in one transaction that holds the channel row: when this
   * returns, the message is committed. The same (author, clientId) again returns the stored message untouched.
   */
  async send(identity: Identity, input: unknown): Promise<{ message: MessageRow; duplicate: boolean }> {
    const userId = this.requireUser(identity);
    const i = parseInput(sendMessageInput, input);
    const { channel, access } = await this.channelFor(identity, i.channelId);
    const earlier = await this.repo.byClientId(channel.id, userId, i.clientId);
    if (earlier) return { message: earlier, duplicate: true };
    if (!access.readable) throw chatErrors.cannotRead();
    if (!(await this.can(identity, 'chat', channel))) throw chatErrors.cannotSend();
    if (i.replyToId) {
      const target = await this.repo.message(i.replyToId);
      if (!target || target.channel_id !== channel.id) throw badInput('That message is not in this channel.', 'replyToId');
    }
    const limited = await this.memberLimit.consume(userId);
    if (!limited.allowed) throw chatErrors.rateLimited(Math.ceil(limited.retryAfterMs / 1000));
    const exempt = channel.slow_mode_seconds === 0 || (await this.can(identity, 'moderate_content', channel));
    const result = await this.repo.transaction(async (trx) => {
      const locked = await this.repo.lockChannel(trx, channel.id);
      if (!locked) throw chatErrors.channelNotFound();
      // Checked again under the lock: two resends racing store one message.
      const again = await this.repo.byClientId(channel.id, userId, i.clientId, trx);
      if (again) return { message: again, duplicate: true };
      if (!exempt) {
        const last = await this.repo.lastSentAt(trx, channel.id, userId);
        const wait = last ? Math.ceil((last.getTime() + locked.slow_mode_seconds * 1000 - Date.now()) / 1000) : 0;
        if (wait > 0) throw chatErrors.slowMode(wait);
      }
      const seq = Number(locked.last_seq) + 1;
      const message = await this.repo.insertMessage(trx, {
        id: newId(),
        channel_id: channel.id,
        seq,
        author_id: userId,
        client_id: i.clientId,
        body: i.body,
        reply_to_id: i.replyToId,
        created_at: new Date(),
        edited_at: null,
        deleted_at: null,
      });
      await this.repo.setLastSeq(trx, channel.id, seq);
      // What you sent yourself is read.
      await this.repo.markRead(trx, userId, channel.id, seq);
      await this.deps.outbox.write(trx as Kysely<any>, chatTopics.messageCreated, {
        messageId: message.id,
        channelId: channel.id,
        communityId: channel.community_id,
        spaceId: channel.space_id,
        seq,
        authorId: userId,
        replyToId: i.replyToId,
        text: i.body,
        createdAt: message.created_at.toISOString(),
      });
      return { message, duplicate: false };
    });
    this.deps.outbox.nudge();
    if (!result.duplicate) {
      this.live.channel(channel.id, { t: 'msg', channelId: channel.id, message: wireMessage(result.message) });
      this.live.user(userId, { t: 'read', channelId: channel.id, seq: Number(result.message.seq) });
    }
    return result;
  }

  private async ownMessage(identity: Identity, messageId: string) {
    this.requireUser(identity);
    const message = await this.repo.message(parseInput(uuid, messageId));
    if (!message) throw chatErrors.messageNotFound();
    const { channel, access } = await this.channelFor(identity, message.channel_id);
    if (!access.readable) throw chatErrors.messageNotFound();
    return { message, channel };
  }

  async edit(identity: Identity, messageId: string, body: string): Promise<MessageRow> {
    const { message, channel } = await this.ownMessage(identity, messageId);
    const text = parseInput(messageBody, body);
    if (message.author_id !== identity.userId) throw chatErrors.notAuthor();
    if (message.deleted_at) throw chatErrors.deleted();
    if (!(await this.can(identity, 'chat', channel))) throw chatErrors.cannotSend();
    if (text === message.body) return message;
    const updated = await this.repo.transaction(async (trx) => {
      const updated = await this.repo.updateMessage(trx, message.id, { body: text, edited_at: new Date() });
      await this.deps.outbox.write(trx as Kysely<any>, chatTopics.messageEdited, { messageId: message.id, channelId: channel.id, communityId: channel.community_id, spaceId: channel.space_id, seq: Number(message.seq), authorId: message.author_id, text });
      return updated;
    });
    this.deps.outbox.nudge();
    this.live.channel(channel.id, { t: 'edit', channelId: channel.id, message: wireMessage(updated) });
    return updated;
  }

  async delete(identity: Identity, messageId: string): Promise<MessageRow> {
    const { message, channel } = await this.ownMessage(identity, messageId);
    if (message.deleted_at) return message;
    if (message.author_id !== identity.userId && !(await this.can(identity, 'moderate_content', channel))) throw chatErrors.notAllowed();
    const updated = await this.repo.transaction(async (trx) => {
      // The text goes; the row stays so sequence numbers keep no gaps and replies keep their anchor.
      const updated = await this.repo.updateMessage(trx, message.id, { body: '', deleted_at: new Date() });
      await this.deps.outbox.write(trx as Kysely<any>, chatTopics.messageDeleted, {
        messageId: message.id,
        channelId: channel.id,
        communityId: channel.community_id,
        spaceId: channel.space_id,
        seq: Number(message.seq),
        authorId: message.author_id,
        deletedBy: identity.userId,
      });
      return updated;
    });
    this.deps.outbox.nudge();
    this.live.channel(channel.id, { t: 'del', channelId: channel.id, id: message.id, seq: Number(message.seq) });
    return updated;
  }

  /** Marks the channel read up to a message (at most the newest); the position only moves forward. */
  async markRead(identity: Identity, channelId: string, seq: number): Promise<ChannelRow> {
    const userId = this.requireUser(identity);
    const { channel, access } = await this.channelFor(identity, channelId);
    if (!access.readable) throw chatErrors.cannotRead();
    if (!Number.isSafeInteger(seq) || seq < 0) throw badInput('That is not a message position.', 'seq');
    const upTo = Math.min(seq, Number(channel.last_seq));
    await this.repo.markRead(this.repo.db, userId, channel.id, upTo);
    this.live.user(userId, { t: 'read', channelId: channel.id, seq: upTo });
    return channel;
  }

  /** A deleted community or circle takes its channels and their history along. */
  async dropSpace(trx: ChatDb, where: { communityId: string; spaceId?: string }) {
    let q = trx.deleteFrom('chat.channels').where('community_id', '=', where.communityId);
    if (where.spaceId) q = q.where('space_id', '=', where.spaceId);
    await q.execute();
  }
}

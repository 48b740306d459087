import {
  badInput,
  type ChatActivity,
  DomainError,
  fileUrlPath,
  type FileVariant,
  type Identity,
  isUniqueViolation,
  type MediaFile,
  newId,
  parseInput,
  type ServiceDeps,
  type SpaceAccess,
  signedUrlExpiry,
  unauthenticated,
} from '@circles/platform';
import type { Kysely } from 'kysely';
import { chatErrors } from './errors.ts';
import { createChannelInput, editBody, groupName, MAX_GROUP_MEMBERS, sendMessageInput, updateChannelInput, userIds as userIdsInput, uuid } from './inputs.ts';
import { isEmoji, parseMentions } from './mentions.ts';
import { ChatLive } from './realtime/live.ts';
import { wireMessage } from './realtime/wire.ts';
import { type AttachmentRow, type ChannelRow, type ChatDb, ChatRepository, type Cursor, type MessageRow, type SpaceChannelRow, type Timeline } from './repo.ts';

export const chatTopics = {
  channelCreated: 'chat.channel_created',
  channelDeleted: 'chat.channel_deleted',
  directChannelCreated: 'chat.direct_channel_created',
  membersAdded: 'chat.channel_members_added',
  memberLeft: 'chat.channel_member_left',
  messageCreated: 'chat.message_created',
  messageEdited: 'chat.message_edited',
  messageDeleted: 'chat.message_deleted',
  messagePinned: 'chat.message_pinned',
  messageUnpinned: 'chat.message_unpinned',
  reactionAdded: 'chat.reaction_added',
  reactionRemoved: 'chat.reaction_removed',
} as const;

const MAX_DISTINCT_EMOJI = 20;
const MAX_PINS = 50;
/** People asked about per call when @here finds who may read a channel among everyone present. */
const HERE_SLICE = 1000;
/** Chat attachments are never public: links last minutes, like posts' circle attachments. */
const FILE_URL_TTL_MS = 15 * 60_000;

/**
 * What the viewer may do with a channel's content. Space channels answer with Community's `SpaceAccess`; a DM or
 * group is readable by its members only (others are told it does not exist).
 */
export type ChannelAccess = SpaceAccess | { kind: 'direct'; readable: true; public: false; member: true };

const pageSize = (first: number | null | undefined, fallback = 50, max = 200) => {
  const n = first ?? fallback;
  if (!Number.isInteger(n) || n < 1 || n > max) throw badInput(`Ask for between 1 and ${max} at a time.`, 'first');
  return n;
};
const seqArg = (n: number | null | undefined, field: string) => {
  if (n == null) return null;
  if (!Number.isSafeInteger(n) || n < 0) throw badInput('That is not a message position.', field);
  return n;
};

export function encodeCursor(c: Cursor): string {
  return Buffer.from(JSON.stringify(c)).toString('base64url');
}
function decodeCursor(s: string | null | undefined): Cursor | null {
  if (!s) return null;
  try {
    const v = JSON.parse(Buffer.from(s, 'base64url').toString('utf8')) as unknown;
    if (!Array.isArray(v) || v.length !== 2 || typeof v[0] !== 'string' || Number.isNaN(Date.parse(v[0])) || typeof v[1] !== 'string' || !/^[0-9a-f-]{36}$/.test(v[1])) throw new Error();
    return v as Cursor;
  } catch {
    throw chatErrors.badCursor();
  }
}

const isSpace = (c: ChannelRow): c is SpaceChannelRow => c.kind === 'space';
const isNotFound = (err: unknown) => err instanceof DomainError && err.code === 'NOT_FOUND';

/** Channels (in spaces, DMs and groups) and durable messages. Resolvers only translate; space rights come from Community. */
export class ChatService {
  readonly repo: ChatRepository;
  /** Live events for sockets, published after commit (docs/chat-protocol.md). */
  readonly live: ChatLive;
  private readonly memberLimit;
  private readonly channelLimit;

  constructor(readonly deps: ServiceDeps) {
    this.repo = new ChatRepository(deps.db as ChatDb);
    this.live = new ChatLive(deps.pubsub);
    // A burst of typing is fine; a script is not: 20 messages per member per 10 seconds across channels.
    this.memberLimit = deps.limits.limiter({ name: 'chat-send', points: deps.config.chatMemberRate, windowMs: 10_000 });
    // A raid (many accounts at once) is stopped per channel: CHAT_CHANNEL_RATE messages per 10 seconds in all.
    this.channelLimit = deps.limits.limiter({ name: 'chat-channel', points: deps.config.chatChannelRate, windowMs: 10_000 });
  }

  private requireUser(identity: Identity): string {
    if (!identity.userId) throw unauthenticated();
    return identity.userId;
  }

  /**
   * THE read check, for every kind: the channel, if it exists for this viewer (a space they can see, a DM or group
   * they are in), and whether they may read it. The socket layer subscribes with it too.
   */
  async channelFor(identity: Identity, channelId: string): Promise<{ channel: ChannelRow; access: ChannelAccess }> {
    const channel = await this.repo.channel(parseInput(uuid, channelId));
    if (!channel) throw chatErrors.channelNotFound();
    if (isSpace(channel)) {
      const access = await this.deps.apis.community.spaceAccess({ userId: identity.userId, communityId: channel.community_id, spaceId: channel.space_id });
      if (!access) throw chatErrors.channelNotFound();
      // Chat is for the community's members: unlike a public feed, nobody outside it (and nobody banned) reads along.
      return { channel, access: { ...access, readable: access.readable && access.member } };
    }
    if (!identity.userId || !(await this.repo.isMember(channel.id, identity.userId))) throw chatErrors.channelNotFound();
    return { channel, access: { kind: 'direct', readable: true, public: false, member: true } };
  }

  /** May this viewer send here: `chat` in the space, or being in the DM or group. */
  async canSend(identity: Identity, channel: ChannelRow): Promise<boolean> {
    if (!identity.userId) return false;
    if (isSpace(channel)) return this.can(identity, 'chat', channel);
    return this.repo.isMember(channel.id, identity.userId);
  }

  /** Pin and unpin: moderators in a space; any member of a DM or group. */
  async canPin(identity: Identity, channel: ChannelRow): Promise<boolean> {
    if (!identity.userId) return false;
    if (isSpace(channel)) return this.can(identity, 'moderate_content', channel);
    return this.repo.isMember(channel.id, identity.userId);
  }

  can(identity: Identity, permission: string, channel: Pick<ChannelRow, 'community_id' | 'space_id'>, wholeCommunity = false) {
    if (!identity.userId || !channel.community_id || !channel.space_id) return Promise.resolve(false);
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

  /** One channel for a link or a refetch; null when it does not exist for this viewer. */
  async channel(identity: Identity, channelId: string): Promise<ChannelRow | null> {
    try {
      return (await this.channelFor(identity, channelId)).channel;
    } catch (err) {
      if (isNotFound(err)) return null;
      throw err;
    }
  }

  // History --------------------------------------------------------------------------------------------------------

  private async readable(identity: Identity, channelId: string) {
    const found = await this.channelFor(identity, channelId);
    if (!found.access.readable) throw chatErrors.cannotRead();
    return found;
  }

  /** A thread's root: a main-timeline message of this channel. */
  private async threadRoot(channel: ChannelRow, threadId: string) {
    const root = await this.repo.message(parseInput(uuid, threadId));
    if (!root || root.channel_id !== channel.id) throw chatErrors.badThread('That message is not in this channel.');
    if (root.thread_id) throw chatErrors.badThread('A reply in a thread cannot start a thread: reply in its thread instead.');
    return root;
  }

  /**
   * A page of the main timeline (thread replies left out) or of one thread, by sequence number: the newest, before
   * N, from after N on (catching up), or centred on N (a link to a message). Oldest first.
   */
  async messages(identity: Identity, channelId: string, args: { threadId?: string | null; includeThreadReplies?: boolean | null; before?: number | null; after?: number | null; around?: number | null; first?: number | null }) {
    const { channel } = await this.readable(identity, channelId);
    const before = seqArg(args.before, 'before');
    const after = seqArg(args.after, 'after');
    const around = seqArg(args.around, 'around');
    if ([before, after, around].filter((x) => x !== null).length > 1) throw chatErrors.bothCursors();
    const limit = pageSize(args.first);
    if (args.includeThreadReplies && args.threadId) throw badInput('Ask for one thread, or for everything including thread replies, not both.', 'includeThreadReplies');
    const t: Timeline = { channelId: channel.id, threadId: args.includeThreadReplies ? 'all' : args.threadId ? (await this.threadRoot(channel, args.threadId)).id : null };
    const seqOf = (m: MessageRow) => Number(m.seq);

    if (around !== null) {
      // Up to half the page before N, the rest from N on; a short side leaves its room to the other.
      const [older, newer] = await Promise.all([this.repo.history(t, { before: around, from: null, limit: limit + 1 }), this.repo.history(t, { before: null, from: around, limit: limit + 1 })]);
      let nBefore = Math.min(older.length, Math.floor((limit - 1) / 2));
      const nAfter = Math.min(newer.length, limit - nBefore);
      nBefore = Math.min(older.length, limit - nAfter);
      return { messages: [...older.slice(0, nBefore).reverse(), ...newer.slice(0, nAfter)], hasMoreBefore: older.length > nBefore, hasMoreAfter: newer.length > nAfter };
    }
    if (after !== null) {
      const rows = await this.repo.history(t, { before: null, from: after + 1, limit: limit + 1 });
      const page = rows.slice(0, limit);
      const hasMoreBefore = await this.repo.hasBeyond(t, 'before', page.length ? seqOf(page[0]!) : after + 1);
      return { messages: page, hasMoreBefore, hasMoreAfter: rows.length > limit };
    }
    const rows = await this.repo.history(t, { before, from: null, limit: limit + 1 });
    const page = rows.slice(0, limit).reverse();
    const newest = page.at(-1);
    const hasMoreAfter = before === null ? false : await this.repo.hasBeyond(t, 'after', newest ? seqOf(newest) : before - 1);
    return { messages: page, hasMoreBefore: rows.length > limit, hasMoreAfter };
  }

  /** One message by id, for a link; null when it does not exist or its channel is not readable by this viewer. */
  async message(identity: Identity, messageId: string): Promise<MessageRow | null> {
    const message = await this.repo.message(parseInput(uuid, messageId));
    if (!message) return null;
    try {
      return (await this.channelFor(identity, message.channel_id)).access.readable ? message : null;
    } catch (err) {
      if (isNotFound(err)) return null;
      throw err;
    }
  }

  async threads(identity: Identity, channelId: string, args: { first?: number | null; after?: string | null }) {
    const { channel } = await this.readable(identity, channelId);
    const limit = pageSize(args.first, 20, 100);
    const rows = await this.repo.threads(channel.id, limit + 1, decodeCursor(args.after));
    const page = rows.slice(0, limit);
    const last = page.at(-1);
    return { threads: page, endCursor: last && rows.length > limit ? encodeCursor([last.last_reply_at!.toISOString(), last.id]) : null, hasNextPage: rows.length > limit };
  }

  async pinnedMessages(identity: Identity, channelId: string) {
    const { channel } = await this.readable(identity, channelId);
    return this.repo.pinned(channel.id, MAX_PINS);
  }

  // Space channels -------------------------------------------------------------------------------------------------

  async createChannel(identity: Identity, input: unknown): Promise<ChannelRow> {
    const userId = this.requireUser(identity);
    const i = parseInput(createChannelInput, input);
    const access = await this.deps.apis.community.spaceAccess({ userId, communityId: i.communityId, spaceId: i.spaceId });
    if (!access) throw chatErrors.spaceNotFound();
    if (!(await this.can(identity, 'manage_community', { community_id: i.communityId, space_id: i.spaceId }, true))) throw chatErrors.notAdmin();
    try {
      const created = await this.repo.transaction(async (trx) => {
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
      this.live.community(i.communityId, { t: 'channels', communityId: i.communityId });
      return created;
    } catch (err) {
      if (isUniqueViolation(err)) throw chatErrors.nameTaken();
      throw err;
    } finally {
      this.deps.outbox.nudge();
    }
  }

  private async managed(identity: Identity, channelId: string): Promise<SpaceChannelRow> {
    this.requireUser(identity);
    const { channel } = await this.channelFor(identity, channelId);
    if (!isSpace(channel)) throw chatErrors.notSpaceChannel();
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
      if (channel.community_id) this.live.community(channel.community_id, { t: 'channels', communityId: channel.community_id });
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
    const communityId = current[0]!.community_id;
    if (communityId) this.live.community(communityId, { t: 'channels', communityId });
    return this.repo.channels(s);
  }

  async deleteChannel(identity: Identity, channelId: string, confirmName: string): Promise<boolean> {
    const channel = await this.managed(identity, channelId);
    if ((confirmName ?? '').trim().toLowerCase() !== channel.name) throw chatErrors.confirmName();
    const fileIds = await this.repo.transaction(async (trx) => {
      const files = await this.repo.channelFileIds(trx, channel.id);
      await this.repo.deleteChannel(trx, channel.id);
      await this.deps.outbox.write(trx as Kysely<any>, chatTopics.channelDeleted, { channelId: channel.id, kind: channel.kind, communityId: channel.community_id, spaceId: channel.space_id });
      return files;
    });
    this.deps.outbox.nudge();
    await this.releaseFiles(fileIds);
    this.live.channel(channel.id, { t: 'channel', channelId: channel.id, change: 'deleted' });
    if (channel.community_id) this.live.community(channel.community_id, { t: 'channels', communityId: channel.community_id });
    return true;
  }

  // DMs and groups -------------------------------------------------------------------------------------------------

  /** Refused unless every one of `others` shares a community with `userId` (unknown ids look the same: no probing). */
  private async requireSharedCommunity(userId: string, others: string[]) {
    if (!others.length) return;
    const shared = new Set(await this.deps.apis.community.sharesCommunity({ userId, otherUserIds: others }));
    const missing = others.filter((id) => !shared.has(id));
    if (missing.length) throw chatErrors.noSharedCommunity(missing);
  }

  /**
   * A DM with one other person (the same one every time, for either of them) or a new group with 2 to 9 others.
   * Everyone must share a community with the viewer.
   */
  async openDirectChannel(identity: Identity, userIds: string[], name?: string | null): Promise<ChannelRow> {
    const userId = this.requireUser(identity);
    const others = parseInput(userIdsInput, userIds ?? []).filter((id) => id !== userId);
    const title = parseInput(groupName, name);
    if (!others.length) throw chatErrors.noOneElse();
    if (others.length + 1 > MAX_GROUP_MEMBERS) throw chatErrors.groupTooBig(MAX_GROUP_MEMBERS);
    if (others.length === 1 && title) throw chatErrors.dmHasNoName();
    await this.requireSharedCommunity(userId, others);
    const members = [userId, ...others];
    const { channel, created } = await this.repo.transaction(async (trx) => {
      const opened =
        others.length === 1
          ? await this.repo.openDm(trx, { id: newId(), dm_key: [...members].sort().join(':'), created_by: userId }, members)
          : { channel: await this.repo.insertGroup(trx, { id: newId(), name: title, created_by: userId }, members), created: true };
      if (opened.created) {
        await this.deps.outbox.write(trx as Kysely<any>, chatTopics.directChannelCreated, { channelId: opened.channel.id, kind: opened.channel.kind, createdBy: userId, memberIds: members });
      }
      return opened;
    });
    if (created) {
      this.deps.outbox.nudge();
      for (const id of members) this.live.user(id, { t: 'dm', channelId: channel.id });
    }
    return channel;
  }

  /** Groups: a member adds people who share a community with them, up to MAX_GROUP_MEMBERS in all. */
  async addChannelMembers(identity: Identity, channelId: string, userIds: string[]): Promise<ChannelRow> {
    const userId = this.requireUser(identity);
    const { channel } = await this.channelFor(identity, channelId);
    if (channel.kind !== 'group') throw chatErrors.notGroup();
    const wanted = parseInput(userIdsInput, userIds ?? []).filter((id) => id !== userId);
    const current = new Set(await this.repo.memberIds(channel.id));
    const newcomers = wanted.filter((id) => !current.has(id));
    if (!newcomers.length) return channel;
    await this.requireSharedCommunity(userId, newcomers);
    const { added, members } = await this.repo.transaction(async (trx) => {
      // Under the channel lock, so two members adding at once cannot pass the limit together.
      if (!(await this.repo.lockChannel(trx, channel.id))) throw chatErrors.channelNotFound();
      const now = await this.repo.memberIds(channel.id, trx);
      if (!now.includes(userId)) throw chatErrors.channelNotFound();
      const fresh = newcomers.filter((id) => !now.includes(id));
      if (now.length + fresh.length > MAX_GROUP_MEMBERS) throw chatErrors.groupTooBig(MAX_GROUP_MEMBERS);
      const added = await this.repo.addMembers(trx, channel.id, fresh);
      if (added.length) await this.deps.outbox.write(trx as Kysely<any>, chatTopics.membersAdded, { channelId: channel.id, addedBy: userId, userIds: added });
      return { added, members: [...now, ...added] };
    });
    if (added.length) {
      this.deps.outbox.nudge();
      for (const id of members) this.live.user(id, { t: 'dm', channelId: channel.id });
    }
    return channel;
  }

  /** Groups: the viewer leaves; the last one out deletes the group, its history and its files. */
  async leaveChannel(identity: Identity, channelId: string): Promise<boolean> {
    const userId = this.requireUser(identity);
    const { channel } = await this.channelFor(identity, channelId);
    if (channel.kind !== 'group') throw chatErrors.notGroup();
    const { remaining, fileIds } = await this.repo.transaction(async (trx) => {
      if (!(await this.repo.lockChannel(trx, channel.id))) throw chatErrors.channelNotFound();
      if (!(await this.repo.removeMember(trx, channel.id, userId))) throw chatErrors.channelNotFound();
      const remaining = await this.repo.memberIds(channel.id, trx);
      if (remaining.length) {
        await this.deps.outbox.write(trx as Kysely<any>, chatTopics.memberLeft, { channelId: channel.id, userId });
        return { remaining, fileIds: [] as string[] };
      }
      const fileIds = await this.repo.channelFileIds(trx, channel.id);
      await this.repo.deleteChannel(trx, channel.id);
      await this.deps.outbox.write(trx as Kysely<any>, chatTopics.channelDeleted, { channelId: channel.id, kind: channel.kind, communityId: null, spaceId: null });
      return { remaining, fileIds };
    });
    this.deps.outbox.nudge();
    await this.releaseFiles(fileIds);
    this.live.user(userId, { t: 'revoked', channelId: channel.id });
    for (const id of [...remaining, userId]) this.live.user(id, { t: 'dm', channelId: channel.id });
    return true;
  }

  /** The viewer's DMs and groups, newest activity first. */
  async directChannels(identity: Identity, args: { first?: number | null; after?: string | null }) {
    const userId = this.requireUser(identity);
    const limit = pageSize(args.first, 50, 200);
    const rows = await this.repo.directChannels(userId, limit + 1, decodeCursor(args.after));
    const page = rows.slice(0, limit);
    const last = page.at(-1);
    return { channels: page, endCursor: last && rows.length > limit ? encodeCursor([last.last_activity_at.toISOString(), last.id]) : null, hasNextPage: rows.length > limit };
  }

  /** `ChatApi.activityIn`: a person's own reading and writing in these spaces' channels, for dispute evidence. */
  async activityIn(userId: string, spaceIds: string[]): Promise<ChatActivity[]> {
    const isUuid = (v: unknown): v is string => uuid.safeParse(v).success;
    const spaces = [...new Set((Array.isArray(spaceIds) ? spaceIds : []).filter(isUuid))];
    if (!isUuid(userId) || !spaces.length) return [];
    return (await this.repo.activityIn(userId, spaces)).map((r) => ({
      channelId: r.id,
      spaceId: r.space_id,
      name: r.name,
      lastReadAt: r.last_read_at ? new Date(r.last_read_at).toISOString() : null,
      messagesSent: r.sent,
      lastSentAt: r.last_sent_at ? new Date(r.last_sent_at).toISOString() : null,
    }));
  }

  // Sending --------------------------------------------------------------------------------------------------------

  /**
   * Who a text mentions, as stored: people by handle who may read the channel (members who can read the space, or
   * the DM's or group's members; others are not told), and @everyone /
   * @here when the author may use them (moderators in a space; anyone in a DM or group). The text stays either way.
   * @here reaches who is online or idle now and may read the channel (`hereIds`, the author left out); an edit of a
   * message that already had it (`previous`) keeps whom it reached.
   */
  private async mentionsIn(identity: Identity, channel: ChannelRow, body: string, previous?: MessageRow) {
    const parsed = parseMentions(body);
    let ids = await this.repo.userIdsByHandles(parsed.handles);
    if (ids.length) {
      if (isSpace(channel)) {
        const readable = await Promise.all(
          ids.map(async (id) => {
            const a = await this.deps.apis.community.spaceAccess({ userId: id, communityId: channel.community_id, spaceId: channel.space_id });
            return a !== null && a.readable && a.member;
          }),
        );
        ids = ids.filter((_, i) => readable[i]);
      } else {
        const members = new Set(await this.repo.memberIds(channel.id));
        ids = ids.filter((id) => members.has(id));
      }
    }
    const mass = (parsed.everyone || parsed.here) && (!isSpace(channel) || (await this.can(identity, 'moderate_content', channel)));
    const here = mass && parsed.here;
    const hereIds = !here ? [] : previous?.mentions_here ? previous.here_ids : await this.presentReaders(channel, identity.userId!);
    return { ids, everyone: mass && parsed.everyone, here, hereIds };
  }

  /** Who is online or idle right now and may read the channel, other than `authorId`. */
  private async presentReaders(channel: ChannelRow, authorId: string): Promise<string[]> {
    const present = (await this.deps.presence.present()).filter((id) => id !== authorId);
    if (!present.length) return [];
    if (!isSpace(channel)) {
      const members = new Set(await this.repo.memberIds(channel.id));
      return present.filter((id) => members.has(id));
    }
    const out: string[] = [];
    // In slices, so an instance with many people online asks in bounded calls.
    for (let i = 0; i < present.length; i += HERE_SLICE) {
      out.push(...(await this.deps.apis.community.readersAmong({ communityId: channel.community_id!, spaceId: channel.space_id!, userIds: present.slice(i, i + HERE_SLICE) })));
    }
    return out;
  }

  /** What media files a message's attachments are filed under: deleting a community or circle takes them along. */
  private usedBy(channel: ChannelRow, access: ChannelAccess, messageId: string) {
    if (!isSpace(channel)) return `dm:${channel.id}:msg:${messageId}`;
    return `community:${channel.community_id}:${access.kind === 'circle' ? 'circle' : 'space'}:${channel.space_id}:chat:${channel.id}:msg:${messageId}`;
  }

  private async releaseFiles(fileIds: string[]) {
    if (!fileIds.length) return;
    // The records are gone with the message; bytes left behind by a failed call are only storage, never readable
    // (nobody can sign a link to them any more).
    await this.deps.apis.media.releaseFiles({ fileIds }).catch((err: unknown) => this.deps.log.warn('chat: releasing files failed', { err, fileIds }));
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
    if (!(await this.canSend(identity, channel))) throw chatErrors.cannotSend();
    if (!i.body && !i.attachmentIds.length) throw chatErrors.emptyMessage();
    if (i.replyToId) {
      const target = await this.repo.message(i.replyToId);
      if (!target || target.channel_id !== channel.id) throw badInput('That message is not in this channel.', 'replyToId');
    }
    const root = i.threadId ? await this.threadRoot(channel, i.threadId) : null;
    const limited = await this.memberLimit.consume(userId);
    if (!limited.allowed) throw chatErrors.rateLimited(Math.ceil(limited.retryAfterMs / 1000));
    const busy = await this.channelLimit.consume(channel.id);
    if (!busy.allowed) throw chatErrors.channelBusy(Math.ceil(busy.retryAfterMs / 1000));
    const exempt = !isSpace(channel) || channel.slow_mode_seconds === 0 || (await this.can(identity, 'moderate_content', channel));
    const mentions = await this.mentionsIn(identity, channel, i.body);
    const id = newId();

    let files: MediaFile[] = [];
    if (i.attachmentIds.length) {
      try {
        files = await this.deps.apis.media.claimFiles({ uploadIds: i.attachmentIds, userId, usedBy: this.usedBy(channel, access, id) });
      } catch (err) {
        // A resend racing the first attempt finds the files claimed by it: answer with the stored message.
        const stored = await this.repo.byClientId(channel.id, userId, i.clientId);
        if (stored) return { message: stored, duplicate: true };
        throw err;
      }
    }

    let result: { message: MessageRow; duplicate: boolean; root: MessageRow | null; attachments: AttachmentRow[] };
    const now = new Date();
    const row: Omit<MessageRow, 'seq'> = {
      id,
      channel_id: channel.id,
      author_id: userId,
      client_id: i.clientId,
      body: i.body,
      reply_to_id: i.replyToId,
      thread_id: root?.id ?? null,
      reply_count: 0,
      last_reply_at: null,
      mention_ids: mentions.ids,
      mentions_everyone: mentions.everyone,
      mentions_here: mentions.here,
      here_ids: mentions.hereIds,
      pinned_at: null,
      pinned_by: null,
      created_at: now,
      edited_at: null,
      deleted_at: null,
    };
    // The event's payload; the statement that takes the number adds it as `seq`.
    const event = this.deps.outbox.row(chatTopics.messageCreated, {
      messageId: id,
      channelId: channel.id,
      channelKind: channel.kind,
      communityId: channel.community_id,
      spaceId: channel.space_id,
      authorId: userId,
      replyToId: i.replyToId,
      threadId: root?.id ?? null,
      text: i.body,
      mentionIds: mentions.ids,
      everyone: mentions.everyone,
      here: mentions.here,
      hereIds: mentions.hereIds,
      attachmentCount: files.length,
      createdAt: now.toISOString(),
    });
    // What you sent yourself is read (a thread reply leaves the main timeline's position alone).
    const markRead = !root;
    try {
      if (exempt && !root && !files.length) {
        // The common case is one statement on its own: number, message, read position and event commit together,
        // and the channel's row lock lasts only while the database runs it — no client round trip holds it.
        const message = await this.repo.appendMessage(this.repo.db, row, markRead, event);
        result = { message, duplicate: false, root: null, attachments: [] };
      } else result = await this.repo.transaction(async (trx) => {
        if (!exempt) {
          // Slow mode needs the sender's previous message and the channel's setting under the lock.
          const locked = await this.repo.lockChannel(trx, channel.id);
          if (!locked) throw chatErrors.channelNotFound();
          const last = await this.repo.lastSentAt(trx, channel.id, userId);
          const wait = last ? Math.ceil((last.getTime() + locked.slow_mode_seconds * 1000 - Date.now()) / 1000) : 0;
          if (wait > 0) throw chatErrors.slowMode(wait);
        }
        const message = await this.repo.appendMessage(trx, row, markRead, event);
        const attachments: AttachmentRow[] = files.map((f, position) => ({
          id: f.id,
          message_id: id,
          channel_id: channel.id,
          uploader_id: userId,
          position,
          name: f.name,
          content_type: f.contentType,
          kind: f.kind,
          bytes: f.bytes,
          width: f.width,
          height: f.height,
          has_thumb: f.hasThumb,
          created_at: now,
        }));
        await this.repo.insertAttachments(
          trx,
          attachments.map(({ created_at: _, ...a }) => a),
        );
        let updatedRoot: MessageRow | null = null;
        if (root) {
          updatedRoot = await this.repo.bumpThread(trx, root.id, 1, now);
          // You follow a thread you reply in (again, even after unfollowing); its starter follows unless they said no.
          await this.repo.setFollow(trx, root.id, userId, true);
          await this.repo.setFollow(trx, root.id, root.author_id, true, true);
        }
        return { message, duplicate: false, root: updatedRoot, attachments };
      });
    } catch (err) {
      await this.releaseFiles(files.map((f) => f.id));
      // A resend racing the first attempt: the unique (channel, author, clientId) index let one through.
      if (isUniqueViolation(err)) {
        const stored = await this.repo.byClientId(channel.id, userId, i.clientId);
        if (stored) return { message: stored, duplicate: true };
      }
      throw err;
    }
    if (result.duplicate) {
      // The files were claimed under an id that was never stored.
      await this.releaseFiles(files.map((f) => f.id));
      return { message: result.message, duplicate: true };
    }
    this.deps.outbox.nudge();
    const { message } = result;
    const seq = Number(message.seq);
    this.live.channel(channel.id, { t: 'msg', channelId: channel.id, message: wireMessage(message, result.attachments, this.sign) });
    if (result.root) this.publishThread(result.root);
    else this.live.user(userId, { t: 'read', channelId: channel.id, seq });
    for (const mentioned of new Set([...mentions.ids, ...mentions.hereIds])) if (mentioned !== userId) this.live.user(mentioned, { t: 'mention', channelId: channel.id, messageId: message.id, seq });
    return { message, duplicate: false };
  }

  private publishThread(root: MessageRow) {
    this.live.channel(root.channel_id, { t: 'thread', channelId: root.channel_id, rootId: root.id, replyCount: root.reply_count, lastReplyAt: root.last_reply_at?.toISOString() ?? null });
  }

  /** The message and its channel, when the viewer (signed in) may read it; otherwise NOT_FOUND. */
  private async readableMessage(identity: Identity, messageId: string) {
    this.requireUser(identity);
    const message = await this.repo.message(parseInput(uuid, messageId));
    if (!message) throw chatErrors.messageNotFound();
    const { channel, access } = await this.channelFor(identity, message.channel_id).catch((err: unknown) => {
      throw isNotFound(err) ? chatErrors.messageNotFound() : err;
    });
    if (!access.readable) throw chatErrors.messageNotFound();
    return { message, channel, access };
  }

  async edit(identity: Identity, messageId: string, body: string): Promise<MessageRow> {
    const { message, channel } = await this.readableMessage(identity, messageId);
    const text = parseInput(editBody, body);
    if (message.author_id !== identity.userId) throw chatErrors.notAuthor();
    if (message.deleted_at) throw chatErrors.deleted();
    if (!(await this.canSend(identity, channel))) throw chatErrors.cannotSend();
    if (text === message.body) return message;
    const attachments = (await this.repo.attachmentsOf([message.id])).get(message.id) ?? [];
    if (!text && !attachments.length) throw chatErrors.emptyMessage();
    const mentions = await this.mentionsIn(identity, channel, text, message);
    // An edit that adds @here reaches who is present now (one that keeps it keeps whom it reached: `mentionsIn`);
    // nobody already told is told twice.
    const newMentions = [...new Set([...mentions.ids, ...mentions.hereIds])].filter(
      (id) => !message.mention_ids.includes(id) && !(message.mentions_here && message.here_ids.includes(id)),
    );
    const updated = await this.repo.transaction(async (trx) => {
      const updated = await this.repo.updateMessage(trx, message.id, {
        body: text,
        edited_at: new Date(),
        mention_ids: mentions.ids,
        mentions_everyone: mentions.everyone,
        mentions_here: mentions.here,
        here_ids: mentions.hereIds,
      });
      await this.deps.outbox.write(trx as Kysely<any>, chatTopics.messageEdited, {
        messageId: message.id,
        channelId: channel.id,
        channelKind: channel.kind,
        communityId: channel.community_id,
        spaceId: channel.space_id,
        seq: Number(message.seq),
        authorId: message.author_id,
        threadId: message.thread_id,
        text,
        mentionIds: mentions.ids,
        newMentionIds: newMentions,
        everyone: mentions.everyone,
        here: mentions.here,
        hereIds: mentions.hereIds,
      });
      return updated;
    });
    this.deps.outbox.nudge();
    this.live.channel(channel.id, { t: 'edit', channelId: channel.id, message: wireMessage(updated, attachments, this.sign) });
    for (const mentioned of newMentions) if (mentioned !== message.author_id) this.live.user(mentioned, { t: 'mention', channelId: channel.id, messageId: message.id, seq: Number(message.seq) });
    return updated;
  }

  /** The author, or a moderator in a space. The number stays; text, mentions, reactions, pin and files go. */
  async delete(identity: Identity, messageId: string): Promise<MessageRow> {
    const { message, channel } = await this.readableMessage(identity, messageId);
    if (message.deleted_at) return message;
    if (message.author_id !== identity.userId && !(isSpace(channel) && (await this.can(identity, 'moderate_content', channel)))) throw chatErrors.notAllowed();
    const { updated, root, fileIds } = await this.repo.transaction(async (trx) => {
      // The row stays so sequence numbers keep no gaps and replies keep their anchor.
      const updated = await this.repo.updateMessage(trx, message.id, {
        body: '',
        deleted_at: new Date(),
        mention_ids: [],
        mentions_everyone: false,
        mentions_here: false,
        here_ids: [],
        pinned_at: null,
        pinned_by: null,
      });
      await this.repo.deleteReactions(trx, message.id);
      const fileIds = await this.repo.deleteAttachments(trx, message.id);
      const root = message.thread_id ? await this.repo.bumpThread(trx, message.thread_id, -1, null) : null;
      await this.deps.outbox.write(trx as Kysely<any>, chatTopics.messageDeleted, {
        messageId: message.id,
        channelId: channel.id,
        channelKind: channel.kind,
        communityId: channel.community_id,
        spaceId: channel.space_id,
        seq: Number(message.seq),
        authorId: message.author_id,
        threadId: message.thread_id,
        deletedBy: identity.userId,
      });
      return { updated, root, fileIds };
    });
    this.deps.outbox.nudge();
    await this.releaseFiles(fileIds);
    this.live.channel(channel.id, { t: 'del', channelId: channel.id, id: message.id, seq: Number(message.seq) });
    if (message.pinned_at) this.live.channel(channel.id, { t: 'pin', channelId: channel.id, messageId: message.id, pinned: false, by: identity.userId });
    if (root) this.publishThread(root);
    return updated;
  }

  /** Marks the channel read up to a message (at most the newest); the position only moves forward. */
  async markRead(identity: Identity, channelId: string, seq: number): Promise<ChannelRow> {
    const userId = this.requireUser(identity);
    const { channel } = await this.readable(identity, channelId);
    if (!Number.isSafeInteger(seq) || seq < 0) throw badInput('That is not a message position.', 'seq');
    const upTo = Math.min(seq, Number(channel.last_seq));
    await this.repo.markRead(this.repo.db, userId, channel.id, upTo);
    this.live.user(userId, { t: 'read', channelId: channel.id, seq: upTo });
    return channel;
  }

  // Threads, reactions, pins ---------------------------------------------------------------------------------------

  async setFollow(identity: Identity, messageId: string, following: boolean): Promise<MessageRow> {
    const { message } = await this.readableMessage(identity, messageId);
    if (message.thread_id) throw chatErrors.notThreadRoot();
    await this.repo.setFollow(this.repo.db, message.id, identity.userId!, following);
    return message;
  }

  async setReaction(identity: Identity, messageId: string, emoji: string, reacted: boolean): Promise<MessageRow> {
    const userId = this.requireUser(identity);
    const e = typeof emoji === 'string' ? emoji.trim() : '';
    if (!isEmoji(e)) throw chatErrors.badEmoji();
    const { message, channel } = await this.readableMessage(identity, messageId);
    if (!(await this.canSend(identity, channel))) throw chatErrors.cannotSend();
    if (message.deleted_at) throw chatErrors.deleted();
    const count = await this.repo.transaction(async (trx) => {
      let changed: boolean;
      if (reacted) {
        const used = await this.repo.distinctEmoji(trx, message.id);
        if (!used.includes(e) && used.length >= MAX_DISTINCT_EMOJI) throw chatErrors.tooManyEmoji(MAX_DISTINCT_EMOJI);
        changed = await this.repo.addReaction(trx, message.id, userId, e);
      } else {
        changed = await this.repo.removeReaction(trx, message.id, userId, e);
      }
      if (!changed) return null;
      await this.deps.outbox.write(trx as Kysely<any>, reacted ? chatTopics.reactionAdded : chatTopics.reactionRemoved, {
        messageId: message.id,
        channelId: channel.id,
        channelKind: channel.kind,
        communityId: channel.community_id,
        spaceId: channel.space_id,
        targetAuthorId: message.author_id,
        userId,
        emoji: e,
      });
      return this.repo.reactionCount(trx, message.id, e);
    });
    if (count !== null) {
      this.deps.outbox.nudge();
      this.live.channel(channel.id, { t: 'react', channelId: channel.id, messageId: message.id, emoji: e, userId, added: reacted, count });
    }
    return message;
  }

  async setPinned(identity: Identity, messageId: string, pinned: boolean): Promise<MessageRow> {
    const userId = this.requireUser(identity);
    const { message, channel } = await this.readableMessage(identity, messageId);
    if (!(await this.canPin(identity, channel))) throw chatErrors.notModerator();
    if (message.deleted_at) throw chatErrors.deleted();
    if ((message.pinned_at !== null) === pinned) return message;
    const updated = await this.repo.transaction(async (trx) => {
      // Under the channel lock, so the pin limit holds when two people pin at once.
      if (!(await this.repo.lockChannel(trx, channel.id))) throw chatErrors.channelNotFound();
      const current = (await this.repo.message(message.id, trx))!;
      if ((current.pinned_at !== null) === pinned) return null;
      if (pinned && (await this.repo.pinCount(trx, channel.id)) >= MAX_PINS) throw chatErrors.tooManyPins(MAX_PINS);
      const updated = await this.repo.updateMessage(trx, message.id, pinned ? { pinned_at: new Date(), pinned_by: userId } : { pinned_at: null, pinned_by: null });
      await this.deps.outbox.write(trx as Kysely<any>, pinned ? chatTopics.messagePinned : chatTopics.messageUnpinned, {
        messageId: message.id,
        channelId: channel.id,
        channelKind: channel.kind,
        communityId: channel.community_id,
        spaceId: channel.space_id,
        authorId: message.author_id,
        by: userId,
      });
      return updated;
    });
    if (!updated) return (await this.repo.message(message.id))!;
    this.deps.outbox.nudge();
    this.live.channel(channel.id, { t: 'pin', channelId: channel.id, messageId: message.id, pinned, by: userId });
    return updated;
  }

  private readonly sign = (fileId: string, variant: FileVariant) => this.fileUrl(fileId, variant);

  /** A signed link to an attachment's stored form, valid about 15 minutes. */
  fileUrl(fileId: string, variant: FileVariant): string {
    return this.deps.urls.sign(fileUrlPath(fileId, variant), signedUrlExpiry(FILE_URL_TTL_MS));
  }

  // Events from other services -------------------------------------------------------------------------------------

  async applyProfile(trx: ChatDb, p: { userId: string; handle: string; version?: number }) {
    await this.repo.upsertProfile(trx, p.userId, p.handle, p.version ?? 0);
  }

  /** A deleted community or circle takes its channels and their history along (media drops their files). */
  async dropSpace(trx: ChatDb, where: { communityId: string; spaceId?: string }) {
    let q = trx.deleteFrom('chat.channels').where('community_id', '=', where.communityId);
    if (where.spaceId) q = q.where('space_id', '=', where.spaceId);
    await q.execute();
  }
}

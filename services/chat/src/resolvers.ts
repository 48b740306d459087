import { batcher, type RequestContext, type Resolvers } from '@circles/platform';
import type { AttachmentRow, ChannelRow, MessageRow, ReactionSummary } from './repo.ts';
import type { ChatService } from './service.ts';

const UNREAD_CAP = 1000;

type ReadState = { readSeq: number; unread: number; mentions: number };

/** Per-request loads, each batched into one query for a whole page (channels of a list, messages of a page). */
interface Loads {
  readState: (channelId: string) => Promise<ReadState>;
  members: (channelId: string) => Promise<string[]>;
  reactions: (messageId: string) => Promise<ReactionSummary[]>;
  attachments: (messageId: string) => Promise<AttachmentRow[]>;
  follows: (rootId: string) => Promise<boolean>;
}

export function createChatResolvers(svc: ChatService): Resolvers {
  const perRequest = new WeakMap<RequestContext, Loads>();
  const loads = (ctx: RequestContext): Loads => {
    let l = perRequest.get(ctx);
    if (l) return l;
    const userId = ctx.identity.userId;
    l = {
      readState: userId ? batcher((ids: string[]) => svc.repo.readState(userId, ids, UNREAD_CAP), { readSeq: 0, unread: 0, mentions: 0 }) : async () => ({ readSeq: 0, unread: 0, mentions: 0 }),
      members: batcher((ids: string[]) => svc.repo.membersOf(ids), [] as string[]),
      reactions: batcher((ids: string[]) => svc.repo.reactionSummaries(ids, userId), [] as ReactionSummary[]),
      attachments: batcher((ids: string[]) => svc.repo.attachmentsOf(ids), [] as AttachmentRow[]),
      follows: userId ? batcher((ids: string[]) => svc.repo.followsOf(ids, userId), false) : async () => false,
    };
    perRequest.set(ctx, l);
    return l;
  };
  const upper = (s: string) => s.toUpperCase();

  return {
    Query: {
      channels: (_, { communityId, spaceId }, ctx) => svc.channels(ctx.identity, communityId, spaceId),
      channel: (_, { id }, ctx) => svc.channel(ctx.identity, id),
      directChannels: (_, args, ctx) => svc.directChannels(ctx.identity, args),
      messages: (_, args, ctx) => svc.messages(ctx.identity, args.channelId, args),
      message: (_, { id }, ctx) => svc.message(ctx.identity, id),
      threads: (_, args, ctx) => svc.threads(ctx.identity, args.channelId, args),
      pinnedMessages: (_, { channelId }, ctx) => svc.pinnedMessages(ctx.identity, channelId),
    },
    Mutation: {
      createChannel: (_, { input }, ctx) => svc.createChannel(ctx.identity, input),
      updateChannel: (_, { id, input }, ctx) => svc.updateChannel(ctx.identity, id, input),
      reorderChannels: (_, { spaceId, channelIds }, ctx) => svc.reorderChannels(ctx.identity, spaceId, channelIds),
      deleteChannel: (_, { id, confirmName }, ctx) => svc.deleteChannel(ctx.identity, id, confirmName),
      openDirectChannel: (_, { userIds, name }, ctx) => svc.openDirectChannel(ctx.identity, userIds, name),
      addChannelMembers: (_, { channelId, userIds }, ctx) => svc.addChannelMembers(ctx.identity, channelId, userIds),
      leaveChannel: (_, { channelId }, ctx) => svc.leaveChannel(ctx.identity, channelId),
      sendMessage: (_, { input }, ctx) => svc.send(ctx.identity, input),
      markChannelRead: (_, { channelId, seq }, ctx) => svc.markRead(ctx.identity, channelId, seq),
      editMessage: (_, { id, body }, ctx) => svc.edit(ctx.identity, id, body),
      deleteMessage: (_, { id }, ctx) => svc.delete(ctx.identity, id),
      followThread: (_, { messageId }, ctx) => svc.setFollow(ctx.identity, messageId, true),
      unfollowThread: (_, { messageId }, ctx) => svc.setFollow(ctx.identity, messageId, false),
      reactToMessage: (_, { messageId, emoji }, ctx) => svc.setReaction(ctx.identity, messageId, emoji, true),
      unreactToMessage: (_, { messageId, emoji }, ctx) => svc.setReaction(ctx.identity, messageId, emoji, false),
      pinMessage: (_, { id }, ctx) => svc.setPinned(ctx.identity, id, true),
      unpinMessage: (_, { id }, ctx) => svc.setPinned(ctx.identity, id, false),
    },
    Channel: {
      kind: (c: ChannelRow) => upper(c.kind),
      communityId: (c: ChannelRow) => c.community_id,
      spaceId: (c: ChannelRow) => c.space_id,
      slowModeSeconds: (c: ChannelRow) => c.slow_mode_seconds,
      lastSeq: (c: ChannelRow) => Number(c.last_seq),
      lastActivityAt: (c: ChannelRow) => c.last_activity_at,
      createdAt: (c: ChannelRow) => c.created_at,
      members: async (c: ChannelRow, _: unknown, ctx: RequestContext) => (c.kind === 'space' ? [] : (await loads(ctx).members(c.id)).map((id) => ({ id }))),
      viewerReadSeq: async (c: ChannelRow, _: unknown, ctx: RequestContext) => (await loads(ctx).readState(c.id)).readSeq,
      unreadCount: async (c: ChannelRow, _: unknown, ctx: RequestContext) => (await loads(ctx).readState(c.id)).unread,
      mentionCount: async (c: ChannelRow, _: unknown, ctx: RequestContext) => (await loads(ctx).readState(c.id)).mentions,
      viewerCanSend: (c: ChannelRow, _: unknown, ctx: RequestContext) => svc.canSend(ctx.identity, c),
      viewerCanManage: (c: ChannelRow, _: unknown, ctx: RequestContext) => c.kind === 'space' && svc.can(ctx.identity, 'manage_community', c, true),
      viewerCanPin: (c: ChannelRow, _: unknown, ctx: RequestContext) => svc.canPin(ctx.identity, c),
      viewerCanAddMembers: async (c: ChannelRow, _: unknown, ctx: RequestContext) =>
        c.kind === 'group' && ctx.identity.userId !== null && (await loads(ctx).members(c.id)).includes(ctx.identity.userId),
    },
    Message: {
      channelId: (m: MessageRow) => m.channel_id,
      seq: (m: MessageRow) => Number(m.seq),
      author: (m: MessageRow) => (m.deleted_at ? null : { id: m.author_id }),
      clientId: (m: MessageRow) => m.client_id,
      body: (m: MessageRow) => (m.deleted_at ? null : m.body),
      replyToId: (m: MessageRow) => m.reply_to_id,
      threadId: (m: MessageRow) => m.thread_id,
      replyCount: (m: MessageRow) => m.reply_count,
      lastReplyAt: (m: MessageRow) => m.last_reply_at,
      viewerFollowsThread: (m: MessageRow, _: unknown, ctx: RequestContext) => (m.thread_id ? false : loads(ctx).follows(m.id)),
      reactions: (m: MessageRow, _: unknown, ctx: RequestContext) => (m.deleted_at ? [] : loads(ctx).reactions(m.id)),
      mentions: (m: MessageRow, _: unknown, ctx: RequestContext) => {
        const viewer = ctx.identity.userId;
        return {
          users: m.mention_ids.map((id) => ({ id })),
          everyone: m.mentions_everyone,
          here: m.mentions_here,
          viewer: viewer !== null && m.author_id !== viewer && (m.mentions_everyone || m.mention_ids.includes(viewer) || (m.mentions_here && m.here_ids.includes(viewer))),
        };
      },
      attachments: async (m: MessageRow, _: unknown, ctx: RequestContext) =>
        m.deleted_at
          ? []
          : (await loads(ctx).attachments(m.id)).map((a) => ({
              id: a.id,
              name: a.name,
              contentType: a.content_type,
              kind: upper(a.kind),
              bytes: Number(a.bytes),
              width: a.width,
              height: a.height,
              url: svc.fileUrl(a.id, a.kind === 'image' ? 'main' : 'original'),
              thumbUrl: a.has_thumb ? svc.fileUrl(a.id, 'thumb') : null,
            })),
      pinned: (m: MessageRow) => m.pinned_at !== null,
      pinnedAt: (m: MessageRow) => m.pinned_at,
      pinnedBy: (m: MessageRow) => (m.pinned_by ? { id: m.pinned_by } : null),
      createdAt: (m: MessageRow) => m.created_at,
      editedAt: (m: MessageRow) => m.edited_at,
      deleted: (m: MessageRow) => m.deleted_at !== null,
    },
  } as Resolvers;
}

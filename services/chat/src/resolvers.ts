import { batcher, type RequestContext, type Resolvers } from '@circles/platform';
import type { ChannelRow, MessageRow } from './repo.ts';
import type { ChatService } from './service.ts';

const UNREAD_CAP = 1000;

export function createChatResolvers(svc: ChatService): Resolvers {
  // One query for the read state of every channel in a list, per request.
  const readStates = new WeakMap<RequestContext, (channelId: string) => Promise<{ readSeq: number; unread: number }>>();
  const readState = (ctx: RequestContext, channelId: string) => {
    const userId = ctx.identity.userId;
    if (!userId) return Promise.resolve({ readSeq: 0, unread: 0 });
    let load = readStates.get(ctx);
    if (!load) readStates.set(ctx, (load = batcher((ids: string[]) => svc.repo.readState(userId, ids, UNREAD_CAP), { readSeq: 0, unread: 0 })));
    return load(channelId);
  };
  const toMessage = (m: MessageRow) => ({
    id: m.id,
    channelId: m.channel_id,
    seq: Number(m.seq),
    author: m.deleted_at ? null : { id: m.author_id },
    clientId: m.client_id,
    body: m.deleted_at ? null : m.body,
    replyToId: m.reply_to_id,
    createdAt: m.created_at,
    editedAt: m.edited_at,
    deleted: m.deleted_at !== null,
  });
  return {
    Query: {
      channels: (_, { communityId, spaceId }, ctx) => svc.channels(ctx.identity, communityId, spaceId),
      messages: async (_, args, ctx) => {
        const page = await svc.messages(ctx.identity, args.channelId, args);
        return { ...page, messages: page.messages.map(toMessage) };
      },
    },
    Mutation: {
      createChannel: (_, { input }, ctx) => svc.createChannel(ctx.identity, input),
      updateChannel: (_, { id, input }, ctx) => svc.updateChannel(ctx.identity, id, input),
      reorderChannels: (_, { spaceId, channelIds }, ctx) => svc.reorderChannels(ctx.identity, spaceId, channelIds),
      deleteChannel: (_, { id, confirmName }, ctx) => svc.deleteChannel(ctx.identity, id, confirmName),
      sendMessage: async (_, { input }, ctx) => {
        const r = await svc.send(ctx.identity, input);
        return { message: toMessage(r.message), duplicate: r.duplicate };
      },
      markChannelRead: (_, { channelId, seq }, ctx) => svc.markRead(ctx.identity, channelId, seq),
      editMessage: async (_, { id, body }, ctx) => toMessage(await svc.edit(ctx.identity, id, body)),
      deleteMessage: async (_, { id }, ctx) => toMessage(await svc.delete(ctx.identity, id)),
    },
    Channel: {
      communityId: (c: ChannelRow) => c.community_id,
      spaceId: (c: ChannelRow) => c.space_id,
      slowModeSeconds: (c: ChannelRow) => c.slow_mode_seconds,
      lastSeq: (c: ChannelRow) => Number(c.last_seq),
      createdAt: (c: ChannelRow) => c.created_at,
      viewerReadSeq: async (c: ChannelRow, _: unknown, ctx: RequestContext) => (await readState(ctx, c.id)).readSeq,
      unreadCount: async (c: ChannelRow, _: unknown, ctx: RequestContext) => (await readState(ctx, c.id)).unread,
      viewerCanSend: (c: ChannelRow, _: unknown, ctx: RequestContext) => svc.can(ctx.identity, 'chat', c),
      viewerCanManage: (c: ChannelRow, _: unknown, ctx: RequestContext) => svc.can(ctx.identity, 'manage_community', c, true),
    },
  } as Resolvers;
}

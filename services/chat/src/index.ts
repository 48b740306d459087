import { readFileSync } from 'node:fs';
import { type ChatApi, defineService } from '@circles/platform';
import { parse } from 'graphql';
import { migrations } from '../migrations/index.ts';
import type { ChatDb } from './repo.ts';
import { createChatResolvers } from './resolvers.ts';
import { ChatHub } from './realtime/hub.ts';
import { ChatService } from './service.ts';

export const typeDefs = parse(readFileSync(new URL('./schema.graphql', import.meta.url), 'utf8'));

/**
 * Chat: channels in a community's spaces, DMs and groups, threads, reactions, mentions, files and pins, with durable
 * messages — committed before they are acknowledged, idempotent per sender message id, numbered per channel without
 * gaps so a client fetches exactly what it missed — and a WebSocket hub for live delivery, typing and presence.
 * Reading and sending rights come from Community.
 */
export const chatService = defineService({
  name: 'chat',
  typeDefs,
  migrations,
  create(deps) {
    const service = new ChatService(deps);
    const { config } = deps;
    const hub = new ChatHub(service, { pubsub: deps.pubsub, presence: deps.presence, sessions: deps.sessions, log: deps.log }, {
      heartbeatMs: config.chatHeartbeatMs,
      maxBufferedBytes: config.chatMaxBufferedBytes,
      presenceRefreshMs: config.chatPresenceRefreshMs,
      presenceTtlMs: config.chatPresenceTtlMs,
      // Logging out closes the socket within this bound (a session lookup per open socket per interval).
      sessionCheckMs: Math.min(60_000, config.chatHeartbeatMs * 2),
      flushMs: config.chatFlushMs,
    });
    return {
      resolvers: createChatResolvers(service),
      api: {
        activityIn: ({ userId, spaceIds }: { userId: string; spaceIds: string[] }) => service.activityIn(userId, spaceIds),
      } satisfies ChatApi,
      // The WebSocket (docs/chat-protocol.md): the gateway checked Origin and session; this node's hub takes it.
      upgrade: (req, socket, head, identity) => hub.upgrade(req, socket, head, identity),
      stop: () => hub.stop(),
      eventHandlers: {
        // @mentions are resolved against auth's public handles, kept here as a projection.
        'auth.user.registered': (event, trx) => service.applyProfile(trx as ChatDb, event.payload as { userId: string; handle: string; version?: number }),
        'auth.user.profile_changed': (event, trx) => service.applyProfile(trx as ChatDb, event.payload as { userId: string; handle: string; version: number }),
        'community.deleted': (event, trx) => service.dropSpace(trx as ChatDb, { communityId: (event.payload as { communityId: string }).communityId }),
        'community.circle_deleted': (event, trx) => {
          const { communityId, circleId } = event.payload as { communityId: string; circleId: string };
          return service.dropSpace(trx as ChatDb, { communityId, spaceId: circleId });
        },
      },
    };
  },
});

export { ChatService, chatTopics } from './service.ts';
export default chatService;

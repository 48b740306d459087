import { readFileSync } from 'node:fs';
import { defineService } from '@circles/platform';
import { parse } from 'graphql';
import { migrations } from '../migrations/index.ts';
import type { ChatDb } from './repo.ts';
import { createChatResolvers } from './resolvers.ts';
import { ChatService } from './service.ts';

export const typeDefs = parse(readFileSync(new URL('./schema.graphql', import.meta.url), 'utf8'));

/**
 * Chat (issue "Real-time chat and presence"), being built. Landed so far: channels in a community's spaces and
 * durable messages — committed before they are acknowledged, idempotent per sender message id, numbered per channel
 * without gaps so a client fetches exactly what it missed. Reading and sending rights come from Community.
 */
export const chatService = defineService({
  name: 'chat',
  typeDefs,
  migrations,
  create(deps) {
    const service = new ChatService(deps);
    return {
      resolvers: createChatResolvers(service),
      eventHandlers: {
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

import { readFileSync } from 'node:fs';
import { type CommunityApi, defineService } from '@circles/platform';
import { parse } from 'graphql';
import { migrations } from '../migrations/index.ts';
import type { CommunityDb } from './repo.ts';
import { createCommunityResolvers } from './resolvers.ts';
import { CommunityService, type EntitlementsChanged, type ModerationEvent } from './service.ts';

export const typeDefs = parse(readFileSync(new URL('./schema.graphql', import.meta.url), 'utf8'));

export const communityService = defineService({
  name: 'community',
  typeDefs,
  migrations,
  create(deps) {
    const service = new CommunityService(deps);
    return {
      resolvers: createCommunityResolvers(service),
      api: {
        can: ({ userId, permission, communityId, spaceId }: { userId: string; permission: string; communityId: string; spaceId?: string }) =>
          service.can(userId, permission, communityId, spaceId),
        spaceAccess: ({ userId, communityId, spaceId }: { userId: string | null; communityId: string; spaceId: string }) => service.spaceAccess(userId, communityId, spaceId),
        readableSpaces: ({ userId, communityId }: { userId: string | null; communityId: string }) => service.readableSpaces(userId, communityId),
        sharesCommunity: ({ userId, otherUserIds }: { userId: string; otherUserIds: string[] }) => service.sharesCommunity(userId, otherUserIds),
        readersAmong: ({ communityId, spaceId, userIds }: { communityId: string; spaceId: string; userIds: string[] }) => service.readersAmong(communityId, spaceId, userIds),
        describeCommunity: ({ communityId }: { communityId: string }) => service.describe(communityId),
      } satisfies CommunityApi,
      eventHandlers: {
        // The member directory searches names from auth's public profiles, kept here as a projection.
        // Moderation in the posts service is recorded in this community's audit chain.
        'posts.post_removed': (event, trx) => service.auditModeration(trx as CommunityDb, 'post.remove', event.payload as ModerationEvent),
        'posts.post_restored': (event, trx) => service.auditModeration(trx as CommunityDb, 'post.restore', event.payload as ModerationEvent),
        'posts.comment_removed': (event, trx) => service.auditModeration(trx as CommunityDb, 'comment.remove', event.payload as ModerationEvent),
        // Paid access: what payments says a subscription or purchase grants now.
        'payments.entitlements_changed': (event, trx) => service.applyEntitlements(trx as CommunityDb, event.payload as EntitlementsChanged),
        'auth.user.registered': (event, trx) => service.applyProfile(trx as CommunityDb, event.payload as { userId: string; handle: string; displayName: string; version?: number }),
        'auth.user.profile_changed': (event, trx) => service.applyProfile(trx as CommunityDb, event.payload as { userId: string; handle: string; displayName: string; version: number }),
      },
    };
  },
});

export { CommunityService } from './service.ts';
export { verifyChain } from './audit.ts';
export default communityService;

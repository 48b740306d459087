import { readFileSync } from 'node:fs';
import { defineService, type PostsApi } from '@circles/platform';
import { parse } from 'graphql';
import { migrations } from '../migrations/index.ts';
import type { PostsDb } from './repo.ts';
import { createPostsResolvers } from './resolvers.ts';
import { PostsService } from './service.ts';

export const typeDefs = parse(readFileSync(new URL('./schema.graphql', import.meta.url), 'utf8'));

/**
 * Posts, comments, reactions, polls, feeds and each space's file library. Reading rights come from Community
 * (`spaceAccess`, `readableSpaces`, `can`); attachment bytes live in Media, reached by signed short-lived URLs.
 */
export const postsService = defineService({
  name: 'posts',
  typeDefs,
  migrations,
  create(deps) {
    const service = new PostsService(deps);
    return {
      resolvers: createPostsResolvers(service),
      api: {
        openedBy: ({ userId, communityId, limit }: { userId: string; communityId: string; limit?: number }) => service.openedBy(userId, communityId, limit),
      } satisfies PostsApi,
      eventHandlers: {
        // @mentions are resolved against auth's public handles, kept here as a projection.
        'auth.user.registered': (event, trx) => service.applyProfile(trx as PostsDb, event.payload as { userId: string; handle: string; version?: number }),
        'auth.user.profile_changed': (event, trx) => service.applyProfile(trx as PostsDb, event.payload as { userId: string; handle: string; version: number }),
        'community.deleted': (event, trx) => service.dropSpaceContent(trx as PostsDb, { communityId: (event.payload as { communityId: string }).communityId }),
        'community.circle_deleted': (event, trx) => {
          const { communityId, circleId } = event.payload as { communityId: string; circleId: string };
          return service.dropSpaceContent(trx as PostsDb, { communityId, spaceId: circleId });
        },
      },
    };
  },
});

export { MAX_MARKDOWN_CHARS, renderMarkdown, type RenderedMarkdown } from './markdown.ts';
export { PostsService, postTopics } from './service.ts';
export default postsService;

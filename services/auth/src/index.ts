import { readFileSync } from 'node:fs';
import { type AuthApi, defineService } from '@circles/platform';
import { parse } from 'graphql';
import { migrations } from '../migrations/index.ts';
import { createAuthResolvers } from './resolvers.ts';
import { AuthService } from './service.ts';

export const typeDefs = parse(readFileSync(new URL('./schema.graphql', import.meta.url), 'utf8'));

export const authService = defineService({
  name: 'auth',
  typeDefs,
  migrations,
  create(deps) {
    const service = new AuthService(deps);
    return {
      resolvers: createAuthResolvers(service),
      api: {
        contactOf: ({ userId }: { userId: string }) => service.contactOf(userId),
        isInstanceAdmin: async ({ userId }: { userId: string }) => (await service.contactOf(userId)) !== null && (await service.isInstanceAdmin(userId)),
        signInsOf: ({ userId, limit }: { userId: string; limit?: number }) => service.signInHistory(userId, limit ?? 100),
      } satisfies AuthApi,
    };
  },
});

export { AuthService } from './service.ts';
export default authService;

import type { Cache } from './infra/cache.ts';

/**
 * Typed internal APIs services offer each other. A service never imports a sibling: it depends on these contracts,
 * and the host hands it a client — a direct call when the provider runs in the same process, an authenticated
 * HTTP call when it runs elsewhere. Types only here, plus the caching rules shared by provider and consumers.
 */
export interface CommunityApi {
  /**
   * May this user do this (a named permission such as "post") in this community right now — and, with spaceId,
   * in that space (a circle needs its membership too)?
   */
  can(input: { userId: string; permission: string; communityId: string; spaceId?: string }): Promise<boolean>;
}

export interface ServiceApis {
  community: CommunityApi;
}
export type ApiName = keyof ServiceApis;
export const apiNames: ApiName[] = ['community'];

const PERMISSION_TTL_MS = 60_000;
const permKey = (communityId: string, userId: string, permission?: string, spaceId?: string) =>
  `perm:${communityId}:${userId}:${permission === undefined ? '' : `${permission}:${spaceId ?? ''}`}`;

/**
 * Consumers ask through this cache. The provider calls `invalidateCommunityPermissions` in the same moment it commits
 * a membership, role, ban or timeout change, so the next answer is fresh; the TTL bounds anything missed.
 */
export function cachedCommunityApi(api: CommunityApi, cache: Cache): CommunityApi {
  return {
    async can(input) {
      const key = permKey(input.communityId, input.userId, input.permission, input.spaceId);
      const hit = await cache.get<boolean>(key);
      if (hit !== undefined) return hit;
      const answer = await api.can(input);
      await cache.set(key, answer, PERMISSION_TTL_MS);
      return answer;
    },
  };
}

export function invalidateCommunityPermissions(cache: Cache, communityId: string, userId?: string): Promise<void> {
  return cache.deletePrefix(userId ? permKey(communityId, userId) : `perm:${communityId}:`);
}

import type { Cache } from './infra/cache.ts';
import type { PubSub } from './infra/pubsub.ts';

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
  /**
   * May this user (null: an anonymous visitor or a crawler) read what is posted in this space? Null when the space
   * is not in that community or its existence is hidden from them (a hidden circle, a private community).
   */
  spaceAccess(input: { userId: string | null; communityId: string; spaceId: string }): Promise<SpaceAccess | null>;
  /**
   * Every space of the community this user (null: anonymous) may read, for feeds across spaces. Null when the
   * community does not exist or is hidden from them.
   */
  readableSpaces(input: { userId: string | null; communityId: string }): Promise<ReadableSpace[] | null>;
  /**
   * Which of otherUserIds share a community with userId: both current members, neither banned there. Decides who
   * may open a direct conversation with whom. Not cached: asked only when a conversation is opened or joined.
   */
  sharesCommunity(input: { userId: string; otherUserIds: string[] }): Promise<string[]>;
  /**
   * Which of userIds are members who may read this space (as `spaceAccess` would say: readable and a member). For
   * chat's @here, asked with the people present right now. Not cached: asked once per such message.
   */
  readersAmong(input: { communityId: string; spaceId: string; userIds: string[] }): Promise<string[]>;
  /**
   * A community's basics for services that act for its owner (payments): owner, address, visibility and every
   * circle with its access, hidden ones included. Null when it does not exist. Not cached.
   */
  describeCommunity(input: { communityId: string }): Promise<CommunityInfo | null>;
}

export interface CommunityInfo {
  id: string;
  slug: string;
  name: string;
  ownerId: string;
  visibility: 'listed' | 'unlisted' | 'private';
  archived: boolean;
  circles: { id: string; name: string; access: 'open' | 'approval' | 'invite' | 'paid'; hidden: boolean }[];
}

export interface ReadableSpace {
  id: string;
  kind: 'public_center' | 'circle';
  public: boolean;
}

export interface SpaceAccess {
  kind: 'public_center' | 'circle';
  readable: boolean;
  /** Anyone may read it, signed in or not (the Public Center of a listed or unlisted community). */
  public: boolean;
  /** The person is a current member of the community (not banned, not removed); false for anonymous visitors. */
  member: boolean;
}

/** What an image upload is for: decides its sizes and who may attach it. */
export type ImagePurpose = 'community_avatar' | 'community_banner' | 'circle_image';

export interface MediaImage {
  id: string;
  /** Path on the public origin, e.g. /media/images/<id>/main.webp */
  url: string;
  width: number;
  height: number;
}

export interface MediaApi {
  /**
   * Attaches an uploaded image to what uses it (`usedBy`, e.g. "community:<id>:avatar"). Refused (BAD_USER_INPUT,
   * field uploadId) unless this user uploaded it for this purpose and nothing else uses it.
   */
  claimImage(input: { uploadId: string; userId: string; purpose: ImagePurpose; usedBy: string }): Promise<MediaImage>;
  /** The image is no longer used: its record and bytes are deleted. Unknown ids are ignored. */
  releaseImage(input: { imageId: string }): Promise<boolean>;
  /**
   * Attaches uploaded files (POST /media/files) to what uses them (`usedBy`, e.g.
   * "community:<cid>:circle:<sid>:post:<pid>"), in order. Refused (BAD_USER_INPUT, field attachments) unless this
   * user uploaded every one and nothing else uses it. Re-claiming for the same usedBy is allowed (edits).
   */
  claimFiles(input: { uploadIds: string[]; userId: string; usedBy: string }): Promise<MediaFile[]>;
  /** The files are no longer used: records and bytes are deleted. Unknown ids are ignored. Returns how many went. */
  releaseFiles(input: { fileIds: string[] }): Promise<number>;
}

/** A generic file attached to something (a post's attachment): any type, checked from its bytes. */
export interface MediaFile {
  id: string;
  /** The uploader's file name, made safe: no path, no control characters, at most 200 characters. */
  name: string;
  /** The type the bytes really are (e.g. image/webp after re-encoding, application/pdf); never image/svg+xml. */
  contentType: string;
  kind: FileKind;
  bytes: number;
  /** Images only: the stored main size. */
  width: number | null;
  height: number | null;
  /** Images (and anything else with a preview) have a thumbnail variant. */
  hasThumb: boolean;
  ownerId: string;
}
export type FileKind = 'image' | 'video' | 'audio' | 'document' | 'archive' | 'text' | 'other';
/** The stored forms of a file: 'original' (download, as uploaded or re-encoded), 'main' and 'thumb' for images. */
export type FileVariant = 'original' | 'main' | 'thumb';

export interface PostsApi {
  /**
   * Circle posts this person opened in full in a community, newest first (at most `limit`, default 200): what a
   * creator shows a bank when a paying member disputes a charge. Only the person's own record; not cached.
   */
  openedBy(input: { userId: string; communityId: string; limit?: number }): Promise<OpenedPost[]>;
}

export interface OpenedPost {
  postId: string;
  spaceId: string;
  title: string;
  firstOpenedAt: string;
  lastOpenedAt: string;
  opens: number;
}

export interface ChatApi {
  /**
   * What this person did in the chat channels of these spaces: for each channel they read or wrote in, how far and
   * when they last read and how many messages they sent (a creator's dispute evidence for a paid circle). Only the
   * person's own record; not cached.
   */
  activityIn(input: { userId: string; spaceIds: string[] }): Promise<ChatActivity[]>;
}

export interface ChatActivity {
  channelId: string;
  spaceId: string;
  name: string;
  /** When they last moved their read position here (ISO 8601), or null if never. */
  lastReadAt: string | null;
  /** Messages they sent there that still stand. */
  messagesSent: number;
  lastSentAt: string | null;
}

export interface AuthApi {
  /**
   * How to reach a person by email, for services that must tell them something the app alone cannot (a creator
   * about a dispute on a payment). Never exposed to clients; null for an unknown id.
   */
  contactOf(input: { userId: string }): Promise<{ email: string; displayName: string; verified: boolean } | null>;
  /** Whether this person runs the instance (the first account): for instance-wide controls such as the test clock. */
  isInstanceAdmin(input: { userId: string }): Promise<boolean>;
  /**
   * A person's sign-ins, newest first (up to `limit`, 400 days back), kept after their sessions end: the login
   * history a creator's dispute evidence cites. Never exposed to other people.
   */
  signInsOf(input: { userId: string; limit?: number }): Promise<SignIn[]>;
}

/** One sign-in that opened a session. `at` is ISO 8601. */
export interface SignIn {
  id: string;
  method: 'sign_up' | 'password' | 'password_change';
  ip: string | null;
  userAgent: string | null;
  at: string;
}

export interface ServiceApis {
  auth: AuthApi;
  community: CommunityApi;
  media: MediaApi;
  posts: PostsApi;
  chat: ChatApi;
}
export type ApiName = keyof ServiceApis;
export const apiNames: ApiName[] = ['auth', 'community', 'media', 'posts', 'chat'];

/**
 * Plain HTTP routes a service serves beside its subgraph (uploads and downloads do not fit GraphQL). The gateway
 * owns the edge for them as for /graphql — session, CSRF, a signed identity — and forwards by path prefix.
 */
export const serviceRoutes: Partial<Record<ApiName | 'payments', string>> = { media: '/media/', payments: '/payments/' };

/** WebSocket endpoints services serve (`ServiceInstance.upgrade`), behind the gateway's session and Origin checks. */
export const serviceSockets: Partial<Record<'chat', string>> = { chat: '/chat/socket' };

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
    async spaceAccess(input) {
      // Anonymous answers share the '' user and are cleared by community-wide invalidation (visibility, circles).
      const key = permKey(input.communityId, input.userId ?? '', 'access', input.spaceId);
      const hit = await cache.get<{ access: SpaceAccess | null }>(key);
      if (hit !== undefined) return hit.access;
      const access = await api.spaceAccess(input);
      await cache.set(key, { access }, PERMISSION_TTL_MS);
      return access;
    },
    async readableSpaces(input) {
      const key = permKey(input.communityId, input.userId ?? '', 'spaces');
      const hit = await cache.get<{ spaces: ReadableSpace[] | null }>(key);
      if (hit !== undefined) return hit.spaces;
      const spaces = await api.readableSpaces(input);
      await cache.set(key, { spaces }, PERMISSION_TTL_MS);
      return spaces;
    },
    sharesCommunity(input) {
      return api.sharesCommunity(input);
    },
    readersAmong(input) {
      return api.readersAmong(input);
    },
    describeCommunity(input) {
      return api.describeCommunity(input);
    },
  };
}

/** PubSub topic announcing a change of who may do what in a community (`{ communityId, userId | null }`). */
export const PERMISSIONS_CHANGED_TOPIC = 'community.permissions_changed';
export interface PermissionsChanged {
  communityId: string;
  /** Null: anyone in the community may be affected (visibility, circles, roles). */
  userId: string | null;
}

/**
 * Drops the cached answers, then tells every process, so holders of long-lived state (open chat sockets) check
 * again at once instead of at the next request.
 */
export async function invalidateCommunityPermissions(cache: Cache, communityId: string, userId?: string, pubsub?: PubSub): Promise<void> {
  await cache.deletePrefix(userId ? permKey(communityId, userId) : `perm:${communityId}:`);
  await pubsub?.publish(PERMISSIONS_CHANGED_TOPIC, { communityId, userId: userId ?? null } satisfies PermissionsChanged);
}

/** Where a file's stored form is served (media's route); sign it with `UrlSigner` before handing it to a reader. */
export const fileUrlPath = (fileId: string, variant: FileVariant) => `/media/files/${fileId}/${variant}`;

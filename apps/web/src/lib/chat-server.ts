/**
 * Server-side loading for the chat pages: the channels of every space the viewer may read, one channel's first
 * page (the newest, or centred on a linked message), the people of a space for the member list, and the viewer's
 * DMs. Refusals (a circle the viewer may not read) leave things out rather than failing the page.
 */
import { cache } from 'react';
import { ChatChannelDocument, ChatChannelsDocument, ChatMessageDocument, ChatMessagesDocument, CircleMembersDocument, ClientError, CommunityMembersDocument, DirectChannelsDocument } from '@circles/client';
import type { ChatSpace } from '@/components/chat/ChatShell';
import { t } from '@/i18n';
import { CHAT_PAGE, type ChannelView, type ChatUser } from '@/lib/chat';
import type { CommunityView } from '@/lib/community';
import { looksLikeId } from '@/lib/permissions';
import { serverClient } from '@/lib/server-api';
import { loadPermissions } from '@/lib/settings';

const refused = (err: unknown) => err instanceof ClientError && (err.code === 'FORBIDDEN' || err.code === 'NOT_FOUND' || err.code === 'UNAUTHENTICATED');

/** Every readable space (Public Center first, then circles) with its channels. */
export const loadChatSpaces = cache(async (community: CommunityView): Promise<{ spaces: ChatSpace[]; channels: ChannelView[] }> => {
  const client = await serverClient();
  const permissions = await loadPermissions(community.id);
  const canManage = permissions.includes('manage_community') && !community.archived;
  const candidates: ChatSpace[] = [
    { id: community.publicCenter.id, name: t('space.publicCenter'), kind: 'PUBLIC_CENTER', canManage },
    ...community.circles.map((c) => ({ id: c.id, name: c.name, kind: 'CIRCLE' as const, canManage })),
  ];
  const lists = await Promise.all(
    candidates.map((space) =>
      client.request(ChatChannelsDocument, { communityId: community.id, spaceId: space.id }).then(
        (r) => r.channels,
        (err: unknown) => {
          if (refused(err)) return null;
          throw err;
        },
      ),
    ),
  );
  const spaces = candidates.filter((_, i) => lists[i] !== null);
  return { spaces, channels: lists.flatMap((l) => l ?? []) };
});

export const loadChannel = cache(async (channelId: string): Promise<ChannelView | null> => {
  if (!looksLikeId(channelId)) return null;
  try {
    return (await (await serverClient()).request(ChatChannelDocument, { id: channelId })).channel;
  } catch (err) {
    if (refused(err)) return null;
    throw err;
  }
});

export async function loadFirstPage(channelId: string, around: number | null) {
  const client = await serverClient();
  return (await client.request(ChatMessagesDocument, { channelId, ...(around !== null ? { around } : {}), first: CHAT_PAGE })).messages;
}

/** Who is in a space: the community's members for the Public Center, the circle's for a circle (first 200). */
export async function loadSpaceMembers(communityId: string, space: ChatSpace | undefined): Promise<ChatUser[]> {
  if (!space) return [];
  const client = await serverClient();
  try {
    if (space.kind === 'CIRCLE') return (await client.request(CircleMembersDocument, { circleId: space.id })).circleMembers.map((m) => m.user);
    return (await client.request(CommunityMembersDocument, { communityId, first: 200 })).communityMembers.map((m) => m.user);
  } catch (err) {
    if (refused(err)) return [];
    throw err;
  }
}

export const loadDirectChannels = cache(async (): Promise<ChannelView[]> => {
  return (await (await serverClient()).request(DirectChannelsDocument, { first: 100 })).directChannels.channels;
});

/** `?m=<seq>`: a positive whole number, or nothing. */
/** Where a link into a channel points: the message to centre the timeline on, and a thread to open at a reply. */
export interface LinkTarget {
  focusSeq: number | null;
  thread: { rootId: string; seq: number | null } | null;
}

/**
 * `?m=<seq>` centres the timeline on that message; `&thread=<rootId>` (a link to a reply) centres it on the thread's
 * root instead and opens the thread at reply `m`. A thread that is not this channel's is ignored.
 */
export async function linkTarget(channelId: string, search: Record<string, string | string[] | undefined>): Promise<LinkTarget> {
  const focus = focusParam(search.m);
  const rootId = typeof search.thread === 'string' && looksLikeId(search.thread) ? search.thread : null;
  if (!rootId) return { focusSeq: focus, thread: null };
  const root = await (await serverClient()).request(ChatMessageDocument, { id: rootId }).then(
    (r) => r.message,
    (err: unknown) => {
      if (refused(err)) return null;
      throw err;
    },
  );
  if (!root || root.channelId !== channelId || root.threadId !== null) return { focusSeq: focus, thread: null };
  return { focusSeq: root.seq, thread: { rootId: root.id, seq: focus } };
}

export function focusParam(value: string | string[] | undefined): number | null {
  const v = typeof value === 'string' ? Number(value) : NaN;
  return Number.isSafeInteger(v) && v > 0 ? v : null;
}

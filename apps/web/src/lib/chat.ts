/**
 * Chat in the web app: addresses, the message shape the UI keeps (one for history from the API, live frames from
 * the socket and the viewer's own pending sends), and the rules for grouping a timeline. Nothing here calls the API.
 */
import type { ChannelFieldsFragment, ChatAttachmentFieldsFragment, FileKind, MessageFieldsFragment, UserFieldsFragment } from '@circles/client';
import type { OutboxEntry, WireAttachment, WireMessage } from './chat-socket.ts';

export type ChannelView = ChannelFieldsFragment;
export type ChatUser = UserFieldsFragment;

/** Messages per history page (the API gives up to 200). */
export const CHAT_PAGE = 50;
/** The API's limit on a message's body. */
export const MAX_MESSAGE_LENGTH = 4000;
/** At most this many files on one message (SendMessageInput.attachmentIds). */
export const MAX_MESSAGE_ATTACHMENTS = 10;
/** Consecutive messages by one author closer than this share one header. */
const GROUP_WINDOW_MS = 7 * 60_000;

export const chatPath = (slug: string, channelId?: string) => (channelId ? `/c/${slug}/chat/${channelId}` : `/c/${slug}/chat`);
export const directPath = (channelId?: string) => (channelId ? `/messages/${channelId}` : '/messages');
/** A link to one message: the channel's page centred on it. */
/** A link to a message; a reply in a thread also names its root, so the thread opens at it. */
export function messageHref(base: string, seq: number, threadId: string | null = null): string {
  return threadId ? `${base}?m=${seq}&thread=${threadId}` : `${base}?m=${seq}`;
}

export interface ChatReaction {
  emoji: string;
  count: number;
  viewerReacted: boolean;
}

/** A message as the UI shows it. A pending send has no id or seq yet; its key is its clientId until stored. */
export interface ChatMessage {
  key: string;
  id: string | null;
  channelId: string;
  seq: number | null;
  authorId: string | null;
  clientId: string;
  body: string | null;
  replyToId: string | null;
  threadId: string | null;
  replyCount: number;
  lastReplyAt: string | null;
  viewerFollowsThread: boolean;
  reactions: ChatReaction[];
  mentionsViewer: boolean;
  attachments: ChatAttachmentFieldsFragment[];
  pinned: boolean;
  createdAt: string;
  editedAt: string | null;
  deleted: boolean;
  /** The viewer's own send, not stored yet (sending), or refused (failed). */
  pending?: 'sending' | 'failed';
  error?: string;
}

export function fromApi(m: MessageFieldsFragment): ChatMessage {
  return {
    key: m.id,
    id: m.id,
    channelId: m.channelId,
    seq: m.seq,
    authorId: m.author?.id ?? null,
    clientId: m.clientId,
    body: m.body,
    replyToId: m.replyToId,
    threadId: m.threadId,
    replyCount: m.replyCount,
    lastReplyAt: m.lastReplyAt,
    viewerFollowsThread: m.viewerFollowsThread,
    reactions: m.reactions,
    mentionsViewer: m.mentions.viewer,
    attachments: m.attachments,
    pinned: m.pinned,
    createdAt: m.createdAt,
    editedAt: m.editedAt,
    deleted: m.deleted,
  };
}

/** The API's `mentions.viewer` rule for a live frame: by name, @everyone, or an @here that reached the viewer. */
function wireMentionsViewer(m: WireMessage, viewerId: string | null): boolean {
  if (!m.mentions || viewerId === null || m.authorId === viewerId) return false;
  return m.mentions.everyone || m.mentions.userIds.includes(viewerId) || (m.mentions.here && (m.mentions.hereUserIds ?? []).includes(viewerId));
}

/**
 * A live frame's message. Reactions and the viewer's follow state are not on the wire: they are taken from the
 * copy already shown (`previous`), or empty for a new message (nobody has reacted yet).
 */
export function fromWire(m: WireMessage, viewerId: string | null, previous?: ChatMessage): ChatMessage {
  return {
    key: m.id,
    id: m.id,
    channelId: m.channelId,
    seq: m.seq,
    authorId: m.authorId,
    clientId: m.clientId,
    body: m.body,
    replyToId: m.replyToId,
    threadId: m.threadId ?? null,
    replyCount: m.replyCount ?? previous?.replyCount ?? 0,
    lastReplyAt: m.lastReplyAt ?? previous?.lastReplyAt ?? null,
    viewerFollowsThread: previous?.viewerFollowsThread ?? m.authorId === viewerId,
    reactions: previous?.reactions ?? [],
    mentionsViewer: m.mentions ? wireMentionsViewer(m, viewerId) : (previous?.mentionsViewer ?? false),
    // The frame's files come with links signed for everyone it reaches; one the server left unsigned keeps the copy
    // already shown (useTimeline then asks the API for that message).
    attachments: wireAttachments(m.attachments, previous?.attachments),
    pinned: m.pinned ?? previous?.pinned ?? false,
    createdAt: m.createdAt,
    editedAt: m.editedAt,
    deleted: m.deleted,
  };
}

const FILE_KINDS: readonly FileKind[] = ['IMAGE', 'VIDEO', 'AUDIO', 'DOCUMENT', 'ARCHIVE', 'TEXT', 'OTHER'];

/** Whether a live message has files without links (only then is the API asked for them). */
export function needsLinks(m: Pick<WireMessage, 'attachments'>): boolean {
  return (m.attachments ?? []).some((a) => !a.url);
}

/** A frame's files as the UI shows them: the signed links from the frame, or those of the copy already shown. */
export function wireAttachments(list: WireAttachment[] | undefined, previous: ChatAttachmentFieldsFragment[] = []): ChatAttachmentFieldsFragment[] {
  if (!list) return previous;
  return list.map((a) => {
    const known = previous.find((p) => p.id === a.id);
    const kind = a.kind.toUpperCase() as FileKind;
    return {
      id: a.id,
      name: a.name,
      contentType: a.contentType,
      kind: FILE_KINDS.includes(kind) ? kind : 'OTHER',
      bytes: a.bytes,
      width: a.width,
      height: a.height,
      url: a.url ?? known?.url ?? '',
      thumbUrl: a.thumbUrl ?? (a.url ? null : (known?.thumbUrl ?? null)),
    };
  });
}

/** The viewer's send as shown until the server stores it. */
export function fromOutbox(entry: OutboxEntry, viewerId: string): ChatMessage {
  return {
    key: entry.clientId,
    id: null,
    channelId: entry.channelId,
    seq: null,
    authorId: viewerId,
    clientId: entry.clientId,
    body: entry.body,
    replyToId: entry.replyToId ?? null,
    threadId: entry.threadId ?? null,
    replyCount: 0,
    lastReplyAt: null,
    viewerFollowsThread: false,
    reactions: [],
    mentionsViewer: false,
    attachments: [],
    pinned: false,
    createdAt: entry.createdAt,
    editedAt: null,
    deleted: false,
    pending: entry.error ? 'failed' : 'sending',
    ...(entry.error ? { error: entry.error.message } : {}),
  };
}

/**
 * Merges messages into a timeline sorted by sequence number (pending sends last, oldest first). A stored message
 * replaces the pending one with its clientId, and a newer copy replaces an older one.
 */
export function mergeMessages(list: ChatMessage[], incoming: ChatMessage[]): ChatMessage[] {
  if (incoming.length === 0) return list;
  const byKey = new Map(list.map((m) => [m.key, m]));
  for (const m of incoming) {
    if (m.id) {
      const pending = [...byKey.values()].find((p) => p.pending && p.clientId === m.clientId && p.authorId === m.authorId);
      if (pending) byKey.delete(pending.key);
    }
    byKey.set(m.key, m);
  }
  return [...byKey.values()].sort(compareMessages);
}

function compareMessages(a: ChatMessage, b: ChatMessage): number {
  if (a.seq !== null && b.seq !== null) return a.seq - b.seq;
  if (a.seq !== null) return -1;
  if (b.seq !== null) return 1;
  return a.createdAt.localeCompare(b.createdAt);
}

/** The local calendar day of a time ("2026-12-01"), for day separators. */
export function dayKey(iso: string): string {
  const d = new Date(iso);
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
}

/** Whether `m` continues `prev`'s group: same author, same day, close in time, not a reply (a quote needs a header). */
export function continuesGroup(prev: ChatMessage | undefined, m: ChatMessage): boolean {
  if (!prev || prev.deleted || m.deleted || !m.authorId || prev.authorId !== m.authorId || m.replyToId) return false;
  if (dayKey(prev.createdAt) !== dayKey(m.createdAt)) return false;
  return new Date(m.createdAt).getTime() - new Date(prev.createdAt).getTime() < GROUP_WINDOW_MS;
}

/** A DM's or group's title: its name, else the other members' names (the viewer left out). */
export function directTitle(channel: Pick<ChannelView, 'name' | 'members'>, viewerId: string | null): string {
  if (channel.name) return channel.name;
  const others = channel.members.filter((u) => u.id !== viewerId);
  return (others.length ? others : channel.members).map((u) => u.displayName).join(', ');
}

/** A reaction applied locally (a react frame or the viewer's own toggle): the new count, and the viewer's mark. */
export function applyReaction(reactions: ChatReaction[], emoji: string, count: number, viewerReacted: boolean | undefined): ChatReaction[] {
  const existing = reactions.find((r) => r.emoji === emoji);
  if (count <= 0) return reactions.filter((r) => r.emoji !== emoji);
  if (existing) return reactions.map((r) => (r.emoji === emoji ? { emoji, count, viewerReacted: viewerReacted ?? r.viewerReacted } : r));
  return [...reactions, { emoji, count, viewerReacted: viewerReacted ?? false }];
}

import type { AttachmentRow, MessageRow } from '../repo.ts';

/**
 * An attachment as the socket carries it, with links signed once for everyone the frame reaches (it reaches only
 * subscribers who may read the channel), valid about 15 minutes like the API's.
 */
export interface WireAttachment {
  id: string;
  name: string;
  contentType: string;
  kind: string;
  bytes: number;
  width: number | null;
  height: number | null;
  url: string | null;
  thumbUrl: string | null;
}

/** Signs a link to a stored form of a file (ChatService.fileUrl). */
export type FileSigner = (fileId: string, variant: 'original' | 'main' | 'thumb') => string;

/** A message as the socket carries it (docs/chat-protocol.md, "M"). */
export interface WireMessage {
  id: string;
  channelId: string;
  seq: number;
  authorId: string | null;
  clientId: string;
  body: string | null;
  replyToId: string | null;
  threadId: string | null;
  createdAt: string;
  editedAt: string | null;
  deleted: boolean;
  /** hereUserIds (only with an @here, to keep every other frame small): whom it reached, present and able to read. */
  mentions: { userIds: string[]; everyone: boolean; here: boolean; hereUserIds?: string[] };
  attachments: WireAttachment[];
  replyCount: number;
  lastReplyAt: string | null;
  pinned: boolean;
}

export function wireMessage(m: MessageRow, attachments: readonly AttachmentRow[] = [], sign?: FileSigner): WireMessage {
  const deleted = m.deleted_at !== null;
  return {
    id: m.id,
    channelId: m.channel_id,
    seq: Number(m.seq),
    authorId: deleted ? null : m.author_id,
    clientId: m.client_id,
    body: deleted ? null : m.body,
    replyToId: m.reply_to_id,
    threadId: m.thread_id,
    createdAt: m.created_at.toISOString(),
    editedAt: m.edited_at?.toISOString() ?? null,
    deleted,
    mentions: deleted
      ? { userIds: [], everyone: false, here: false }
      : { userIds: [...m.mention_ids], everyone: m.mentions_everyone, here: m.mentions_here, ...(m.mentions_here ? { hereUserIds: [...m.here_ids] } : {}) },
    attachments: deleted
      ? []
      : attachments.map((a) => ({
          id: a.id,
          name: a.name,
          contentType: a.content_type,
          kind: a.kind,
          bytes: Number(a.bytes),
          width: a.width,
          height: a.height,
          url: sign ? sign(a.id, a.kind === 'image' ? 'main' : 'original') : null,
          thumbUrl: sign && a.has_thumb ? sign(a.id, 'thumb') : null,
        })),
    replyCount: m.reply_count,
    lastReplyAt: m.last_reply_at?.toISOString() ?? null,
    pinned: m.pinned_at !== null,
  };
}

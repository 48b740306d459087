import type { MessageRow } from '../repo.ts';

/** A message as the socket carries it (docs/chat-protocol.md, "M"). */
export interface WireMessage {
  id: string;
  channelId: string;
  seq: number;
  authorId: string | null;
  clientId: string;
  body: string | null;
  replyToId: string | null;
  createdAt: string;
  editedAt: string | null;
  deleted: boolean;
}

export function wireMessage(m: MessageRow): WireMessage {
  const deleted = m.deleted_at !== null;
  return {
    id: m.id,
    channelId: m.channel_id,
    seq: Number(m.seq),
    authorId: deleted ? null : m.author_id,
    clientId: m.client_id,
    body: deleted ? null : m.body,
    replyToId: m.reply_to_id,
    createdAt: m.created_at.toISOString(),
    editedAt: m.edited_at?.toISOString() ?? null,
    deleted,
  };
}

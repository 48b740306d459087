import { z } from 'zod';

export const MAX_MESSAGE_CHARS = 4_000;

export const uuid = z.string().regex(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i, 'That is not a valid id.');
const name = z
  .string()
  .trim()
  .toLowerCase()
  .min(1, 'Channel names are at least 1 character.')
  .max(40, 'Channel names are at most 40 characters.')
  .regex(/^[\p{L}\p{N}]+([-_][\p{L}\p{N}]+)*$/u, 'Use letters, digits and single - or _ between them (like general or show-and-tell).');
const topic = z.string().trim().max(300, 'Topics are at most 300 characters.');
const slowMode = z.number().int().min(0, 'Slow mode is 0 (off) to 21600 seconds.').max(21_600, 'Slow mode is 0 (off) to 21600 seconds.');

export const createChannelInput = z.object({
  communityId: uuid,
  spaceId: uuid,
  name,
  topic: topic.nullish().transform((v) => v ?? ''),
  slowModeSeconds: slowMode.nullish().transform((v) => v ?? 0),
});
export const updateChannelInput = z.object({ name: name.nullish(), topic: topic.nullish(), slowModeSeconds: slowMode.nullish() });

export const MAX_ATTACHMENTS = 10;
export const MAX_GROUP_MEMBERS = 10;

export const sendMessageInput = z.object({
  channelId: uuid,
  clientId: z.string().regex(/^[A-Za-z0-9_-]{8,64}$/, 'Message ids are 8 to 64 letters, digits, - or _.'),
  // Empty is allowed here: a message may be files only. That it is not empty altogether is checked with the files.
  body: z.string().trim().max(MAX_MESSAGE_CHARS, `Messages are at most ${MAX_MESSAGE_CHARS} characters.`),
  replyToId: uuid.nullish().transform((v) => v ?? null),
  threadId: uuid.nullish().transform((v) => v ?? null),
  attachmentIds: z
    .array(z.string())
    .max(MAX_ATTACHMENTS, `Attach at most ${MAX_ATTACHMENTS} files.`)
    .nullish()
    .transform((v) => (v ?? []).map((id) => id.toLowerCase()))
    .refine((ids) => new Set(ids).size === ids.length, 'Attach each file once.'),
});
export const messageBody = z.string().trim().min(1, 'Write a message first.').max(MAX_MESSAGE_CHARS, `Messages are at most ${MAX_MESSAGE_CHARS} characters.`);

/** Editing keeps a files-only message possible: the body may become empty when the message has attachments. */
export const editBody = z.string().trim().max(MAX_MESSAGE_CHARS, `Messages are at most ${MAX_MESSAGE_CHARS} characters.`);

export const userIds = z
  .array(uuid)
  .min(1, 'Choose someone.')
  .max(50, 'That is too many people.')
  .transform((ids) => [...new Set(ids.map((id) => id.toLowerCase()))]);

export const groupName = z
  .string()
  .trim()
  .max(80, 'Group names are at most 80 characters.')
  .nullish()
  .transform((v) => (v ? v : null));

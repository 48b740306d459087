import { z } from 'zod';
import { MAX_MARKDOWN_CHARS } from './markdown.ts';

export const MAX_COMMENT_CHARS = 10_000;
export const MAX_ATTACHMENTS = 20;

const uuid = z.string().regex(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i, 'That is not a valid id.');
const title = z
  .string()
  .trim()
  .max(200, 'Titles are at most 200 characters.')
  .nullish()
  .transform((v) => (v ? v : null));
const postBody = z.string().trim().max(MAX_MARKDOWN_CHARS, `Posts are at most ${MAX_MARKDOWN_CHARS} characters.`);
const attachments = z
  .array(uuid)
  .max(MAX_ATTACHMENTS, `Attach at most ${MAX_ATTACHMENTS} files.`)
  .refine((ids) => new Set(ids).size === ids.length, 'The same file is attached twice.');

const poll = z.object({
  question: z
    .string()
    .trim()
    .max(300, 'Poll questions are at most 300 characters.')
    .nullish()
    .transform((v) => (v ? v : null)),
  options: z
    .array(z.string().trim().min(1, 'Poll options cannot be empty.').max(100, 'Poll options are at most 100 characters.'))
    .min(2, 'A poll needs at least 2 options.')
    .max(10, 'A poll has at most 10 options.')
    .refine((o) => new Set(o.map((s) => s.toLowerCase())).size === o.length, 'Poll options must differ.'),
  multipleChoice: z.boolean().nullish().transform((v) => v ?? false),
  closesAt: z
    .date()
    .nullish()
    .transform((v) => v ?? null)
    .refine((d) => d === null || d.getTime() > Date.now(), 'The closing time must be in the future.')
    .refine((d) => d === null || d.getTime() < Date.now() + 366 * 86_400_000, 'Polls close within a year.'),
});

export const createPostInput = z
  .object({
    communityId: uuid,
    spaceId: uuid,
    title,
    body: postBody,
    attachments: attachments.nullish().transform((v) => v ?? []),
    poll: poll.nullish().transform((v) => v ?? null),
  })
  .refine((p) => p.body.length > 0 || p.title !== null || p.attachments.length > 0 || p.poll !== null, {
    message: 'Write something, or attach a file or a poll.',
    path: ['body'],
  });

export const updatePostInput = z.object({
  title: z.string().trim().max(200, 'Titles are at most 200 characters.').nullish(),
  body: postBody.nullish(),
  attachments: attachments.nullish(),
});

export const commentBody = z
  .string()
  .trim()
  .min(1, 'Write a comment first.')
  .max(MAX_COMMENT_CHARS, `Comments are at most ${MAX_COMMENT_CHARS} characters.`);

export const reason = z.string().trim().min(1, 'Give a reason: the author sees it.').max(500, 'Reasons are at most 500 characters.');

export const idInput = uuid;
export const optionIds = z.array(uuid).max(10);

import { z } from 'zod';

const name = z.string().trim().min(2, 'Community names are at least 2 characters.').max(80, 'Community names are at most 80 characters.');
const slug = z
  .string()
  .trim()
  .toLowerCase()
  .min(3, 'Addresses are at least 3 characters.')
  .max(48, 'Addresses are at most 48 characters.')
  .regex(/^[a-z0-9]+(-[a-z0-9]+)*$/, 'Addresses may contain lowercase letters, digits and single hyphens.');
const description = z.string().trim().max(2000, 'Descriptions are at most 2000 characters.');
const category = z.string().trim().max(40, 'Categories are at most 40 characters.').nullable();
const language = z.string().trim().regex(/^[a-z]{2,3}(-[A-Z]{2})?$/, 'Use a language code such as en or pt-BR.');
const visibility = z.enum(['LISTED', 'UNLISTED', 'PRIVATE']).transform((v) => v.toLowerCase() as 'listed' | 'unlisted' | 'private');

const joinPolicy = z.enum(['OPEN', 'APPROVAL', 'INVITE']).transform((v) => v.toLowerCase() as 'open' | 'approval' | 'invite');
const joinQuestions = z
  .array(z.string().trim().min(1, 'Questions cannot be empty.').max(300, 'Questions are at most 300 characters.'))
  .max(5, 'Ask at most 5 questions.');
/** Why a moderator removed, banned or timed someone out: shown to other moderators in the audit log. */
export const reasonInput = z.object({ reason: z.string().trim().max(500, 'Reasons are at most 500 characters.') });

export const answers = z.array(z.string().trim().max(1000, 'Answers are at most 1000 characters.')).max(5);

export const createCommunityInput = z.object({
  name,
  slug,
  description: description.default(''),
  category: category.optional().default(null),
  language: language.default('en'),
  visibility: visibility.default('listed'),
  joinPolicy: joinPolicy.default('open'),
  joinQuestions: joinQuestions.default([]),
});
export const updateCommunityInput = z
  .object({ name, description, category, language, visibility, joinPolicy, joinQuestions })
  .partial()
  .refine((o) => Object.values(o).some((v) => v !== undefined), 'Nothing to change.');

const circleName = z.string().trim().min(2, 'Circle names are at least 2 characters.').max(80, 'Circle names are at most 80 characters.');
const circleAccess = z.enum(['OPEN', 'APPROVAL', 'INVITE', 'PAID']).transform((v) => v.toLowerCase() as 'open' | 'approval' | 'invite' | 'paid');
export const createCircleInput = z.object({
  name: circleName,
  description: description.default(''),
  access: circleAccess.default('open'),
  hidden: z.boolean().default(false),
});
export const updateCircleInput = z
  .object({ name: circleName, description, access: circleAccess, hidden: z.boolean() })
  .partial()
  .refine((o) => Object.values(o).some((v) => v !== undefined), 'Nothing to change.');

export const roleNameInput = z.object({ name: z.string().trim().min(2, 'Role names are at least 2 characters.').max(40, 'Role names are at most 40 characters.') });

/** Slugs that would collide with app routes. */
export const reservedSlugs = new Set(['new', 'admin', 'api', 'graphql', 'settings', 'account', 'login', 'signup', 'c', 'communities', 'explore']);

export { parseInput as parse } from '@circles/platform';

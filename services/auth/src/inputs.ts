import { z } from 'zod';

/** Input rules, checked at the service boundary. Messages are shown to users as they are. */
const email = z
  .string()
  .trim()
  .max(254, 'That email address is too long.')
  .pipe(z.email('Enter a valid email address.'));
const handle = z
  .string()
  .trim()
  .min(3, 'Handles are at least 3 characters.')
  .max(30, 'Handles are at most 30 characters.')
  .regex(/^[a-zA-Z0-9_]+$/, 'Handles may contain only letters, digits and underscores.');
const displayName = z
  .string()
  .trim()
  .min(1, 'Enter a display name.')
  .max(64, 'Display names are at most 64 characters.')
  .refine((s) => !/[\u0000-\u001f\u007f\u202a-\u202e\u2066-\u2069]/.test(s), 'Display names cannot contain control characters.');
// Length and strength are judged by the password policy, with its own messages; here only type and a hard cap.
const password = z.string().max(1024, 'That password is too long.');
const token = z.string().min(10, 'This link is incomplete.').max(200, 'This link is invalid.');

export const signUpInput = z.object({ email, password, handle, displayName });
export const updateProfileInput = z.object({ handle: handle.optional(), displayName: displayName.optional() });
export const logInInput = z.object({ email: z.string().trim().max(254), password });
export const changePasswordInput = z.object({ currentPassword: password, newPassword: password });
export const resetPasswordInput = z.object({ token, newPassword: password });
export const emailOnly = email;
export const tokenOnly = token;
export const handleOnly = z.string().trim().max(64);

export { parseInput as parse } from '@circles/platform';

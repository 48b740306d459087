/**
 * Domain errors carry a stable code. The domain never throws transport errors: one mapper per transport
 * (see graphql.ts) turns codes into GraphQL errors, so clients can rely on `extensions.code`.
 */
export type ErrorCode =
  | 'BAD_USER_INPUT'
  | 'UNAUTHENTICATED'
  | 'FORBIDDEN'
  | 'NOT_FOUND'
  | 'CONFLICT'
  | 'RATE_LIMITED'
  | 'INVALID_CREDENTIALS'
  | 'INVALID_TOKEN'
  | 'WEAK_PASSWORD'
  | 'EMAIL_NOT_VERIFIED'
  // The request was fine but the system is not in a state to do it (a creator without payouts set up).
  | 'FAILED_PRECONDITION'
  // A third party (the payment provider) could not be reached; nothing was done.
  | 'UNAVAILABLE';

export class DomainError extends Error {
  override readonly name = 'DomainError';
  constructor(
    readonly code: ErrorCode,
    message: string,
    /** Safe, client-visible details (field names, retry hints). Never secrets. */
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

export const badInput = (message: string, field?: string) =>
  new DomainError('BAD_USER_INPUT', message, field ? { field } : {});
export const unauthenticated = (message = 'You need to log in to do that.') =>
  new DomainError('UNAUTHENTICATED', message);
export const forbidden = (message = 'You are not allowed to do that.') => new DomainError('FORBIDDEN', message);
export const notFound = (message: string) => new DomainError('NOT_FOUND', message);

/**
 * Validates input at a service boundary with a zod schema; the first problem becomes a BAD_USER_INPUT error that
 * names the field, with the schema's own message (written for users). Control characters and broken UTF-16 are
 * refused in every string first: no text field needs them, and the database cannot store NUL.
 */
/** C0 controls other than tab, newline and carriage return, DEL, and unpaired UTF-16 surrogates. */
const FORBIDDEN_CHARS = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** The path of the first string in a value holding characters no text field accepts, or null. */
function forbiddenCharsAt(value: unknown, path: string[] = []): string[] | null {
  if (typeof value === 'string') return FORBIDDEN_CHARS.test(value) ? path : null;
  if (Array.isArray(value)) {
    for (const [i, v] of value.entries()) {
      const hit = forbiddenCharsAt(v, [...path, String(i)]);
      if (hit) return hit;
    }
  } else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      const hit = forbiddenCharsAt(v, [...path, k]);
      if (hit) return hit;
    }
  }
  return null;
}

export function parseInput<S extends { safeParse(v: unknown): { success: true; data: unknown } | { success: false; error: { issues: { message: string; path: PropertyKey[] }[] } } }>(
  schema: S,
  value: unknown,
): Extract<ReturnType<S['safeParse']>, { success: true }>['data'] {
  const bad = forbiddenCharsAt(value);
  if (bad) throw badInput('Remove control characters (such as NUL) from this text.', bad.join('.') || undefined);
  const r = schema.safeParse(value);
  if (r.success) return r.data as never;
  const issue = r.error.issues[0]!;
  throw badInput(issue.message, issue.path.map(String).join('.') || undefined);
}

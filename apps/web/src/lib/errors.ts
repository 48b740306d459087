/**
 * Turns API failures into messages people can act on. One place maps every error code the web app expects;
 * validation messages and refusals the server writes for people (BAD_USER_INPUT, WEAK_PASSWORD, FORBIDDEN,
 * FAILED_PRECONDITION, UNAVAILABLE, and the media route's PAYLOAD_TOO_LARGE and UNSUPPORTED_MEDIA_TYPE) are shown as
 * sent.
 */
import { ClientError } from '@circles/client';
import { hasMessage, t } from '@/i18n';
import { formatDuration } from '@/lib/format';

export interface DescribedError {
  message: string;
  /** The form field the error belongs to, in the form's own naming. */
  field?: string | undefined;
  /**
   * Inputs a form-level error is about without belonging to one of them, the likeliest culprit first (a wrong
   * email and password pair is usually a mistyped password).
   */
  concerns?: string[];
}

/**
 * @param fieldMap maps the server's field names to this form's inputs (e.g. `{ password: 'newPassword' }`);
 *   a field the form does not have becomes a form-level message.
 */
export function describeError(err: unknown, fieldMap: Record<string, string> = {}): DescribedError {
  if (!(err instanceof ClientError)) return { message: t('errors.unknown') };
  const field = err.field ? (fieldMap[err.field] ?? err.field) : undefined;
  switch (err.code) {
    case 'RATE_LIMITED':
      return {
        message: err.retryAfterSeconds ? t('errors.RATE_LIMITED', { duration: formatDuration(err.retryAfterSeconds) }) : t('errors.RATE_LIMITED_unknown'),
      };
    case 'CONFLICT': {
      const key = `errors.CONFLICT.${err.field ?? ''}`;
      if (hasMessage(key)) return { message: t(key as 'errors.CONFLICT.email'), field };
      // A conflict about no field is a state, not a value ("already a member", "request already waiting"): the
      // server's sentence says which.
      return { message: (err.field ? undefined : err.message) || t('errors.CONFLICT'), field };
    }
    case 'WEAK_PASSWORD':
      return { message: err.message || t('errors.WEAK_PASSWORD'), field: field ?? fieldMap.password ?? 'password' };
    case 'BAD_USER_INPUT':
      return { message: err.message || t('errors.BAD_USER_INPUT'), field };
    case 'PAYLOAD_TOO_LARGE':
    case 'UNSUPPORTED_MEDIA_TYPE':
      // The media route's refusals say what it accepts ("Images can be at most 10 MB.").
      return { message: err.message || t(`errors.${err.code}`) };
    case 'FORBIDDEN':
      // Refusals are sentences written for people ("You can only manage members ranked below you.", "You are
      // banned from this community."): which rule said no is what they need to know.
      return { message: err.message || t('errors.FORBIDDEN') };
    case 'FAILED_PRECONDITION':
    case 'UNAVAILABLE':
      // "This community cannot take payments yet…", "The payment provider could not be reached. Nothing was
      // charged…": the server says what is missing and whether anything happened.
      return { message: err.message || t(`errors.${err.code}`), field };
    case 'INVALID_CREDENTIALS':
      return { message: t('errors.INVALID_CREDENTIALS'), concerns: ['password', 'email'].map((name) => fieldMap[name] ?? name) };
    case 'INVALID_TOKEN':
    case 'NOT_FOUND':
    case 'UNAUTHENTICATED':
    case 'CSRF_REJECTED':
    case 'NETWORK_ERROR':
    case 'ABORTED':
      return { message: t(`errors.${err.code}`) };
    default:
      return { message: t('errors.unknown') };
  }
}

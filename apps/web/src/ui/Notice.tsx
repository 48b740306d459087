'use client';

/**
 * A polite live region that is always in the page, so a result is announced the moment it appears ("Invite
 * revoked."). Screen readers ignore live regions inserted together with their text, which is why this one stays
 * mounted and only its content changes.
 */
export function Notice({ message, tone = 'success' }: { message: string | undefined; tone?: 'success' | 'info' }) {
  return (
    <div role="status" className="c-notice">
      {message ? <p className={`c-alert c-alert--${tone}`}>{message}</p> : null}
    </div>
  );
}

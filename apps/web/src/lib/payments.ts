/**
 * Paid circles in the web app: how prices, trials and statuses read, which subscriptions can still be changed,
 * and the checks the payments pages share. Works in server and client components alike.
 */
import { ClientError, type BillingInterval, type SubscriptionStatus } from '@circles/client';
import { hasMessage, t } from '@/i18n';
import { formatMoney } from '@/lib/money';

export const INTERVALS: BillingInterval[] = ['MONTH', 'YEAR', 'ONCE'];

/** "$9.99 / month", "$99.00 / year", "$30.00 once". */
export function priceLabel(price: { amount: number; currency: string; interval: BillingInterval }): string {
  return t(`payments.per.${price.interval}`, { amount: formatMoney(price.amount, price.currency) });
}

/** "14-day free trial". */
export function trialLabel(days: number): string {
  return days === 1 ? t('payments.trialOne') : t('payments.trial', { days });
}

export function statusLabel(status: SubscriptionStatus): string {
  return t(`payments.status.${status}`);
}

/** "Octavia Butler (@octavia)": a person on the payments pages (server and client). */
export function personName(user: { displayName: string; handle: string }): string {
  return t('common.person', { name: user.displayName, handle: user.handle });
}

/** A status as the provider words it ("past_due", "in_transit"), in words; unknown ones as sent. */
export function providerStatus(status: string): string {
  const key = `provider.status.${status}`;
  return hasMessage(key) ? t(key as 'provider.status.active') : status;
}

/** Statuses in which a renewing subscription can still be canceled, resumed or moved to another tier. */
const CHANGEABLE: readonly SubscriptionStatus[] = ['TRIALING', 'ACTIVE', 'PAST_DUE'];

export function isChangeable(sub: { status: SubscriptionStatus; interval: BillingInterval }): boolean {
  return sub.interval !== 'ONCE' && CHANGEABLE.includes(sub.status);
}

/** Still running (or a paid one-time purchase): listed under "Current" rather than "Ended". */
export function isCurrent(sub: { status: SubscriptionStatus; entitled: boolean }): boolean {
  return sub.entitled || ['TRIALING', 'ACTIVE', 'PAST_DUE', 'UNPAID', 'PAID', 'INCOMPLETE'].includes(sub.status);
}

/** A badge tone for a status: good, needs attention, or neutral. */
export function statusTone(status: SubscriptionStatus): 'success' | 'warning' | 'neutral' {
  if (status === 'ACTIVE' || status === 'TRIALING' || status === 'PAID') return 'success';
  if (status === 'PAST_DUE' || status === 'UNPAID' || status === 'INCOMPLETE') return 'warning';
  return 'neutral';
}

/**
 * A check the page makes before asking the API, reported exactly like the API's own validation (on the field it
 * concerns), so `useForm` shows and focuses it the same way.
 */
export function inputError(field: string, message: string): ClientError {
  return new ClientError({ code: 'BAD_USER_INPUT', message, field });
}

/**
 * The API names list items by path ("benefits.3"); forms have one input for the list. Runs `work` and re-throws
 * such an error on the list's own field.
 */
export async function onListFields<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    if (err instanceof ClientError && err.field?.includes('.')) {
      throw new ClientError({ code: err.code, message: err.message, field: err.field.split('.')[0], retryAfterSeconds: err.retryAfterSeconds, status: err.status });
    }
    throw err;
  }
}

export { sameSiteTarget } from './safe-url.ts';

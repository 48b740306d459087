/**
 * Money in the web app. The API speaks in a currency's smallest unit (cents for USD, yen for JPY) with a lower-case
 * ISO 4217 code; people read and type major units ("9.99"). The number of fraction digits comes from Intl for each
 * currency, so JPY has none and KWD three. No floating point on the way in: "9.99" becomes 999 by string arithmetic.
 */
import { locale } from '../i18n/index.ts';

const digitsCache = new Map<string, number>();

/** How many digits after the decimal point the currency has (2 for usd, 0 for jpy, 3 for kwd). */
export function fractionDigits(currency: string): number {
  const code = currency.toUpperCase();
  let digits = digitsCache.get(code);
  if (digits === undefined) {
    try {
      digits = new Intl.NumberFormat('en', { style: 'currency', currency: code }).resolvedOptions().maximumFractionDigits ?? 2;
    } catch {
      digits = 2;
    }
    digitsCache.set(code, digits);
  }
  return digits;
}

/** "$9.99", "€1,200.00", "¥500": an amount in minor units, in the reader's locale. */
export function formatMoney(amount: number, currency: string): string {
  const code = currency.toUpperCase();
  const digits = fractionDigits(code);
  const major = amount / 10 ** digits;
  try {
    return new Intl.NumberFormat(locale, { style: 'currency', currency: code, minimumFractionDigits: digits, maximumFractionDigits: digits }).format(major);
  } catch {
    // Not a currency Intl knows: the number and the code.
    return `${major.toFixed(digits)} ${code}`;
  }
}

/** Several amounts (one per currency), joined; `empty` when there are none. */
export function formatMoneyList(list: readonly { amount: number; currency: string }[], empty: string): string {
  if (list.length === 0) return empty;
  return list.map((m) => formatMoney(m.amount, m.currency)).join(', ');
}

/** The form value for an amount in minor units: 999 usd -> "9.99", 500 jpy -> "500". */
export function toMajorInput(amount: number, currency: string): string {
  const digits = fractionDigits(currency);
  if (digits === 0) return String(amount);
  const s = String(Math.abs(amount)).padStart(digits + 1, '0');
  return `${amount < 0 ? '-' : ''}${s.slice(0, -digits)}.${s.slice(-digits)}`;
}

export type ParsedAmount = { ok: true; minor: number } | { ok: false; reason: 'format' | 'digits' | 'tooLarge' };

/**
 * Reads what someone typed as a major-unit amount: "9.99", "9,99", "1,200.50", "1200", "$9.99". Returns the amount in
 * minor units, or why it could not (not a number; more decimals than the currency has; too large).
 */
export function parseMajorAmount(input: string, currency: string): ParsedAmount {
  const digits = fractionDigits(currency);
  let s = input.replace(/[\s\u00a0]/g, '').replace(/^[^\d.,-]+/, '');
  // "1,200.50": commas group thousands. "9,99": a comma is the decimal separator.
  if (/^\d{1,3}(,\d{3})+(\.\d+)?$/.test(s)) s = s.replace(/,/g, '');
  else if (/^\d+,\d+$/.test(s)) s = s.replace(',', '.');
  const m = /^(\d+)(?:\.(\d*))?$/.exec(s);
  if (!m) return { ok: false, reason: 'format' };
  const whole = m[1]!;
  const frac = (m[2] ?? '').replace(/0+$/, '');
  if (frac.length > digits) return { ok: false, reason: 'digits' };
  const minorText = (whole + frac.padEnd(digits, '0')).replace(/^0+(?=\d)/, '');
  if (minorText.length > 9) return { ok: false, reason: 'tooLarge' };
  const minor = Number(minorText);
  if (minor > 99_999_999) return { ok: false, reason: 'tooLarge' };
  return { ok: true, minor };
}

/**
 * The web app's money and redirect helpers for paid circles (apps/web/src/lib/money.ts, safe-url.ts): amounts typed
 * in major units become exact minor units per currency (no floating point), minor units format per currency, and the
 * onboarding page's `return` is only followed to this site.
 */
import { describe, expect, it } from 'vitest';
import { formatMoney, formatMoneyList, fractionDigits, parseMajorAmount, toMajorInput } from '../../apps/web/src/lib/money.ts';
import { sameSiteTarget } from '../../apps/web/src/lib/safe-url.ts';

describe('money', () => {
  it('knows each currency’s fraction digits', () => {
    expect(fractionDigits('usd')).toBe(2);
    expect(fractionDigits('EUR')).toBe(2);
    expect(fractionDigits('jpy')).toBe(0);
    expect(fractionDigits('kwd')).toBe(3);
  });

  it('reads major units exactly', () => {
    expect(parseMajorAmount('9.99', 'usd')).toEqual({ ok: true, minor: 999 });
    expect(parseMajorAmount('0.29', 'usd')).toEqual({ ok: true, minor: 29 }); // 0.29 * 100 is 28.999… in floating point
    expect(parseMajorAmount('19.9', 'usd')).toEqual({ ok: true, minor: 1990 });
    expect(parseMajorAmount('20', 'usd')).toEqual({ ok: true, minor: 2000 });
    expect(parseMajorAmount(' $1,200.50 ', 'usd')).toEqual({ ok: true, minor: 120050 });
    expect(parseMajorAmount('9,99', 'eur')).toEqual({ ok: true, minor: 999 });
    expect(parseMajorAmount('9.90', 'usd')).toEqual({ ok: true, minor: 990 });
    expect(parseMajorAmount('500', 'jpy')).toEqual({ ok: true, minor: 500 });
    expect(parseMajorAmount('1.234', 'kwd')).toEqual({ ok: true, minor: 1234 });
  });

  it('refuses what is not an amount in that currency', () => {
    expect(parseMajorAmount('abc', 'usd')).toEqual({ ok: false, reason: 'format' });
    expect(parseMajorAmount('-5', 'usd')).toEqual({ ok: false, reason: 'format' });
    expect(parseMajorAmount('9.999', 'usd')).toEqual({ ok: false, reason: 'digits' });
    expect(parseMajorAmount('5.5', 'jpy')).toEqual({ ok: false, reason: 'digits' });
    expect(parseMajorAmount('1000000', 'usd')).toEqual({ ok: false, reason: 'tooLarge' });
  });

  it('formats minor units per currency and back into the form', () => {
    expect(formatMoney(999, 'usd')).toBe('$9.99');
    expect(formatMoney(500, 'jpy')).toBe('¥500');
    expect(formatMoney(120050, 'eur')).toBe('€1,200.50');
    expect(formatMoneyList([], 'None')).toBe('None');
    expect(formatMoneyList([{ amount: 999, currency: 'usd' }, { amount: 100, currency: 'eur' }], 'None')).toBe('$9.99, €1.00');
    expect(toMajorInput(999, 'usd')).toBe('9.99');
    expect(toMajorInput(5, 'usd')).toBe('0.05');
    expect(toMajorInput(500, 'jpy')).toBe('500');
  });
});

describe('sameSiteTarget', () => {
  const origins = ['http://localhost:3000', 'https://circles.example'];
  it('follows paths and URLs on this site only', () => {
    expect(sameSiteTarget('/c/x/settings/revenue?onboarding=done', origins)).toBe('/c/x/settings/revenue?onboarding=done');
    expect(sameSiteTarget('http://localhost:3000/c/x/settings/revenue?onboarding=done', origins)).toBe('/c/x/settings/revenue?onboarding=done');
    expect(sameSiteTarget('https://circles.example/a#b', origins)).toBe('/a#b');
    expect(sameSiteTarget('https://evil.example/c/x', origins)).toBeNull();
    expect(sameSiteTarget('//evil.example/c/x', origins)).toBeNull();
    expect(sameSiteTarget('/\\evil.example', origins)).toBeNull();
    expect(sameSiteTarget('javascript:alert(1)', origins)).toBeNull();
    expect(sameSiteTarget(null, origins)).toBeNull();
  });
});

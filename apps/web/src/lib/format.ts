import { locale, t } from '@/i18n';

export function formatDuration(seconds: number): string {
  if (seconds < 60) return seconds === 1 ? t('duration.second') : t('duration.seconds', { count: seconds });
  const minutes = Math.ceil(seconds / 60);
  return minutes === 1 ? t('duration.minute') : t('duration.minutes', { count: minutes });
}

/** An absolute date and time; `timeZone` undefined means the runtime's own zone (the browser's, once hydrated). */
export function formatDateTime(iso: string, timeZone?: string): string {
  return new Intl.DateTimeFormat(locale, { dateStyle: 'medium', timeStyle: 'short', timeZone }).format(new Date(iso));
}

/** A date without the time ("Mar 4, 2027"); `timeZone` as for formatDateTime. */
export function formatDate(iso: string, timeZone?: string): string {
  return new Intl.DateTimeFormat(locale, { dateStyle: 'medium', timeZone }).format(new Date(iso));
}

const browsers: [RegExp, string][] = [
  [/Edg(e|A|iOS)?\//, 'Edge'],
  [/OPR\/|Opera/, 'Opera'],
  [/Firefox\/|FxiOS\//, 'Firefox'],
  [/Chrom(e|ium)\/|CriOS\//, 'Chrome'],
  [/Safari\//, 'Safari'],
];
const systems: [RegExp, string][] = [
  [/Android/, 'Android'],
  [/iPhone|iPad|iPod/, 'iOS'],
  [/Windows/, 'Windows'],
  [/Mac OS X|Macintosh/, 'macOS'],
  [/CrOS/, 'ChromeOS'],
  [/Linux/, 'Linux'],
];

/** A short, human name for a user agent ("Firefox on Linux"); null when nothing is recognised. */
export function describeDevice(userAgent: string | null | undefined): string | null {
  if (!userAgent) return null;
  const browser = browsers.find(([re]) => re.test(userAgent))?.[1];
  const os = systems.find(([re]) => re.test(userAgent))?.[1];
  if (browser && os) return t('device.browserOn', { browser, os });
  return browser ?? os ?? null;
}

/** "3 members · open" under a circle's name. */
export function circleMembersLabel(count: number, access: 'OPEN' | 'APPROVAL' | 'INVITE' | 'PAID'): string {
  const accessLabel = t(`access.${access}`);
  return count === 1 ? t('community.circleMembersOne', { access: accessLabel }) : t('community.circleMembers', { count, access: accessLabel });
}

/** "1 member", "12 members". */
export function memberCountLabel(count: number): string {
  return count === 1 ? t('community.memberCountOne') : t('community.memberCount', { count });
}

'use client';
import { useEffect, useState } from 'react';
import { t, type MessageKey } from '@/i18n';
import type { en } from '@/i18n/en';
import { formatDateTime } from '@/lib/format';

/** Messages with exactly a `{time}` placeholder ("Last active {time}"). */
export type TimeMessageKey = { [K in MessageKey]: (typeof en)[K] extends `${string}{time}${string}` ? K : never }[MessageKey];

/**
 * A timestamp in the reader's own time zone, optionally inside a message. The server renders it in UTC (it
 * cannot know the zone); the browser rewrites it after hydration, so the markup matches on first render.
 */
export function LocalTime({ iso, message }: { iso: string; message?: TimeMessageKey }) {
  const [time, setTime] = useState(() => `${formatDateTime(iso, 'UTC')} UTC`);
  useEffect(() => setTime(formatDateTime(iso)), [iso]);
  return <time dateTime={iso}>{message ? t(message as 'account.lastSeen', { time }) : time}</time>;
}

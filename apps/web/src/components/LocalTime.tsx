'use client';
import { useEffect, useState } from 'react';
import { t, type MessageKey } from '@/i18n';
import type { en } from '@/i18n/en';
import { formatDate, formatDateTime } from '@/lib/format';

/** Messages with exactly a `{time}` placeholder ("Last active {time}"). */
export type TimeMessageKey = { [K in MessageKey]: (typeof en)[K] extends `${string}{time}${string}` ? K : never }[MessageKey];

/**
 * A timestamp in the reader's own time zone, optionally inside a message. The server renders it in UTC (it
 * cannot know the zone); the browser rewrites it after hydration, so the markup matches on first render.
 */
export function LocalTime({ iso, message, dateOnly = false }: { iso: string; message?: TimeMessageKey; /** The day only (renewal dates), no time. */ dateOnly?: boolean }) {
  const format = dateOnly ? formatDate : formatDateTime;
  const [time, setTime] = useState(() => `${format(iso, 'UTC')}${dateOnly ? '' : ' UTC'}`);
  useEffect(() => setTime(format(iso)), [iso, format]);
  return <time dateTime={iso}>{message ? t(message as 'account.lastSeen', { time }) : time}</time>;
}

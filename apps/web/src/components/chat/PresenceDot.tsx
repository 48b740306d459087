'use client';
/** A person's presence as a coloured dot with its name for screen readers (online, idle, offline). */
import { t } from '@/i18n';
import { usePresence } from './ChatProvider';

export function PresenceDot({ userId }: { userId: string | null }) {
  const status = usePresence(userId);
  if (!userId) return null;
  return <span className={`c-presence c-presence--${status}`} role="img" aria-label={t(`presence.${status}`)} data-testid="presence" data-status={status} />;
}

'use client';
/**
 * A channel's pinned messages beside the timeline, the most recently pinned first: fetched when opened and again
 * whenever a `pin` frame (or an edit or deletion of one of them) arrives, so it stays exact without a reload. Each
 * links to its place in the channel (`?m=<seq>`; a thread reply's link opens its thread at it).
 */
import Link from 'next/link';
import { useCallback, useEffect, useId, useRef, useState } from 'react';
import { PinnedMessagesDocument, type PinnedMessagesQuery } from '@circles/client';
import { t } from '@/i18n';
import { browserClient } from '@/lib/browser-api';
import { messageHref } from '@/lib/chat';
import { describeError } from '@/lib/errors';
import { Button, Spinner } from '@/ui';
import { MessageTime } from './MessageItem';
import { useChat } from './ChatProvider';

type Pinned = PinnedMessagesQuery['pinnedMessages'][number];

export function PinnedPanel({ channelId, href, onClose, headingRef }: { channelId: string; href: string; onClose(): void; headingRef: React.RefObject<HTMLHeadingElement | null> }) {
  const { socket, rememberUsers } = useChat();
  const [pins, setPins] = useState<Pinned[] | null>(null);
  const [error, setError] = useState<string>();
  const headingId = useId();
  const round = useRef(0);
  const pinsRef = useRef(pins);
  pinsRef.current = pins;

  const load = useCallback(async () => {
    const n = ++round.current;
    try {
      const { pinnedMessages } = await browserClient.request(PinnedMessagesDocument, { channelId });
      if (n !== round.current) return;
      rememberUsers(pinnedMessages.flatMap((m) => [m.author, m.pinnedBy]));
      setPins(pinnedMessages);
      setError(undefined);
    } catch (err) {
      if (n === round.current) setError(describeError(err).message);
    }
  }, [channelId, rememberUsers]);

  useEffect(() => {
    void load();
    return socket.on('frame', (frame) => {
      if (!('channelId' in frame) || frame.channelId !== channelId) return;
      const shown = (id: string) => pinsRef.current?.some((m) => m.id === id) ?? false;
      if (frame.t === 'pin' || (frame.t === 'edit' && shown(frame.message.id)) || (frame.t === 'del' && shown(frame.id))) void load();
    });
  }, [socket, channelId, load]);

  return (
    <aside className="c-chat-side" aria-labelledby={headingId} data-testid="pinned-panel">
      <div className="c-chat-side__head">
        <h2 id={headingId} ref={headingRef} tabIndex={-1}>
          {t('chat.pinnedTitle')}
        </h2>
        <Button variant="quiet" onClick={onClose} aria-label={t('chat.closePinned')}>
          ×
        </Button>
      </div>
      {error ? (
        <p className="c-field__error" role="alert">
          {error}
        </p>
      ) : null}
      {pins === null ? (
        error ? null : <Spinner label={t('common.loading')} />
      ) : pins.length ? (
        <ul className="c-chat-pins" aria-label={t('chat.pinnedList')}>
          {pins.map((m) => {
            const name = m.author?.displayName ?? '…';
            return (
              <li key={m.id} className="c-chat-pins__item" data-testid="pinned-item">
                <p className="c-chat-msg__head">
                  <span className="c-chat-msg__author">{name}</span> <MessageTime iso={m.createdAt} />
                </p>
                <p>{m.deleted ? t('chat.deleted') : m.body || t('chat.attachmentOnly')}</p>
                {m.pinnedBy ? <p className="c-small c-muted">{t('chat.pinnedBy', { name: m.pinnedBy.displayName })}</p> : null}
                <Link href={messageHref(href, m.seq, m.threadId ?? null)} aria-label={t('chat.jumpToFrom', { name })} className="c-small">
                  {t('chat.jumpTo')}
                </Link>
              </li>
            );
          })}
        </ul>
      ) : (
        <p className="c-chat-pins__empty">{t('chat.noPins')}</p>
      )}
    </aside>
  );
}

'use client';
/**
 * One message in a timeline: author header (unless it continues the previous message's group), reply quote,
 * body (plain text: chat bodies are never HTML), files, "edited", reactions, thread summary, and its actions
 * (react, reply, reply in thread, pin, edit, delete). Actions are real buttons, visible on hover and keyboard focus.
 * A pinned message carries a "Pinned" marker.
 */
import { useEffect, useId, useRef, useState, type KeyboardEvent, type ReactNode } from 'react';
import { EditChatMessageDocument, PinMessageDocument, ReactToMessageDocument, UnpinMessageDocument, UnreactToMessageDocument } from '@circles/client';
import { t } from '@/i18n';
import { browserClient } from '@/lib/browser-api';
import type { ChatMessage } from '@/lib/chat';
import { describeError } from '@/lib/errors';
import { formatBytes } from '@/lib/images';
import { COMMON_REACTIONS } from '@/lib/posts';
import { Button } from '@/ui';
import { useChat, useUser } from './ChatProvider';
import { PresenceDot } from './PresenceDot';

export interface MessageActions {
  canReact: boolean;
  /** Moderators may delete others' messages in space channels. */
  canModerate: boolean;
  /** Pin and unpin (Channel.viewerCanPin). */
  canPin: boolean;
  onReply?(m: ChatMessage): void;
  onThread?(m: ChatMessage, opener: HTMLElement): void;
  onDelete(m: ChatMessage): void;
  patch(id: string, change: (m: ChatMessage) => ChatMessage): void;
  /** The message being edited (Up arrow in the composer starts editing the last own one). */
  editingKey: string | null;
  setEditingKey(key: string | null): void;
  /** Focus the composer again (after an edit ends). */
  focusComposer(): void;
  lookup(id: string): ChatMessage | undefined;
  jumpTo?(m: ChatMessage): void;
}

export function emojiName(emoji: string): string {
  const known = COMMON_REACTIONS.find((r) => r.emoji === emoji);
  return known ? t(known.name) : emoji;
}

const timeFormat = new Intl.DateTimeFormat(undefined, { hour: 'numeric', minute: '2-digit' });
const fullFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'full', timeStyle: 'short' });

/** The time of day; rendered after hydration so the server (UTC) and the browser agree on the first render. */
export function MessageTime({ iso }: { iso: string }) {
  const [text, setText] = useState<{ short: string; full: string } | null>(null);
  useEffect(() => setText({ short: timeFormat.format(new Date(iso)), full: fullFormat.format(new Date(iso)) }), [iso]);
  return (
    <time dateTime={iso} title={text?.full} className="c-chat-msg__time">
      {text?.short ?? ''}
    </time>
  );
}

/** Plain text with @handles set off (as text: nothing from a body is ever inserted as HTML). */
function Body({ text }: { text: string }) {
  const parts: ReactNode[] = [];
  const re = /(^|\s)(@[A-Za-z0-9_]{1,32})/g;
  let last = 0;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    const start = m.index + m[1]!.length;
    parts.push(text.slice(last, start));
    parts.push(
      <span key={start} className="c-chat-mention">
        {m[2]}
      </span>,
    );
    last = start + m[2]!.length;
  }
  parts.push(text.slice(last));
  return <p className="c-chat-msg__body">{parts}</p>;
}

function ReplyQuote({ id, actions }: { id: string; actions: MessageActions }) {
  const target = actions.lookup(id);
  const author = useUser(target?.authorId ?? null);
  if (!target) return <p className="c-chat-quote c-muted">{t('chat.replyToUnloaded')}</p>;
  const text = target.deleted ? t('chat.deleted') : (target.body ?? '').slice(0, 140) || t('chat.attachmentOnly');
  return (
    <button type="button" className="c-chat-quote" onClick={() => actions.jumpTo?.(target)} aria-label={t('chat.replyToLabel', { name: author?.displayName ?? '…', text })}>
      <span aria-hidden="true">↪ </span>
      <strong>{author?.displayName ?? '…'}</strong> <span className="c-chat-quote__text">{text}</span>
    </button>
  );
}

export function ReactionPicker({ onPick, label }: { onPick(emoji: string): void; label: string }) {
  const [open, setOpen] = useState(false);
  const id = useId();
  const button = useRef<HTMLButtonElement>(null);
  const panel = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (open) panel.current?.querySelector('button')?.focus();
  }, [open]);
  const close = () => {
    setOpen(false);
    button.current?.focus();
  };
  const onKeyDown = (event: KeyboardEvent<HTMLDivElement>) => {
    if (event.key === 'Escape') {
      event.stopPropagation();
      close();
    }
  };
  return (
    <span className="c-chat-picker">
      <Button ref={button} variant="quiet" className="c-chat-msg__action" aria-label={label} aria-expanded={open} aria-controls={open ? id : undefined} onClick={() => setOpen((o) => !o)}>
        <span aria-hidden="true">☺+</span>
      </Button>
      {open ? (
        <div
          id={id}
          ref={panel}
          role="group"
          aria-label={t('chat.pickReaction')}
          className="c-chat-picker__panel"
          onKeyDown={onKeyDown}
          onBlur={(event) => {
            if (!event.currentTarget.contains(event.relatedTarget as Node | null) && event.relatedTarget !== button.current) setOpen(false);
          }}
        >
          {COMMON_REACTIONS.map((r) => (
            <button
              key={r.emoji}
              type="button"
              className="c-reaction"
              aria-label={t(r.name)}
              onClick={() => {
                onPick(r.emoji);
                close();
              }}
            >
              <span aria-hidden="true">{r.emoji}</span>
            </button>
          ))}
        </div>
      ) : null}
    </span>
  );
}

function EditBox({ message, actions }: { message: ChatMessage; actions: MessageActions }) {
  const [value, setValue] = useState(message.body ?? '');
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);
  const ref = useRef<HTMLTextAreaElement>(null);
  const errorId = useId();
  useEffect(() => {
    const el = ref.current;
    if (!el) return;
    el.focus();
    el.setSelectionRange(el.value.length, el.value.length);
  }, []);
  const stop = () => {
    actions.setEditingKey(null);
    actions.focusComposer();
  };
  const save = async () => {
    const body = value.trim();
    if (busy) return;
    if (body === (message.body ?? '').trim()) return stop();
    setBusy(true);
    setError(undefined);
    try {
      const { editMessage } = await browserClient.request(EditChatMessageDocument, { id: message.id!, body });
      actions.patch(message.id!, (m) => ({ ...m, body: editMessage.body, editedAt: editMessage.editedAt }));
      stop();
    } catch (err) {
      setError(describeError(err).message);
      setBusy(false);
    }
  };
  return (
    <div className="c-chat-edit">
      <textarea
        ref={ref}
        className="c-field__input c-chat-edit__input"
        aria-label={t('chat.editLabel')}
        aria-describedby={error ? errorId : undefined}
        aria-invalid={error ? true : undefined}
        value={value}
        rows={Math.min(8, value.split('\n').length + 1)}
        onChange={(e) => setValue(e.target.value)}
        onKeyDown={(e) => {
          if (e.key === 'Escape') {
            e.preventDefault();
            stop();
          } else if (e.key === 'Enter' && !e.shiftKey) {
            e.preventDefault();
            void save();
          }
        }}
      />
      <p className="c-small c-muted">{t('chat.editHint')}</p>
      {error ? (
        <p id={errorId} className="c-field__error" role="alert">
          {error}
        </p>
      ) : null}
      <div className="c-actions">
        <Button onClick={() => void save()} pending={busy}>
          {t('common.save')}
        </Button>
        <Button variant="secondary" onClick={stop}>
          {t('common.cancel')}
        </Button>
      </div>
    </div>
  );
}

export function MessageItem({ message, grouped, actions, inThread = false }: { message: ChatMessage; grouped: boolean; actions: MessageActions; inThread?: boolean }) {
  const { viewer, socket } = useChat();
  const author = useUser(message.authorId);
  const [error, setError] = useState<string>();
  const own = message.authorId === viewer.id;
  const name = author?.displayName ?? '…';
  const editing = actions.editingKey === message.key;

  const toggle = async (emoji: string) => {
    if (!message.id) return;
    const mine = message.reactions.find((r) => r.emoji === emoji)?.viewerReacted ?? false;
    setError(undefined);
    try {
      const result = mine
        ? (await browserClient.request(UnreactToMessageDocument, { messageId: message.id, emoji })).unreactToMessage
        : (await browserClient.request(ReactToMessageDocument, { messageId: message.id, emoji })).reactToMessage;
      actions.patch(message.id, (m) => ({ ...m, reactions: result.reactions }));
    } catch (err) {
      setError(describeError(err).message);
    }
  };

  const togglePin = async () => {
    if (!message.id) return;
    setError(undefined);
    try {
      const result = message.pinned ? (await browserClient.request(UnpinMessageDocument, { id: message.id })).unpinMessage : (await browserClient.request(PinMessageDocument, { id: message.id })).pinMessage;
      actions.patch(message.id, (m) => ({ ...m, pinned: result.pinned }));
    } catch (err) {
      setError(describeError(err).message);
    }
  };

  if (message.deleted) {
    return (
      <div className="c-chat-msg c-chat-msg--deleted" data-testid="chat-message" data-seq={message.seq ?? undefined} data-deleted="">
        <p className="c-tombstone">{t('chat.deleted')}</p>
      </div>
    );
  }

  return (
    <div
      className={['c-chat-msg', grouped ? 'c-chat-msg--grouped' : '', message.mentionsViewer ? 'c-chat-msg--mention' : '', message.pending ? `c-chat-msg--${message.pending}` : ''].filter(Boolean).join(' ')}
      data-testid="chat-message"
      data-seq={message.seq ?? undefined}
      data-pending={message.pending}
      data-pinned={message.pinned ? '' : undefined}
    >
      {message.pinned ? (
        <p className="c-chat-msg__pin" data-testid="pinned-marker">
          <span aria-hidden="true">📌 </span>
          {t('chat.pinnedMarker')}
        </p>
      ) : null}
      {message.replyToId ? <ReplyQuote id={message.replyToId} actions={actions} /> : null}
      {grouped ? (
        <span className="c-visually-hidden">{name}</span>
      ) : (
        <p className="c-chat-msg__head">
          <PresenceDot userId={message.authorId} />
          <span className="c-chat-msg__author">{name}</span> <MessageTime iso={message.createdAt} />
        </p>
      )}
      {editing ? (
        <EditBox message={message} actions={actions} />
      ) : (
        <>
          {message.body ? <Body text={message.body} /> : null}
          {message.editedAt ? (
            <span className="c-chat-msg__edited" data-testid="edited">
              {t('chat.edited')}
            </span>
          ) : null}
        </>
      )}
      {message.attachments.length ? (
        <ul className="c-chat-files" aria-label={t('chat.files')}>
          {message.attachments.map((a) => (
            <li key={a.id}>
              {a.kind === 'IMAGE' && a.thumbUrl ? (
                <a href={a.url} target="_blank" rel="noopener">
                  <img src={a.thumbUrl} alt={t('attachments.imageAlt', { name: a.name })} width={a.width && a.height ? Math.min(240, a.width) : 240} height={a.width && a.height ? Math.round((Math.min(240, a.width) * a.height) / a.width) : 160} loading="lazy" />
                </a>
              ) : (
                <a href={a.url} target="_blank" rel="noopener" download={a.name}>
                  {a.name}
                </a>
              )}{' '}
              <span className="c-muted c-small">{formatBytes(a.bytes)}</span>
            </li>
          ))}
        </ul>
      ) : null}
      {message.pending === 'sending' ? <p className="c-chat-msg__status c-muted">{t('chat.sending')}</p> : null}
      {message.pending === 'failed' ? (
        <div className="c-chat-msg__status" role="alert">
          <p className="c-field__error">{t('chat.notSent', { reason: message.error || t('errors.unknown') })}</p>
          <div className="c-actions">
            <Button variant="secondary" onClick={() => socket.retry(message.clientId)}>
              {t('chat.retry')}
            </Button>
            <Button variant="quiet" onClick={() => socket.discard(message.clientId)}>
              {t('chat.discard')}
            </Button>
          </div>
        </div>
      ) : null}
      {message.reactions.length ? (
        <div role="group" aria-label={t('chat.reactionsOf', { name })} className="c-reactions__bar c-chat-reactions" data-testid="message-reactions">
          {message.reactions.map((r) => (
            <button
              key={r.emoji}
              type="button"
              className="c-reaction"
              aria-pressed={r.viewerReacted}
              aria-label={t('reactions.toggle', { name: emojiName(r.emoji), count: r.count })}
              disabled={!actions.canReact}
              onClick={() => void toggle(r.emoji)}
            >
              <span aria-hidden="true">{r.emoji}</span>
              <span aria-hidden="true" className="c-reaction__count">
                {r.count}
              </span>
            </button>
          ))}
        </div>
      ) : null}
      {!inThread && message.replyCount > 0 && actions.onThread ? (
        <button type="button" className="c-chat-thread-link" data-testid="thread-summary" onClick={(e) => actions.onThread!(message, e.currentTarget)}>
          {message.replyCount === 1 ? t('chat.oneReply') : t('chat.replies', { count: message.replyCount })}
        </button>
      ) : null}
      {error ? <p className="c-field__error" role="alert">{error}</p> : null}
      {message.id && !editing ? (
        <div className="c-chat-msg__actions" role="group" aria-label={t('chat.actionsFor', { name })}>
          {actions.canReact ? <ReactionPicker label={t('chat.addReaction')} onPick={(emoji) => void toggle(emoji)} /> : null}
          {actions.onReply ? (
            <Button variant="quiet" className="c-chat-msg__action" onClick={() => actions.onReply!(message)}>
              {t('chat.reply')}
            </Button>
          ) : null}
          {actions.onThread && !inThread ? (
            <Button variant="quiet" className="c-chat-msg__action" onClick={(e) => actions.onThread!(message, e.currentTarget)}>
              {t('chat.replyInThread')}
            </Button>
          ) : null}
          {actions.canPin ? (
            <Button variant="quiet" className="c-chat-msg__action" onClick={() => void togglePin()}>
              {message.pinned ? t('chat.unpin') : t('chat.pin')}
            </Button>
          ) : null}
          {own ? (
            <Button variant="quiet" className="c-chat-msg__action" onClick={() => actions.setEditingKey(message.key)}>
              {t('common.edit')}
            </Button>
          ) : null}
          {own || actions.canModerate ? (
            <Button variant="quiet" className="c-chat-msg__action c-chat-msg__action--danger" onClick={() => actions.onDelete(message)}>
              {t('common.delete')}
            </Button>
          ) : null}
        </div>
      ) : null}
    </div>
  );
}

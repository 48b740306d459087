'use client';
/**
 * The message box: Enter sends, Shift+Enter starts a new line, Up arrow in an empty box edits the viewer's last
 * message; files upload at once (the posts composer's upload helper, to /media/files) and go with the message by
 * id; "X is typing…" for the others shows under it. Typing frames go out at most every 3 s (the socket throttles).
 */
import { useId, useImperativeHandle, useRef, useState, type Ref } from 'react';
import { useAttachments } from '@/components/posts/AttachmentPicker';
import { t } from '@/i18n';
import { MAX_MESSAGE_ATTACHMENTS, MAX_MESSAGE_LENGTH, type ChatMessage } from '@/lib/chat';
import { formatBytes } from '@/lib/images';
import type { FileLimitsView } from '@/lib/media';
import { Button } from '@/ui';
import { useChat, useTypingUsers, useUser } from './ChatProvider';

export interface ComposerHandle {
  focus(): void;
}

function TypingLine({ channelId, threadId }: { channelId: string; threadId: string | null }) {
  const people = useTypingUsers(channelId, threadId);
  const text =
    people.length === 0 ? '' : people.length === 1 ? t('chat.typingOne', { name: people[0]!.displayName }) : people.length === 2 ? t('chat.typingTwo', { a: people[0]!.displayName, b: people[1]!.displayName }) : t('chat.typingMany');
  // Not a live region: announcing every keystroke burst would drown the conversation out.
  return (
    <p className="c-chat-typing" data-testid="typing">
      {text}
    </p>
  );
}

function ReplyBar({ message, onCancel }: { message: ChatMessage; onCancel(): void }) {
  const author = useUser(message.authorId);
  return (
    <div className="c-chat-replybar" data-testid="replying-to">
      <span>{t('chat.replyingTo', { name: author?.displayName ?? '…' })}</span>
      <Button variant="quiet" onClick={onCancel} aria-label={t('chat.cancelReply')}>
        ×
      </Button>
    </div>
  );
}

type ComposerProps = {
  channelId: string;
  threadId?: string | null;
  label: string;
  canSend: boolean;
  limits: FileLimitsView | null;
  replyTo?: ChatMessage | null;
  onCancelReply?(): void;
  /** Up arrow in an empty box: edit the viewer's last message (returns false when there is none). */
  onEditLast?(): boolean;
  onSent?(): void;
  handle?: Ref<ComposerHandle>;
};

/** A message with files resets the upload list by remounting the box (keeping focus in it). */
export function Composer(props: ComposerProps) {
  const [round, setRound] = useState(0);
  return <ComposerBox key={round} {...props} autoFocus={round > 0} onFilesSent={() => setRound((r) => r + 1)} />;
}

function ComposerBox({
  channelId,
  threadId = null,
  label,
  canSend,
  limits,
  replyTo,
  onCancelReply,
  onEditLast,
  onSent,
  handle,
  autoFocus,
  onFilesSent,
}: ComposerProps & { autoFocus: boolean; onFilesSent(): void }) {
  const { socket } = useChat();
  const [value, setValue] = useState('');
  const [error, setError] = useState<string>();
  const files = useAttachments(limits);
  const input = useRef<HTMLTextAreaElement>(null);
  const picker = useRef<HTMLInputElement>(null);
  const id = useId();

  useImperativeHandle(handle, () => ({ focus: () => input.current?.focus() }));

  if (!canSend) {
    return <p className="c-chat-composer c-muted">{t('chat.cannotSend')}</p>;
  }

  const send = () => {
    const body = value.trim();
    const attachmentIds = files.ids();
    if (!body && attachmentIds.length === 0) return;
    if (files.busy) {
      setError(t('attachments.waitForUploads'));
      return;
    }
    if (body.length > MAX_MESSAGE_LENGTH) {
      setError(t('chat.tooLong', { max: MAX_MESSAGE_LENGTH }));
      return;
    }
    socket.send({ channelId, body, replyToId: replyTo?.id ?? null, threadId, attachmentIds });
    socket.typingDone(channelId, threadId);
    setValue('');
    setError(undefined);
    onCancelReply?.();
    onSent?.();
    if (attachmentIds.length) onFilesSent();
  };

  return (
      <form
        className="c-chat-composer"
        aria-label={label}
        onSubmit={(e) => {
          e.preventDefault();
          send();
        }}
      >
        {replyTo ? <ReplyBar message={replyTo} onCancel={() => onCancelReply?.()} /> : null}
        {files.items.length ? (
          <ul className="c-chat-uploads" aria-label={t('attachments.listLabel')}>
            {files.items.map((item) => (
              <li key={item.key} className="c-chat-upload" data-testid="attachment-item" data-status={item.status}>
                <span className="c-chat-upload__name">{item.name}</span>
                <span className="c-muted c-small">
                  {formatBytes(item.bytes)}
                  {item.status === 'uploading' ? ` · ${t('attachments.percent', { percent: item.percent })}` : null}
                  {item.status === 'processing' ? ` · ${t('attachments.processing')}` : null}
                </span>
                {item.error ? <span className="c-field__error">{item.error}</span> : null}
                <Button variant="quiet" aria-label={t('attachments.remove', { name: item.name })} onClick={() => files.remove(item.key)}>
                  ×
                </Button>
              </li>
            ))}
          </ul>
        ) : null}
        <p role="status" className="c-visually-hidden">
          {files.status}
        </p>
        <div className="c-chat-composer__row">
          {limits ? (
            <>
              <Button variant="secondary" className="c-chat-composer__attach" aria-label={t('chat.attach')} onClick={() => picker.current?.click()}>
                <span aria-hidden="true">📎</span>
              </Button>
              <input
                ref={picker}
                type="file"
                multiple
                hidden
                tabIndex={-1}
                onChange={(event) => {
                  const chosen = Array.from(event.currentTarget.files ?? []).slice(0, MAX_MESSAGE_ATTACHMENTS);
                  event.currentTarget.value = '';
                  files.add(chosen);
                }}
              />
            </>
          ) : null}
          <label htmlFor={`${id}-input`} className="c-visually-hidden">
            {label}
          </label>
          <textarea
            ref={input}
            id={`${id}-input`}
            autoFocus={autoFocus}
            className="c-field__input c-chat-composer__input"
            rows={Math.min(8, value.split('\n').length)}
            value={value}
            placeholder={label}
            aria-describedby={`${id}-hint${error ? ` ${id}-error` : ''}`}
            aria-invalid={error ? true : undefined}
            onChange={(e) => {
              setValue(e.target.value);
              if (e.target.value.trim()) socket.typing(channelId, threadId);
            }}
            onKeyDown={(e) => {
              if (e.key === 'Enter' && !e.shiftKey && !e.nativeEvent.isComposing) {
                e.preventDefault();
                send();
              } else if (e.key === 'ArrowUp' && value === '' && onEditLast) {
                if (onEditLast()) e.preventDefault();
              } else if (e.key === 'Escape' && replyTo) {
                onCancelReply?.();
              }
            }}
            onPaste={(e) => {
              const pasted = Array.from(e.clipboardData.files);
              if (pasted.length && limits) {
                e.preventDefault();
                files.add(pasted);
              }
            }}
          />
          <Button type="submit" className="c-chat-composer__send">
            {t('chat.send')}
          </Button>
        </div>
        <p id={`${id}-hint`} className="c-visually-hidden">
          {t('chat.composerHint')}
        </p>
        {error || files.error ? (
          <p id={`${id}-error`} className="c-field__error" role="alert">
            {error ?? files.error}
          </p>
        ) : null}
        <TypingLine channelId={channelId} threadId={threadId} />
      </form>
  );
}

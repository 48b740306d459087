'use client';
/**
 * An open channel (or DM): header with name and topic, the virtualized timeline (day separators, author groups,
 * older history loading above without moving what is read), the composer, and on the right a thread, the member
 * list with presence, or the pinned messages. A group's header also offers adding people and leaving. The channel
 * is marked read when its newest message is on screen while the window has focus.
 */
import { useCallback, useEffect, useId, useMemo, useRef, useState } from 'react';
import { ChatMessageDocument, DeleteChatMessageDocument, FollowThreadDocument, MarkChannelReadDocument, UnfollowThreadDocument, type MessagePageFieldsFragment } from '@circles/client';
import { t } from '@/i18n';
import { browserClient } from '@/lib/browser-api';
import { continuesGroup, dayKey, directTitle, fromApi, type ChannelView as Channel, type ChatMessage, type ChatUser } from '@/lib/chat';
import { describeError } from '@/lib/errors';
import type { FileLimitsView } from '@/lib/media';
import { Button, Dialog } from '@/ui';
import { ChannelSettingsButton } from './ChannelAdmin';
import { useChat, useUser, useWatchPresence } from './ChatProvider';
import { useShell } from './ChatShell';
import { Composer, type ComposerHandle } from './Composer';
import { GroupActions } from './GroupActions';
import { MessageItem, type MessageActions } from './MessageItem';
import { PinnedPanel } from './PinnedPanel';
import { PresenceDot } from './PresenceDot';
import { useTimeline } from './useTimeline';
import { VirtualLog, type VirtualLogHandle } from './VirtualLog';

type Row = { key: string; kind: 'day'; day: string; iso: string } | { key: string; kind: 'msg'; message: ChatMessage; grouped: boolean };

const dayFormat = new Intl.DateTimeFormat(undefined, { weekday: 'long', month: 'long', day: 'numeric', year: 'numeric' });

function DaySeparator({ iso }: { iso: string }) {
  const [text, setText] = useState('');
  useEffect(() => setText(dayFormat.format(new Date(iso))), [iso]);
  return (
    <div className="c-chat-day" role="separator" aria-label={text || undefined}>
      <span aria-hidden="true">{text}</span>
    </div>
  );
}

const isMessageRow = (row: Row) => row.kind === 'msg';

function rowsOf(messages: ChatMessage[]): Row[] {
  const rows: Row[] = [];
  let prev: ChatMessage | undefined;
  for (const m of messages) {
    const day = dayKey(m.createdAt);
    if (!prev || dayKey(prev.createdAt) !== day) rows.push({ key: `day-${day}`, kind: 'day', day, iso: m.createdAt });
    rows.push({ key: m.key, kind: 'msg', message: m, grouped: continuesGroup(prev, m) });
    prev = m;
  }
  return rows;
}

function MemberRow({ user }: { user: ChatUser }) {
  return (
    <li className="c-chat-member">
      <PresenceDot userId={user.id} />
      <span>{user.displayName}</span> <span className="c-muted c-small">@{user.handle}</span>
    </li>
  );
}

function MemberPanel({ members, onClose, headingRef }: { members: ChatUser[]; onClose(): void; headingRef: React.RefObject<HTMLHeadingElement | null> }) {
  const headingId = useId();
  useWatchPresence(members.map((m) => m.id));
  return (
    <aside className="c-chat-side" aria-labelledby={headingId} data-testid="member-panel">
      <div className="c-chat-side__head">
        <h2 id={headingId} ref={headingRef} tabIndex={-1}>
          {t('chat.members')}
        </h2>
        <Button variant="quiet" onClick={onClose} aria-label={t('chat.closeMembers')}>
          ×
        </Button>
      </div>
      <ul className="c-chat-members">
        {members.map((u) => (
          <MemberRow key={u.id} user={u} />
        ))}
      </ul>
    </aside>
  );
}

function ThreadPanel({
  channel,
  root,
  focusSeq,
  onClose,
  limits,
  actions,
  headingRef,
}: {
  channel: Channel;
  root: ChatMessage;
  /** A linked reply: its page loads, it is marked and scrolled to the middle of the panel once. */
  focusSeq: number | null;
  onClose(): void;
  limits: FileLimitsView | null;
  actions: Omit<MessageActions, 'patch' | 'lookup'>;
  headingRef: React.RefObject<HTMLHeadingElement | null>;
}) {
  const timeline = useTimeline(channel.id, root.id, null, focusSeq);
  const focused = useRef<HTMLDivElement>(null);
  const scrolledToFocus = useRef(false);
  useEffect(() => {
    if (scrolledToFocus.current || !focused.current) return;
    scrolledToFocus.current = true;
    focused.current.scrollIntoView({ block: 'center' });
  }, [timeline.messages]);
  const [follows, setFollows] = useState(root.viewerFollowsThread);
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);
  const headingId = useId();
  const composer = useRef<ComposerHandle>(null);
  const rootAuthor = useUser(root.authorId);
  useEffect(() => setFollows(root.viewerFollowsThread), [root.viewerFollowsThread]);

  const toggleFollow = async () => {
    setBusy(true);
    setError(undefined);
    try {
      const result = follows ? (await browserClient.request(UnfollowThreadDocument, { messageId: root.id! })).unfollowThread : (await browserClient.request(FollowThreadDocument, { messageId: root.id! })).followThread;
      setFollows(result.viewerFollowsThread);
    } catch (err) {
      setError(describeError(err).message);
    } finally {
      setBusy(false);
    }
  };

  const threadActions: MessageActions = {
    ...actions,
    onReply: undefined,
    onThread: undefined,
    patch: timeline.patch,
    lookup: (id) => timeline.messages.find((m) => m.id === id) ?? (root.id === id ? root : undefined),
    focusComposer: () => composer.current?.focus(),
  };
  const { viewer } = useChat();
  const onEditLast = () => {
    const own = [...timeline.messages].reverse().find((m) => m.id && !m.deleted && m.authorId === viewer.id);
    if (!own) return false;
    actions.setEditingKey(own.key);
    return true;
  };

  return (
    <aside className="c-chat-side c-chat-thread" aria-labelledby={headingId} data-testid="thread-panel">
      <div className="c-chat-side__head">
        <h2 id={headingId} ref={headingRef} tabIndex={-1}>
          {t('chat.thread')}
        </h2>
        <div className="c-actions">
          <Button variant="secondary" aria-pressed={follows} pending={busy} onClick={() => void toggleFollow()}>
            {follows ? t('chat.following') : t('chat.follow')}
          </Button>
          <Button variant="quiet" onClick={onClose} aria-label={t('chat.closeThread')}>
            ×
          </Button>
        </div>
      </div>
      {error ? <p className="c-field__error" role="alert">{error}</p> : null}
      <div className="c-chat-thread__body">
        <MessageItem message={root} grouped={false} actions={threadActions} inThread />
        <p className="c-chat-thread__count c-muted">{root.replyCount === 1 ? t('chat.oneReply') : t('chat.replies', { count: root.replyCount })}</p>
        <div role="log" aria-live="polite" aria-label={t('chat.threadRepliesTo', { name: rootAuthor?.displayName ?? '…' })} className="c-chat-thread__replies" data-testid="thread-replies">
          {timeline.hasMoreBefore ? (
            <Button variant="quiet" onClick={timeline.loadOlder} pending={timeline.loading}>
              {t('chat.loadOlder')}
            </Button>
          ) : null}
          {timeline.messages.map((m, i) => {
            const item = <MessageItem key={m.key} message={m} grouped={continuesGroup(timeline.messages[i - 1], m)} actions={threadActions} inThread />;
            return focusSeq !== null && m.seq === focusSeq ? (
              <div key={m.key} ref={focused} className="c-chat-focus" data-testid="thread-focus">
                {item}
              </div>
            ) : (
              item
            );
          })}
          {timeline.hasMoreAfter ? (
            <Button variant="quiet" onClick={timeline.loadNewer} pending={timeline.loading}>
              {t('chat.loadNewer')}
            </Button>
          ) : null}
        </div>
      </div>
      <Composer handle={composer} channelId={channel.id} threadId={root.id} label={t('chat.replyToThread')} canSend={channel.viewerCanSend} limits={limits} onEditLast={onEditLast} />
    </aside>
  );
}

export function ChannelView({
  channel: initialChannel,
  initialPage,
  focusSeq,
  thread = null,
  limits,
  members,
}: {
  channel: Channel;
  initialPage: MessagePageFieldsFragment;
  /** `?m=<seq>`: the page is centred on this message. */
  focusSeq: number | null;
  /** A link to a thread reply: this thread opens beside the timeline, at that reply. */
  thread?: { rootId: string; seq: number | null } | null;
  limits: FileLimitsView | null;
  /** Who can be in this channel (space members, or a DM's people), for the member list. */
  members: ChatUser[];
}) {
  const { viewer, socket, rememberUsers } = useChat();
  const { channels, updateChannel, mode, hrefOf } = useShell();
  const channel = channels.find((c) => c.id === initialChannel.id) ?? initialChannel;
  const timeline = useTimeline(channel.id, null, initialPage);
  const [replyTo, setReplyTo] = useState<ChatMessage | null>(null);
  const [editingKey, setEditingKey] = useState<string | null>(null);
  const [deleting, setDeleting] = useState<ChatMessage | null>(null);
  const [deleteError, setDeleteError] = useState<string>();
  const [deletePending, setDeletePending] = useState(false);
  const [side, setSide] = useState<{ kind: 'thread'; rootId: string } | { kind: 'members' } | { kind: 'pinned' } | null>(thread ? { kind: 'thread', rootId: thread.rootId } : null);
  const [threadRoot, setThreadRoot] = useState<ChatMessage | null>(null);
  const [atBottom, setAtBottom] = useState(focusSeq === null);
  const log = useRef<VirtualLogHandle>(null);
  const composer = useRef<ComposerHandle>(null);
  const sideOpener = useRef<HTMLElement | null>(null);
  const sideHeading = useRef<HTMLHeadingElement>(null);
  const logBox = useRef<HTMLDivElement>(null);
  const title = channel.kind === 'SPACE' ? `#${channel.name ?? ''}` : directTitle(channel, viewer.id);

  useEffect(() => rememberUsers(members), [members, rememberUsers]);
  const authorIds = useMemo(() => [...new Set(timeline.messages.map((m) => m.authorId).filter((id): id is string => Boolean(id)))], [timeline.messages]);
  useWatchPresence(authorIds);

  // The thread's root as the timeline shows it now (reply count, reactions), or fetched when not loaded.
  const rootInTimeline = side?.kind === 'thread' ? timeline.messages.find((m) => m.id === side.rootId) : undefined;
  useEffect(() => {
    if (side?.kind !== 'thread' || rootInTimeline) return;
    let live = true;
    browserClient.request(ChatMessageDocument, { id: side.rootId }).then(({ message }) => live && message && setThreadRoot(fromApi(message)), () => {});
    return () => {
      live = false;
    };
  }, [side, rootInTimeline, viewer.id]);
  const root = rootInTimeline ?? (threadRoot && side?.kind === 'thread' && threadRoot.id === side.rootId ? threadRoot : null);

  // Focus moves into a side panel when it opens, and back to what opened it when it closes.
  const openSide = (next: NonNullable<typeof side>, opener: HTMLElement | null) => {
    sideOpener.current = opener;
    setSide(next);
    requestAnimationFrame(() => sideHeading.current?.focus());
  };
  const closeSide = () => {
    setSide(null);
    const back = sideOpener.current;
    sideOpener.current = null;
    requestAnimationFrame(() => (back?.isConnected ? back : logBox.current?.querySelector<HTMLElement>('[role="log"]'))?.focus());
  };

  // Read when the newest message is on screen and the window has focus.
  const newestSeq = timeline.hasMoreAfter ? 0 : Math.max(0, ...timeline.messages.map((m) => m.seq ?? 0));
  const readSeq = channel.viewerReadSeq;
  const marking = useRef(0);
  const markRead = useCallback(() => {
    if (!atBottom || timeline.hasMoreAfter || document.visibilityState !== 'visible' || !document.hasFocus()) return;
    const seq = Math.max(newestSeq, socket.contiguous(channel.id) ?? 0);
    if (seq <= readSeq && channel.unreadCount === 0 && channel.mentionCount === 0) return;
    if (seq <= marking.current) return;
    marking.current = seq;
    browserClient.request(MarkChannelReadDocument, { channelId: channel.id, seq }).then(
      ({ markChannelRead }) => updateChannel(markChannelRead),
      () => {
        marking.current = 0;
      },
    );
  }, [atBottom, timeline.hasMoreAfter, newestSeq, readSeq, channel.id, channel.unreadCount, channel.mentionCount, socket, updateChannel]);
  useEffect(() => {
    const timer = setTimeout(markRead, 300);
    window.addEventListener('focus', markRead);
    document.addEventListener('visibilitychange', markRead);
    return () => {
      clearTimeout(timer);
      window.removeEventListener('focus', markRead);
      document.removeEventListener('visibilitychange', markRead);
    };
  }, [markRead]);

  const lookup = useCallback((id: string) => timeline.messages.find((m) => m.id === id), [timeline.messages]);
  const editLast = () => {
    const own = [...timeline.messages].reverse().find((m) => m.id && !m.deleted && m.authorId === viewer.id);
    if (!own) return false;
    setEditingKey(own.key);
    return true;
  };

  const actions: MessageActions = {
    canReact: channel.viewerCanSend,
    canModerate: channel.kind === 'SPACE' && (channel.viewerCanPin || channel.viewerCanManage),
    canPin: channel.viewerCanPin,
    onReply: (m) => {
      setReplyTo(m);
      composer.current?.focus();
    },
    onThread: (m, opener) => {
      if (m.id) openSide({ kind: 'thread', rootId: m.id }, opener);
    },
    onDelete: (m) => {
      setDeleteError(undefined);
      setDeleting(m);
    },
    patch: timeline.patch,
    editingKey,
    setEditingKey,
    focusComposer: () => composer.current?.focus(),
    lookup,
    jumpTo: (m) => log.current?.scrollToKey(m.key),
  };

  const confirmDelete = async () => {
    if (!deleting?.id) return;
    setDeletePending(true);
    setDeleteError(undefined);
    try {
      await browserClient.request(DeleteChatMessageDocument, { id: deleting.id });
      timeline.patch(deleting.id, (m) => ({ ...m, deleted: true, body: null, attachments: [], reactions: [] }));
      setDeleting(null);
    } catch (err) {
      setDeleteError(describeError(err).message);
    } finally {
      setDeletePending(false);
    }
  };

  const rows = useMemo(() => rowsOf(timeline.messages), [timeline.messages]);
  const focusKey = focusSeq !== null ? (timeline.messages.find((m) => m.seq === focusSeq)?.key ?? null) : null;
  const sideMembers = channel.kind === 'SPACE' ? members : channel.members;

  return (
    <div className={['c-chat-channel', side ? 'c-chat-channel--side' : ''].filter(Boolean).join(' ')} data-testid="channel-view" data-channel={channel.id}>
      <div className="c-chat-channel__main">
        <header className="c-chat-head">
          <div className="c-chat-head__text">
            <h1 className="c-chat-head__title">{title}</h1>
            {channel.topic ? <p className="c-chat-head__topic">{channel.topic}</p> : null}
            {channel.slowModeSeconds > 0 ? <p className="c-chat-head__topic c-small">{t('chat.slowModeOn', { seconds: channel.slowModeSeconds })}</p> : null}
          </div>
          <div className="c-actions">
            <Button variant="secondary" aria-pressed={side?.kind === 'pinned'} data-testid="pinned-button" onClick={(e) => (side?.kind === 'pinned' ? closeSide() : openSide({ kind: 'pinned' }, e.currentTarget))}>
              <span aria-hidden="true">📌 </span>
              {t('chat.pinnedButton')}
            </Button>
            <Button variant="secondary" aria-pressed={side?.kind === 'members'} onClick={(e) => (side?.kind === 'members' ? closeSide() : openSide({ kind: 'members' }, e.currentTarget))}>
              {t('chat.members')}
            </Button>
            {channel.kind === 'SPACE' && channel.viewerCanManage && mode.kind === 'community' ? <ChannelSettingsButton channel={channel} /> : null}
            {channel.kind === 'GROUP' ? <GroupActions channel={channel} title={title} /> : null}
          </div>
        </header>
        <div ref={logBox} className="c-chat-channel__log">
          <VirtualLog
            handle={log}
            testId="message-log"
            items={rows}
            label={t('chat.messagesIn', { name: title })}
            busy={timeline.loading}
            canAnchor={isMessageRow}
            initialKey={focusKey}
            onNearTop={timeline.hasMoreBefore ? timeline.loadOlder : undefined}
            onNearBottom={timeline.hasMoreAfter ? timeline.loadNewer : undefined}
            onAtBottomChange={setAtBottom}
            header={
              timeline.hasMoreBefore ? (
                <p className="c-chat-log__more">
                  <Button variant="quiet" onClick={timeline.loadOlder} pending={timeline.loading}>
                    {t('chat.loadOlder')}
                  </Button>
                </p>
              ) : (
                <p className="c-chat-log__start">{channel.kind === 'SPACE' ? t('chat.channelStart', { name: title }) : t('dm.start', { name: title })}</p>
              )
            }
            render={(row) =>
              row.kind === 'day' ? (
                <DaySeparator iso={row.iso} />
              ) : (
                <div className={focusSeq !== null && row.message.seq === focusSeq ? 'c-chat-focus' : undefined}>
                  <MessageItem message={row.message} grouped={row.grouped} actions={actions} />
                </div>
              )
            }
          />
          {!atBottom && !timeline.hasMoreAfter ? (
            <Button variant="secondary" className="c-chat-jump" onClick={() => log.current?.scrollToBottom()}>
              {t('chat.jumpToNewest')}
            </Button>
          ) : null}
          {timeline.hasMoreAfter ? (
            <Button variant="secondary" className="c-chat-jump" onClick={timeline.loadNewer} pending={timeline.loading}>
              {t('chat.loadNewer')}
            </Button>
          ) : null}
        </div>
        <Composer
          handle={composer}
          channelId={channel.id}
          label={t('chat.messageTo', { name: title })}
          canSend={channel.viewerCanSend}
          limits={limits}
          replyTo={replyTo}
          onCancelReply={() => setReplyTo(null)}
          onEditLast={editLast}
          onSent={() => log.current?.scrollToBottom()}
        />
      </div>
      {side?.kind === 'thread' && root ? (
        <ThreadPanel
          key={root.id}
          channel={channel}
          root={root}
          focusSeq={thread && thread.rootId === root.id ? thread.seq : null}
          onClose={closeSide}
          limits={limits}
          actions={actions}
          headingRef={sideHeading}
        />
      ) : side?.kind === 'members' ? (
        <MemberPanel members={sideMembers} onClose={closeSide} headingRef={sideHeading} />
      ) : side?.kind === 'pinned' ? (
        <PinnedPanel channelId={channel.id} href={hrefOf(channel.id)} onClose={closeSide} headingRef={sideHeading} />
      ) : null}
      <Dialog open={deleting !== null} onClose={() => !deletePending && setDeleting(null)} title={t('chat.deleteTitle')} description={<p>{t('chat.deleteWarning')}</p>}>
        {deleteError ? <p className="c-field__error" role="alert">{deleteError}</p> : null}
        <div className="c-actions">
          <Button variant="danger" pending={deletePending} onClick={() => void confirmDelete()}>
            {t('common.delete')}
          </Button>
          <Button variant="secondary" onClick={() => setDeleting(null)} disabled={deletePending}>
            {t('common.cancel')}
          </Button>
        </div>
      </Dialog>
    </div>
  );
}

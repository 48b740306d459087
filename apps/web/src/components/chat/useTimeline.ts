'use client';
/**
 * One timeline's messages (a channel's main timeline, or one thread's replies), kept live: history pages from the
 * API, the socket's events (new, edited, deleted, reactions, thread summaries, pins), what a reconnect caught up,
 * and the viewer's own sends shown at once and replaced by the stored message when acknowledged.
 */
import { useCallback, useEffect, useRef, useState, useSyncExternalStore } from 'react';
import { ChatMessageDocument, ChatMessagesDocument, type MessagePageFieldsFragment } from '@circles/client';
import { browserClient } from '@/lib/browser-api';
import { applyReaction, CHAT_PAGE, fromApi, fromOutbox, fromWire, mergeMessages, needsLinks, type ChatMessage } from '@/lib/chat';
import type { OutboxEntry } from '@/lib/chat-socket';
import { useChat } from './ChatProvider';

export interface Timeline {
  messages: ChatMessage[];
  hasMoreBefore: boolean;
  hasMoreAfter: boolean;
  loading: boolean;
  loadOlder(): void;
  loadNewer(): void;
  /** Applies a change made here (an edit, a reaction toggled) before its event arrives. */
  patch(id: string, change: (m: ChatMessage) => ChatMessage): void;
}

const emptyOutbox: OutboxEntry[] = [];

export function useTimeline(
  channelId: string,
  threadId: string | null,
  initial: MessagePageFieldsFragment | null,
  /** Without `initial`: the first page is centred on this number rather than the newest (a link into a thread). */
  around: number | null = null,
): Timeline {
  const { socket, viewer, rememberUsers } = useChat();
  const [stored, setStored] = useState<ChatMessage[]>(() => (initial ? initial.messages.map(fromApi) : []));
  const [hasMoreBefore, setHasMoreBefore] = useState(initial?.hasMoreBefore ?? false);
  const [hasMoreAfter, setHasMoreAfter] = useState(initial?.hasMoreAfter ?? false);
  const [loading, setLoading] = useState(initial === null);
  const busy = useRef(false);
  const storedRef = useRef(stored);
  storedRef.current = stored;
  const hasMoreAfterRef = useRef(hasMoreAfter);
  hasMoreAfterRef.current = hasMoreAfter;

  const outbox = useSyncExternalStore(
    useCallback((onChange) => socket.on('outbox', onChange), [socket]),
    () => socket.outbox,
    () => emptyOutbox,
  );
  const outboxRef = useRef(outbox);
  outboxRef.current = outbox;

  const ours = (m: { channelId: string; threadId?: string | null }) => m.channelId === channelId && (m.threadId ?? null) === threadId;

  const fetchPage = useCallback(
    async (args: { before?: number; after?: number; around?: number }) => {
      const { messages } = await browserClient.request(ChatMessagesDocument, { channelId, ...(threadId ? { threadId } : {}), ...args, first: CHAT_PAGE });
      rememberUsers(messages.messages.map((m) => m.author));
      return messages;
    },
    [channelId, threadId, rememberUsers],
  );

  // A thread opened without its replies (the panel) loads them here.
  useEffect(() => {
    if (initial) return;
    let live = true;
    fetchPage(around !== null ? { around } : {}).then(
      (page) => {
        if (!live) return;
        setStored((list) => mergeMessages(list, page.messages.map(fromApi)));
        setHasMoreBefore(page.hasMoreBefore);
        setHasMoreAfter(page.hasMoreAfter);
        setLoading(false);
      },
      () => live && setLoading(false),
    );
    return () => {
      live = false;
    };
  }, [initial, fetchPage, viewer.id, around]);

  useEffect(() => {
    if (initial) rememberUsers(initial.messages.map((m) => m.author));
  }, [initial, rememberUsers]);

  // The main timeline, once it reaches the newest message, is tracked by sequence number (gaps filled, reconnects
  // caught up by the socket module).
  useEffect(() => {
    if (threadId || hasMoreAfter) return;
    const newest = storedRef.current.reduce((n, m) => Math.max(n, m.seq ?? 0), 0);
    socket.track(channelId, newest);
    socket.catchUpNow(channelId);
    return () => socket.untrack(channelId);
  }, [socket, channelId, threadId, hasMoreAfter]);

  useEffect(() => {
    let wasOpen = socket.state === 'open';
    // What the socket caught up (a gap, a reconnect) holds both timelines: each keeps its own.
    const offHistory = socket.on('history', ({ channelId: id, messages }) => {
      if (id !== channelId || hasMoreAfterRef.current) return;
      const mine = messages.filter((m) => m.threadId === threadId);
      if (mine.length) setStored((list) => mergeMessages(list, mine));
    });
    const offAck = socket.on('ack', (ack) => {
      const entry = outboxRef.current.find((e) => e.clientId === ack.clientId);
      if (!entry || !ours(entry)) return;
      // Shown as stored at once; the live event (or the fallback's answer) brings the server's copy.
      const shown: ChatMessage = ack.message ?? { ...fromOutbox(entry, viewer.id), key: ack.id, id: ack.id, seq: ack.seq, pending: undefined, error: undefined };
      setStored((list) => (list.some((m) => m.id === ack.id) ? list : mergeMessages(list, [shown])));
    });
    const offState = socket.on('state', (state) => {
      // A thread is not tracked by sequence: after a reconnect, fetch what came after the last reply shown.
      if (state === 'open' && wasOpen === false && threadId) {
        const last = storedRef.current.reduce((n, m) => Math.max(n, m.seq ?? 0), 0);
        fetchPage({ after: last }).then((page) => setStored((list) => mergeMessages(list, page.messages.map(fromApi))), () => {});
      }
      wasOpen = state === 'open';
    });
    // Files on a live message come with signed links; only a frame without them sends us to the API.
    const withLinks = (id: string) =>
      browserClient.request(ChatMessageDocument, { id }).then(
        ({ message }) => message && setStored((list) => (list.some((m) => m.id === id) ? list.map((m) => (m.id === id ? { ...fromApi(message), reactions: m.reactions } : m)) : list)),
        () => {},
      );
    const update = (id: string, change: (m: ChatMessage) => ChatMessage) => setStored((list) => (list.some((m) => m.id === id) ? list.map((m) => (m.id === id ? change(m) : m)) : list));
    const offFrame = socket.on('frame', (frame) => {
      if (!('channelId' in frame) || frame.channelId !== channelId) return;
      switch (frame.t) {
        case 'msg':
          if (!ours(frame.message) || hasMoreAfterRef.current) return;
          setStored((list) => mergeMessages(list, [fromWire(frame.message, viewer.id, list.find((m) => m.id === frame.message.id))]));
          if (needsLinks(frame.message)) void withLinks(frame.message.id);
          break;
        case 'edit':
          update(frame.message.id, (m) => fromWire(frame.message, viewer.id, m));
          if (needsLinks(frame.message)) void withLinks(frame.message.id);
          break;
        case 'del':
          update(frame.id, (m) => ({ ...m, deleted: true, body: null, authorId: null, attachments: [], reactions: [] }));
          break;
        case 'react':
          update(frame.messageId, (m) => ({ ...m, reactions: applyReaction(m.reactions, frame.emoji, frame.count, frame.userId === viewer.id ? frame.added : undefined) }));
          break;
        case 'thread':
          update(frame.rootId, (m) => ({ ...m, replyCount: frame.replyCount, lastReplyAt: frame.lastReplyAt }));
          break;
        case 'pin':
          update(frame.messageId, (m) => ({ ...m, pinned: frame.pinned }));
          break;
        default:
          break;
      }
    });
    return () => {
      offHistory();
      offAck();
      offState();
      offFrame();
    };
    // `ours` depends only on channelId and threadId.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [socket, channelId, threadId, viewer.id, fetchPage]);

  const loadOlder = useCallback(() => {
    const first = storedRef.current.find((m) => m.seq !== null)?.seq;
    if (busy.current || !hasMoreBefore || first == null) return;
    busy.current = true;
    setLoading(true);
    fetchPage({ before: first })
      .then((page) => {
        setStored((list) => mergeMessages(list, page.messages.map(fromApi)));
        setHasMoreBefore(page.hasMoreBefore);
      }, () => {})
      .finally(() => {
        busy.current = false;
        setLoading(false);
      });
  }, [hasMoreBefore, fetchPage, viewer.id]);

  const loadNewer = useCallback(() => {
    const last = storedRef.current.reduce((n, m) => Math.max(n, m.seq ?? 0), 0);
    if (busy.current || !hasMoreAfter) return;
    busy.current = true;
    setLoading(true);
    fetchPage({ after: last })
      .then((page) => {
        setStored((list) => mergeMessages(list, page.messages.map(fromApi)));
        setHasMoreAfter(page.hasMoreAfter);
      }, () => {})
      .finally(() => {
        busy.current = false;
        setLoading(false);
      });
  }, [hasMoreAfter, fetchPage, viewer.id]);

  const patch = useCallback((id: string, change: (m: ChatMessage) => ChatMessage) => setStored((list) => list.map((m) => (m.id === id ? change(m) : m))), []);

  // The viewer's sends not stored yet, after the stored messages.
  const pending = outbox.filter((e) => ours(e) && !stored.some((m) => m.clientId === e.clientId && m.authorId === viewer.id)).map((e) => fromOutbox(e, viewer.id));
  const messages = pending.length ? mergeMessages(stored, pending) : stored;

  return { messages, hasMoreBefore, hasMoreAfter, loading, loadOlder, loadNewer, patch };
}

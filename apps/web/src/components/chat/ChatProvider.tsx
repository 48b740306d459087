'use client';
/**
 * One chat connection per page, shared by everything under the chat layouts through context: the socket, who the
 * viewer is, and three small stores the socket feeds (people's names, their presence, who is typing where).
 * Components read the stores with useSyncExternalStore, so an event re-renders only what shows it.
 */
import { createContext, useContext, useEffect, useMemo, useState, useSyncExternalStore, type ReactNode } from 'react';
import { ChatMessageDocument, ChatMessagesDocument, SendChatMessageDocument } from '@circles/client';
import { browserClient } from '@/lib/browser-api';
import { CHAT_PAGE, fromApi, type ChatMessage, type ChatUser } from '@/lib/chat';
import { ChatSocket, type ConnectionState, type PresenceStatus } from '@/lib/chat-socket';

/** How long a "typing" frame counts (the protocol: 6 s unless repeated). */
const TYPING_SHOWN_MS = 6_000;

/** A value with subscribers, for useSyncExternalStore. */
class Store<T> {
  private readonly listeners = new Set<() => void>();
  constructor(private value: T) {}
  get = () => this.value;
  set(next: T) {
    if (next === this.value) return;
    this.value = next;
    for (const l of this.listeners) l();
  }
  subscribe = (listener: () => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };
}

export interface ChatContextValue {
  socket: ChatSocket<ChatMessage>;
  viewer: ChatUser;
  users: Store<ReadonlyMap<string, ChatUser>>;
  presence: Store<ReadonlyMap<string, PresenceStatus>>;
  /** `${channelId}:${threadId ?? ''}` → userId → until (ms). */
  typing: Store<ReadonlyMap<string, ReadonlyMap<string, number>>>;
  state: Store<ConnectionState>;
  rememberUsers(users: (ChatUser | null | undefined)[]): void;
}

const ChatContext = createContext<ChatContextValue | null>(null);

export function useChat(): ChatContextValue {
  const value = useContext(ChatContext);
  if (!value) throw new Error('useChat outside ChatProvider');
  return value;
}

export function useConnectionState(): ConnectionState {
  const { state } = useChat();
  return useSyncExternalStore(state.subscribe, state.get, () => 'connecting' as const);
}

export function useUser(id: string | null): ChatUser | null {
  const { users } = useChat();
  const map = useSyncExternalStore(users.subscribe, users.get, users.get);
  return id ? (map.get(id) ?? null) : null;
}

export function usePresence(id: string | null): PresenceStatus {
  const { presence } = useChat();
  const map = useSyncExternalStore(presence.subscribe, presence.get, presence.get);
  return (id && map.get(id)) || 'offline';
}

/** Who (other than the viewer) is typing in a channel's timeline or one of its threads. */
export function useTypingUsers(channelId: string, threadId: string | null): ChatUser[] {
  const { typing, users, viewer } = useChat();
  const map = useSyncExternalStore(typing.subscribe, typing.get, typing.get);
  const people = useSyncExternalStore(users.subscribe, users.get, users.get);
  const entry = map.get(`${channelId}:${threadId ?? ''}`);
  const now = Date.now();
  return entry ? [...entry].filter(([id, until]) => until > now && id !== viewer.id).map(([id]) => people.get(id) ?? { id, handle: '', displayName: '…' }) : [];
}

async function catchUp(channelId: string, after: number, remember: (u: (ChatUser | null)[]) => void) {
  // Thread replies included: every number comes back in sequence, so the contiguous position is exact.
  const { messages } = await browserClient.request(ChatMessagesDocument, { channelId, after, first: CHAT_PAGE, includeThreadReplies: true });
  remember(messages.messages.map((m) => m.author));
  return { messages: messages.messages.map(fromApi), hasMoreAfter: messages.hasMoreAfter };
}

export function ChatProvider({ viewer, children }: { viewer: ChatUser; children: ReactNode }) {
  const value = useMemo<ChatContextValue>(() => {
    const users = new Store<ReadonlyMap<string, ChatUser>>(new Map([[viewer.id, viewer]]));
    const rememberUsers = (list: (ChatUser | null | undefined)[]) => {
      const current = users.get();
      const fresh = list.filter((u): u is ChatUser => Boolean(u) && current.get(u!.id)?.displayName !== u!.displayName);
      if (fresh.length) users.set(new Map([...current, ...fresh.map((u) => [u.id, u] as const)]));
    };
    const socket = new ChatSocket<ChatMessage>({
      catchUp: (channelId, after) => catchUp(channelId, after, rememberUsers),
      async sendFallback(entry) {
        const { sendMessage } = await browserClient.request(SendChatMessageDocument, {
          input: {
            channelId: entry.channelId,
            clientId: entry.clientId,
            body: entry.body,
            ...(entry.replyToId ? { replyToId: entry.replyToId } : {}),
            ...(entry.threadId ? { threadId: entry.threadId } : {}),
            ...(entry.attachmentIds?.length ? { attachmentIds: entry.attachmentIds } : {}),
          },
        });
        return { id: sendMessage.message.id, seq: sendMessage.message.seq, message: fromApi(sendMessage.message) };
      },
    });
    return {
      socket,
      viewer,
      users,
      presence: new Store<ReadonlyMap<string, PresenceStatus>>(new Map()),
      typing: new Store<ReadonlyMap<string, ReadonlyMap<string, number>>>(new Map()),
      state: new Store<ConnectionState>('connecting'),
      rememberUsers,
    };
  }, [viewer]);

  useEffect(() => {
    const { socket, presence, typing, state, users, rememberUsers } = value;
    const lookingUp = new Set<string>();
    const offState = socket.on('state', (s) => state.set(s));
    const offFrame = socket.on('frame', (frame) => {
      if (frame.t === 'presence') {
        presence.set(new Map([...presence.get(), ...frame.users.map((u) => [u.id, u.status] as const)]));
      } else if (frame.t === 'typing') {
        const key = `${frame.channelId}:${frame.threadId ?? ''}`;
        const next = new Map(typing.get());
        next.set(key, new Map([...(next.get(key) ?? []), [frame.userId, Date.now() + TYPING_SHOWN_MS]]));
        typing.set(next);
      } else if (frame.t === 'msg') {
        // Whoever sent it has stopped typing.
        const key = `${frame.channelId}:${frame.message.threadId ?? ''}`;
        const entry = typing.get().get(key);
        if (entry?.has(frame.message.authorId ?? '')) {
          const next = new Map(typing.get());
          const people = new Map(entry);
          people.delete(frame.message.authorId ?? '');
          next.set(key, people);
          typing.set(next);
        }
      }
      // The socket names authors by id: learn the names of people not seen yet from the message itself.
      if ((frame.t === 'msg' || frame.t === 'edit') && frame.message.authorId && !users.get().has(frame.message.authorId) && !lookingUp.has(frame.message.authorId)) {
        const authorId = frame.message.authorId;
        lookingUp.add(authorId);
        browserClient
          .request(ChatMessageDocument, { id: frame.message.id })
          .then(({ message }) => rememberUsers([message?.author]))
          .catch(() => {})
          .finally(() => lookingUp.delete(authorId));
      }
    });
    // Typing lines expire on their own: re-render once a second while any is shown.
    const sweep = setInterval(() => {
      const now = Date.now();
      const current = typing.get();
      let changed = false;
      const next = new Map<string, ReadonlyMap<string, number>>();
      for (const [key, people] of current) {
        const alive = new Map([...people].filter(([, until]) => until > now));
        if (alive.size !== people.size) changed = true;
        if (alive.size) next.set(key, alive);
      }
      if (changed) typing.set(next);
    }, 1_000);
    socket.start();
    return () => {
      offState();
      offFrame();
      clearInterval(sweep);
      socket.stop();
    };
  }, [value]);

  return <ChatContext.Provider value={value}>{children}</ChatContext.Provider>;
}

/** The people whose presence a component shows: watched while it is mounted (merged across components). */
export function useWatchPresence(userIds: string[]): void {
  const { socket } = useChat();
  const [registry] = useState(() => watchRegistry);
  const key = [...new Set(userIds)].sort().join(',');
  useEffect(() => {
    const ids = key ? key.split(',') : [];
    const token = {};
    registry.set(token, ids);
    socket.watch([...registry.values()].flat());
    return () => {
      registry.delete(token);
      socket.watch([...registry.values()].flat());
    };
  }, [key, socket, registry]);
}
const watchRegistry = new Map<object, string[]>();

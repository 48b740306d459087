'use client';
/**
 * The chat screen's frame, Slack-like: the channel list on the left (every readable space's channels, or the
 * viewer's DMs and groups), the open channel beside it, and a banner while the connection is being restored.
 * The list stays live: it subscribes to every channel it shows, follows the community's channel list (a `channels`
 * frame refetches it: new channels appear, deleted ones go, renames and reorders show), counts unread messages and
 * mentions as they arrive, follows the viewer's other devices' read positions, and refetches exact counts after a
 * reconnect. The DM list refetches a conversation on its `dm` frame (created, people added, someone left).
 */
import Link from 'next/link';
import { usePathname, useRouter } from 'next/navigation';
import { createContext, useCallback, useContext, useEffect, useMemo, useRef, useState, type ReactNode } from 'react';
import { ChatChannelDocument, ChatChannelsDocument, DirectChannelsDocument } from '@circles/client';
import { t } from '@/i18n';
import { browserClient } from '@/lib/browser-api';
import { chatPath, directPath, directTitle, type ChannelView } from '@/lib/chat';
import { CreateChannelButton } from './ChannelAdmin';
import { useChat, useConnectionState } from './ChatProvider';

export interface ChatSpace {
  id: string;
  name: string;
  kind: 'PUBLIC_CENTER' | 'CIRCLE';
  /** The viewer may create channels here. */
  canManage: boolean;
}

type Mode = { kind: 'community'; slug: string; communityId: string; communityName: string; spaces: ChatSpace[] } | { kind: 'direct' };

interface ShellContextValue {
  channels: ChannelView[];
  mode: Mode;
  /** Merges a channel's new fields (after a mutation or a refetch) into the list. */
  updateChannel(channel: Partial<ChannelView> & { id: string }): void;
  removeChannel(id: string): void;
  addChannel(channel: ChannelView): void;
  hrefOf(channelId: string): string;
}

const ShellContext = createContext<ShellContextValue | null>(null);

export function useShell(): ShellContextValue {
  const value = useContext(ShellContext);
  if (!value) throw new Error('useShell outside ChatShell');
  return value;
}

const activeIdFrom = (pathname: string) => pathname.match(/\/(?:chat|messages)\/([0-9a-f-]{36})(?:$|\/)/)?.[1] ?? null;

function ConnectionBanner() {
  const state = useConnectionState();
  const message = state === 'reconnecting' ? t('chat.reconnecting') : state === 'ended' ? t('chat.sessionEnded') : '';
  // Always mounted: a live region announces changes of its text, not its arrival.
  return (
    <div role="status" className="c-chat__banner-region" data-testid="chat-connection" data-state={state}>
      {message ? <p className={`c-alert c-alert--${state === 'ended' ? 'warning' : 'info'} c-chat__banner`}>{message}</p> : null}
    </div>
  );
}

function Badges({ channel }: { channel: ChannelView }) {
  return (
    <>
      {channel.mentionCount > 0 ? (
        <span className="c-chat-badge c-chat-badge--mention" data-testid="mention-badge">
          <span aria-hidden="true">@{channel.mentionCount}</span>
          <span className="c-visually-hidden">{channel.mentionCount === 1 ? t('chat.mentionOne') : t('chat.mentions', { count: channel.mentionCount })}</span>
        </span>
      ) : null}
      {channel.unreadCount > 0 ? (
        <span className="c-chat-badge" data-testid="unread-badge">
          <span aria-hidden="true">{channel.unreadCount > 99 ? '99+' : channel.unreadCount}</span>
          <span className="c-visually-hidden">{t('chat.unread', { count: channel.unreadCount })}</span>
        </span>
      ) : null}
    </>
  );
}

function ChannelLink({ channel, href, active, title }: { channel: ChannelView; href: string; active: boolean; title: string }) {
  const unread = channel.unreadCount > 0 || channel.mentionCount > 0;
  return (
    <li>
      <Link
        href={href}
        className={['c-chat-nav__link', unread ? 'c-chat-nav__link--unread' : '', active ? 'c-chat-nav__link--active' : ''].filter(Boolean).join(' ')}
        aria-current={active ? 'page' : undefined}
        data-testid="channel-link"
        data-channel={channel.id}
      >
        <span className="c-chat-nav__name">
          {channel.kind === 'SPACE' ? <span aria-hidden="true">#</span> : null}
          {title}
        </span>
        <Badges channel={channel} />
      </Link>
    </li>
  );
}

export function ChatShell({ mode, initialChannels, children }: { mode: Mode; initialChannels: ChannelView[]; children: ReactNode }) {
  const { socket, viewer, rememberUsers } = useChat();
  const [channels, setChannels] = useState(initialChannels);
  const pathname = usePathname();
  const router = useRouter();
  const activeId = activeIdFrom(pathname);
  const activeRef = useRef(activeId);
  activeRef.current = activeId;
  const channelsRef = useRef(channels);
  channelsRef.current = channels;

  useEffect(() => rememberUsers(initialChannels.flatMap((c) => c.members)), [initialChannels, rememberUsers]);

  const hrefOf = useCallback((channelId: string) => (mode.kind === 'community' ? chatPath(mode.slug, channelId) : directPath(channelId)), [mode]);

  const updateChannel = useCallback((patch: Partial<ChannelView> & { id: string }) => {
    setChannels((all) => all.map((c) => (c.id === patch.id ? { ...c, ...patch } : c)));
  }, []);
  const removeChannel = useCallback((id: string) => setChannels((all) => all.filter((c) => c.id !== id)), []);
  const addChannel = useCallback((channel: ChannelView) => setChannels((all) => (all.some((c) => c.id === channel.id) ? all : [...all, channel])), []);

  // Several refetches may overlap (a burst of `channels` frames): only the latest one's answer is shown.
  const refetchRound = useRef(0);
  const refetchAll = useCallback(async () => {
    const round = ++refetchRound.current;
    try {
      if (mode.kind === 'community') {
        const lists = await Promise.all(mode.spaces.map((s) => browserClient.request(ChatChannelsDocument, { communityId: mode.communityId, spaceId: s.id }).then((r) => r.channels, () => null)));
        if (round !== refetchRound.current) return;
        setChannels((all) => {
          const fresh = lists.flatMap((l, i) => l ?? all.filter((c) => c.spaceId === mode.spaces[i]!.id));
          return fresh;
        });
      } else {
        const { directChannels } = await browserClient.request(DirectChannelsDocument, { first: 100 });
        if (round !== refetchRound.current) return;
        rememberUsers(directChannels.channels.flatMap((c) => c.members));
        setChannels(directChannels.channels);
      }
    } catch {
      // The list keeps what it showed; the next reconnect tries again.
    }
  }, [mode, rememberUsers]);

  const refetchOne = useCallback(
    async (id: string) => {
      try {
        const { channel } = await browserClient.request(ChatChannelDocument, { id });
        if (!channel) setChannels((all) => all.filter((c) => c.id !== id));
        else setChannels((all) => (all.some((c) => c.id === id) ? all.map((c) => (c.id === id ? channel : c)) : [...all, channel]));
      } catch {
        // Shown as it was.
      }
    },
    [],
  );

  const ids = channels.map((c) => c.id).join(',');
  const subscribed = useRef<string[]>([]);
  useEffect(() => {
    const list = ids ? ids.split(',') : [];
    // Channels that left the list (deleted, hidden, left) are not listened to any more.
    socket.unsubscribe(subscribed.current.filter((id) => !list.includes(id)));
    socket.subscribe(list);
    subscribed.current = list;
  }, [ids, socket]);

  // The community's channel list, followed while it is shown (the socket follows again after a reconnect).
  const followedCommunity = mode.kind === 'community' ? mode.communityId : null;
  // Whether the server confirmed it (`following`); lost with the connection until it confirms again.
  const [following, setFollowing] = useState(false);
  useEffect(() => {
    if (!followedCommunity) return;
    const offState = socket.on('state', (state) => state !== 'open' && setFollowing(false));
    const offFrame = socket.on('frame', (frame) => frame.t === 'following' && frame.communityId === followedCommunity && setFollowing(true));
    socket.follow([followedCommunity]);
    return () => {
      offState();
      offFrame();
      socket.unfollow([followedCommunity]);
      setFollowing(false);
    };
  }, [socket, followedCommunity]);

  useEffect(() => {
    let wasOpen = false;
    const offState = socket.on('state', (state) => {
      // Back after a disconnection: whatever happened meanwhile is in the server's counts.
      if (state === 'open' && wasOpen) void refetchAll();
      if (state === 'open') wasOpen = true;
    });
    const offFrame = socket.on('frame', (frame) => {
      switch (frame.t) {
        case 'msg': {
          const m = frame.message;
          setChannels((all) =>
            all.map((c) => {
              if (c.id !== frame.channelId) return c;
              const counts = !m.threadId && m.authorId !== viewer.id && frame.channelId !== activeRef.current;
              return { ...c, lastSeq: Math.max(c.lastSeq, m.seq), lastActivityAt: m.createdAt, unreadCount: counts ? c.unreadCount + 1 : c.unreadCount };
            }),
          );
          if (mode.kind === 'direct' && !channelsRef.current.some((c) => c.id === frame.channelId)) void refetchOne(frame.channelId);
          break;
        }
        case 'mention':
          if (frame.channelId !== activeRef.current) setChannels((all) => all.map((c) => (c.id === frame.channelId ? { ...c, mentionCount: c.mentionCount + 1 } : c)));
          break;
        case 'read': {
          // The viewer read this far on some device (sending reads one's own message too). Read to the end: nothing
          // is unread; read partway: exact counts come from the server.
          const c = channelsRef.current.find((x) => x.id === frame.channelId);
          if (!c || frame.seq <= c.viewerReadSeq) break;
          if (frame.seq >= c.lastSeq) setChannels((all) => all.map((x) => (x.id === frame.channelId ? { ...x, viewerReadSeq: frame.seq, unreadCount: 0, mentionCount: 0 } : x)));
          else void refetchOne(frame.channelId);
          break;
        }
        case 'channel':
          if (frame.change === 'deleted') {
            setChannels((all) => all.filter((c) => c.id !== frame.channelId));
            if (frame.channelId === activeRef.current) router.push(mode.kind === 'community' ? chatPath(mode.slug) : directPath());
          } else void refetchOne(frame.channelId);
          break;
        case 'revoked':
          setChannels((all) => all.filter((c) => c.id !== frame.channelId));
          if (frame.channelId === activeRef.current) router.push(mode.kind === 'community' ? chatPath(mode.slug) : directPath());
          break;
        case 'dm':
          if (mode.kind === 'direct') void refetchOne(frame.channelId);
          break;
        case 'channels':
          if (mode.kind === 'community' && frame.communityId === mode.communityId) void refetchAll();
          break;
        default:
          break;
      }
    });
    return () => {
      offState();
      offFrame();
    };
  }, [socket, viewer.id, mode, refetchAll, refetchOne, router]);

  const shell = useMemo<ShellContextValue>(() => ({ channels, mode, updateChannel, removeChannel, addChannel, hrefOf }), [channels, mode, updateChannel, removeChannel, addChannel, hrefOf]);

  return (
    <ShellContext.Provider value={shell}>
      <div className="c-chat" data-testid="chat" data-following={mode.kind === 'community' ? String(following) : undefined}>
        <ConnectionBanner />
        <div className="c-chat__body">
          <nav className="c-chat-nav" aria-label={mode.kind === 'community' ? t('chat.channelsOf', { name: mode.communityName }) : t('chat.directMessages')}>
            {mode.kind === 'community' ? (
              <>
                <p className="c-chat-nav__title">
                  <Link href={`/c/${mode.slug}`}>{mode.communityName}</Link>
                </p>
                {mode.spaces.map((space) => {
                  const list = channels.filter((c) => c.spaceId === space.id).sort((a, b) => a.position - b.position);
                  const name = space.kind === 'PUBLIC_CENTER' ? t('space.publicCenter') : space.name;
                  return (
                    <section key={space.id} className="c-chat-nav__section" aria-label={name}>
                      <div className="c-chat-nav__section-head">
                        <h2 className="c-chat-nav__heading">{name}</h2>
                        {space.canManage ? <CreateChannelButton communityId={mode.communityId} space={{ id: space.id, name }} /> : null}
                      </div>
                      {list.length ? (
                        <ul className="c-chat-nav__list">
                          {list.map((c) => (
                            <ChannelLink key={c.id} channel={c} href={hrefOf(c.id)} active={c.id === activeId} title={c.name ?? ''} />
                          ))}
                        </ul>
                      ) : (
                        <p className="c-chat-nav__empty">{t('chat.noChannels')}</p>
                      )}
                    </section>
                  );
                })}
              </>
            ) : (
              <>
                <div className="c-chat-nav__section-head">
                  <h2 className="c-chat-nav__heading">{t('chat.directMessages')}</h2>
                  <Link href={directPath()} className="c-button c-button--quiet c-chat-nav__new">
                    {t('dm.new')}
                  </Link>
                </div>
                {channels.length ? (
                  <ul className="c-chat-nav__list">
                    {[...channels]
                      .sort((a, b) => b.lastActivityAt.localeCompare(a.lastActivityAt))
                      .map((c) => (
                        <ChannelLink key={c.id} channel={c} href={hrefOf(c.id)} active={c.id === activeId} title={directTitle(c, viewer.id)} />
                      ))}
                  </ul>
                ) : (
                  <p className="c-chat-nav__empty">{t('dm.none')}</p>
                )}
              </>
            )}
          </nav>
          <div className="c-chat__main">{children}</div>
        </div>
      </div>
    </ShellContext.Provider>
  );
}

'use client';
/**
 * A group conversation's own actions, in its header: "Add people" (search the members of the viewer's communities,
 * as when starting a conversation; a group has at most 10 people) and "Leave conversation" (confirmed; then back to
 * the list). The DM list learns of both from the server's `dm` frames; the viewer's own list is updated at once.
 */
import { useRouter } from 'next/navigation';
import { useRef, useState } from 'react';
import { AddChannelMembersDocument, CommunityMembersDocument, LeaveChannelDocument, MyCommunitiesDocument } from '@circles/client';
import { t } from '@/i18n';
import { browserClient } from '@/lib/browser-api';
import { directPath, type ChannelView, type ChatUser } from '@/lib/chat';
import { describeError } from '@/lib/errors';
import { Button, Dialog, EmptyState, TextField } from '@/ui';
import { useChat } from './ChatProvider';
import { useShell } from './ChatShell';

/** The API's limit on a group's size, the viewer included. */
export const MAX_GROUP_SIZE = 10;

function AddPeopleForm({ channel, onClose, onBusy }: { channel: ChannelView; onClose(): void; onBusy(busy: boolean): void }) {
  const { viewer, rememberUsers } = useChat();
  const { updateChannel } = useShell();
  const [query, setQuery] = useState('');
  const [results, setResults] = useState<ChatUser[] | null>(null);
  const [chosen, setChosen] = useState<ChatUser[]>([]);
  const [searching, setSearching] = useState(false);
  const [adding, setAdding] = useState(false);
  const [error, setError] = useState<string>();
  const communityIds = useRef<string[] | null>(null);
  const room = Math.max(0, MAX_GROUP_SIZE - channel.members.length);
  const memberIds = new Set(channel.members.map((m) => m.id));

  const search = async () => {
    setSearching(true);
    setError(undefined);
    try {
      communityIds.current ??= (await browserClient.request(MyCommunitiesDocument, {})).myCommunities.map((c) => c.id);
      const lists = await Promise.all(communityIds.current.map((communityId) => browserClient.request(CommunityMembersDocument, { communityId, search: query.trim() || null, first: 20 }).then((r) => r.communityMembers, () => [])));
      const seen = new Map<string, ChatUser>();
      for (const m of lists.flat()) if (m.user.id !== viewer.id) seen.set(m.user.id, m.user);
      setResults([...seen.values()].sort((a, b) => a.displayName.localeCompare(b.displayName)));
    } catch (err) {
      setError(describeError(err).message);
    } finally {
      setSearching(false);
    }
  };

  const pick = (u: ChatUser) => {
    setError(undefined);
    if (chosen.some((c) => c.id === u.id)) return setChosen((all) => all.filter((c) => c.id !== u.id));
    if (chosen.length >= room) return setError(room === 0 ? t('dm.full', { max: MAX_GROUP_SIZE }) : t('dm.tooMany', { max: MAX_GROUP_SIZE, count: room }));
    setChosen((all) => [...all, u]);
  };

  const add = async () => {
    if (!chosen.length) return;
    setAdding(true);
    onBusy(true);
    setError(undefined);
    try {
      const { addChannelMembers } = await browserClient.request(AddChannelMembersDocument, { channelId: channel.id, userIds: chosen.map((u) => u.id) });
      rememberUsers(addChannelMembers.members);
      updateChannel(addChannelMembers);
      onBusy(false);
      onClose();
    } catch (err) {
      setError(describeError(err).message);
      setAdding(false);
      onBusy(false);
    }
  };

  return (
    <div className="c-stack">
      <form
        className="c-search"
        role="search"
        aria-label={t('dm.search')}
        onSubmit={(e) => {
          e.preventDefault();
          void search();
        }}
      >
        <TextField name="q" label={t('dm.search')} description={t('dm.searchHint')} value={query} onChange={(e) => setQuery(e.target.value)} autoComplete="off" />
        <Button type="submit" variant="secondary" pending={searching}>
          {t('dm.searchSubmit')}
        </Button>
      </form>
      {results ? (
        results.length ? (
          <ul className="c-list" aria-label={t('dm.results')}>
            {results.map((u) => {
              const member = memberIds.has(u.id);
              const picked = chosen.some((c) => c.id === u.id);
              return (
                <li key={u.id} className="c-row-between">
                  <span>
                    {u.displayName} <span className="c-muted">@{u.handle}</span>
                  </span>
                  {member ? (
                    <span className="c-muted c-small">{t('dm.inConversation')}</span>
                  ) : (
                    <Button variant={picked ? 'secondary' : 'primary'} aria-pressed={picked} aria-label={picked ? t('dm.remove', { name: u.displayName }) : t('dm.add', { name: u.displayName })} onClick={() => pick(u)}>
                      {picked ? '✓' : '+'}
                    </Button>
                  )}
                </li>
              );
            })}
          </ul>
        ) : (
          <EmptyState>{t('dm.noResults')}</EmptyState>
        )
      ) : null}
      {chosen.length ? (
        <p>
          <strong>{t('dm.chosen')}:</strong> {chosen.map((u) => u.displayName).join(', ')}
        </p>
      ) : null}
      {error ? (
        <p className="c-field__error" role="alert">
          {error}
        </p>
      ) : null}
      <div className="c-actions">
        <Button onClick={() => void add()} pending={adding} disabled={!chosen.length}>
          {t('dm.addSubmit')}
        </Button>
        <Button variant="secondary" onClick={onClose} disabled={adding}>
          {t('common.cancel')}
        </Button>
      </div>
    </div>
  );
}

function LeaveForm({ channel, onClose, onBusy }: { channel: ChannelView; onClose(): void; onBusy(busy: boolean): void }) {
  const router = useRouter();
  const { removeChannel } = useShell();
  const [leaving, setLeaving] = useState(false);
  const [error, setError] = useState<string>();
  const leave = async () => {
    setLeaving(true);
    onBusy(true);
    setError(undefined);
    try {
      await browserClient.request(LeaveChannelDocument, { channelId: channel.id });
      removeChannel(channel.id);
      router.push(directPath());
    } catch (err) {
      setError(describeError(err).message);
      setLeaving(false);
      onBusy(false);
    }
  };
  return (
    <>
      {error ? (
        <p className="c-field__error" role="alert">
          {error}
        </p>
      ) : null}
      <div className="c-actions">
        <Button variant="danger" pending={leaving} onClick={() => void leave()}>
          {t('dm.leaveSubmit')}
        </Button>
        <Button variant="secondary" onClick={onClose} disabled={leaving}>
          {t('common.cancel')}
        </Button>
      </div>
    </>
  );
}

export function GroupActions({ channel, title }: { channel: ChannelView; title: string }) {
  const [open, setOpen] = useState<'add' | 'leave' | null>(null);
  // While a change is on its way the dialog stays open (Escape and the backdrop wait for the answer).
  const busy = useRef(false);
  const setBusy = (value: boolean) => (busy.current = value);
  const close = () => !busy.current && setOpen(null);
  if (channel.kind !== 'GROUP') return null;
  const room = Math.max(0, MAX_GROUP_SIZE - channel.members.length);
  return (
    <>
      {channel.viewerCanAddMembers ? (
        <Button variant="secondary" onClick={() => setOpen('add')} aria-haspopup="dialog">
          {t('dm.addPeople')}
        </Button>
      ) : null}
      <Button variant="secondary" onClick={() => setOpen('leave')} aria-haspopup="dialog">
        {t('dm.leave')}
      </Button>
      {/* Always mounted, so focus goes back to the button that opened a dialog when it closes. */}
      <Dialog open={open === 'add'} onClose={close} title={t('dm.addPeopleTo', { name: title })} description={<p>{t('dm.addPeopleHint', { max: MAX_GROUP_SIZE, count: room })}</p>}>
        <AddPeopleForm channel={channel} onClose={() => setOpen(null)} onBusy={setBusy} />
      </Dialog>
      <Dialog open={open === 'leave'} onClose={close} title={t('dm.leaveTitle', { name: title })} description={<p>{t('dm.leaveWarning')}</p>}>
        <LeaveForm channel={channel} onClose={() => setOpen(null)} onBusy={setBusy} />
      </Dialog>
    </>
  );
}

'use client';
/**
 * Starting a DM or a group: search the members of the viewer's communities, pick one person (a DM: opening it
 * again returns the same conversation) or several (a group, optionally named), and open it.
 */
import { useRouter } from 'next/navigation';
import { useId, useRef, useState } from 'react';
import { CommunityMembersDocument, OpenDirectChannelDocument } from '@circles/client';
import { t } from '@/i18n';
import { browserClient } from '@/lib/browser-api';
import { directPath, type ChatUser } from '@/lib/chat';
import { describeError } from '@/lib/errors';
import { Button, EmptyState, TextField } from '@/ui';
import { useShell } from './ChatShell';

const MAX_OTHERS = 9;

export function NewConversation({ viewerId, communityIds }: { viewerId: string; communityIds: string[] }) {
  const router = useRouter();
  const { addChannel } = useShell();
  const [query, setQuery] = useState('');
  const [results, setResults] = useState<ChatUser[] | null>(null);
  const [chosen, setChosen] = useState<ChatUser[]>([]);
  const [groupName, setGroupName] = useState('');
  const [searching, setSearching] = useState(false);
  const [opening, setOpening] = useState(false);
  const [error, setError] = useState<string>();
  const headingId = useId();
  const resultsRef = useRef<HTMLUListElement>(null);

  const search = async () => {
    setSearching(true);
    setError(undefined);
    try {
      const lists = await Promise.all(communityIds.map((communityId) => browserClient.request(CommunityMembersDocument, { communityId, search: query.trim() || null, first: 20 }).then((r) => r.communityMembers, () => [])));
      const seen = new Map<string, ChatUser>();
      for (const m of lists.flat()) if (m.user.id !== viewerId) seen.set(m.user.id, m.user);
      setResults([...seen.values()].sort((a, b) => a.displayName.localeCompare(b.displayName)));
    } catch (err) {
      setError(describeError(err).message);
    } finally {
      setSearching(false);
    }
  };

  const open = async () => {
    setOpening(true);
    setError(undefined);
    try {
      const { openDirectChannel } = await browserClient.request(OpenDirectChannelDocument, { userIds: chosen.map((u) => u.id), name: chosen.length > 1 && groupName.trim() ? groupName.trim() : null });
      addChannel(openDirectChannel);
      router.push(directPath(openDirectChannel.id));
    } catch (err) {
      setError(describeError(err).message);
      setOpening(false);
    }
  };

  return (
    <section className="c-chat-new c-stack" aria-labelledby={headingId}>
      <h1 id={headingId}>{t('dm.startTitle')}</h1>
      <p className="c-muted">{t('dm.startHint')}</p>
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
          <ul ref={resultsRef} className="c-list" aria-label={t('dm.results')}>
            {results.map((u) => {
              const picked = chosen.some((c) => c.id === u.id);
              return (
                <li key={u.id} className="c-row-between">
                  <span>
                    {u.displayName} <span className="c-muted">@{u.handle}</span>
                  </span>
                  <Button
                    variant={picked ? 'secondary' : 'primary'}
                    aria-pressed={picked}
                    aria-label={picked ? t('dm.remove', { name: u.displayName }) : t('dm.add', { name: u.displayName })}
                    disabled={!picked && chosen.length >= MAX_OTHERS}
                    onClick={() => setChosen((all) => (picked ? all.filter((c) => c.id !== u.id) : [...all, u]))}
                  >
                    {picked ? '✓' : '+'}
                  </Button>
                </li>
              );
            })}
          </ul>
        ) : (
          <EmptyState>{t('dm.noResults')}</EmptyState>
        )
      ) : null}
      {chosen.length ? (
        <div className="c-stack">
          <p>
            <strong>{t('dm.chosen')}:</strong> {chosen.map((u) => u.displayName).join(', ')}
          </p>
          {chosen.length > 1 ? <TextField name="groupName" label={t('dm.groupName')} value={groupName} onChange={(e) => setGroupName(e.target.value)} maxLength={80} /> : null}
          <div>
            <Button onClick={() => void open()} pending={opening}>
              {t('dm.open')}
            </Button>
          </div>
        </div>
      ) : null}
      {error ? (
        <p className="c-field__error" role="alert">
          {error}
        </p>
      ) : null}
    </section>
  );
}

'use client';
/** Circle page actions: join or leave; for hosts and circle managers, add members, make hosts, remove. */
import { useRouter } from 'next/navigation';
import { useRef, useState, type FormEvent } from 'react';
import {
  AddCircleMemberDocument,
  CommunityMembersDocument,
  JoinCircleDocument,
  LeaveCircleDocument,
  RemoveCircleMemberDocument,
  SetCircleImageDocument,
  type CircleMembersQuery,
  type CircleRole,
  type CommunityMembersQuery,
} from '@circles/client';
import { t } from '@/i18n';
import { browserClient } from '@/lib/browser-api';
import { describeError } from '@/lib/errors';
import { useAction } from '@/lib/use-action';
import { Alert, Badge, Button, EmptyState, Notice } from '@/ui';
import { ImageUploadField, type MediaLimitsView } from './ImageUploadField';
import { LocalTime } from './LocalTime';
import { ActionDialog, personLabel, useDialog, useFocusRescue } from './settings/shared';

export function CircleMembership({ circleId, name, member }: { circleId: string; name: string; member: boolean }) {
  const router = useRouter();
  const { pending, error, run } = useAction();
  return (
    <div className="c-stack">
      {error ? <Alert tone="error">{error}</Alert> : null}
      <Button
        variant={member ? 'secondary' : 'primary'}
        pending={pending}
        aria-label={member ? t('circle.leaveLabel', { name }) : t('circle.joinLabel', { name })}
        onClick={() =>
          run(async () => {
            if (member) await browserClient.request(LeaveCircleDocument, { id: circleId });
            else await browserClient.request(JoinCircleDocument, { id: circleId });
            router.refresh();
          })
        }
      >
        {member ? t('circle.leave') : t('circle.join')}
      </Button>
    </div>
  );
}

/** For hosts and circle managers: the circle's picture, saved as soon as it is uploaded. */
export function CircleImageField({ circleId, name, imageUrl, limits }: { circleId: string; name: string; imageUrl: string | null; limits: MediaLimitsView | null }) {
  if (!limits) return <Alert tone="info">{t('image.unavailable')}</Alert>;
  const setImage = async (uploadId: string | null) => {
    await browserClient.request(SetCircleImageDocument, { circleId, uploadId });
  };
  return (
    <ImageUploadField
      label={t('circle.image')}
      description={t('circle.imageHint')}
      purpose="CIRCLE_IMAGE"
      currentUrl={imageUrl}
      previewAlt={t('circle.imageAlt', { name })}
      limits={limits}
      onUpload={(id) => setImage(id)}
      onRemove={() => setImage(null)}
    />
  );
}

type CircleMember = CircleMembersQuery['circleMembers'][number];

export interface CircleMemberListProps {
  communityId: string;
  circleId: string;
  circleName: string;
  members: CircleMember[];
  viewerId: string | null;
  canManage: boolean;
}

export function CircleMemberList({ communityId, circleId, circleName, members, viewerId, canManage }: CircleMemberListProps) {
  const router = useRouter();
  const [notice, setNotice] = useState<string>();
  const { pending, error, run } = useAction();
  const [busyId, setBusyId] = useState<string>();
  const dialog = useDialog();
  const listRef = useRef<HTMLUListElement>(null);
  useFocusRescue(listRef, members);
  const removing = members.find((m) => dialog.isOpen(m.user.id));

  const setRole = (m: CircleMember, role: CircleRole) => {
    setBusyId(m.user.id);
    setNotice(undefined);
    run(async () => {
      await browserClient.request(AddCircleMemberDocument, { circleId, userId: m.user.id, role });
      setNotice(role === 'HOST' ? t('circle.madeHost', { name: personLabel(m.user) }) : t('circle.madeMember', { name: personLabel(m.user) }));
      router.refresh();
    });
  };

  return (
    <div className="c-stack">
      <Notice message={notice} />
      {error ? <Alert tone="error">{error}</Alert> : null}
      {members.length === 0 ? (
        <EmptyState>{t('circle.noMembers')}</EmptyState>
      ) : (
        <ul ref={listRef} tabIndex={-1} className="c-list" aria-label={t('circle.members')} aria-busy={pending}>
          {members.map((m) => {
            const name = personLabel(m.user);
            const manageable = canManage && m.user.id !== viewerId;
            return (
              <li key={m.user.id} className="c-row-between" data-testid="circle-member">
                <div className="c-entry">
                  <span className="c-entry__title">
                    {m.user.displayName} <span className="c-muted">@{m.user.handle}</span> {m.role === 'HOST' ? <Badge>{t('circle.host')}</Badge> : null}
                  </span>
                  <p className="c-entry__meta">
                    <LocalTime iso={m.addedAt} message="circle.addedAt" />
                  </p>
                </div>
                {manageable ? (
                  <div className="c-actions">
                    <Button
                      variant="secondary"
                      pending={pending && busyId === m.user.id}
                      disabled={pending && busyId !== m.user.id}
                      aria-label={`${m.role === 'HOST' ? t('circle.makeMember') : t('circle.makeHost')}: ${name}`}
                      onClick={() => setRole(m, m.role === 'HOST' ? 'MEMBER' : 'HOST')}
                    >
                      {m.role === 'HOST' ? t('circle.makeMember') : t('circle.makeHost')}
                    </Button>
                    <Button variant="danger" disabled={pending} aria-label={t('circle.removeLabel', { name })} onClick={() => dialog.open(m.user.id)}>
                      {t('circle.remove')}
                    </Button>
                  </div>
                ) : null}
              </li>
            );
          })}
        </ul>
      )}
      {canManage ? <AddCircleMember communityId={communityId} circleId={circleId} circleName={circleName} members={members} onAdded={(name) => setNotice(t('circle.added', { name }))} /> : null}
      <ActionDialog
        open={removing !== undefined}
        onClose={dialog.close}
        title={t('circle.removeTitle', { name: removing ? personLabel(removing.user) : '', circle: circleName })}
        description={<p>{t('circle.removeHint')}</p>}
        submitLabel={t('circle.remove')}
        variant="danger"
        fallbackFocus={listRef}
        action={async () => {
          const name = personLabel(removing!.user);
          await browserClient.request(RemoveCircleMemberDocument, { circleId, userId: removing!.user.id });
          dialog.close();
          setNotice(t('circle.removed', { name }));
          router.refresh();
        }}
      />
    </div>
  );
}

type Candidate = CommunityMembersQuery['communityMembers'][number];

/** Finds community members by name or handle and adds them to the circle. */
function AddCircleMember({ communityId, circleId, circleName, members, onAdded }: { communityId: string; circleId: string; circleName: string; members: CircleMember[]; onAdded: (name: string) => void }) {
  const router = useRouter();
  const [query, setQuery] = useState('');
  const [results, setResults] = useState<Candidate[] | null>(null);
  const [searched, setSearched] = useState('');
  const [searching, setSearching] = useState(false);
  const [searchError, setSearchError] = useState<string>();
  const add = useAction();
  const [addingId, setAddingId] = useState<string>();
  const inputRef = useRef<HTMLInputElement>(null);
  // Whoever was just added leaves the results with their button: carry on from the search field.
  useFocusRescue(inputRef, members);
  const inCircle = new Set(members.map((m) => m.user.id));
  const candidates = results?.filter((c) => !inCircle.has(c.user.id)) ?? null;

  const search = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    if (searching) return;
    const q = query.trim();
    setSearching(true);
    setSearchError(undefined);
    try {
      const { communityMembers } = await browserClient.request(CommunityMembersDocument, { communityId, search: q || null, first: 20 });
      setResults(communityMembers);
      setSearched(q);
    } catch (err) {
      setSearchError(describeError(err).message);
    } finally {
      setSearching(false);
    }
  };

  return (
    <section className="c-stack c-after-form" aria-labelledby="add-circle-member">
      <h3 id="add-circle-member">{t('circle.addTitle')}</h3>
      <form className="c-search" role="search" aria-label={t('circle.addSearchRegion')} onSubmit={search} aria-busy={searching}>
        <div className="c-field">
          <label htmlFor="circle-member-search" className="c-field__label">
            {t('circle.addSearch')}
          </label>
          <p id="circle-member-search-hint" className="c-field__description">
            {t('circle.addSearchHint')}
          </p>
          <input ref={inputRef} id="circle-member-search" type="search" className="c-field__input" value={query} maxLength={64} aria-describedby="circle-member-search-hint" onChange={(e) => setQuery(e.target.value)} />
        </div>
        <Button type="submit" variant="secondary" pending={searching}>
          {t('members.submit')}
        </Button>
      </form>
      {searchError ? <Alert tone="error">{searchError}</Alert> : null}
      {add.error ? <Alert tone="error">{add.error}</Alert> : null}
      {/* The result count is announced when a search finishes. */}
      <p role="status" className="c-muted">
        {candidates === null ? '' : candidates.length === 0 ? (searched ? t('circle.addNoMatch', { query: searched }) : t('circle.addNobody')) : t('circle.addResults', { count: candidates.length })}
      </p>
      {candidates && candidates.length > 0 ? (
        <ul className="c-list" aria-label={t('circle.addResultsLabel')}>
          {candidates.map((c) => {
            const name = personLabel(c.user);
            return (
              <li key={c.user.id} className="c-row-between" data-testid="circle-candidate">
                <span className="c-entry__title">
                  {c.user.displayName} <span className="c-muted">@{c.user.handle}</span>
                </span>
                <Button
                  pending={add.pending && addingId === c.user.id}
                  disabled={add.pending && addingId !== c.user.id}
                  aria-label={t('circle.addLabel', { name, circle: circleName })}
                  onClick={() => {
                    setAddingId(c.user.id);
                    add.run(async () => {
                      await browserClient.request(AddCircleMemberDocument, { circleId, userId: c.user.id, role: 'MEMBER' });
                      onAdded(name);
                      router.refresh();
                    });
                  }}
                >
                  {t('circle.add')}
                </Button>
              </li>
            );
          })}
        </ul>
      ) : null}
    </section>
  );
}

'use client';
/** Settings → General: the community's images and details, and the owner's archive, delete and transfer actions. */
import { useRouter } from 'next/navigation';
import { useCallback, useId, useRef, useState } from 'react';
import {
  ArchiveCommunityDocument,
  ClientError,
  CommunityMembersDocument,
  DeleteCommunityDocument,
  SetCommunityImageDocument,
  TransferOwnershipDocument,
  UnarchiveCommunityDocument,
  UpdateCommunityDocument,
  type CommunityImageKind,
  type CommunityVisibility,
  type JoinPolicy,
} from '@circles/client';
import { ImageUploadField, type MediaLimitsView } from '@/components/ImageUploadField';
import { t } from '@/i18n';
import { browserClient } from '@/lib/browser-api';
import { describeError } from '@/lib/errors';
import { go } from '@/lib/navigation';
import { useAction } from '@/lib/use-action';
import { Alert, Button, Card, Form, Notice, RadioGroup, TextAreaField, TextField, useForm, type FormController, type FormValues } from '@/ui';
import { CommunityPolicyFields } from '@/components/CommunityPolicyFields';
import { ActionDialog, personLabel, useDialog } from './shared';

export const MAX_JOIN_QUESTIONS = 5;

export interface CommunityDetails {
  id: string;
  slug: string;
  name: string;
  description: string;
  category: string;
  language: string;
  visibility: CommunityVisibility;
  joinPolicy: JoinPolicy;
  joinQuestions: string[];
  archived: boolean;
}

/**
 * The avatar and the banner. Each is saved the moment its upload is attached (no Save button), so they sit apart
 * from the details form.
 */
export function CommunityImages({ communityId, name, avatarUrl, bannerUrl, limits, archived }: { communityId: string; name: string; avatarUrl: string | null; bannerUrl: string | null; limits: MediaLimitsView | null; archived: boolean }) {
  const setImage = async (kind: CommunityImageKind, uploadId: string | null) => {
    await browserClient.request(SetCommunityImageDocument, { communityId, kind, uploadId });
  };
  if (!limits) return <Alert tone="info">{t('image.unavailable')}</Alert>;
  return (
    <div className="c-stack">
      <ImageUploadField
        label={t('settings.general.avatar')}
        description={t('settings.general.avatarHint')}
        purpose="COMMUNITY_AVATAR"
        currentUrl={avatarUrl}
        previewAlt={t('settings.general.avatarAlt', { name })}
        limits={limits}
        onUpload={(id) => setImage('AVATAR', id)}
        onRemove={() => setImage('AVATAR', null)}
        disabled={archived}
      />
      <ImageUploadField
        label={t('settings.general.banner')}
        description={t('settings.general.bannerHint')}
        purpose="COMMUNITY_BANNER"
        currentUrl={bannerUrl}
        previewAlt={t('settings.general.bannerAlt', { name })}
        limits={limits}
        onUpload={(id) => setImage('BANNER', id)}
        onRemove={() => setImage('BANNER', null)}
        disabled={archived}
      />
    </div>
  );
}

let nextQuestionKey = 0;
const keyed = (text: string) => ({ key: nextQuestionKey++, text });

export function CommunityDetailsForm({ community }: { community: CommunityDetails }) {
  const router = useRouter();
  const [joinPolicy, setJoinPolicy] = useState<string>(community.joinPolicy);
  const [questions, setQuestions] = useState(() => community.joinQuestions.map(keyed));
  const [notice, setNotice] = useState<string>();
  const addRef = useRef<HTMLButtonElement>(null);

  const action = useCallback(
    async (v: FormValues) => {
      setNotice(undefined);
      const asked = Object.keys(v)
        .filter((k) => k.startsWith('joinQuestions.'))
        .sort((a, b) => Number(a.split('.')[1]) - Number(b.split('.')[1]))
        .map((k) => v[k] ?? '');
      await browserClient.request(UpdateCommunityDocument, {
        id: community.id,
        input: {
          name: v.name ?? '',
          description: v.description ?? '',
          category: v.category?.trim() ? v.category.trim() : null,
          language: (v.language ?? '').trim(),
          visibility: v.visibility as CommunityVisibility,
          joinPolicy: v.joinPolicy as JoinPolicy,
          ...(v.joinPolicy === 'APPROVAL' ? { joinQuestions: asked } : {}),
        },
      });
      setNotice(t('settings.general.saved'));
      router.refresh();
    },
    [community.id, router],
  );
  // "Ask at most 5 questions" is about the list as a whole: show it on the first question.
  const form = useForm(action, { joinQuestions: 'joinQuestions.0' });

  return (
    <div className="c-stack">
      <Notice message={notice} />
      <Form controller={form} aria-label={t('settings.general.details')}>
        {/* An archived community is read-only: the fields show, the server would refuse a change. */}
        <fieldset className="c-fieldset c-form" disabled={community.archived}>
          <TextField name="name" label={t('field.communityName')} required maxLength={80} defaultValue={community.name} {...form.fieldState('name')} />
          <TextAreaField name="description" label={t('field.description')} maxLength={2000} defaultValue={community.description} {...form.fieldState('description')} />
          <TextField name="category" label={t('field.category')} description={t('field.categoryHint')} maxLength={40} defaultValue={community.category} {...form.fieldState('category')} />
          <TextField
            name="language"
            label={t('field.language')}
            description={t('field.languageHint')}
            required
            maxLength={10}
            autoCapitalize="none"
            spellCheck={false}
            defaultValue={community.language}
            {...form.fieldState('language')}
          />
          <CommunityPolicyFields
            defaultVisibility={community.visibility}
            joinPolicy={joinPolicy}
            onJoinPolicyChange={setJoinPolicy}
            errors={{ visibility: form.fieldState('visibility').error, joinPolicy: form.fieldState('joinPolicy').error }}
          />
          {joinPolicy === 'APPROVAL' ? (
            <fieldset className="c-fieldset c-stack">
              <legend>{t('field.joinQuestions')}</legend>
              <p className="c-field__description">{t('settings.general.questionsHint', { max: MAX_JOIN_QUESTIONS })}</p>
              {questions.map((q, i) => (
                <div key={q.key} className="c-stack">
                  <TextAreaField
                    name={`joinQuestions.${i}`}
                    label={t('settings.general.question', { number: i + 1 })}
                    required
                    rows={2}
                    maxLength={300}
                    value={q.text}
                    onChange={(e) => setQuestions((all) => all.map((x) => (x.key === q.key ? { ...x, text: e.target.value } : x)))}
                    {...form.fieldState(`joinQuestions.${i}`)}
                  />
                  <div>
                    <Button
                      variant="quiet"
                      onClick={() => {
                        setQuestions((all) => all.filter((x) => x.key !== q.key));
                        addRef.current?.focus();
                      }}
                    >
                      {t('settings.general.removeQuestion', { number: i + 1 })}
                    </Button>
                  </div>
                </div>
              ))}
              {questions.length === 0 ? <p className="c-muted">{t('settings.general.noQuestions')}</p> : null}
              <div>
                <Button ref={addRef} variant="secondary" disabled={questions.length >= MAX_JOIN_QUESTIONS} onClick={() => setQuestions((all) => [...all, keyed('')])}>
                  {t('settings.general.addQuestion')}
                </Button>
              </div>
            </fieldset>
          ) : null}
          <div>
            <Button type="submit" pending={form.pending}>
              {t('settings.general.save')}
            </Button>
          </div>
        </fieldset>
      </Form>
    </div>
  );
}

export interface OwnerZoneProps {
  communityId: string;
  slug: string;
  name: string;
  archived: boolean;
  /** Whether anyone but the owner is a member (someone who could become the owner). */
  hasOtherMembers: boolean;
}

type OwnerDialog = 'transfer' | 'archive' | 'delete';

/** Owner only: hand the community over, archive or unarchive it, delete it. Each asks for the address typed out. */
export function OwnerZone({ communityId, slug, name, archived, hasOtherMembers }: OwnerZoneProps) {
  const router = useRouter();
  const dialog = useDialog<OwnerDialog>();
  const [notice, setNotice] = useState<string>();
  const unarchive = useAction();
  const confirmField = (form: { fieldState(name: string): object }) => (
    <TextField
      name="confirmSlug"
      label={t('settings.owner.typeAddress', { slug })}
      required
      autoCapitalize="none"
      autoComplete="off"
      spellCheck={false}
      {...form.fieldState('confirmSlug')}
    />
  );

  return (
    <Card title={t('settings.owner.title')} className="c-danger-zone">
      <div className="c-stack">
        <Notice message={notice} />
        {unarchive.error ? <Alert tone="error">{unarchive.error}</Alert> : null}
        <div className="c-row-between">
          <div>
            <h3>{t('settings.owner.transfer')}</h3>
            <p className="c-muted">{t('settings.owner.transferHint')}</p>
          </div>
          <Button variant="secondary" disabled={!hasOtherMembers} onClick={() => dialog.open('transfer')}>
            {t('settings.owner.transfer')}
          </Button>
        </div>
        <div className="c-row-between">
          <div>
            <h3>{archived ? t('settings.owner.unarchive') : t('settings.owner.archive')}</h3>
            <p className="c-muted">{archived ? t('settings.owner.unarchiveHint') : t('settings.owner.archiveHint')}</p>
          </div>
          {archived ? (
            <Button
              variant="secondary"
              pending={unarchive.pending}
              onClick={() =>
                unarchive.run(async () => {
                  await browserClient.request(UnarchiveCommunityDocument, { id: communityId });
                  setNotice(t('settings.owner.unarchived'));
                  router.refresh();
                })
              }
            >
              {t('settings.owner.unarchive')}
            </Button>
          ) : (
            <Button variant="danger" onClick={() => dialog.open('archive')}>
              {t('settings.owner.archive')}
            </Button>
          )}
        </div>
        <div className="c-row-between">
          <div>
            <h3>{t('settings.owner.delete')}</h3>
            <p className="c-muted">{t('settings.owner.deleteHint')}</p>
          </div>
          <Button variant="danger" onClick={() => dialog.open('delete')}>
            {t('settings.owner.delete')}
          </Button>
        </div>
      </div>

      <ActionDialog
        open={dialog.isOpen('transfer')}
        onClose={dialog.close}
        title={t('settings.owner.transferTitle', { name })}
        description={<p>{t('settings.owner.transferWarning')}</p>}
        submitLabel={t('settings.owner.transfer')}
        variant="danger"
        action={async (v) => {
          // Nobody picked: said on the choice, or above the form before any search (a radio group has no "required").
          if (!v.userId) throw new ClientError({ code: 'BAD_USER_INPUT', message: t('settings.owner.pickNewOwner'), field: 'userId' });
          await browserClient.request(TransferOwnershipDocument, { communityId, userId: v.userId, confirmSlug: v.confirmSlug ?? '' });
          return go(`/c/${slug}`);
        }}
      >
        {(form) => (
          <>
            <NewOwnerPicker communityId={communityId} form={form} />
            {confirmField(form)}
          </>
        )}
      </ActionDialog>
      <ActionDialog
        open={dialog.isOpen('archive')}
        onClose={dialog.close}
        title={t('settings.owner.archiveTitle', { name })}
        description={<p>{t('settings.owner.archiveHint')}</p>}
        submitLabel={t('settings.owner.archive')}
        variant="danger"
        action={async (v) => {
          await browserClient.request(ArchiveCommunityDocument, { id: communityId, confirmSlug: v.confirmSlug ?? '' });
          dialog.close();
          setNotice(t('settings.owner.archived'));
          router.refresh();
        }}
      >
        {confirmField}
      </ActionDialog>
      <ActionDialog
        open={dialog.isOpen('delete')}
        onClose={dialog.close}
        title={t('settings.owner.deleteTitle', { name })}
        description={<p>{t('settings.owner.deleteWarning')}</p>}
        submitLabel={t('settings.owner.deleteForever')}
        variant="danger"
        action={async (v) => {
          await browserClient.request(DeleteCommunityDocument, { id: communityId, confirmSlug: v.confirmSlug ?? '' });
          return go('/communities');
        }}
      >
        {confirmField}
      </ActionDialog>
    </Card>
  );
}

/**
 * Finds the new owner among the members by name or handle (any community size), then offers the matches as a
 * choice. The search field has no name, so only the chosen person is submitted; Enter in it searches rather than
 * submitting the transfer.
 */
function NewOwnerPicker({ communityId, form }: { communityId: string; form: FormController }) {
  const id = useId();
  const [query, setQuery] = useState('');
  const [results, setResults] = useState<{ id: string; label: string }[] | null>(null);
  const [searched, setSearched] = useState('');
  const [searching, setSearching] = useState(false);
  const [error, setError] = useState<string>();

  const search = async () => {
    if (searching) return;
    const q = query.trim();
    setSearching(true);
    setError(undefined);
    try {
      const { communityMembers } = await browserClient.request(CommunityMembersDocument, { communityId, search: q || null, first: 20 });
      setResults(communityMembers.filter((m) => m.role !== 'OWNER').map((m) => ({ id: m.user.id, label: personLabel(m.user) })));
      setSearched(q);
    } catch (err) {
      setError(describeError(err).message);
    } finally {
      setSearching(false);
    }
  };

  return (
    <div className="c-stack">
      <div className="c-search">
        <div className="c-field">
          <label htmlFor={`${id}-search`} className="c-field__label">
            {t('settings.owner.findMember')}
          </label>
          <p id={`${id}-hint`} className="c-field__description">
            {t('settings.owner.findMemberHint')}
          </p>
          <input
            id={`${id}-search`}
            type="search"
            className="c-field__input"
            value={query}
            maxLength={64}
            autoComplete="off"
            aria-describedby={`${id}-hint`}
            onChange={(e) => setQuery(e.target.value)}
            onKeyDown={(e) => {
              if (e.key !== 'Enter') return;
              e.preventDefault();
              void search();
            }}
          />
        </div>
        <Button variant="secondary" pending={searching} onClick={() => void search()}>
          {t('members.submit')}
        </Button>
      </div>
      {error ? <Alert tone="error">{error}</Alert> : null}
      {/* The number found is announced when a search finishes. */}
      <p role="status" className="c-muted">
        {results === null ? '' : results.length === 0 ? (searched ? t('settings.owner.noMatch', { query: searched }) : t('settings.owner.nobody')) : results.length === 1 ? t('settings.owner.foundOne') : t('settings.owner.found', { count: results.length })}
      </p>
      {results && results.length > 0 ? (
        <RadioGroup name="userId" legend={t('settings.owner.newOwner')} options={results.map((r) => ({ value: r.id, label: r.label }))} error={form.fieldState('userId').error} />
      ) : null}
    </div>
  );
}

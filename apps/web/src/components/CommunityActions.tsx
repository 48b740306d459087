'use client';
/** The community actions that talk to /graphql from the browser: create, join, leave, request to join, accept an invite. */
import Link from 'next/link';
import { useRouter } from 'next/navigation';
import { useCallback, useState } from 'react';
import {
  CreateCommunityDocument,
  JoinByInviteDocument,
  JoinCommunityDocument,
  LeaveCommunityDocument,
  RequestToJoinDocument,
  type CommunityRole,
  type CommunityVisibility,
  type JoinPolicy,
} from '@circles/client';
import { t } from '@/i18n';
import { LocalTime } from '@/components/LocalTime';
import { browserClient } from '@/lib/browser-api';
import { go } from '@/lib/navigation';
import { useAction } from '@/lib/use-action';
import { Alert, Button, Form, TextAreaField, TextField, useForm, type FormValues } from '@/ui';
import { CommunityPolicyFields } from '@/components/CommunityPolicyFields';



/** What a name would make as an address: lowercase, hyphen-separated, within the server's limits. */
export function slugFromName(name: string): string {
  return name
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 48)
    .replace(/-+$/, '');
}

export function CreateCommunityForm({ baseUrl }: { baseUrl: string }) {
  const [name, setName] = useState('');
  const [slug, setSlug] = useState('');
  // Until the address is edited by hand it follows the name.
  const [slugEdited, setSlugEdited] = useState(false);
  const [joinPolicy, setJoinPolicy] = useState<string>('OPEN');
  const shownSlug = slugEdited ? slug : slugFromName(name);

  const action = useCallback(async (v: FormValues) => {
    const questions = (v.joinQuestions ?? '')
      .split('\n')
      .map((q) => q.trim())
      .filter(Boolean);
    const { createCommunity } = await browserClient.request(CreateCommunityDocument, {
      input: {
        name: v.name ?? '',
        slug: (v.slug ?? '').trim().toLowerCase(),
        description: v.description ?? '',
        visibility: (v.visibility ?? 'LISTED') as CommunityVisibility,
        joinPolicy: (v.joinPolicy ?? 'OPEN') as JoinPolicy,
        joinQuestions: v.joinPolicy === 'APPROVAL' ? questions : [],
      },
    });
    return go(`/c/${createCommunity.slug}`);
  }, []);
  // Question errors arrive as joinQuestions.0 and the like: they belong to the one questions field.
  const form = useForm(action, { 'joinQuestions.0': 'joinQuestions', 'joinQuestions.1': 'joinQuestions', 'joinQuestions.2': 'joinQuestions', 'joinQuestions.3': 'joinQuestions', 'joinQuestions.4': 'joinQuestions' });
  const previewUrl = `${baseUrl}/c/${shownSlug || '…'}`;

  return (
    <Form controller={form} aria-label={t('newCommunity.title')}>
      <TextField name="name" label={t('field.communityName')} required maxLength={80} value={name} onChange={(e) => setName(e.target.value)} {...form.fieldState('name')} />
      <TextField
        name="slug"
        label={t('field.slug')}
        required
        autoCapitalize="none"
        autoComplete="off"
        spellCheck={false}
        maxLength={48}
        value={shownSlug}
        onChange={(e) => {
          setSlugEdited(true);
          setSlug(e.target.value.toLowerCase());
        }}
        description={
          <>
            {t('field.slugHint')} {t('field.slugPreview')}{' '}
            <span className="c-slug-preview" data-testid="slug-preview">
              {previewUrl}
            </span>
          </>
        }
        {...form.fieldState('slug')}
      />
      <TextAreaField name="description" label={t('field.description')} maxLength={2000} {...form.fieldState('description')} />
      <CommunityPolicyFields
        defaultVisibility="LISTED"
        joinPolicy={joinPolicy}
        onJoinPolicyChange={setJoinPolicy}
        errors={{ visibility: form.fieldState('visibility').error, joinPolicy: form.fieldState('joinPolicy').error }}
      />
      {joinPolicy === 'APPROVAL' ? (
        <TextAreaField name="joinQuestions" label={t('field.joinQuestions')} description={t('field.joinQuestionsHint')} rows={3} {...form.fieldState('joinQuestions')} />
      ) : null}
      <div>
        <Button type="submit" pending={form.pending}>
          {t('newCommunity.submit')}
        </Button>
      </div>
    </Form>
  );
}

export interface MembershipProps {
  communityId: string;
  slug: string;
  name: string;
  joinPolicy: JoinPolicy;
  joinQuestions: string[];
  viewerRole: CommunityRole | null;
  signedIn: boolean;
  archived: boolean;
  /** When the visitor's own request to join is waiting for a decision: when they sent it. */
  pendingRequestAt?: string | null;
  /** The visitor's own active ban here: they are told why and until when, and offered no way in. */
  ban?: BanNoticeView | null;
}

export interface BanNoticeView {
  reason: string;
  /** Null for a permanent ban. */
  expiresAt: string | null;
}

/** What a banned person is told about their own ban (the server does not say who banned them, nor does this). */
export function BanNotice({ ban }: { ban: BanNoticeView }) {
  return (
    <Alert tone="warning" title={t('community.banned')}>
      <p>{ban.reason.trim() ? t('community.banReason', { reason: ban.reason }) : t('community.banNoReason')}</p>
      <p>{ban.expiresAt ? <LocalTime iso={ban.expiresAt} message="community.banEnds" /> : t('community.banPermanent')}</p>
    </Alert>
  );
}

/** Join, request to join, or leave: whichever the community's join policy and the visitor's membership allow. */
export function MembershipPanel(props: MembershipProps) {
  const { communityId, slug, name, joinPolicy, joinQuestions, viewerRole, signedIn, archived, pendingRequestAt, ban } = props;
  const router = useRouter();
  const { pending, error, run } = useAction();

  if (viewerRole) {
    return (
      <div className="c-stack">
        <p>{t('community.youAre', { role: t(`role.${viewerRole}`) })}</p>
        {viewerRole === 'OWNER' ? (
          <p className="c-muted">{t('community.ownerCannotLeave')}</p>
        ) : (
          <>
            {error ? <Alert tone="error">{error}</Alert> : null}
            <Button
              variant="secondary"
              pending={pending}
              aria-label={t('community.leaveLabel', { name })}
              onClick={() =>
                run(async () => {
                  await browserClient.request(LeaveCommunityDocument, { id: communityId });
                  router.refresh();
                })
              }
            >
              {t('community.leave')}
            </Button>
          </>
        )}
      </div>
    );
  }
  if (ban) return <BanNotice ban={ban} />;
  if (archived) return <p className="c-muted">{t('community.archived')}</p>;
  if (pendingRequestAt) {
    return (
      <Alert tone="info" title={t('community.requestWaiting')}>
        <p>
          <LocalTime iso={pendingRequestAt} message="community.requestSentAt" />
        </p>
      </Alert>
    );
  }
  if (joinPolicy === 'INVITE') return <Alert tone="info">{t('community.inviteOnly')}</Alert>;
  if (!signedIn) {
    const next = encodeURIComponent(`/c/${slug}`);
    return (
      <div className="c-stack">
        {joinPolicy === 'APPROVAL' ? <p className="c-muted">{t('community.approvalLead')}</p> : null}
        <p className="c-row">
          <Link href={`/login?next=${next}`} className="c-button c-button--primary">
            {t('community.logInToJoin')}
          </Link>
          <Link href={`/signup?next=${next}`} className="c-button c-button--secondary">
            {t('community.signUpToJoin')}
          </Link>
        </p>
      </div>
    );
  }
  if (joinPolicy === 'APPROVAL') return <RequestToJoinForm communityId={communityId} questions={joinQuestions} />;
  return (
    <div className="c-stack">
      {error ? <Alert tone="error">{error}</Alert> : null}
      <Button
        pending={pending}
        aria-label={t('community.joinLabel', { name })}
        onClick={() =>
          run(async () => {
            await browserClient.request(JoinCommunityDocument, { id: communityId });
            router.refresh();
          })
        }
      >
        {t('community.join')}
      </Button>
    </div>
  );
}

function RequestToJoinForm({ communityId, questions }: { communityId: string; questions: string[] }) {
  const [sent, setSent] = useState(false);
  const action = useCallback(
    async (v: FormValues) => {
      const answers = questions.map((_, i) => v[`answer${i}`] ?? '');
      await browserClient.request(RequestToJoinDocument, { communityId, answers });
      setSent(true);
    },
    [communityId, questions],
  );
  // "Answer all questions" is about the answers as a whole: put it on the first.
  const form = useForm(action, { answers: 'answer0' });
  if (sent) return <Alert tone="success">{t('community.requestSent')}</Alert>;
  return (
    <div className="c-stack">
      <p className="c-muted">{t('community.approvalLead')}</p>
      <Form controller={form} aria-label={t('community.requestToJoin')}>
        {questions.map((question, i) => (
          <TextAreaField key={i} name={`answer${i}`} label={question} rows={2} required maxLength={1000} {...form.fieldState(`answer${i}`)} />
        ))}
        <div>
          <Button type="submit" pending={form.pending}>
            {t('community.requestToJoin')}
          </Button>
        </div>
      </Form>
    </div>
  );
}

export function AcceptInviteButton({ code, name }: { code: string; name: string }) {
  const { pending, error, run } = useAction();
  return (
    <div className="c-stack">
      {error ? <Alert tone="error">{error}</Alert> : null}
      <Button
        pending={pending}
        onClick={() =>
          run(async () => {
            const { joinByInvite } = await browserClient.request(JoinByInviteDocument, { code });
            return go(`/c/${joinByInvite.slug}`);
          })
        }
      >
        {t('invite.joinTo', { name })}
      </Button>
    </div>
  );
}

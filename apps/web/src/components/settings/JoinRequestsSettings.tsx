'use client';
/** Settings → Join requests: each request with its answers against the questions; approve or reject. */
import { useRouter } from 'next/navigation';
import { useRef, useState } from 'react';
import { DecideJoinRequestDocument, type JoinRequestStatus, type JoinRequestsQuery } from '@circles/client';
import { LocalTime } from '@/components/LocalTime';
import { t } from '@/i18n';
import { browserClient } from '@/lib/browser-api';
import { useAction } from '@/lib/use-action';
import { Alert, Badge, Button, EmptyState, Notice } from '@/ui';
import { personLabel, useFocusRescue } from './shared';

type Request = JoinRequestsQuery['joinRequests'][number];

/**
 * @param questions the community's current questions: shown only for requests that do not carry the questions
 *   they were asked (the server keeps them with each request now).
 */
export function JoinRequestList({ status, requests, questions, emptyMessage, label }: { status: JoinRequestStatus; requests: Request[]; questions: string[]; emptyMessage: string; label: string }) {
  const router = useRouter();
  const { pending, error, run } = useAction();
  const [busy, setBusy] = useState<{ id: string; approve: boolean }>();
  const [notice, setNotice] = useState<string>();
  const listRef = useRef<HTMLUListElement>(null);
  useFocusRescue(listRef, requests);

  const decide = (r: Request, approve: boolean) => {
    setBusy({ id: r.id, approve });
    setNotice(undefined);
    run(async () => {
      await browserClient.request(DecideJoinRequestDocument, { id: r.id, approve });
      const name = personLabel(r.user);
      setNotice(approve ? t('settings.requests.approved', { name }) : t('settings.requests.rejected', { name }));
      router.refresh();
    });
  };

  return (
    <div className="c-stack">
      <Notice message={notice} />
      {error ? <Alert tone="error">{error}</Alert> : null}
      {requests.length === 0 ? (
        <EmptyState>{emptyMessage}</EmptyState>
      ) : (
        <ul ref={listRef} tabIndex={-1} className="c-list" aria-label={label} aria-busy={pending}>
          {requests.map((r) => {
            const name = personLabel(r.user);
            // The questions as this person was asked them; they may have been edited since.
            const asked = r.questions.length ? r.questions : questions;
            return (
              <li key={r.id} className="c-stack" data-testid="join-request">
                <div className="c-row-between">
                  <div className="c-entry">
                    <span className="c-entry__title">
                      {r.user.displayName} <span className="c-muted">@{r.user.handle}</span>{' '}
                      {status === 'PENDING' ? null : <Badge tone={status === 'APPROVED' ? 'success' : 'warning'}>{t(`settings.requests.badge.${status}`)}</Badge>}
                    </span>
                    <p className="c-entry__meta">
                      <LocalTime iso={r.createdAt} message="settings.requests.askedAt" />
                      {r.decidedAt ? (
                        <>
                          {' · '}
                          <LocalTime iso={r.decidedAt} message="settings.requests.decidedAt" />
                        </>
                      ) : null}
                    </p>
                  </div>
                  {status === 'PENDING' ? (
                    <div className="c-actions">
                      <Button
                        pending={pending && busy?.id === r.id && busy.approve}
                        disabled={pending && !(busy?.id === r.id && busy.approve)}
                        aria-label={t('settings.requests.approveLabel', { name })}
                        onClick={() => decide(r, true)}
                      >
                        {t('settings.requests.approve')}
                      </Button>
                      <Button
                        variant="danger"
                        pending={pending && busy?.id === r.id && !busy.approve}
                        disabled={pending && !(busy?.id === r.id && !busy.approve)}
                        aria-label={t('settings.requests.rejectLabel', { name })}
                        onClick={() => decide(r, false)}
                      >
                        {t('settings.requests.reject')}
                      </Button>
                    </div>
                  ) : null}
                </div>
                {r.answers.length ? (
                  <dl className="c-qa">
                    {r.answers.map((answer, i) => (
                      <div key={i}>
                        {/* A question that cannot be found any more is named by its number. */}
                        <dt>{asked[i] ?? t('settings.general.question', { number: i + 1 })}</dt>
                        <dd>{answer || t('settings.requests.noAnswer')}</dd>
                      </div>
                    ))}
                  </dl>
                ) : (
                  <p className="c-muted">{t('settings.requests.noAnswers')}</p>
                )}
              </li>
            );
          })}
        </ul>
      )}
    </div>
  );
}

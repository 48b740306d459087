'use client';
/**
 * A post's poll: the results for everyone (votes and share per option), and for people who may vote a form with
 * radio buttons (single choice) or checkboxes (multiple), which also changes or takes back a vote.
 */
import { useId, useState, type FormEvent } from 'react';
import { VotePollDocument, type PollFieldsFragment } from '@circles/client';
import { LocalTime } from '@/components/LocalTime';
import { t } from '@/i18n';
import { browserClient } from '@/lib/browser-api';
import { describeError } from '@/lib/errors';
import { Alert, Button, Notice } from '@/ui';

export function PollBox({ postId, poll: initial }: { postId: string; poll: PollFieldsFragment }) {
  const [poll, setPoll] = useState(initial);
  const [selected, setSelected] = useState<string[]>(initial.viewerVotes);
  const [pending, setPending] = useState<'vote' | 'withdraw' | null>(null);
  const [error, setError] = useState<string>();
  const [notice, setNotice] = useState<string>();
  const id = useId();
  const title = poll.question || t('poll.untitled');

  const send = async (optionIds: string[], kind: 'vote' | 'withdraw') => {
    setPending(kind);
    setError(undefined);
    setNotice(undefined);
    try {
      const { votePoll } = await browserClient.request(VotePollDocument, { postId, optionIds });
      if (votePoll.poll) {
        setPoll(votePoll.poll);
        setSelected(votePoll.poll.viewerVotes);
      }
      setNotice(kind === 'vote' ? t('poll.voted') : t('poll.withdrawn'));
    } catch (err) {
      setError(describeError(err).message);
    } finally {
      setPending(null);
    }
  };

  const onSubmit = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    if (pending) return;
    if (selected.length === 0) {
      setError(t('poll.chooseFirst'));
      return;
    }
    void send(selected, 'vote');
  };

  const voted = poll.viewerVotes.length > 0;
  const totalVotes = poll.options.reduce((n, o) => n + o.votes, 0);
  const results = (
    <ul className="c-poll__results" aria-label={t('poll.results', { title })}>
      {poll.options.map((o) => {
        const share = totalVotes ? Math.round((o.votes / totalVotes) * 100) : 0;
        const mine = poll.viewerVotes.includes(o.id);
        return (
          <li key={o.id} className="c-poll__result" data-testid="poll-result">
            <span className="c-poll__label">
              {o.label}
              {mine ? <span className="c-muted"> {t('poll.yourChoice')}</span> : null}
            </span>
            <span className="c-poll__votes">{o.votes === 1 ? t('poll.voteOne', { percent: share }) : t('poll.votes', { count: o.votes, percent: share })}</span>
            <span className="c-poll__bar" aria-hidden="true">
              <span style={{ width: `${share}%` }} />
            </span>
          </li>
        );
      })}
    </ul>
  );

  return (
    <section className="c-poll" aria-labelledby={`${id}-title`} data-testid="poll">
      <h2 id={`${id}-title`} className="c-poll__title">
        <span className="c-visually-hidden">{t('poll.label')}: </span>
        {title}
      </h2>
      <p className="c-muted c-small">
        {poll.voterCount === 1 ? t('poll.voterOne') : t('poll.voters', { count: poll.voterCount })}
        {' · '}
        {poll.multipleChoice ? t('poll.multiple') : t('poll.single')}
        {' · '}
        {poll.closed ? (
          t('poll.closed')
        ) : poll.closesAt ? (
          <LocalTime iso={poll.closesAt} message="poll.closesAt" />
        ) : (
          t('poll.open')
        )}
      </p>
      {poll.viewerCanVote ? (
        <form onSubmit={onSubmit} className="c-form" aria-label={t('poll.voteLabel', { title })}>
          <fieldset className="c-fieldset">
            <legend className="c-visually-hidden">{title}</legend>
            {poll.options.map((o) => (
              <div key={o.id} className={poll.multipleChoice ? 'c-check' : 'c-radio'}>
                <input
                  type={poll.multipleChoice ? 'checkbox' : 'radio'}
                  id={`${id}-${o.id}`}
                  name="option"
                  value={o.id}
                  checked={selected.includes(o.id)}
                  onChange={(e) => {
                    const on = e.currentTarget.checked;
                    setSelected((s) => (poll.multipleChoice ? (on ? [...s, o.id] : s.filter((x) => x !== o.id)) : [o.id]));
                  }}
                />
                <label htmlFor={`${id}-${o.id}`}>
                  <span className="c-radio__label">{o.label}</span>
                </label>
              </div>
            ))}
          </fieldset>
          <div className="c-actions">
            <Button type="submit" variant="secondary" pending={pending === 'vote'} disabled={pending === 'withdraw'}>
              {voted ? t('poll.changeVote') : t('poll.vote')}
            </Button>
            {voted ? (
              <Button variant="quiet" pending={pending === 'withdraw'} disabled={pending === 'vote'} onClick={() => void send([], 'withdraw')}>
                {t('poll.withdraw')}
              </Button>
            ) : null}
          </div>
        </form>
      ) : null}
      {results}
      <Notice message={notice} />
      {error ? <Alert tone="error">{error}</Alert> : null}
    </section>
  );
}

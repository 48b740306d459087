import type { Metadata } from 'next';
import Link from 'next/link';
import { Fragment, type ReactNode } from 'react';
import { LocalTime } from '@/components/LocalTime';
import { t } from '@/i18n';
import { Alert, Card } from '@/ui';
import { loadOutbox } from '../outbox';

/** The tab and the screen reader's first words name the message, not just "Mail outbox". */
export async function generateMetadata({ params }: { params: Promise<{ id: string }> }): Promise<Metadata> {
  const { id } = await params;
  const result = await loadOutbox(`/admin/mail/${id}`, LOOKBACK);
  const message = result.kind === 'ok' ? result.outbox.messages.find((m) => m.id === id) : undefined;
  return { title: message?.subject ?? t('mail.title'), referrer: 'no-referrer' };
}

/** The API has no single-message query, so a message is looked up among the newest the outbox can list. */
const LOOKBACK = 200;

/** Plain text with its http(s) URLs made into links (the verification and reset links people need to follow). */
function linkify(text: string): ReactNode[] {
  const parts: ReactNode[] = [];
  const re = /https?:\/\/[^\s<>"']+/g;
  let last = 0;
  for (const match of text.matchAll(re)) {
    // Trailing punctuation belongs to the sentence, not the URL.
    const url = match[0].replace(/[.,;:!?)\]]+$/, '');
    const start = match.index;
    parts.push(<Fragment key={`t${start}`}>{text.slice(last, start)}</Fragment>);
    parts.push(
      <a key={`a${start}`} href={url} rel="noreferrer">
        {url}
      </a>,
    );
    last = start + url.length;
  }
  parts.push(<Fragment key="end">{text.slice(last)}</Fragment>);
  return parts;
}

export default async function MailMessagePage({ params }: { params: Promise<{ id: string }> }) {
  const { id } = await params;
  const result = await loadOutbox(`/admin/mail/${id}`, LOOKBACK);
  const back = (
    <p>
      <Link href="/admin/mail">← {t('mail.back')}</Link>
    </p>
  );
  if (result.kind === 'forbidden') {
    return (
      <div className="c-stack">
        <h1>{t('mail.title')}</h1>
        <Alert tone="error">{t('mail.forbidden')}</Alert>
      </div>
    );
  }
  const message = result.outbox.messages.find((m) => m.id === id);
  if (!message) {
    return (
      <div className="c-stack">
        {back}
        <h1>{t('mail.notFoundTitle')}</h1>
        <Alert tone="warning">{t('mail.notFound')}</Alert>
      </div>
    );
  }
  return (
    <div className="c-stack">
      {back}
      <Card title={message.subject} headingLevel={1}>
        <dl className="c-dl">
          <dt>{t('mail.toLabel')}</dt>
          <dd>{message.to}</dd>
          <dt>{t('mail.dateLabel')}</dt>
          <dd>
            <LocalTime iso={message.createdAt} />
          </dd>
        </dl>
        <pre className="c-mail-text c-after-form">{linkify(message.text)}</pre>
      </Card>
    </div>
  );
}

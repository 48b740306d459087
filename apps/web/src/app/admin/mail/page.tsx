import type { Metadata } from 'next';
import Link from 'next/link';
import { LocalTime } from '@/components/LocalTime';
import { t } from '@/i18n';
import { Alert, Card, EmptyState } from '@/ui';
import { loadOutbox } from './outbox';

export const metadata: Metadata = { title: t('mail.title') };

export default async function MailOutboxPage() {
  const result = await loadOutbox('/admin/mail');
  return (
    <div className="c-stack">
      <h1>{t('mail.title')}</h1>
      {result.kind === 'forbidden' ? (
        <Alert tone="error">{t('mail.forbidden')}</Alert>
      ) : (
        <>
          <p className="c-muted">{t('mail.lead')}</p>
          {result.outbox.delivery === 'smtp' ? <Alert tone="info">{t('mail.smtp')}</Alert> : null}
          <Card>
            {result.outbox.messages.length === 0 ? (
              <EmptyState>{t('mail.empty')}</EmptyState>
            ) : (
              <ul className="c-list" aria-label={t('mail.listLabel')}>
                {result.outbox.messages.map((m) => (
                  <li key={m.id} className="c-mail-item">
                    <Link href={`/admin/mail/${encodeURIComponent(m.id)}`}>{m.subject}</Link>
                    <p className="c-session__meta">
                      {t('mail.to', { to: m.to })} · <LocalTime iso={m.createdAt} message="mail.sentAt" />
                    </p>
                  </li>
                ))}
              </ul>
            )}
          </Card>
        </>
      )}
    </div>
  );
}

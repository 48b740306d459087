import type { Metadata } from 'next';
import Link from 'next/link';
import { redirect } from 'next/navigation';
import { ClientError, MySessionsDocument } from '@circles/client';
import { ChangePasswordForm, LogOutButton, ResendVerificationButton, SessionList, type SessionView } from '@/components/AccountActions';
import { t } from '@/i18n';
import { describeDevice } from '@/lib/format';
import { getViewer, serverClient } from '@/lib/server-api';
import { Badge, Card } from '@/ui';

export const metadata: Metadata = { title: t('account.title') };

const LOGIN = '/login?next=/account';

async function loadSessions(): Promise<SessionView[]> {
  try {
    const { mySessions } = await (await serverClient()).request(MySessionsDocument);
    return mySessions.map((s) => ({
      id: s.id,
      current: s.current,
      device: describeDevice(s.userAgent),
      userAgent: s.userAgent,
      ip: s.ip,
      lastSeenAt: s.lastSeenAt,
      createdAt: s.createdAt,
    }));
  } catch (err) {
    if (err instanceof ClientError && err.code === 'UNAUTHENTICATED') redirect(LOGIN);
    throw err;
  }
}

export default async function AccountPage() {
  const [viewer, sessions] = await Promise.all([getViewer(), loadSessions()]);
  if (!viewer) redirect(LOGIN);
  // The current session first, then the rest newest first (as the API returns them).
  sessions.sort((a, b) => Number(b.current) - Number(a.current));
  return (
    <div className="c-stack">
      <h1>{t('account.title')}</h1>
      <div className="c-grid c-grid--2">
        <Card title={t('account.profile')}>
          <dl className="c-dl">
            <dt>{t('account.handle')}</dt>
            <dd>@{viewer.user.handle}</dd>
            <dt>{t('account.displayName')}</dt>
            <dd>{viewer.user.displayName}</dd>
            <dt>{t('account.email')}</dt>
            <dd>
              {viewer.email}{' '}
              {viewer.emailVerified ? <Badge tone="success">{t('account.verified')}</Badge> : <Badge tone="warning">{t('account.unverified')}</Badge>}
            </dd>
          </dl>
          {viewer.emailVerified ? null : (
            <div className="c-stack c-after-form">
              <p className="c-muted">{t('account.unverifiedHint')}</p>
              <ResendVerificationButton email={viewer.email} />
            </div>
          )}
          {viewer.isInstanceAdmin ? <p className="c-muted c-after-form">{t('account.admin')}</p> : null}
          <div className="c-after-form">
            <LogOutButton />
          </div>
        </Card>
        <Card title={t('account.changePassword')} description={t('account.changePasswordLead')}>
          <ChangePasswordForm />
        </Card>
      </div>
      <Card title={t('account.subscriptions')} description={t('account.subscriptionsLead')}>
        <p>
          <Link href="/account/subscriptions">{t('subscriptions.title')}</Link>
        </p>
      </Card>
      <Card title={t('account.sessions')} description={t('account.sessionsLead')}>
        <SessionList sessions={sessions} />
      </Card>
    </div>
  );
}

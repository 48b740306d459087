import type { Metadata } from 'next';
import Link from 'next/link';
import { redirect } from 'next/navigation';
import { ClientError, MySessionsDocument, MySignInsDocument, type MySignInsQuery } from '@circles/client';
import { ChangePasswordForm, LogOutButton, ProfileForm, ResendVerificationButton, SessionList, type SessionView } from '@/components/AccountActions';
import { LocalTime } from '@/components/LocalTime';
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

async function loadSignIns(): Promise<MySignInsQuery['mySignIns']> {
  try {
    return (await (await serverClient()).request(MySignInsDocument, { first: 20 })).mySignIns;
  } catch (err) {
    if (err instanceof ClientError && err.code === 'UNAUTHENTICATED') redirect(LOGIN);
    throw err;
  }
}

export default async function AccountPage() {
  const [viewer, sessions, signIns] = await Promise.all([getViewer(), loadSessions(), loadSignIns()]);
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
      <Card title={t('account.editProfile')}>
        <ProfileForm handle={viewer.user.handle} displayName={viewer.user.displayName} />
      </Card>
      <Card title={t('account.subscriptions')} description={t('account.subscriptionsLead')}>
        <p>
          <Link href="/account/subscriptions">{t('subscriptions.title')}</Link>
        </p>
      </Card>
      <Card title={t('account.sessions')} description={t('account.sessionsLead')}>
        <SessionList sessions={sessions} />
      </Card>
      <Card title={t('account.signIns')} description={t('account.signInsLead')}>
        <ul className="c-list" aria-label={t('account.signIns')}>
          {signIns.map((s) => (
            <li key={s.id} data-testid="sign-in" className="c-session">
              <div>
                <p className="c-session__device">
                  <strong>{t(`account.signIn.${s.method}`)}</strong> · <span title={s.userAgent ?? undefined}>{describeDevice(s.userAgent) ?? t('account.unknownDevice')}</span>
                </p>
                <p className="c-session__meta">
                  {s.ip ? t('account.ip', { ip: s.ip }) : t('account.unknownIp')} · <LocalTime iso={s.at} />
                </p>
              </div>
            </li>
          ))}
        </ul>
      </Card>
    </div>
  );
}

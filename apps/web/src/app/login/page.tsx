import type { Metadata } from 'next';
import Link from 'next/link';
import { redirect } from 'next/navigation';
import { LogInForm } from '@/components/AuthForms';
import { t } from '@/i18n';
import { getViewer, safeNextPath } from '@/lib/server-api';
import { Alert, Card } from '@/ui';

export const metadata: Metadata = { title: t('login.title') };

export default async function LogInPage({ searchParams }: { searchParams: Promise<Record<string, string | string[] | undefined>> }) {
  const params = await searchParams;
  const next = safeNextPath(params.next);
  if (await getViewer()) redirect(next ?? '/account');
  return (
    <div className="c-narrow c-stack">
      {params.loggedOut ? <Alert tone="success">{t('login.signedOut')}</Alert> : null}
      <Card title={t('login.title')} headingLevel={1}>
        <LogInForm next={next} />
        <p className="c-after-form">
          <Link href="/forgot-password">{t('login.forgot')}</Link>
        </p>
        <p className="c-muted">
          {t('login.noAccount')} <Link href="/signup">{t('nav.signUp')}</Link>
        </p>
      </Card>
    </div>
  );
}

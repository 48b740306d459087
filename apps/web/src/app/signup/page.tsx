import type { Metadata } from 'next';
import Link from 'next/link';
import { redirect } from 'next/navigation';
import { SignUpForm } from '@/components/AuthForms';
import { t } from '@/i18n';
import { getViewer } from '@/lib/server-api';
import { Card } from '@/ui';

export const metadata: Metadata = { title: t('signup.title') };

export default async function SignUpPage() {
  if (await getViewer()) redirect('/account');
  return (
    <div className="c-narrow">
      <Card title={t('signup.title')} headingLevel={1} description={t('signup.lead')}>
        <SignUpForm />
        <p className="c-muted c-after-form">
          {t('signup.haveAccount')} <Link href="/login">{t('nav.logIn')}</Link>
        </p>
      </Card>
    </div>
  );
}

import type { Metadata } from 'next';
import Link from 'next/link';
import { redirect } from 'next/navigation';
import { SignUpForm } from '@/components/AuthForms';
import { t } from '@/i18n';
import { getViewer, safeNextPath } from '@/lib/server-api';
import { Card } from '@/ui';

export const metadata: Metadata = { title: t('signup.title') };

export default async function SignUpPage({ searchParams }: { searchParams: Promise<Record<string, string | string[] | undefined>> }) {
  const next = safeNextPath((await searchParams).next);
  if (await getViewer()) redirect(next ?? '/account');
  return (
    <div className="c-narrow">
      <Card title={t('signup.title')} headingLevel={1} description={t('signup.lead')}>
        <SignUpForm next={next} />
        <p className="c-muted c-after-form">
          {t('signup.haveAccount')} <Link href={next ? `/login?next=${encodeURIComponent(next)}` : '/login'}>{t('nav.logIn')}</Link>
        </p>
      </Card>
    </div>
  );
}

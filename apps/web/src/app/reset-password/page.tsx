import type { Metadata } from 'next';
import Link from 'next/link';
import { ResetPasswordForm } from '@/components/AuthForms';
import { t } from '@/i18n';
import { Alert, Card } from '@/ui';

export const metadata: Metadata = { title: t('reset.title'), referrer: 'no-referrer' };

export default async function ResetPasswordPage({ searchParams }: { searchParams: Promise<Record<string, string | string[] | undefined>> }) {
  const { token } = await searchParams;
  const value = typeof token === 'string' ? token : '';
  return (
    <div className="c-narrow">
      <Card title={t('reset.title')} headingLevel={1}>
        {value ? (
          <ResetPasswordForm token={value} />
        ) : (
          <div className="c-stack">
            <Alert tone="error">{t('reset.missingToken')}</Alert>
            <Link href="/forgot-password">{t('reset.requestNew')}</Link>
          </div>
        )}
      </Card>
    </div>
  );
}

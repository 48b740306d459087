import type { Metadata } from 'next';
import { ForgotPasswordForm } from '@/components/AuthForms';
import { t } from '@/i18n';
import { Card } from '@/ui';

export const metadata: Metadata = { title: t('forgot.title') };

export default function ForgotPasswordPage() {
  return (
    <div className="c-narrow">
      <Card title={t('forgot.title')} headingLevel={1} description={t('forgot.lead')}>
        <ForgotPasswordForm />
      </Card>
    </div>
  );
}

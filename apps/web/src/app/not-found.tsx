import type { Metadata } from 'next';
import Link from 'next/link';
import { t } from '@/i18n';
import { Card } from '@/ui';

export const metadata: Metadata = { title: t('notFound.title') };

export default function NotFound() {
  return (
    <div className="c-narrow">
      <Card title={t('notFound.title')} headingLevel={1}>
        <p>{t('notFound.body')}</p>
        <Link href="/">{t('common.backToHome')}</Link>
      </Card>
    </div>
  );
}

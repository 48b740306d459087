'use client';
import { t } from '@/i18n';
import { Alert, Button } from '@/ui';

/** Shown when a page fails to render (for example, the API is unreachable). */
export default function ErrorPage({ reset }: { error: Error & { digest?: string }; reset: () => void }) {
  return (
    <div className="c-narrow c-stack">
      {/* A client component cannot export metadata; React puts this <title> in the head. */}
      <title>{`${t('error.title')} · ${t('app.name')}`}</title>
      <h1>{t('error.title')}</h1>
      <Alert tone="error">{t('error.body')}</Alert>
      <Button onClick={reset}>{t('common.tryAgain')}</Button>
    </div>
  );
}

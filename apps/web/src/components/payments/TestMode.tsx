/**
 * How the payments pages say the built-in test provider is running: a badge beside a page's title, and a banner at
 * the top of the test provider's own pages (checkout, billing portal, onboarding). Server-safe (no hooks).
 */
import { t } from '@/i18n';
import { Badge } from '@/ui';

/** "Test mode", beside a heading; nothing when real payments are on. */
export function TestModeBadge({ testMode }: { testMode: boolean }) {
  if (!testMode) return null;
  return (
    <Badge tone="warning">
      <span data-testid="test-mode-badge" title={t('payments.testModeHint')}>
        {t('payments.testMode')}
      </span>
    </Badge>
  );
}

/** The test provider's pages: unmistakably not a real payment page. */
export function TestModeBanner({ children }: { children?: React.ReactNode }) {
  return (
    <div className="c-test-banner" data-testid="test-mode-banner">
      <p className="c-test-banner__title">{t('payments.testBanner')}</p>
      {children ? <div className="c-test-banner__body">{children}</div> : null}
    </div>
  );
}

import { t } from '@/i18n';

/**
 * A spinning indicator. Decorative by default (the control it sits in carries the meaning); pass `label` to make
 * it a standalone loading status that screen readers announce.
 */
export function Spinner({ label }: { label?: string }) {
  if (!label) return <span className="c-spinner" aria-hidden="true" />;
  return (
    <span role="status" className="c-loading">
      <span className="c-spinner" aria-hidden="true" />
      <span>{label}</span>
    </span>
  );
}

/** A whole-region loading state (route `loading.tsx`, pending lists). */
export function LoadingState({ label = t('common.loading') }: { label?: string }) {
  return (
    <div className="c-loading-state" aria-busy="true">
      <Spinner label={label} />
    </div>
  );
}

'use client';
/** Checks the audit chain on demand and says whether it is intact or where it breaks. */
import { useState } from 'react';
import { VerifyAuditChainDocument, type VerifyAuditChainQuery } from '@circles/client';
import { t } from '@/i18n';
import { browserClient } from '@/lib/browser-api';
import { useAction } from '@/lib/use-action';
import { Alert, Button } from '@/ui';

export function VerifyChainButton({ communityId }: { communityId: string }) {
  const { pending, error, run } = useAction();
  const [result, setResult] = useState<VerifyAuditChainQuery['verifyAuditChain']>();
  return (
    <div className="c-stack">
      <p className="c-muted">{t('settings.audit.verifyLead')}</p>
      <div>
        <Button
          variant="secondary"
          pending={pending}
          onClick={() =>
            run(async () => {
              setResult(undefined);
              setResult((await browserClient.request(VerifyAuditChainDocument, { communityId })).verifyAuditChain);
            })
          }
        >
          {t('settings.audit.verify')}
        </Button>
      </div>
      {error ? <Alert tone="error">{error}</Alert> : null}
      {/* Always mounted so the verdict is announced; a broken chain is also a warning. */}
      <div role="status" data-testid="audit-verdict">
        {result ? (
          result.valid ? (
            <p className="c-alert c-alert--success">{t('settings.audit.valid', { count: result.recordsChecked })}</p>
          ) : (
            <p className="c-alert c-alert--error">
              {result.firstInvalidSequence !== null
                ? t('settings.audit.invalidAt', { sequence: result.firstInvalidSequence, count: result.recordsChecked, reason: result.reason ?? '' })
                : t('settings.audit.invalid', { count: result.recordsChecked, reason: result.reason ?? '' })}
            </p>
          )
        ) : null}
      </div>
    </div>
  );
}

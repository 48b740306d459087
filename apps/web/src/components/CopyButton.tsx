'use client';
import { useState } from 'react';
import { t } from '@/i18n';
import { Button } from '@/ui';

/** Copies text (an invite link) to the clipboard and says so in a live region. */
export function CopyButton({ text, label, accessibleLabel }: { text: string; label?: string; accessibleLabel?: string }) {
  const [state, setState] = useState<'idle' | 'copied' | 'failed'>('idle');
  const copy = async () => {
    try {
      if (navigator.clipboard && window.isSecureContext) {
        await navigator.clipboard.writeText(text);
      } else {
        // Plain-HTTP instances have no Clipboard API: fall back to a selected, off-screen text field.
        const area = document.createElement('textarea');
        area.value = text;
        area.setAttribute('readonly', '');
        area.className = 'c-visually-hidden';
        document.body.append(area);
        area.select();
        const ok = document.execCommand('copy');
        area.remove();
        if (!ok) throw new Error('copy refused');
      }
      setState('copied');
    } catch {
      setState('failed');
    }
  };
  return (
    <span className="c-row">
      <Button variant="secondary" onClick={copy} aria-label={accessibleLabel}>
        {label ?? t('common.copyLink')}
      </Button>
      <span role="status" className={state === 'failed' ? 'c-field__error' : 'c-muted'}>
        {state === 'copied' ? t('common.copied') : state === 'failed' ? t('common.copyFailed') : ''}
      </span>
    </span>
  );
}

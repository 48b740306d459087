'use client';
import { useCallback, useState, useTransition } from 'react';
import { describeError } from '@/lib/errors';

/**
 * For buttons that call the API outside a form (revoke, log out, resend). `run` keeps the button busy through
 * the request and any `router.refresh()` it starts; a failure becomes a readable `error`.
 */
export function useAction() {
  const [pending, startTransition] = useTransition();
  const [error, setError] = useState<string>();
  const run = useCallback((work: () => Promise<void | 'navigating'>) => {
    setError(undefined);
    startTransition(async () => {
      try {
        const outcome = await work();
        // Keep the button busy until the browser leaves the page.
        if (outcome === 'navigating') await new Promise<never>(() => {});
      } catch (err) {
        setError(describeError(err).message);
      }
    });
  }, []);
  return { pending, error, run };
}

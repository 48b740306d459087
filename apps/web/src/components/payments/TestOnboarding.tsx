'use client';
import { CompleteTestOnboardingDocument } from '@circles/client';
import { t } from '@/i18n';
import { browserClient } from '@/lib/browser-api';
import { go } from '@/lib/navigation';
import { sameSiteTarget } from '@/lib/payments';
import { useAction } from '@/lib/use-action';
import { Alert, Button } from '@/ui';

/**
 * "Finish onboarding": completes the test payout account, then returns to `returnTo` when it is a place on this
 * site, else to the community's revenue page.
 */
export function FinishOnboarding({ accountId, returnTo, publicBase, communities, back }: {
  accountId: string;
  returnTo: string | null;
  publicBase: string;
  communities: { id: string; slug: string }[];
  /** Leaving without finishing (the return address when it is on this site). */
  back: string | null;
}) {
  const { pending, error, run } = useAction();
  return (
    <div className="c-stack">
      {error ? <Alert tone="error">{error}</Alert> : null}
      <div className="c-actions">
        <Button
          pending={pending}
          onClick={() =>
            run(async () => {
              const { completeTestOnboarding: communityId } = await browserClient.request(CompleteTestOnboardingDocument, { accountId });
              const target = sameSiteTarget(returnTo, [window.location.origin, publicBase]);
              const slug = communities.find((c) => c.id === communityId)?.slug;
              return go(target ?? (slug ? `/c/${slug}/settings/revenue?onboarding=done` : '/account'));
            })
          }
        >
          {t('onboarding.finish')}
        </Button>
        {back ? (
          <a href={back} className="c-button c-button--secondary">
            {t('onboarding.back')}
          </a>
        ) : null}
      </div>
    </div>
  );
}

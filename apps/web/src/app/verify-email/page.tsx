import type { Metadata } from 'next';
import Link from 'next/link';
import { ClientError, VerifyEmailDocument } from '@circles/client';
import { ResendVerificationButton } from '@/components/AccountActions';
import { t } from '@/i18n';
import { getViewer, serverClient } from '@/lib/server-api';
import { Alert, Card } from '@/ui';

export const metadata: Metadata = { title: t('verify.title'), referrer: 'no-referrer' };

type Outcome = 'verified' | 'invalid' | 'missing';

/** Following the emailed link is the proof, so this works signed in or not. */
async function verify(token: string | undefined): Promise<Outcome> {
  if (!token) return 'missing';
  try {
    const client = await serverClient();
    await client.request(VerifyEmailDocument, { token });
    return 'verified';
  } catch (err) {
    // A malformed token is reported as bad input; to the reader it is the same broken link.
    if (err instanceof ClientError && (err.code === 'INVALID_TOKEN' || err.code === 'BAD_USER_INPUT')) return 'invalid';
    throw err;
  }
}

export default async function VerifyEmailPage({ searchParams }: { searchParams: Promise<Record<string, string | string[] | undefined>> }) {
  const { token } = await searchParams;
  let outcome = await verify(typeof token === 'string' ? token : undefined);
  const viewer = await getViewer();
  // Links are single-use: opening it a second time after success should not look like a failure.
  if (outcome !== 'verified' && viewer?.emailVerified) outcome = 'verified';
  return (
    <div className="c-narrow">
      <Card title={t('verify.title')} headingLevel={1}>
        {outcome === 'verified' ? (
          <div className="c-stack">
            <Alert tone="success">{t('verify.success')}</Alert>
            <p>{viewer ? <Link href="/account">{t('verify.toAccount')}</Link> : <Link href="/login">{t('nav.logIn')}</Link>}</p>
          </div>
        ) : (
          <div className="c-stack">
            <Alert tone="error">{outcome === 'missing' ? t('verify.missingToken') : t('verify.invalid')}</Alert>
            {viewer ? (
              <>
                <p>{t('verify.resendHint')}</p>
                <ResendVerificationButton email={viewer.email} />
              </>
            ) : (
              <p>
                <Link href="/login?next=/account">{t('verify.logInToResend')}</Link>
              </p>
            )}
          </div>
        )}
      </Card>
    </div>
  );
}

import type { Metadata } from 'next';
import Link from 'next/link';
import { InvitePreviewDocument } from '@circles/client';
import { AcceptInviteButton, BanNotice } from '@/components/CommunityActions';
import { t } from '@/i18n';
import { loadMyCommunities } from '@/lib/community';
import { getViewer, serverClient } from '@/lib/server-api';
import { Alert, Card } from '@/ui';

// The code is a secret: keep it out of the Referer of any link followed from here.
export const metadata: Metadata = { title: t('invite.title'), referrer: 'no-referrer', robots: { index: false, follow: false } };

export default async function InvitePage({ params }: { params: Promise<{ code: string }> }) {
  const { code } = await params;
  const [{ invitePreview: preview }, viewer] = await Promise.all([(await serverClient()).request(InvitePreviewDocument, { code }), getViewer()]);
  if (!preview || !preview.valid) {
    return (
      <div className="c-narrow">
        <Card title={t('invite.invalidTitle')} headingLevel={1}>
          <Alert tone="error">{t('invite.invalid')}</Alert>
          <p className="c-after-form">
            <Link href="/">{t('common.backToHome')}</Link>
          </p>
        </Card>
      </div>
    );
  }
  const alreadyMember = viewer ? (await loadMyCommunities()).some((c) => c.id === preview.communityId) : false;
  // A banned person is told so instead of being offered a button the server would refuse (the preview carries
  // their own ban, private communities included).
  const ban = viewer && !alreadyMember ? preview.viewerBan : null;
  const next = encodeURIComponent(`/join/${code}`);
  return (
    <div className="c-narrow">
      <Card title={t('invite.title')} headingLevel={1}>
        <h2>{preview.name}</h2>
        {preview.description ? <p className="c-prose">{preview.description}</p> : null}
        <div className="c-after-form">
          {alreadyMember ? (
            <Link href={`/c/${preview.slug}`} className="c-button c-button--primary">
              {t('invite.alreadyMember', { name: preview.name })}
            </Link>
          ) : ban ? (
            <BanNotice ban={ban} />
          ) : viewer ? (
            <AcceptInviteButton code={code} name={preview.name} />
          ) : (
            <div className="c-stack">
              <p>{t('invite.anonymous')}</p>
              <p className="c-row">
                <Link href={`/login?next=${next}`} className="c-button c-button--primary">
                  {t('invite.logIn')}
                </Link>
                <Link href={`/signup?next=${next}`} className="c-button c-button--secondary">
                  {t('invite.signUp')}
                </Link>
              </p>
            </div>
          )}
        </div>
      </Card>
    </div>
  );
}

import type { Metadata } from 'next';
import { CommunityInvitesDocument } from '@circles/client';
import { InviteCreator, InviteList, type InviteStatus } from '@/components/settings/InvitesSettings';
import { t } from '@/i18n';
import { publicBaseUrl } from '@/lib/community';
import { serverClient } from '@/lib/server-api';
import { requireSettings } from '@/lib/settings';
import { Alert, Card } from '@/ui';

type Props = { params: Promise<{ slug: string }> };

// Invite codes are secrets: keep them out of the Referer of links followed from here.
export async function generateMetadata({ params }: Props): Promise<Metadata> {
  const { community } = await requireSettings((await params).slug, 'invites');
  return { title: t('settings.title', { section: t('settings.nav.invites'), name: community.name }), referrer: 'no-referrer', robots: { index: false, follow: false } };
}

export default async function InvitesSettingsPage({ params }: Props) {
  const { slug } = await params;
  const { community, permissions, viewer } = await requireSettings(slug, 'invites');
  const [{ communityInvites }, base] = await Promise.all([(await serverClient()).request(CommunityInvitesDocument, { communityId: community.id }), publicBaseUrl()]);
  // Decided here, once, so the server's markup and the browser's agree on what "now" is.
  const now = Date.now();
  const invites = communityInvites.map((invite) => {
    const status: InviteStatus = invite.revoked
      ? 'revoked'
      : invite.expiresAt && Date.parse(invite.expiresAt) <= now
        ? 'expired'
        : invite.maxUses !== null && invite.uses >= invite.maxUses
          ? 'usedUp'
          : 'active';
    return { ...invite, status };
  });
  // The API lists every link for people who manage members, and only the viewer's own for everyone else.
  const seesAll = permissions.includes('manage_members');
  const listTitle = seesAll ? t('settings.invites.allTitle') : t('settings.invites.ownTitle');
  return (
    <>
      <h1>{t('settings.invites.title')}</h1>
      <p className="c-muted">{t('settings.invites.lead')}</p>
      {community.archived ? (
        <Alert tone="warning">{t('settings.invites.archived')}</Alert>
      ) : (
        <Card title={t('settings.invites.create')}>
          <InviteCreator communityId={community.id} joinBase={`${base}/join/`} />
        </Card>
      )}
      <Card title={listTitle} description={seesAll ? undefined : <p>{t('settings.invites.ownLead')}</p>}>
        <InviteList invites={invites} joinBase={`${base}/join/`} viewerId={viewer.user.id} seesAll={seesAll} label={listTitle} />
      </Card>
    </>
  );
}

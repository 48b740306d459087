import type { Metadata } from 'next';
import Link from 'next/link';
import { notFound } from 'next/navigation';
import { CircleMembersDocument, CircleTiersDocument, ClientError, type CircleMembersQuery, type CircleTiersQuery } from '@circles/client';
import { CircleImageField, CircleMemberList, CircleMembership } from '@/components/CircleActions';
import { TestModeBadge } from '@/components/payments/TestMode';
import { AccessPending, SubscriptionLine, TierOffer } from '@/components/payments/TierOffer';
import { FeedSection } from '@/components/posts/FeedSection';
import { t } from '@/i18n';
import { circleMembersLabel } from '@/lib/format';
import { loadCircle, publicBaseUrl, type CommunityView } from '@/lib/community';
import { absoluteUrl, IMAGE_SIZES } from '@/lib/images';
import { loadFileLimits, loadMediaLimits } from '@/lib/media';
import { circlePath, feedParams, filesPath } from '@/lib/posts';
import { getViewer, serverClient } from '@/lib/server-api';
import { loadPermissions } from '@/lib/settings';
import { Alert, Badge, Card, EmptyState } from '@/ui';

type Params = { params: Promise<{ slug: string; circleId: string }>; searchParams: Promise<Record<string, string | string[] | undefined>> };

export async function generateMetadata({ params }: Params): Promise<Metadata> {
  const { slug, circleId } = await params;
  const found = await loadCircle(slug, circleId);
  if (!found) notFound();
  const { community, circle } = found;
  const image = circle.imageUrl ? { url: absoluteUrl(await publicBaseUrl(), circle.imageUrl), ...IMAGE_SIZES.CIRCLE_IMAGE.main, alt: t('circle.imageAlt', { name: circle.name }) } : null;
  return {
    title: t('circle.title', { name: circle.name, community: community.name }),
    description: circle.description || undefined,
    ...(image ? { openGraph: { title: circle.name, images: [image] } } : {}),
    robots: circle.hidden || community.visibility !== 'LISTED' ? { index: false, follow: false } : undefined,
  };
}

async function loadMembers(circleId: string): Promise<CircleMembersQuery['circleMembers'] | null> {
  try {
    return (await (await serverClient()).request(CircleMembersDocument, { circleId })).circleMembers;
  } catch (err) {
    // Who is in a circle is for the community's members.
    if (err instanceof ClientError && (err.code === 'FORBIDDEN' || err.code === 'UNAUTHENTICATED')) return null;
    throw err;
  }
}

/** A paid circle's tiers (anyone who can see the circle sees them); null when the payments API did not answer. */
async function loadTiers(circleId: string): Promise<CircleTiersQuery | null> {
  try {
    return await (await serverClient()).request(CircleTiersDocument, { id: circleId });
  } catch (err) {
    if (err instanceof ClientError) return null;
    throw err;
  }
}

function accessNote(community: CommunityView, access: string, signedIn: boolean): string {
  if (!signedIn) return t('circle.logInFirst');
  if (!community.viewerRole) return t('circle.joinCommunityFirst');
  if (access === 'PAID') return t('circle.paidHint');
  return access === 'OPEN' ? t('circle.openHint') : t('circle.closedHint');
}

// No loading.tsx on purpose: the page must be able to answer 404 (hidden circles) with the real status.
export default async function CirclePage({ params, searchParams }: Params) {
  const { slug, circleId } = await params;
  const [found, viewer] = await Promise.all([loadCircle(slug, circleId), getViewer()]);
  if (!found) notFound();
  const { community, circle } = found;
  const [members, permissions, circlePermissions] = await Promise.all([
    community.viewerRole ? loadMembers(circle.id) : Promise.resolve(null),
    community.viewerRole ? loadPermissions(community.id) : Promise.resolve([]),
    community.viewerRole ? loadPermissions(community.id, circle.id) : Promise.resolve([]),
  ]);
  const isHost = Boolean(viewer && members?.some((m) => m.user.id === viewer.user.id && m.role === 'HOST'));
  const managesCircles = permissions.includes('manage_circles');
  const canManage = !community.archived && (isHost || managesCircles);
  const limits = canManage ? await loadMediaLimits() : null;
  // Who may read a circle's posts: its members, and people who manage circles (services/community's spaceAccess).
  const readable = community.viewerRole !== null && (circle.viewerIsMember || managesCircles);
  const mayPost = viewer !== null && !community.archived && circlePermissions.includes('post');
  const fileLimits = mayPost ? await loadFileLimits() : null;
  const path = circlePath(community.slug, circle.id);
  const image = IMAGE_SIZES.CIRCLE_IMAGE.main;
  const query = await searchParams;
  // Paid circles: the tiers that open it, and the way back from a checkout (?checkout=success|canceled).
  const paid = circle.access === 'PAID';
  const tierData = paid ? await loadTiers(circle.id) : null;
  const tiers = tierData?.circle?.tiers ?? [];
  const testMode = tierData?.paymentsInfo.testMode ?? false;
  const mySubscriptions = tiers.filter((tier) => tier.viewerSubscription);
  const checkout = paid && typeof query.checkout === 'string' ? query.checkout : null;
  const paywall = paid && !readable;
  const circleNames = Object.fromEntries(community.circles.map((c) => [c.id, c.name]));
  const tiersTitle = paywall ? t('tiers.offerTitle', { circle: circle.name }) : mySubscriptions.length ? t('tiers.yourSubscription') : t('tiers.listTitle');
  const showTiers = paywall || mySubscriptions.length > 0 || managesCircles || permissions.includes('manage_community');

  return (
    <div className="c-stack">
      <p>
        <Link href={`/c/${community.slug}`}>← {t('community.back', { name: community.name })}</Link>
      </p>
      {checkout === 'success' ? (
        readable ? (
          <Alert tone="success">{t('tiers.checkoutSuccess')}</Alert>
        ) : (
          <>
            <Alert tone="info">{t('tiers.checkoutPending')}</Alert>
            <AccessPending />
          </>
        )
      ) : checkout === 'canceled' ? (
        <Alert tone="info">{t('tiers.checkoutCanceled')}</Alert>
      ) : null}
      <Card>
        {/* Decoration beside the name, which says what it is. */}
        {circle.imageUrl ? <img className="c-circle-image" src={circle.imageUrl} alt="" width={image.width} height={image.height} fetchPriority="high" data-testid="circle-image" /> : null}
        <div className="c-community-head">
          <div>
            <h1>
              {circle.name} {circle.hidden ? <Badge>{t('community.circleHidden')}</Badge> : null} {circle.viewerIsMember ? <Badge tone="success">{t('community.circleJoined')}</Badge> : null}
            </h1>
            <p className="c-community-head__meta">
              {circleMembersLabel(circle.memberCount, circle.access)}
              {isHost ? ` · ${t('circle.youHost')}` : null}
            </p>
          </div>
          <div data-testid="circle-membership" id="circle-membership">
            {circle.viewerIsMember ? (
              <CircleMembership circleId={circle.id} name={circle.name} member />
            ) : community.viewerRole && circle.access === 'OPEN' && !community.archived ? (
              <CircleMembership circleId={circle.id} name={circle.name} member={false} />
            ) : (
              <p className="c-muted">{accessNote(community, circle.access, viewer !== null)}</p>
            )}
          </div>
        </div>
        <div className="c-after-form">
          {circle.description.trim() ? <p className="c-prose">{circle.description}</p> : <EmptyState>{t('community.noDescription')}</EmptyState>}
          {managesCircles ? (
            <p className="c-after-form">
              <Link href={`/c/${community.slug}/settings/circles`}>{t('circle.manageInSettings')}</Link>
            </p>
          ) : null}
        </div>
      </Card>
      {paid && showTiers ? (
        <section className="c-card" id="tiers" aria-labelledby="tiers-title" data-testid={paywall ? 'paywall' : 'tiers'}>
          <h2 id="tiers-title" className="c-card__title">
            {tiersTitle} <TestModeBadge testMode={testMode} />
          </h2>
          {tierData === null ? (
            <Alert tone="warning">{t('tiers.unavailable')}</Alert>
          ) : paywall ? (
            <>
              <p className="c-card__description">{t('tiers.offerLead', { circle: circle.name })}</p>
              <TierOffer
                tiers={tiers}
                circleName={circle.name}
                communityName={community.name}
                communitySlug={community.slug}
                viewer={!viewer ? 'anonymous' : community.viewerRole ? 'member' : 'outsider'}
                loginHref={`/login?next=${encodeURIComponent(path)}`}
                archived={community.archived}
                circleNames={circleNames}
                circleId={circle.id}
              />
            </>
          ) : mySubscriptions.length ? (
            <ul className="c-list">
              {mySubscriptions.map((tier) => (
                <li key={tier.id}>
                  <p className="c-entry__title">{tier.name}</p>
                  <SubscriptionLine sub={tier.viewerSubscription!} />
                </li>
              ))}
            </ul>
          ) : (
            <TierOffer tiers={tiers} circleName={circle.name} communityName={community.name} communitySlug={community.slug} viewer="preview" loginHref="" archived={community.archived} circleNames={circleNames} circleId={circle.id} />
          )}
          {permissions.includes('manage_community') ? (
            <p className="c-after-form">
              <Link href={`/c/${community.slug}/settings/tiers`}>{t('tiers.editInSettings')}</Link>
            </p>
          ) : null}
        </section>
      ) : null}
      <FeedSection
        community={community}
        space={{ id: circle.id, name: circle.name }}
        composeIn={mayPost ? { id: circle.id, name: circle.name } : null}
        limits={fileLimits}
        basePath={path}
        params={feedParams(query)}
        signedIn={viewer !== null}
        joinHref={viewer ? (paywall && showTiers ? '#tiers' : '#circle-membership') : `/login?next=${encodeURIComponent(path)}`}
        filesHref={readable ? filesPath(community.slug, { id: circle.id, kind: 'CIRCLE' }) : null}
      />
      {canManage ? (
        <Card>
          <CircleImageField circleId={circle.id} name={circle.name} imageUrl={circle.imageUrl} limits={limits} />
        </Card>
      ) : null}
      <Card title={t('circle.members')}>
        {members === null ? (
          <Alert tone="info">{t('circle.membersForMembers')}</Alert>
        ) : (
          <CircleMemberList communityId={community.id} circleId={circle.id} circleName={circle.name} members={members} viewerId={viewer?.user.id ?? null} canManage={canManage} />
        )}
      </Card>
    </div>
  );
}

import type { Metadata } from 'next';
import Link from 'next/link';
import { notFound } from 'next/navigation';
import { MembershipPanel } from '@/components/CommunityActions';
import { FeedSection } from '@/components/posts/FeedSection';
import { t } from '@/i18n';
import { circleMembersLabel, memberCountLabel } from '@/lib/format';
import { loadCommunity, publicBaseUrl, type CommunityView } from '@/lib/community';
import { absoluteUrl, IMAGE_SIZES } from '@/lib/images';
import { loadFileLimits } from '@/lib/media';
import { managesSomething } from '@/lib/permissions';
import { feedParams, filesPath } from '@/lib/posts';
import { getViewer } from '@/lib/server-api';
import { loadPermissions } from '@/lib/settings';
import { Badge, Card, CircleThumb, CommunityAvatar, EmptyState } from '@/ui';

type Params = { params: Promise<{ slug: string }>; searchParams: Promise<Record<string, string | string[] | undefined>> };

/** A short summary for search results and link previews (descriptions can run to 2000 characters). */
function summary(community: CommunityView): string {
  const text = community.description.trim().replace(/\s+/g, ' ');
  if (!text) return t('app.tagline');
  return text.length > 200 ? `${text.slice(0, 199)}…` : text;
}

/** The picture link previews show: the banner (wide, as previews are), else the avatar; absolute, as OpenGraph needs. */
function previewImage(community: CommunityView, base: string) {
  if (community.bannerUrl) return { url: absoluteUrl(base, community.bannerUrl), ...IMAGE_SIZES.COMMUNITY_BANNER.main, alt: t('community.bannerAlt', { name: community.name }) };
  if (community.avatarUrl) return { url: absoluteUrl(base, community.avatarUrl), ...IMAGE_SIZES.COMMUNITY_AVATAR.main, alt: t('community.avatarAlt', { name: community.name }) };
  return null;
}

export async function generateMetadata({ params }: Params): Promise<Metadata> {
  const { slug } = await params;
  const community = await loadCommunity(slug);
  if (!community) notFound();
  const base = await publicBaseUrl();
  const url = `${base}/c/${community.slug}`;
  const description = summary(community);
  const image = previewImage(community, base);
  return {
    title: community.name,
    description,
    alternates: { canonical: url },
    openGraph: { title: community.name, description, type: 'website', url, siteName: t('app.name'), ...(image ? { images: [image] } : {}) },
    // Only listed communities belong in search engines; an unlisted one is shared by link, a private one is for members.
    robots: community.visibility === 'LISTED' ? undefined : { index: false, follow: false },
  };
}

/** schema.org data for search engines; `<` is escaped so a description cannot close the script element. */
function JsonLd({ community, url, base }: { community: CommunityView; url: string; base: string }) {
  const data = {
    '@context': 'https://schema.org',
    '@type': 'Organization',
    name: community.name,
    description: community.description || undefined,
    url,
    logo: community.avatarUrl ? absoluteUrl(base, community.avatarUrl) : undefined,
    foundingDate: community.createdAt,
    interactionStatistic: {
      '@type': 'InteractionCounter',
      interactionType: 'https://schema.org/JoinAction',
      userInteractionCount: community.memberCount,
    },
  };
  return <script type="application/ld+json" dangerouslySetInnerHTML={{ __html: JSON.stringify(data).replace(/</g, '\\u003c') }} />;
}

// No loading.tsx here on purpose: a streamed loading state would commit the response as 200 before the page can
// answer 404 for an unknown or private community, and crawlers should see the real status.
export default async function CommunityPage({ params, searchParams }: Params) {
  const { slug } = await params;
  const [community, viewer] = await Promise.all([loadCommunity(slug), getViewer()]);
  if (!community) notFound();
  const base = await publicBaseUrl();
  const url = `${base}/c/${community.slug}`;
  const circles = community.circles;
  const center = community.publicCenter;
  const [permissions, centerPermissions] = community.viewerRole ? await Promise.all([loadPermissions(community.id), loadPermissions(community.id, center.id)]) : [[], []];
  // New posts go to the Public Center from here; circles have their own composer on their pages.
  const mayPost = viewer !== null && !community.archived && centerPermissions.includes('post');
  const limits = mayPost ? await loadFileLimits() : null;
  const banner = IMAGE_SIZES.COMMUNITY_BANNER.main;
  return (
    <div className="c-stack">
      {community.visibility === 'PRIVATE' ? null : <JsonLd community={community} url={url} base={base} />}
      <Card className={community.bannerUrl ? 'c-card--banner' : undefined}>
        {/* Decoration at the top of the page; the name below says whose it is. */}
        {community.bannerUrl ? <img className="c-banner" src={community.bannerUrl} alt="" width={banner.width} height={banner.height} fetchPriority="high" data-testid="community-banner" /> : null}
        <div className="c-community-head">
          <div className="c-community-title">
            <span data-testid="community-avatar">
              <CommunityAvatar name={community.name} url={community.avatarUrl} size={72} lazy={false} />
            </span>
            <div>
              <h1>
                {community.name}{' '}
                {community.visibility === 'LISTED' ? null : <Badge>{t(community.visibility === 'PRIVATE' ? 'community.private' : 'community.unlisted')}</Badge>}
              </h1>
              <p className="c-community-head__meta">
                {/* The member directory is for members; others see how many there are. */}
                {community.viewerRole ? <Link href={`/c/${community.slug}/members`}>{memberCountLabel(community.memberCount)}</Link> : memberCountLabel(community.memberCount)} ·{' '}
                {t('community.ownedBy', { name: community.owner.displayName })}
              </p>
              {community.viewerRole ? (
                <nav aria-label={t('community.sections')} className="c-community-nav">
                  <ul>
                    <li>
                      <Link href={`/c/${community.slug}/chat`}>{t('community.chat')}</Link>
                    </li>
                  </ul>
                </nav>
              ) : null}
            </div>
          </div>
          <div data-testid="membership" id="membership">
            <MembershipPanel
              communityId={community.id}
              slug={community.slug}
              name={community.name}
              joinPolicy={community.joinPolicy}
              joinQuestions={community.joinQuestions}
              viewerRole={community.viewerRole}
              signedIn={viewer !== null}
              archived={community.archived}
              pendingRequestAt={community.viewerJoinRequest?.status === 'PENDING' ? community.viewerJoinRequest.createdAt : null}
              ban={community.viewerBan}
            />
            {managesSomething(permissions) || permissions.includes('invite') ? (
              <p className="c-row c-after-form">
                {managesSomething(permissions) ? (
                  <Link href={`/c/${community.slug}/settings`} className="c-button c-button--secondary">
                    {t('community.settings')}
                  </Link>
                ) : null}
                {permissions.includes('invite') && !community.archived ? (
                  <Link href={`/c/${community.slug}/settings/invites`} className="c-button c-button--secondary">
                    {t('community.invitePeople')}
                  </Link>
                ) : null}
              </p>
            ) : null}
          </div>
        </div>
        <div className="c-after-form">
          {community.description.trim() ? <p className="c-prose">{community.description}</p> : <EmptyState>{t('community.noDescription')}</EmptyState>}
        </div>
      </Card>
      <FeedSection
        community={community}
        space={null}
        composeIn={mayPost ? { id: center.id, name: t('space.publicCenter') } : null}
        limits={limits}
        basePath={`/c/${community.slug}`}
        params={feedParams(await searchParams)}
        signedIn={viewer !== null}
        joinHref={`/c/${community.slug}#membership`}
        filesHref={filesPath(community.slug, { id: center.id, kind: 'PUBLIC_CENTER' })}
      />
      <Card title={t('community.circles')}>
        {circles.length === 0 ? (
          <EmptyState>{t('community.circlesEmpty')}</EmptyState>
        ) : (
          <ul className="c-list" aria-label={t('community.circles')}>
            {circles.map((circle) => (
              <li key={circle.id} className="c-media-row" data-testid="circle-card">
                {circle.imageUrl ? <CircleThumb url={circle.imageUrl} /> : null}
                <div className="c-entry">
                  <span className="c-entry__title">
                    <Link href={`/c/${community.slug}/circles/${circle.id}`}>{circle.name}</Link> {circle.hidden ? <Badge>{t('community.circleHidden')}</Badge> : null}{' '}
                    {circle.viewerIsMember ? <Badge tone="success">{t('community.circleJoined')}</Badge> : null}
                  </span>
                  {circle.description ? <span>{circle.description}</span> : null}
                  <p className="c-entry__meta">{circleMembersLabel(circle.memberCount, circle.access)}</p>
                </div>
              </li>
            ))}
          </ul>
        )}
      </Card>
    </div>
  );
}

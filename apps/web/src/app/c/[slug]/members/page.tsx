import type { Metadata } from 'next';
import Link from 'next/link';
import { notFound } from 'next/navigation';
import { ClientError, CommunityMembersDocument, type CommunityMembersQuery } from '@circles/client';
import { LocalTime } from '@/components/LocalTime';
import { t } from '@/i18n';
import { loadCommunity } from '@/lib/community';
import { allowedSections } from '@/lib/permissions';
import { serverClient } from '@/lib/server-api';
import { loadPermissions } from '@/lib/settings';
import { Alert, Badge, Card, EmptyState } from '@/ui';
import { MemberSearchForm } from '@/components/MemberSearchForm';

type Props = { params: Promise<{ slug: string }>; searchParams: Promise<Record<string, string | string[] | undefined>> };

export async function generateMetadata({ params }: Props): Promise<Metadata> {
  const { slug } = await params;
  const community = await loadCommunity(slug);
  if (!community) return { title: t('notFound.title') };
  return { title: t('members.title', { name: community.name }), robots: { index: false, follow: true } };
}

type MembersResult = { kind: 'ok'; members: CommunityMembersQuery['communityMembers'] } | { kind: 'forbidden' };

async function loadMembers(communityId: string, search: string | null): Promise<MembersResult> {
  try {
    const { communityMembers } = await (await serverClient()).request(CommunityMembersDocument, { communityId, search, first: 200 });
    return { kind: 'ok', members: communityMembers };
  } catch (err) {
    // Unlisted and private communities show their members to members only.
    if (err instanceof ClientError && (err.code === 'FORBIDDEN' || err.code === 'UNAUTHENTICATED')) return { kind: 'forbidden' };
    throw err;
  }
}

export default async function MembersPage({ params, searchParams }: Props) {
  const { slug } = await params;
  const { q } = await searchParams;
  const query = (typeof q === 'string' ? q : '').trim().slice(0, 64);
  const community = await loadCommunity(slug);
  if (!community) notFound();
  const [result, permissions] = await Promise.all([loadMembers(community.id, query || null), community.viewerRole ? loadPermissions(community.id) : Promise.resolve([])]);
  return (
    <div className="c-stack">
      <p>
        <Link href={`/c/${community.slug}`}>← {t('community.back', { name: community.name })}</Link>
      </p>
      <h1>{t('members.title', { name: community.name })}</h1>
      {allowedSections(permissions).includes('members') ? (
        <p>
          <Link href={`/c/${community.slug}/settings/members`}>{t('members.manage')}</Link>
        </p>
      ) : null}
      {result.kind === 'forbidden' ? (
        <Alert tone="warning">{t('members.forbidden')}</Alert>
      ) : (
        <Card>
          <MemberSearchForm id="member-search" query={query} clearHref={`/c/${community.slug}/members`} />
          <div className="c-after-form">
            {query ? <h2 className="c-visually-hidden">{t('members.resultsFor', { query })}</h2> : null}
            {result.members.length === 0 ? (
              <EmptyState>{query ? t('members.noMatch', { query }) : t('members.empty')}</EmptyState>
            ) : (
              <ul className="c-list" aria-label={t('members.listLabel')}>
                {result.members.map((m) => (
                  <li key={m.user.id} className="c-entry" data-testid="member">
                    <span className="c-entry__title">
                      {m.user.displayName} <span className="c-muted">@{m.user.handle}</span> {m.role === 'MEMBER' ? null : <Badge>{t(`role.${m.role}`)}</Badge>}
                    </span>
                    <p className="c-entry__meta">
                      <LocalTime iso={m.joinedAt} message="members.joined" />
                    </p>
                  </li>
                ))}
              </ul>
            )}
          </div>
        </Card>
      )}
    </div>
  );
}

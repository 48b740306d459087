/**
 * The posts card of a community home or a circle page (server-rendered): the composer for people who may post,
 * the sort links (New, Top of the day / week / all time, Active: real links, so they work without JavaScript), and
 * the feed itself.
 */
import Link from 'next/link';
import { ClientError, FeedDocument, type FeedQuery } from '@circles/client';
import { t } from '@/i18n';
import type { FileLimitsView } from '@/lib/media';
import { apiPeriod, apiSort, FEED_PAGE, feedHref, type FeedParams } from '@/lib/posts';
import { serverClient } from '@/lib/server-api';
import { Card } from '@/ui';
import { FeedList } from './FeedList';
import { PostComposer } from './PostComposer';

export interface FeedSectionProps {
  community: { id: string; slug: string };
  /** The space whose feed this is; null for the community's home feed. */
  space: { id: string; name: string } | null;
  /** Where the composer posts (the space itself, or the Public Center on the home page); null when the viewer may not. */
  composeIn: { id: string; name: string } | null;
  limits: FileLimitsView | null;
  basePath: string;
  params: FeedParams;
  signedIn: boolean;
  joinHref: string;
  /** A link to the space's file library, when the viewer may read it. */
  filesHref: string | null;
}

async function loadFeed(communityId: string, spaceId: string | null, params: FeedParams): Promise<{ feed: FeedQuery['feed']; params: FeedParams }> {
  const client = await serverClient();
  const ask = (after: string | null) => client.request(FeedDocument, { communityId, spaceId, sort: apiSort(params.sort), period: apiPeriod(params.period), first: FEED_PAGE, after });
  try {
    return { feed: (await ask(params.after)).feed, params };
  } catch (err) {
    // A cursor from another sort or an old link: start from the first page rather than failing the page.
    if (params.after && err instanceof ClientError && err.code === 'BAD_USER_INPUT') return { feed: (await ask(null)).feed, params: { ...params, after: null } };
    throw err;
  }
}

const SORTS = ['new', 'top', 'active'] as const;
const PERIODS = ['day', 'week', 'all'] as const;

export async function FeedSection({ community, space, composeIn, limits, basePath, params: asked, signedIn, joinHref, filesHref }: FeedSectionProps) {
  const { feed, params } = await loadFeed(community.id, space?.id ?? null, asked);
  return (
    <Card title={t('feed.title')}>
      {composeIn ? (
        <section className="c-composer-box" aria-labelledby="composer-title">
          <h3 id="composer-title">{t('composer.heading', { space: composeIn.name })}</h3>
          <PostComposer mode={{ kind: 'create', communityId: community.id, spaceId: composeIn.id, spaceName: composeIn.name, slug: community.slug }} limits={limits} />
        </section>
      ) : null}
      <div className="c-row-between c-after-form">
        <nav aria-label={t('feed.sortLabel')} className="c-feed-sort">
          <ul className="c-tabs">
            {SORTS.map((s) => (
              <li key={s}>
                <Link href={feedHref(basePath, s, params.period)} aria-current={s === params.sort ? 'page' : undefined} scroll={false}>
                  {t(`feed.sort.${s}`)}
                </Link>
              </li>
            ))}
          </ul>
          {params.sort === 'top' ? (
            <ul className="c-tabs c-tabs--sub" aria-label={t('feed.periodLabel')}>
              {PERIODS.map((p) => (
                <li key={p}>
                  <Link href={feedHref(basePath, 'top', p)} aria-current={p === params.period ? 'page' : undefined} scroll={false}>
                    {t(`feed.period.${p}`)}
                  </Link>
                </li>
              ))}
            </ul>
          ) : null}
        </nav>
        {filesHref ? (
          <p>
            <Link href={filesHref}>{t('files.link')}</Link>
          </p>
        ) : null}
      </div>
      {params.after ? (
        <p>
          <Link href={feedHref(basePath, params.sort, params.period)}>{t('feed.backToFirst')}</Link>
        </p>
      ) : null}
      {/* Keyed by the query: another sort or page starts a fresh list instead of keeping this one's. */}
      <FeedList
        key={`${params.sort}:${params.period}:${params.after ?? ''}`}
        communityId={community.id}
        spaceId={space?.id ?? null}
        slug={community.slug}
        basePath={basePath}
        params={params}
        initial={feed}
        signedIn={signedIn}
        joinHref={joinHref}
        showSpace={space === null}
      />
    </Card>
  );
}

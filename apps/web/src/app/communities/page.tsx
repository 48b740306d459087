import type { Metadata } from 'next';
import Link from 'next/link';
import { CommunityDirectoryDocument } from '@circles/client';
import { t } from '@/i18n';
import { memberCountLabel } from '@/lib/community';
import { getViewer, serverClient } from '@/lib/server-api';
import { Card, EmptyState } from '@/ui';

export const metadata: Metadata = { title: t('directory.title'), description: t('directory.lead') };

export default async function DirectoryPage() {
  const [{ communities }, viewer] = await Promise.all([(await serverClient()).request(CommunityDirectoryDocument, { first: 100 }), getViewer()]);
  return (
    <div className="c-stack">
      <div className="c-community-head">
        <div>
          <h1>{t('directory.title')}</h1>
          <p className="c-muted">{t('directory.lead')}</p>
        </div>
        <p>
          <Link href={viewer ? '/communities/new' : '/login?next=/communities/new'} className="c-button c-button--primary">
            {t('directory.create')}
          </Link>
        </p>
      </div>
      <Card>
        {communities.length === 0 ? (
          <EmptyState>{t('directory.empty')}</EmptyState>
        ) : (
          <ul className="c-list" aria-label={t('directory.listLabel')}>
            {communities.map((c) => (
              <li key={c.id} className="c-entry">
                <Link href={`/c/${c.slug}`} className="c-entry__title">
                  {c.name}
                </Link>
                {c.description ? <span>{c.description.length > 240 ? `${c.description.slice(0, 239)}…` : c.description}</span> : null}
                <p className="c-entry__meta">
                  {memberCountLabel(c.memberCount)} · {t(`joinPolicy.${c.joinPolicy}`)}
                  {c.viewerRole ? ` · ${t(`role.${c.viewerRole}`)}` : ''}
                </p>
              </li>
            ))}
          </ul>
        )}
      </Card>
    </div>
  );
}

import type { Metadata } from 'next';
import { notFound } from 'next/navigation';
import { cache } from 'react';
import { UserProfileDocument } from '@circles/client';
import { LocalTime } from '@/components/LocalTime';
import { t } from '@/i18n';
import { serverClient } from '@/lib/server-api';
import { Card } from '@/ui';

type Props = { params: Promise<{ handle: string }> };

/** Where @mentions and post authors link: who someone is (their public name, handle and since when). */
const loadUser = cache(async (handle: string) => {
  // Handles are 3-30 letters, digits or underscores: anything else cannot exist.
  if (!/^[A-Za-z0-9_]{3,30}$/.test(handle)) return null;
  return (await (await serverClient()).request(UserProfileDocument, { handle })).userByHandle;
});

export async function generateMetadata({ params }: Props): Promise<Metadata> {
  const user = await loadUser((await params).handle);
  if (!user) notFound();
  // A name and a handle are not worth a search result of their own.
  return { title: t('profile.title', { name: user.displayName, handle: user.handle }), robots: { index: false, follow: true } };
}

export default async function ProfilePage({ params }: Props) {
  const user = await loadUser((await params).handle);
  if (!user) notFound();
  return (
    <div className="c-narrow">
      <Card>
        <h1>{user.displayName}</h1>
        <p className="c-muted">@{user.handle}</p>
        <p>
          <LocalTime iso={user.createdAt} message="profile.since" />
        </p>
      </Card>
    </div>
  );
}

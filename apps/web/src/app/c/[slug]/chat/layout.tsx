import type { Metadata } from 'next';
import Link from 'next/link';
import { notFound } from 'next/navigation';
import type { ReactNode } from 'react';
import { ChatProvider } from '@/components/chat/ChatProvider';
import { ChatShell } from '@/components/chat/ChatShell';
import { t } from '@/i18n';
import { loadChatSpaces } from '@/lib/chat-server';
import { loadCommunity } from '@/lib/community';
import { getViewer } from '@/lib/server-api';
import { Alert } from '@/ui';

type Params = { params: Promise<{ slug: string }> };

export async function generateMetadata({ params }: Params): Promise<Metadata> {
  const community = await loadCommunity((await params).slug);
  return { title: community ? t('chat.title', { name: community.name }) : undefined, robots: { index: false, follow: false } };
}

/** Chat for a community's members: the channel list stays mounted (and the socket open) while channels change. */
export default async function ChatLayout({ params, children }: Params & { children: ReactNode }) {
  const { slug } = await params;
  const [community, viewer] = await Promise.all([loadCommunity(slug), getViewer()]);
  if (!community) notFound();
  if (!viewer || !community.viewerRole) {
    return (
      <div className="c-stack">
        <h1>{t('chat.title', { name: community.name })}</h1>
        <Alert tone="info">
          {viewer ? (
            <Link href={`/c/${community.slug}#membership`}>{t('chat.forMembers')}</Link>
          ) : (
            <Link href={`/login?next=${encodeURIComponent(`/c/${community.slug}/chat`)}`}>{t('chat.logInFirst')}</Link>
          )}
        </Alert>
      </div>
    );
  }
  const { spaces, channels } = await loadChatSpaces(community);
  return (
    <ChatProvider viewer={viewer.user}>
      <ChatShell mode={{ kind: 'community', slug: community.slug, communityId: community.id, communityName: community.name, spaces }} initialChannels={channels}>
        {children}
      </ChatShell>
    </ChatProvider>
  );
}

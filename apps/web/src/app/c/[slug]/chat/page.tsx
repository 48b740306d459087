import { notFound, redirect } from 'next/navigation';
import { t } from '@/i18n';
import { chatPath } from '@/lib/chat';
import { loadChatSpaces } from '@/lib/chat-server';
import { loadCommunity } from '@/lib/community';
import { getViewer } from '@/lib/server-api';
import { EmptyState } from '@/ui';

/** The community's chat opens on its first channel (the Public Center's, in the admins' order). */
export default async function ChatIndex({ params }: { params: Promise<{ slug: string }> }) {
  const { slug } = await params;
  const [community, viewer] = await Promise.all([loadCommunity(slug), getViewer()]);
  if (!community) notFound();
  if (!viewer || !community.viewerRole) return null;
  const { spaces, channels } = await loadChatSpaces(community);
  const first = spaces.map((s) => channels.filter((c) => c.spaceId === s.id).sort((a, b) => a.position - b.position)[0]).find(Boolean);
  if (first) redirect(chatPath(community.slug, first.id));
  return (
    <div className="c-chat-empty">
      <h1>{t('chat.title', { name: community.name })}</h1>
      <EmptyState>{t('chat.noChannelsYet')}</EmptyState>
    </div>
  );
}

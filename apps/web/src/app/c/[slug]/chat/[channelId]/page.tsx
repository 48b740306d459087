import type { Metadata } from 'next';
import { notFound } from 'next/navigation';
import { ChannelView } from '@/components/chat/ChannelView';
import { t } from '@/i18n';
import { linkTarget, loadChannel, loadChatSpaces, loadFirstPage, loadSpaceMembers } from '@/lib/chat-server';
import { loadCommunity } from '@/lib/community';
import { loadFileLimits } from '@/lib/media';
import { getViewer } from '@/lib/server-api';

type Params = { params: Promise<{ slug: string; channelId: string }>; searchParams: Promise<Record<string, string | string[] | undefined>> };

export async function generateMetadata({ params }: Params): Promise<Metadata> {
  const { slug, channelId } = await params;
  const [community, channel] = await Promise.all([loadCommunity(slug), loadChannel(channelId)]);
  return { title: community && channel?.name ? `#${channel.name} · ${community.name}` : t('chat.title', { name: community?.name ?? '' }) };
}

export default async function ChannelPage({ params, searchParams }: Params) {
  const { slug, channelId } = await params;
  const [community, viewer] = await Promise.all([loadCommunity(slug), getViewer()]);
  if (!community) notFound();
  // The layout explains why a visitor sees no chat.
  if (!viewer || !community.viewerRole) return null;
  const channel = await loadChannel(channelId);
  if (!channel || channel.kind !== 'SPACE' || channel.communityId !== community.id) notFound();
  const [target, { spaces }] = await Promise.all([linkTarget(channel.id, await searchParams), loadChatSpaces(community)]);
  const [page, members, limits] = await Promise.all([loadFirstPage(channel.id, target.focusSeq), loadSpaceMembers(community.id, spaces.find((s) => s.id === channel.spaceId)), loadFileLimits()]);
  // Keyed by channel and link: switching channels (or following a link) starts a fresh view (its own history,
  // composer and panels).
  const key = `${channel.id}:${target.focusSeq ?? ''}:${target.thread?.rootId ?? ''}:${target.thread?.seq ?? ''}`;
  return <ChannelView key={key} channel={channel} initialPage={page} focusSeq={target.focusSeq} thread={target.thread} limits={limits} members={members} />;
}

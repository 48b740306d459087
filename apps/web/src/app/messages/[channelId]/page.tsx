import { notFound } from 'next/navigation';
import { ChannelView } from '@/components/chat/ChannelView';
import { focusParam, loadChannel, loadFirstPage } from '@/lib/chat-server';
import { loadFileLimits } from '@/lib/media';
import { getViewer } from '@/lib/server-api';

type Params = { params: Promise<{ channelId: string }>; searchParams: Promise<Record<string, string | string[] | undefined>> };

export default async function DirectChannelPage({ params, searchParams }: Params) {
  const { channelId } = await params;
  const viewer = await getViewer();
  if (!viewer) return null;
  const channel = await loadChannel(channelId);
  if (!channel || channel.kind === 'SPACE') notFound();
  const focus = focusParam((await searchParams).m);
  const [page, limits] = await Promise.all([loadFirstPage(channel.id, focus), loadFileLimits()]);
  return <ChannelView key={`${channel.id}:${focus ?? ''}`} channel={channel} initialPage={page} focusSeq={focus} limits={limits} members={channel.members} />;
}

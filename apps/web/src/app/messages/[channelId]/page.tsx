import { notFound } from 'next/navigation';
import { ChannelView } from '@/components/chat/ChannelView';
import { linkTarget, loadChannel, loadFirstPage } from '@/lib/chat-server';
import { loadFileLimits } from '@/lib/media';
import { getViewer } from '@/lib/server-api';

type Params = { params: Promise<{ channelId: string }>; searchParams: Promise<Record<string, string | string[] | undefined>> };

export default async function DirectChannelPage({ params, searchParams }: Params) {
  const { channelId } = await params;
  const viewer = await getViewer();
  if (!viewer) return null;
  const channel = await loadChannel(channelId);
  if (!channel || channel.kind === 'SPACE') notFound();
  const target = await linkTarget(channel.id, await searchParams);
  const [page, limits] = await Promise.all([loadFirstPage(channel.id, target.focusSeq), loadFileLimits()]);
  const key = `${channel.id}:${target.focusSeq ?? ''}:${target.thread?.rootId ?? ''}:${target.thread?.seq ?? ''}`;
  return <ChannelView key={key} channel={channel} initialPage={page} focusSeq={target.focusSeq} thread={target.thread} limits={limits} members={channel.members} />;
}

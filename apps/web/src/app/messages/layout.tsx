import type { Metadata } from 'next';
import { redirect } from 'next/navigation';
import type { ReactNode } from 'react';
import { ChatProvider } from '@/components/chat/ChatProvider';
import { ChatShell } from '@/components/chat/ChatShell';
import { t } from '@/i18n';
import { loadDirectChannels } from '@/lib/chat-server';
import { getViewer } from '@/lib/server-api';

export const metadata: Metadata = { title: t('dm.title'), robots: { index: false, follow: false } };

/** The viewer's DMs and groups beside the open one; one chat connection for the whole section. */
export default async function MessagesLayout({ children }: { children: ReactNode }) {
  const viewer = await getViewer();
  if (!viewer) redirect(`/login?next=${encodeURIComponent('/messages')}`);
  const channels = await loadDirectChannels();
  return (
    <ChatProvider viewer={viewer.user}>
      <ChatShell mode={{ kind: 'direct' }} initialChannels={channels}>
        {children}
      </ChatShell>
    </ChatProvider>
  );
}

import { NewConversation } from '@/components/chat/NewConversation';
import { loadMyCommunities } from '@/lib/community';
import { getViewer } from '@/lib/server-api';

/** /messages: start a conversation (the list of existing ones is beside it). */
export default async function MessagesPage() {
  const viewer = await getViewer();
  if (!viewer) return null;
  const communities = await loadMyCommunities();
  return <NewConversation viewerId={viewer.user.id} communityIds={communities.map((c) => c.id)} />;
}

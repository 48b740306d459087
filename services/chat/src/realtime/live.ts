import type { PubSub } from '@circles/platform';

/** PubSub topics of the real-time layer (see docs/chat-protocol.md, "Across nodes"). */
export const liveTopics = {
  channel: (channelId: string) => `chat:ch:${channelId}`,
  user: (userId: string) => `chat:user:${userId}`,
  community: (communityId: string) => `chat:community:${communityId}`,
  presence: 'chat:presence',
} as const;

/**
 * Where the domain announces what just happened, after commit. A frame is serialized here, once, and travels as
 * that string to every node holding subscribers; each node writes the same string to each of its sockets.
 */
export class ChatLive {
  constructor(private readonly pubsub: PubSub) {}

  /** To everyone subscribed to the channel, on every node. */
  channel(channelId: string, frame: { t: string; channelId: string } & Record<string, unknown>): void {
    this.send(liveTopics.channel(channelId), frame);
  }

  /** To everyone following a community's channel list (created, renamed, reordered, deleted: refetch it). */
  community(communityId: string, frame: { t: string; communityId: string } & Record<string, unknown>): void {
    this.send(liveTopics.community(communityId), frame);
  }

  /** To every device of one person. */
  user(userId: string, frame: { t: string } & Record<string, unknown>): void {
    this.send(liveTopics.user(userId), frame);
  }

  private send(topic: string, frame: object) {
    // Fire and forget: the change is committed and the client catches up by sequence number if this is lost.
    this.pubsub.publish(topic, JSON.stringify(frame)).catch(() => {});
  }
}

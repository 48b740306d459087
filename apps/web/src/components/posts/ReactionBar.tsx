'use client';
/**
 * Emoji reactions on a post or a comment: a toggle button per emoji (the common ones, then any other in use) with
 * its count and aria-pressed, or, for someone who may not react, the counts as a list. On posts, "Who reacted"
 * loads the names on demand.
 */
import { useId, useState } from 'react';
import { PostReactorsDocument, SetCommentReactionDocument, SetPostReactionDocument, type ReactionFieldsFragment, type UserFieldsFragment } from '@circles/client';
import { t } from '@/i18n';
import { browserClient } from '@/lib/browser-api';
import { describeError } from '@/lib/errors';
import { COMMON_REACTIONS } from '@/lib/posts';
import { Alert, Button } from '@/ui';

export interface ReactionBarProps {
  target: { kind: 'post' | 'comment'; id: string };
  reactions: ReactionFieldsFragment[];
  /** Whether the viewer may react (a reader who may comment on a published post). */
  canReact: boolean;
  /** What the reactions are on, for the group's name ("Reactions to this post"). */
  label: string;
}

function emojiName(emoji: string): string {
  const known = COMMON_REACTIONS.find((r) => r.emoji === emoji);
  return known ? t(known.name) : emoji;
}

/** Common emoji first (even at zero, so they can be chosen), then the others in use, most used first. */
function shown(reactions: ReactionFieldsFragment[], withCommon: boolean): ReactionFieldsFragment[] {
  const byEmoji = new Map(reactions.map((r) => [r.emoji, r]));
  const common = withCommon ? COMMON_REACTIONS.map((c) => byEmoji.get(c.emoji) ?? { emoji: c.emoji, count: 0, viewerReacted: false }) : [];
  const others = reactions.filter((r) => r.count > 0 && !(withCommon && COMMON_REACTIONS.some((c) => c.emoji === r.emoji))).sort((a, b) => b.count - a.count);
  return [...common, ...others];
}

export function ReactionBar({ target, reactions: initial, canReact, label }: ReactionBarProps) {
  const [reactions, setReactions] = useState(initial);
  const [busy, setBusy] = useState<string | null>(null);
  const [error, setError] = useState<string>();
  const [who, setWho] = useState<{ emoji: string; users: UserFieldsFragment[] }[] | null>(null);
  const [whoOpen, setWhoOpen] = useState(false);
  const [whoLoading, setWhoLoading] = useState(false);
  const whoId = useId();

  const toggle = async (r: ReactionFieldsFragment) => {
    if (busy) return;
    setBusy(r.emoji);
    setError(undefined);
    try {
      const reacted = !r.viewerReacted;
      const next =
        target.kind === 'post'
          ? (await browserClient.request(SetPostReactionDocument, { postId: target.id, emoji: r.emoji, reacted })).setPostReaction.reactions
          : (await browserClient.request(SetCommentReactionDocument, { commentId: target.id, emoji: r.emoji, reacted })).setCommentReaction.reactions;
      setReactions(next);
      // Names loaded earlier are out of date now.
      setWho(null);
      setWhoOpen(false);
    } catch (err) {
      setError(describeError(err).message);
    } finally {
      setBusy(null);
    }
  };

  const showWho = async () => {
    if (whoOpen) {
      setWhoOpen(false);
      return;
    }
    setWhoOpen(true);
    if (who) return;
    setWhoLoading(true);
    setError(undefined);
    try {
      const used = reactions.filter((r) => r.count > 0);
      const lists = await Promise.all(used.map(async (r) => ({ emoji: r.emoji, users: (await browserClient.request(PostReactorsDocument, { id: target.id, emoji: r.emoji })).post?.reactors ?? [] })));
      setWho(lists);
    } catch (err) {
      setError(describeError(err).message);
      setWhoOpen(false);
    } finally {
      setWhoLoading(false);
    }
  };

  const list = shown(reactions, canReact);
  const total = reactions.reduce((n, r) => n + r.count, 0);
  if (!canReact && list.length === 0) return null;

  return (
    <div className="c-reactions" data-testid={`reactions-${target.kind}`}>
      {canReact ? (
        <div role="group" aria-label={label} className="c-reactions__bar">
          {list.map((r) => (
            <button
              key={r.emoji}
              type="button"
              className="c-reaction"
              aria-pressed={r.viewerReacted}
              aria-busy={busy === r.emoji || undefined}
              aria-label={t('reactions.toggle', { name: emojiName(r.emoji), count: r.count })}
              onClick={() => void toggle(r)}
            >
              <span aria-hidden="true">{r.emoji}</span>
              <span aria-hidden="true" className="c-reaction__count">
                {r.count}
              </span>
            </button>
          ))}
        </div>
      ) : (
        <ul aria-label={label} className="c-reactions__bar c-reactions__bar--static">
          {list.map((r) => (
            <li key={r.emoji} className="c-reaction c-reaction--static" aria-label={t('reactions.count', { name: emojiName(r.emoji), count: r.count })}>
              <span aria-hidden="true">{r.emoji}</span> <span aria-hidden="true">{r.count}</span>
            </li>
          ))}
        </ul>
      )}
      {target.kind === 'post' && total > 0 ? (
        <Button variant="quiet" className="c-reactions__who" aria-expanded={whoOpen} aria-controls={whoId} pending={whoLoading} onClick={() => void showWho()}>
          {whoOpen ? t('reactions.hideWho') : t('reactions.showWho')}
        </Button>
      ) : null}
      <div id={whoId} role="status" className="c-reactions__people">
        {whoOpen && who ? (
          <dl className="c-reactions__list">
            {who.map((w) => (
              <div key={w.emoji} className="c-reactions__row">
                <dt>
                  <span aria-hidden="true">{w.emoji}</span>
                  <span className="c-visually-hidden">{emojiName(w.emoji)}</span>
                </dt>
                <dd>{w.users.map((u) => u.displayName).join(', ')}</dd>
              </div>
            ))}
          </dl>
        ) : null}
      </div>
      {error ? <Alert tone="error">{error}</Alert> : null}
    </div>
  );
}

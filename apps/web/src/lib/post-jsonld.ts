/**
 * schema.org data for a post page (DiscussionForumPosting, https://developers.google.com/search/docs/appearance/structured-data/discussion-forum).
 * Only what an anonymous visitor may read goes in, because that is all the page shows them: a public post in full,
 * with its first comments; a gated circle's post as its teaser, marked `isAccessibleForFree: false` with `hasPart`
 * naming the section members unlock, as Google's paywalled-content guidance asks.
 */
import type { CommentFieldsFragment, PostFieldsFragment } from '@circles/client';

/** The class of the teaser's members-only section; JSON-LD points at it with a CSS selector. */
export const PAYWALLED_CLASS = 'c-post-paywalled';
/** Comments that go into the data (the rest are on the page). */
const JSONLD_COMMENTS = 10;

type Person = { displayName: string; handle: string } | null;

const person = (base: string, user: Person) => (user ? { '@type': 'Person', name: user.displayName, url: `${base}/u/${user.handle}` } : undefined);

export function postJsonLd({ post, headline, url, base, comments }: { post: PostFieldsFragment; headline: string; url: string; base: string; comments: CommentFieldsFragment[] }): Record<string, unknown> {
  const common = {
    '@context': 'https://schema.org',
    '@type': 'DiscussionForumPosting',
    '@id': url,
    mainEntityOfPage: url,
    url,
    headline: headline.length > 110 ? `${headline.slice(0, 109)}…` : headline,
    author: person(base, post.author),
    datePublished: post.createdAt,
    dateModified: post.editedAt ?? post.createdAt,
    commentCount: post.commentCount,
  };
  if (!post.accessible) {
    return {
      ...common,
      description: post.excerpt,
      isAccessibleForFree: false,
      hasPart: { '@type': 'WebPageElement', isAccessibleForFree: false, cssSelector: `.${PAYWALLED_CLASS}` },
    };
  }
  return {
    ...common,
    text: post.body ?? post.excerpt,
    interactionStatistic: [
      { '@type': 'InteractionCounter', interactionType: 'https://schema.org/LikeAction', userInteractionCount: post.reactionCount },
      { '@type': 'InteractionCounter', interactionType: 'https://schema.org/CommentAction', userInteractionCount: post.commentCount },
    ],
    comment: comments
      .filter((c) => c.status === 'PUBLISHED' && c.body !== null)
      .slice(0, JSONLD_COMMENTS)
      .map((c) => ({
        '@type': 'Comment',
        url: `${url}#comment-${c.id}`,
        text: c.body,
        author: person(base, c.author),
        datePublished: c.createdAt,
        ...(c.editedAt ? { dateModified: c.editedAt } : {}),
      })),
  };
}

/**
 * JSON for inside a <script> element: `<`, `>` and `&` are escaped (so no text can close the element or open a
 * comment), and so are the line separators JavaScript parsers once choked on.
 */
export function scriptJson(data: unknown): string {
  return JSON.stringify(data)
    .replace(/</g, '\\u003c')
    .replace(/>/g, '\\u003e')
    .replace(/&/g, '\\u0026')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

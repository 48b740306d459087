/**
 * The posts service (issue "Posts: feeds, comments, reactions, polls, media and file libraries"), being built.
 * Landed so far: the Markdown renderer that is its XSS boundary.
 */
export { MAX_MARKDOWN_CHARS, renderMarkdown, type RenderedMarkdown } from './markdown.ts';

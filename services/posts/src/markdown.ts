import MarkdownIt from 'markdown-it';
import sanitizeHtml from 'sanitize-html';

/**
 * Posts and comments are written in Markdown and stored with the HTML rendered from it. Rendering is the XSS
 * boundary, so it is strict twice over:
 *  1. markdown-it with raw HTML off: `<script>`, `<iframe>`, `<img onerror>` written by a person become text;
 *     links and images only with http(s), mailto or site-relative URLs (no `javascript:`, `data:`, `vbscript:`).
 *  2. The output then passes an allowlist sanitizer (sanitize-html): only the elements and attributes Markdown
 *     produces survive, so a parser bug or a future plugin cannot smuggle in a handler or an active element.
 * External links get `rel="nofollow ugc noopener"` and open in a new tab; @mentions become links to profiles and
 * are returned so notifications can use them.
 */

const HANDLE = /^[a-z0-9_]{3,30}$/i;
const SAFE_URL = /^(https?:\/\/|mailto:|\/(?!\/)|#)/i;

export interface RenderedMarkdown {
  html: string;
  /** Lower-cased handles mentioned with @, in order of first appearance. */
  mentions: string[];
  /** Plain text (for search, previews and notification bodies). */
  text: string;
}

const md = new MarkdownIt({ html: false, linkify: true, typographer: false, breaks: true });

// Only these schemes survive; everything else renders as plain text (markdown-it leaves the link unparsed).
md.validateLink = (url: string) => SAFE_URL.test(url.trim());

const isExternal = (href: string) => /^https?:\/\//i.test(href);

md.renderer.rules.link_open = (tokens, idx, options, _env, self) => {
  const token = tokens[idx]!;
  const href = String(token.attrGet('href') ?? '');
  if (isExternal(href)) {
    token.attrSet('rel', 'nofollow ugc noopener');
    token.attrSet('target', '_blank');
  }
  return self.renderToken(tokens, idx, options);
};

md.renderer.rules.image = (tokens, idx, options, env, self) => {
  const token = tokens[idx]!;
  token.attrSet('loading', 'lazy');
  token.attrSet('referrerpolicy', 'no-referrer');
  token.attrSet('alt', self.renderInlineAsText(token.children ?? [], options, env));
  return self.renderToken(tokens, idx, options);
};

/** @handle in text (not inside links or code) becomes a profile link; the handles are collected in env. */
md.core.ruler.after('linkify', 'mentions', (state) => {
  const mentions: string[] = (state.env as { mentions: string[] }).mentions;
  for (const block of state.tokens) {
    if (block.type !== 'inline' || !block.children) continue;
    const out: typeof block.children = [];
    let linkDepth = 0;
    for (const token of block.children) {
      if (token.type === 'link_open') linkDepth++;
      if (token.type === 'link_close') linkDepth--;
      if (token.type !== 'text' || linkDepth > 0 || !token.content.includes('@')) {
        out.push(token);
        continue;
      }
      const re = /(^|[^\w@/.])@([A-Za-z0-9_]{3,30})\b/g;
      let last = 0;
      let m: RegExpExecArray | null;
      while ((m = re.exec(token.content))) {
        const handle = m[2]!;
        if (!HANDLE.test(handle)) continue;
        const at = m.index + m[1]!.length;
        if (at > last) out.push(Object.assign(new state.Token('text', '', 0), { content: token.content.slice(last, at) }));
        const open = new state.Token('link_open', 'a', 1);
        open.attrs = [
          ['href', `/u/${handle.toLowerCase()}`],
          ['class', 'mention'],
        ];
        out.push(open, Object.assign(new state.Token('text', '', 0), { content: `@${handle}` }), new state.Token('link_close', 'a', -1));
        if (!mentions.includes(handle.toLowerCase())) mentions.push(handle.toLowerCase());
        last = at + 1 + handle.length;
      }
      if (last === 0) out.push(token);
      else if (last < token.content.length) out.push(Object.assign(new state.Token('text', '', 0), { content: token.content.slice(last) }));
    }
    block.children = out;
  }
});

const allowed: sanitizeHtml.IOptions = {
  allowedTags: ['p', 'br', 'hr', 'strong', 'em', 's', 'code', 'pre', 'blockquote', 'ul', 'ol', 'li', 'h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'a', 'img', 'table', 'thead', 'tbody', 'tr', 'th', 'td'],
  allowedAttributes: {
    a: ['href', 'rel', 'target', 'class'],
    img: ['src', 'alt', 'title', 'loading', 'referrerpolicy'],
    ol: ['start'],
    th: ['style'],
    td: ['style'],
    code: ['class'],
  },
  allowedClasses: { a: ['mention'], code: [/^language-[\w-]+$/] },
  allowedStyles: { th: { 'text-align': [/^(left|right|center)$/] }, td: { 'text-align': [/^(left|right|center)$/] } },
  allowedSchemes: ['http', 'https', 'mailto'],
  allowedSchemesByTag: { img: ['http', 'https'] },
  allowProtocolRelative: false,
  disallowedTagsMode: 'escape',
  // rel and target are set by the renderer; enforce them again on anything external that got through.
  transformTags: {
    a: (tagName, attribs) => {
      const external = /^https?:\/\//i.test(attribs.href ?? '');
      return { tagName, attribs: external ? { ...attribs, rel: 'nofollow ugc noopener', target: '_blank' } : { ...attribs, target: '' } };
    },
  },
};

export const MAX_MARKDOWN_CHARS = 40_000;

export function renderMarkdown(source: string): RenderedMarkdown {
  if (source.length > MAX_MARKDOWN_CHARS) throw new RangeError(`Markdown longer than ${MAX_MARKDOWN_CHARS} characters`);
  const env = { mentions: [] as string[] };
  const raw = md.render(source, env);
  const html = sanitizeHtml(raw, allowed).replace(/ target=""/g, '');
  const text = sanitizeHtml(raw, { allowedTags: [], allowedAttributes: {} }).replace(/\s+/g, ' ').trim();
  return { html, mentions: env.mentions, text: decodeEntities(text) };
}

function decodeEntities(s: string): string {
  return s.replace(/&(amp|lt|gt|quot|#39|#x27);/g, (_, e: string) => ({ amp: '&', lt: '<', gt: '>', quot: '"', '#39': "'", '#x27': "'" })[e]!);
}

'use client';
/**
 * The composer's Preview: Markdown rendered in the browser the way the posts service renders it
 * (services/posts/src/markdown.ts), so people see formatting before they post.
 *
 * The server's render is authoritative: what is stored and shown to everyone is the service's sanitised
 * `bodyHtml`; this preview is never sent anywhere. It is still built to be safe, because it renders what the
 * person typed (which may be pasted from anywhere) into their own page:
 *  1. markdown-it with raw HTML off (`<script>`, `<img onerror>` stay text) and the service's link rule: only
 *     http(s), mailto, site-relative and fragment URLs become links or images;
 *  2. the result then passes an allowlist over an inert DOMParser document (nothing in it runs or loads): only the
 *     elements and attributes Markdown produces survive, as with the service's sanitizer.
 * The service's sanitize-html is not bundled here: it drags PostCSS into the browser for a preview.
 */
import MarkdownIt from 'markdown-it';

/** The service's rule (SAFE_URL in services/posts/src/markdown.ts). */
const SAFE_URL = /^(https?:\/\/|mailto:|\/(?!\/)|#)/i;
const HANDLE = /^[a-z0-9_]{3,30}$/i;

const md = new MarkdownIt({ html: false, linkify: true, typographer: false, breaks: true });
md.validateLink = (url: string) => SAFE_URL.test(url.trim());

const isExternal = (href: string) => /^https?:\/\//i.test(href);

md.renderer.rules.link_open = (tokens, idx, options, _env, self) => {
  const token = tokens[idx]!;
  if (isExternal(String(token.attrGet('href') ?? ''))) {
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

// @handle in text (not inside links or code) becomes a profile link, as on the server.
md.core.ruler.after('linkify', 'mentions', (state) => {
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
        last = at + 1 + handle.length;
      }
      if (last === 0) out.push(token);
      else if (last < token.content.length) out.push(Object.assign(new state.Token('text', '', 0), { content: token.content.slice(last) }));
    }
    block.children = out;
  }
});

/** The service's allowlist (services/posts/src/markdown.ts `allowed`). */
const TAGS = new Set(['p', 'br', 'hr', 'strong', 'em', 's', 'code', 'pre', 'blockquote', 'ul', 'ol', 'li', 'h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'a', 'img', 'table', 'thead', 'tbody', 'tr', 'th', 'td']);
const ATTRIBUTES: Record<string, readonly string[]> = {
  a: ['href', 'rel', 'target', 'class'],
  img: ['src', 'alt', 'title', 'loading', 'referrerpolicy'],
  ol: ['start'],
  th: ['style'],
  td: ['style'],
  code: ['class'],
};
const ALIGN = /^text-align:\s*(left|right|center);?$/;

function clean(node: Element) {
  for (const child of Array.from(node.children)) {
    const tag = child.tagName.toLowerCase();
    if (!TAGS.has(tag)) {
      // Anything else becomes its text, never markup.
      child.replaceWith(child.ownerDocument.createTextNode(child.textContent ?? ''));
      continue;
    }
    const allowed = ATTRIBUTES[tag] ?? [];
    for (const attr of Array.from(child.attributes)) {
      const name = attr.name.toLowerCase();
      const value = attr.value.trim();
      const ok =
        allowed.includes(name) &&
        !(name === 'href' && !SAFE_URL.test(value)) &&
        !(name === 'src' && !/^https?:\/\//i.test(value) && !/^\/(?!\/)/.test(value)) &&
        !(name === 'style' && !ALIGN.test(value)) &&
        !(name === 'class' && !(tag === 'a' ? value === 'mention' : /^language-[\w-]+$/.test(value)));
      if (!ok) child.removeAttribute(attr.name);
    }
    clean(child);
  }
}

/** Preview HTML for `source`; empty for empty input. */
export function renderPreview(source: string): string {
  if (!source.trim()) return '';
  const raw = md.render(source);
  const doc = new DOMParser().parseFromString(`<!doctype html><body>${raw}`, 'text/html');
  clean(doc.body);
  return doc.body.innerHTML;
}

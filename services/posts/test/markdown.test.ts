import { parseDocument } from 'htmlparser2';
import { describe, expect, it } from 'vitest';
import { renderMarkdown } from '../src/markdown.ts';
import { xssCorpus as corpus } from './xss-corpus.ts';

const allowedTags = new Set(['p', 'br', 'hr', 'strong', 'em', 's', 'code', 'pre', 'blockquote', 'ul', 'ol', 'li', 'h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'a', 'img', 'table', 'thead', 'tbody', 'tr', 'th', 'td']);
const allowedAttrs = new Set(['href', 'rel', 'target', 'class', 'src', 'alt', 'title', 'loading', 'referrerpolicy', 'start', 'style']);

/** Every element and attribute in the output, checked structurally (a parser, not a regex). */
function problems(html: string): string[] {
  const out: string[] = [];
  const visit = (node: any) => {
    if (node.type === 'tag' || node.type === 'script' || node.type === 'style') {
      if (!allowedTags.has(node.name)) out.push(`element <${node.name}>`);
      for (const [k, v] of Object.entries(node.attribs ?? {}) as [string, string][]) {
        if (!allowedAttrs.has(k) || /^on/i.test(k)) out.push(`attribute ${k} on <${node.name}>`);
        if ((k === 'href' || k === 'src') && !/^(https?:\/\/|mailto:|\/(?!\/)|#)/i.test(v.trim())) out.push(`${k}="${v}"`);
        if (k === 'style' && !/^text-align:(left|right|center);?$/.test(v.replace(/\s/g, ''))) out.push(`style="${v}"`);
      }
    }
    for (const child of node.children ?? []) visit(child);
  };
  visit(parseDocument(html));
  return out;
}

describe('Markdown rendering', () => {
  it.each(corpus.map((p, i) => [i, p]))('neutralises payload %i', (_i, payload) => {
    const { html } = renderMarkdown(payload as string);
    expect(problems(html), html).toEqual([]);
  });

  it('renders what people write: emphasis, lists, code, quotes, tables, headings', () => {
    const { html, text } = renderMarkdown('# Title\n\n**bold** _it_ ~~gone~~ `code`\n\n- one\n- two\n\n> quoted\n\n```js\nlet x = 1 < 2;\n```\n\n| a | b |\n|:-|-:|\n| 1 | 2 |');
    expect(html).toContain('<h1>Title</h1>');
    expect(html).toContain('<strong>bold</strong> <em>it</em> <s>gone</s> <code>code</code>');
    expect(html).toContain('<li>one</li>');
    expect(html).toContain('<blockquote>');
    expect(html).toContain('<pre><code class="language-js">let x = 1 &lt; 2;\n</code></pre>');
    expect(html).toContain('<th style="text-align:left">a</th>');
    expect(text).toContain('let x = 1 < 2;');
  });

  it('marks external links nofollow ugc noopener in a new tab, keeps site links plain, links bare URLs', () => {
    const { html } = renderMarkdown('[ext](https://example.com/a) [site](/c/club) see https://example.org/x and mail [me](mailto:a@example.com)');
    expect(html).toContain('<a href="https://example.com/a" rel="nofollow ugc noopener" target="_blank">ext</a>');
    expect(html).toContain('<a href="/c/club">site</a>');
    expect(html).toContain('<a href="https://example.org/x" rel="nofollow ugc noopener" target="_blank">https://example.org/x</a>');
    expect(html).toContain('<a href="mailto:a@example.com">me</a>');
  });

  it('turns @mentions into profile links and reports them once each, but not inside code, links or emails', () => {
    const r = renderMarkdown('Hi @Olga and @mike_2, again @olga. Not `@code`, not a@b.com, not [@link](/x).');
    expect(r.mentions).toEqual(['olga', 'mike_2']);
    expect(r.html).toContain('<a href="/u/olga" class="mention">@Olga</a>');
    expect(r.html).toContain('<code>@code</code>');
    expect(r.html).not.toContain('/u/b');
    expect(r.html).toContain('<a href="/x">@link</a>');
  });

  it('keeps markup typed as text visible as text', () => {
    const { html, text } = renderMarkdown('Use <b>bold</b> & "quotes"');
    expect(html).toBe('<p>Use &lt;b&gt;bold&lt;/b&gt; &amp; "quotes"</p>\n');
    expect(text).toBe('Use <b>bold</b> & "quotes"');
  });

  it('refuses absurdly long input instead of spending a core on it', () => {
    expect(() => renderMarkdown('a'.repeat(40_001))).toThrow(RangeError);
    const nested = renderMarkdown('>'.repeat(5000) + ' deep');
    expect(problems(nested.html)).toEqual([]);
  });
});

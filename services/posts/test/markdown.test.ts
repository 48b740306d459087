import { parseDocument } from 'htmlparser2';
import { describe, expect, it } from 'vitest';
import { renderMarkdown } from '../src/markdown.ts';

/**
 * Filter-evasion payloads in the spirit of OWASP's XSS cheat sheet, written as a person would type them into a
 * post: raw HTML, broken tags, encoded schemes, Markdown links and images with script URLs, and mixtures.
 */
const corpus = [
  '<script>alert(1)</script>',
  '<SCRIPT SRC=http://xss.example/xss.js></SCRIPT>',
  '<IMG SRC="javascript:alert(\'XSS\');">',
  '<IMG SRC=javascript:alert(\'XSS\')>',
  '<IMG SRC=JaVaScRiPt:alert(\'XSS\')>',
  '<IMG SRC=`javascript:alert("RSnake says, \'XSS\'")`>',
  '<IMG """><SCRIPT>alert("XSS")</SCRIPT>"\\>',
  '<IMG SRC=/ onerror="alert(String.fromCharCode(88,83,83))"></img>',
  '<img src=x onerror="&#0000106&#0000097&#0000118&#0000097&#0000115&#0000099&#0000114&#0000105&#0000112&#0000116&#0000058&#0000097&#0000108&#0000101&#0000114&#0000116&#0000040&#0000039&#0000088&#0000083&#0000083&#0000039&#0000041">',
  '<IMG SRC="jav&#x09;ascript:alert(\'XSS\');">',
  '<IMG SRC=" &#14;  javascript:alert(\'XSS\');">',
  '<SCRIPT/XSS SRC="http://xss.example/xss.js"></SCRIPT>',
  '<BODY onload!#$%&()*~+-_.,:;?@[/|\\]^`=alert("XSS")>',
  '<<SCRIPT>alert("XSS");//\\<</SCRIPT>',
  '<iframe src=http://xss.example/scriptlet.html <',
  '<svg/onload=alert(1)>',
  '<svg><script>alert(1)</script></svg>',
  '<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>',
  '<a href="javascript:alert(1)">click</a>',
  '<details open ontoggle=alert(1)>',
  '<object data="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg=="></object>',
  '<embed src="javascript:alert(1)">',
  '<meta http-equiv="refresh" content="0;url=javascript:alert(1)">',
  '<style>@import "http://xss.example/xss.css";</style>',
  '<div style="background-image: url(javascript:alert(1))">x</div>',
  '[click](javascript:alert(1))',
  '[click](JaVaScRiPt:alert(1))',
  '[click](javascript&#58;alert(1))',
  '[click](&#x6A;avascript:alert(1))',
  '[click](vbscript:msgbox(1))',
  '[click](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)',
  '[click]( javascript:alert(1))',
  '![img](javascript:alert(1))',
  '![img](x" onerror="alert(1))',
  '![x](https://example.com/a.png "title\\" onerror=\\"alert(1)")',
  '[a](https://example.com" onmouseover="alert(1))',
  '<a href="https://example.com" onclick="alert(1)">x</a>',
  '`<script>alert(1)</script>`',
  '```html\n<script>alert(1)</script>\n```',
  '> <script>alert(1)</script>',
  '* <img src=x onerror=alert(1)>',
  '| a | b |\n|---|---|\n| <script>alert(1)</script> | <img src=x onerror=alert(1)> |',
  '[x](//evil.example/path)',
  'https://example.com/<script>alert(1)</script>',
  '<form action="https://evil.example"><input name=x><button>go</button></form>',
  '<base href="https://evil.example/">',
  '<link rel=stylesheet href="https://evil.example/x.css">',
  '<template><script>alert(1)</script></template>',
  '<noscript><p title="</noscript><img src=x onerror=alert(1)>">',
  '@<script>alert(1)</script>',
];

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

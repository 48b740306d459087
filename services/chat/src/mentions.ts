/** What a message's text mentions, before handles are resolved to people. */
export interface ParsedMentions {
  /** Lower-cased handles, in order of first appearance (at most MAX_NAMED_MENTIONS). */
  handles: string[];
  everyone: boolean;
  here: boolean;
}

/** More names than this in one message are text, not mentions (a paste of a member list notifies nobody). */
export const MAX_NAMED_MENTIONS = 50;

const HANDLE = /^[a-z0-9_]{3,30}$/i;
// The same shape as posts' Markdown mentions: "@" not glued to a word, an e-mail address or a path.
const MENTION = /(^|[^\w@/.])@([A-Za-z0-9_]{3,30})\b/g;

/**
 * Finds @handle, @here and @everyone in chat text. Code (`inline` and ``` fenced ```) is left out, like posts do,
 * so pasting code that contains "@everyone" pings nobody. @here and @everyone always mean the mass mentions (a
 * person whose handle is "here" or "everyone" cannot be mentioned by name in chat).
 */
export function parseMentions(text: string): ParsedMentions {
  const plain = text.replace(/```[\s\S]*?(```|$)/g, ' ').replace(/`[^`\n]*`/g, ' ');
  const handles: string[] = [];
  let everyone = false;
  let here = false;
  for (const m of plain.matchAll(MENTION)) {
    const handle = m[2]!.toLowerCase();
    if (handle === 'everyone') everyone = true;
    else if (handle === 'here') here = true;
    else if (HANDLE.test(handle) && !handles.includes(handle) && handles.length < MAX_NAMED_MENTIONS) handles.push(handle);
  }
  return { handles, everyone, here };
}

// One emoji (with skin tones, ZWJ sequences and flags), the same rule as posts' reactions: RGI_Emoji needs the
// v flag (Node 20 has it; TS targets lower).
const EMOJI = new RegExp('^\\p{RGI_Emoji}$', 'v');
export const isEmoji = (s: string) => EMOJI.test(s);

/** Marks the matches of the search in the list's snippets and in the dialogue pane. */
import type { Query } from '../src/protocol';

/** The search text of `q` as a global expression, or undefined without text (or when invalid). */
export function matcherFor(q: Query | undefined): RegExp | undefined {
  const text = q?.text;
  if (!text) return undefined;
  const source = q.regex ? text : text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  try {
    return new RegExp(source, q.caseSensitive ? 'gu' : 'giu');
  } catch {
    return undefined; // the host reports the error
  }
}

/**
 * Wraps each match inside the text nodes under `root` in `<mark class="match">` (text only: a match
 * that spans Markdown formatting is not marked). Returns how many were marked, at most `limit`.
 */
export function markMatches(root: Node, re: RegExp, limit = 500): number {
  const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
  const nodes: Text[] = [];
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    if (n instanceof Text && !n.parentElement?.closest('textarea, mark')) nodes.push(n);
  }
  let marked = 0;
  for (const node of nodes) {
    if (marked >= limit) break;
    const text = node.data;
    re.lastIndex = 0;
    const parts: Node[] = [];
    let last = 0;
    for (let m = re.exec(text); m && marked < limit; m = re.exec(text)) {
      if (m[0] === '') {
        re.lastIndex++;
        continue;
      }
      if (m.index > last) parts.push(document.createTextNode(text.slice(last, m.index)));
      const mark = document.createElement('mark');
      mark.className = 'match';
      mark.textContent = m[0];
      parts.push(mark);
      last = m.index + m[0].length;
      marked++;
    }
    if (!parts.length) continue;
    if (last < text.length) parts.push(document.createTextNode(text.slice(last)));
    node.replaceWith(...parts);
  }
  return marked;
}

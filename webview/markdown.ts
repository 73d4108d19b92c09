/**
 * A small, safe Markdown renderer for dataset text. It builds DOM nodes and sets only
 * `textContent` and a few fixed attributes: dataset text never reaches innerHTML, never becomes an
 * attribute other than an http(s) link target, and never becomes a style.
 */

const SAFE_LINK = /^https?:\/\/[^\s<>"']+$/i;

/** The http(s) URL in `href`, or undefined for anything else (javascript:, data:, relative, …). */
export function safeHref(href: string): string | undefined {
  const h = href.trim();
  if (!SAFE_LINK.test(h)) return undefined;
  try {
    const u = new URL(h);
    return u.protocol === 'http:' || u.protocol === 'https:' ? u.href : undefined;
  } catch {
    return undefined;
  }
}

function el<K extends keyof HTMLElementTagNameMap>(tag: K, text?: string): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  if (text !== undefined) e.textContent = text;
  return e;
}

function link(text: string, href: string): Node {
  const url = safeHref(href);
  if (!url) return document.createTextNode(text === href ? text : `${text} (${href})`);
  const a = el('a');
  a.href = url;
  a.className = 'md-link';
  a.title = url;
  inline(text, a, false);
  return a;
}

const PUNCT = /[!-/:-@[-`{-~]/;
const WORD = /[\p{L}\p{N}]/u;

/** Renders inline Markdown of `text` into `parent` (`links` false inside a link's own text). */
export function inline(text: string, parent: Node, links = true): void {
  let buf = '';
  const flush = (): void => {
    if (buf) parent.appendChild(document.createTextNode(buf));
    buf = '';
  };
  let i = 0;
  while (i < text.length) {
    const c = text[i] ?? '';
    const prev = i > 0 ? (text[i - 1] ?? '') : '';
    if (c === '\\' && i + 1 < text.length && PUNCT.test(text[i + 1] ?? '')) {
      buf += text[i + 1];
      i += 2;
      continue;
    }
    if (c === '`') {
      let n = 1;
      while (text[i + n] === '`') n++;
      const fence = '`'.repeat(n);
      const end = text.indexOf(fence, i + n);
      if (end > i) {
        flush();
        parent.appendChild(el('code', text.slice(i + n, end).replace(/^ (.*) $/s, '$1')));
        i = end + n;
        continue;
      }
      buf += fence;
      i += n;
      continue;
    }
    if ((c === '*' || c === '_') && !(c === '_' && WORD.test(prev))) {
      const double = text[i + 1] === c;
      const marker = double ? c + c : c;
      const start = i + marker.length;
      const next = text[start] ?? '';
      if (next && !/\s/.test(next)) {
        let end = text.indexOf(marker, start + 1);
        while (end > 0 && (/\s/.test(text[end - 1] ?? '') || (!double && text[end + 1] === c))) {
          end = text.indexOf(marker, end + marker.length + (double ? 0 : 1));
        }
        if (end > start && !(c === '_' && WORD.test(text[end + marker.length] ?? ''))) {
          flush();
          const e = el(double ? 'strong' : 'em');
          inline(text.slice(start, end), e, links);
          parent.appendChild(e);
          i = end + marker.length;
          continue;
        }
      }
      buf += marker;
      i += marker.length;
      continue;
    }
    if (c === '!' && text[i + 1] === '[' && links) {
      // An image is never fetched: it shows as its alt text, linked to its address when that is http(s).
      const close = text.indexOf('](', i + 2);
      const end = close > 0 ? text.indexOf(')', close + 2) : -1;
      if (close > 0 && end > 0 && !text.slice(i + 2, close).includes('\n')) {
        flush();
        const alt = text.slice(i + 2, close) || 'image';
        const span = el('span');
        span.className = 'md-image';
        span.appendChild(
          link(
            `[image: ${alt}]`,
            text
              .slice(close + 2, end)
              .trim()
              .split(/\s+/)[0] ?? '',
          ),
        );
        parent.appendChild(span);
        i = end + 1;
        continue;
      }
    }
    if (c === '[' && links) {
      const close = text.indexOf('](', i + 1);
      const end = close > 0 ? text.indexOf(')', close + 2) : -1;
      if (close > 0 && end > 0 && !text.slice(i + 1, close).includes('\n')) {
        flush();
        parent.appendChild(link(text.slice(i + 1, close), text.slice(close + 2, end)));
        i = end + 1;
        continue;
      }
    }
    if (links && (c === 'h' || c === 'H') && !WORD.test(prev) && /^https?:\/\//i.test(text.slice(i, i + 8))) {
      const m = /^https?:\/\/[^\s<>"'`]+/i.exec(text.slice(i));
      if (m) {
        const url = m[0].replace(/[.,;:!?)\]]+$/, '');
        flush();
        parent.appendChild(link(url, url));
        i += url.length;
        continue;
      }
    }
    buf += c;
    i++;
  }
  flush();
}

const FENCE = /^ {0,3}(`{3,}|~{3,})\s*([\w+#.-]*)/;
const HEADING = /^ {0,3}(#{1,6})\s+(.*?)\s*#*\s*$/;
const RULE = /^ {0,3}([-*_])(\s*\1){2,}\s*$/;
/** The second line of a GitHub table: `| --- | :-: |` (the outer pipes are optional). */
const TABLE_DELIMITER = /^\s*\|?\s*:?-+:?\s*(\|\s*:?-+:?\s*)*\|?\s*$/;

/** Cells of a table row: split at `|` not escaped and not inside backticks. */
function cells(row: string): string[] {
  const out: string[] = [];
  let cell = '';
  let code = false;
  const s = row.trim().replace(/^\|/, '');
  for (let k = 0; k < s.length; k++) {
    const c = s[k] ?? '';
    if (c === '\\' && s[k + 1] === '|') {
      cell += '|';
      k++;
    } else if (c === '`') {
      code = !code;
      cell += c;
    } else if (c === '|' && !code) {
      out.push(cell.trim());
      cell = '';
    } else cell += c;
  }
  if (cell.trim() !== '' || !s.endsWith('|')) out.push(cell.trim());
  return out;
}

const BULLET = /^(\s*)([-*+]|\d{1,9}[.)])\s+(.*)$/;
const QUOTE = /^ {0,3}>\s?(.*)$/;

function paragraph(lines: string[]): HTMLElement {
  const p = el('p');
  lines.forEach((l, k) => {
    if (k > 0) p.appendChild(el('br'));
    inline(l, p);
  });
  return p;
}

/** Renders Markdown `text` as DOM nodes (no HTML is interpreted: tags show as text). */
export function renderMarkdown(text: string, depth = 0): DocumentFragment {
  const out = document.createDocumentFragment();
  const lines = text.replace(/\r\n?/g, '\n').split('\n');
  let i = 0;
  let para: string[] = [];
  const endPara = (): void => {
    if (para.length) out.appendChild(paragraph(para));
    para = [];
  };
  while (i < lines.length) {
    const line = lines[i] ?? '';
    const fence = FENCE.exec(line);
    if (fence) {
      endPara();
      const marker = fence[1] ?? '```';
      const body: string[] = [];
      i++;
      while (i < lines.length && !(lines[i] ?? '').trimStart().startsWith(marker))
        body.push(lines[i++] ?? '');
      i++;
      const pre = el('pre');
      const code = el('code', body.join('\n'));
      const lang = (fence[2] ?? '').toLowerCase().replace(/[^a-z0-9+#.-]/g, '');
      if (lang) pre.dataset.lang = lang;
      pre.appendChild(code);
      out.appendChild(pre);
      continue;
    }
    if (line.trim() === '') {
      endPara();
      i++;
      continue;
    }
    const heading = HEADING.exec(line);
    if (heading) {
      endPara();
      const level = Math.min(6, (heading[1] ?? '#').length + 2) as 3 | 4 | 5 | 6;
      const h = el(`h${level}`);
      inline(heading[2] ?? '', h);
      out.appendChild(h);
      i++;
      continue;
    }
    if (RULE.test(line)) {
      endPara();
      out.appendChild(el('hr'));
      i++;
      continue;
    }
    const quote = QUOTE.exec(line);
    if (quote && depth < 8) {
      endPara();
      const body: string[] = [];
      while (i < lines.length) {
        const q = QUOTE.exec(lines[i] ?? '');
        if (!q) break;
        body.push(q[1] ?? '');
        i++;
      }
      const bq = el('blockquote');
      bq.appendChild(renderMarkdown(body.join('\n'), depth + 1));
      out.appendChild(bq);
      continue;
    }
    if (
      line.includes('|') &&
      (lines[i + 1] ?? '').includes('|') &&
      TABLE_DELIMITER.test(lines[i + 1] ?? '')
    ) {
      endPara();
      const aligns = cells(lines[i + 1] ?? '').map((c) =>
        c.endsWith(':') ? (c.startsWith(':') ? 'center' : 'right') : c.startsWith(':') ? 'left' : '',
      );
      const table = el('table');
      const head = el('thead');
      const row = (text: string, tag: 'th' | 'td'): HTMLTableRowElement => {
        const tr = el('tr');
        aligns.forEach((align, k) => {
          const cell = el(tag);
          if (align) cell.setAttribute('align', align);
          inline(cells(text)[k] ?? '', cell);
          tr.appendChild(cell);
        });
        return tr;
      };
      head.appendChild(row(line, 'th'));
      table.appendChild(head);
      const body = el('tbody');
      i += 2;
      while (i < lines.length && (lines[i] ?? '').includes('|') && (lines[i] ?? '').trim() !== '')
        body.appendChild(row(lines[i++] ?? '', 'td'));
      if (body.childElementCount) table.appendChild(body);
      out.appendChild(table);
      continue;
    }
    const bullet = BULLET.exec(line);
    if (bullet) {
      endPara();
      const ordered = /\d/.test(bullet[2] ?? '');
      const list = el(ordered ? 'ol' : 'ul');
      if (ordered) {
        const start = parseInt(bullet[2] ?? '1', 10);
        if (start !== 1 && Number.isFinite(start)) (list as HTMLOListElement).start = start;
      }
      const indent = (bullet[1] ?? '').length;
      while (i < lines.length) {
        const b = BULLET.exec(lines[i] ?? '');
        if (!b || (b[1] ?? '').length !== indent || /\d/.test(b[2] ?? '') !== ordered) break;
        const item: string[] = [b[3] ?? ''];
        i++;
        // Continuation and nested lines: indented deeper than the bullet.
        while (i < lines.length) {
          const next = lines[i] ?? '';
          if (next.trim() === '' || /^\s*/.exec(next)![0].length <= indent) break;
          item.push(next.slice(Math.min(next.length, indent + 2)));
          i++;
        }
        const li = el('li');
        // GitHub task list items: a checkbox that shows the state (read-only).
        const task = /^\[([ xX])\]\s+/.exec(item[0] ?? '');
        if (task) {
          item[0] = (item[0] ?? '').slice(task[0].length);
          const box = el('input');
          box.type = 'checkbox';
          box.disabled = true;
          box.checked = task[1] !== ' ';
          box.className = 'task';
          li.className = 'task-item';
          li.appendChild(box);
        }
        if (item.length === 1 || depth >= 8) inline(item.join(' '), li);
        else li.appendChild(renderMarkdown(item.join('\n'), depth + 1));
        list.appendChild(li);
      }
      out.appendChild(list);
      continue;
    }
    para.push(line);
    i++;
  }
  endPara();
  return out;
}

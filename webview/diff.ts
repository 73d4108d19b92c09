/**
 * Word-level diff (longest common subsequence on word tokens) for chosen/rejected answers.
 * The work is capped: past `maxCells` comparisons, the changed middle is shown as one replacement.
 */

export interface DiffOp {
  kind: 'same' | 'added' | 'removed';
  text: string;
}

export interface DiffResult {
  ops: DiffOp[];
  /** True when the texts were too long for a word-by-word comparison of their changed middle. */
  truncated: boolean;
}

/** Words, runs of white space, and single punctuation characters. */
export function tokenize(text: string): string[] {
  return text.match(/\s+|[\p{L}\p{N}_'’]+|[^\s\p{L}\p{N}_]/gu) ?? [];
}

function push(ops: DiffOp[], kind: DiffOp['kind'], text: string): void {
  const last = ops[ops.length - 1];
  if (last && last.kind === kind) last.text += text;
  else if (text) ops.push({ kind, text });
}

export function wordDiff(a: string, b: string, maxCells = 4_000_000): DiffResult {
  const x = tokenize(a);
  const y = tokenize(b);
  let pre = 0;
  while (pre < x.length && pre < y.length && x[pre] === y[pre]) pre++;
  let suf = 0;
  while (suf < x.length - pre && suf < y.length - pre && x[x.length - 1 - suf] === y[y.length - 1 - suf])
    suf++;
  const xs = x.slice(pre, x.length - suf);
  const ys = y.slice(pre, y.length - suf);
  const ops: DiffOp[] = [];
  push(ops, 'same', x.slice(0, pre).join(''));
  const n = xs.length;
  const m = ys.length;
  let truncated = false;
  if (n === 0 || m === 0 || (n + 1) * (m + 1) > maxCells) {
    truncated = n > 0 && m > 0;
    push(ops, 'removed', xs.join(''));
    push(ops, 'added', ys.join(''));
  } else {
    // lcs[i][j] = LCS length of xs[i..] and ys[j..], in one typed array.
    const w = m + 1;
    const lcs = new Uint32Array((n + 1) * w);
    for (let i = n - 1; i >= 0; i--) {
      for (let j = m - 1; j >= 0; j--) {
        lcs[i * w + j] =
          xs[i] === ys[j]
            ? (lcs[(i + 1) * w + j + 1] ?? 0) + 1
            : Math.max(lcs[(i + 1) * w + j] ?? 0, lcs[i * w + j + 1] ?? 0);
      }
    }
    let i = 0;
    let j = 0;
    while (i < n && j < m) {
      if (xs[i] === ys[j]) {
        push(ops, 'same', xs[i++] ?? '');
        j++;
      } else if ((lcs[(i + 1) * w + j] ?? 0) >= (lcs[i * w + j + 1] ?? 0))
        push(ops, 'removed', xs[i++] ?? '');
      else push(ops, 'added', ys[j++] ?? '');
    }
    while (i < n) push(ops, 'removed', xs[i++] ?? '');
    while (j < m) push(ops, 'added', ys[j++] ?? '');
  }
  push(ops, 'same', x.slice(x.length - suf).join(''));
  return { ops, truncated };
}

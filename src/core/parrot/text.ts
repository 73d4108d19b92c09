/** Lower-case, punctuation removed, whitespace collapsed: the form candidates are compared in. */
export function normalize(s: string): string {
  return s
    .normalize('NFKC')
    .toLowerCase()
    .replace(/[\p{P}\p{S}]+/gu, ' ')
    .replace(/\s+/g, ' ')
    .trim();
}

export function words(s: string): string[] {
  const n = normalize(s);
  return n ? n.split(' ') : [];
}

/** Dice coefficient over word bigrams (unigrams for very short texts): 0 (disjoint) .. 1 (same). */
export function similarity(a: string, b: string): number {
  const wa = words(a);
  const wb = words(b);
  if (wa.length === 0 && wb.length === 0) return 1;
  if (wa.length === 0 || wb.length === 0) return 0;
  const grams = (w: string[]): Map<string, number> => {
    const m = new Map<string, number>();
    const items = w.length < 3 ? w : w.slice(1).map((x, i) => `${w[i]} ${x}`);
    for (const g of items) m.set(g, (m.get(g) ?? 0) + 1);
    return m;
  };
  const ga = grams(wa);
  const gb = grams(wb);
  let inter = 0;
  let na = 0;
  let nb = 0;
  for (const v of ga.values()) na += v;
  for (const v of gb.values()) nb += v;
  for (const [g, v] of ga) inter += Math.min(v, gb.get(g) ?? 0);
  return (2 * inter) / (na + nb);
}

/** Share of `a`'s distinct content words that also occur in `b` (0..1). */
export function overlap(a: string, b: string): number {
  const wa = new Set(words(a).filter((w) => w.length > 2 && !STOP.has(w)));
  if (wa.size === 0) return 0;
  const wb = new Set(words(b));
  let n = 0;
  for (const w of wa) if (wb.has(w)) n++;
  return n / wa.size;
}

export const STOP = new Set(
  'the a an and or but of to in on at for with by from is are was were be been it its this that these those as into about your you i me my we our they them their what which who how why when where can could would should will do does did please not no yes if then than so also just more most some any all each other such only own same too very there here'.split(
    ' ',
  ),
);

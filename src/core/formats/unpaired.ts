/**
 * Unpaired preference (KTO) records -> preference pairs, across a file: a desirable and an
 * undesirable completion of the same prompt (same system prompt, tools and turns before the
 * completion) make one pair. Records wait until their counterpart arrives; what never finds one is
 * left over for the caller to report.
 */
import type { Dialogue, PreferencePair, Turn } from '../model';

/** Where the completion of an unpaired record starts: its trailing assistant turns (at least one). */
export function completionStartOf(turns: readonly Turn[]): number {
  let i = turns.length;
  while (i > 0 && turns[i - 1].role === 'assistant') i--;
  return i === turns.length ? Math.max(0, turns.length - 1) : i;
}

function promptKey(d: Dialogue, at: number): string {
  return JSON.stringify([d.system ?? null, d.tools ?? null, d.turns.slice(0, at)]);
}

export class UnpairedPairer<K> {
  /** Waiting records by prompt, in file order, each with the caller's key (e.g. its line). */
  private readonly waiting = new Map<string, { d: Dialogue; key: K; seq: number }[]>();
  private seq = 0;

  /**
   * Adds an unpaired record (`d.label` set). Returns the pair it completes with the earliest waiting
   * record of the same prompt and the opposite label, and both keys (desirable first); otherwise the
   * record waits and undefined is returned.
   */
  add(d: Dialogue, key: K): { pair: PreferencePair; keys: [K, K] } | undefined {
    const at = completionStartOf(d.turns);
    const k = promptKey(d, at);
    const list = this.waiting.get(k) ?? [];
    const i = list.findIndex((w) => w.d.label !== d.label);
    if (i < 0) {
      list.push({ d, key, seq: this.seq++ });
      this.waiting.set(k, list);
      return undefined;
    }
    const [other] = list.splice(i, 1);
    if (list.length === 0) this.waiting.delete(k);
    const self = { d, key, seq: this.seq++ };
    const [good, bad] = d.label ? [self, other] : [other, self];
    const pair: PreferencePair = {
      kind: 'preference',
      prompt: good.d.turns.slice(0, at),
      chosen: good.d.turns.slice(at),
      rejected: bad.d.turns.slice(completionStartOf(bad.d.turns)),
      meta: { ...bad.d.meta, ...good.d.meta },
    };
    if (good.d.system !== undefined) pair.system = good.d.system;
    if (good.d.tools !== undefined) pair.tools = good.d.tools;
    const id = good.d.id ?? bad.d.id;
    if (id !== undefined) pair.id = id;
    return { pair, keys: [good.key, bad.key] };
  }

  /** The keys of the records still waiting for a counterpart, in the order they were added. */
  leftovers(): K[] {
    const all = [...this.waiting.values()].flat();
    return all.sort((a, b) => a.seq - b.seq).map((w) => w.key);
  }
}

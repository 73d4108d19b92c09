import type { EvalSummary } from '../../core/parrot';

function fmt(x: number | null): string {
  return x === null ? '-' : x.toFixed(2);
}

export function summaryText(s: EvalSummary): string {
  let t = 'turn  mean   n  missing\n';
  for (const x of s.turns)
    t += `${String(x.turn).padStart(4)}  ${fmt(x.mean).padStart(5)}  ${String(x.n).padStart(3)}  ${x.missing}\n`;
  t += '\ncategory      mean   n  missing\n';
  for (const [k, c] of Object.entries(s.categories))
    t += `${k.padEnd(12)}  ${fmt(c.mean).padStart(5)}  ${String(c.n).padStart(3)}  ${c.missing}\n`;
  t += `\noverall ${fmt(s.overall)} over ${s.n} scored turn(s) of ${s.sessions} session(s)${s.missing ? `, ${s.missing} verdict(s) missing` : ''}${s.failed ? `, ${s.failed} session(s) stopped by an error` : ''}\n`;
  return t;
}

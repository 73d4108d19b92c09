import type { ChatMessage } from '../llm/client';
import { contentText, type Dialogue, type Turn } from '../model';

/** Role of a turn as sent to a chat endpoint (tool traffic is folded into plain text). */
function chatRole(t: Turn): 'user' | 'assistant' | 'system' {
  switch (t.role) {
    case 'user':
    case 'tool':
    case 'observation':
      return 'user';
    case 'assistant':
    case 'function_call':
      return 'assistant';
    case 'system':
      return 'system';
    default:
      // Roles the canonical model does not know (kept from the file) are shown as user-side text.
      return 'user';
  }
}

export function turnText(t: Turn): string {
  const text = contentText(t.content);
  if (t.role === 'function_call') return `[function call] ${text}`;
  if (t.role === 'tool' || t.role === 'observation') return `[tool result] ${text}`;
  if (t.role !== 'user' && t.role !== 'assistant' && t.role !== 'system') return `[${t.role}] ${text}`;
  return text;
}

/** Chat messages for a dialogue: system first, consecutive same-role messages merged. */
export function dialogueMessages(
  d: Pick<Dialogue, 'system' | 'turns'>,
  opts: { swapRoles?: boolean; system?: string } = {},
): ChatMessage[] {
  const systems: string[] = [];
  if (opts.system !== undefined) systems.push(opts.system);
  else if (d.system) systems.push(d.system);
  const out: ChatMessage[] = [];
  for (const t of d.turns) {
    let role = chatRole(t);
    if (role === 'system') {
      if (opts.system === undefined) systems.push(contentText(t.content));
      continue;
    }
    if (opts.swapRoles) role = role === 'user' ? 'assistant' : 'user';
    const text = turnText(t);
    const last = out[out.length - 1];
    if (last && last.role === role) last.content += `\n\n${text}`;
    else out.push({ role, content: text });
  }
  const sys = systems.filter((s) => s.trim() !== '').join('\n\n');
  return sys ? [{ role: 'system', content: sys }, ...out] : out;
}

/** `User: …` / `Assistant: …` transcript of the turns. */
export function transcript(turns: readonly Turn[]): string {
  return turns
    .filter((t) => t.role !== 'system')
    .map(
      (t) =>
        `${chatRole(t) === 'user' && t.role === 'user' ? 'User' : t.role === 'assistant' || t.role === 'function_call' ? 'Assistant' : 'Tool'}: ${turnText(t)}`,
    )
    .join('\n\n');
}

export function userTurnCount(d: Pick<Dialogue, 'turns'>): number {
  return d.turns.filter((t) => t.role === 'user').length;
}

export function lastRole(d: Pick<Dialogue, 'turns'>): Turn['role'] | undefined {
  for (let i = d.turns.length - 1; i >= 0; i--) {
    const r = d.turns[i]?.role;
    if (r !== 'system') return r;
  }
  return undefined;
}

import * as vscode from 'vscode';
import { parseRecord, type RecordMapping } from '../../core/formats';
import { contentText, type Turn } from '../../core/model';
import type { ActionKind, RunAction } from '../../protocol';
import { IntentError } from './records';

/** The command a generation action of the webview runs, and its arguments (without uri and token). */
export interface ActionCommand {
  command: `parrot.${ActionKind}`;
  args: { record: number; turn?: number; afterTurn?: number; strategy?: string };
}

/** True when a turn has text (not empty, not a tool call only). */
function hasText(t: Turn | undefined): boolean {
  return t !== undefined && contentText(t.content).trim() !== '';
}

/** Why a dialogue with no question yet cannot be grown. */
function noQuestion(line: number): string {
  return vscode.l10n.t('Record {0} has no question yet: write its first user turn, then generate.', line + 1);
}

function refuse(message: string): never {
  throw new IntentError(message);
}

/**
 * Checks a `runAction` against the record as it is now (`text` is the current line) and returns the
 * command to run. Refuses, with a message people understand, an index that does not fit the record:
 * the webview may show an older version of it, and it is untrusted input anyway.
 *
 * - `capoNegative` on turn i: i is an assistant turn that answers a user turn (i - 1).
 * - `askFollowUp` on user turn i: the new question is asked from the history up to and including
 *   the answer that follows turn i, and inserted right after that answer (`afterTurn: i + 1`);
 *   later turns move down, none is dropped. Without a turn, the question goes at the end.
 * - `answerTurn` on user turn i: i has no answer yet; the answer is inserted right after it.
 *   Without a turn, the last turn is answered.
 * - `extendDialogue`: the whole dialogue (no turn).
 */
export function actionCommand(m: RunAction, text: string, mapping?: RecordMapping): ActionCommand {
  const parsed = parseRecord(text, undefined, { mapping });
  if (!parsed.ok)
    refuse(vscode.l10n.t('Record {0} is not a valid record; fix it before generating.', m.line + 1));
  if (parsed.sample.kind !== 'dialogue')
    refuse(vscode.l10n.t('Record {0} is a preference pair; generation works on dialogues.', m.line + 1));
  const turns: Turn[] = parsed.sample.turns;
  const at = (i: number): Turn | undefined => turns[i];
  const record = m.line;
  const checkTurn = (i: number): void => {
    if (i >= turns.length)
      refuse(
        vscode.l10n.t('There is no turn {0} in record {1} (it has {2}).', i + 1, m.line + 1, turns.length),
      );
  };
  switch (m.action) {
    case 'capoNegative': {
      const i = m.turn ?? -1;
      checkTurn(i);
      if (at(i)?.role !== 'assistant' || at(i - 1)?.role !== 'user')
        refuse(
          vscode.l10n.t(
            'Turn {0} of record {1} is not an assistant answer to a user turn.',
            i + 1,
            m.line + 1,
          ),
        );
      if (!hasText(at(i)) || !hasText(at(i - 1)))
        refuse(
          vscode.l10n.t(
            'Turn {0} of record {1} has no text to pair (an empty turn or a tool call only).',
            i + 1,
            m.line + 1,
          ),
        );
      return { command: 'parrot.capoNegative', args: { record, turn: i, strategy: m.strategy } };
    }
    case 'askFollowUp': {
      if (m.turn === undefined) {
        if (turns.length === 0) refuse(vscode.l10n.t('Record {0} has no turns yet.', m.line + 1));
        if (!turns.some((x) => x.role === 'user' && hasText(x))) refuse(noQuestion(m.line));
        return { command: 'parrot.askFollowUp', args: { record } };
      }
      checkTurn(m.turn);
      if (at(m.turn)?.role !== 'user' || at(m.turn + 1)?.role !== 'assistant')
        refuse(
          vscode.l10n.t(
            'Turn {0} of record {1} is not an answered user turn; answer it first.',
            m.turn + 1,
            m.line + 1,
          ),
        );
      return { command: 'parrot.askFollowUp', args: { record, afterTurn: m.turn + 1 } };
    }
    case 'answerTurn': {
      const i = m.turn ?? turns.length - 1;
      checkTurn(i);
      if (at(i)?.role !== 'user' || at(i + 1)?.role === 'assistant')
        refuse(vscode.l10n.t('Turn {0} of record {1} is not an unanswered user turn.', i + 1, m.line + 1));
      return { command: 'parrot.answerTurn', args: { record, turn: i } };
    }
    case 'extendDialogue':
      if (m.turn !== undefined) refuse(vscode.l10n.t('Extend works on the whole dialogue, not on a turn.'));
      if (!turns.some((x) => x.role === 'user' && hasText(x))) refuse(noQuestion(m.line));
      return { command: 'parrot.extendDialogue', args: { record } };
  }
}

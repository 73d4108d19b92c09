import type { ChatRequest } from '../llm/client';
import { contentText, type CapoStrategy, type Dialogue } from '../model';
import { buildAskRequest, type AskSettings } from './ask';
import { buildCapoRequest, userIndexFor, type CapoSettings } from './capo';
import { buildJudgeRequest } from './context';
import { buildAnswerRequest, type AnswerSettings } from './extend';
import type { Template } from './templates';

export type PreviewTask =
  | { task: 'ask'; dialogue: Dialogue; settings: AskSettings }
  | { task: 'answer'; dialogue: Dialogue; settings: AnswerSettings }
  | {
      task: 'capo';
      dialogue: Dialogue;
      strategy: CapoStrategy;
      assistantIndex: number;
      settings: CapoSettings;
    }
  | {
      /** The optional LLM judge of context dependence, for the user turn that `assistantIndex` answers. */
      task: 'judge';
      dialogue: Dialogue;
      assistantIndex: number;
      model: string;
      template?: Template;
    };

/** The exact JSON body that would be POSTed to `/chat/completions` for a task. */
export function previewRequest(t: PreviewTask): ChatRequest {
  switch (t.task) {
    case 'ask':
      return buildAskRequest(t.dialogue, t.settings);
    case 'answer':
      return buildAnswerRequest(t.dialogue, t.settings);
    case 'capo':
      return buildCapoRequest(t.strategy, t.dialogue, t.assistantIndex, t.settings).request;
    case 'judge': {
      const ui = userIndexFor(t.dialogue, t.assistantIndex);
      const history = t.dialogue.turns.slice(0, ui).filter((x) => x.role !== 'system');
      return buildJudgeRequest(
        contentText(t.dialogue.turns[ui]?.content ?? ''),
        history,
        t.model,
        t.template,
      );
    }
  }
}

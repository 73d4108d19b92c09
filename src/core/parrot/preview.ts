import type { ChatRequest } from '../llm/client';
import type { CapoStrategy, Dialogue } from '../model';
import { buildAskRequest, type AskSettings } from './ask';
import { buildCapoRequest, type CapoSettings } from './capo';
import { buildAnswerRequest, type AnswerSettings } from './extend';

export type PreviewTask =
  | { task: 'ask'; dialogue: Dialogue; settings: AskSettings }
  | { task: 'answer'; dialogue: Dialogue; settings: AnswerSettings }
  | {
      task: 'capo';
      dialogue: Dialogue;
      strategy: CapoStrategy;
      assistantIndex: number;
      settings: CapoSettings;
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
  }
}

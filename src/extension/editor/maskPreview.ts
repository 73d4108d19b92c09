/**
 * The training-mask preview of the dialogue editor, on the host side: for the record the webview
 * asks about, which tokens get loss under a mask policy and where the `parrot.tokens.cutoff` falls,
 * with the `parrot.tokens.tokenizer` (loaded on the first request, never on activation).
 */
import * as vscode from 'vscode';
import { parseRecord } from '../../core/formats';
import { maskPreview } from '../../core/chat/preview';
import { loadChatTokenizer } from '../../core/chat/tokenizer';
import type { MaskHostMessage, MaskStrings, MaskWebviewMessage } from '../../maskProtocol';
import { cutoffSetting, tokenizerSetting } from '../tokens';
import type { DialogueDocument } from './dialogueDocument';

/** The mask strings the webview shows (`{0}`, `{1}` are filled in by the webview). */
export function maskStrings(): MaskStrings {
  return {
    toggle: vscode.l10n.t('Training mask'),
    toggleHint: vscode.l10n.t('Shade the tokens that get loss (m)'),
    policy: vscode.l10n.t('Loss on'),
    assistant: vscode.l10n.t('assistant turns'),
    all: vscode.l10n.t('all turns'),
    weights: vscode.l10n.t('per-message weights'),
    asker: vscode.l10n.t('user turns (Parrot-Ask)'),
    computing: vscode.l10n.t('tokenizing…'),
    summary: vscode.l10n.t('loss on {0} of {1} tokens ({2}, {3})'),
    summaryCut: vscode.l10n.t('cutoff {0}: {1} tokens dropped, cut in {2}'),
    fits: vscode.l10n.t('cutoff {0}: fits'),
    turnTokens: vscode.l10n.t('{0} tokens'),
    turnLoss: vscode.l10n.t('loss on {0} of {1} tokens'),
    turnNoLoss: vscode.l10n.t('no loss'),
    turnCut: vscode.l10n.t('cutoff falls here: {0} of its {1} tokens kept'),
    turnTruncated: vscode.l10n.t('dropped by the cutoff'),
    cutLine: vscode.l10n.t('cutoff'),
    side: vscode.l10n.t('with the {0} answer'),
  };
}

type Preview = Extract<MaskHostMessage, { type: 'maskPreview' }>;

/** Computes the preview of record `m.line` of `document`. Errors come back as the message's `error`. */
export async function maskPreviewMessage(
  document: DialogueDocument,
  m: MaskWebviewMessage,
): Promise<Preview> {
  const fail = (error: string): Preview => ({ type: 'maskPreview', line: m.line, policy: m.policy, error });
  if (m.line >= document.lineCount) return fail(vscode.l10n.t('Record {0} no longer exists.', m.line + 1));
  const text = await document.enqueue(() => document.store.readLine(m.line));
  const parsed = parseRecord(text, undefined, { mapping: document.mapping });
  if (!parsed.ok) return fail(vscode.l10n.t('The record is not valid: {0}', parsed.error.message));
  const spec = tokenizerSetting(document.uri);
  const cutoff = cutoffSetting(document.uri);
  try {
    // The tokenizer libraries and files load here, on the first preview (never on activation).
    const tok = loadChatTokenizer(spec);
    const msg: Preview = {
      type: 'maskPreview',
      line: m.line,
      policy: m.policy,
      tokenizer: tok.name === 'o200k' ? 'o200k' : (tok.name.split(/[\\/]/).filter(Boolean).pop() ?? tok.name),
      conversations: maskPreview(tok, parsed.sample, m.policy, cutoff),
    };
    if (cutoff !== undefined) msg.cutoff = cutoff;
    return msg;
  } catch (e) {
    return fail(
      vscode.l10n.t(
        'No training mask for record {0}: {1}',
        m.line + 1,
        e instanceof Error ? e.message : String(e),
      ),
    );
  }
}

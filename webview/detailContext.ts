/**
 * What the parts of the dialogue pane (turns, turn editor, JSON view, preference view, generation
 * actions) share: the options the app gives the pane and the pane's state, owned by `DetailView`.
 */
import type { Role } from '../src/core/model';
import type { EditIntent, RecordView, RunAction } from '../src/protocol';

/** A generation action as the webview asks for it (the app adds the id). */
export type ActionRequest = Omit<RunAction, 'type' | 'id'>;

export interface DetailOptions {
  roles: readonly Role[];
  send(intent: EditIntent): void;
  /** Starts a generation action; returns its id. */
  run(action: ActionRequest): number;
  /** Keep or discard a reviewed pair. */
  decide(id: number, decision: 'keep' | 'discard'): void;
  /** Stops a running action. */
  cancel(id: number): void;
  /** The records with an action running or waiting for review changed. */
  onBusyChange(lines: ReadonlySet<number>): void;
  /** Keyboard focus goes back to the list. */
  onLeave(): void;
  onStateChange(): void;
}

export type TextMode = 'rendered' | 'plain';

/** The text being edited in place (a turn, the system prompt or the raw JSON). */
export interface Editing {
  key: string;
  commit(): void;
  cancel(): void;
}

/** The pane's state and the few operations its parts call back. */
export interface DetailContext {
  readonly opts: DetailOptions;
  readonly body: HTMLElement;
  readonly mode: TextMode;
  /** Preference pairs show a word diff of chosen and rejected. */
  showDiff: boolean;
  readonly record: RecordView | undefined;
  /** Set while a text is being edited; a new version of the same record then waits in `pending`. */
  editing: Editing | undefined;
  pending: RecordView | undefined;
  jsonMode: boolean;
  /**
   * Turn to focus once record `line` comes back after an edit (a move, an added turn or dialogue);
   * `edit` opens its text box (new turns and dialogues: the new text is typed at once).
   */
  afterRender: { line: number; key: string; edit?: boolean } | undefined;
  /** Renders the shown record again from scratch. */
  render(): void;
  show(record: RecordView, focusKey?: string): void;
  /** Re-renders the shown record (not while a turn is being edited). */
  refresh(): void;
  /** Focuses a block; `preventScroll` keeps the pane where it is. */
  focusKey(key: string, preventScroll?: boolean): boolean;
  focusById(id: string, preventScroll?: boolean): boolean;
  focusFirst(): void;
}

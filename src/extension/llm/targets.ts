import * as vscode from 'vscode';
import { viewTypeFor, type DialogueEditorApi } from '../editor';
import type { DialogueDocument } from '../editor/dialogueDocument';

/** One changed record: its line index, the text generation started from, and the new text. */
export interface LineChange {
  index: number;
  before: string;
  after: string;
}

export interface ApplyResult {
  /** Lines replaced. */
  applied: number[];
  /** Lines left alone because they changed while the generation ran. */
  stale: number[];
  /** Undo steps the change took (1 unless untouched lines in between could not be re-written). */
  undoSteps: number;
}

/**
 * Records of a dataset, wherever it is open: through the dialogue editor's `DialogueDocument`
 * when the file is open there (its own undoable edits), otherwise through the text document
 * (a `WorkspaceEdit`, undoable natively). Lines are records; indexes are 0-based.
 */
export interface RecordTarget {
  readonly uri: vscode.Uri;
  readonly kind: 'dialogue-editor' | 'text';
  lineCount(): Promise<number>;
  readLine(index: number): Promise<string>;
  /** True when line `index` differs from the file on disk (an edit not saved yet). */
  unsaved(index: number): Promise<boolean>;
  /** Applies every change as one undo step; a line that no longer reads `before` is skipped. */
  replaceLines(label: string, changes: readonly LineChange[]): Promise<ApplyResult>;
}

class DialogueTarget implements RecordTarget {
  readonly kind = 'dialogue-editor';
  constructor(private readonly doc: DialogueDocument) {}
  get uri(): vscode.Uri {
    return this.doc.uri;
  }
  async lineCount(): Promise<number> {
    await this.doc.store.indexed;
    return this.doc.store.lineCount;
  }
  readLine(index: number): Promise<string> {
    return this.doc.store.readLine(index);
  }
  unsaved(index: number): Promise<boolean> {
    return Promise.resolve(this.doc.isDirty && this.doc.store.lineInfo(index).edited);
  }
  replaceLines(label: string, changes: readonly LineChange[]): Promise<ApplyResult> {
    return this.doc.enqueue(async () => {
      const store = this.doc.store;
      const result: ApplyResult = { applied: [], stale: [], undoSteps: 0 };
      const byIndex = new Map<number, string>();
      for (const c of [...changes].sort((a, b) => a.index - b.index)) {
        if (c.index >= store.lineCount || (await store.readLine(c.index)) !== c.before) {
          result.stale.push(c.index);
          continue;
        }
        byIndex.set(c.index, c.after);
      }
      const indexes = [...byIndex.keys()];
      // Runs of changed lines; untouched lines between two changed ones join the run (written back
      // as the same text) when that keeps their bytes: valid UTF-8 with the file's usual line ending.
      const runs: number[][] = [];
      for (const i of indexes) {
        const run = runs[runs.length - 1];
        const prev = run?.[run.length - 1];
        if (run && prev !== undefined && (await this.gapKeepsBytes(prev + 1, i))) run.push(i);
        else runs.push([i]);
      }
      for (const run of runs) {
        const start = run[0] ?? 0;
        const end = run[run.length - 1] ?? start;
        const texts: string[] = [];
        for (let i = start; i <= end; i++) texts.push(byIndex.get(i) ?? (await store.readLine(i)));
        this.doc.applyEdit(
          label,
          { kind: 'replace', index: start, texts },
          { lines: Array.from({ length: end - start + 1 }, (_, k) => start + k), structural: false },
        );
        result.undoSteps++;
      }
      result.applied = indexes;
      return result;
    });
  }

  private async gapKeepsBytes(from: number, to: number): Promise<boolean> {
    const store = this.doc.store;
    await Promise.resolve();
    for (let i = from; i < to; i++) {
      const info = store.lineInfo(i);
      if (info.invalidUtf8 || (info.eol !== store.dominantEol && info.eol !== 'none')) return false;
    }
    return true;
  }
}

class TextTarget implements RecordTarget {
  readonly kind = 'text';
  constructor(private readonly doc: vscode.TextDocument) {}
  get uri(): vscode.Uri {
    return this.doc.uri;
  }
  lineCount(): Promise<number> {
    return Promise.resolve(this.doc.lineCount);
  }
  readLine(index: number): Promise<string> {
    if (index >= this.doc.lineCount)
      return Promise.reject(new Error(vscode.l10n.t('Record {0} does not exist.', index + 1)));
    return Promise.resolve(this.doc.lineAt(index).text);
  }
  async unsaved(index: number): Promise<boolean> {
    if (!this.doc.isDirty) return false;
    if (this.doc.isUntitled) return true;
    // A text document is small enough (VS Code opens files under 50 MB) to read again.
    const disk = new TextDecoder().decode(await vscode.workspace.fs.readFile(this.doc.uri));
    const lines = disk.split('\n');
    return (lines[index] ?? '').replace(/\r$/, '') !== this.doc.lineAt(index).text;
  }
  async replaceLines(label: string, changes: readonly LineChange[]): Promise<ApplyResult> {
    const result: ApplyResult = { applied: [], stale: [], undoSteps: 0 };
    const edit = new vscode.WorkspaceEdit();
    for (const c of changes) {
      if (c.index >= this.doc.lineCount || this.doc.lineAt(c.index).text !== c.before) {
        result.stale.push(c.index);
        continue;
      }
      edit.replace(this.doc.uri, this.doc.lineAt(c.index).range, c.after, {
        needsConfirmation: false,
        label,
      });
      result.applied.push(c.index);
    }
    if (result.applied.length === 0) return result;
    if (!(await vscode.workspace.applyEdit(edit)))
      throw new Error(vscode.l10n.t('VS Code refused the edit of {0}.', this.doc.uri.fsPath));
    result.undoSteps = 1;
    return result;
  }
}

/** Where the records of `uri` are read and written (the dialogue editor's document when open). */
export async function targetFor(uri: vscode.Uri, editor: DialogueEditorApi): Promise<RecordTarget> {
  const doc = editor.document(uri);
  if (doc) return new DialogueTarget(doc);
  if (!/\.jsonl$/i.test(uri.path)) {
    // A JSON array or a Parquet file: its records are not its lines, so only the dialogue editor's
    // document can read and edit them. It is opened (in the background) for the run.
    const open = vscode.workspace.textDocuments.find((d) => d.uri.toString() === uri.toString());
    if (open?.isDirty)
      throw new Error(
        vscode.l10n.t('{0} has unsaved changes in a text editor. Save them first.', uri.fsPath),
      );
    await vscode.commands.executeCommand('vscode.openWith', uri, viewTypeFor(uri), {
      preview: false,
      preserveFocus: true,
    });
    const opened = editor.document(uri);
    if (opened) return new DialogueTarget(opened);
  }
  try {
    return new TextTarget(await vscode.workspace.openTextDocument(uri));
  } catch (err) {
    throw new Error(
      vscode.l10n.t(
        'Cannot open {0} as text ({1}). Open it in the Dialogue Editor (any size) and run the command there.',
        uri.fsPath,
        err instanceof Error ? err.message : String(err),
      ),
    );
  }
}

/** The records of a target: non-blank lines, as `[index, text]`. */
export async function* records(
  target: RecordTarget,
  only?: readonly number[],
): AsyncGenerator<[number, string]> {
  if (only) {
    for (const i of only) yield [i, await target.readLine(i)];
    return;
  }
  const n = await target.lineCount();
  for (let i = 0; i < n; i++) {
    const text = await target.readLine(i);
    if (text.trim() !== '') yield [i, text];
  }
}

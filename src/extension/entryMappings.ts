/**
 * The dataset_info.json entry each dataset is read through (see core/formats/entryMapping.ts), kept
 * current while VS Code runs: the folders where a dataset's entry may be (its own and two above,
 * as LLaMA-Factory's `dataset_dir`) are watched for dataset_info.json being changed, created or
 * deleted; after a quiet moment the affected datasets are looked up again and those whose reading
 * changed are announced once (so that one save of dataset_info.json re-runs what depends on it once).
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import { DATA_CONFIG } from '../core/formats/datasetInfo';
import { entryMappingFor, type RecordMapping } from '../core/formats/entryMapping';
import { getLog } from './log';

/** How long dataset_info.json must be quiet before the datasets are read again. */
const QUIET_MS = 300;
/** Folders looked at: the dataset's own and two above (as `findEntry`). */
const LEVELS = 3;

function candidateDirs(file: string): string[] {
  const dirs: string[] = [];
  let dir = path.dirname(path.resolve(file));
  for (let i = 0; i < LEVELS; i++) {
    dirs.push(dir);
    const up = path.dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  return dirs;
}

const same = (a: RecordMapping | undefined, b: RecordMapping | undefined): boolean =>
  JSON.stringify(a ?? null) === JSON.stringify(b ?? null);

interface Known {
  value: RecordMapping | undefined;
  ready: Promise<void>;
  loaded: boolean;
}

export class EntryMappings implements vscode.Disposable {
  /** Known readings, by dataset path (a promise while the lookup runs). */
  private readonly known = new Map<string, Known>();
  /** One watcher per folder that may hold a dataset's dataset_info.json. */
  private readonly watchers = new Map<string, vscode.Disposable>();
  private readonly dirty = new Set<string>();
  private timer: ReturnType<typeof setTimeout> | undefined;
  private readonly emitter = new vscode.EventEmitter<string[]>();
  /** Datasets (file paths) whose reading through dataset_info.json changed. */
  readonly onDidChange = this.emitter.event;
  private readonly infoEmitter = new vscode.EventEmitter<vscode.Uri>();
  /** A watched dataset_info.json changed, was created or deleted on disk (after the quiet moment). */
  readonly onDidChangeInfo = this.infoEmitter.event;

  /** The mapping of `file` as last read (undefined until `load` has finished, or when there is none). */
  get(file: string): RecordMapping | undefined {
    return this.known.get(path.resolve(file))?.value;
  }

  /** Whether the mapping of `file` has been read (`get` then tells it). */
  isLoaded(file: string): boolean {
    return this.known.get(path.resolve(file))?.loaded === true;
  }

  /** The mapping of `file`, read once and then kept current. */
  async load(file: string): Promise<RecordMapping | undefined> {
    const key = path.resolve(file);
    let k = this.known.get(key);
    if (!k) {
      const entry: Known = { value: undefined, ready: Promise.resolve(), loaded: false };
      entry.ready = this.lookup(key).then((m) => {
        entry.value = m;
        entry.loaded = true;
      });
      this.known.set(key, (k = entry));
      for (const dir of candidateDirs(key)) this.watch(dir);
    }
    await k.ready;
    return k.value;
  }

  private async lookup(file: string): Promise<RecordMapping | undefined> {
    try {
      return await entryMappingFor(file);
    } catch (e) {
      getLog().warn(`Could not read the ${DATA_CONFIG} entry of ${path.basename(file)}: ${String(e)}`);
      return undefined;
    }
  }

  private watch(dir: string): void {
    if (this.watchers.has(dir)) return;
    const w = vscode.workspace.createFileSystemWatcher(
      new vscode.RelativePattern(vscode.Uri.file(dir), DATA_CONFIG),
    );
    const changed = (): void => {
      this.dirty.add(dir);
      if (this.timer) clearTimeout(this.timer);
      this.timer = setTimeout(() => void this.refresh(), QUIET_MS);
    };
    w.onDidChange(changed);
    w.onDidCreate(changed);
    w.onDidDelete(changed);
    this.watchers.set(dir, w);
  }

  private async refresh(): Promise<void> {
    this.timer = undefined;
    const dirs = [...this.dirty];
    this.dirty.clear();
    for (const d of dirs) this.infoEmitter.fire(vscode.Uri.file(path.join(d, DATA_CONFIG)));
    const changed: string[] = [];
    for (const [file, k] of this.known) {
      if (!candidateDirs(file).some((d) => dirs.includes(d))) continue;
      await k.ready;
      const next = await this.lookup(file);
      if (!same(k.value, next)) {
        k.value = next;
        changed.push(file);
      }
    }
    if (changed.length > 0) this.emitter.fire(changed);
  }

  dispose(): void {
    if (this.timer) clearTimeout(this.timer);
    for (const w of this.watchers.values()) w.dispose();
    this.emitter.dispose();
    this.infoEmitter.dispose();
  }
}

let instance: EntryMappings | undefined;

/** The extension's one EntryMappings (created by `registerEntryMappings` on activation). */
export function entryMappings(): EntryMappings {
  instance ??= new EntryMappings();
  return instance;
}

export function registerEntryMappings(context: vscode.ExtensionContext): EntryMappings {
  const m = entryMappings();
  context.subscriptions.push(m, { dispose: () => (instance = undefined) });
  return m;
}

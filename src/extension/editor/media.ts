/**
 * Media of the records shown in the dialogue editor: which folders the webview may read
 * (`localResourceRoots`: the dataset's folder and LLaMA-Factory's media dir, the folder of the
 * dataset_info.json whose entry names the file), and each reference as a `MediaView` — a local
 * file inside those folders as a webview URI, a `data:` image as it is, a remote URL only when
 * `parrot.editor.remoteMedia` allows it (then the page's CSP allows `https:` images too).
 */
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { DATA_CONFIG, parseDatasetInfo } from '../../core/formats/datasetInfo';
import { mediaRefs } from '../../core/formats/mediaRefs';
import type { ParseResult } from '../../core/formats';
import type { Sample } from '../../core/model';
import type { MediaView, RecordView } from '../../protocol';

/** Whether remote media may be loaded (read when an editor opens). */
export function remoteMediaAllowed(): boolean {
  return vscode.workspace.getConfiguration('parrot.editor').get<boolean>('remoteMedia', false);
}

/**
 * The folders media are served from: the dataset's folder, and the folder (it or up to two above,
 * as `findEntry` looks) of a dataset_info.json with an entry for the file, LLaMA-Factory's default
 * `media_dir`.
 */
export function mediaRoots(file: string): string[] {
  const abs = path.resolve(file);
  const roots = [path.dirname(abs)];
  let dir = path.dirname(abs);
  for (let i = 0; i < 3; i++) {
    const info = path.join(dir, DATA_CONFIG);
    if (existsSync(info)) {
      try {
        const named = parseDatasetInfo(readFileSync(info, 'utf8')).attrs.some(
          (a) => a.fileName !== undefined && path.resolve(dir, a.fileName) === abs,
        );
        if (named) {
          if (!roots.includes(dir)) roots.push(dir);
          break;
        }
      } catch {
        /* an unreadable dataset_info.json names nothing */
      }
    }
    const up = path.dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  return roots;
}

function inside(file: string, root: string): boolean {
  const rel = path.relative(root, file);
  return rel !== '' && !rel.startsWith('..') && !path.isAbsolute(rel);
}

export class MediaResolver {
  constructor(
    private readonly webview: vscode.Webview,
    readonly roots: readonly string[],
    /** Remote (`https:`) images may be loaded. */
    readonly remote: boolean,
  ) {}

  rootUris(): vscode.Uri[] {
    return this.roots.map((r) => vscode.Uri.file(r));
  }

  private view(ref: string): Pick<MediaView, 'state' | 'src'> {
    if (/^data:image\//i.test(ref)) return { state: 'shown', src: ref };
    // Only https: is in the page's CSP when remote media are allowed; http: stays a placeholder.
    if (/^https:\/\//i.test(ref)) return this.remote ? { state: 'shown', src: ref } : { state: 'remote' };
    if (/^http:\/\//i.test(ref)) return { state: 'remote' };
    const local = /^file:/i.test(ref)
      ? vscode.Uri.parse(ref).fsPath
      : /^[a-z][a-z0-9+.-]+:/i.test(ref) && !/^[a-z]:[\\/]/i.test(ref)
        ? undefined
        : ref;
    if (local === undefined || local === '') return { state: 'remote' };
    const candidates = path.isAbsolute(local)
      ? [path.normalize(local)]
      : this.roots.map((r) => path.join(r, local));
    const found = candidates.find((c) => existsSync(c));
    if (!found) return { state: 'missing' };
    if (!this.roots.some((r) => inside(found, r))) return { state: 'outside' };
    return { state: 'shown', src: this.webview.asWebviewUri(vscode.Uri.file(found)).toString() };
  }

  /** The media of a record, each with what the webview may show of it. */
  views(sample: Sample): MediaView[] {
    return mediaRefs(sample).map((m) => ({ ...m, ...this.view(m.ref) }));
  }
}

/** The resolver of an editor on `uri` (no folders for a document that is not a file on disk). */
export function mediaResolver(webview: vscode.Webview, uri: vscode.Uri): MediaResolver {
  return new MediaResolver(
    webview,
    uri.scheme === 'file' ? mediaRoots(uri.fsPath) : [],
    remoteMediaAllowed(),
  );
}

/** The record view with its media, when it has any. */
export function withMedia(
  view: RecordView,
  parsed: ParseResult,
  media: MediaResolver | undefined,
): RecordView {
  if (!view.ok || !parsed.ok || !media) return view;
  const list = media.views(parsed.sample);
  if (list.length) view.media = list;
  return view;
}

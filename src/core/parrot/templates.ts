import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';

/** A prompt template: text with `{{name}}` placeholders and a version recorded in provenance. */
export interface Template {
  id: string;
  /** e.g. `ask-instruct@1`, or `file:my.md#1a2b3c4d` for a user file without front matter. */
  version: string;
  text: string;
}

export type BuiltinTemplate =
  'ask-instruct' | 'ask-reversed-system' | 'capo-hallucinate' | 'capo-misread' | 'capo-judge';

let promptsDirCache: string | undefined;

/** The `prompts/` folder shipped with the extension/CLI (found by walking up from this bundle). */
export function defaultPromptsDir(): string {
  if (promptsDirCache) return promptsDirCache;
  let dir = __dirname;
  for (let i = 0; i < 8; i++) {
    const candidate = path.join(dir, 'prompts');
    if (existsSync(path.join(candidate, 'ask-instruct.md'))) return (promptsDirCache = candidate);
    const up = path.dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  throw new Error('the default prompt templates (prompts/*.md) were not found next to the program');
}

/** Parses a template file: optional `---` front matter with `id:` and `version:`, then the text. */
export function parseTemplate(source: string, fallbackId: string): Template {
  const text = source.replace(/^\uFEFF/, '').replace(/\r\n/g, '\n');
  const fm = /^---\n([\s\S]*?)\n---\n?/.exec(text);
  if (fm) {
    const fields: Record<string, string> = {};
    for (const line of (fm[1] ?? '').split('\n')) {
      const m = /^\s*([A-Za-z_-]+)\s*:\s*(.*?)\s*$/.exec(line);
      if (m?.[1]) fields[m[1]] = m[2] ?? '';
    }
    const id = fields.id || fallbackId;
    const body = text.slice(fm[0].length).trim();
    const version = fields.version ? `${id}@${fields.version}` : `${id}#${hash(body)}`;
    return { id, version, text: body };
  }
  return { id: fallbackId, version: `file:${fallbackId}#${hash(text.trim())}`, text: text.trim() };
}

function hash(s: string): string {
  return createHash('sha256').update(s).digest('hex').slice(0, 8);
}

/** Loads a built-in template, or the user's file when `overrideFile` is given. */
export function loadTemplate(name: BuiltinTemplate, overrideFile?: string): Template {
  if (overrideFile) {
    let src: string;
    try {
      src = readFileSync(overrideFile, 'utf8');
    } catch (e) {
      throw new Error(
        `cannot read template '${overrideFile}': ${(e as NodeJS.ErrnoException).code ?? String(e)}`,
      );
    }
    return parseTemplate(src, path.basename(overrideFile));
  }
  let t = builtinCache.get(name);
  if (!t) {
    t = parseTemplate(readFileSync(path.join(defaultPromptsDir(), `${name}.md`), 'utf8'), name);
    builtinCache.set(name, t);
  }
  return t;
}

const builtinCache = new Map<BuiltinTemplate, Template>();

/** Fills `{{name}}` placeholders; unknown placeholders are an error (a typo would silently drop context). */
export function render(t: Template, vars: Record<string, string>): string {
  const out = t.text.replace(/\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}/g, (_m, name: string) => {
    const v = vars[name];
    if (v === undefined)
      throw new Error(
        `template ${t.version} uses {{${name}}}, which is not available here (available: ${Object.keys(vars).join(', ')})`,
      );
    return v;
  });
  return out.replace(/\n{3,}/g, '\n\n').trim();
}

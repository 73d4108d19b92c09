import * as path from 'node:path';
import * as vscode from 'vscode';
import { DEFAULT_LLM_CONFIG, resolveConfig, type LlmConfig } from '../../core/llm';
import type { CapoStrategy } from '../../core/model';
import {
  CAPO_STRATEGIES,
  loadTemplate,
  PAIR_FORMATS,
  type AskMode,
  type AskSettings,
  type BuiltinTemplate,
  type CapoJudge,
  type CapoSettings,
  type ExtendSettings,
  type PairFormat,
} from '../../core/parrot';
import { ignoredWorkspaceValue, trustedValue } from './trust';

export const SETTING = {
  baseUrl: 'parrot.endpoint.baseUrl',
  asker: 'parrot.models.asker',
  answerer: 'parrot.models.answerer',
  askerMode: 'parrot.generation.askerMode',
  temperature: 'parrot.generation.temperature',
  maxTokens: 'parrot.generation.maxTokens',
  candidates: 'parrot.generation.candidates',
  concurrency: 'parrot.generation.concurrency',
  timeoutSeconds: 'parrot.generation.timeoutSeconds',
  templates: 'parrot.generation.templates',
  codeLens: 'parrot.generation.codeLens',
  recordProvenance: 'parrot.generation.recordProvenance',
  capoFormat: 'parrot.capo.format',
  capoStrategies: 'parrot.capo.strategies',
  capoOutput: 'parrot.capo.outputFile',
  capoJudgeModel: 'parrot.capo.judgeModel',
  capoRegenerateChosen: 'parrot.capo.regenerateChosen',
} as const;

/** Settings whose workspace values an untrusted workspace may not set (see `trust.ts`). */
export const RESTRICTED = [
  SETTING.baseUrl,
  SETTING.asker,
  SETTING.answerer,
  SETTING.maxTokens,
  SETTING.candidates,
  SETTING.concurrency,
  SETTING.templates,
  SETTING.capoOutput,
  SETTING.capoJudgeModel,
] as const;

/** Most follow-up candidates one ask requests (`n`), whatever the settings say. */
export const MAX_CANDIDATES = 16;

/** Every setting that changes how requests are made (a change drops the cached client). */
export const ENDPOINT_SETTINGS = [
  'parrot.endpoint',
  'parrot.models',
  'parrot.generation',
  'parrot.capo',
] as const;

export type Role = 'asker' | 'answerer';

/** Template files by built-in template name (`ask-instruct`, `capo-misread`, …). */
export type TemplateFiles = Partial<Record<BuiltinTemplate, string>>;

export interface GenerationSettings {
  baseUrl: string;
  /** A workspace value of the base URL was ignored (untrusted workspace). */
  baseUrlIgnored: boolean;
  models: { asker: string; answerer: string };
  mode: AskMode;
  temperature: number;
  maxTokens: number;
  candidates: number;
  concurrency: number;
  timeoutSeconds: number;
  templates: TemplateFiles;
  capoFormat: PairFormat;
  capoStrategies: CapoStrategy[];
  capoOutput: string | undefined;
  /** The CaPO context judge's model; empty: no judge. */
  capoJudgeModel: string;
  /** The chosen answers of CaPO pairs come from the answer model (full context), not the record. */
  capoRegenerateChosen: boolean;
  /** Generated turns carry a `provenance` field (model, kind, time). */
  recordProvenance: boolean;
}

/** A restricted setting's value, honouring workspace trust. */
export function restricted<T>(key: string, trusted = vscode.workspace.isTrusted): T | undefined {
  return trustedValue(vscode.workspace.getConfiguration().inspect<T>(key), trusted);
}

function workspaceDir(): string | undefined {
  return vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
}

/** A path from a setting: relative paths are relative to the first workspace folder. */
export function settingPath(p: string): string {
  const dir = workspaceDir();
  return path.isAbsolute(p) || !dir ? p : path.join(dir, p);
}

function num(c: vscode.WorkspaceConfiguration, key: string, fallback: number, trusted?: boolean): number {
  const v = trusted === undefined ? c.get<number>(key) : trustedValue(c.inspect<number>(key), trusted);
  return typeof v === 'number' && Number.isFinite(v) ? v : fallback;
}

export function readSettings(trusted = vscode.workspace.isTrusted): GenerationSettings {
  const c = vscode.workspace.getConfiguration();
  const inspected = c.inspect<string>(SETTING.baseUrl);
  const mode = c.get<string>(SETTING.askerMode) === 'instruct' ? 'instruct' : 'parrot-ask';
  // Models, sizes and concurrency decide what is sent and how much it costs: an untrusted
  // workspace cannot set them (VS Code ignores them there too, see package.json).
  const answerer = (restricted<string>(SETTING.answerer, trusted) ?? '').trim();
  const askerSet = (restricted<string>(SETTING.asker, trusted) ?? '').trim();
  const format = c.get<string>(SETTING.capoFormat) ?? 'trl';
  const strategies = (c.get<string[]>(SETTING.capoStrategies) ?? [...CAPO_STRATEGIES]).filter(
    (s): s is CapoStrategy => (CAPO_STRATEGIES as readonly string[]).includes(s),
  );
  const templates = restricted<Record<string, unknown>>(SETTING.templates, trusted) ?? {};
  const files: TemplateFiles = {};
  for (const [k, v] of Object.entries(templates))
    if (typeof v === 'string' && v.trim() !== '') files[k as BuiltinTemplate] = settingPath(v.trim());
  const out = restricted<string>(SETTING.capoOutput, trusted);
  return {
    baseUrl: (trustedValue(inspected, trusted) ?? '').trim(),
    baseUrlIgnored: ignoredWorkspaceValue(inspected, trusted),
    // In instruct mode any chat model can ask: the answer model stands in when no asker is set.
    models: { asker: askerSet || (mode === 'instruct' ? answerer : ''), answerer },
    mode,
    temperature: num(c, SETTING.temperature, DEFAULT_LLM_CONFIG.temperature),
    maxTokens: Math.max(1, Math.round(num(c, SETTING.maxTokens, DEFAULT_LLM_CONFIG.maxTokens, trusted))),
    candidates: Math.min(
      MAX_CANDIDATES,
      Math.max(1, Math.round(num(c, SETTING.candidates, DEFAULT_LLM_CONFIG.candidates, trusted))),
    ),
    concurrency: Math.max(1, Math.round(num(c, SETTING.concurrency, 4, trusted))),
    timeoutSeconds: num(c, SETTING.timeoutSeconds, DEFAULT_LLM_CONFIG.timeoutMs / 1000),
    templates: files,
    capoFormat: (PAIR_FORMATS as readonly string[]).includes(format) ? (format as PairFormat) : 'trl',
    capoStrategies: strategies.length ? strategies : [...CAPO_STRATEGIES],
    capoOutput: out && out.trim() !== '' ? settingPath(out.trim()) : undefined,
    capoJudgeModel: (restricted<string>(SETTING.capoJudgeModel, trusted) ?? '').trim(),
    recordProvenance: c.get<boolean>(SETTING.recordProvenance) !== false,
    capoRegenerateChosen: c.get<boolean>(SETTING.capoRegenerateChosen) === true,
  };
}

/** What is missing before a command that needs `roles` can run (empty when nothing is). */
export function missingSettings(s: GenerationSettings, roles: readonly Role[]): string[] {
  const missing: string[] = [];
  let urlOk = s.baseUrl !== '';
  if (urlOk) {
    try {
      const u = new URL(s.baseUrl);
      urlOk = u.protocol === 'http:' || u.protocol === 'https:';
    } catch {
      urlOk = false;
    }
  }
  if (!urlOk) missing.push(SETTING.baseUrl);
  if (roles.includes('asker') && s.models.asker === '') missing.push(SETTING.asker);
  if (roles.includes('answerer') && s.models.answerer === '') missing.push(SETTING.answerer);
  return missing;
}

export function llmConfig(s: GenerationSettings, apiKey: string | undefined): LlmConfig {
  return resolveConfig({
    baseUrl: s.baseUrl,
    apiKey,
    models: { asker: s.models.asker, answerer: s.models.answerer },
    temperature: s.temperature,
    maxTokens: s.maxTokens,
    candidates: s.candidates,
    concurrency: s.concurrency,
    timeoutMs: Math.max(1, s.timeoutSeconds * 1000),
    maxRetries: DEFAULT_LLM_CONFIG.maxRetries,
  });
}

export function extendSettings(s: GenerationSettings): ExtendSettings {
  const ask: AskSettings = {
    mode: s.mode,
    model: s.models.asker,
    temperature: s.temperature,
    maxTokens: Math.min(s.maxTokens, 256),
    n: s.candidates,
    template: loadTemplate(
      s.mode === 'parrot-ask' ? 'ask-reversed-system' : 'ask-instruct',
      s.templates[s.mode === 'parrot-ask' ? 'ask-reversed-system' : 'ask-instruct'],
    ),
  };
  return {
    ask,
    answer: { model: s.models.answerer, temperature: s.temperature, maxTokens: s.maxTokens },
    provenance: s.recordProvenance,
  };
}

/** The CaPO context judge the settings ask for, if any. */
export function capoJudge(s: GenerationSettings): CapoJudge | undefined {
  return s.capoJudgeModel
    ? { model: s.capoJudgeModel, retries: 1, template: loadTemplate('capo-judge', s.templates['capo-judge']) }
    : undefined;
}

export function capoSettings(s: GenerationSettings): CapoSettings {
  return {
    model: s.models.answerer,
    temperature: s.temperature,
    maxTokens: s.maxTokens,
    templates: {
      hallucinate: loadTemplate('capo-hallucinate', s.templates['capo-hallucinate']),
      misread: loadTemplate('capo-misread', s.templates['capo-misread']),
    },
  };
}

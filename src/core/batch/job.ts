import { randomBytes } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import type { ChatRequest } from '../llm/client';
import type { CapoStrategy, Dialogue, PreferencePair } from '../model';
import { buildAskRequest, filterCandidates, type FilterOptions } from '../parrot/ask';
import { buildCapoRequest, dependentTurns, makePair, type CapoSettings } from '../parrot/capo';
import { buildAnswerRequest, type ExtendSettings } from '../parrot/extend';
import { lastRole, userTurnCount } from '../parrot/messages';
import { writeJsonAtomic } from '../parrot/output';
import { loadTemplate } from '../parrot/templates';
import {
  customId,
  parseCustomId,
  parseResults,
  requestLine,
  type BatchRequestLine,
  type ParsedResults,
} from './lines';

export type JobKind = 'extend' | 'capo';

export interface ExtendRecordState {
  record: number;
  dialogue: Dialogue;
  status: 'active' | 'done' | 'failed';
  error?: string;
  askAttempts: number;
}

export interface CapoTargetState {
  /** 0-based index of the assistant turn. */
  turn: number;
  strategy: CapoStrategy;
  status: 'active' | 'done' | 'failed';
  error?: string;
  pair?: PreferencePair;
}

export interface CapoRecordState {
  record: number;
  dialogue: Dialogue;
  targets: CapoTargetState[];
}

/** Template overrides are stored by file path so a resumed job renders the same prompts. */
export interface StoredSettings {
  extend?: Omit<ExtendSettings, 'ask'> & {
    ask: Omit<ExtendSettings['ask'], 'template'> & { templateFile?: string };
  };
  capo?: Omit<CapoSettings, 'templates'> & { hallucinateFile?: string; misreadFile?: string };
  filter?: Partial<FilterOptions>;
  askAttempts?: number;
}

export interface PendingRound {
  step: number;
  requestFile: string;
  customIds: string[];
  inputFileId?: string;
  batchId?: string;
  status?: string;
}

/** Everything needed to resume a job; saved as `<job>.state.json` after every change. */
export interface JobState {
  version: 1;
  job: string;
  kind: JobKind;
  /** The source dataset (read on import). */
  source: string;
  /** How CaPO provenance names the source (workspace- or job-relative); `source` when absent. */
  sourceName?: string;
  targetTurns?: number;
  settings: StoredSettings;
  step: number;
  extend?: ExtendRecordState[];
  capo?: CapoRecordState[];
  pending?: PendingRound;
  /** Per custom_id failures (never dropped). */
  errors: { custom_id: string; error: string }[];
  /** Unreadable lines in downloaded result files. */
  problems: string[];
}

export function newJobName(): string {
  return `job-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
}

export function createExtendJob(o: {
  job?: string;
  source: string;
  records: { record: number; dialogue: Dialogue }[];
  targetTurns: number;
  settings: StoredSettings;
}): JobState {
  return {
    version: 1,
    job: o.job ?? newJobName(),
    kind: 'extend',
    source: o.source,
    targetTurns: o.targetTurns,
    settings: o.settings,
    step: 0,
    extend: o.records.map((r) => ({
      record: r.record,
      dialogue: r.dialogue,
      status: 'active',
      askAttempts: 0,
    })),
    errors: [],
    problems: [],
  };
}

export function createCapoJob(o: {
  job?: string;
  source: string;
  sourceName?: string;
  records: { record: number; dialogue: Dialogue; turns?: number[] }[];
  strategies: readonly CapoStrategy[];
  threshold?: number;
  settings: StoredSettings;
}): JobState {
  return {
    version: 1,
    job: o.job ?? newJobName(),
    kind: 'capo',
    source: o.source,
    ...(o.sourceName !== undefined ? { sourceName: o.sourceName } : {}),
    settings: o.settings,
    step: 0,
    capo: o.records.map((r) => ({
      record: r.record,
      dialogue: r.dialogue,
      targets: (r.turns ?? dependentTurns(r.dialogue, o.threshold).map((t) => t.index)).flatMap((turn) =>
        o.strategies.map((strategy) => ({ turn, strategy, status: 'active' as const })),
      ),
    })),
    errors: [],
    problems: [],
  };
}

function extendSettings(s: StoredSettings): ExtendSettings {
  const e = s.extend;
  if (!e) throw new Error('the job has no extend settings');
  const { templateFile, ...ask } = e.ask;
  return {
    ...e,
    ask: {
      ...ask,
      template: templateFile
        ? loadTemplate(ask.mode === 'parrot-ask' ? 'ask-reversed-system' : 'ask-instruct', templateFile)
        : undefined,
    },
  };
}

function capoSettings(s: StoredSettings): CapoSettings {
  const c = s.capo;
  if (!c) throw new Error('the job has no CaPO settings');
  const { hallucinateFile, misreadFile, ...rest } = c;
  return {
    ...rest,
    templates: {
      hallucinate: hallucinateFile ? loadTemplate('capo-hallucinate', hallucinateFile) : undefined,
      misread: misreadFile ? loadTemplate('capo-misread', misreadFile) : undefined,
    },
  };
}

/** True when no request remains. */
export function isFinished(s: JobState): boolean {
  if (s.pending) return false;
  if (s.kind === 'extend')
    return (s.extend ?? []).every((r) => r.status !== 'active' || nextExtendTask(s, r) === undefined);
  return (s.capo ?? []).every((r) => r.targets.every((t) => t.status !== 'active'));
}

function nextExtendTask(s: JobState, r: ExtendRecordState): 'ask' | 'answer' | undefined {
  if (lastRole(r.dialogue) === 'user') return 'answer';
  if (userTurnCount(r.dialogue) < (s.targetTurns ?? 0)) return 'ask';
  return undefined;
}

/**
 * Builds the next round's requests (one per active record / CaPO target) and marks them pending.
 * Records that need nothing more are marked done. Returns no lines when the job is finished.
 */
export function nextRound(s: JobState, requestFile: string): BatchRequestLine[] {
  if (s.pending)
    throw new Error(
      `round ${s.pending.step} is still pending (batch ${s.pending.batchId ?? 'not submitted'}) — import it first`,
    );
  const step = s.step + 1;
  const lines: BatchRequestLine[] = [];
  if (s.kind === 'extend') {
    const es = extendSettings(s.settings);
    for (const r of s.extend ?? []) {
      if (r.status !== 'active') continue;
      const task = nextExtendTask(s, r);
      if (!task) {
        r.status = 'done';
        continue;
      }
      let body: ChatRequest;
      try {
        body =
          task === 'ask' ? buildAskRequest(r.dialogue, es.ask) : buildAnswerRequest(r.dialogue, es.answer);
      } catch (e) {
        r.status = 'failed';
        r.error = e instanceof Error ? e.message : String(e);
        continue;
      }
      lines.push(requestLine(customId({ job: s.job, record: r.record, step, task }), body));
    }
  } else {
    const cs = capoSettings(s.settings);
    for (const r of s.capo ?? []) {
      for (const t of r.targets) {
        if (t.status !== 'active') continue;
        try {
          const req = buildCapoRequest(t.strategy, r.dialogue, t.turn, cs);
          lines.push(
            requestLine(
              customId({ job: s.job, record: r.record, step, task: `${t.strategy}@t${t.turn + 1}` }),
              req.request,
            ),
          );
        } catch (e) {
          t.status = 'failed';
          t.error = e instanceof Error ? e.message : String(e);
        }
      }
    }
  }
  if (lines.length) s.pending = { step, requestFile, customIds: lines.map((l) => l.custom_id) };
  return lines;
}

/**
 * Applies a round's results. Every pending custom_id ends up applied or in `errors`
 * (a missing result is an error too). Clears `pending` and advances the step.
 */
export function importResults(
  s: JobState,
  results: ParsedResults,
  now = new Date(),
): { applied: number; failed: number; unknown: number; problems: string[] } {
  const p = s.pending;
  if (!p) throw new Error('no round is pending — nothing to import');
  const problemsBefore = s.problems.length;
  let applied = 0;
  let failed = 0;
  s.problems.push(...results.problems);
  const es = s.kind === 'extend' ? extendSettings(s.settings) : undefined;
  const cs = s.kind === 'capo' ? capoSettings(s.settings) : undefined;
  const maxAsk = s.settings.askAttempts ?? 2;
  for (const id of p.customIds) {
    const c = parseCustomId(id);
    const out = results.outcomes.get(id);
    const fail = (msg: string): void => {
      s.errors.push({ custom_id: id, error: msg });
      failed++;
    };
    if (!c) {
      fail('unreadable custom_id');
      continue;
    }
    if (s.kind === 'extend') {
      const r = (s.extend ?? []).find((x) => x.record === c.record);
      if (!r) continue;
      if (!out || !out.ok) {
        r.status = 'failed';
        r.error = out ? out.error : 'no result for this request in the batch output';
        fail(r.error);
        continue;
      }
      if (c.task === 'answer') {
        const text = out.texts[0] ?? '';
        if (text.trim() === '') {
          r.status = 'failed';
          r.error = 'empty answer';
          fail(r.error);
          continue;
        }
        r.dialogue.turns.push({ role: 'assistant', content: text });
      } else {
        const f = filterCandidates(out.texts, r.dialogue, s.settings.filter);
        const q = f.kept[0];
        if (q === undefined) {
          r.askAttempts++;
          if (r.askAttempts >= maxAsk) {
            r.status = 'failed';
            r.error = `every follow-up candidate was rejected (${[...new Set(f.rejected.map((x) => x.reason))].join(', ')})`;
            fail(r.error);
            continue;
          }
        } else {
          r.askAttempts = 0;
          r.dialogue.turns.push({ role: 'user', content: q });
        }
      }
      applied++;
      if (es && nextExtendTask(s, r) === undefined) r.status = 'done';
    } else {
      const r = (s.capo ?? []).find((x) => x.record === c.record);
      const m = /^(neglect|hallucinate|misread)@t(\d+)$/.exec(c.task);
      const t = m && r?.targets.find((x) => x.strategy === m[1] && x.turn === Number(m[2]) - 1);
      if (!r || !t || !cs) {
        fail('custom_id does not match a target of this job');
        continue;
      }
      const text = out?.ok ? (out.texts[0] ?? '') : '';
      if (!out || !out.ok || text.trim() === '') {
        t.status = 'failed';
        t.error = !out
          ? 'no result for this request in the batch output'
          : out.ok
            ? 'empty answer'
            : out.error;
        fail(t.error);
        continue;
      }
      const req = buildCapoRequest(t.strategy, r.dialogue, t.turn, cs);
      t.pair = makePair(
        r.dialogue,
        t.turn,
        req,
        text,
        { file: s.sourceName ?? s.source, record: r.record },
        now,
      );
      t.status = 'done';
      applied++;
    }
  }
  // Results this round did not ask for: another job's, an earlier round's, or unknown ids.
  const asked = new Set(p.customIds);
  let unknown = 0;
  for (const id of results.outcomes.keys()) {
    if (asked.has(id)) continue;
    unknown++;
    const c = parseCustomId(id);
    const where = results.seen?.get(id) ?? 'results';
    s.problems.push(
      !c
        ? `${where}: custom_id ${id} is not one of ours — ignored`
        : c.job !== s.job
          ? `${where}: custom_id ${id} belongs to job ${c.job}, not ${s.job} — wrong result file?`
          : `${where}: custom_id ${id} was not requested in round ${p.step} — ignored`,
    );
  }
  s.step = p.step;
  delete s.pending;
  return { applied, failed, unknown, problems: s.problems.slice(problemsBefore) };
}

export async function saveState(file: string, s: JobState): Promise<void> {
  await writeJsonAtomic(file, s);
}

export async function loadState(file: string): Promise<JobState> {
  let text: string;
  try {
    text = await fsp.readFile(file, 'utf8');
  } catch (e) {
    throw new Error(`cannot read job state '${file}': ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
  }
  const s = JSON.parse(text) as JobState;
  if (s.version !== 1 || (s.kind !== 'extend' && s.kind !== 'capo'))
    throw new Error(`'${file}' is not a Parrot batch job state`);
  return s;
}

/**
 * Files a job state names beyond the job's own: template files, the pending request file (uploaded
 * as is) and the source dataset (edited on import). A state file can be written by anyone, so a
 * caller that must not let it choose those (an untrusted workspace) checks them here: templates
 * must be among `allowedTemplates` (the ones the settings in force allow), the request file must be
 * the job's own round file and the source must pass `allowedSource`. Returns what is not allowed.
 */
export function jobStateProblems(
  s: JobState,
  jobBase: string,
  allowedTemplates: readonly (string | undefined)[],
  allowedSource: (source: string) => boolean,
): string[] {
  const problems: string[] = [];
  const allowed = new Set(allowedTemplates.filter((t): t is string => !!t).map((t) => path.resolve(t)));
  const named = [
    s.settings.extend?.ask.templateFile,
    s.settings.capo?.hallucinateFile,
    s.settings.capo?.misreadFile,
  ].filter((t): t is string => !!t);
  for (const t of named)
    if (!allowed.has(path.resolve(t))) problems.push(`template file ${t} is not one the settings allow`);
  if (
    s.pending &&
    path.resolve(s.pending.requestFile) !== path.resolve(jobPaths(jobBase).requests(s.pending.step))
  )
    problems.push(`request file ${s.pending.requestFile} is not the job's own round file`);
  if (!allowedSource(s.source)) problems.push(`source ${s.source} is outside the workspace`);
  return problems;
}

export function jobPaths(jobBase: string): { state: string; requests: (step: number) => string } {
  return { state: `${jobBase}.state.json`, requests: (step) => `${jobBase}.round${step}.requests.jsonl` };
}

export { parseResults };

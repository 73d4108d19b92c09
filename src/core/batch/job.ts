import { randomBytes } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { BatchedWriter } from '../batchedWriter';
import type { ChatRequest } from '../llm/client';
import type { CapoStrategy, Dialogue, Turn } from '../model';
import { buildAskRequest, filterCandidates, type FilterOptions } from '../parrot/ask';
import { readReferences } from '../parrot/evaluate';
import { buildCapoRequest, dependentTurns, type CapoSettings } from '../parrot/capo';
import { buildAnswerRequest, type ExtendSettings } from '../parrot/extend';
import { lastRole, userTurnCount } from '../parrot/messages';
import { writeJsonAtomic } from '../parrot/output';
import { loadTemplate } from '../parrot/templates';
import { readFileRecords, where } from '../store/records';
import { atomicWrite } from '../store/save';
import {
  applyEvalOutcomes,
  evalSessionFinished,
  evalEntry,
  evalTasks,
  questionOf,
  type EvalSessionState,
  type StoredEvalSettings,
} from './evalJob';
import {
  customId,
  parseCustomId,
  parseResults,
  requestLine,
  type BatchOutcome,
  type ParsedResults,
} from './lines';
import { recordHash, sourceRecords, type SourceRef } from './source';
export type JobKind = 'extend' | 'capo' | 'eval';

/** Version of the state layout: 2 keeps records by position and hash, never their text. */
export const STATE_VERSION = 2;

export interface ExtendRecordState extends SourceRef {
  /** The turns generated so far (the record's own are read from the source). */
  added: Turn[];
  /** User turns of the record with `added`, and the role of its last turn. */
  users: number;
  last?: Turn['role'];
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
  /** The rejected answer, once imported; the pair is built from the source when written. */
  rejected?: string;
  /** When the rejected answer was imported (the pair's `created`). */
  created?: string;
}

export interface CapoRecordState extends SourceRef {
  targets: CapoTargetState[];
}

/** Template overrides are stored by file path so a resumed job renders the same prompts. */
export interface StoredSettings {
  extend?: Omit<ExtendSettings, 'ask'> & {
    ask: Omit<ExtendSettings['ask'], 'template'> & { templateFile?: string };
  };
  capo?: Omit<CapoSettings, 'templates'> & { hallucinateFile?: string; misreadFile?: string };
  eval?: StoredEvalSettings;
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

/**
 * Everything needed to resume a job; saved as `<job>.state.json` after every change. It holds no
 * dataset text: records are named by position and hash and read again from `source` when needed.
 */
export interface JobState {
  version: typeof STATE_VERSION;
  job: string;
  kind: JobKind;
  /** The source dataset (read on every round and on import). */
  source: string;
  /** How CaPO provenance names the source (workspace- or job-relative); `source` when absent. */
  sourceName?: string;
  targetTurns?: number;
  settings: StoredSettings;
  step: number;
  extend?: ExtendRecordState[];
  capo?: CapoRecordState[];
  eval?: EvalSessionState[];
  pending?: PendingRound;
  /** Per custom_id failures (never dropped). */
  errors: { custom_id: string; error: string }[];
  /** Unreadable lines in downloaded result files. */
  problems: string[];
}

export function newJobName(): string {
  return `job-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
}

/** How a job names a record: its position and the hash of its text. */
export function sourceRef(record: number, text: string): SourceRef {
  return { record, hash: recordHash(text) };
}

/** The job's entry for one dialogue to extend (the dialogue itself is not kept). */
export function extendEntry(ref: SourceRef, d: Dialogue): ExtendRecordState {
  const last = lastRole(d);
  return {
    ...ref,
    added: [],
    users: userTurnCount(d),
    ...(last !== undefined ? { last } : {}),
    status: 'active',
    askAttempts: 0,
  };
}

/** The job's entry for one dialogue's CaPO targets (`turns`: 0-based assistant turns; default: detected). */
export function capoEntry(
  ref: SourceRef,
  d: Dialogue,
  strategies: readonly CapoStrategy[],
  o: { threshold?: number; turns?: number[] } = {},
): CapoRecordState {
  return {
    ...ref,
    targets: (o.turns ?? dependentTurns(d, o.threshold).map((t) => t.index)).flatMap((turn) =>
      strategies.map((strategy) => ({ turn, strategy, status: 'active' as const })),
    ),
  };
}

function newJob(o: { job?: string; source: string; settings: StoredSettings }, kind: JobKind): JobState {
  return {
    version: STATE_VERSION,
    job: o.job ?? newJobName(),
    kind,
    source: o.source,
    settings: o.settings,
    step: 0,
    errors: [],
    problems: [],
  };
}

export function createExtendJob(o: {
  job?: string;
  source: string;
  records: ExtendRecordState[];
  targetTurns: number;
  settings: StoredSettings;
}): JobState {
  return { ...newJob(o, 'extend'), targetTurns: o.targetTurns, extend: o.records };
}

export function createCapoJob(o: {
  job?: string;
  source: string;
  sourceName?: string;
  records: CapoRecordState[];
  settings: StoredSettings;
}): JobState {
  return {
    ...newJob(o, 'capo'),
    ...(o.sourceName !== undefined ? { sourceName: o.sourceName } : {}),
    capo: o.records,
  };
}

export function createEvalJob(o: {
  job?: string;
  source: string;
  records: EvalSessionState[];
  settings: StoredSettings;
}): JobState {
  if (!o.settings.eval) throw new Error('an eval job needs eval settings');
  return { ...newJob(o, 'eval'), eval: o.records };
}

/**
 * An eval job over an MT-Bench-style questions file (streamed; the state keeps each session's
 * position, hash, id and category). A record that is not a question throws with its position.
 */
export async function createEvalJobFromFile(o: {
  job: string;
  source: string;
  settings: StoredEvalSettings;
}): Promise<JobState> {
  const records: EvalSessionState[] = [];
  for await (const rec of readFileRecords(o.source)) {
    if (rec.text.trim() === '') continue;
    let value: unknown;
    try {
      value = JSON.parse(rec.text);
    } catch (e) {
      throw new Error(`${where(o.source, rec)}: ${errText(e)}`);
    }
    const q = questionOf(value);
    if (typeof q === 'string') throw new Error(`${where(o.source, rec)}: ${q}`);
    records.push(evalEntry(sourceRef(rec.line, rec.text), q));
  }
  if (o.settings.referencesFile) await readReferences(o.settings.referencesFile); // fail now, not later
  return createEvalJob({ job: o.job, source: o.source, records, settings: { eval: o.settings } });
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

export function capoSettings(s: StoredSettings): CapoSettings {
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

function evalSettings(s: StoredSettings): StoredEvalSettings {
  if (!s.eval) throw new Error('the job has no eval settings');
  return s.eval;
}

/** The reference answers an eval job names (read again on every round). */
export async function jobReferences(s: JobState): Promise<Map<string, string[]> | undefined> {
  const f = s.settings.eval?.referencesFile;
  return f ? readReferences(f) : undefined;
}

/** The record's dialogue as the job has grown it: the source's turns plus the generated ones. */
export function grownDialogue(d: Dialogue, r: Pick<ExtendRecordState, 'added'>): Dialogue {
  return { ...d, turns: [...d.turns, ...r.added] };
}

/** True when no request remains. */
export function isFinished(s: JobState): boolean {
  if (s.pending) return false;
  if (s.kind === 'extend')
    return (s.extend ?? []).every((r) => r.status !== 'active' || nextExtendTask(s, r) === undefined);
  if (s.kind === 'eval') {
    const es = evalSettings(s.settings);
    return (s.eval ?? []).every((r) => evalSessionFinished(r, es));
  }
  return (s.capo ?? []).every((r) => r.targets.every((t) => t.status !== 'active'));
}

function nextExtendTask(s: JobState, r: ExtendRecordState): 'ask' | 'answer' | undefined {
  if (r.last === 'user') return 'answer';
  if (r.users < (s.targetTurns ?? 0)) return 'ask';
  return undefined;
}

function errText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/**
 * Writes the next round's requests (one per active record / CaPO target; for eval, each session's
 * next answer and the judge requests due) to `requestFile`, streaming the source, and marks them
 * pending. Records that need nothing more are marked done, records that cannot be read failed.
 * Returns the number of requests (0: the job is finished, no file written).
 */
export async function writeRound(s: JobState, requestFile: string): Promise<number> {
  if (s.pending)
    throw new Error(
      `round ${s.pending.step} is still pending (batch ${s.pending.batchId ?? 'not submitted'}) — import it first`,
    );
  const step = s.step + 1;
  const ids: string[] = [];
  const fail = (r: { status: string; error?: string }, error: string): void => {
    r.status = 'failed';
    r.error = error;
  };
  const write = async (
    each: (put: (id: string, body: ChatRequest) => Promise<void>) => Promise<void>,
  ): Promise<void> => {
    let opened = false;
    await atomicWrite(requestFile, undefined, undefined, async (fh) => {
      const w = BatchedWriter.toFile(fh);
      await each(async (id, body) => {
        opened = true;
        ids.push(id);
        const wrote = w.write(`${JSON.stringify(requestLine(id, body))}\n`);
        if (wrote) await wrote;
      });
      await w.flush();
    });
    if (!opened) await fsp.rm(requestFile, { force: true });
  };
  if (s.kind === 'extend') {
    const es = extendSettings(s.settings);
    const recs = s.extend ?? [];
    for (const r of recs) if (r.status === 'active' && !nextExtendTask(s, r)) r.status = 'done';
    await write(async (put) => {
      for await (const it of sourceRecords(s.source, recs, (r) => r.status === 'active')) {
        const r = it.entry;
        if (!it.ok) {
          fail(r, it.error);
          continue;
        }
        if (it.parsed.sample.kind !== 'dialogue') {
          fail(r, 'the record is not a dialogue');
          continue;
        }
        const task = nextExtendTask(s, r);
        if (!task) continue;
        const d = grownDialogue(it.parsed.sample, r);
        let body: ChatRequest;
        try {
          body = task === 'ask' ? buildAskRequest(d, es.ask) : buildAnswerRequest(d, es.answer);
        } catch (e) {
          fail(r, errText(e));
          continue;
        }
        await put(customId({ job: s.job, record: r.record, step, task }), body);
      }
    });
  } else if (s.kind === 'capo') {
    const cs = capoSettings(s.settings);
    const recs = s.capo ?? [];
    await write(async (put) => {
      for await (const it of sourceRecords(s.source, recs, (r) =>
        r.targets.some((t) => t.status === 'active'),
      )) {
        const r = it.entry;
        for (const t of r.targets) {
          if (t.status !== 'active') continue;
          if (!it.ok || it.parsed.sample.kind !== 'dialogue') {
            fail(t, it.ok ? 'the record is not a dialogue' : it.error);
            continue;
          }
          try {
            const req = buildCapoRequest(t.strategy, it.parsed.sample, t.turn, cs);
            await put(
              customId({ job: s.job, record: r.record, step, task: `${t.strategy}@t${t.turn + 1}` }),
              req.request,
            );
          } catch (e) {
            fail(t, errText(e));
          }
        }
      }
    });
  } else {
    const es = evalSettings(s.settings);
    const refs = await jobReferences(s);
    const recs = s.eval ?? [];
    for (const r of recs) if (r.status === 'active' && evalSessionFinished(r, es)) r.status = 'done';
    await write(async (put) => {
      for await (const it of sourceRecords(s.source, recs, (r) => !evalSessionFinished(r, es))) {
        const r = it.entry;
        const q = it.ok ? questionOf(it.parsed.value) : it.error;
        if (typeof q === 'string') {
          fail(r, q);
          continue;
        }
        for (const t of evalTasks(r, q, es, refs))
          await put(customId({ job: s.job, record: r.record, step, task: t.task }), t.body);
      }
    });
  }
  if (ids.length) s.pending = { step, requestFile, customIds: ids };
  return ids.length;
}

/**
 * Applies a round's results. Every pending custom_id ends up applied or in `errors`
 * (a missing result is an error too). Clears `pending` and advances the step. Extend jobs read
 * the source again (a follow-up question is filtered against its dialogue).
 */
export async function importResults(
  s: JobState,
  results: ParsedResults,
  now = new Date(),
): Promise<{ applied: number; failed: number; unknown: number; problems: string[] }> {
  const p = s.pending;
  if (!p) throw new Error('no round is pending — nothing to import');
  const problemsBefore = s.problems.length;
  let applied = 0;
  let failed = 0;
  s.problems.push(...results.problems);
  const maxAsk = s.settings.askAttempts ?? 2;
  const fail = (id: string, msg: string): void => {
    s.errors.push({ custom_id: id, error: msg });
    failed++;
  };
  // The round's ids by record (in the order they were asked).
  const byRecord = new Map<number, { id: string; task: string; out: BatchOutcome | undefined }[]>();
  for (const id of p.customIds) {
    const c = parseCustomId(id);
    if (!c || c.job !== s.job) {
      fail(id, 'unreadable custom_id');
      continue;
    }
    const list = byRecord.get(c.record) ?? [];
    list.push({ id, task: c.task, out: results.outcomes.get(id) });
    byRecord.set(c.record, list);
  }
  const outcomeError = (out: BatchOutcome | undefined): string | undefined =>
    !out ? 'no result for this request in the batch output' : out.ok ? undefined : out.error;
  if (s.kind === 'extend') {
    const recs = s.extend ?? [];
    // Only follow-up questions need the dialogue; answers are applied without reading the source.
    const needsSource = (r: ExtendRecordState): boolean =>
      byRecord.get(r.record)?.some((x) => x.task === 'ask' && x.out?.ok) === true;
    /** Applies the record's outcomes; `d`: its dialogue read from the source, or why it could not be. */
    const apply = (r: ExtendRecordState, d: Dialogue | string | undefined): void => {
      for (const x of byRecord.get(r.record) ?? []) {
        const err = outcomeError(x.out);
        const texts = x.out?.ok ? x.out.texts : [];
        const stop = (msg: string): void => {
          r.status = 'failed';
          r.error = msg;
          fail(x.id, msg);
        };
        if (err !== undefined) {
          stop(err);
          continue;
        }
        if (x.task === 'answer') {
          const text = texts[0] ?? '';
          if (text.trim() === '') {
            stop('empty answer');
            continue;
          }
          r.added.push({ role: 'assistant', content: text });
          r.last = 'assistant';
        } else {
          if (d === undefined || typeof d === 'string') {
            stop(d ?? 'the record is not in the source');
            continue;
          }
          const f = filterCandidates(texts, grownDialogue(d, r), s.settings.filter);
          const q = f.kept[0];
          if (q === undefined) {
            r.askAttempts++;
            if (r.askAttempts >= maxAsk) {
              stop(
                `every follow-up candidate was rejected (${[...new Set(f.rejected.map((y) => y.reason))].join(', ')})`,
              );
              continue;
            }
          } else {
            r.askAttempts = 0;
            r.added.push({ role: 'user', content: q });
            r.users++;
            r.last = 'user';
          }
        }
        applied++;
        if (nextExtendTask(s, r) === undefined) r.status = 'done';
      }
      byRecord.delete(r.record);
    };
    // Applied as the source streams by: one dialogue in memory at a time.
    if (recs.some(needsSource))
      for await (const it of sourceRecords(s.source, recs, needsSource))
        apply(
          it.entry,
          !it.ok
            ? it.error
            : it.parsed.sample.kind === 'dialogue'
              ? it.parsed.sample
              : 'the record is not a dialogue',
        );
    for (const r of recs) if (byRecord.has(r.record)) apply(r, undefined);
  } else if (s.kind === 'capo') {
    for (const r of s.capo ?? []) {
      for (const x of byRecord.get(r.record) ?? []) {
        const m = /^(neglect|hallucinate|misread)@t(\d+)$/.exec(x.task);
        const t = m && r.targets.find((y) => y.strategy === m[1] && y.turn === Number(m[2]) - 1);
        if (!t) {
          fail(x.id, 'custom_id does not match a target of this job');
          continue;
        }
        const text = x.out?.ok ? (x.out.texts[0] ?? '') : '';
        const err = outcomeError(x.out) ?? (text.trim() === '' ? 'empty answer' : undefined);
        if (err !== undefined) {
          t.status = 'failed';
          t.error = err;
          fail(x.id, err);
          continue;
        }
        t.rejected = text;
        t.created = now.toISOString();
        t.status = 'done';
        applied++;
      }
      byRecord.delete(r.record);
    }
  } else {
    const es = evalSettings(s.settings);
    for (const r of s.eval ?? []) {
      const list = byRecord.get(r.record);
      if (!list) continue;
      byRecord.delete(r.record);
      for (const x of list) {
        const err = outcomeError(x.out);
        if (err !== undefined) fail(x.id, err);
        else applied++;
      }
      applyEvalOutcomes(r, list);
      if (r.status === 'active' && evalSessionFinished(r, es)) r.status = 'done';
    }
  }
  for (const list of byRecord.values())
    for (const x of list) fail(x.id, 'custom_id does not match a record of this job');
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
  if ((s.version as number) === 1)
    throw new Error(
      `'${file}' was written by an earlier version of Parrot Studio (it keeps the dialogues in the state): finish it with that version, or export the job again`,
    );
  if (s.version !== STATE_VERSION || (s.kind !== 'extend' && s.kind !== 'capo' && s.kind !== 'eval'))
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
  const refs = s.settings.eval?.referencesFile;
  if (refs && !allowedSource(refs)) problems.push(`reference answers ${refs} are outside the workspace`);
  return problems;
}

export function jobPaths(jobBase: string): { state: string; requests: (step: number) => string } {
  return { state: `${jobBase}.state.json`, requests: (step) => `${jobBase}.round${step}.requests.jsonl` };
}

export { parseResults };
export type { EvalSessionState, StoredEvalSettings } from './evalJob';

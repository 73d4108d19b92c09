import { BatchedWriter } from '../../core/batchedWriter';
import { setMaxListeners } from 'node:events';
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import {
  capoEntry,
  createCapoJob,
  createEvalJobFromFile,
  createExtendJob,
  downloadResults,
  extendEntry,
  grownDialogue,
  sourceRecords,
  sourceRef,
  type CapoRecordState,
  type ExtendRecordState,
  exportRound,
  importRound,
  isFinished,
  jobPaths,
  loadState,
  pollBatch,
  runJob,
  saveState,
  submitRound,
  type JobState,
  writeEvalResults,
  writeJobPairs,
  type StoredEvalSettings,
  type StoredSettings,
} from '../../core/batch';
import { parseRecord, recordToLine } from '../../core/formats';
import { entryMappingFor } from '../../core/formats/entryMapping';
import { atomicWrite } from '../../core/store/save';
import { readFileRecords, where } from '../../core/store/records';
import type { LlmConfig } from '../../core/llm';
import type { CapoStrategy } from '../../core/model';
import { CAPO_STRATEGIES, PAIR_FORMATS, summarizeFile, type PairFormat } from '../../core/parrot';
import { relativeSource } from './capo';
import { parseCommandArgs, usageError } from '../args';
import { progress, type CliIO } from '../io';
import { clientFor, configFrom, ENDPOINT_HELP, ENDPOINT_OPTIONS } from './ask';
import { summaryText } from './evalSummary';

const HELP = `Usage: parrot batch <export|submit|status|import|run> [options]

Runs extend and CaPO jobs through the OpenAI Batch API (or vllm run-batch). A job is a set of
files next to JOB: JOB.state.json (resumable state) and JOB.round<k>.requests.jsonl.
Extend jobs take several rounds (ask, answer, ask, ...); each round is one batch. Eval jobs
(MT-Bench++, as 'parrot eval --batch') take one round per turn: every session's answer to turn k
and the judge's grades of turn k-1 go in round k; OUT gets the same lines as a live 'parrot eval'.
The state keeps records by position and hash, never their text: the source is read again (streamed)
on every round, so it must not change while the job runs (a changed record fails, with its line).

  parrot batch export extend FILE --turns N [--job JOB] [endpoint options]
  parrot batch export capo FILE [--strategies LIST] [--job JOB] [endpoint options]
  parrot batch export eval QUESTIONS --model NAME --judge-model NAME [--references FILE]
      [--judge-retries N] [--job JOB] [endpoint options]
      write the job state and the first round's request file (default JOB: FILE without .jsonl
      plus .extend / .capo / .eval-MODEL)
  parrot batch submit JOB        upload the pending round and create the batch
  parrot batch status JOB        show the job and its batch
  parrot batch import JOB [--results FILE [--errors FILE]] [--wait] [-o OUT] [--format F]
      import the finished batch (downloaded, or a local vllm run-batch output file), then write
      the next round's requests, or OUT when the job is finished
  parrot batch run JOB [-o OUT] [--format F]
      submit, poll, import round after round until done (resumes where it stopped)

Options:
  --poll SECONDS         first poll interval (default 10; grows to 120)
  --format F             CaPO output: trl (default) | openai-preference | sharegpt-preference
  --model NAME           eval: model under test; --judge-model NAME: the judge (see parrot eval)
  -h, --help             show this help

${ENDPOINT_HELP}
Exit status: 0 ok, 1 the batch or some requests failed, 2 usage or input error.
`;

const OPTIONS = {
  ...ENDPOINT_OPTIONS,
  turns: { type: 'string' },
  strategies: { type: 'string' },
  job: { type: 'string' },
  results: { type: 'string' },
  errors: { type: 'string' },
  wait: { type: 'boolean' },
  output: { type: 'string', short: 'o' },
  format: { type: 'string' },
  poll: { type: 'string' },
  model: { type: 'string' },
  'judge-model': { type: 'string' },
  references: { type: 'string' },
  'judge-retries': { type: 'string' },
} as const;

function jobBase(arg: string): string {
  return arg.endsWith('.state.json') ? arg.slice(0, -'.state.json'.length) : arg;
}

function say(io: CliIO, m: string): void {
  io.stderr.write(`parrot batch: ${m}\n`);
}

export async function batchCommand(args: string[], io: CliIO): Promise<number> {
  const p = parseCommandArgs('batch', args, OPTIONS, HELP, io);
  if (typeof p === 'number') return p;
  const [sub, ...pos] = p.positionals;
  const format = (p.values.format ?? 'trl') as PairFormat;
  if (!PAIR_FORMATS.includes(format))
    return usageError('batch', `--format must be one of ${PAIR_FORMATS.join(', ')}`, io);
  let config: LlmConfig;
  try {
    const c = configFrom(p.values);
    config = c.config;
    if (c.keyNote && sub !== 'export' && sub !== 'import') say(io, `note: ${c.keyNote}`);
  } catch (e) {
    return usageError('batch', e instanceof Error ? e.message : String(e), io);
  }
  const ac = new AbortController();
  setMaxListeners(0, ac.signal);
  const onSig = (): void => {
    say(io, 'stopping — the job state is saved; run the same command again to continue');
    ac.abort();
  };
  process.once('SIGINT', onSig);
  try {
    switch (sub) {
      case 'export':
        return await exportJob(pos, p.values, config, io);
      case 'submit':
      case 'status':
      case 'import':
      case 'run': {
        if (pos.length !== 1) return usageError('batch', `${sub} needs exactly one JOB`, io);
        const base = jobBase(pos[0]);
        const s = await loadState(jobPaths(base).state);
        const client = clientFor(config, io);
        const poll = {
          intervalMs: Number(p.values.poll ?? 10) * 1000,
          maxIntervalMs: 120_000,
          signal: ac.signal,
        };
        if (sub === 'submit') {
          if (!s.pending) {
            say(
              io,
              isFinished(s)
                ? 'the job is finished — nothing to submit'
                : 'no round is pending; run import first',
            );
            return isFinished(s) ? 0 : 2;
          }
          const id = await submitRound(client, s, jobPaths(base).state, ac.signal);
          io.stdout.write(`${id}\n`);
          say(
            io,
            `round ${s.pending.step}: ${s.pending.customIds.length} request(s) submitted as batch ${id}`,
          );
          return 0;
        }
        if (sub === 'status') {
          io.stdout.write(describe(s));
          if (s.pending?.batchId) {
            const b = await client.sdk.batches.retrieve(s.pending.batchId, { signal: ac.signal });
            io.stdout.write(
              `batch ${b.id}: ${b.status} (${b.request_counts?.completed ?? 0} completed, ${b.request_counts?.failed ?? 0} failed of ${b.request_counts?.total ?? 0})\n`,
            );
          }
          return 0;
        }
        if (sub === 'import') {
          if (!s.pending) return usageError('batch', 'no round is pending — nothing to import', io);
          let output: string;
          let errors = '';
          if (p.values.results) {
            output = await fsp.readFile(p.values.results, 'utf8');
            if (p.values.errors) errors = await fsp.readFile(p.values.errors, 'utf8');
          } else {
            if (!s.pending.batchId)
              return usageError(
                'batch',
                'the pending round was not submitted — run submit, or pass --results FILE',
                io,
              );
            const b = p.values.wait
              ? await pollBatch(client, s.pending.batchId, poll)
              : await client.sdk.batches.retrieve(s.pending.batchId, { signal: ac.signal });
            if (b.status !== 'completed' && !['failed', 'expired', 'cancelled'].includes(b.status)) {
              say(io, `batch ${b.id} is ${b.status} — try again later, or use --wait`);
              return 1;
            }
            ({ output, errors } = await downloadResults(client, b, ac.signal));
          }
          const step = s.pending.step;
          const r = await importRound(s, jobPaths(base).state, output, errors);
          for (const m of r.problems) say(io, m);
          say(
            io,
            `round ${step}: ${r.applied} result(s) imported, ${r.failed} failed${r.unknown ? `, ${r.unknown} result(s) not of this round` : ''}`,
          );
          return await afterImport(
            base,
            s,
            p.values.output,
            format,
            io,
            r.failed > 0 || r.problems.length > 0,
          );
        }
        const bar = progress(io);
        const done = await runJob(client, base, s, {
          ...poll,
          onRound: (x) => say(io, `round ${x.step}: ${x.requests} request(s)`),
          onStatus: (b) =>
            bar.update(
              `batch ${b.id}: ${b.status} ${b.request_counts?.completed ?? 0}/${b.request_counts?.total ?? 0}`,
            ),
          onImported: (x) => {
            bar.done();
            say(io, `round ${x.step}: ${x.applied} imported, ${x.failed} failed`);
          },
        });
        bar.done();
        return await afterImport(base, done, p.values.output, format, io, done.errors.length > 0);
      }
      default:
        return usageError(
          'batch',
          `unknown subcommand '${sub ?? ''}' (export, submit, status, import, run)`,
          io,
        );
    }
  } catch (e) {
    say(io, e instanceof Error ? e.message : String(e));
    return e instanceof Error && (e.name === 'LlmError' || /batch .* ended as/.test(e.message)) ? 1 : 2;
  } finally {
    process.removeListener('SIGINT', onSig);
  }
}

async function exportJob(
  pos: string[],
  v: Record<string, string | boolean | undefined>,
  config: LlmConfig,
  io: CliIO,
): Promise<number> {
  const [kind, file] = pos;
  if ((kind !== 'extend' && kind !== 'capo' && kind !== 'eval') || !file || pos.length !== 2)
    return usageError('batch', 'usage: parrot batch export extend|capo|eval FILE', io);
  if (kind === 'eval') {
    const es = evalSettingsFrom(v, config);
    if (typeof es === 'string') return usageError('batch', es, io);
    const base =
      typeof v.job === 'string' ? v.job : `${file.replace(/\.jsonl$/i, '')}.eval-${safeName(es.model)}`;
    let s: JobState;
    try {
      s = await createEvalJobFromFile({ job: safeName(path.basename(base)), source: file, settings: es });
    } catch (e) {
      say(io, e instanceof Error ? e.message : String(e));
      return 2;
    }
    return writeFirstRound(s, base, io);
  }
  const base = typeof v.job === 'string' ? v.job : `${file.replace(/\.jsonl$/i, '')}.${kind}`;
  let strategies: CapoStrategy[] = [];
  if (kind === 'capo') {
    const list = (typeof v.strategies === 'string' ? v.strategies : CAPO_STRATEGIES.join(','))
      .split(',')
      .map((x) => x.trim());
    if (list.some((x) => !(CAPO_STRATEGIES as readonly string[]).includes(x)))
      return usageError('batch', `--strategies: use ${CAPO_STRATEGIES.join(', ')}`, io);
    strategies = list as CapoStrategy[];
  }
  const turns = Number(v.turns);
  if (kind === 'extend' && (!Number.isInteger(turns) || turns < 1))
    return usageError('batch', '--turns N (a whole number >= 1) is required for extend', io);
  // Streamed: the state keeps each record's position and hash, never its text.
  const extendRecs: ExtendRecordState[] = [];
  const capoRecs: CapoRecordState[] = [];
  try {
    const mapping = await entryMappingFor(file);
    for await (const rec of readFileRecords(file)) {
      if (rec.text.trim() === '') continue;
      const r = parseRecord(rec.text, undefined, { mapping });
      if (!r.ok) throw new Error(`${where(file, rec, r.error.column - 1)}: ${r.error.message}`);
      if (r.layout.format === 'mt-bench')
        throw new Error(
          `${file}:${rec.line}:1: MT-Bench question records are extended with 'parrot extend', not in batch jobs`,
        );
      if (r.sample.kind !== 'dialogue')
        throw new Error(
          `${file}:${rec.line}:1: batch ${kind} needs a dialogue, this record is a preference pair`,
        );
      const ref = sourceRef(rec.line, rec.text);
      if (kind === 'extend') extendRecs.push(extendEntry(ref, r.sample));
      else capoRecs.push(capoEntry(ref, r.sample, strategies));
    }
  } catch (e) {
    say(io, e instanceof Error ? e.message : String(e));
    return 2;
  }
  const mode = (typeof v.mode === 'string' ? v.mode : 'parrot-ask') as 'parrot-ask' | 'instruct';
  const settings: StoredSettings = {
    extend: {
      ask: {
        mode,
        model: config.models.asker,
        temperature: config.temperature,
        maxTokens: Math.min(config.maxTokens, 256),
        n: config.candidates,
        templateFile: typeof v.template === 'string' ? path.resolve(v.template) : undefined,
      },
      answer: { model: config.models.answerer, temperature: config.temperature, maxTokens: config.maxTokens },
    },
    capo: { model: config.models.answerer, temperature: config.temperature, maxTokens: config.maxTokens },
  };
  const job = safeName(path.basename(base));
  const s: JobState =
    kind === 'extend'
      ? createExtendJob({ job, source: file, records: extendRecs, targetTurns: turns, settings })
      : createCapoJob({
          job,
          source: file,
          sourceName: relativeSource(file, base),
          records: capoRecs,
          settings,
        });
  return writeFirstRound(s, base, io);
}

/** Writes a new job's state and first round, and says where. */
async function writeFirstRound(s: JobState, base: string, io: CliIO): Promise<number> {
  const r = await exportRound(s, base);
  io.stdout.write(`${r.file ?? ''}\n`);
  say(
    io,
    `job ${jobPaths(base).state}: round 1 has ${r.requests} request(s)${r.file ? ` in ${r.file}` : ''}`,
  );
  return 0;
}

function safeName(x: string): string {
  return x.replace(/[^A-Za-z0-9._-]/g, '_');
}

/** The eval job settings of `--model`, `--judge-model`, `--references`, `--judge-retries`, or what is wrong. */
export function evalSettingsFrom(
  v: Record<string, string | boolean | undefined>,
  config: LlmConfig,
): StoredEvalSettings | string {
  if (typeof v.model !== 'string' || !v.model) return '--model NAME (the model under test) is required';
  if (typeof v['judge-model'] !== 'string' || !v['judge-model']) return '--judge-model NAME is required';
  const judgeRetries = v['judge-retries'] === undefined ? 2 : Number(v['judge-retries']);
  if (!Number.isInteger(judgeRetries) || judgeRetries < 0)
    return '--judge-retries must be a whole number >= 0';
  return {
    model: v.model,
    judgeModel: v['judge-model'],
    temperature: config.temperature,
    maxTokens: config.maxTokens,
    judgeRetries,
    ...(typeof v.references === 'string' ? { referencesFile: path.resolve(v.references) } : {}),
  };
}

function describe(s: JobState): string {
  const lines = [`job ${s.job} (${s.kind}) from ${s.source}: ${s.step} round(s) imported`];
  if (s.kind === 'eval') {
    const st = s.eval ?? [];
    lines.push(
      `sessions: ${st.filter((r) => r.status === 'done').length} done, ${st.filter((r) => r.status === 'active').length} active, ${st.filter((r) => r.status === 'failed').length} failed; ${st.reduce((a, r) => a + r.turns.length, 0)} turn(s) answered`,
    );
  } else if (s.kind === 'extend') {
    const st = s.extend ?? [];
    lines.push(
      `records: ${st.filter((r) => r.status === 'done').length} done, ${st.filter((r) => r.status === 'active').length} active, ${st.filter((r) => r.status === 'failed').length} failed`,
    );
  } else {
    const t = (s.capo ?? []).flatMap((r) => r.targets);
    lines.push(
      `pairs: ${t.filter((x) => x.status === 'done').length} done, ${t.filter((x) => x.status === 'active').length} to do, ${t.filter((x) => x.status === 'failed').length} failed`,
    );
  }
  if (s.pending)
    lines.push(
      `pending round ${s.pending.step}: ${s.pending.customIds.length} request(s) in ${s.pending.requestFile}${s.pending.batchId ? `, batch ${s.pending.batchId}` : ' (not submitted)'}`,
    );
  lines.push(`errors: ${s.errors.length}`);
  return lines.join('\n') + '\n';
}

async function afterImport(
  base: string,
  s: JobState,
  out: string | undefined,
  format: PairFormat,
  io: CliIO,
  hadErrors: boolean,
): Promise<number> {
  for (const e of s.errors.slice(-20)) say(io, `${e.custom_id}: ${e.error}`);
  if (!isFinished(s)) {
    const r = await exportRound(s, base);
    if (r.requests > 0) {
      say(
        io,
        `round ${s.step + 1}: ${r.requests} request(s) in ${r.file} — run 'parrot batch submit ${base}'`,
      );
      return hadErrors ? 1 : 0;
    }
  }
  await saveState(jobPaths(base).state, s);
  const outFile = out ?? `${base}.out.jsonl`;
  await writeJobOutput(s, outFile, format);
  say(
    io,
    `job finished: ${outFile}${s.errors.length ? ` (${s.errors.length} request(s) failed, see status)` : ''}`,
  );
  if (s.kind === 'eval') {
    const summary = await summarizeFile(outFile);
    io.stdout.write(summaryText(summary));
    return s.errors.length || summary.missing || summary.failed ? 1 : 0;
  }
  return s.errors.length ? 1 : 0;
}

/** Writes the finished job: extended records in the input's own format, or CaPO pairs. */
export async function writeJobOutput(s: JobState, outFile: string, format: PairFormat): Promise<void> {
  if (s.kind === 'extend') {
    // The source is streamed (any size), the output written atomically in ~1 MiB writes.
    await atomicWrite(outFile, undefined, undefined, async (fh) => {
      const w = BatchedWriter.toFile(fh);
      for await (const it of sourceRecords(s.source, s.extend ?? [])) {
        if (!it.ok) throw new Error(it.error);
        const d = it.parsed.sample;
        if (d.kind !== 'dialogue') throw new Error(`${s.source}:${it.entry.record}: not a dialogue`);
        const wrote = w.write(recordToLine(grownDialogue(d, it.entry), it.parsed.layout) + '\n');
        if (wrote) await wrote;
      }
      await w.flush();
    });
    return;
  }
  if (s.kind === 'eval') {
    await writeEvalResults(s, outFile);
    return;
  }
  const tmp = `${outFile}.tmp`;
  await writeJobPairs(s, format, outFile, tmp);
  await fsp.rename(tmp, outFile);
}

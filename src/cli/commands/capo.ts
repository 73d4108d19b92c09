import { existsSync, promises as fsp } from 'node:fs';
import type { LlmConfig } from '../../core/llm';
import type { CapoStrategy, Dialogue } from '../../core/model';
import {
  CAPO_STRATEGIES,
  capo,
  loadTemplate,
  needsSidecar,
  PAIR_FORMATS,
  pairLines,
  sidecarPath,
  type CapoSettings,
  type PairFormat,
} from '../../core/parrot';
import { parseCommandArgs, usageError } from '../args';
import { interruptible, OrderedWriter, readAllRecords, runPool } from '../generation';
import { progress, type CliIO } from '../io';
import { asDialogue, clientFor, configFrom, ENDPOINT_HELP, ENDPOINT_OPTIONS } from './ask';

const HELP = `Usage: parrot capo -o OUT [options] FILE

Builds CaPO preference pairs from the dialogues of FILE. For each context-dependent user turn
(offline detector, or --turns all), the record's own answer is "chosen" and a context-broken
answer from the answer model is "rejected":
  neglect      answered with the history deleted
  hallucinate  history deleted, the model told to assume what the references mean
  misread      full history, the reference resolved to a wrong, unrelated earlier turn
Each pair records strategy, source file/record/turn, models, template version and time.

Options:
  --strategies LIST      comma-separated (default neglect,hallucinate,misread)
  --format F             trl (default) | openai-preference | sharegpt-preference
                         (openai-preference rejects extra keys: provenance goes to OUT.provenance.jsonl)
  --turns WHICH          dependent (default) | all
  --threshold X          context-dependence score needed, 0..1 (default 0.5)
  --hallucinate-template FILE, --misread-template FILE   your own templates
  -o, --output OUT       output JSONL (required)
  --resume               continue an interrupted run (progress in OUT.progress.json)
  -h, --help             show this help

${ENDPOINT_HELP}
Exit status: 0 done, 1 some requests failed or cancelled, 2 usage or input error.
`;

export async function capoCommand(args: string[], io: CliIO): Promise<number> {
  const p = parseCommandArgs(
    'capo',
    args,
    {
      ...ENDPOINT_OPTIONS,
      strategies: { type: 'string' },
      format: { type: 'string' },
      turns: { type: 'string' },
      threshold: { type: 'string' },
      'hallucinate-template': { type: 'string' },
      'misread-template': { type: 'string' },
      output: { type: 'string', short: 'o' },
      resume: { type: 'boolean' },
    } as const,
    HELP,
    io,
  );
  if (typeof p === 'number') return p;
  if (p.positionals.length !== 1) return usageError('capo', 'exactly one FILE is needed', io);
  const file = p.positionals[0];
  const out = p.values.output;
  if (!out) return usageError('capo', '-o OUT is required', io);
  const strategies = (p.values.strategies ?? CAPO_STRATEGIES.join(','))
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const bad = strategies.filter((s) => !(CAPO_STRATEGIES as readonly string[]).includes(s));
  if (bad.length || !strategies.length)
    return usageError('capo', `unknown strategy '${bad.join(',')}' (use ${CAPO_STRATEGIES.join(', ')})`, io);
  const format = (p.values.format ?? 'trl') as PairFormat;
  if (!PAIR_FORMATS.includes(format))
    return usageError('capo', `--format must be one of ${PAIR_FORMATS.join(', ')}`, io);
  const which = p.values.turns ?? 'dependent';
  if (which !== 'dependent' && which !== 'all')
    return usageError('capo', '--turns must be dependent or all', io);
  const threshold = p.values.threshold !== undefined ? Number(p.values.threshold) : 0.5;
  if (!(threshold >= 0 && threshold <= 1))
    return usageError('capo', '--threshold must be between 0 and 1', io);
  let config: LlmConfig;
  let settings: CapoSettings;
  try {
    const c = configFrom(p.values);
    config = c.config;
    if (c.keyNote) io.stderr.write(`parrot capo: note: ${c.keyNote}\n`);
    settings = {
      model: config.models.answerer,
      temperature: config.temperature,
      maxTokens: config.maxTokens,
      templates: {
        hallucinate: loadTemplate('capo-hallucinate', p.values['hallucinate-template']),
        misread: loadTemplate('capo-misread', p.values['misread-template']),
      },
    };
  } catch (e) {
    return usageError('capo', e instanceof Error ? e.message : String(e), io);
  }
  const records = await readAllRecords('capo', file, io, (r) => asDialogue(r, file, 'capo'));
  if (typeof records === 'number') return records;
  const progressFile = `${out}.progress.json`;
  let skip = 0;
  if (p.values.resume) {
    try {
      skip = (JSON.parse(await fsp.readFile(progressFile, 'utf8')) as { records: number }).records;
    } catch {
      skip = 0;
    }
  } else if (existsSync(out))
    return usageError('capo', `${out} exists — use --resume to continue it, or choose another -o`, io);

  const client = clientFor(config, io);
  const fh = await fsp.open(out, 'a');
  const side = needsSidecar(format) ? await fsp.open(sidecarPath(out), 'a') : undefined;
  const writer = new OrderedWriter(fh, side);
  const stop = interruptible('capo', io);
  const bar = progress(io);
  const todo = records.slice(skip);
  const problems: string[] = [];
  let pairs = 0;
  let cancelled = false;
  const saveProgress = (): Promise<void> =>
    fsp.writeFile(progressFile, JSON.stringify({ input: file, records: skip + writer.written }));
  try {
    let finished = 0;
    const items = todo.map((r, i) => ({ r, i }));
    await runPool(items, config.concurrency, stop.signal, async (it) => {
      const d = it.r.sample as Dialogue;
      const turns =
        which === 'all'
          ? d.turns.flatMap((t, i) =>
              t.role === 'assistant' && i > 0 && d.turns[i - 1]?.role === 'user' ? [i] : [],
            )
          : undefined;
      const res = await capo(client, d, settings, {
        strategies: strategies as CapoStrategy[],
        turns,
        threshold,
        source: { file, record: it.r.line },
        signal: stop.signal,
      });
      if (res.cancelled) {
        cancelled = true;
        return;
      }
      for (const s of res.skipped)
        problems.push(`${file}:${it.r.line}: turn ${s.turn} ${s.strategy}: ${s.reason}`);
      const lines = res.pairs.map((pair) => pairLines(pair, format));
      pairs += lines.length;
      await writer.put(
        it.i,
        lines.map((l) => l.line),
        lines.flatMap((l) => (l.sidecar ? [l.sidecar] : [])),
      );
      await saveProgress();
      finished++;
      bar.update(`capo: ${skip + finished}/${records.length} record(s), ${pairs} pair(s)`);
    });
  } finally {
    stop.dispose();
    bar.done();
    await fh.close();
    await side?.close();
  }
  cancelled = cancelled || stop.signal.aborted;
  for (const m of problems) io.stderr.write(`parrot capo: ${m}\n`);
  io.stderr.write(
    `parrot capo: ${pairs} pair(s) from ${skip + writer.written}/${records.length} record(s) in ${out}${side ? ` (provenance: ${sidecarPath(out)})` : ''}${cancelled ? ' — cancelled; run again with --resume' : ''}\n`,
  );
  return problems.length || cancelled ? 1 : 0;
}

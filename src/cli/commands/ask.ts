import { readFileSync } from 'node:fs';
import { readFileRecords, where } from '../../core/store/records';
import { parseRecord, type RecordLayout } from '../../core/formats';
import { entryMappingFor } from '../../core/formats/entryMapping';
import {
  DEFAULT_LLM_CONFIG,
  LlmClient,
  isLocalEndpoint,
  keyScopeFor,
  resolveConfig,
  type LlmConfig,
} from '../../core/llm';
import type { Dialogue, Sample } from '../../core/model';
import {
  ask,
  askTemplate,
  parseWordList,
  previewRequest,
  type AskMode,
  type AskSettings,
  type ExtendSettings,
} from '../../core/parrot';
import { parseCommandArgs, usageError } from '../args';
import type { CliIO } from '../io';

/** Options shared by every command that talks to an endpoint (they mirror the extension settings). */
export const ENDPOINT_OPTIONS = {
  'base-url': { type: 'string' },
  'asker-model': { type: 'string' },
  'answer-model': { type: 'string' },
  mode: { type: 'string' },
  temperature: { type: 'string' },
  'max-tokens': { type: 'string' },
  candidates: { type: 'string' },
  concurrency: { type: 'string' },
  timeout: { type: 'string' },
  retries: { type: 'string' },
  'api-key-env': { type: 'string' },
  template: { type: 'string' },
} as const;

export const ENDPOINT_HELP = `Endpoint options (any OpenAI-compatible server: OpenAI, vLLM, Ollama, llama.cpp, LM Studio):
  --base-url URL         endpoint incl. /v1 (default ${DEFAULT_LLM_CONFIG.baseUrl}, or PARROT_BASE_URL)
  --asker-model NAME     model that writes user questions (default ${DEFAULT_LLM_CONFIG.models.asker})
  --answer-model NAME    model that writes assistant answers (default ${DEFAULT_LLM_CONFIG.models.answerer})
  --mode MODE            parrot-ask (asker served with roles reversed, default) | instruct (any chat model)
  --temperature T        sampling temperature (default ${DEFAULT_LLM_CONFIG.temperature})
  --max-tokens N         completion limit per request (default ${DEFAULT_LLM_CONFIG.maxTokens})
  --candidates N         follow-up candidates per ask, sent as n (default ${DEFAULT_LLM_CONFIG.candidates})
  --concurrency N        requests in flight at once (default ${DEFAULT_LLM_CONFIG.concurrency})
  --timeout SECONDS      per-request timeout (default ${DEFAULT_LLM_CONFIG.timeoutMs / 1000})
  --retries N            retries on 429/5xx/timeouts, honouring retry-after (default ${DEFAULT_LLM_CONFIG.maxRetries})
  --api-key-env NAME     environment variable holding the key. Without it, OPENAI_API_KEY is
                         sent only to https://api.openai.com; local servers need no key.
  --template FILE        your own asker template (see prompts/ in the package)
`;

/** `--no-dataset-info`, for the commands that read a dataset's records (see readRecords). */
export const DATASET_INFO_OPTIONS = { 'no-dataset-info': { type: 'boolean' } } as const;
export const DATASET_INFO_HELP = `  --no-dataset-info      read records as they are, not through the dataset_info.json entry
`;

export type EndpointValues = { [K in keyof typeof ENDPOINT_OPTIONS]?: string };

function num(name: string, v: string | undefined, int: boolean, min: number): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n) || (int && !Number.isInteger(n)) || n < min)
    throw new Error(`--${name} must be ${int ? 'a whole number' : 'a number'} >= ${min} (got '${v}')`);
  return n;
}

/** Builds the endpoint config from options; throws a usage message on bad values. */
export function configFrom(
  v: EndpointValues,
  env: NodeJS.ProcessEnv = process.env,
): { config: LlmConfig; keyNote?: string } {
  const baseUrl = v['base-url'] ?? env.PARROT_BASE_URL ?? DEFAULT_LLM_CONFIG.baseUrl;
  const keyEnv = v['api-key-env'];
  let apiKey: string | undefined;
  let keyNote: string | undefined;
  if (keyEnv !== undefined) {
    apiKey = env[keyEnv];
    if (!apiKey) keyNote = `environment variable ${keyEnv} is not set — sending no key`;
  } else if (keyScopeFor(baseUrl) === 'https://api.openai.com') {
    apiKey = env.OPENAI_API_KEY;
    if (!apiKey) keyNote = 'OPENAI_API_KEY is not set';
  } else if (!isLocalEndpoint(baseUrl) && env.OPENAI_API_KEY) {
    keyNote = `not sending OPENAI_API_KEY to ${new URL(baseUrl).host}; pass --api-key-env OPENAI_API_KEY if it is meant for this host`;
  }
  const mode = v.mode ?? 'parrot-ask';
  if (mode !== 'parrot-ask' && mode !== 'instruct')
    throw new Error(`--mode must be parrot-ask or instruct (got '${mode}')`);
  const timeout = num('timeout', v.timeout, false, 0.001);
  const config = resolveConfig({
    baseUrl,
    apiKey,
    models: {
      asker:
        v['asker-model'] ??
        (mode === 'instruct'
          ? (v['answer-model'] ?? DEFAULT_LLM_CONFIG.models.answerer)
          : DEFAULT_LLM_CONFIG.models.asker),
      answerer: v['answer-model'] ?? DEFAULT_LLM_CONFIG.models.answerer,
    },
    temperature: num('temperature', v.temperature, false, 0) ?? DEFAULT_LLM_CONFIG.temperature,
    maxTokens: num('max-tokens', v['max-tokens'], true, 1) ?? DEFAULT_LLM_CONFIG.maxTokens,
    candidates: num('candidates', v.candidates, true, 1) ?? DEFAULT_LLM_CONFIG.candidates,
    concurrency: num('concurrency', v.concurrency, true, 1) ?? DEFAULT_LLM_CONFIG.concurrency,
    timeoutMs: timeout !== undefined ? timeout * 1000 : DEFAULT_LLM_CONFIG.timeoutMs,
    maxRetries: num('retries', v.retries, true, 0) ?? DEFAULT_LLM_CONFIG.maxRetries,
  });
  return { config, keyNote };
}

export function clientFor(config: LlmConfig, io: CliIO): LlmClient {
  return new LlmClient(config, {
    keyHint: 'set OPENAI_API_KEY or --api-key-env',
    logger: {
      debug: () => undefined,
      info: () => undefined,
      warn: (m) => io.isTTY && io.stderr.write(`\r\x1b[K${m}\n`),
      error: (m) => io.stderr.write(`${m}\n`),
    },
  });
}

export function extendSettingsFrom(v: EndpointValues, config: LlmConfig): ExtendSettings {
  const mode = (v.mode ?? 'parrot-ask') as AskMode;
  const ask: AskSettings = {
    mode,
    model: config.models.asker,
    temperature: config.temperature,
    maxTokens: Math.min(config.maxTokens, 256),
    n: config.candidates,
    template: askTemplate(mode, v.template),
  };
  return {
    ask,
    answer: { model: config.models.answerer, temperature: config.temperature, maxTokens: config.maxTokens },
  };
}

export interface InputRecord {
  /** 1-based line number. */
  line: number;
  sample: Sample;
  layout: RecordLayout;
  value: unknown;
}

/**
 * Streams the records of a JSONL file; blank lines are skipped; a bad line throws with file:line:column.
 * With `datasetInfo`, the records are read through the dataset_info.json entry of the file (their
 * layouts write them back under the file's own names).
 */
export async function* readRecords(file: string, datasetInfo = true): AsyncGenerator<InputRecord> {
  const mapping = datasetInfo ? await entryMappingFor(file) : undefined;
  for await (const rec of readFileRecords(file)) {
    if (rec.text.trim() === '') continue;
    const r = parseRecord(rec.text, undefined, { mapping });
    if (!r.ok) throw new Error(`${where(file, rec, r.error.column - 1)}: ${r.error.message}`);
    yield { line: rec.line, sample: r.sample, layout: r.layout, value: r.value };
  }
}

export function asDialogue(r: InputRecord, file: string, what: string): Dialogue {
  if (r.sample.kind !== 'dialogue')
    throw new Error(`${file}:${r.line}:1: ${what} needs a dialogue, this record is a preference pair`);
  return r.sample;
}

const HELP = `Usage: parrot ask [options] FILE

Asks the asker model for follow-up user questions to one dialogue of FILE and prints the
candidates that pass the filter (one per line); rejected ones are listed on stderr with the reason.

Options:
  --record N             1-based line number of the dialogue (default: the first record)
  --preview              print the exact request body and send nothing
  --json                 print {kept, rejected} as JSON
  --words FILE           reject candidates with a word or phrase of FILE (one a line; as parrot filter)
${DATASET_INFO_HELP}  -h, --help             show this help

${ENDPOINT_HELP}
Exit status: 0 at least one candidate kept, 1 none kept or the endpoint failed, 2 usage or input error.
`;

export async function askCommand(args: string[], io: CliIO): Promise<number> {
  const p = parseCommandArgs(
    'ask',
    args,
    {
      ...ENDPOINT_OPTIONS,
      ...DATASET_INFO_OPTIONS,
      record: { type: 'string' },
      preview: { type: 'boolean' },
      json: { type: 'boolean' },
      words: { type: 'string' },
    } as const,
    HELP,
    io,
  );
  if (typeof p === 'number') return p;
  if (p.positionals.length !== 1) return usageError('ask', 'exactly one FILE is needed', io);
  const file = p.positionals[0];
  let config: LlmConfig;
  let settings: ExtendSettings;
  try {
    const c = configFrom(p.values);
    config = c.config;
    if (c.keyNote && !p.values.preview) io.stderr.write(`parrot ask: note: ${c.keyNote}\n`);
    settings = extendSettingsFrom(p.values, config);
  } catch (e) {
    return usageError('ask', e instanceof Error ? e.message : String(e), io);
  }
  const wanted = p.values.record !== undefined ? Number(p.values.record) : undefined;
  if (wanted !== undefined && (!Number.isInteger(wanted) || wanted < 1))
    return usageError('ask', '--record must be a line number >= 1', io);
  let dialogue: Dialogue | undefined;
  try {
    for await (const r of readRecords(file, p.values['no-dataset-info'] !== true)) {
      if (wanted === undefined || r.line === wanted) {
        dialogue = asDialogue(r, file, 'ask');
        break;
      }
      if (r.line > wanted) break;
    }
  } catch (e) {
    io.stderr.write(`parrot ask: ${e instanceof Error ? e.message : String(e)}\n`);
    return 2;
  }
  if (!dialogue) {
    io.stderr.write(`parrot ask: ${file}: no record${wanted ? ` on line ${wanted}` : ''}\n`);
    return 2;
  }
  try {
    if (p.values.preview) {
      io.stdout.write(
        JSON.stringify(previewRequest({ task: 'ask', dialogue, settings: settings.ask }), null, 2) + '\n',
      );
      return 0;
    }
    const ac = new AbortController();
    const onSig = (): void => ac.abort();
    process.once('SIGINT', onSig);
    try {
      const words =
        p.values.words !== undefined ? parseWordList(readFileSync(p.values.words, 'utf8')) : undefined;
      const r = await ask(clientFor(config, io), dialogue, settings.ask, {
        signal: ac.signal,
        filter: { words },
      });
      if (p.values.json) io.stdout.write(JSON.stringify({ kept: r.kept, rejected: r.rejected }) + '\n');
      else {
        for (const k of r.kept) io.stdout.write(`${k.replace(/\n/g, ' ')}\n`);
        for (const x of r.rejected)
          io.stderr.write(`rejected (${x.reason}): ${x.text.replace(/\s+/g, ' ').slice(0, 100)}\n`);
      }
      return r.kept.length ? 0 : 1;
    } finally {
      process.removeListener('SIGINT', onSig);
    }
  } catch (e) {
    io.stderr.write(`parrot ask: ${e instanceof Error ? e.message : String(e)}\n`);
    return e instanceof Error && e.name === 'LlmError' ? 1 : 2;
  }
}

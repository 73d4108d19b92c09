import { createReadStream } from 'node:fs';
import * as path from 'node:path';
import { toFile } from 'openai';
import type { Batch } from 'openai/resources/batches';
import type { LlmClient } from '../llm/client';
import { mapError } from '../llm/errors';
import { backoffMs, sleep } from '../llm/retry';
import {
  importResults,
  isFinished,
  jobPaths,
  parseResults,
  saveState,
  writeRound,
  type JobState,
} from './job';

const TERMINAL = new Set(['completed', 'failed', 'expired', 'cancelled']);

function wrap(client: LlmClient, e: unknown): Error {
  return mapError(e, { host: client.host, keyHint: client.keyHint, timeoutMs: client.config.timeoutMs });
}

/** Uploads the pending round's request file and creates the batch (skipped when already done). */
export async function submitRound(
  client: LlmClient,
  s: JobState,
  stateFile: string,
  signal?: AbortSignal,
): Promise<string> {
  const p = s.pending;
  if (!p) throw new Error('no round is pending — export one first');
  if (p.batchId) return p.batchId;
  try {
    if (!p.inputFileId) {
      // Read from disk by the SDK (which holds one upload in memory while it sends it).
      const f = await client.sdk.files.create(
        {
          file: await toFile(createReadStream(p.requestFile), path.basename(p.requestFile)),
          purpose: 'batch',
        },
        { signal },
      );
      p.inputFileId = f.id;
      await saveState(stateFile, s);
    }
    const b = await client.sdk.batches.create(
      {
        input_file_id: p.inputFileId,
        endpoint: '/v1/chat/completions',
        completion_window: '24h',
        metadata: { job: s.job, step: String(p.step) },
      },
      { signal },
    );
    p.batchId = b.id;
    p.status = b.status;
    await saveState(stateFile, s);
    return b.id;
  } catch (e) {
    throw wrap(client, e);
  }
}

export interface PollOptions {
  signal?: AbortSignal;
  intervalMs?: number;
  maxIntervalMs?: number;
  onStatus?: (b: Batch) => void;
}

/** Polls a batch until it is completed, failed, expired or cancelled; interval grows to maxIntervalMs. */
export async function pollBatch(client: LlmClient, batchId: string, o: PollOptions = {}): Promise<Batch> {
  const base = o.intervalMs ?? 5000;
  const max = o.maxIntervalMs ?? 60_000;
  for (let i = 0; ; i++) {
    let b: Batch;
    try {
      b = await client.sdk.batches.retrieve(batchId, { signal: o.signal });
    } catch (e) {
      throw wrap(client, e);
    }
    o.onStatus?.(b);
    if (TERMINAL.has(b.status)) return b;
    try {
      await sleep(backoffMs(i, { baseMs: base, maxMs: max, random: () => 1 }), o.signal);
    } catch (e) {
      throw wrap(client, e);
    }
  }
}

/** Downloads a finished batch's output and error files. */
export async function downloadResults(
  client: LlmClient,
  b: Batch,
  signal?: AbortSignal,
): Promise<{ output: string; errors: string }> {
  if (b.status !== 'completed') {
    const why = b.errors?.data?.map((e) => e.message).join('; ');
    throw new Error(`batch ${b.id} ended as '${b.status}'${why ? `: ${why}` : ''}`);
  }
  try {
    const output = b.output_file_id
      ? await (await client.sdk.files.content(b.output_file_id, { signal })).text()
      : '';
    const errors = b.error_file_id
      ? await (await client.sdk.files.content(b.error_file_id, { signal })).text()
      : '';
    return { output, errors };
  } catch (e) {
    throw wrap(client, e);
  }
}

/** Imports result texts (API download or a local `vllm run-batch` output) into the job and saves it. */
export async function importRound(
  s: JobState,
  stateFile: string,
  output: string,
  errors = '',
): Promise<{ applied: number; failed: number; unknown: number; problems: string[] }> {
  const parsed = parseResults(output, undefined, 'output');
  parseResults(errors, parsed, 'errors');
  const r = await importResults(s, parsed);
  await saveState(stateFile, s);
  return r;
}

/** Writes the next round's request file and saves the state; returns the number of requests. */
export async function exportRound(
  s: JobState,
  jobBase: string,
): Promise<{ requests: number; file?: string }> {
  const paths = jobPaths(jobBase);
  const file = paths.requests(s.step + 1);
  const requests = await writeRound(s, file);
  await saveState(paths.state, s);
  return { requests, file: requests ? file : undefined };
}

export interface RunEvents extends PollOptions {
  onRound?: (info: { step: number; requests: number }) => void;
  onImported?: (info: { step: number; applied: number; failed: number }) => void;
}

/**
 * Runs a job to the end through the Batch API: export -> submit -> poll -> download -> import,
 * round after round. Everything is saved to the state file as it happens, so an interrupted run
 * continues where it stopped (a submitted batch is polled again, not re-submitted; imported
 * rounds are never requested again).
 */
export async function runJob(
  client: LlmClient,
  jobBase: string,
  s: JobState,
  ev: RunEvents = {},
): Promise<JobState> {
  const { state } = jobPaths(jobBase);
  while (!isFinished(s)) {
    if (!s.pending) {
      const r = await exportRound(s, jobBase);
      if (r.requests === 0) break;
      ev.onRound?.({ step: s.step + 1, requests: r.requests });
    }
    const p = s.pending;
    if (!p) break;
    const id = await submitRound(client, s, state, ev.signal);
    const b = await pollBatch(client, id, ev);
    p.status = b.status;
    const { output, errors } = await downloadResults(client, b, ev.signal);
    const r = await importRound(s, state, output, errors);
    ev.onImported?.({ step: s.step, ...r });
  }
  await saveState(state, s);
  return s;
}

import type { ChatRequest } from '../llm/client';

/** One line of an OpenAI Batch API input file (also accepted by `vllm run-batch`). */
export interface BatchRequestLine {
  custom_id: string;
  method: 'POST';
  url: '/v1/chat/completions';
  body: ChatRequest;
}

export interface CustomId {
  job: string;
  /** 1-based record (line) number in the input file. */
  record: number;
  /** Round the request belongs to. */
  step: number;
  /** `ask`, `answer`, or `<strategy>@t<turn>` for CaPO. */
  task: string;
}

/** `<job>/r<record>/s<step>/<task>` — job names may not contain `/`. */
export function customId(c: CustomId): string {
  if (c.job.includes('/')) throw new Error(`job name '${c.job}' may not contain '/'`);
  return `${c.job}/r${c.record}/s${c.step}/${c.task}`;
}

export function parseCustomId(id: string): CustomId | undefined {
  const m = /^([^/]+)\/r(\d+)\/s(\d+)\/(.+)$/.exec(id);
  if (!m) return undefined;
  return { job: m[1] ?? '', record: Number(m[2]), step: Number(m[3]), task: m[4] ?? '' };
}

export function requestLine(id: string, body: ChatRequest): BatchRequestLine {
  return { custom_id: id, method: 'POST', url: '/v1/chat/completions', body };
}

export function toJsonl(lines: readonly BatchRequestLine[]): string {
  return lines.map((l) => JSON.stringify(l)).join('\n') + (lines.length ? '\n' : '');
}

/** The outcome for one custom_id: the choice texts, or an error message. */
export type BatchOutcome = { ok: true; texts: string[] } | { ok: false; error: string };

export interface ParsedResults {
  outcomes: Map<string, BatchOutcome>;
  /** Lines that could not be read, with their 1-based line number. */
  problems: string[];
  /** Where each custom_id was read (`output:12`), to name both places of a duplicate. */
  seen?: Map<string, string>;
}

/**
 * Reads a batch output (and/or error) file: `{custom_id, response: {status_code, body}, error}` per
 * line. Non-200 responses and `error` objects become per-id errors; unreadable lines are reported.
 */
export function parseResults(
  text: string,
  into: ParsedResults = { outcomes: new Map(), problems: [] },
  fileLabel = 'results',
): ParsedResults {
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i]?.trim();
    if (!raw) continue;
    let o: {
      custom_id?: unknown;
      response?: {
        status_code?: number;
        body?: { choices?: { message?: { content?: unknown } }[]; error?: { message?: string } };
      } | null;
      error?: { code?: string; message?: string } | null;
    };
    try {
      o = JSON.parse(raw) as typeof o;
    } catch {
      into.problems.push(`${fileLabel}:${i + 1}: not valid JSON`);
      continue;
    }
    if (typeof o.custom_id !== 'string') {
      into.problems.push(`${fileLabel}:${i + 1}: no custom_id`);
      continue;
    }
    const id = o.custom_id;
    into.seen ??= new Map();
    const first = into.seen.get(id);
    if (first !== undefined) {
      // Two results for one request: neither is applied, the request counts as failed.
      into.problems.push(`${fileLabel}:${i + 1}: custom_id ${id} appears again (first at ${first})`);
      into.outcomes.set(id, {
        ok: false,
        error: `two results in the batch output (${first}, ${fileLabel}:${i + 1})`,
      });
      continue;
    }
    into.seen.set(id, `${fileLabel}:${i + 1}`);
    if (o.error) {
      into.outcomes.set(id, {
        ok: false,
        error: `${o.error.code ?? 'error'}: ${o.error.message ?? 'no message'}`,
      });
      continue;
    }
    const status = o.response?.status_code;
    const body = o.response?.body;
    if (status !== 200 || !body) {
      into.outcomes.set(id, {
        ok: false,
        error: `HTTP ${status ?? '?'}: ${body?.error?.message ?? 'no response body'}`,
      });
      continue;
    }
    if (!Array.isArray(body.choices)) {
      into.outcomes.set(id, { ok: false, error: "response has no 'choices'" });
      continue;
    }
    into.outcomes.set(id, {
      ok: true,
      texts: body.choices.map((c) => (typeof c?.message?.content === 'string' ? c.message.content : '')),
    });
  }
  return into;
}

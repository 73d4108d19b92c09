import OpenAI, { APIError } from 'openai';
import type { ChatCompletion, ChatCompletionChunk } from 'openai/resources/chat/completions';
import { hostOf, type LlmConfig } from './config';
import { CrossOriginRedirect, LlmError, mapError } from './errors';
import { redact, registerSecret, silentLogger, type Logger } from './logger';
import { backoffMs, retryAfterMs, sleep } from './retry';
import { Semaphore } from './semaphore';

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

/** The body of a `POST /chat/completions` request, exactly as sent. */
export interface ChatRequest {
  model: string;
  messages: ChatMessage[];
  temperature?: number;
  max_tokens?: number;
  n?: number;
}

export interface Usage {
  promptTokens: number;
  completionTokens: number;
}

export interface ChatResult {
  /** One text per choice, in choice order. */
  texts: string[];
  finishReasons: (string | null)[];
  usage: Usage;
  /** Requests made (more than one when the server ignored `n` and the rest was filled). */
  requests: number;
}

export interface RetryInfo {
  attempt: number;
  delayMs: number;
  error: LlmError;
}

export interface CallOptions {
  signal?: AbortSignal;
  onRetry?: (info: RetryInfo) => void;
}

export interface StreamOptions extends CallOptions {
  onDelta?: (delta: string) => void;
}

export interface ClientOptions {
  logger?: Logger;
  /** Hint appended to "the key was rejected" messages. */
  keyHint?: string;
  /** Upper bound on a server-requested retry delay; longer requests fail instead. */
  maxRetryAfterMs?: number;
  backoffBaseMs?: number;
  backoffMaxMs?: number;
  random?: () => number;
}

/**
 * One client for any OpenAI-compatible endpoint. Retries are done here (the SDK's own retries
 * are off) so that they can honour `retry-after-ms` / `retry-after` exactly and be tested;
 * every request goes through one concurrency limiter.
 */
export class LlmClient {
  readonly sdk: OpenAI;
  readonly limiter: Semaphore;
  readonly host: string;
  private readonly logger: Logger;
  /** What "the key was rejected" messages tell the user to do. */
  readonly keyHint: string;
  private readonly opts: Required<Omit<ClientOptions, 'logger' | 'keyHint' | 'random'>> & {
    random?: () => number;
  };

  constructor(
    readonly config: LlmConfig,
    options: ClientOptions = {},
  ) {
    this.host = hostOf(config.baseUrl);
    this.logger = options.logger ?? silentLogger;
    this.keyHint = options.keyHint ?? 'run Parrot: Set API Key';
    this.opts = {
      maxRetryAfterMs: options.maxRetryAfterMs ?? 120_000,
      backoffBaseMs: options.backoffBaseMs ?? 500,
      backoffMaxMs: options.backoffMaxMs ?? 20_000,
      random: options.random,
    };
    this.limiter = new Semaphore(config.concurrency);
    registerSecret(config.apiKey);
    const hasKey = typeof config.apiKey === 'string' && config.apiKey.length > 0;
    this.sdk = new OpenAI({
      baseURL: config.baseUrl,
      // Always explicit: the SDK would otherwise read OPENAI_API_KEY and send it to any host.
      apiKey: hasKey ? config.apiKey : 'none',
      organization: null,
      project: null,
      maxRetries: 0,
      timeout: config.timeoutMs,
      defaultHeaders: hasKey ? {} : { Authorization: null },
      fetch: sameOriginFetch,
    });
  }

  private ctx(model?: string, partial?: string): Parameters<typeof mapError>[1] {
    const sentKey = typeof this.config.apiKey === 'string' && this.config.apiKey.length > 0;
    return {
      host: this.host,
      model,
      keyHint: this.keyHint,
      timeoutMs: this.config.timeoutMs,
      partial,
      sentKey,
    };
  }

  /** The error with its message redacted (a server may echo the key back). */
  private scrub(e: unknown): unknown {
    if (e instanceof Error) e.message = redact(e.message, [this.config.apiKey]);
    return e;
  }

  private log(level: keyof Logger, msg: string): void {
    this.logger[level](redact(msg, [this.config.apiKey]));
  }

  /** Runs `fn` under the limiter with retries on 429 / 5xx / timeouts. */
  /** The wait before retry `attempt + 1`: what the server asked for, else the exponential backoff. */
  private retryDelayMs(attempt: number, asked: number | undefined): number {
    return (
      asked ??
      backoffMs(attempt, {
        baseMs: this.opts.backoffBaseMs,
        maxMs: this.opts.backoffMaxMs,
        random: this.opts.random,
      })
    );
  }

  private async withRetry<T>(
    model: string | undefined,
    fn: (signal?: AbortSignal) => Promise<T>,
    opts: CallOptions,
  ): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      let err: LlmError;
      try {
        return await this.limiter.run(() => fn(opts.signal), opts.signal);
      } catch (e) {
        err = this.scrub(mapError(e, this.ctx(model))) as LlmError;
      }
      if (err.kind === 'cancelled' || opts.signal?.aborted)
        throw err.kind === 'cancelled' ? err : mapError(opts.signal?.reason, this.ctx(model));
      if (err.kind === 'model-not-found' && model) throw await this.withAvailableModels(err, model);
      if (!err.retryable || err.kind === 'stream-cut' || attempt >= this.config.maxRetries) {
        if (err.retryable && this.config.maxRetries > 0) {
          throw new LlmError(
            err.kind,
            `${err.message} (gave up after ${attempt + 1} attempts)`,
            err.host,
            err.details,
          );
        }
        throw err;
      }
      const asked = askedWaitMs(err);
      if (asked !== undefined && asked > this.opts.maxRetryAfterMs) {
        throw new LlmError(
          err.kind,
          `${err.message}; the server asked to wait ${Math.ceil(asked / 1000)} s, longer than allowed`,
          err.host,
          {
            ...err.details,
            retryAfterMs: asked,
          },
        );
      }
      const delayMs = this.retryDelayMs(attempt, asked);
      this.log('warn', `${err.message}; retry ${attempt + 1}/${this.config.maxRetries} in ${delayMs} ms`);
      opts.onRetry?.({ attempt: attempt + 1, delayMs, error: err });
      try {
        await sleep(delayMs, opts.signal);
      } catch (e) {
        throw mapError(e, this.ctx(model));
      }
    }
  }

  private async withAvailableModels(err: LlmError, model: string): Promise<LlmError> {
    try {
      const available = await this.listModels(AbortSignal.timeout(Math.min(5000, this.config.timeoutMs)));
      const list = available.length
        ? ` — available: ${available.slice(0, 20).join(', ')}${available.length > 20 ? ', …' : ''}`
        : '';
      return new LlmError('model-not-found', `model '${model}' not found on ${this.host}${list}`, this.host, {
        ...err.details,
        available,
      });
    } catch {
      return err;
    }
  }

  /** Model ids the endpoint lists (`GET /models`). */
  async listModels(signal?: AbortSignal): Promise<string[]> {
    try {
      const page = await this.sdk.models.list({ signal });
      return page.data.map((m) => m.id);
    } catch (e) {
      throw this.scrub(mapError(e, this.ctx()));
    }
  }

  /**
   * The endpoint's moderation verdict per input (`POST /moderations`): the categories each one is
   * flagged for (empty: not flagged). Undefined when the endpoint has no moderation route (404).
   */
  async moderate(inputs: string[], opts: CallOptions = {}): Promise<string[][] | undefined> {
    try {
      const r = await this.withRetry(
        undefined,
        (signal) => this.sdk.moderations.create({ input: inputs }, { signal }),
        opts,
      );
      return r.results.map((x) =>
        x.flagged ? flaggedCategories(x.categories as unknown as Record<string, unknown>) : [],
      );
    } catch (e) {
      if (e instanceof LlmError && e.details.status === 404) return undefined;
      throw e;
    }
  }

  /**
   * Non-streaming chat completion. With `n > 1`, servers that ignore `n` (returning fewer
   * choices) are topped up with further single requests so that `texts.length === n`.
   */
  async chat(req: ChatRequest, opts: CallOptions = {}): Promise<ChatResult> {
    try {
      return await this.chatN(req, opts);
    } catch (e) {
      throw this.scrub(e);
    }
  }

  private async chatN(req: ChatRequest, opts: CallOptions): Promise<ChatResult> {
    const n = req.n ?? 1;
    const first = await this.chatOnce(req, opts);
    const result: ChatResult = { ...first, requests: 1 };
    while (result.texts.length < n) {
      const more = await this.chatOnce({ ...req, n: 1 }, opts);
      if (more.texts.length === 0) break;
      result.texts.push(...more.texts);
      result.finishReasons.push(...more.finishReasons);
      result.usage.promptTokens += more.usage.promptTokens;
      result.usage.completionTokens += more.usage.completionTokens;
      result.requests++;
    }
    return result;
  }

  private async chatOnce(req: ChatRequest, opts: CallOptions): Promise<Omit<ChatResult, 'requests'>> {
    this.log('debug', `chat ${req.model} n=${req.n ?? 1} messages=${req.messages.length} -> ${this.host}`);
    const completion = await this.withRetry(
      req.model,
      async (signal) => {
        const c: ChatCompletion = await this.sdk.chat.completions.create(
          { ...req, stream: false },
          { signal },
        );
        if (!c || typeof c !== 'object' || !Array.isArray(c.choices)) {
          throw new LlmError(
            'malformed',
            `${this.host} sent a chat completion without 'choices' — is it an OpenAI-compatible endpoint?`,
            this.host,
          );
        }
        return c;
      },
      opts,
    );
    const texts: string[] = [];
    const finishReasons: (string | null)[] = [];
    for (const ch of completion.choices) {
      const content = ch?.message?.content;
      if (typeof content !== 'string' && content !== null && content !== undefined) {
        throw new LlmError('malformed', `${this.host} sent a choice whose content is not text`, this.host);
      }
      texts.push(content ?? '');
      finishReasons.push(ch.finish_reason ?? null);
    }
    return {
      texts,
      finishReasons,
      usage: {
        promptTokens: completion.usage?.prompt_tokens ?? 0,
        completionTokens: completion.usage?.completion_tokens ?? 0,
      },
    };
  }

  /**
   * Streams one completion as text deltas. Retries only before the first delta; a stream cut
   * after text arrived throws `LlmError('stream-cut')` carrying the partial text.
   */
  async *stream(req: ChatRequest, opts: CallOptions = {}): AsyncGenerator<string, void, undefined> {
    try {
      yield* this.streamRaw(req, opts);
    } catch (e) {
      throw this.scrub(e);
    }
  }

  private async *streamRaw(req: ChatRequest, opts: CallOptions): AsyncGenerator<string, void, undefined> {
    this.log('debug', `stream ${req.model} messages=${req.messages.length} -> ${this.host}`);
    const body = { ...req, n: 1, stream: true as const };
    let partial = '';
    for (let attempt = 0; ; attempt++) {
      await this.acquire(req.model, opts);
      let err: LlmError | undefined;
      try {
        const s = await this.sdk.chat.completions.create(body, { signal: opts.signal });
        for await (const chunk of s as AsyncIterable<ChatCompletionChunk>) {
          if (!chunk || !Array.isArray(chunk.choices)) {
            throw new LlmError('malformed', `${this.host} sent a stream chunk without 'choices'`, this.host, {
              partial,
            });
          }
          const d = chunk.choices[0]?.delta?.content;
          if (typeof d === 'string' && d.length > 0) {
            partial += d;
            yield d;
          }
        }
        return;
      } catch (e) {
        err = this.scrub(e instanceof LlmError ? e : mapError(e, this.ctx(req.model, partial))) as LlmError;
      } finally {
        this.limiter.release();
      }
      if (opts.signal?.aborted || err.kind === 'cancelled') {
        throw new LlmError('cancelled', 'cancelled', this.host, { partial });
      }
      if (partial.length > 0) {
        if (err.kind !== 'stream-cut' && err.kind !== 'malformed') {
          throw new LlmError(
            'stream-cut',
            `the stream from ${this.host} stopped mid-way after ${partial.length} characters (${err.message}); the partial text was kept`,
            this.host,
            { ...err.details, partial },
          );
        }
        throw new LlmError(err.kind, err.message, err.host, { ...err.details, partial });
      }
      if (err.kind === 'model-not-found') throw await this.withAvailableModels(err, req.model);
      if (!err.retryable || attempt >= this.config.maxRetries) throw err;
      const asked = askedWaitMs(err);
      if (asked !== undefined && asked > this.opts.maxRetryAfterMs) throw err;
      const delayMs = this.retryDelayMs(attempt, asked);
      opts.onRetry?.({ attempt: attempt + 1, delayMs, error: err });
      try {
        await sleep(delayMs, opts.signal);
      } catch {
        throw new LlmError('cancelled', 'cancelled', this.host, { partial });
      }
    }
  }

  private async acquire(model: string, opts: CallOptions): Promise<void> {
    try {
      await this.limiter.acquire(opts.signal);
    } catch (e) {
      throw mapError(e, this.ctx(model));
    }
  }

  /** Streams a completion and returns the whole text; `onDelta` sees each piece as it arrives. */
  async streamText(req: ChatRequest, opts: StreamOptions = {}): Promise<string> {
    let text = '';
    for await (const d of this.stream(req, opts)) {
      text += d;
      opts.onDelta?.(d);
    }
    return text;
  }
}

/** The wait the server asked for in its Retry-After header, when the error carries its response. */
function askedWaitMs(err: LlmError): number | undefined {
  const headers = responseHeaders(err.details.cause);
  return headers ? retryAfterMs((n) => headers.get(n)) : undefined;
}

function responseHeaders(cause: unknown): Headers | undefined {
  return cause instanceof APIError
    ? (cause as APIError<number | undefined, Headers | undefined>).headers
    : undefined;
}

/**
 * `fetch` that follows redirects only within the origin of the request. A redirect to another
 * origin is refused: a 307/308 would re-send the body (the dataset text) there.
 */
export async function sameOriginFetch(input: string | URL | Request, init?: RequestInit): Promise<Response> {
  let url = new URL(input instanceof Request ? input.url : input.toString());
  for (let hop = 0; ; hop++) {
    const res = await fetch(url, { ...init, redirect: 'manual' });
    if (res.status < 300 || res.status >= 400 || res.status === 304) return res;
    const location = res.headers.get('location');
    if (!location) return res;
    const next = new URL(location, url);
    await res.body?.cancel().catch(() => undefined);
    if (next.origin !== url.origin)
      throw new CrossOriginRedirect(url.toString(), next.toString(), res.status);
    if (hop >= 5) throw new Error(`too many redirects from ${url.host}`);
    const method = (init?.method ?? 'GET').toUpperCase();
    if ((res.status === 303 || ((res.status === 301 || res.status === 302) && method === 'POST')) && init) {
      // As fetch does: the request becomes a GET without a body.
      init = { ...init, method: 'GET', body: undefined };
    }
    url = next;
  }
}

function flaggedCategories(categories: Record<string, unknown>): string[] {
  const names = Object.entries(categories)
    .filter(([, v]) => v === true)
    .map(([k]) => k);
  return names.length ? names : ['flagged'];
}

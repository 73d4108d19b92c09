import { APIConnectionError, APIConnectionTimeoutError, APIError, APIUserAbortError } from 'openai';

export type LlmErrorKind =
  | 'auth'
  | 'unreachable'
  | 'model-not-found'
  | 'not-found'
  | 'timeout'
  | 'rate-limit'
  | 'server'
  | 'bad-request'
  | 'malformed'
  | 'stream-cut'
  | 'reset'
  | 'redirect'
  | 'cancelled';

/** An endpoint failure with a message a person can act on. */
export class LlmError extends Error {
  override readonly name = 'LlmError';
  constructor(
    readonly kind: LlmErrorKind,
    message: string,
    readonly host: string,
    readonly details: {
      status?: number;
      /** Text received before a stream was cut. */
      partial?: string;
      /** Models the endpoint lists (for `model-not-found`). */
      available?: string[];
      retryAfterMs?: number;
      cause?: unknown;
    } = {},
  ) {
    super(message);
  }

  get retryable(): boolean {
    return (
      this.kind === 'rate-limit' ||
      this.kind === 'server' ||
      this.kind === 'timeout' ||
      this.kind === 'reset' ||
      this.kind === 'stream-cut'
    );
  }
}

export function isCancel(err: unknown): boolean {
  return (
    (err instanceof LlmError && err.kind === 'cancelled') ||
    err instanceof APIUserAbortError ||
    (err instanceof Error && err.name === 'AbortError')
  );
}

function causeCode(err: unknown): string | undefined {
  let e: unknown = err;
  for (let i = 0; i < 5 && e; i++) {
    if (typeof e === 'object' && e !== null) {
      const code = (e as { code?: unknown }).code;
      if (typeof code === 'string') return code;
      e = (e as { cause?: unknown }).cause;
    } else break;
  }
  return undefined;
}

export interface MapContext {
  host: string;
  model?: string;
  /** What to tell the user about keys: "run Parrot: Set API Key" / "set OPENAI_API_KEY or --api-key-env". */
  keyHint: string;
  timeoutMs: number;
  partial?: string;
  /** Whether the request carried a key: a 401/403 without one means a key is needed, not a wrong one. */
  sentKey?: boolean;
}

/** Turns any SDK / network error into an `LlmError` with an actionable message. */
export function mapError(err: unknown, ctx: MapContext): LlmError {
  if (err instanceof LlmError) return err;
  const { host } = ctx;
  const partial = ctx.partial;
  if (err instanceof APIUserAbortError || (err instanceof Error && err.name === 'AbortError')) {
    return new LlmError('cancelled', 'cancelled', host, { partial, cause: err });
  }
  if (err instanceof APIConnectionTimeoutError) {
    return new LlmError(
      'timeout',
      `${host} did not answer within ${ctx.timeoutMs < 1000 ? `${ctx.timeoutMs} ms` : `${Math.round(ctx.timeoutMs / 1000)} s`} — raise the timeout or lower the concurrency`,
      host,
      { partial, cause: err },
    );
  }
  if (err instanceof APIConnectionError) {
    const code = causeCode(err);
    if (partial !== undefined && partial.length > 0) {
      return streamCut(host, partial, err);
    }
    if (isReset(code)) return connectionReset(host, code as string, err);
    const redirect = redirectRefusal(err);
    if (redirect) return redirect;
    if (
      code === 'ECONNREFUSED' ||
      code === 'ENOTFOUND' ||
      code === 'EAI_AGAIN' ||
      code === 'EHOSTUNREACH' ||
      code === undefined
    ) {
      return new LlmError(
        'unreachable',
        `cannot reach ${host} — is the server running?${code ? ` (${code})` : ''}`,
        host,
        {
          cause: err,
        },
      );
    }
    return new LlmError('unreachable', `cannot reach ${host} — is the server running? (${code})`, host, {
      cause: err,
    });
  }
  if (err instanceof APIError) {
    return fromStatus(err as APIError<number | undefined, Headers | undefined, object | undefined>, ctx);
  }
  return fromOther(err, ctx);
}

function fromStatus(
  err: APIError<number | undefined, Headers | undefined, object | undefined>,
  ctx: MapContext,
): LlmError {
  const { host } = ctx;
  {
    const status = err.status ?? 0;
    const serverMsg =
      typeof err.error === 'object' && err.error && 'message' in err.error ? String(err.error.message) : '';
    if (status === 401 || status === 403) {
      const what =
        ctx.sentKey === false
          ? `${host} needs an API key and none is set (HTTP ${status})`
          : `the key was rejected by ${host}`;
      return new LlmError('auth', `${what} — ${ctx.keyHint}`, host, {
        status,
        cause: err,
      });
    }
    if (status === 404) {
      if (ctx.model && (/model/i.test(serverMsg) || serverMsg === '')) {
        return new LlmError('model-not-found', `model '${ctx.model}' not found on ${host}`, host, {
          status,
          cause: err,
        });
      }
      return new LlmError(
        'not-found',
        `${host} answered 404 — check the base URL (it usually ends in /v1)${serverMsg ? `: ${serverMsg}` : ''}`,
        host,
        {
          status,
          cause: err,
        },
      );
    }
    if (status === 429) {
      return new LlmError(
        'rate-limit',
        `${host} is rate-limiting requests (429) — lower the concurrency or wait`,
        host,
        { status, cause: err },
      );
    }
    if (status >= 500) {
      return new LlmError(
        'server',
        `${host} had an internal error (${status})${serverMsg ? `: ${serverMsg}` : ''}`,
        host,
        { status, cause: err },
      );
    }
    if (status === 400 || status === 422) {
      return new LlmError(
        'bad-request',
        `${host} refused the request (${status})${serverMsg ? `: ${serverMsg}` : ''}`,
        host,
        { status, cause: err },
      );
    }
    return new LlmError('server', `${host} answered ${status}${serverMsg ? `: ${serverMsg}` : ''}`, host, {
      status,
      cause: err,
    });
  }
}

function fromOther(err: unknown, ctx: MapContext): LlmError {
  const { host, partial } = ctx;
  if (err instanceof SyntaxError) {
    return new LlmError(
      'malformed',
      `${host} sent a response that is not valid JSON — is it an OpenAI-compatible endpoint?`,
      host,
      {
        partial,
        cause: err,
      },
    );
  }
  if (partial !== undefined && partial.length > 0) return streamCut(host, partial, err);
  const code = causeCode(err);
  if (isReset(code)) return connectionReset(host, code as string, err);
  if (err instanceof TypeError && /terminated|fetch failed/i.test(err.message)) {
    return new LlmError('reset', `the connection to ${host} was closed before an answer came`, host, {
      cause: err,
    });
  }
  const redirect = redirectRefusal(err);
  if (redirect) return redirect;
  const msg = err instanceof Error ? err.message : String(err);
  return new LlmError('malformed', `unexpected answer from ${host}: ${msg}`, host, { partial, cause: err });
}

function streamCut(host: string, partial: string, cause: unknown): LlmError {
  return new LlmError(
    'stream-cut',
    `the stream from ${host} stopped mid-way after ${partial.length} characters; the partial text was kept`,
    host,
    {
      partial,
      cause,
    },
  );
}

function isReset(code: string | undefined): boolean {
  return code === 'ECONNRESET' || code === 'UND_ERR_SOCKET' || code === 'EPIPE';
}

/** A connection reset before any text arrived: retried like a 5xx. */
function connectionReset(host: string, code: string, cause: unknown): LlmError {
  return new LlmError('reset', `the connection to ${host} was reset (${code})`, host, { cause });
}

/** Thrown by the client's fetch when a request would follow a redirect to another origin. */
export class CrossOriginRedirect extends Error {
  override readonly name = 'CrossOriginRedirect';
  constructor(
    readonly from: string,
    readonly to: string,
    readonly status: number,
  ) {
    super(`redirect ${status} from ${from} to ${to}`);
  }
}

function redirectRefusal(err: unknown): LlmError | undefined {
  let e: unknown = err;
  for (let i = 0; i < 5 && e; i++) {
    if (e instanceof CrossOriginRedirect)
      return new LlmError(
        'redirect',
        `${new URL(e.from).host} redirected the request (${e.status}) to another origin, ${new URL(e.to).origin}; not followed, so the dataset text is not sent there — set the base URL to that server if it is meant`,
        new URL(e.from).host,
        { status: e.status, cause: err },
      );
    e = typeof e === 'object' && e !== null ? (e as { cause?: unknown }).cause : undefined;
  }
  return undefined;
}

/** Settings of one OpenAI-compatible endpoint (OpenAI, vLLM, Ollama, llama.cpp server, LM Studio). */
export interface LlmConfig {
  /** Base URL including the API prefix, e.g. `http://127.0.0.1:8000/v1`. */
  baseUrl: string;
  /** Bearer key. Omit for local servers that need none. */
  apiKey?: string;
  models: { asker: string; answerer: string };
  temperature: number;
  maxTokens: number;
  /** Follow-up candidates per ask (`n`). */
  candidates: number;
  /** Maximum requests in flight at once. */
  concurrency: number;
  /** Per-request timeout in milliseconds. */
  timeoutMs: number;
  /** Retries after the first attempt on 429, 5xx, timeouts and connection resets. */
  maxRetries: number;
}

export const DEFAULT_LLM_CONFIG: LlmConfig = {
  baseUrl: 'http://127.0.0.1:8000/v1',
  models: { asker: 'parrot-ask', answerer: 'gpt-4o-mini' },
  temperature: 0.7,
  maxTokens: 1024,
  candidates: 3,
  concurrency: 8,
  timeoutMs: 120_000,
  maxRetries: 4,
};

export function resolveConfig(
  partial: Partial<LlmConfig> & { models?: Partial<LlmConfig['models']> },
): LlmConfig {
  const models = { ...DEFAULT_LLM_CONFIG.models, ...(partial.models ?? {}) };
  const cfg: LlmConfig = { ...DEFAULT_LLM_CONFIG, ...partial, models };
  if (!Number.isInteger(cfg.concurrency) || cfg.concurrency < 1)
    throw new Error('concurrency must be a whole number >= 1');
  if (!Number.isInteger(cfg.candidates) || cfg.candidates < 1)
    throw new Error('candidates must be a whole number >= 1');
  if (!Number.isInteger(cfg.maxRetries) || cfg.maxRetries < 0)
    throw new Error('maxRetries must be a whole number >= 0');
  if (!(cfg.timeoutMs > 0)) throw new Error('timeout must be > 0 ms');
  parseBaseUrl(cfg.baseUrl);
  return cfg;
}

function parseBaseUrl(baseUrl: string): URL {
  let url: URL;
  try {
    url = new URL(baseUrl);
  } catch {
    throw new Error(`'${baseUrl}' is not a URL — expected something like http://127.0.0.1:8000/v1`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new Error(`'${baseUrl}' must start with http:// or https://`);
  }
  return url;
}

/**
 * The scope a stored API key belongs to: the endpoint origin (scheme + host + port).
 * A key saved for one origin is never sent to another.
 */
export function keyScopeFor(baseUrl: string): string {
  return parseBaseUrl(baseUrl).origin;
}

/** Host (with port) for messages. */
export function hostOf(baseUrl: string): string {
  try {
    return new URL(baseUrl).host;
  } catch {
    return baseUrl;
  }
}

/** True for loopback endpoints (127.0.0.0/8, localhost, ::1), which normally need no key. */
export function isLocalEndpoint(url: string): boolean {
  let host: string;
  try {
    host = new URL(url).hostname.toLowerCase();
  } catch {
    return false;
  }
  if (host.startsWith('[') && host.endsWith(']')) host = host.slice(1, -1);
  return (
    host === 'localhost' || host.endsWith('.localhost') || host === '::1' || /^127(\.\d{1,3}){3}$/.test(host)
  );
}

/** Where core code reports what it does. Messages never contain keys or whole records. */
export interface Logger {
  debug(message: string): void;
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

export const silentLogger: Logger = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
};

const known = new Set<string>();

/** A key in use in this process: `redact` removes it from every message from now on. */
export function registerSecret(secret: string | undefined): void {
  if (secret && secret.length >= 4) known.add(secret);
}

/**
 * Removes secrets from a message: the given ones (the configured key), and anything that looks like
 * one — bearer tokens, `sk-…` keys, `api_key=` / `authorization:` values, URL passwords. The one
 * function every message goes through before it is printed, shown or logged (CLI and extension).
 */
export function redact(message: string, secrets: readonly (string | undefined)[] = []): string {
  let out = message;
  for (const s of [...secrets, ...known]) {
    if (!s || s.length < 4) continue;
    out = out.split(s).join('[redacted]');
    if (s.length >= 2 * PART) out = redactParts(out, s);
  }
  return out
    .replace(/(Bearer\s+)[^\s"']+/gi, '$1[redacted]')
    .replace(/\bsk-[A-Za-z0-9_-]{8,}/g, 'sk-[redacted]')
    .replace(/((?:api[_-]?key|authorization)["']?\s*[:=]\s*["']?)(?!Bearer\b)[^\s"',}]+/gi, '$1[redacted]')
    .replace(/(\b[a-z][a-z0-9+.-]*:\/\/[^\s/@:]*:)[^\s/@]+@/gi, '$1[redacted]@');
}

/** The shortest piece of a key that `redact` removes on its own (a key echoed cut or re-spelled). */
const PART = 10;

/**
 * Removes every run of `PART` or more characters of `message` that also occurs in `secret`: a
 * server that echoes the key without its `sk-` prefix, or cut in two ("sk-…" + the rest), or
 * wrapped in other text, must not print most of it.
 */
function redactParts(message: string, secret: string): string {
  const grams = new Set<string>();
  for (let i = 0; i + PART <= secret.length; i++) grams.add(secret.slice(i, i + PART));
  let out = '';
  let i = 0;
  while (i < message.length) {
    if (i + PART <= message.length && grams.has(message.slice(i, i + PART))) {
      let j = i + PART;
      while (j < message.length && secret.includes(message.slice(i, j + 1))) j++;
      out += '[redacted]';
      i = j;
    } else out += message[i++];
  }
  return out;
}

/** Shortens user text for a log line (records are never logged whole). */
export function snippet(text: string, max = 60): string {
  const one = text.replace(/\s+/g, ' ').trim();
  return one.length <= max ? one : `${one.slice(0, max - 1)}…`;
}

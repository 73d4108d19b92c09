/**
 * Stable keys of records for review decisions. A record with an id is keyed by it (`id:<id>`), so
 * its decisions follow it through reorders and edits; a record without one is keyed by a hash of its
 * conversation (`h:<hash>`), which survives reorders, reloads and changes of layout or unknown fields
 * but not an edit of its text (the editor carries the decision over to the new key; see docs/review.md).
 */
import { createHash } from 'node:crypto';
import { parseRecord, type ParseResult } from '../formats';
import { contentText, type Sample, type Turn } from '../model';
import { hashSample } from '../stats';
import type { Provenance } from './types';

export interface RecordIdentity {
  key: string;
  /** Hash of the conversation as it is now (ids, unknown fields and `review` left out). */
  hash: string;
  /** Hash of each dialogue turn (empty for preference pairs and malformed lines). */
  turnHashes: string[];
  /** Provenance of a generated record (a CaPO pair). */
  provenance?: Provenance;
  /** Provenance of each generated dialogue turn, by turn index. */
  generatedTurns: Map<number, Provenance>;
}

function sha(text: string): string {
  return createHash('sha1').update(text).digest('base64');
}

function idOf(sample: Sample): string | undefined {
  const id = sample.id ?? sample.meta.id;
  return typeof id === 'string' || typeof id === 'number' ? String(id) : undefined;
}

/** Hash of one turn: role, text and tool calls. */
export function turnHash(t: Turn): string {
  return sha(JSON.stringify([t.role, contentText(t.content), t.toolCalls ?? null]));
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}

function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Provenance kept in a field: `{strategy?, model?}` or CaPO's `{strategy, models: {rejected}}`. */
export function provenanceOf(v: unknown): Provenance | undefined {
  if (!isObj(v)) return undefined;
  const p: Provenance = {};
  const strategy = str(v.strategy);
  const models = isObj(v.models) ? v.models : undefined;
  const model = str(v.model) ?? str(models?.rejected);
  if (strategy) p.strategy = strategy;
  if (model) p.model = model;
  return p.strategy || p.model ? p : undefined;
}

/** Provenance of a record: a CaPO pair's meta, or a `provenance` field at the top. */
export function recordProvenance(sample: Sample): Provenance | undefined {
  const meta = sample.meta;
  return provenanceOf(meta.provenance) ?? (sample.kind === 'preference' ? provenanceOf(meta) : undefined);
}

/** Turns of a dialogue that carry a `provenance` field (generated turns). */
export function generatedTurns(sample: Sample): Map<number, Provenance> {
  const out = new Map<number, Provenance>();
  if (sample.kind !== 'dialogue') return out;
  sample.turns.forEach((t, i) => {
    const p = provenanceOf(t.meta?.provenance);
    if (p) out.set(i, p);
  });
  return out;
}

/** Key, hashes and provenance of one stored record (any line, malformed ones too). */
export function recordIdentity(text: string, parsed: ParseResult = parseRecord(text)): RecordIdentity {
  if (!parsed.ok) {
    const hash = sha(text);
    return { key: `h:${hash}`, hash, turnHashes: [], generatedTurns: new Map() };
  }
  const sample = parsed.sample;
  const hash = hashSample(sample);
  const id = idOf(sample);
  const identity: RecordIdentity = {
    key: id !== undefined ? `id:${id}` : `h:${hash}`,
    hash,
    turnHashes: sample.kind === 'dialogue' ? sample.turns.map(turnHash) : [],
    generatedTurns: generatedTurns(sample),
  };
  const provenance = recordProvenance(sample);
  if (provenance) identity.provenance = provenance;
  return identity;
}

/**
 * Streaming statistics over a dataset file: formats, invalid lines, turns, roles, duplicates,
 * characters and tokens per role (o200k_base BPE, the GPT-4o family's tokenizer).
 */
export * from './collector';
export { fileStats, type FileStatsOptions } from './file';
export { isBlankLine, readFileLines, type FileLine } from './lines';

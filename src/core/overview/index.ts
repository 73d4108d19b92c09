export { ROLE_SLOTS, FactsBuilder, type FactsChunk, type TokenCounter } from './facts';
export {
  DEFAULT_THRESHOLD,
  histogram,
  percentile,
  selectLines,
  summarize,
  type Bin,
  type Cluster,
  type DuplicateGroups,
  type Histogram,
  type Overview,
  type OverviewFigures,
  type Selection,
} from './figures';
export { overviewFile, registerTokenCounter, tokenCounter, type OverviewOptions } from './scan';

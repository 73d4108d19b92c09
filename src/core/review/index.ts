/** Review decisions beside a dataset (sidecar), merged state and stats. No `vscode` import. */
export * from './types';
export * from './key';
export * from './sidecar';
export * from './state';
export * from './stats';
export * from './reviewer';
export * from './export';
export * from './sideProvenance';

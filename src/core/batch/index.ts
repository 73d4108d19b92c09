export * from './job';
export * from './lines';
export * from './remote';
export * from './pairs';
export * from './source';
export * from './evalJob';

export * from './job';
export * from './lines';
export * from './remote';
export * from './pairs';

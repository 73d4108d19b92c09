export * from './client';
export * from './config';
export * from './errors';
export * from './logger';
export * from './retry';
export * from './semaphore';

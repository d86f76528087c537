export * from './log-context';
export * from './root-logger';

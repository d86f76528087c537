export * from './bubblewrap-sandbox-runner.adapter';
export * from './unsandboxed-runner.adapter';
export * from './bubblewrap-scorer.adapter';
export * from './unsandboxed-scorer.adapter';
export { SandboxLayoutError } from './reachable';

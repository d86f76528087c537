export * from './bubblewrap-sandbox-runner.adapter';
export * from './unsandboxed-runner.adapter';

/** Layer rules: the domain is pure; adapters never reach into apps; apps never import each other. */
module.exports = {
  forbidden: [
    {
      name: 'domain-is-pure',
      comment: 'libs/domain imports nothing from Nest, Redis, BullMQ, the filesystem or child processes; use a port.',
      severity: 'error',
      from: { path: '^libs/domain/src' },
      to: { path: '(^|node_modules/)(@nestjs|ioredis|bullmq|express|multer)|^(fs|node:fs|fs/promises|node:fs/promises|child_process|node:child_process)$|^libs/adapters|^apps/' },
    },
    {
      name: 'domain-no-node-io',
      severity: 'error',
      from: { path: '^libs/domain/src' },
      to: { dependencyTypes: ['core'], path: '^(fs|child_process|net|http|https|dgram|cluster|worker_threads)$' },
    },
    {
      name: 'adapters-not-into-apps',
      severity: 'error',
      from: { path: '^libs/adapters' },
      to: { path: '^apps/' },
    },
    {
      name: 'apps-independent',
      comment: 'The API and the worker share code only through libs/; system tests may start both.',
      severity: 'error',
      from: { path: '^apps/api/src' },
      to: { path: '^apps/worker' },
    },
    {
      name: 'apps-independent-worker',
      severity: 'error',
      from: { path: '^apps/worker/src' },
      to: { path: '^apps/api' },
    },
    {
      name: 'client-is-a-client',
      comment: 'libs/client talks to the API over HTTP only: it runs in the browser (apps/web) and in the CLI.',
      severity: 'error',
      from: { path: '^libs/client/src' },
      to: { path: '(^|node_modules/)(@nestjs|ioredis|bullmq|express|multer)|^libs/(domain|adapters)|^apps/' },
    },
    {
      name: 'clients-only-through-the-api',
      comment: 'The web UI and the CLI see the API through @app/client alone, never its code.',
      severity: 'error',
      from: { path: '^apps/(web|cli)/src' },
      to: { path: '^libs/(domain|adapters)|^apps/(api|worker)/' },
    },
    {
      name: 'no-circular',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '(^|/)(dist|coverage)/' },
    tsConfig: { fileName: 'tsconfig.json' },
    tsPreCompilationDeps: true,
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default'] },
  },
};

import type { Request } from 'express';

/** Paths served by mounted apps, not by routes of ours: one label each, whatever follows. */
const MOUNTS = ['/admin/queues', '/docs', '/assets'];

/**
 * The route template that served a request (`/jobs/:id/status`), never the raw path: a label per
 * URL would grow without bound. Mounted apps get their prefix; anything else is `unmatched`.
 * `path` is the request's path as it came in (a mounted router rewrites `request.path`).
 */
export function routeOf(request: Request, path: string): string {
  for (const mount of MOUNTS) if (path === mount || path.startsWith(`${mount}/`)) return `${mount}/*`;
  const template = (request.route as { path?: unknown } | undefined)?.path;
  if (typeof template === 'string') return template;
  if (path === '/' || path === '/index.html') return '/';
  return 'unmatched';
}

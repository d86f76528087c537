import { INestApplication, MethodNotAllowedException } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';

/** The parts of Express's router (v2) this reads: its route layers and what each one serves. */
interface RouteLayer {
  route?: { _handlesMethod(method: string): boolean; _methods(): string[] };
  match(path: string): unknown;
}

/**
 * A known path asked with a method it does not serve gets 405 with an `Allow` header instead of
 * 404, so a client can tell a typo in the path from a wrong method. Reads the app's own routes,
 * so it never goes stale; runs before any body is read.
 */
export function useMethodNotAllowed(app: INestApplication): void {
  const instance = app.getHttpAdapter().getInstance() as { router: { stack: RouteLayer[] } };
  app.use((request: Request, response: Response, next: NextFunction) => {
    const allowed = new Set<string>();
    for (const layer of instance.router.stack) {
      if (!layer.route || !layer.match(request.path)) continue;
      if (layer.route._handlesMethod(request.method)) return next();
      for (const method of layer.route._methods()) if (method !== '*') allowed.add(method);
    }
    if (allowed.size === 0) return next();
    const list = [...allowed].sort().join(', ');
    response.setHeader('Allow', list);
    next(new MethodNotAllowedException(`${request.method} is not allowed on ${request.path}; this path takes ${list}`));
  });
}

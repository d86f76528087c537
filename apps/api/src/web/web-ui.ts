import { INestApplication } from '@nestjs/common';
import express from 'express';
import type { NextFunction, Request, Response } from 'express';
import { existsSync } from 'node:fs';
import * as path from 'node:path';

/** Forbids inline script and style: everything the UI runs or shows ships as a file from this API. */
export const WEB_UI_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
  "form-action 'self'",
].join('; ');

/**
 * Where `vite build` puts the UI: beside the bundled API in dist/apps (a build or an image), or
 * dist/apps/web under the repo when the API runs from source (the e2e tests).
 */
const CANDIDATE_ROOTS = [path.resolve(__dirname, '../web'), path.resolve(__dirname, '../../../../dist/apps/web')];


function setSecurityHeaders(response: Response): void {
  response.setHeader('Content-Security-Policy', WEB_UI_CSP);
  response.setHeader('X-Content-Type-Options', 'nosniff');
  response.setHeader('Referrer-Policy', 'no-referrer');
}

/**
 * The web UI (apps/web): index.html at `/` and its hashed files under `/assets/`, public and
 * read-only. It routes by URL hash, so no other path is ever the UI's and the API's routes stay as they are.
 */
export function serveWebUi(app: INestApplication): void {
  app.use(webUiMiddleware());
}

/** The first of `roots` holding a build wins; looked up per request, so a build after start is picked up. */
export function webUiMiddleware(roots = CANDIDATE_ROOTS): express.Handler {
  const findWebRoot = () => roots.find((root) => existsSync(path.join(root, 'index.html')));
  const assetHandlers = new Map<string, express.Handler>();
  return (request: Request, response: Response, next: NextFunction) => {
    const isIndex = request.path === '/' || request.path === '/index.html';
    const isAsset = request.path.startsWith('/assets/');
    if ((!isIndex && !isAsset) || (request.method !== 'GET' && request.method !== 'HEAD')) return next();
    setSecurityHeaders(response);
    const root = findWebRoot();
    if (!root) {
      response.status(503).json({
        statusCode: 503,
        error: 'Service Unavailable',
        message: 'the web UI is not built: run `npm run build` (it writes dist/apps/web), then reload',
      });
      return;
    }
    if (isIndex) {
      // Always the current build: index.html names the hashed files of that build.
      response.setHeader('Cache-Control', 'no-cache');
      response.sendFile(path.join(root, 'index.html'));
      return;
    }
    let handler = assetHandlers.get(root);
    if (!handler) {
      // File names carry a content hash, so a copy never goes stale.
      handler = express.static(path.join(root, 'assets'), { immutable: true, maxAge: '1y', index: false, redirect: false });
      assetHandlers.set(root, handler);
    }
    const originalUrl = request.url;
    request.url = request.url.slice('/assets'.length);
    handler(request, response, (error?: unknown) => {
      request.url = originalUrl;
      // serve-static refuses "..", dotfiles and the like with a 4xx: the same answer as a missing file.
      const status = (error as { status?: number } | undefined)?.status;
      if (error && !(status && status >= 400 && status < 500)) return next(error);
      response.status(404).json({ statusCode: 404, error: 'Not Found', message: `${request.path} is not a file of this build of the web UI; reload the page` });
    });
  };
}

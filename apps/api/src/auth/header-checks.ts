import { INestApplication } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';
import { Invalid } from '@app/domain';
import { headerValues, readCredentials } from './authorization-header';

/**
 * Headers that must come once: Node keeps only the first (or joins them), so a second copy would
 * mean one thing to us and another to a proxy or a later reader.
 */
const SINGLE_HEADERS = ['Authorization', 'Proxy-Authorization', 'Idempotency-Key', 'Content-Type', 'Content-Length', 'Host'];

/** Refuses ambiguous or malformed credentials on every route (Bull Board included) before any other work. */
export function useHeaderChecks(app: INestApplication): void {
  app.use((request: Request, _response: Response, next: NextFunction) => {
    try {
      for (const name of SINGLE_HEADERS) {
        const count = headerValues(request, name.toLowerCase()).length;
        if (count > 1) throw new Invalid([`send one ${name} header, not ${count}`]);
      }
      readCredentials(request);
      next();
    } catch (error) {
      next(error);
    }
  });
}

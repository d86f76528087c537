import { INestApplication } from '@nestjs/common';
import express, { NextFunction, Request, Response } from 'express';
import { Invalid } from '@app/domain';

/** JSON bodies up to 1 MB; malformed JSON becomes a plain 400 instead of a parser's stack message. */
export function useJsonBody(app: INestApplication): void {
  app.use(express.json({ limit: '1mb' }));
  app.use((error: Error & { type?: string }, _request: Request, _response: Response, next: NextFunction) => {
    if (error.type === 'entity.parse.failed') {
      next(new Invalid([`the request body is not valid JSON (${error.message}); send a JSON object`]));
      return;
    }
    next(error);
  });
}

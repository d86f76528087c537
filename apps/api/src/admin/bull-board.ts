import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { ExpressAdapter } from '@bull-board/express';
import { INestApplication } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';
import { BullMqJobQueueAdapter } from '@app/adapters';
import { JobQueuePort } from '@app/domain';
import { TokenAuthenticator } from '../auth/token-authenticator';

export const BULL_BOARD_PATH = '/admin/queues';

/**
 * Bull Board for operators. Admins only; a browser logs in with HTTP Basic (user + token),
 * scripts may send the usual bearer token.
 */
export function mountBullBoard(app: INestApplication): void {
  const queue = app.get(JobQueuePort);
  if (!(queue instanceof BullMqJobQueueAdapter)) return;
  const serverAdapter = new ExpressAdapter();
  serverAdapter.setBasePath(BULL_BOARD_PATH);
  createBullBoard({ queues: [new BullMQAdapter(queue.queue, { readOnlyMode: false })], serverAdapter });
  app.use(BULL_BOARD_PATH, adminOnly(app.get(TokenAuthenticator)), serverAdapter.getRouter());
}

function adminOnly(authenticator: TokenAuthenticator) {
  return (request: Request, response: Response, next: NextFunction) => {
    const credentials = credentialsFrom(request.headers.authorization ?? '');
    const caller = credentials && authenticator.authenticate(credentials.token);
    if (!caller || (credentials.userId !== undefined && credentials.userId !== caller.userId)) {
      response
        .status(401)
        .setHeader('WWW-Authenticate', 'Basic realm="LeadersBoard admin"')
        .json({ statusCode: 401, error: 'Unauthorized', message: 'log in with your user name and API token' });
      return;
    }
    if (!caller.isAdmin) {
      response.status(403).json({ statusCode: 403, error: 'Forbidden', message: `${caller.userId} is not in ADMIN_USERS` });
      return;
    }
    next();
  };
}

function credentialsFrom(header: string): { userId?: string; token: string } | undefined {
  const bearer = /^Bearer\s+(\S+)$/i.exec(header);
  if (bearer) return { token: bearer[1] };
  const basic = /^Basic\s+(\S+)$/i.exec(header);
  if (!basic) return undefined;
  const decoded = Buffer.from(basic[1], 'base64').toString('utf8');
  const separator = decoded.indexOf(':');
  if (separator < 0) return undefined;
  return { userId: decoded.slice(0, separator), token: decoded.slice(separator + 1) };
}

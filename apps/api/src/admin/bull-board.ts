import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { ExpressAdapter } from '@bull-board/express';
import { INestApplication, UnauthorizedException } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';
import { BullMqJobQueueAdapter } from '@app/adapters';
import { JobQueuePort } from '@app/domain';
import { basicLogin, readCredentials } from '../auth/authorization-header';
import { LoginGate } from '../auth/login-gate';

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
  app.use(BULL_BOARD_PATH, adminOnly(app.get(LoginGate)), serverAdapter.getRouter());
}

/** Same gate, and the same failure limit, as the REST routes; a 401 here asks the browser for a Basic login. */
function adminOnly(gate: LoginGate) {
  return (request: Request, response: Response, next: NextFunction) => {
    admit(gate, request)
      .then((caller) => {
        if (caller.isAdmin) next();
        else response.status(403).json({ statusCode: 403, error: 'Forbidden', message: `${caller.userId} is not in ADMIN_USERS` });
      })
      .catch((error: unknown) => {
        if (!(error instanceof UnauthorizedException)) {
          next(error);
          return;
        }
        response
          .status(401)
          .setHeader('WWW-Authenticate', 'Basic realm="LeadersBoard admin", charset="UTF-8"')
          .json({ statusCode: 401, error: 'Unauthorized', message: 'log in with your user name and API token' });
      });
  };
}

async function admit(gate: LoginGate, request: Request) {
  const credentials = readCredentials(request);
  if (!credentials) throw new UnauthorizedException('no credentials');
  return gate.admit(request, credentials.scheme === 'basic' ? basicLogin(credentials.encoded) : { token: credentials.token });
}

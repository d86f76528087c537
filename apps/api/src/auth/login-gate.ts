import { Injectable, UnauthorizedException } from '@nestjs/common';
import type { IncomingMessage } from 'node:http';
import { addLogFields, AppConfig } from '@app/adapters';
import { Caller, LoginThrottlePort, RateLimited } from '@app/domain';
import { Login } from './authorization-header';
import { clientAddress } from './client-address';
import { TokenAuthenticator } from './token-authenticator';

/**
 * The one place credentials are judged, for the REST routes and Bull Board alike: checks them,
 * counts a failure against the client's address, and refuses a client over its limit whatever it
 * sent. Without Redis nothing can be counted, so it answers 503 rather than allow unlimited guesses.
 */
@Injectable()
export class LoginGate {
  constructor(
    private readonly authenticator: TokenAuthenticator,
    private readonly throttle: LoginThrottlePort,
    private readonly config: AppConfig,
  ) {}

  async admit(request: IncomingMessage, login: Login): Promise<Caller> {
    const caller = this.authenticator.authenticate(login.token, login.userId);
    const client = clientAddress(request, this.config.trustProxy);
    const verdict = caller ? await this.throttle.check(client) : await this.throttle.recordFailure(client);
    if (!verdict.allowed) {
      const { failuresPerWindow, windowSeconds } = this.config.authThrottle;
      throw new RateLimited(
        `too many failed logins from ${client} (at most ${failuresPerWindow} per ${windowSeconds} s); ` +
          `try again in ${verdict.retryAfterSeconds} s with the right token`,
        verdict.retryAfterSeconds,
      );
    }
    if (!caller) throw new UnauthorizedException('unknown credentials; check the token you were given (API_TOKENS on the server)');
    // The rest of the request's log lines name who made it.
    addLogFields({ user: caller.userId });
    return caller;
  }
}

import { ForbiddenException, Injectable, UnauthorizedException } from '@nestjs/common';
import type { Request } from 'express';
import { AppConfig, scrapeTokenMatches } from '@app/adapters';
import { readCredentials } from '../auth/authorization-header';
import { LoginGate } from '../auth/login-gate';

const HOW = 'send "Authorization: Bearer <METRICS_TOKEN>" (set on the server) or an admin\'s API token';

/**
 * Who may scrape: the holder of METRICS_TOKEN, or an admin (ADMIN_USERS). A token that is neither
 * goes through the LoginGate like any login, so /metrics is no oracle for guessing tokens.
 */
@Injectable()
export class MetricsAccess {
  constructor(
    private readonly config: AppConfig,
    private readonly gate: LoginGate,
  ) {}

  async check(request: Request): Promise<void> {
    const credentials = readCredentials(request);
    if (!credentials || credentials.scheme !== 'bearer') throw new UnauthorizedException(`/metrics needs a token; ${HOW}`);
    if (this.config.metricsToken !== null && scrapeTokenMatches(this.config.metricsToken, credentials.token)) return;
    const caller = await this.gate.admit(request, { token: credentials.token });
    if (!caller.isAdmin) {
      throw new ForbiddenException(
        `${caller.userId} may not read /metrics: only admins (ADMIN_USERS) may${this.config.metricsToken === null ? ', and no METRICS_TOKEN is set on the server' : ', or the holder of METRICS_TOKEN'}`,
      );
    }
  }
}

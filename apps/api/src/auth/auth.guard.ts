import { CanActivate, ExecutionContext, Injectable, UnauthorizedException } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request } from 'express';
import { readCredentials } from './authorization-header';
import { AuthenticatedRequest } from './caller.decorator';
import { LoginGate } from './login-gate';
import { IS_PUBLIC } from './public.decorator';

/** Every route needs `Authorization: Bearer <token>` unless marked @Public(). */
@Injectable()
export class AuthGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly gate: LoginGate,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const isPublic = this.reflector.getAllAndOverride<boolean>(IS_PUBLIC, [context.getHandler(), context.getClass()]);
    if (isPublic) return true;
    const request = context.switchToHttp().getRequest<Request & AuthenticatedRequest>();
    const credentials = readCredentials(request);
    if (!credentials) throw new UnauthorizedException('missing Authorization header; send "Authorization: Bearer <your token>"');
    if (credentials.scheme !== 'bearer') {
      throw new UnauthorizedException('the REST API takes "Authorization: Bearer <your token>"; Basic login is only for /admin/queues');
    }
    request.caller = await this.gate.admit(request, { token: credentials.token });
    return true;
  }
}

import { createParamDecorator, ExecutionContext } from '@nestjs/common';
import { Caller } from '@app/domain';

export interface AuthenticatedRequest {
  caller?: Caller;
}

/** The caller the AuthGuard attached to the request. */
export const CurrentCaller = createParamDecorator((_data: unknown, context: ExecutionContext): Caller => {
  const caller = context.switchToHttp().getRequest<AuthenticatedRequest>().caller;
  if (!caller) throw new Error('CurrentCaller used on a route the AuthGuard did not run on');
  return caller;
});

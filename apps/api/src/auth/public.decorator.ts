import { SetMetadata } from '@nestjs/common';

export const IS_PUBLIC = 'leadersboard:public';

/** Marks a route that needs no token (health checks). */
export const Public = () => SetMetadata(IS_PUBLIC, true);

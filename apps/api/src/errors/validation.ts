import { ValidationError, ValidationPipe } from '@nestjs/common';
import { Invalid } from '@app/domain';

/** Validates DTOs and reports every offending field at once, by its wire name. */
export function validationPipe(): ValidationPipe {
  return new ValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: true,
    transform: true,
    exceptionFactory: (errors) => new Invalid(flatten(errors, '')),
  });
}

function flatten(errors: ValidationError[], parent: string): string[] {
  return errors.flatMap((error) => {
    const field = parent ? `${parent}.${error.property}` : error.property;
    const own = Object.values(error.constraints ?? {}).map((text) =>
      text.includes('should not exist') ? `${field} is not a known field` : text.replace(error.property, field),
    );
    return [...own, ...flatten(error.children ?? [], field)];
  });
}

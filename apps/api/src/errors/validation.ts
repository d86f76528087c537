import { ArgumentMetadata, ValidationError, ValidationPipe } from '@nestjs/common';
import { Invalid } from '@app/domain';

/**
 * Validates DTOs and reports every offending field at once, by its wire name. Names that
 * class-transformer skips because every object has them (`__proto__`, `constructor`, `toString`…)
 * would slip past the unknown-field check; they are refused first.
 */
class StrictValidationPipe extends ValidationPipe {
  override async transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
      const inherited = Object.keys(value).filter((key) => key in Object.prototype || key === 'prototype');
      if (inherited.length > 0) throw new Invalid(inherited.map((key) => `${key} is not a known field`));
    }
    return super.transform(value, metadata);
  }
}

export function validationPipe(): ValidationPipe {
  return new StrictValidationPipe({
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

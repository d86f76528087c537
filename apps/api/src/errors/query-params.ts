import { applyDecorators } from '@nestjs/common';
import { ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsIn, IsOptional, ValidateBy } from 'class-validator';

/** Plain decimal digits only: no sign, exponent, fraction, hex, spaces; 16 digits is past every bound. */
const DECIMAL = /^[0-9]{1,16}$/;

/**
 * An optional integer query parameter, documented and validated from the same bounds. Only plain
 * decimal digits count ("1e3", "0x10", "1.0", " 1", "+1", "-0" and repeated parameters are 400s).
 */
export function QueryInteger(name: string, bounds: { minimum: number; maximum: number; default: number; description?: string }): PropertyDecorator {
  const rule = `${name} must be a whole number from ${bounds.minimum} to ${bounds.maximum} in plain decimal digits`;
  return applyDecorators(
    ApiPropertyOptional({ type: 'integer', minimum: bounds.minimum, maximum: bounds.maximum, default: bounds.default, description: bounds.description }),
    IsOptional(),
    Transform(({ value }) => (typeof value === 'string' && DECIMAL.test(value) ? Number(value) : value)),
    ValidateBy({
      name: 'queryInteger',
      validator: {
        validate: (value: unknown) => Number.isSafeInteger(value) && (value as number) >= bounds.minimum && (value as number) <= bounds.maximum,
        defaultMessage: (args) => `${rule} (got ${shown(args?.value)})`,
      },
    }),
  );
}

/** An optional query parameter that takes one of a few words. */
export function QueryEnum(name: string, values: readonly string[], options: { default: string; description?: string }): PropertyDecorator {
  return applyDecorators(
    ApiPropertyOptional({ type: 'string', enum: [...values], default: options.default, description: options.description }),
    IsOptional(),
    IsIn(values, { message: (args) => `${name} must be one of ${values.join(', ')} (got ${shown(args.value)})` }),
  );
}

function shown(value: unknown): string {
  if (Array.isArray(value)) return 'the parameter more than once';
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 40 ? `${text.slice(0, 40)}…` : text;
}

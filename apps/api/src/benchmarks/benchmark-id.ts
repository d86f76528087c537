import { applyDecorators } from '@nestjs/common';
import { ApiParam } from '@nestjs/swagger';
import { BENCHMARK_ID, Invalid } from '@app/domain';

/** Documents the `id` path parameter of the benchmark routes with the pattern it is checked against. */
export function ApiBenchmarkId(): MethodDecorator {
  return applyDecorators(
    ApiParam({
      name: 'id',
      description: 'A benchmark id, as GET /benchmarks lists them; a well-formed unknown id is a 404 naming the known ones',
      schema: { type: 'string', pattern: BENCHMARK_ID.source, example: 'digits-anomaly' },
    }),
  );
}

/** A malformed id is the caller's typo (400); it never reaches the catalog. */
export function checkBenchmarkId(id: string): string {
  if (!BENCHMARK_ID.test(id)) throw new Invalid(['the benchmark id must be 1 to 64 lowercase letters, digits and dashes; GET /benchmarks lists them']);
  return id;
}

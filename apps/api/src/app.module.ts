import { DynamicModule, Module } from '@nestjs/common';
import { APP_FILTER, APP_GUARD } from '@nestjs/core';
import { AdaptersModule, AppConfig } from '@app/adapters';
import { BenchmarksAdminController } from './admin/benchmarks-admin.controller';
import { AuthGuard } from './auth/auth.guard';
import { LoginGate } from './auth/login-gate';
import { TokenAuthenticator } from './auth/token-authenticator';
import { AllExceptionsFilter } from './errors/all-exceptions.filter';
import { BenchmarksController } from './benchmarks/benchmarks.controller';
import { HealthChecks } from './health/health-checks';
import { HealthController } from './health/health.controller';
import { JobsController } from './jobs/jobs.controller';
import { ApiMetrics } from './metrics/api-metrics';
import { MetricsAccess } from './metrics/metrics-access';
import { MetricsController } from './metrics/metrics.controller';
import { SubmissionsController } from './submissions/submissions.controller';
import { UploadInterceptor } from './submissions/upload.interceptor';
import { useCaseProviders } from './use-cases.providers';

@Module({})
export class AppModule {
  static forRoot(config: AppConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [AdaptersModule.forRoot(config)],
      controllers: [SubmissionsController, JobsController, BenchmarksController, BenchmarksAdminController, HealthController, MetricsController],
      providers: [
        ...useCaseProviders,
        TokenAuthenticator,
        LoginGate,
        HealthChecks,
        UploadInterceptor,
        ApiMetrics,
        MetricsAccess,
        { provide: APP_GUARD, useClass: AuthGuard },
        { provide: APP_FILTER, useClass: AllExceptionsFilter },
      ],
    };
  }
}

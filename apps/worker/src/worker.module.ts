import { DynamicModule, Module } from '@nestjs/common';
import { AdaptersModule, AppConfig } from '@app/adapters';

/** The worker's application context: the same adapters as the API; the job processor plugs in here. */
@Module({})
export class WorkerModule {
  static forRoot(config: AppConfig): DynamicModule {
    return { module: WorkerModule, imports: [AdaptersModule.forRoot(config)] };
  }
}

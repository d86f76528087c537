import { access, constants, mkdir } from 'node:fs/promises';
import { AppConfig } from '../config/app-config';
import { ConfigError } from '../config/config-error';
import { incomingDir } from './filesystem-storage.adapter';

/** Creates the storage roots at start and fails with one line naming the variable if one is unusable. */
export async function prepareDirectories(config: AppConfig): Promise<void> {
  const roots: [string, string][] = [
    ['UPLOAD_ROOT', config.uploadRoot],
    ['UPLOAD_ROOT', incomingDir(config.uploadRoot)],
    ['LOG_ROOT', config.logRoot],
    ['ARTIFACT_ROOT', config.artifactRoot],
  ];
  for (const [variable, directory] of roots) {
    try {
      await mkdir(directory, { recursive: true });
      await access(directory, constants.W_OK);
    } catch (error) {
      throw new ConfigError(`${variable} (${directory}) is not a writable directory: ${(error as Error).message}`);
    }
  }
}

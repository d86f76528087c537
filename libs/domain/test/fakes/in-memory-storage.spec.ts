import { storageContract } from '../contracts/storage.contract';
import { InMemoryStorage } from './in-memory-storage';

describe('InMemoryStorage', () => {
  storageContract(async () => {
    const storage = new InMemoryStorage();
    return {
      storage,
      incoming: async (name, content) => storage.stageIncoming(name, content),
      writeLog: async (jobId, text) => storage.writeLog(jobId, text),
    };
  });
});

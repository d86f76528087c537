import { cancelSignalContract } from '../contracts/cancel-signal.contract';
import { InMemoryCancelSignal } from './in-memory-cancel-signal';

describe('InMemoryCancelSignal', () => cancelSignalContract(async () => new InMemoryCancelSignal()));

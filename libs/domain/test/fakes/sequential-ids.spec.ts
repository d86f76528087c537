import { idContract } from '../contracts/id.contract';
import { SequentialIds } from './sequential-ids';

describe('SequentialIds', () => idContract(() => new SequentialIds()));

import { loadConfig } from './app-config';

const base = { API_TOKENS: 'alice:alice-token-123' };
const MB = 2 ** 20;

describe('upload settings', () => {
  it('defaults to one 1024 MB total per submission, 4 unpacks and 4 uploads per user at once, 30 s idle', () => {
    const config = loadConfig(base, { requireTokens: true });
    expect(config.maxSubmissionBytes).toBe(1024 * MB);
    expect(config.maxConcurrentUnpacks).toBe(4);
    expect(config.concurrentUploads).toEqual({ perUser: 4, total: 64 });
    expect(config.uploadIdleTimeoutSeconds).toBe(30);
    expect(config.httpTimeoutsSeconds).toEqual({ headers: 20, request: 600, keepAlive: 5 });
  });

  it('reads each setting and names the variable of a bad value', () => {
    const config = loadConfig(
      { ...base, MAX_SUBMISSION_MB: '10', MAX_CONCURRENT_UNPACKS: '1', MAX_CONCURRENT_UPLOADS_PER_USER: '2', MAX_CONCURRENT_UPLOADS: '3', UPLOAD_IDLE_TIMEOUT_S: '5' },
      { requireTokens: true },
    );
    expect(config.maxSubmissionBytes).toBe(10 * MB);
    expect(config.concurrentUploads).toEqual({ perUser: 2, total: 3 });
    expect(config.uploadIdleTimeoutSeconds).toBe(5);
    for (const name of ['MAX_SUBMISSION_MB', 'MAX_CONCURRENT_UNPACKS', 'MAX_CONCURRENT_UPLOADS_PER_USER', 'UPLOAD_IDLE_TIMEOUT_S', 'HTTP_REQUEST_TIMEOUT_S']) {
      expect(() => loadConfig({ ...base, [name]: '0' }, { requireTokens: true })).toThrow(new RegExp(`^${name} must be a whole number`));
    }
  });

  it('refuses the old archive-only MAX_UNPACKED_MB, and a header timeout longer than the request timeout', () => {
    expect(() => loadConfig({ ...base, MAX_UNPACKED_MB: '512' }, { requireTokens: true })).toThrow(/MAX_UNPACKED_MB was replaced by MAX_SUBMISSION_MB/);
    expect(() => loadConfig({ ...base, HTTP_HEADERS_TIMEOUT_S: '60', HTTP_REQUEST_TIMEOUT_S: '30' }, { requireTokens: true })).toThrow(
      'HTTP_HEADERS_TIMEOUT_S (60) must not exceed HTTP_REQUEST_TIMEOUT_S (30)',
    );
  });
});

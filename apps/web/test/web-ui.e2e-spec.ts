import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import * as path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { RunningApi, startApi, TOKENS } from '../../api/test/harness';
import { RunningWorker, startWorker, stopWorker } from '../../worker/test/worker-harness';

/**
 * The web UI in a real browser (Debian's chromium through playwright-core) against the real API,
 * worker, sandbox, Redis and MLflow: sign in, submit, follow the log, find the job on the board,
 * and the failure paths, each showing the API's own message.
 */
const ROOT = path.resolve(__dirname, '../../..');
const EXAMPLE = path.join(ROOT, 'examples', 'anomaly-digits');
const SCREENSHOTS = path.join(ROOT, 'docs', 'screenshots');
const MARKUP = ['<script>window.__pwned = 1</script>', '<img src=x onerror="window.__pwned = 2">'];
/** Browser-made lines for an answer the test provokes on purpose (401, 400, 403); anything else is an app error. */
const EXPECTED_HTTP_ERROR = /^Failed to load resource: the server responded with a status of (400|401|403)/;

jest.setTimeout(90_000);

let api: RunningApi;
let worker: RunningWorker;
let browser: Browser;
let exampleJobId: string;

interface Watched {
  page: Page;
  consoleErrors: string[];
  dialogs: string[];
}

async function openPage(width = 1200): Promise<Watched> {
  const context = await browser.newContext({ viewport: { width, height: 900 } });
  const page = await context.newPage();
  const watched: Watched = { page, consoleErrors: [], dialogs: [] };
  page.on('console', (message) => {
    if (message.type() === 'error') watched.consoleErrors.push(message.text());
  });
  page.on('pageerror', (error) => watched.consoleErrors.push(`page error: ${error.message}`));
  page.on('dialog', (dialog) => {
    watched.dialogs.push(dialog.message());
    void dialog.dismiss();
  });
  return watched;
}

async function signIn(page: Page, user: keyof typeof TOKENS): Promise<void> {
  await page.goto(`${api.url}/`);
  await page.getByLabel('User').fill(user);
  await page.getByLabel('API token').fill(TOKENS[user]);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('button', { name: 'Sign out' }).waitFor();
}

async function apiMessageOf(route: string, token: string): Promise<string> {
  const response = await fetch(`${api.url}${route}`, { headers: { Authorization: `Bearer ${token}` } });
  return ((await response.json()) as { message: string }).message;
}

function unexpected(watched: Watched): string[] {
  return watched.consoleErrors.filter((line) => !EXPECTED_HTTP_ERROR.test(line));
}

beforeAll(async () => {
  // The API serves whatever dist/apps/web holds: build the UI of this checkout first.
  execFileSync(process.execPath, [path.join(ROOT, 'node_modules/vite/bin/vite.js'), 'build', '--config', 'apps/web/vite.config.mts', '--logLevel', 'error'], {
    cwd: ROOT,
    stdio: 'inherit',
  });
  api = await startApi({ BENCHMARKS_DIR: path.join(ROOT, 'benchmarks'), RATE_LIMIT_JOBS_PER_HOUR: '1000', RATE_LIMIT_CONCURRENT_JOBS: '1000' });
  [worker, browser] = await Promise.all([
    // Two slots: bob's and alice's runs of the example go side by side.
    startWorker(api, { WORKER_CONCURRENCY: '2' }),
    chromium.launch({ executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium', headless: true, args: ['--no-sandbox'] }),
  ]);
  mkdirSync(SCREENSHOTS, { recursive: true });
});

afterAll(async () => {
  await browser?.close();
  if (worker) await stopWorker(worker);
  await api?.close();
});

describe('web UI (real browser, real stack)', () => {
  it('serves the UI with a CSP that forbids inline script, and nothing inline in it', async () => {
    const response = await fetch(`${api.url}/`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(response.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
    expect(response.headers.get('x-content-type-options')).toBe('nosniff');
    expect(response.headers.get('referrer-policy')).toBe('no-referrer');
    const html = await response.text();
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
    expect(html).not.toMatch(/<style|style=/);
    const script = /src="(\/assets\/[^"]+\.js)"/.exec(html)![1];
    const asset = await fetch(`${api.url}${script}`);
    expect(asset.headers.get('cache-control')).toContain('immutable');
    expect(asset.headers.get('content-security-policy')).toContain("default-src 'self'");
    expect((await fetch(`${api.url}/assets/missing.js`)).status).toBe(404);
  });

  it('signs in with the keyboard alone; a wrong token shows the API message', async () => {
    const watched = await openPage(360);
    const { page } = watched;
    await page.goto(`${api.url}/`);
    await page.getByLabel('User').waitFor();
    await page.keyboard.press('Tab');
    await page.keyboard.type('alice');
    await page.keyboard.press('Tab');
    await page.keyboard.type('not-the-token');
    await page.keyboard.press('Enter');
    const expected = await apiMessageOf('/jobs?limit=1', 'not-the-token');
    await expect(page.getByRole('alert').textContent()).resolves.toContain(expected);
    await page.getByLabel('API token').focus();
    await page.keyboard.press('ControlOrMeta+a');
    await page.keyboard.type(TOKENS.alice);
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'Benchmarks' }).waitFor();
    // The focus ring is visible on the next control the keyboard reaches.
    await page.keyboard.press('Tab');
    const outline = await page.evaluate('getComputedStyle(document.activeElement).outlineStyle');
    expect(outline).not.toBe('none');
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('button', { name: 'Sign in' }).waitFor();
    expect(await page.evaluate('sessionStorage.length')).toBe(0);
    expect(unexpected(watched)).toEqual([]);
    await page.context().close();
  });

  it('submits the example from the browser, follows its log to the end and finds it ranked on the board', async () => {
    const [watched, bob] = await Promise.all([openPage(), openPage()]);
    const { page } = watched;
    await Promise.all([signIn(page, 'alice'), signIn(bob.page, 'bob')]);

    // bob picks the example's folder: the browser packs it as one .tar.gz (the API takes no folders).
    await bob.page.getByRole('link', { name: 'Submit' }).click();
    await bob.page.getByLabel('A folder').setInputFiles(EXAMPLE);
    await bob.page.getByText('anomaly-digits.tar.gz').waitFor();
    await bob.page.getByLabel('Config overrides').fill('model: isolation_forest\n');
    await bob.page.getByRole('button', { name: 'Upload and run' }).click();
    await bob.page.waitForURL(/#\/jobs\/[^/]+$/);

    await page.getByRole('link', { name: 'Submit' }).click();
    await page.getByLabel('Files or an archive').setInputFiles([path.join(EXAMPLE, 'main.py'), path.join(EXAMPLE, 'config.yaml')]);
    await page.getByLabel('Benchmark').selectOption('digits-anomaly');
    await page.getByLabel('Config overrides').fill('seed: 7\n');
    await page.getByRole('button', { name: 'Upload and run' }).click();
    await page.waitForURL(/#\/jobs\/[^/]+$/);
    exampleJobId = decodeURIComponent(page.url().split('#/jobs/')[1]);
    const log = page.getByLabel('Job log');
    // The log fills in while the job runs, then the stream ends.
    await page.locator('pre.log', { hasText: '[anomaly-digits]' }).waitFor({ timeout: 60_000 });
    await page.getByText('The log is complete.').waitFor({ timeout: 60_000 });
    await page.locator('.status-completed').first().waitFor({ timeout: 15_000 });
    expect(await log.textContent()).toContain('[anomaly-digits]');
    await page.getByRole('table', { name: 'Official scores' }).waitFor({ timeout: 15_000 });
    await page.getByRole('link', { name: 'Open the run in MLflow' }).waitFor();
    await page.locator('figure.chart').first().waitFor();
    await page.screenshot({ path: path.join(SCREENSHOTS, 'job.png'), fullPage: true });
    await bob.page.locator('.status-completed').first().waitFor({ timeout: 60_000 });
    expect(bob.consoleErrors).toEqual([]);
    await bob.page.context().close();

    await page.getByRole('link', { name: 'digits-anomaly' }).click();
    const row = page.locator(`tr[data-job-id="${exampleJobId}"]`);
    await row.waitFor();
    expect(await row.getAttribute('class')).toContain('own');
    const rows = page.locator('tbody tr');
    await page.locator('tbody tr', { hasText: 'bob' }).waitFor();
    expect(await rows.count()).toBe(2);
    expect(await page.locator('tbody tr.own').count()).toBe(1);
    await page.locator('figure.chart svg').waitFor();
    await page.screenshot({ path: path.join(SCREENSHOTS, 'board.png'), fullPage: true });
    const download = page.waitForEvent('download');
    await page.getByRole('button', { name: 'Download CSV' }).click();
    expect((await download).suggestedFilename()).toBe('digits-anomaly-leaderboard.csv');

    await page.getByRole('link', { name: 'My jobs' }).click();
    await page.locator(`tr[data-job-id="${exampleJobId}"] .status-completed`).waitFor();
    expect(watched.consoleErrors).toEqual([]);
    await page.context().close();
  });

  it('fits a 360 px wide screen: the board and the job page do not scroll sideways', async () => {
    const watched = await openPage(360);
    const { page } = watched;
    await signIn(page, 'alice');
    for (const hash of ['#/benchmarks/digits-anomaly', `#/jobs/${exampleJobId}`]) {
      await page.goto(`${api.url}/${hash}`);
      await page.locator('h1').first().waitFor();
      await page.waitForLoadState('networkidle');
      expect(await page.evaluate('document.documentElement.scrollWidth')).toBeLessThanOrEqual(360);
    }
    expect(watched.consoleErrors).toEqual([]);
    await page.context().close();
  });

  it('updates job statuses on My jobs without a reload, and cancels from there', async () => {
    const form = new FormData();
    form.append('files', new Blob(['import time\nprint("napping", flush=True)\ntime.sleep(60)\n']), 'main.py');
    const headers = { Authorization: `Bearer ${TOKENS.alice}` };
    const submission = (await (await fetch(`${api.url}/submissions`, { method: 'POST', headers, body: form })).json()) as { submission_id: string };
    const created = await fetch(`${api.url}/jobs`, {
      method: 'POST',
      headers: { ...headers, 'Content-Type': 'application/json' },
      body: JSON.stringify({ submission_id: submission.submission_id, benchmark: null }),
    });
    const { job_id: jobId } = (await created.json()) as { job_id: string };
    const watched = await openPage();
    const { page } = watched;
    await signIn(page, 'alice');
    await page.getByRole('link', { name: 'My jobs' }).click();
    const row = page.locator(`tr[data-job-id="${jobId}"]`);
    await row.locator('.status-running').waitFor({ timeout: 15_000 });
    await row.getByRole('button', { name: `Cancel job ${jobId}` }).click();
    await row.locator('.status-cancelled').waitFor({ timeout: 15_000 });
    await row.getByRole('button', { name: `Re-run job ${jobId}` }).waitFor();
    expect(watched.consoleErrors).toEqual([]);
    await page.context().close();
  });

  it('keeps the job page working when the metric charts answer 503, and shows that message', async () => {
    const watched = await openPage();
    const { page } = watched;
    // MLflow cannot be stopped under the shared test server: the metrics route's 503 body is played back instead.
    const message = 'the tracking server (MLflow) does not answer; the status, log and official scores still work';
    await page.route('**/jobs/*/metrics', (route) =>
      route.fulfill({ status: 503, contentType: 'application/json', body: JSON.stringify({ statusCode: 503, error: 'Service Unavailable', message }) }),
    );
    await signIn(page, 'alice');
    await page.goto(`${api.url}/#/jobs/${exampleJobId}`);
    await page.getByText('The log is complete.').waitFor();
    expect(await page.getByRole('alert').textContent()).toBe(`Loading the metric charts failed: ${message}`);
    await page.getByRole('table', { name: 'Official scores' }).waitFor();
    expect(await page.getByLabel('Job log').textContent()).toContain('[anomaly-digits]');
    expect(watched.consoleErrors.filter((line) => !/status of 503/.test(line))).toEqual([]);
    await page.context().close();
  });

  it('shows the API message for a refused upload, and for another user job', async () => {
    const watched = await openPage();
    const { page } = watched;
    await signIn(page, 'bob');
    await page.getByRole('link', { name: 'Submit' }).click();
    await page.getByLabel('Files or an archive').setInputFiles([{ name: 'evil.exe', mimeType: 'application/octet-stream', buffer: Buffer.from('MZ') }]);
    await page.getByRole('button', { name: 'Upload and run' }).click();
    const alert = page.getByRole('alert');
    await alert.waitFor();
    expect(await alert.textContent()).toMatch(/Uploading the files failed:.*"evil\.exe" has an extension that is not allowed/);

    await page.goto(`${api.url}/#/jobs/${exampleJobId}`);
    const expected = await apiMessageOf(`/jobs/${exampleJobId}/status`, TOKENS.bob);
    await page.getByRole('alert').waitFor();
    expect(await page.getByRole('alert').textContent()).toContain(expected);
    expect(unexpected(watched)).toEqual([]);
    await page.context().close();
  });

  it('shows markup in file names, log lines and error messages as text', async () => {
    const watched = await openPage();
    const { page } = watched;
    await signIn(page, 'alice');
    await page.getByRole('link', { name: 'Submit' }).click();
    const main = [...MARKUP.map((line) => `print(${JSON.stringify(line)}, flush=True)`), `raise SystemExit(${JSON.stringify(MARKUP[1])})`].join('\n');
    await page.getByLabel('Files or an archive').setInputFiles([
      { name: 'main.py', mimeType: 'text/x-python', buffer: Buffer.from(main) },
      { name: `${MARKUP[1]}.txt`, mimeType: 'text/plain', buffer: Buffer.from('x') },
    ]);
    expect(await page.locator('.file-list').textContent()).toContain(MARKUP[1]);
    await page.getByLabel('Config file', { exact: true }).fill('');
    await page.getByLabel('Benchmark').selectOption('(none)');
    await page.getByRole('button', { name: 'Upload and run' }).click();
    await page.waitForURL(/#\/jobs\/[^/]+$/);
    await page.getByText('The log is complete.').waitFor({ timeout: 30_000 });
    await page.locator('.status-failed').first().waitFor({ timeout: 15_000 });
    const log = (await page.getByLabel('Job log').textContent()) ?? '';
    for (const line of MARKUP) expect(log).toContain(line);
    expect(await page.locator('main script, main img, main [onerror]').count()).toBe(0);
    expect(await page.evaluate('window.__pwned')).toBeUndefined();
    expect(watched.dialogs).toEqual([]);

    // Re-run: a new job of the same submission, opened at once.
    const firstUrl = page.url();
    await page.getByRole('button', { name: /^Re-run job/ }).click();
    await page.waitForURL((url) => url.toString() !== firstUrl && /#\/jobs\//.test(url.toString()));
    await page.getByText('The log is complete.').waitFor({ timeout: 30_000 });
    expect(await page.evaluate('window.__pwned')).toBeUndefined();
    expect(watched.dialogs).toEqual([]);
    expect(watched.consoleErrors).toEqual([]);
    await page.context().close();
  });
});

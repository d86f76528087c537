// A second client during `npm run bench:load`: while Locust drives the seed's load, it uploads a
// 1 MB main.py and a small one in turn, one every LOAD_REFERENCE_PAUSE_MS, and prints P50/P95 of
// each. Node sends a body with one write; Locust's own 1 MB figure also holds the time its Python
// client takes to push the bytes on a host whose CPUs it shares with the stack.
// Usage: node bench/reference-client.mjs URL TOKEN SECONDS
const [url, token, seconds] = process.argv.slice(2);
const pauseMs = Number(process.env.LOAD_REFERENCE_PAUSE_MS ?? 400);
const boundary = '----leadersboard-reference';

function multipart(content) {
  const head = `--${boundary}\r\nContent-Disposition: form-data; name="files"; filename="main.py"\r\nContent-Type: application/octet-stream\r\n\r\n`;
  return Buffer.concat([Buffer.from(head), content, Buffer.from(`\r\n--${boundary}--\r\n`)]);
}

const bodies = {
  '1 MB': multipart(Buffer.from('print("reference")\n' + '#'.repeat(2 ** 20 - 20) + '\n')),
  small: multipart(Buffer.from('print("reference")\n')),
};
const times = { '1 MB': [], small: [] };
const failures = [];

const end = Date.now() + Number(seconds) * 1000;
for (let index = 0; Date.now() < end; index += 1) {
  const kind = index % 2 === 0 ? '1 MB' : 'small';
  const started = performance.now();
  try {
    const response = await fetch(`${url}/submissions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': `multipart/form-data; boundary=${boundary}` },
      body: bodies[kind],
    });
    await response.text();
    if (response.status === 201) times[kind].push(performance.now() - started);
    else failures.push(`HTTP ${response.status}`);
  } catch (error) {
    failures.push(error.message);
  }
  await new Promise((resolve) => setTimeout(resolve, pauseMs));
}

const quantile = (sorted, q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
for (const [kind, list] of Object.entries(times)) {
  const sorted = [...list].sort((a, b) => a - b);
  if (sorted.length === 0) console.log(`reference client, ${kind} upload: no successful request`);
  else console.log(`reference client, ${kind} upload: ${sorted.length} requests, P50 ${quantile(sorted, 0.5).toFixed(0)} ms, P95 ${quantile(sorted, 0.95).toFixed(0)} ms, max ${sorted.at(-1).toFixed(0)} ms`);
}
if (failures.length > 0) console.log(`reference client: ${failures.length} failed: ${[...new Set(failures)].join('; ')}`);
process.exit(failures.length > 0 ? 1 : 0);

/**
 * Summarises a V8 .cpuprofile (from `BENCH_API_NODE_ARGS="--cpu-prof --cpu-prof-dir=DIR" npm run bench:api`):
 * self time by package and by function, and inclusive time of the functions that matter most.
 *
 *   npx ts-node --transpile-only bench/profile-summary.ts DIR/CPU.*.cpuprofile [rows]
 */
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

const [file, rowsArg] = process.argv.slice(2);
if (!file) {
  console.error('usage: ts-node bench/profile-summary.ts FILE.cpuprofile [rows]');
  process.exit(2);
}
const rows = Number(rowsArg) || 25;
const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
const nodes = new Map(profile.nodes.map((node) => [node.id, node]));

const self = new Map<number, number>();
let total = 0;
profile.samples.forEach((id, index) => {
  const delta = profile.timeDeltas[index] ?? 0;
  self.set(id, (self.get(id) ?? 0) + delta);
  total += delta;
});

const shortUrl = (url: string) => url.replace(/.*node_modules\//, '').replace(/^file:\/\/.*\/(dist|bench)\//, '$1/');
const packageOf = (node: ProfileNode) => {
  const { url, functionName } = node.callFrame;
  const match = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (match) return match[1];
  if (url.startsWith('node:')) return url;
  if (url) return `app: ${shortUrl(url)}`;
  return functionName.startsWith('(') ? functionName : `(native) ${functionName}`;
};
const functionOf = (node: ProfileNode) =>
  `${node.callFrame.functionName || '(anonymous)'} ${shortUrl(node.callFrame.url)}:${node.callFrame.lineNumber + 1}`;

function add(map: Map<string, number>, key: string, value: number): void {
  map.set(key, (map.get(key) ?? 0) + value);
}

function print(title: string, map: Map<string, number>): void {
  console.log(`--- ${title}`);
  for (const [name, micros] of [...map].sort((a, b) => b[1] - a[1]).slice(0, rows)) {
    console.log(`${((100 * micros) / total).toFixed(1).padStart(5)}%  ${(micros / 1000).toFixed(0).padStart(7)} ms  ${name}`);
  }
}

const byPackage = new Map<string, number>();
const byFunction = new Map<string, number>();
for (const [id, micros] of self) {
  const node = nodes.get(id);
  if (!node) continue;
  add(byPackage, packageOf(node), micros);
  add(byFunction, functionOf(node), micros);
}

// Inclusive time per function name; a function on the stack twice (recursion) is counted twice.
const inclusiveOf = new Map<number, number>();
const inclusive = (id: number): number => {
  const known = inclusiveOf.get(id);
  if (known !== undefined) return known;
  const node = nodes.get(id);
  const value = (self.get(id) ?? 0) + (node?.children ?? []).reduce((sum, child) => sum + inclusive(child), 0);
  inclusiveOf.set(id, value);
  return value;
};
const byInclusive = new Map<string, number>();
for (const node of profile.nodes) {
  if (!node.callFrame.functionName || node.callFrame.functionName.startsWith('(')) continue;
  add(byInclusive, `${node.callFrame.functionName} ${shortUrl(node.callFrame.url)}`, inclusive(node.id));
}

console.log(`profile ${file}: ${(total / 1e6).toFixed(2)} s sampled`);
print('self time by package', byPackage);
print('self time by function', byFunction);
print('inclusive time by function (recursion counted twice)', byInclusive);

/**
 * Line coverage of libs/ and apps/ over everything `npm test` runs: the unit run and the e2e run (jest --coverage
 * writes coverage/unit and coverage/e2e) and the built apps the e2e tests start as child processes, the worker and
 * the CLI (their V8 coverage in coverage/child, mapped back to the TypeScript through dist/apps/<app>/main.js.map).
 * Prints a table per area, writes coverage/summary.json and coverage/coverage-final.json (the merged map), and
 * exits 1 under COVERAGE_MIN percent of lines (default 80).
 *
 *   npx ts-node -r tsconfig-paths/register --transpile-only scripts/coverage.ts
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { CoverageMap, createCoverageMap } from 'istanbul-lib-coverage';
import v8ToIstanbul from 'v8-to-istanbul';

const ROOT = path.resolve(__dirname, '..');
const OUT = path.join(ROOT, 'coverage');
const MIN = Number(process.env.COVERAGE_MIN ?? 80);

const AREAS = ['libs/domain', 'libs/adapters', 'libs/client', 'apps/api', 'apps/worker', 'apps/cli', 'apps/web'];
/** Areas left out of the total, and why. Only code no test run can measure belongs here. */
const NOT_COUNTED: Record<string, string> = {
  'apps/web': 'browser code: the browser tests run it in chromium, where it is not measured (unit-tested modules shown)',
};
/** The built apps the e2e tests start as processes; the API runs inside jest. */
const CHILD_BUNDLES = ['worker', 'cli'].map((app) => pathToFileURL(path.join(ROOT, 'dist/apps', app, 'main.js')).href);

interface Lines {
  covered: number;
  total: number;
}

function jestRun(name: string): CoverageMap {
  const file = path.join(OUT, name, 'coverage-final.json');
  if (!existsSync(file)) throw new Error(`${path.relative(ROOT, file)} is missing: run jest with --coverage first`);
  return createCoverageMap(JSON.parse(readFileSync(file, 'utf8')));
}

/**
 * The source lines the worker and CLI processes ran, per file, from the V8 coverage files NODE_V8_COVERAGE wrote
 * (one per process). v8-to-istanbul reports every source line as a statement, comments and types included, so
 * these lines only mark statements as run: what counts as a line stays what the jest runs' instrumentation says.
 */
async function childProcesses(): Promise<{ ran: Map<string, Set<number>>; processes: number }> {
  const ran = new Map<string, Set<number>>();
  const dir = path.join(OUT, 'child');
  if (!existsSync(dir)) return { ran, processes: 0 };
  let processes = 0;
  for (const name of readdirSync(dir).filter((file) => file.endsWith('.json'))) {
    const { result } = JSON.parse(readFileSync(path.join(dir, name), 'utf8')) as { result: { url: string; functions: [] }[] };
    for (const script of result.filter((entry) => CHILD_BUNDLES.includes(entry.url))) {
      processes += 1;
      const converter = v8ToIstanbul(new URL(script.url).pathname, 0, undefined, (source) => !/\/(libs|apps)\/[^/]+\/src\//.test(source));
      await converter.load();
      converter.applyCoverage(script.functions);
      for (const [file, data] of Object.entries(converter.toIstanbul())) {
        const lines = ran.get(file) ?? new Set<number>();
        for (const [id, count] of Object.entries(data.s)) if (count > 0) lines.add(data.statementMap[id].start.line);
        ran.set(file, lines);
      }
      converter.destroy();
    }
  }
  return { ran, processes };
}

/** Marks the statements of the merged jest coverage that start on a line a child process ran. */
function addChildLines(map: CoverageMap, ran: Map<string, Set<number>>): void {
  for (const [file, lines] of ran) {
    if (!map.files().includes(file)) continue;
    const coverage = map.fileCoverageFor(file);
    for (const [id, location] of Object.entries(coverage.statementMap)) {
      if (coverage.s[id] === 0 && lines.has(location.start.line)) coverage.s[id] = 1;
    }
  }
}

function linesOf(map: CoverageMap, files: string[]): Lines {
  const sum = { covered: 0, total: 0 };
  for (const file of files) {
    const counts = Object.values(map.fileCoverageFor(file).getLineCoverage());
    sum.total += counts.length;
    sum.covered += counts.filter((count) => count > 0).length;
  }
  return sum;
}

const pct = ({ covered, total }: Lines) => (total === 0 ? 100 : (100 * covered) / total);
const row = (name: string, lines: Lines, note = '') =>
  `${name.padEnd(16)}${String(lines.covered).padStart(7)} /${String(lines.total).padStart(6)}${pct(lines).toFixed(1).padStart(8)} %${note ? `  ${note}` : ''}`;

async function main(): Promise<void> {
  const unit = jestRun('unit');
  const merged = createCoverageMap({});
  merged.merge(unit);
  merged.merge(jestRun('e2e'));
  // Jest lists every file collectCoverageFrom names, run or not: that is the denominator.
  const child = await childProcesses();
  addChildLines(merged, child.ran);

  const areaOf = (file: string) => AREAS.find((area) => path.relative(ROOT, file).startsWith(`${area}/`));
  const summary: Record<string, Lines & { pct: number; counted: boolean }> = {};
  const total = { covered: 0, total: 0 };
  console.log(`\nline coverage (unit + e2e + ${child.processes} worker/CLI processes)`);
  for (const area of AREAS) {
    const lines = linesOf(merged, merged.files().filter((file) => areaOf(file) === area));
    const countedArea = !(area in NOT_COUNTED);
    summary[area] = { ...lines, pct: Number(pct(lines).toFixed(2)), counted: countedArea };
    if (countedArea) {
      total.covered += lines.covered;
      total.total += lines.total;
    }
    console.log(row(area, lines, countedArea ? '' : `not counted: ${NOT_COUNTED[area]}`));
  }
  console.log(row('total', total, `(gate: ${MIN} %)`));

  const uncovered = merged
    .files()
    .filter((file) => !(areaOf(file)! in NOT_COUNTED))
    .map((file) => {
      const lines = linesOf(merged, [file]);
      return { file: path.relative(ROOT, file), missed: lines.total - lines.covered, lines };
    })
    .sort((a, b) => b.missed - a.missed)
    .slice(0, 8);
  console.log('most lines not run:');
  for (const { file, missed, lines } of uncovered) console.log(`  ${String(missed).padStart(5)}  ${file} (${pct(lines).toFixed(0)} %)`);

  writeFileSync(path.join(OUT, 'coverage-final.json'), JSON.stringify(merged.toJSON()));
  const totalPct = Number(pct(total).toFixed(2));
  writeFileSync(
    path.join(OUT, 'summary.json'),
    JSON.stringify({ lines: { ...total, pct: totalPct }, min: MIN, areas: summary, child_processes: child.processes, not_counted: NOT_COUNTED }, null, 2) + '\n',
  );
  if (totalPct < MIN) {
    console.error(`line coverage ${totalPct} % is under ${MIN} %`);
    process.exit(1);
  }
}

main().catch((error: Error) => {
  console.error(`coverage: ${error.message}`);
  process.exit(2);
});

/** stdout carries the data (a job id, a table, JSON); stderr carries progress, logs followed and errors. */
export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

export function printLine(text = ''): void {
  process.stdout.write(`${text}\n`);
}

/** A line for the person watching; said only on a terminal, so pipes and CI logs stay clean. */
export function note(interactive: boolean, text: string): void {
  if (interactive) process.stderr.write(`${text}\n`);
}

/** A line that matters wherever stderr goes (the outcome of a run). */
export function report(text: string): void {
  process.stderr.write(`${text}\n`);
}

/** Columns padded to their widest cell; the last column is left ragged. */
export function printTable(header: string[], rows: string[][]): void {
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => (row[column] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((cell, column) => (column === cells.length - 1 ? cell : cell.padEnd(widths[column])))
      .join('  ')
      .trimEnd();
  printLine(line(header));
  for (const row of rows) printLine(line(row));
}

export function formatNumber(value: number | null | undefined): string {
  if (value === null || value === undefined) return '-';
  return Number.isInteger(value) ? String(value) : value.toPrecision(6).replace(/\.?0+$/, '');
}

export function formatScores(scores: Record<string, number> | null | undefined): string {
  if (!scores || Object.keys(scores).length === 0) return '-';
  return Object.entries(scores)
    .map(([name, value]) => `${name}=${formatNumber(value)}`)
    .join(' ');
}

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 2 ** 20) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${(bytes / 2 ** 20).toFixed(1)} MiB`;
}

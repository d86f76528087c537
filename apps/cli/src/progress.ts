import { formatBytes } from './output';

/** A one-line upload bar on stderr, redrawn at most ten times a second; silent when stderr is not a terminal. */
export class UploadProgress {
  private lastDrawn = 0;

  constructor(
    private readonly enabled: boolean,
    private readonly total: number,
  ) {}

  update(sent: number): void {
    if (!this.enabled) return;
    const now = Date.now();
    if (sent < this.total && now - this.lastDrawn < 100) return;
    this.lastDrawn = now;
    const fraction = this.total > 0 ? Math.min(1, sent / this.total) : 1;
    const width = 24;
    const filled = Math.round(fraction * width);
    const bar = `${'#'.repeat(filled)}${'-'.repeat(width - filled)}`;
    process.stderr.write(`\ruploading [${bar}] ${String(Math.round(fraction * 100)).padStart(3)}% ${formatBytes(sent)} of ${formatBytes(this.total)}`);
  }

  done(): void {
    if (this.enabled) process.stderr.write('\n');
  }
}

import { Dirent, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { BenchmarkCatalogPort, BenchmarkListing } from '@app/domain';
import { ConfigError } from '../config/config-error';
import { readBenchmarkFolder } from './benchmark-folder';

export interface CatalogLoadOptions {
  /** True when BENCHMARKS_DIR was set explicitly: then a missing folder is a start error, not "no benchmarks". */
  required?: boolean;
}

/**
 * The benchmarks in `BENCHMARKS_DIR`, read once at start: every subfolder is a benchmark, listed as
 * unavailable (with the reason) when invalid, so one bad folder never hides the good ones or stops
 * the process. Hidden dot-folders and plain files (a README) are skipped.
 */
export class FileSystemBenchmarkCatalog extends BenchmarkCatalogPort {
  private readonly byId: Map<string, BenchmarkListing>;

  private constructor(
    private readonly listings: BenchmarkListing[],
    private readonly problemLines: string[],
  ) {
    super();
    this.byId = new Map(listings.map((listing) => [listing.id, listing]));
  }

  static load(dir: string, options: CatalogLoadOptions = {}): FileSystemBenchmarkCatalog {
    const root = path.resolve(dir);
    let entries: Dirent[];
    try {
      entries = readdirSync(root, { withFileTypes: true });
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
      if (options.required) throw new ConfigError(`BENCHMARKS_DIR ${root} cannot be read as a folder (${code})`);
      if (code === 'ENOENT') return new FileSystemBenchmarkCatalog([], []);
      return new FileSystemBenchmarkCatalog([], [`${root}: cannot be read as the benchmarks folder (${code}); no benchmark is available`]);
    }
    const listings: BenchmarkListing[] = [];
    const problemLines: string[] = [];
    for (const entry of entries.filter((item) => !item.name.startsWith('.') && isFolder(root, item))) {
      const folder = path.join(root, entry.name);
      const { listing, problems } = readBenchmarkFolder(folder, entry.name);
      listings.push(listing);
      if (problems.length > 0) {
        const where = problems.map((problem) => (problem.part ? `${path.join(folder, problem.part)}: ${problem.text}` : `${folder}: ${problem.text}`));
        problemLines.push(`benchmark ${entry.name} is unavailable: ${where.join('; ')}`);
      }
    }
    listings.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    return new FileSystemBenchmarkCatalog(listings, problemLines.sort());
  }

  list(): BenchmarkListing[] {
    return [...this.listings];
  }

  get(id: string): BenchmarkListing | undefined {
    return this.byId.get(id);
  }

  /** One line per invalid folder, naming the file and what is wrong, for the API and worker to log at start. */
  problems(): string[] {
    return [...this.problemLines];
  }
}

/** A benchmark folder, or a symbolic link to one (a broken link too, so its folder is reported). */
function isFolder(root: string, entry: Dirent): boolean {
  if (entry.isDirectory()) return true;
  if (!entry.isSymbolicLink()) return false;
  try {
    return statSync(path.join(root, entry.name)).isDirectory();
  } catch {
    return true;
  }
}

import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

/** The machine's PostgreSQL as a superuser; tests make their own role and database there. */
export function postgresAdminUrl(): string {
  return process.env.TEST_POSTGRES_URL || 'postgresql://postgres@127.0.0.1:5432/postgres';
}

/** Runs one SQL statement with psql (the repo has no node driver) and returns the rows, columns split. */
export async function psql(url: string, sql: string): Promise<string[][]> {
  const { stdout } = await execFileAsync('psql', [url, '-X', '-q', '-A', '-t', '-F', '\t', '-v', 'ON_ERROR_STOP=1', '-c', sql], { timeout: 30_000 });
  return stdout
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => line.split('\t'));
}

export interface ScratchDatabase {
  name: string;
  /** postgresql://role:password@host:port/database, as MLflow's backend store URI */
  url: string;
  /** Drops the database (ending its sessions) and the role; safe to call twice. */
  drop(): Promise<void>;
}

/** A new login role owning a new database, both named uniquely for this run. */
export async function createScratchDatabase(prefix: string): Promise<ScratchDatabase> {
  const admin = postgresAdminUrl();
  const name = `${prefix}_${randomBytes(5).toString('hex')}`;
  const password = randomBytes(16).toString('hex');
  const drop = async () => {
    await psql(admin, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await psql(admin, `DROP ROLE IF EXISTS ${name}`);
  };
  await psql(admin, `CREATE ROLE ${name} LOGIN PASSWORD '${password}'`);
  try {
    await psql(admin, `CREATE DATABASE ${name} OWNER ${name}`);
  } catch (error) {
    await drop();
    throw error;
  }
  const server = new URL(admin);
  return { name, url: `postgresql://${name}:${password}@${server.host}/${name}`, drop };
}

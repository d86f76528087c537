/** Identifiers: random ones for submissions, derived ones for jobs (the idempotency key). */
export abstract class IdPort {
  /** A new unique id. */
  abstract random(): string;
  /** The same parts always give the same id; different parts give different ids. */
  abstract derive(parts: string[]): string;
}

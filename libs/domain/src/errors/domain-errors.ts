/** Base of every error the domain raises on purpose; the API maps each kind to one status code. */
export abstract class DomainError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** The thing asked for does not exist (404). */
export class NotFound extends DomainError {}

/** The thing exists but belongs to someone else (403). */
export class Forbidden extends DomainError {}

/** The input is wrong; `problems` lists every offending field (400). */
export class Invalid extends DomainError {
  constructor(readonly problems: string[]) {
    super(problems.join('; '));
  }
}

/** The request clashes with the current state (409). */
export class Conflict extends DomainError {}

/** Over a per-user limit; the caller may retry after `retryAfterSeconds` (429). */
export class RateLimited extends DomainError {
  constructor(
    message: string,
    readonly retryAfterSeconds: number,
  ) {
    super(message);
  }
}

/** An input is bigger than allowed (413). */
export class TooLarge extends DomainError {}

/** A dependency (Redis, queue, tracking server, disk) is down (503). */
export class Unavailable extends DomainError {}

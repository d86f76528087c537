/** The authenticated user behind a request. */
export class Caller {
  constructor(
    readonly userId: string,
    readonly isAdmin: boolean,
  ) {}

  /** Users read their own things; admins read everything. */
  mayRead(owned: { userId: string }): boolean {
    return this.isAdmin || owned.userId === this.userId;
  }
}

/** Time, behind a port so use cases can be tested at chosen instants. */
export abstract class ClockPort {
  /** Epoch milliseconds. */
  abstract now(): number;
}

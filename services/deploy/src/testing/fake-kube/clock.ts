/** A clock the test moves: the simulated controllers read it and reconcile on every advance. */
export class FakeClock {
  private ms: number;
  private readonly listeners: Array<() => void> = [];

  constructor(start = Date.parse('2026-01-01T00:00:00Z')) {
    this.ms = start;
  }

  now(): number {
    return this.ms;
  }

  iso(ms = this.ms): string {
    return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
  }

  /** Moves time forward by `ms` and lets every listener (controllers, bookmarks) act once. */
  advance(ms: number): void {
    this.ms += ms;
    for (const listener of this.listeners) listener();
  }

  onAdvance(listener: () => void): void {
    this.listeners.push(listener);
  }
}

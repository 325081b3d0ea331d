/**
 * Runs async jobs one at a time; urgent jobs start before any queued normal job (FIFO within
 * each class). A job already running is never interrupted.
 */
export class PriorityQueue {
  readonly #urgent: (() => void)[] = [];
  readonly #normal: (() => void)[] = [];
  #busy = false;

  run<T>(urgent: boolean, job: () => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      (urgent ? this.#urgent : this.#normal).push(() => {
        job().then(resolve, reject).finally(() => {
          this.#busy = false;
          this.#next();
        });
      });
      this.#next();
    });
  }

  /** Jobs waiting (not counting the one running). */
  get waiting(): number {
    return this.#urgent.length + this.#normal.length;
  }

  #next(): void {
    if (this.#busy) return;
    const start = this.#urgent.shift() ?? this.#normal.shift();
    if (!start) return;
    this.#busy = true;
    start();
  }
}

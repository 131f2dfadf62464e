/**
 * At most N ffmpeg processes at a time, N = the CPUs the processor may use.
 * Every ffmpeg the processor runs is single-threaded for our filters and
 * encoders (ffmpeg 5.1 runs all encoders of one process on one thread), so N
 * busy processes keep N cores busy; more would only add memory, not speed.
 */
import { availableParallelism } from "node:os";

export class Slots {
  readonly size: number;
  private busy = 0;
  private waiting: (() => void)[] = [];

  constructor(size = availableParallelism()) {
    this.size = Math.max(1, Math.floor(size));
  }

  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.busy >= this.size) await new Promise<void>((resolve) => this.waiting.push(resolve));
    else this.busy++;
    try {
      return await task();
    } finally {
      // Hand the slot straight to the next waiter (busy stays the same), or free it.
      const next = this.waiting.shift();
      if (next) next();
      else this.busy--;
    }
  }
}

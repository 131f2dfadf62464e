/**
 * Upload progress for a person watching: on a terminal, one bar redrawn in
 * place (bytes, rate, ETA); in a log or pipe, a plain line every few seconds,
 * because carriage returns make a mess of files.
 */
export interface ProgressOutput {
  isTTY?: boolean;
  columns?: number;
  write(text: string): unknown;
}

/** Rate over the last few seconds: a resumed upload or a stalled network shows what is happening now. */
const WINDOW_MS = 5000;
const TTY_REDRAW_MS = 100;
const LINE_EVERY_MS = 5000;

export const megabytes = (bytes: number) => (bytes / 1e6).toFixed(1);

export function duration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return "--:--";
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, "0");
  return h > 0 ? `${h}:${String(m).padStart(2, "0")}:${ss}` : `${m}:${ss}`;
}

export class ProgressReporter {
  readonly #out: ProgressOutput;
  readonly #now: () => number;
  #samples: { at: number; bytes: number }[] = [];
  #lastDraw = 0;
  #drawn = false;

  constructor(out: ProgressOutput, now: () => number = () => performance.now()) {
    this.#out = out;
    this.#now = now;
  }

  /** Where this run starts (a resume starts past 0: the rate counts only what this run sends). */
  start(offset: number): void {
    this.#samples = [{ at: this.#now(), bytes: offset }];
  }

  update(sent: number, total: number, force = false): void {
    const at = this.#now();
    this.#samples.push({ at, bytes: sent });
    while (this.#samples.length > 2 && at - this.#samples[0]!.at > WINDOW_MS) this.#samples.shift();
    const every = this.#out.isTTY ? TTY_REDRAW_MS : LINE_EVERY_MS;
    if (!force && at - this.#lastDraw < every) return;
    this.#lastDraw = at;
    const first = this.#samples[0]!;
    const seconds = (at - first.at) / 1000;
    const rate = seconds > 0.2 ? (sent - first.bytes) / seconds : NaN;
    const eta = rate > 0 ? (total - sent) / rate : NaN;
    const percent = total > 0 ? Math.floor((sent / total) * 100) : 0;
    const figures = `${megabytes(sent)}/${megabytes(total)} MB  ${Number.isFinite(rate) ? megabytes(rate) : "-"} MB/s  ETA ${duration(eta)}`;
    if (this.#out.isTTY) {
      const width = Math.max(10, Math.min(40, (this.#out.columns ?? 80) - figures.length - 10));
      const filled = Math.round((width * percent) / 100);
      this.#out.write(`\r[${"#".repeat(filled)}${"-".repeat(width - filled)}] ${String(percent).padStart(3)}%  ${figures}\x1b[K`);
      this.#drawn = true;
    } else {
      this.#out.write(`uploaded ${percent}%  ${figures}\n`);
    }
  }

  /** Ends the bar's line so what follows starts on its own. */
  finish(): void {
    if (this.#drawn) this.#out.write("\n");
    this.#drawn = false;
  }
}

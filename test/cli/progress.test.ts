// The uploader's progress output on its own, with a hand-driven clock: what a terminal and a log file get.
import { describe, expect, it } from "vitest";
import { ProgressReporter, duration } from "../../cli/progress.ts";

function reporter(isTTY: boolean) {
  let now = 0;
  const written: string[] = [];
  const r = new ProgressReporter({ isTTY, columns: 100, write: (t) => written.push(t) }, () => now);
  return { r, written, advance: (ms: number) => (now += ms) };
}

describe("upload progress", () => {
  it("redraws one bar in place on a terminal, with bytes, the recent rate and the time left", () => {
    const { r, written, advance } = reporter(true);
    r.start(0);
    advance(2000);
    r.update(20e6, 100e6);
    expect(written.at(-1)).toBe(`\r[${"#".repeat(8)}${"-".repeat(32)}]  20%  20.0/100.0 MB  10.0 MB/s  ETA 0:08\x1b[K`);
    advance(50);
    r.update(20.5e6, 100e6); // under 100 ms since the last draw: not redrawn
    expect(written).toHaveLength(1);
    r.finish();
    expect(written.at(-1)).toBe("\n");
  });

  it("counts a resumed run's rate from where it resumed, not from zero", () => {
    const { r, written, advance } = reporter(true);
    r.start(60e6);
    advance(4000);
    r.update(80e6, 100e6);
    expect(written.at(-1)).toContain("80.0/100.0 MB  5.0 MB/s  ETA 0:04");
  });

  it("writes plain lines at most every 5 s when the output is not a terminal", () => {
    const { r, written, advance } = reporter(false);
    r.start(0);
    for (let i = 1; i <= 20; i++) {
      advance(1000);
      r.update(i * 1e6, 20e6);
    }
    expect(written).toEqual([
      "uploaded 25%  5.0/20.0 MB  1.0 MB/s  ETA 0:15\n",
      "uploaded 50%  10.0/20.0 MB  1.0 MB/s  ETA 0:10\n",
      "uploaded 75%  15.0/20.0 MB  1.0 MB/s  ETA 0:05\n",
      "uploaded 100%  20.0/20.0 MB  1.0 MB/s  ETA 0:00\n",
    ]);
    expect(written.join("")).not.toContain("\r");
  });

  it("formats times left as m:ss or h:mm:ss", () => {
    expect(duration(59.6)).toBe("1:00");
    expect(duration(3725)).toBe("1:02:05");
    expect(duration(NaN)).toBe("--:--");
  });
});

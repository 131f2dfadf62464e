/**
 * Memory of the local edge: the workerd processes that `wrangler dev` started
 * under this process (the Worker's runtime and wrangler's dev proxy), found by
 * walking /proc, and their summed resident set sampled every 100 ms.
 */
import { readFileSync, readdirSync } from "node:fs";

function parentOf(pid: number): number | undefined {
  try {
    // "pid (comm) state ppid ...": comm may contain spaces, so read after the last ')'.
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
  } catch {
    return undefined;
  }
}

function commOf(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/comm`, "utf8").trim();
  } catch {
    return "";
  }
}

/** workerd processes descending from `ancestor` (e.g. this process, which started wrangler). */
export function workerdPids(ancestor = process.pid): number[] {
  const pids = readdirSync("/proc")
    .filter((d) => /^\d+$/.test(d))
    .map(Number);
  return pids.filter((pid) => {
    if (commOf(pid) !== "workerd") return false;
    for (let p = parentOf(pid), hops = 0; p !== undefined && p > 1 && hops < 32; p = parentOf(p), hops++) {
      if (p === ancestor) return true;
    }
    return false;
  });
}

/** Summed VmRSS of the processes, bytes (a process that exited counts 0). */
export function rssBytes(pids: number[]): number {
  let total = 0;
  for (const pid of pids) {
    try {
      const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
      if (m) total += Number(m[1]) * 1024;
    } catch {
      // gone
    }
  }
  return total;
}

export interface MemoryPeak {
  /** Largest summed RSS seen while sampling, bytes. */
  peakBytes: number;
  samples: number;
}

/** Samples the summed RSS of `pids` every `everyMs` until the returned function is called. */
export function sampleMemory(pids: number[], everyMs = 100): () => MemoryPeak {
  let peakBytes = rssBytes(pids);
  let samples = 1;
  const timer = setInterval(() => {
    peakBytes = Math.max(peakBytes, rssBytes(pids));
    samples++;
  }, everyMs);
  return () => {
    clearInterval(timer);
    peakBytes = Math.max(peakBytes, rssBytes(pids));
    return { peakBytes, samples: samples + 1 };
  };
}

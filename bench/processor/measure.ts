/**
 * Runs one command and measures its whole process tree: wall time, CPU time
 * (user + system of every descendant, from GNU time's wait4 rusage, which
 * includes all reaped children), and peak memory sampled from /proc: the peak
 * of the SUM over the tree of VmRSS every 100 ms (shared libraries counted
 * once per process: pessimistic) and of Pss every 500 ms (shared pages divided
 * among the processes that map them: what the tree really occupies). The
 * sampler itself costs ~1% of a core, which the measured tree does not get.
 */
import { spawn } from "node:child_process";
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";

export interface TreeUsage {
  wallSeconds: number;
  cpuSeconds: number;
  /** Peak of the tree's summed VmRSS, MB (1e6 bytes). */
  peakRssMb: number;
  /** Peak of the tree's summed Pss, MB. */
  peakPssMb: number;
  /** Most processes alive in the tree at one sample. */
  peakProcesses: number;
  exitCode: number | null;
  stdout: string;
  stderrTail: string;
}

const GNU_TIME = "/usr/bin/time";

// Synchronous on purpose: the sampler shares the machine's cores with what it measures, and the
// promise-based reads of ~100 small /proc files cost ~20% of a core at 10 Hz (the sync ones ~2%).
function readText(file: string): string | undefined {
  try {
    return readFileSync(file, "utf8");
  } catch {
    return undefined;
  }
}

/** pid -> ppid for every process visible now. */
function parents(): Map<number, number> {
  const map = new Map<number, number>();
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    const stat = readText(`/proc/${name}/stat`);
    if (!stat) continue;
    // Field 4 (ppid) follows the command name in parentheses, which may itself contain spaces.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    map.set(Number(name), Number(fields[1]));
  }
  return map;
}

function descendants(root: number, ppids: Map<number, number>): number[] {
  const children = new Map<number, number[]>();
  for (const [pid, ppid] of ppids) children.set(ppid, [...(children.get(ppid) ?? []), pid]);
  const out: number[] = [];
  const stack = [root];
  while (stack.length) {
    const pid = stack.pop()!;
    out.push(pid);
    stack.push(...(children.get(pid) ?? []));
  }
  return out;
}

/** Bytes of VmRSS (cheap: /proc/PID/status). */
function rssOf(pid: number): number {
  return Number(/VmRSS:\s+(\d+)/.exec(readText(`/proc/${pid}/status`) ?? "")?.[1] ?? 0) * 1024;
}

/** Bytes of Pss (smaps_rollup walks the page tables: ~1.4 ms per ffmpeg, so it is read 2x a second). */
function pssOf(pid: number): number {
  const kb = /^Pss:\s+(\d+)/m.exec(readText(`/proc/${pid}/smaps_rollup`) ?? "")?.[1];
  return kb === undefined ? rssOf(pid) : Number(kb) * 1024;
}

export async function measureTree(
  command: string,
  args: string[],
  opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<TreeUsage> {
  const timeFile = path.join(tmpdir(), `bench-time-${process.pid}-${Date.now()}`);
  const useTime = existsSync(GNU_TIME);
  const [bin, argv] = useTime ? [GNU_TIME, ["-f", "%e %U %S", "-o", timeFile, command, ...args]] : [command, args];
  const started = performance.now();
  const child = spawn(bin, argv, { cwd: opts.cwd, env: opts.env ?? process.env, stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderrTail = "";
  child.stdout.setEncoding("utf8").on("data", (c: string) => (stdout += c));
  child.stderr.setEncoding("utf8").on("data", (c: string) => (stderrTail = (stderrTail + c).slice(-8000)));
  const exited = new Promise<number | null>((resolve) => child.on("close", (code) => resolve(code)));

  let peakRss = 0;
  let peakPss = 0;
  let peakProcesses = 0;
  let done = false;
  // Fallback CPU accounting without GNU time: utime+stime+cutime+cstime summed over the live tree.
  let lastTicks = 0;
  // Every 100 ms: VmRSS of the known tree. Every 500 ms: rescan /proc for the tree (~1.4 ms) and read Pss.
  // Every process here lives for seconds or more, so the slower rescan misses no peak worth having.
  const sampler = (async () => {
    let tree: number[] = [];
    for (let tick = 0; !done; tick++) {
      const full = tick % 5 === 0;
      if (full) tree = descendants(child.pid!, parents()).filter((p) => !useTime || p !== child.pid);
      let rss = 0;
      let pss = 0;
      let ticks = 0;
      for (const pid of tree) {
        rss += rssOf(pid);
        if (full) pss += pssOf(pid);
        if (!useTime) {
          const f = readText(`/proc/${pid}/stat`)?.split(") ")[1]?.split(" ") ?? [];
          ticks += Number(f[11] ?? 0) + Number(f[12] ?? 0) + Number(f[13] ?? 0) + Number(f[14] ?? 0);
        }
      }
      if (ticks) lastTicks = ticks;
      peakRss = Math.max(peakRss, rss);
      if (full) peakPss = Math.max(peakPss, pss);
      peakProcesses = Math.max(peakProcesses, tree.length);
      await new Promise((r) => setTimeout(r, 100));
    }
  })();
  const exitCode = await exited;
  const wallSeconds = (performance.now() - started) / 1000;
  done = true;
  await sampler;

  let cpuSeconds = lastTicks / 100;
  let wall = wallSeconds;
  if (useTime) {
    const line = readText(timeFile)?.trim().split("\n").pop() ?? "";
    const [e, u, s] = line.split(" ").map(Number);
    if (Number.isFinite(u) && Number.isFinite(s)) cpuSeconds = u! + s!;
    if (Number.isFinite(e)) wall = e!;
    await rm(timeFile, { force: true });
  }
  return {
    wallSeconds: wall,
    cpuSeconds,
    peakRssMb: peakRss / 1e6,
    peakPssMb: peakPss / 1e6,
    peakProcesses,
    exitCode,
    stdout,
    stderrTail,
  };
}

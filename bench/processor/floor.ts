/**
 * Approach (b), the floor: decode once per process, the five encoders with the
 * processor's exact settings, no filters, split over two processes (one per
 * core) the best way for this machine: each encoder's CPU cost is calibrated
 * on the first minute of the source, then the split with the smallest larger
 * half is chosen. The encode itself is a shell running two ffmpeg.
 */
import { spawnSync } from "node:child_process";
import path from "node:path";
import { RENDITIONS, type RenditionSpec } from "../../shared/renditions.ts";
import { codecArgs } from "../../processor/media/encoders.ts";
import { FFMPEG_SERIAL_FILTERS } from "../../processor/media/tools.ts";

function cpuSecondsOf(args: string[]): number {
  const r = spawnSync("/usr/bin/time", ["-f", "%U %S", "ffmpeg", ...FFMPEG_SERIAL_FILTERS, "-nostdin", "-v", "error", "-y", ...args], {
    encoding: "utf8",
  });
  const [u, s] = (r.stderr.trim().split("\n").pop() ?? "").split(" ").map(Number);
  return (u ?? 0) + (s ?? 0);
}

/** CPU seconds per rendition on the first 60 s (median of three runs). */
export function calibrate(source: string, outDir: string): Map<string, number> {
  const costs = new Map<string, number>();
  for (const spec of RENDITIONS) {
    const runs = [0, 1, 2]
      .map(() => cpuSecondsOf(["-t", "60", "-i", source, ...codecArgs(spec), path.join(outDir, `cal-${spec.file}`)]))
      .sort((a, b) => a - b);
    costs.set(spec.id, runs[1]!);
  }
  return costs;
}

export function bestSplit(costs: Map<string, number>): [RenditionSpec[], RenditionSpec[]] {
  let best: [RenditionSpec[], RenditionSpec[]] = [[...RENDITIONS], []];
  let bestMax = Infinity;
  for (let mask = 1; mask < 1 << (RENDITIONS.length - 1); mask++) {
    const a = RENDITIONS.filter((_, i) => mask & (1 << i));
    const b = RENDITIONS.filter((_, i) => !(mask & (1 << i)));
    const cost = (g: RenditionSpec[]) => g.reduce((n, s) => n + costs.get(s.id)!, 0);
    const max = Math.max(cost(a), cost(b));
    if (max < bestMax) [best, bestMax] = [[a, b], max];
  }
  return best;
}

const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/** The shell command encoding `groups` in parallel, one ffmpeg per group. */
export function floorScript(source: string, outDir: string, groups: RenditionSpec[][]): string {
  const one = (g: RenditionSpec[]) => {
    const split = g.length > 1 ? `[0:a]asplit=${g.length}${g.map((_, i) => `[o${i}]`).join("")}` : "[0:a]anull[o0]";
    const outs = g.flatMap((s, i) => ["-map", `[o${i}]`, ...codecArgs(s), path.join(outDir, `floor-${s.file}`)]);
    return ["ffmpeg", ...FFMPEG_SERIAL_FILTERS, "-nostdin", "-v", "error", "-y", "-i", source, "-filter_complex", split, ...outs]
      .map(quote)
      .join(" ");
  };
  const lines = groups.map((g, i) => `${one(g)} & p${i}=$!`);
  const waits = groups.map((_, i) => `wait $p${i} || failed=1`);
  return [...lines, "failed=0", ...waits, "exit $failed"].join("\n");
}

/**
 * Approach (d), the bound: the measurements issue #4 makes mandatory, on the
 * floor's own outputs, two at a time: the source measured once
 * (`ebur128=peak=true`) and each of the five renditions decoded and measured
 * independently with `ebur128=peak=true`. No processor that verifies its
 * renditions can spend less CPU than (b) + (d), so (CPU b + CPU d) / cores,
 * over (b)'s wall time, is the best c/b any such processor can reach here.
 */
export function measurementsScript(source: string, outDir: string, specs: readonly RenditionSpec[] = RENDITIONS): string {
  const measure = (file: string) =>
    [
      "ffmpeg",
      ...FFMPEG_SERIAL_FILTERS,
      "-nostdin",
      "-hide_banner",
      "-nostats",
      "-i",
      file,
      "-map",
      "0:a:0",
      "-af",
      "ebur128=peak=true:framelog=verbose",
      "-f",
      "null",
      "-",
    ]
      .map(quote)
      .join(" ");
  const commands = [source, ...specs.map((s) => path.join(outDir, `floor-${s.file}`))].map(measure);
  // xargs -P 2 keeps both cores busy until the last measurement; each command's exit status counts.
  return `printf '%s\\0' ${commands.map(quote).join(" ")} | xargs -0 -P 2 -n 1 bash -c`;
}

/**
 * The processor's speed and memory against (a) the article's pipeline and (b)
 * the floor, on the same generated speech, in one run:
 *
 *   node bench/processor/run.ts [--minutes 60] [--also 10] [--only a,b,c] [--keep] [--corpus]
 *
 * For each duration (--minutes, plus each --also) it runs (a) article.ts,
 * (b) floor.ts's two-process encode, (d) the mandatory loudness measurements
 * on (b)'s outputs (floor.ts measurementsScript) and (c) processor-job.ts, one
 * after the other, each as its own process tree measured by measure.ts: wall time, CPU
 * time of the whole tree (ffmpeg children included), and peak memory of the
 * tree (sum of VmRSS, and sum of Pss). Prints a table, the ratios c/a and
 * c/b, and the best c/b and c/a that any processor doing (d)'s measurements
 * can reach on this machine: (CPU b + CPU d) / cores, over b's and a's wall.
 * --corpus adds the corpus row: every input of test/processor/corpus-audio.ts
 * through (c), with its wall time, CPU and second full encodes.
 */
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { availableParallelism, loadavg } from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { execFileSync } from "node:child_process";
import { speechWav } from "./speech.ts";
import { measureTree, type TreeUsage } from "./measure.ts";
import { bestSplit, calibrate, floorScript, measurementsScript } from "./floor.ts";
import { generateCorpus } from "../../test/processor/corpus-audio.ts";
import { PROCESSOR_V8_FLAGS } from "../../processor/v8-flags.ts";

const ROOT = path.resolve(import.meta.dirname, "../..");
const CACHE = path.join(ROOT, "bench", ".cache");
const NODE = process.execPath;

const { values } = parseArgs({
  options: {
    minutes: { type: "string", default: "60" },
    also: { type: "string", multiple: true, default: [] },
    only: { type: "string", default: "a,b,c" },
    keep: { type: "boolean", default: false },
    corpus: { type: "boolean", default: false },
  },
});
const durations = [Number(values.minutes), ...values.also.map(Number)];
const only = new Set(values.only.split(","));
if (durations.some((m) => !(m > 0))) throw new Error("--minutes and --also take positive numbers of minutes");

const ffmpegVersion = execFileSync("ffmpeg", ["-version"], { encoding: "utf8" }).split("\n")[0];
console.log(`# processor bench: ${availableParallelism()} CPUs, ${ffmpegVersion}, node ${process.version}`);
console.log(`# (c) runs processor/job.ts processJob with the OTel SDK on a local folder store (no R2, no network time)`);

const mb = (n: number) => n.toFixed(0);
const s1 = (n: number) => n.toFixed(1);
interface Row {
  minutes: number;
  approach: string;
  usage: TreeUsage;
}
const rows: Row[] = [];

for (const minutes of durations) {
  const source = await speechWav(CACHE, minutes);
  const work = await mkdtemp(path.join(CACHE, `run-${minutes}min-`));
  try {
    console.log(
      `\n## ${minutes} min source: ${path.relative(ROOT, source)} (load average before: ${loadavg()
        .map((l) => l.toFixed(2))
        .join(" ")})`,
    );
    const check = (name: string, u: TreeUsage) => {
      if (u.exitCode !== 0) throw new Error(`approach ${name} failed (exit ${u.exitCode}): ${u.stderrTail}`);
      rows.push({ minutes, approach: name, usage: u });
      console.log(
        `${name}: wall ${s1(u.wallSeconds)} s, CPU ${s1(u.cpuSeconds)} s, peak RSS ${mb(u.peakRssMb)} MB, peak PSS ${mb(u.peakPssMb)} MB, ${u.peakProcesses} processes at most`,
      );
      return u;
    };
    if (only.has("a")) {
      const out = path.join(work, "a");
      await mkdir(out);
      const u = check("a article", await measureTree(NODE, [path.join(ROOT, "bench/processor/article.ts"), source, out]));
      for (const line of u.stdout.trim().split("\n")) console.log(`   ${line}`);
    }
    if (only.has("b")) {
      const out = path.join(work, "b");
      await mkdir(out);
      const groups = bestSplit(calibrate(source, out));
      console.log(`b split: ${groups.map((g) => g.map((s) => s.id).join("+")).join(" | ")}`);
      check("b floor", await measureTree("bash", ["-c", floorScript(source, out, groups)]));
      check("d bound", await measureTree("bash", ["-c", measurementsScript(source, out)]));
    }
    if (only.has("c")) {
      const u = check(
        "c processor",
        await measureTree(NODE, [...PROCESSOR_V8_FLAGS, path.join(ROOT, "bench/processor/processor-job.ts"), source, path.join(work, "c")]),
      );
      console.log(`   ${u.stdout.trim().split("\n").pop()}`);
    }
  } finally {
    if (!values.keep) await rm(work, { recursive: true, force: true });
  }
}

/** How many renditions a list names, and which: "0", "2 (aac_64k, opus_48k)", "?" when the job did not say. */
const count = (ids: string[] | undefined) => (ids ? `${ids.length}${ids.length ? ` (${ids.join(", ")})` : ""}` : "?");

if (values.corpus) {
  // The corpus row: realistic uploads, each through the processor as one job.
  const dir = await mkdtemp(path.join(CACHE, "corpus-"));
  try {
    const corpus = generateCorpus(dir);
    console.log("\n| corpus input | wall s | CPU s | second full encodes | Opus trims | renditions LUFS/dBTP |");
    console.log("| --- | ---: | ---: | ---: | ---: | --- |");
    for (const input of corpus) {
      const u = await measureTree(NODE, [
        ...PROCESSOR_V8_FLAGS,
        path.join(ROOT, "bench/processor/processor-job.ts"),
        input.file,
        path.join(dir, `job-${input.name}`),
      ]);
      // processor-job.ts prints processJob's answer: the episode's end state ("published"), not an object.
      const line = JSON.parse(u.stdout.trim().split("\n").pop() ?? "{}") as {
        outcome?: string;
        corrected?: string[];
        trimmed?: string[];
        renditions?: { id: string; integratedLufs: number; truePeakDbtp: number }[];
      };
      const figures = (line.renditions ?? []).map((r) => `${r.id} ${r.integratedLufs}/${r.truePeakDbtp}`).join(", ");
      console.log(
        `| ${input.name} (${line.outcome ?? "no answer"}) | ${s1(u.wallSeconds)} | ${s1(u.cpuSeconds)} | ${count(line.corrected)} | ${count(line.trimmed)} | ${figures} |`,
      );
    }
  } finally {
    if (!values.keep) await rm(dir, { recursive: true, force: true });
  }
}

console.log("\n| minutes | approach | wall s | CPU s | peak RSS MB (sum) | peak PSS MB (sum) |");
console.log("| ---: | --- | ---: | ---: | ---: | ---: |");
for (const r of rows) {
  console.log(
    `| ${r.minutes} | ${r.approach} | ${s1(r.usage.wallSeconds)} | ${s1(r.usage.cpuSeconds)} | ${mb(r.usage.peakRssMb)} | ${mb(r.usage.peakPssMb)} |`,
  );
}
for (const minutes of durations) {
  const get = (p: string) => rows.find((r) => r.minutes === minutes && r.approach.startsWith(p))?.usage;
  const [a, b, c, d] = [get("a"), get("b"), get("c"), get("d")];
  if (b && d) {
    const best = (b.cpuSeconds + d.cpuSeconds) / availableParallelism();
    const vsA = a ? `, ${(best / a.wallSeconds).toFixed(3)}x the article's (best reachable c/a)` : "";
    console.log(
      `${minutes} min: floor + mandatory measurements, perfectly packed on ${availableParallelism()} cores: ` +
        `${best.toFixed(1)} s = ${(best / b.wallSeconds).toFixed(2)}x the floor's wall (best reachable c/b)${vsA}`,
    );
  }
  if (!c) continue;
  const ratio = (x: TreeUsage | undefined, name: string, target: number) =>
    x
      ? `c/${name} wall ${(c.wallSeconds / x.wallSeconds).toFixed(2)} (target <= ${target}), CPU ${(c.cpuSeconds / x.cpuSeconds).toFixed(2)}`
      : "";
  // Issue #9's targets: c within 1.10x the bound (the floor plus the mandatory measurements), c/a <= 0.15.
  const bound = b && d ? (b.cpuSeconds + d.cpuSeconds) / availableParallelism() : undefined;
  const vsBound = bound ? `c/bound wall ${(c.wallSeconds / bound).toFixed(2)} (target <= 1.10)` : "";
  console.log(
    `${minutes} min: ${[ratio(a, "a", 0.15), vsBound, b ? `c/b wall ${(c.wallSeconds / b.wallSeconds).toFixed(2)}` : ""].filter(Boolean).join("; ")}`,
  );
}
console.log(
  `# load average after: ${loadavg()
    .map((l) => l.toFixed(2))
    .join(" ")}`,
);

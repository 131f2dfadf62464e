/**
 * Approach (a), the article's pipeline, with the same ffmpeg: every rendition
 * is transcoded on its own from the source, then loudnorm measures it (pass 1)
 * and re-encodes it with the measured values (pass 2, linear), one step after
 * another. Output sample rates are set to the delivery rates (loudnorm would
 * otherwise leave 192 kHz). Usage: node bench/processor/article.ts <source.wav> <out-dir>
 */
import { spawnSync } from "node:child_process";
import { mkdirSync } from "node:fs";
import path from "node:path";
import { DEFAULT_LOUDNESS } from "../../shared/podcast.ts";
import { RENDITIONS } from "../../shared/renditions.ts";
import { codecArgs } from "../../processor/media/encoders.ts";

const [source, outDir] = process.argv.slice(2);
if (!source || !outDir) throw new Error("usage: article.ts <source> <out-dir>");
mkdirSync(outDir, { recursive: true });

const { integratedLufs: I, truePeakDbtp: TP } = DEFAULT_LOUDNESS;
const LRA = 11;

function ffmpeg(args: string[]): string {
  const r = spawnSync("ffmpeg", ["-nostdin", "-hide_banner", "-nostats", "-y", ...args], { encoding: "utf8", maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(`ffmpeg failed: ${r.stderr.slice(-1000)}`);
  return r.stderr;
}

for (const spec of RENDITIONS) {
  const first = path.join(outDir, `first-${spec.file}`);
  const final = path.join(outDir, spec.file);
  ffmpeg(["-v", "error", "-i", source, ...codecArgs(spec), first]);
  const log = ffmpeg(["-v", "info", "-i", first, "-af", `loudnorm=I=${I}:TP=${TP}:LRA=${LRA}:print_format=json`, "-f", "null", "-"]);
  const m = JSON.parse(log.slice(log.lastIndexOf("{"), log.lastIndexOf("}") + 1)) as Record<string, string>;
  const second =
    `loudnorm=I=${I}:TP=${TP}:LRA=${LRA}:measured_I=${m.input_i}:measured_TP=${m.input_tp}:` +
    `measured_LRA=${m.input_lra}:measured_thresh=${m.input_thresh}:offset=${m.target_offset}:linear=true:print_format=json`;
  const log2 = ffmpeg(["-v", "info", "-i", first, "-af", second, ...codecArgs(spec), final]);
  const n = JSON.parse(log2.slice(log2.lastIndexOf("{"), log2.lastIndexOf("}") + 1)) as Record<string, string>;
  console.log(
    JSON.stringify({ rendition: spec.id, normalization_type: n.normalization_type, output_i: n.output_i, output_tp: n.output_tp }),
  );
}

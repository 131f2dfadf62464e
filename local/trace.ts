/**
 * `bin/trace <episodeId>`: prints an episode's trace tree from what the local
 * OTLP receiver of `bin/demo` stored under the data folder, as Honeycomb's
 * waterfall would show it - for machines without Honeycomb.
 */
import { parseArgs } from "node:util";
import path from "node:path";
import { ROOT } from "./stack.ts";
import { readPersistedSpans } from "./otlp-receiver.ts";
import { renderEpisodeTraces } from "./trace-tree.ts";

const HELP = `Usage: bin/trace <episodeId> [options]

Prints the episode's trace (audio.upload -> queue -> the processor's stages)
from the spans bin/demo's local OTLP receiver stored in <data>/otlp/.

  --data DIR      local state folder (default: .data)
  --requests      also print the short traces of each request about it (tus, status)
  -h, --help      this text`;

const { values: args, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    data: { type: "string", default: path.join(ROOT, ".data") },
    requests: { type: "boolean", default: false },
    help: { type: "boolean", short: "h", default: false },
  },
});
if (args.help || positionals.length !== 1) {
  console.log(HELP);
  process.exit(args.help ? 0 : 2);
}
const episodeId = positionals[0]!;
const spans = readPersistedSpans(path.join(path.resolve(args.data!), "otlp"));
const out = renderEpisodeTraces(spans, episodeId, { requests: args.requests });
console.log(out);
if (out.startsWith("(no spans")) process.exit(1);

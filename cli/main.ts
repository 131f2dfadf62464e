/**
 * podcast-pipeline: the creator's terminal uploader. `upload` creates the
 * episode, sends the file in resumable tus chunks (running it again resumes),
 * then follows the episode to its published URLs; `status` shows or follows
 * one episode. Exit codes: cli/exit-codes.ts (and `--help`).
 */
import { readFile, stat } from "node:fs/promises";
import { parseArgs, type ParseArgsConfig } from "node:util";
import { EdgeClient } from "./edge-client.ts";
import { CliError, EXIT } from "./exit-codes.ts";
import { describeState, followEpisode, publishedLines, renditionLines } from "./follow.ts";
import { METADATA_FLAGS } from "./metadata-flags.ts";
import { DEFAULT_CHUNK_BYTES, MAX_CHUNK_BYTES, uploadFile } from "./upload.ts";

const NAME = "podcast-pipeline";

const HELP = `Usage:
  ${NAME} upload FILE --title TITLE [metadata flags] [options]
  ${NAME} status EPISODE_ID [--follow] [options]

Uploads an episode's audio to the podcast's edge in resumable chunks, with a
progress bar, then follows it through processing to its published URLs.
Interrupted (Ctrl-C, a dropped network)? Run the same command again: the
upload continues where it stopped (same file, same edge).

Metadata flags:
${METADATA_FLAGS.map((f) => {
  const lines = [`${`  --${f.flag} TEXT`.padEnd(30)}${f.help}${f.required ? " (required)" : ""}`];
  if (f.fromFile) lines.push(`${`  --${f.flag}-file PATH`.padEnd(30)}the same, read from a UTF-8 text file`);
  return lines.join("\n");
}).join("\n")}

Options:
  --edge URL                  the edge's URL (default: $PODCAST_EDGE_URL)
  --token TOKEN               the podcast's upload token (default: $PODCAST_UPLOAD_TOKEN;
                              prefer the variable: flags show up in process lists)
  --chunk-mib N               MiB per request, at most 95 (default 50: Cloudflare
                              refuses request bodies over 100 MB)
  --no-follow                 upload: stop once the file is stored
  --follow                    status: follow the episode until published or failed
  --poll-seconds N            seconds between status checks (default 2)
  -h, --help                  this help

Environment:
  PODCAST_EDGE_URL            the edge's URL, e.g. https://podcasts.example.com
  PODCAST_UPLOAD_TOKEN        the upload token (pp_...), from POST /podcasts
  PODCAST_PIPELINE_STATE_DIR  where unfinished uploads are remembered
                              (default $XDG_STATE_HOME/podcast-pipeline or
                              ~/.local/state/podcast-pipeline)

Exit codes:
  0    uploaded and published (or stored, with --no-follow)
  1    unexpected failure
  2    wrong command line (unknown flag, missing file, title, edge or token)
  3    the upload token was refused
  4    the edge could not be reached or the connection failed: run again to resume
  5    the edge refused the upload (bad metadata, not audio, too large)
  6    the episode failed in processing (the reason is printed)
  130  interrupted: run again to resume
`;

const options: ParseArgsConfig["options"] = {
  edge: { type: "string" },
  token: { type: "string" },
  "chunk-mib": { type: "string" },
  "no-follow": { type: "boolean" },
  follow: { type: "boolean" },
  "poll-seconds": { type: "string" },
  help: { type: "boolean", short: "h" },
};
for (const f of METADATA_FLAGS) {
  options[f.flag] = { type: "string" };
  if (f.fromFile) options[`${f.flag}-file`] = { type: "string" };
}

type Values = Record<string, string | boolean | undefined>;

const log = (line: string) => process.stderr.write(`${line}\n`);

function positive(values: Values, name: string, fallback: number, max = Infinity): number {
  const raw = values[name];
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n <= 0 || n > max)
    throw new CliError(EXIT.usage, `--${name} must be a number above 0${max < Infinity ? ` and at most ${max}` : ""}`);
  return n;
}

function connection(values: Values): EdgeClient {
  const edge = (values.edge as string | undefined) ?? process.env.PODCAST_EDGE_URL;
  const token = (values.token as string | undefined) ?? process.env.PODCAST_UPLOAD_TOKEN;
  if (!edge) throw new CliError(EXIT.usage, "no edge URL: pass --edge URL or set PODCAST_EDGE_URL");
  if (!/^https?:\/\/[^/]/.test(edge)) throw new CliError(EXIT.usage, `--edge must be an http(s) URL, not "${edge}"`);
  if (!token) throw new CliError(EXIT.usage, "no upload token: set PODCAST_UPLOAD_TOKEN or pass --token");
  return new EdgeClient(edge, token.trim());
}

async function metadataOf(values: Values): Promise<Record<string, string>> {
  const metadata: Record<string, string> = {};
  for (const f of METADATA_FLAGS) {
    let value = values[f.flag] as string | undefined;
    const file = f.fromFile ? (values[`${f.flag}-file`] as string | undefined) : undefined;
    if (value !== undefined && file !== undefined) throw new CliError(EXIT.usage, `use --${f.flag} or --${f.flag}-file, not both`);
    if (file !== undefined) {
      value = await readFile(file, "utf8").catch(() => {
        throw new CliError(EXIT.usage, `cannot read --${f.flag}-file ${file}`);
      });
    }
    if (value === undefined || value.trim() === "") {
      if (f.required) throw new CliError(EXIT.usage, `--${f.flag} is required`);
      continue;
    }
    metadata[f.key] = value.trim();
  }
  return metadata;
}

/** Ctrl-C once: stop cleanly (the upload pauses, its bytes kept). */
function interruption(): Promise<void> {
  return new Promise((resolve) => process.once("SIGINT", () => resolve()));
}

async function upload(positionals: string[], values: Values): Promise<void> {
  if (positionals.length !== 1) throw new CliError(EXIT.usage, `upload takes one FILE (see ${NAME} --help)`);
  const file = positionals[0]!;
  const info = await stat(file).catch(() => undefined);
  if (!info?.isFile()) throw new CliError(EXIT.usage, `cannot read ${file}: no such file`);
  const metadata = await metadataOf(values);
  const chunkBytes = Math.round(positive(values, "chunk-mib", DEFAULT_CHUNK_BYTES / 2 ** 20, MAX_CHUNK_BYTES / 2 ** 20) * 2 ** 20);
  const pollMs = positive(values, "poll-seconds", 2) * 1000;
  const client = connection(values);
  const show = await client.whoami();
  log(`uploading to "${show.title}" at ${client.edgeUrl}`);
  const stop = interruption();
  const out = { isTTY: process.stderr.isTTY, columns: process.stderr.columns, write: (t: string) => process.stderr.write(t) };
  const episodeId = await uploadFile({ edgeUrl: client.edgeUrl, token: client.token, file, metadata, chunkBytes, stop, out, log });
  log(`uploaded: episode ${episodeId}`);
  if (values["no-follow"]) {
    process.stdout.write(`${episodeId}\n`);
    return;
  }
  const followed = await untilInterrupted(followEpisode(client, episodeId, { pollMs, log }), stop, episodeId);
  for (const line of publishedLines(followed, show.feedUrl)) process.stdout.write(`${line}\n`);
}

async function untilInterrupted<T>(work: Promise<T>, stop: Promise<void>, episodeId: string): Promise<T> {
  return Promise.race([
    work,
    stop.then((): never => {
      throw new CliError(EXIT.interrupted, `stopped following; the episode carries on: ${NAME} status ${episodeId} --follow`);
    }),
  ]);
}

async function status(positionals: string[], values: Values): Promise<void> {
  if (positionals.length !== 1) throw new CliError(EXIT.usage, `status takes one EPISODE_ID (see ${NAME} --help)`);
  const episodeId = positionals[0]!;
  const client = connection(values);
  if (!values.follow) {
    const episode = await client.episode(episodeId);
    process.stdout.write(`${describeState(episode)}\n`);
    for (const line of renditionLines(episode)) process.stdout.write(`${line}\n`);
    if (episode.state === "failed") process.exitCode = EXIT.episodeFailed;
    return;
  }
  const show = await client.whoami();
  const pollMs = positive(values, "poll-seconds", 2) * 1000;
  const episode = await untilInterrupted(followEpisode(client, episodeId, { pollMs, log }), interruption(), episodeId);
  for (const line of publishedLines(episode, show.feedUrl)) process.stdout.write(`${line}\n`);
}

async function main(argv: string[]): Promise<void> {
  let parsed: ReturnType<typeof parseArgs<{ args: string[]; options: typeof options; allowPositionals: true; strict: true }>>;
  try {
    parsed = parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  } catch (err) {
    throw new CliError(EXIT.usage, `${(err as Error).message} (see ${NAME} --help)`);
  }
  const { positionals } = parsed;
  const values = parsed.values as Values;
  const [command, ...rest] = positionals;
  if (values.help || command === "help") {
    process.stdout.write(HELP);
    return;
  }
  if (command === "upload") return upload(rest, values);
  if (command === "status") return status(rest, values);
  throw new CliError(EXIT.usage, command ? `unknown command "${command}" (see ${NAME} --help)` : `no command given (see ${NAME} --help)`);
}

main(process.argv.slice(2)).then(
  () => process.exit(process.exitCode ?? EXIT.ok),
  (err: unknown) => {
    if (err instanceof CliError) {
      process.stderr.write(`${NAME}: ${err.message}\n`);
      process.exit(err.exitCode);
    }
    process.stderr.write(`${NAME}: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(EXIT.failure);
  },
);

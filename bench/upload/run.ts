/**
 * Upload throughput and edge memory: a file through the local edge's tus
 * endpoint (tus-js-client in Node, as a creator's app) against a plain S3
 * PutObject of the same file into the same local R2 bucket, in one run:
 *
 *   node bench/upload/run.ts [--sizes 256,1024] [--keep-files]
 *
 * For each size (MiB) it uploads (a) with tus in 50 MiB chunks (what
 * production clients must send: Cloudflare refuses bodies over 100 MB on
 * Free/Pro), (b) with tus as one whole-file PATCH, and (c) as the reference,
 * one S3 PutObject streamed from disk. For each: throughput (decimal MB/s)
 * and the peak summed RSS of the workerd processes during the transfer,
 * sampled every 100 ms. Prints the ratio of tus to the reference, and how
 * workerd's peak moves as the file grows (flat means streaming).
 *
 * Everything is local (loopback): the figures compare the edge's code path
 * with the storage it writes to, not a network.
 */
import { createReadStream } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { availableParallelism, loadavg, tmpdir } from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { HeadObjectCommand, PutObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import * as tus from "tus-js-client";
import { keys } from "../../shared/storage-keys.ts";
import { LOCAL_S3, startLocalStack, type LocalStack } from "../../local/stack.ts";
import { localS3 } from "../../local/s3.ts";
import { benchSource, type SourceFile } from "./source-file.ts";
import { rssBytes, sampleMemory, workerdPids } from "./workerd-memory.ts";

const ROOT = path.resolve(import.meta.dirname, "../..");
const CACHE = path.join(ROOT, "bench", ".cache");
const MiB = 1024 * 1024;
const CHUNK_BYTES = 50 * MiB;

const { values } = parseArgs({
  options: {
    sizes: { type: "string", default: "256,1024" },
    "keep-files": { type: "boolean", default: false },
  },
});
const sizes = values.sizes.split(",").map(Number);
if (sizes.some((s) => !Number.isInteger(s) || s < 1)) throw new Error("--sizes takes whole numbers of MiB, e.g. 256,1024");

type Approach = "tus, 50 MiB chunks" | "tus, whole file" | "reference: S3 PutObject";
interface Row {
  mib: number;
  approach: Approach;
  seconds: number;
  mbPerSecond: number;
  /** Summed RSS of the workerd processes before the transfer (after the warm-up), and its peak during it. */
  idleRssMb: number;
  peakRssMb: number;
}

async function createPodcast(stack: LocalStack): Promise<{ podcastId: string; uploadToken: string }> {
  const res = await fetch(`${stack.edgeUrl}/podcasts`, {
    method: "POST",
    headers: { Authorization: `Bearer ${stack.adminToken}`, "Content-Type": "application/json" },
    body: JSON.stringify({
      title: "Upload bench",
      author: "Bench",
      description: "Upload throughput bench.",
      language: "en",
      category: "Technology",
      explicit: false,
    }),
  });
  if (res.status !== 201) throw new Error(`create podcast: ${res.status} ${await res.text()}`);
  return (await res.json()) as { podcastId: string; uploadToken: string };
}

/** Uploads with tus-js-client, streaming the file from disk; resolves with the episode id. */
function tusUpload(stack: LocalStack, token: string, file: SourceFile, chunkSize: number | undefined): Promise<string> {
  return new Promise((resolve, reject) => {
    const upload = new tus.Upload(createReadStream(file.path), {
      endpoint: `${stack.edgeUrl}/uploads`,
      ...(chunkSize ? { chunkSize } : {}),
      headers: { Authorization: `Bearer ${token}` },
      metadata: { title: "Bench episode", filename: path.basename(file.path), filetype: "audio/wav" },
      // A retry would hide a failure in the figures: fail loudly instead.
      retryDelays: [],
      onError: reject,
      onSuccess: () => resolve(upload.url!.split("/").pop()!),
    });
    upload.start();
  });
}

async function objectSize(s3: S3Client, key: string): Promise<number | undefined> {
  const head = await s3.send(new HeadObjectCommand({ Bucket: LOCAL_S3.bucket, Key: key }));
  return head.ContentLength;
}

async function measure(pids: number[], work: () => Promise<void>): Promise<{ seconds: number; peakRssMb: number }> {
  const stop = sampleMemory(pids);
  const started = performance.now();
  try {
    await work();
  } catch (err) {
    stop();
    throw err;
  }
  const seconds = (performance.now() - started) / 1000;
  return { seconds, peakRssMb: stop().peakBytes / 1e6 };
}

console.log(
  `# upload bench: ${availableParallelism()} CPUs, node ${process.version}, sizes ${sizes.join(", ")} MiB, load average ${loadavg()
    .map((l) => l.toFixed(2))
    .join(" ")}`,
);
console.log(
  "# each measurement runs on a fresh local stack (wrangler dev), after a 16 MiB warm-up upload; UPLOAD_PART_BYTES from wrangler.toml",
);
const files: SourceFile[] = [];
for (const mib of sizes) files.push(await benchSource(CACHE, mib));
const warm = await benchSource(CACHE, 16);

/** A fresh stack per measurement, so one transfer's leftovers (V8 heap growth, caches) do not count against the next. */
async function measureOnFreshStack(file: SourceFile, approach: Approach): Promise<Row> {
  const dataDir = await mkdtemp(path.join(tmpdir(), "upload-bench-"));
  const stack = await startLocalStack({ dataDir, processor: false });
  try {
    const s3 = localS3(stack);
    const podcast = await createPodcast(stack);
    const pids = workerdPids();
    if (pids.length === 0) throw new Error("no workerd process found under this process");
    // Warm-up (not reported): the first upload compiles the code paths and creates the bucket's storage.
    await tusUpload(stack, podcast.uploadToken, warm, CHUNK_BYTES);
    const idleRssMb = rssBytes(pids) / 1e6;
    const mib = file.size / MiB;
    const run: () => Promise<string> = {
      "tus, 50 MiB chunks": async () => keys.source(podcast.podcastId, await tusUpload(stack, podcast.uploadToken, file, CHUNK_BYTES)),
      "tus, whole file": async () => keys.source(podcast.podcastId, await tusUpload(stack, podcast.uploadToken, file, undefined)),
      "reference: S3 PutObject": async () => {
        const key = `bench/reference-${mib}MiB`;
        await s3.send(
          new PutObjectCommand({
            Bucket: LOCAL_S3.bucket,
            Key: key,
            Body: createReadStream(file.path),
            ContentLength: file.size,
            ContentType: "audio/wav",
          }),
        );
        return key;
      },
    }[approach];
    let key = "";
    const m = await measure(pids, async () => {
      key = await run();
    });
    const stored = await objectSize(s3, key);
    if (stored !== file.size) throw new Error(`${approach}: stored ${stored} bytes, expected ${file.size}`);
    const row: Row = { mib, approach, seconds: m.seconds, mbPerSecond: file.size / 1e6 / m.seconds, idleRssMb, peakRssMb: m.peakRssMb };
    console.log(
      `${String(mib).padStart(5)} MiB  ${approach.padEnd(24)} ${row.seconds.toFixed(1).padStart(6)} s ${row.mbPerSecond.toFixed(0).padStart(5)} MB/s` +
        `  workerd RSS idle ${idleRssMb.toFixed(0)} MB, peak ${row.peakRssMb.toFixed(0)} MB (+${(row.peakRssMb - idleRssMb).toFixed(0)} MB)`,
    );
    return row;
  } finally {
    await stack.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
}

const APPROACHES: Approach[] = ["tus, 50 MiB chunks", "tus, whole file", "reference: S3 PutObject"];
const rows: Row[] = [];
try {
  for (const file of files) for (const approach of APPROACHES) rows.push(await measureOnFreshStack(file, approach));
} finally {
  if (!values["keep-files"]) for (const f of [...files, warm]) await rm(f.path, { force: true });
}

console.log("\n## summary (throughput ratio tus / reference; workerd peak RSS)");
console.log("| size | approach | MB/s | vs reference | workerd RSS idle | peak | growth during transfer |");
console.log("| ---: | --- | ---: | ---: | ---: | ---: | ---: |");
for (const r of rows) {
  const ref = rows.find((x) => x.mib === r.mib && x.approach === "reference: S3 PutObject")!;
  console.log(
    `| ${r.mib} MiB | ${r.approach} | ${r.mbPerSecond.toFixed(0)} | ${(r.mbPerSecond / ref.mbPerSecond).toFixed(2)}x | ${r.idleRssMb.toFixed(0)} MB | ${r.peakRssMb.toFixed(0)} MB | +${(r.peakRssMb - r.idleRssMb).toFixed(0)} MB |`,
  );
}
if (sizes.length > 1) {
  const [small, large] = [Math.min(...sizes), Math.max(...sizes)];
  for (const approach of new Set(rows.map((r) => r.approach))) {
    const a = rows.find((r) => r.mib === small && r.approach === approach)!;
    const b = rows.find((r) => r.mib === large && r.approach === approach)!;
    const growth = (r: Row) => r.peakRssMb - r.idleRssMb;
    console.log(
      `${approach}: workerd growth during transfer +${growth(a).toFixed(0)} MB at ${small} MiB, +${growth(b).toFixed(0)} MB at ${large} MiB`,
    );
  }
}

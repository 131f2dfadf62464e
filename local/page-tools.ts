/**
 * Puts ffmpeg.wasm's core into R2 under public/ (shared/page-tools.ts), where
 * the edge serves it to the upload page's file check. The local stack calls
 * `installPageTools` at start-up; for production run
 *   node local/page-tools.ts --remote      (wrangler r2 object put, with your Cloudflare login)
 * once per @ffmpeg/core version.
 */
import { spawn } from "node:child_process";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { HeadObjectCommand, PutObjectCommand } from "@aws-sdk/client-s3";
import { FFMPEG_CORE_FILES, ffmpegCoreKey, type FfmpegCoreFile } from "../shared/page-tools.ts";
import { localS3 } from "./s3.ts";
import { LOCAL_S3 } from "./stack.ts";

// Not stack.ts's ROOT: stack.ts imports this module, and a cycle would leave ROOT undefined here.
const ROOT = fileURLToPath(new URL("..", import.meta.url));
const CORE_DIR = path.join(ROOT, "node_modules", "@ffmpeg", "core", "dist", "umd");
const FILES = Object.keys(FFMPEG_CORE_FILES) as FfmpegCoreFile[];
const CACHE_CONTROL = "public, max-age=31536000, immutable";

/** Into the local stack's bucket through its S3 endpoint; skipped when already there (a persisted data folder). */
export async function installPageTools(s3Endpoint: string): Promise<void> {
  const s3 = localS3({ s3Endpoint });
  try {
    for (const file of FILES) {
      const Key = ffmpegCoreKey(file);
      const body = await readFile(path.join(CORE_DIR, file));
      const existing = await s3.send(new HeadObjectCommand({ Bucket: LOCAL_S3.bucket, Key })).catch(() => undefined);
      if (existing?.ContentLength === body.length) continue;
      // Idempotent, so retried: on a loaded machine wrangler's local S3 endpoint once answered this
      // 31 MB PUT, seconds after start-up, with a body that was not S3's XML, and the stack failed to start.
      for (let attempt = 1; ; attempt++) {
        try {
          await s3.send(
            new PutObjectCommand({
              Bucket: LOCAL_S3.bucket,
              Key,
              Body: body,
              ContentType: FFMPEG_CORE_FILES[file],
              CacheControl: CACHE_CONTROL,
            }),
          );
          break;
        } catch (err) {
          if (attempt >= 3) throw err;
          await new Promise((r) => setTimeout(r, 1000 * attempt));
        }
      }
    }
  } finally {
    s3.destroy();
  }
}

/** Into the production bucket with wrangler (its own login / CLOUDFLARE_API_TOKEN). */
async function installRemote(bucket: string): Promise<void> {
  for (const file of FILES) {
    const args = [
      "r2",
      "object",
      "put",
      `${bucket}/${ffmpegCoreKey(file)}`,
      "--remote",
      "--file",
      path.join(CORE_DIR, file),
      "--content-type",
      FFMPEG_CORE_FILES[file],
      "--cache-control",
      CACHE_CONTROL,
    ];
    console.log(`wrangler ${args.join(" ")}`);
    const code = await new Promise<number | null>((resolve) =>
      spawn(path.join(ROOT, "node_modules", ".bin", "wrangler"), args, { stdio: "inherit", cwd: ROOT }).on("exit", resolve),
    );
    if (code !== 0) throw new Error(`wrangler r2 object put failed for ${file}`);
  }
}

if (import.meta.main) {
  const argv = process.argv.slice(2);
  if (argv[0] !== "--remote") {
    console.error("usage: node local/page-tools.ts --remote [bucket]   (default bucket: podcast-media)");
    process.exit(2);
  }
  await installRemote(argv[1] ?? LOCAL_S3.bucket);
}

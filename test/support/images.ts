/**
 * Cover art for the artwork checks: real JPEG/PNG files made by ffmpeg at
 * test time, served by a local HTTP server (the tests have no internet; the
 * Worker under wrangler dev fetches from it like from any artwork host).
 */
import { execFile } from "node:child_process";
import { createServer, type Server } from "node:http";
import { listenOnLoopback } from "./loopback-server.ts";
import { promisify } from "node:util";

const run = promisify(execFile);

/** An image of `width`x`height`; `pixFmt` picks the colour model (rgb24, gray, pal8, yuvj420p for JPEG). */
export async function makeImage(format: "jpeg" | "png", width: number, height: number, pixFmt?: string): Promise<Buffer> {
  const codec =
    format === "jpeg"
      ? ["-c:v", "mjpeg", "-pix_fmt", pixFmt ?? "yuvj420p", "-f", "mjpeg"]
      : ["-c:v", "png", "-pix_fmt", pixFmt ?? "rgb24", "-f", "image2pipe"];
  const { stdout } = await run(
    "ffmpeg",
    ["-nostdin", "-v", "error", "-f", "lavfi", "-i", `testsrc2=size=${width}x${height}:rate=1`, "-frames:v", "1", ...codec, "pipe:1"],
    { encoding: "buffer", maxBuffer: 64 * 1024 * 1024 },
  );
  return stdout;
}

export interface FileServer {
  url(path: string): string;
  close(): Promise<void>;
}

/** Serves `files` by path (anything else 404s). */
export async function serveFiles(files: Record<string, { body: Buffer | string; type: string }>): Promise<FileServer> {
  const server: Server = createServer((req, res) => {
    const file = files[req.url ?? ""];
    if (!file) {
      res.writeHead(404);
      return res.end();
    }
    res.writeHead(200, { "content-type": file.type, "content-length": Buffer.byteLength(file.body) });
    res.end(file.body);
  });
  return listenOnLoopback(server);
}

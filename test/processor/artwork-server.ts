/** A real local HTTP server standing in for a podcast's artwork host (the tests have no internet). */
import { createServer, type Server } from "node:http";
import { listenOnLoopback } from "../support/loopback-server.ts";

export interface ArtworkServer {
  url(path: string): string;
  close(): Promise<void>;
}

/** Routes: /cover.jpg (the given JPEG), /missing (404), /text (not an image), /huge (declares 50 MB), /slow (never answers). */
export async function startArtworkServer(jpeg: Buffer): Promise<ArtworkServer> {
  const server: Server = createServer((req, res) => {
    switch (req.url) {
      case "/cover.jpg":
        res.writeHead(200, { "content-type": "image/jpeg", "content-length": jpeg.length });
        return res.end(jpeg);
      case "/text":
        res.writeHead(200, { "content-type": "image/jpeg" });
        return res.end("<html>not an image</html>");
      case "/huge":
        res.writeHead(200, { "content-type": "image/jpeg", "content-length": 50 * 1024 * 1024 });
        return res.write(jpeg.subarray(0, 100));
      case "/slow":
        return; // never answers: the fetch must time out
      default:
        res.writeHead(404);
        return res.end();
    }
  });
  return listenOnLoopback(server);
}

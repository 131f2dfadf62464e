/**
 * A TCP proxy standing in for a bad network between a client and the local
 * edge: it forwards bytes unchanged and drops the connection (both sides, like
 * a lost wifi) once a chosen number of request bytes has passed through.
 */
import { createServer, connect, type Socket } from "node:net";

export interface FlakyNetwork {
  /** Base URL to use instead of the target's. */
  url: string;
  /** Drop the connection that carries the request byte number `bytes` (counted from now, across connections). */
  dropAfter(bytes: number): void;
  /** Connections dropped so far. */
  readonly drops: number;
  close(): Promise<void>;
}

export async function startFlakyNetwork(target: string): Promise<FlakyNetwork> {
  const { hostname, port } = new URL(target);
  const pending: number[] = [];
  const open = new Set<Socket>();
  let sent = 0;
  let drops = 0;

  const server = createServer((client) => {
    const upstream = connect(Number(port), hostname);
    open.add(client);
    open.add(upstream);
    let cut = false;
    const drop = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on("data", (data: Buffer) => {
      if (cut) return;
      const limit = pending[0];
      if (limit !== undefined && sent + data.length >= limit) {
        // Forward exactly up to the limit, then cut: the server sees a request body break off mid-stream.
        const keep = data.subarray(0, limit - sent);
        cut = true;
        pending.shift();
        sent = 0;
        drops += 1;
        upstream.write(keep, () => drop());
        return;
      }
      sent += data.length;
      if (!upstream.write(data)) {
        client.pause();
        upstream.once("drain", () => client.resume());
      }
    });
    upstream.on("data", (data: Buffer) => client.write(data));
    client.on("end", () => upstream.end());
    upstream.on("end", () => client.end());
    for (const s of [client, upstream]) {
      s.on("error", drop);
      s.on("close", () => {
        open.delete(s);
        drop();
      });
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address() as { port: number };

  return {
    url: `http://127.0.0.1:${address.port}`,
    dropAfter(bytes: number) {
      if (pending.length === 0) sent = 0;
      pending.push(bytes);
    },
    get drops() {
      return drops;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of open) s.destroy();
        server.close(() => resolve());
      }),
  };
}

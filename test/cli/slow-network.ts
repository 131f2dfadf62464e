/**
 * A TCP proxy that passes a client's bytes to the edge at a fixed rate, like
 * a creator's slow uplink, so an upload of a few tens of MB lasts long enough
 * to watch its progress bar and to interrupt it halfway. Answers pass freely.
 */
import { connect, createServer, type Socket } from "node:net";

export interface SlowNetwork {
  url: string;
  close(): Promise<void>;
}

export async function startSlowNetwork(target: string, bytesPerSecond: number): Promise<SlowNetwork> {
  const { hostname, port } = new URL(target);
  const open = new Set<Socket>();
  const TICK_MS = 50;
  const perTick = Math.max(1, Math.round((bytesPerSecond * TICK_MS) / 1000));

  const server = createServer((client) => {
    const upstream = connect(Number(port), hostname);
    open.add(client).add(upstream);
    const queue: Buffer[] = [];
    const timer = setInterval(() => {
      let budget = perTick;
      while (budget > 0 && queue.length > 0) {
        const head = queue[0]!;
        const part = head.subarray(0, budget);
        upstream.write(part);
        budget -= part.length;
        if (part.length === head.length) queue.shift();
        else queue[0] = head.subarray(part.length);
      }
      // Back-pressure: stop reading from the client while much is waiting.
      if (queue.reduce((n, b) => n + b.length, 0) < perTick * 4) client.resume();
    }, TICK_MS);
    client.on("data", (data: Buffer) => {
      queue.push(data);
      if (queue.reduce((n, b) => n + b.length, 0) >= perTick * 4) client.pause();
    });
    upstream.on("data", (data: Buffer) => client.write(data));
    const close = () => {
      clearInterval(timer);
      client.destroy();
      upstream.destroy();
    };
    client.on("end", () => {
      // Flush what is queued before ending the upstream side.
      const flush = setInterval(() => {
        if (queue.length === 0) {
          clearInterval(flush);
          upstream.end();
        }
      }, TICK_MS);
    });
    upstream.on("end", () => client.end());
    for (const s of [client, upstream]) {
      s.on("error", close);
      s.on("close", () => {
        open.delete(s);
        close();
      });
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port: proxyPort } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${proxyPort}`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of open) s.destroy();
        server.close(() => resolve());
      }),
  };
}

// Auth answers take the same time whether or not the upload or show exists:
// a tus HEAD, with a valid upload token, for an upload id nobody ever created
// is answered as fast as one for an upload that exists (another show's: 404
// as well; the show's own: 200), and a forged token naming a real show is
// refused as fast as one naming no show. Against workerd (wrangler dev) with
// its Durable Objects and local R2, timed from this process.
//
// The statistic, robust on a loaded shared machine: requests are sent in
// pairs (one of each kind, in random order, back to back, so both meet the
// same load) and the test takes the median of the per-pair differences,
// relative to the median request. Before edge/upload/upload-object.ts an
// unknown upload id cost a new Durable Object: +2.5 ms idle, +53-61 ms at a
// load average of 15 (about 45% of a request), and this test failed. The
// tolerance, 20% of a request (never under 1 ms), catches that and leaves
// room for noise (measured after the fix: 1-4%). What it cannot resolve on
// this machine is a difference well under a millisecond, such as the token
// comparison the stand-in hash keeps (edge/podcasts/auth.ts).
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createPodcast, startTestStack, type CreatedPodcast } from "../support/stack.ts";
import { createUpload, headUpload } from "../support/tus.ts";

const PAIRS = 80;
const WARM_UP = 5;
const TOLERANCE = 0.2;
const FLOOR_MS = 1;

let stack: Awaited<ReturnType<typeof startTestStack>>;
let show: CreatedPodcast;
let other: CreatedPodcast;
let own: string;
let othersUpload: string;

beforeAll(async () => {
  stack = await startTestStack();
  [show, other] = await Promise.all([createPodcast(stack), createPodcast(stack, { title: "Another show" })]);
  const created = async (token: string) => {
    const res = await createUpload(stack.edgeUrl, token, { length: 1000 });
    expect(res.status).toBe(201);
    return res.headers.get("Location")!;
  };
  [own, othersUpload] = await Promise.all([created(show.uploadToken), created(other.uploadToken)]);
});
afterAll(async () => {
  await stack?.cleanup();
});

/** A fresh id each time, as a prober would send: no Durable Object was ever made for it. */
const unknownUpload = () => `${stack.edgeUrl}/uploads/${randomUUID()}`;

async function timedHead(url: string, status: number, token = show.uploadToken): Promise<number> {
  const started = performance.now();
  const res = await headUpload(url, token);
  await res.arrayBuffer();
  const ms = performance.now() - started;
  expect(res.status).toBe(status);
  return ms;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

/** Median per-pair difference (unknown minus known) and the median request, ms. */
async function comparePairs(known: () => Promise<number>, unknown: () => Promise<number>) {
  // The first requests start the Worker's isolate and the Durable Objects that answer for known ids.
  for (let i = 0; i < WARM_UP; i++) {
    await known();
    await unknown();
  }
  const diffs: number[] = [];
  const all: number[] = [];
  for (let i = 0; i < PAIRS; i++) {
    let k: number;
    let u: number;
    if (Math.random() < 0.5) {
      k = await known();
      u = await unknown();
    } else {
      u = await unknown();
      k = await known();
    }
    diffs.push(u - k);
    all.push(k, u);
  }
  return { diff: median(diffs), typical: median(all) };
}

function expectSameTime({ diff, typical }: { diff: number; typical: number }, what: string) {
  const tolerance = Math.max(FLOOR_MS, TOLERANCE * typical);
  console.log(
    `${what}: median difference ${diff.toFixed(2)} ms, median request ${typical.toFixed(2)} ms, tolerance ${tolerance.toFixed(2)} ms`,
  );
  expect(Math.abs(diff), what).toBeLessThan(tolerance);
}

describe("HEAD of an upload takes the same time whether or not it exists", () => {
  it("an unknown id is answered like another show's upload (both 404)", async () => {
    const result = await comparePairs(
      () => timedHead(othersUpload, 404),
      () => timedHead(unknownUpload(), 404),
    );
    expectSameTime(result, "unknown vs another show's upload");
  }, 120_000);

  it("an unknown id is answered like the show's own upload (200)", async () => {
    const result = await comparePairs(
      () => timedHead(own, 200),
      () => timedHead(unknownUpload(), 404),
    );
    expectSameTime(result, "unknown vs own upload");
  }, 120_000);
});

describe("a wrong upload token takes the same time whether or not it names a show", () => {
  // Token shape: pp_<podcastId>_<secret> (shared/podcast.ts). Both answered 403.
  const wrongToken = (podcastId: string) => `pp_${podcastId}_${randomUUID().replaceAll("-", "")}`;
  it("a forged token for an existing show is refused like one for a show that does not exist", async () => {
    const result = await comparePairs(
      () => timedHead(own, 403, wrongToken(show.podcastId)),
      () => timedHead(own, 403, wrongToken(randomUUID())),
    );
    expectSameTime(result, "token naming an unknown show vs an existing one");
  }, 120_000);
});

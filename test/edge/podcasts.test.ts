// The admin API that creates shows, run in workerd under wrangler dev.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { keys } from "../../shared/storage-keys.ts";
import { podcastGuid } from "../../shared/feed/podcast-guid.ts";
import { getObject, listKeys, localS3 } from "../support/s3.ts";
import { createPodcast, startTestStack } from "../support/stack.ts";

let stack: Awaited<ReturnType<typeof startTestStack>>;
beforeAll(async () => {
  stack = await startTestStack();
});
afterAll(() => stack?.cleanup());

const valid = { title: "Show", author: "Me", description: "About things", language: "en-GB", category: "Technology", explicit: true };
const post = (body: unknown, token: string | null = stack.adminToken) =>
  fetch(`${stack.edgeUrl}/podcasts`, {
    method: "POST",
    headers: { "Content-Type": "application/json", ...(token ? { Authorization: `Bearer ${token}` } : {}) },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });

describe("POST /podcasts", () => {
  it("creates a podcast and returns its id, upload token and feed URL; stores only the token's hash", async () => {
    const created = await createPodcast(stack, { ...valid, ownerEmail: "host@show.example", loudness: { integratedLufs: -19 } });
    expect(created.podcastId).toMatch(/^[0-9a-f-]{36}$/);
    expect(created.uploadToken.startsWith(`pp_${created.podcastId}_`)).toBe(true);
    expect(created.feedUrl).toBe(`${stack.edgeUrl}/feeds/${created.podcastId}.xml`);

    const stored = new TextDecoder().decode(await getObject(localS3(stack), keys.podcast(created.podcastId)));
    const record = JSON.parse(stored);
    expect(record).toMatchObject({
      title: "Show",
      language: "en-GB",
      explicit: true,
      ownerEmail: "host@show.example",
      loudness: { integratedLufs: -19, truePeakDbtp: -1 },
    });
    expect(record.uploadTokenSha256).toMatch(/^[0-9a-f]{64}$/);
    // podcast:guid is fixed at creation from the first feed URL (checked against the spec's vectors in test/feed).
    expect(record.guid).toBe(podcastGuid(created.feedUrl));
    expect(stored).not.toContain(created.uploadToken.slice(`pp_${created.podcastId}_`.length));

    const read = await fetch(`${stack.edgeUrl}/podcasts/${created.podcastId}`, {
      headers: { Authorization: `Bearer ${stack.adminToken}` },
    });
    expect(read.status).toBe(200);
    const shown = (await read.json()) as Record<string, unknown>;
    expect(shown.title).toBe("Show");
    expect(shown).not.toHaveProperty("uploadTokenSha256");
  });

  it("rejects requests without the admin token (401) or with a wrong one (403), and stores nothing", async () => {
    const s3 = localS3(stack);
    const before = await listKeys(s3, "state/podcasts/");
    expect((await post(valid, null)).status).toBe(401);
    const wrong = await post(valid, "not-the-admin-token");
    expect(wrong.status).toBe(403);
    expect(await wrong.text()).not.toContain(stack.adminToken);
    expect(await listKeys(s3, "state/podcasts/")).toEqual(before);
  });

  it.each([
    [{ ...valid, title: undefined }, "title is required"],
    [{ ...valid, title: "x".repeat(301) }, "title must be at most 300 characters"],
    [{ ...valid, language: "english!" }, "language must be a BCP 47 tag"],
    [{ ...valid, explicit: "yes" }, "explicit must be true or false"],
    [{ ...valid, artworkUrl: "javascript:alert(1)" }, "artworkUrl must be an http(s) URL"],
    [{ ...valid, ownerEmail: "host at show.example" }, "ownerEmail must be an e-mail address"],
    [{ ...valid, ownerEmail: "<host@show.example>" }, "ownerEmail must be an e-mail address"],
    [{ ...valid, loudness: { integratedLufs: 3 } }, "loudness.integratedLufs must be a number from -36 to -10"],
    ["{not json", "body must be JSON"],
  ])("400s invalid input with a message naming the field (%#)", async (body, message) => {
    const res = await post(body);
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: string }).error).toContain(message);
  });
});

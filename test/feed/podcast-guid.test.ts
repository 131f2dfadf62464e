import { createHash, randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { PODCAST_GUID_NAMESPACE, podcastGuid, uuidV5 } from "../../shared/feed/podcast-guid.ts";
import { sha1 } from "../../shared/feed/sha1.ts";

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString("hex");

describe("sha1", () => {
  it("matches node:crypto across every padding boundary", () => {
    for (const length of [0, 1, 3, 55, 56, 57, 63, 64, 65, 119, 120, 127, 128, 129, 1000, 4097]) {
      const data = randomBytes(length);
      expect(hex(sha1(data)), `length ${length}`).toBe(createHash("sha1").update(data).digest("hex"));
    }
  });

  it("matches the FIPS 180 example", () => {
    expect(hex(sha1(new TextEncoder().encode("abc")))).toBe("a9993e364706816aba3e25717850c26c9cd0d89d");
  });
});

describe("podcast:guid", () => {
  it("matches the Podcasting 2.0 documentation's example", () => {
    // podcast-namespace docs/tags/guid.md: "podnews.net/rss" -> 9b024349-ccf0-5f69-a609-6b82873eab3c
    expect(uuidV5("podnews.net/rss", PODCAST_GUID_NAMESPACE)).toBe("9b024349-ccf0-5f69-a609-6b82873eab3c");
  });

  it("strips the scheme and trailing slashes before hashing", () => {
    for (const url of ["https://podnews.net/rss", "http://podnews.net/rss/", "podnews.net/rss//"]) {
      expect(podcastGuid(url), url).toBe("9b024349-ccf0-5f69-a609-6b82873eab3c");
    }
    expect(podcastGuid("https://podnews.net/rss2")).not.toBe("9b024349-ccf0-5f69-a609-6b82873eab3c");
  });

  it("is a standard UUIDv5 (RFC 9562 example, DNS namespace)", () => {
    expect(uuidV5("www.example.com", "6ba7b810-9dad-11d1-80b4-00c04fd430c8")).toBe("2ed6657d-e927-568b-95e1-2665a8aea6a2");
    expect(() => uuidV5("x", "not-a-uuid")).toThrow(/invalid UUID namespace/);
  });
});

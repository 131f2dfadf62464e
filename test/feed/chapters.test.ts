import { describe, expect, it } from "vitest";
import { CHAPTER_LIMITS, InvalidChaptersError, parseChapters, renderChaptersJson } from "../../shared/feed/chapters.ts";

describe("renderChaptersJson", () => {
  it("writes Podcasting 2.0 JSON chapters 1.2.0 in start order, omitting absent fields", () => {
    const json = renderChaptersJson([
      { startTime: 125.4567, title: "Second", url: "https://example.com/a", img: "https://example.com/a.jpg", endTime: 300 },
      { startTime: 0, title: "Intro" },
    ]);
    expect(JSON.parse(json)).toEqual({
      version: "1.2.0",
      chapters: [
        { startTime: 0, title: "Intro" },
        { startTime: 125.457, title: "Second", endTime: 300, url: "https://example.com/a", img: "https://example.com/a.jpg" },
      ],
    });
    expect(json).not.toContain("undefined");
    expect(Object.keys(JSON.parse(json).chapters[0])).toEqual(["startTime", "title"]);
  });

  it("keeps hostile titles as JSON strings", () => {
    const title = `</script><b>"quoted" & \\ back\u2028slash`;
    expect(JSON.parse(renderChaptersJson([{ startTime: 1, title }])).chapters[0].title).toBe(title);
  });

  it("round-trips through parseChapters", () => {
    const chapters = [
      { startTime: 0, title: "Intro", endTime: 10 },
      { startTime: 10, title: "Main", url: "https://example.com/" },
      { startTime: 1800.5, title: "Outro", img: "https://example.com/o.png" },
    ];
    expect(parseChapters(JSON.parse(renderChaptersJson(chapters)))).toEqual(chapters);
  });
});

describe("parseChapters", () => {
  const reject = (value: unknown, message: RegExp, options?: { durationSeconds?: number }) => {
    expect(() => parseChapters(value, options)).toThrow(InvalidChaptersError);
    expect(() => parseChapters(value, options)).toThrow(message);
  };

  it("accepts an array or a JSON chapters document and cleans titles", () => {
    expect(
      parseChapters([
        { startTime: 0, title: "  Intro\n\u0000 part  " },
        { startTime: 61.5, title: "Talk", extra: 1 },
      ]),
    ).toEqual([
      { startTime: 0, title: "Intro part" },
      { startTime: 61.5, title: "Talk" },
    ]);
    expect(parseChapters({ version: "1.2.0", chapters: [{ startTime: 5, title: "Only" }] })).toEqual([{ startTime: 5, title: "Only" }]);
  });

  it("refuses what is not a chapter list", () => {
    reject("chapters", /expected an array of chapters/);
    reject({ chapters: "no" }, /expected an array of chapters/);
    reject([], /no chapters/);
    reject([null], /chapter 1 is not an object/);
  });

  it("refuses bad start times, naming the chapter", () => {
    reject([{ startTime: -1, title: "a" }], /chapter 1 startTime must be a number of seconds >= 0/);
    reject([{ startTime: "00:01", title: "a" }], /chapter 1 startTime/);
    reject([{ startTime: Number.NaN, title: "a" }], /chapter 1 startTime/);
    reject(
      [
        { startTime: 0, title: "a" },
        { startTime: 20, title: "b" },
        { startTime: 10, title: "c" },
      ],
      /chapter 3 starts at 10s, not after chapter 2 \(20s\): chapters must be in order/,
    );
    reject(
      [
        { startTime: 5, title: "a" },
        { startTime: 5, title: "b" },
      ],
      /chapter 2 starts at 5s, not after chapter 1/,
    );
    reject(
      [
        { startTime: 0, title: "a" },
        { startTime: 90, title: "b" },
      ],
      /chapter 2 starts at 90s, after the end of the episode \(60s\)/,
      {
        durationSeconds: 60,
      },
    );
  });

  it("refuses bad titles, end times and links", () => {
    reject([{ startTime: 0 }], /chapter 1 title must be a string/);
    reject([{ startTime: 0, title: " \u0001\t " }], /chapter 1 has an empty title/);
    reject([{ startTime: 0, title: "x".repeat(CHAPTER_LIMITS.maxTitleLength + 1) }], /chapter 1 title is 201 characters, at most 200/);
    reject([{ startTime: 10, title: "a", endTime: 10 }], /chapter 1 endTime must be a number of seconds after its startTime/);
    reject([{ startTime: 10, title: "a", endTime: 100 }], /chapter 1 ends at 100s, after the end of the episode/, { durationSeconds: 60 });
    reject([{ startTime: 0, title: "a", url: "javascript:alert(1)" }], /chapter 1 url must be an http\(s\) URL/);
    reject([{ startTime: 0, title: "a", img: "not a url" }], /chapter 1 img is not a URL/);
    reject(
      [{ startTime: 0, title: "a", url: `https://e.com/${"a".repeat(CHAPTER_LIMITS.maxUrlLength)}` }],
      /chapter 1 url is longer than 2048/,
    );
  });

  it("bounds the number of chapters", () => {
    const many = Array.from({ length: CHAPTER_LIMITS.maxChapters + 1 }, (_, i) => ({ startTime: i, title: `c${i}` }));
    reject(many, /501 chapters, at most 500 allowed/);
    expect(parseChapters(many.slice(0, CHAPTER_LIMITS.maxChapters))).toHaveLength(CHAPTER_LIMITS.maxChapters);
  });
});

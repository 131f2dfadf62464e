// The waveform SVG as a web page embeds it: with a size of its own (an <img>
// without one has none) and a stroke colour that is not currentColor (black
// inside an <img>, invisible on a dark page), still a plain, styleable path.
import { describe, expect, it } from "vitest";
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { waveformSvg } from "../../processor/stages/waveform.ts";

describe("waveform.svg", () => {
  const svg = waveformSvg(Int8Array.from([-10, -64, -127, -3]), Int8Array.from([12, 64, 127, 3]));

  it("has a width, a height and a colour of its own", () => {
    expect(svg).toMatch(/^<svg [^>]*width="1000" height="100" viewBox="0 0 4 100"/);
    expect(svg).not.toContain("currentColor");
    expect(svg).toMatch(/<path class="waveform" d="M0 [^"]+" stroke="#[0-9a-f]{6}"/);
  });

  it("is well-formed XML (xmllint)", () => {
    const dir = mkdtempSync(path.join(tmpdir(), "svg-"));
    try {
      const file = path.join(dir, "waveform.svg");
      writeFileSync(file, svg);
      expect(() => execFileSync("xmllint", ["--noout", file], { stdio: ["ignore", "pipe", "pipe"] })).not.toThrow();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

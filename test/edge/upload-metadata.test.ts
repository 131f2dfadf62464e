// The pure parts of the upload protocol: Upload-Metadata validation, file name
// sanitising and audio sniffing (the same code runs in workerd; the protocol
// tests exercise it there through HTTP).
import { describe, expect, it } from "vitest";
import { MetadataError, parseUploadMetadata, sanitiseFilename } from "../../edge/upload/metadata.ts";
import { sniffAudio } from "../../edge/upload/sniff.ts";
import { uploadMetadata } from "../support/tus.ts";

describe("Upload-Metadata", () => {
  it("takes title, filename, description and filetype; ignores other keys such as Uppy's", () => {
    const header = `${uploadMetadata({ title: " Épisode 12 ", filename: "ep12.flac", description: "Notes", filetype: "audio/flac", name: "ep12.flac", relativePath: "null" })},is_confidential`;
    expect(parseUploadMetadata(header)).toEqual({
      title: "Épisode 12",
      filename: "ep12.flac",
      description: "Notes",
      filetype: "audio/flac",
    });
  });

  it("takes the episode's feed fields with the rules of PATCH /episodes/:id", () => {
    const header = uploadMetadata({
      title: "T",
      filename: "t.wav",
      season: "2",
      episodeNumber: "14",
      episodeType: "trailer",
      explicit: "no",
      pubDate: "Tue, 02 Dec 2025 10:00:00 GMT",
      link: "https://show.example/14",
      imageUrl: "https://show.example/14.png",
    });
    expect(parseUploadMetadata(header).details).toEqual({
      season: 2,
      episodeNumber: 14,
      episodeType: "trailer",
      explicit: false,
      pubDate: "2025-12-02T10:00:00.000Z",
      link: "https://show.example/14",
      imageUrl: "https://show.example/14.png",
    });
    expect(parseUploadMetadata(uploadMetadata({ title: "T", filename: "t.wav" }))).not.toHaveProperty("details");
  });

  it.each([
    [{ season: "0" }, 'Upload-Metadata "season" must be a whole number from 1 to 100000'],
    [{ episodeNumber: "3a" }, 'Upload-Metadata "episodeNumber" must be a whole number'],
    [{ episodeType: "Full" }, 'Upload-Metadata "episodeType" must be one of full, trailer, bonus'],
    [{ explicit: "1" }, 'Upload-Metadata "explicit" must be true or false'],
    [{ pubDate: "2025-13-45" }, 'Upload-Metadata "pubDate" must be a date'],
    [{ link: "show.example" }, 'Upload-Metadata "link" must be an http(s) URL'],
    [{ description: "é".repeat(2001) }, 'Upload-Metadata "description" must be at most 4000 bytes'],
  ])("refuses feed field %j, naming the key", (fields, message) => {
    expect(() => parseUploadMetadata(uploadMetadata({ title: "T", filename: "t.wav", ...fields }))).toThrow(message);
  });

  it.each([
    ["", "Upload-Metadata is required"],
    ["title", '"title" is required'],
    [uploadMetadata({ title: "T", filename: "   " }), '"filename" is required'],
    [uploadMetadata({ title: "T", filename: `${"a".repeat(300)}.wav` }), '"filename" must be at most 255 characters'],
    [`title VA==,${"x".repeat(20_000)}`, "at most 16384 characters"],
    [Array.from({ length: 40 }, (_, i) => `k${i} VA==`).join(","), "at most 32 keys"],
    ["title VA== extra", "must be a key, a space and a base64 value"],
    ["ti,tle VA==", '"title" is required'],
  ])("refuses %j", (header, message) => {
    expect(() => parseUploadMetadata(header)).toThrow(MetadataError);
    expect(() => parseUploadMetadata(header)).toThrow(message);
  });
});

describe("sanitiseFilename", () => {
  it.each([
    ["../../etc/passwd", "passwd"],
    ["C:\\Users\\me\\Desktop\\take 3.wav", "take 3.wav"],
    ["..\\..\\x.wav", "x.wav"],
    [".hidden.wav", "hidden.wav"],
    ["\u202Egnp.wav", "gnp.wav"],
    ["line\nbreak\u0000.wav", "linebreak.wav"],
    ['what?<>:"|*.wav', "what_______.wav"],
    ["  spaced name.mp3  ", "spaced name.mp3"],
    ["/", ""],
    ["..", ""],
  ])("%j -> %j", (raw, safe) => {
    expect(sanitiseFilename(raw)).toBe(safe);
  });
});

describe("sniffAudio", () => {
  const bytes = (...parts: (string | number[])[]) =>
    Uint8Array.from(parts.flatMap((p) => (typeof p === "string" ? [...p].map((c) => c.charCodeAt(0)) : p)).concat(Array(16).fill(0)));

  it.each([
    ["wav", bytes("RIFF", [1, 2, 3, 4], "WAVEfmt ")],
    ["wav", bytes("RF64", [255, 255, 255, 255], "WAVEds64")],
    ["wav", bytes("BW64", [255, 255, 255, 255], "WAVEds64")],
    ["flac", bytes("fLaC", [0, 0, 0, 34])],
    ["ogg", bytes("OggS", [0, 2])],
    ["mp4", bytes([0, 0, 0, 28], "ftypM4A ")],
    ["mp3", bytes("ID3", [4, 0, 0])],
    ["mp3", bytes([0xff, 0xfb, 0x90, 0x64])], // MPEG-1 layer III, 128 kbit/s, 44.1 kHz
    ["mp3", bytes([0xff, 0xf3, 0x48, 0xc4])], // MPEG-2 layer III
  ])("recognises %s", (container, head) => {
    expect(sniffAudio(head)).toBe(container);
  });

  it.each([
    ["PNG", bytes([0x89], "PNG\r\n\x1a\n")],
    ["ZIP", bytes("PK", [3, 4])],
    ["PDF", bytes("%PDF-1.7")],
    ["RIFF that is not WAVE (AVI)", bytes("RIFF", [1, 2, 3, 4], "AVI LIST")],
    ["ADTS AAC (layer bits 00)", bytes([0xff, 0xf1, 0x50, 0x80])],
    ["frame sync with a reserved sample rate", bytes([0xff, 0xfb, 0x9c, 0x64])],
    ["text", bytes("hello world, this is not audio")],
  ])("refuses %s", (_name, head) => {
    expect(sniffAudio(head)).toBeUndefined();
  });

  it("needs 12 bytes to decide", () => {
    expect(sniffAudio(Uint8Array.from([..."RIFF\0\0\0\0WAV"].map((c) => c.charCodeAt(0))))).toBeUndefined();
  });
});

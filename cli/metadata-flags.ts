/**
 * Episode metadata the uploader sends in Upload-Metadata, one entry per flag:
 * a field the edge learns to accept (edge/upload/metadata.ts) is one more line
 * here. `filename` and `filetype` are taken from the file itself.
 */
export interface MetadataFlag {
  /** The command-line flag, without its dashes. */
  flag: string;
  /** The Upload-Metadata key. */
  key: string;
  required?: boolean;
  /** Also `--<flag>-file PATH`: the value read from a file (long show notes). */
  fromFile?: boolean;
  help: string;
}

export const METADATA_FLAGS: readonly MetadataFlag[] = [
  { flag: "title", key: "title", required: true, help: "episode title (at most 300 characters)" },
  {
    flag: "description",
    key: "description",
    fromFile: true,
    help: "show notes: the episode's description in the feed (at most 4000 characters)",
  },
];

/** MIME types by extension, sent as `filetype` (informational: the edge sniffs the bytes). */
const FILETYPES: Record<string, string> = {
  wav: "audio/wav",
  flac: "audio/flac",
  mp3: "audio/mpeg",
  m4a: "audio/mp4",
  mp4: "audio/mp4",
  aac: "audio/aac",
  ogg: "audio/ogg",
  opus: "audio/ogg",
  oga: "audio/ogg",
  aif: "audio/aiff",
  aiff: "audio/aiff",
};

export function filetypeOf(filename: string): string | undefined {
  const ext = filename.toLowerCase().split(".").pop() ?? "";
  return FILETYPES[ext];
}

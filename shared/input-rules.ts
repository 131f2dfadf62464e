/**
 * What the processor accepts as an episode's source, and the words it uses
 * when it refuses one. The processor's validate stage and the upload page's
 * check before sending (which runs ffmpeg.wasm in the creator's browser) judge
 * with these same rules, so a creator reads the same reason either way, only
 * without first sending gigabytes. processor/stages/validate.ts throws these
 * very rejections; the maximum duration's default is the one the processor and
 * the sweep use (shared/episode-lifecycle.ts).
 */
import { DEFAULT_DEADLINES } from "./episode-lifecycle.ts";

/** Why an input is refused: stable codes for programs, the message for people. */
export type InputRejectionCode =
  | "empty"
  | "not_audio"
  | "no_audio_stream"
  | "unsupported_codec"
  | "too_short"
  | "too_long"
  | "corrupt"
  | "truncated";

export interface InputRejection {
  code: InputRejectionCode;
  reason: string;
}

export const INPUT_RULES = {
  minDurationSeconds: 1,
  /** The processor's MAX_DURATION_SECONDS default (4 h: README "Limits"). */
  defaultMaxDurationSeconds: DEFAULT_DEADLINES.maxDurationSeconds,
  /** More decode errors than this and the file is corrupt; one or two are a common glitch at a file's end. */
  maxDecodeErrors: 2,
} as const;

/**
 * Codecs creators record podcasts in (ffmpeg's names), including what telephony
 * and cheap voice recorders put in WAV (mu-law, A-law, ADPCM, GSM). Anything
 * else (WMA, video soundtracks...) is refused by name.
 */
export const SUPPORTED_CODECS =
  /^(mp3|aac|alac|flac|opus|vorbis|mp2|pcm_(s16|s24|s32|f32|f64)(le|be)|pcm_(u8|s8)|pcm_(mulaw|alaw)|adpcm_[a-z0-9_]+|gsm_ms|g722|g726(le)?)$/;

/** What a person is told to upload instead. */
export const ACCEPTED_FORMATS_TEXT = "WAV, AIFF, FLAC, ALAC, MP3, AAC, Opus or Vorbis";

const hours = (s: number) => `${(s / 3600).toFixed(2)} h`;

/** The reasons, one builder each, so both sides word them identically. */
export const rejection = {
  empty: (): InputRejection => ({ code: "empty", reason: "the uploaded file is empty (0 bytes)" }),
  notAudio: (): InputRejection => ({ code: "not_audio", reason: "not an audio file: no known audio format was recognised" }),
  noAudioStream: (hasVideo: boolean): InputRejection => ({
    code: "no_audio_stream",
    reason: hasVideo ? "no audio stream: the file contains only video" : "no audio stream: the file contains no audio",
  }),
  unsupportedCodec: (codec: string): InputRejection => ({
    code: "unsupported_codec",
    reason: `unsupported audio codec "${codec}": upload ${ACCEPTED_FORMATS_TEXT}`,
  }),
  tooShort: (seconds: number): InputRejection => ({
    code: "too_short",
    reason: `too short: ${seconds.toFixed(2)} s of audio; the minimum is ${INPUT_RULES.minDurationSeconds} s`,
  }),
  tooLong: (seconds: number, maxSeconds: number): InputRejection => ({
    code: "too_long",
    reason: `too long: ${hours(seconds)} of audio; the maximum is ${hours(maxSeconds)}`,
  }),
  decodeFailed: (detail: string): InputRejection => ({
    code: "corrupt",
    reason: `corrupt audio data: the file cannot be decoded (${detail})`,
  }),
  decodeErrors: (count: number, first: string | undefined): InputRejection => ({
    code: "corrupt",
    reason: `corrupt audio data: ${count} decode errors (first: ${first ?? "unknown"})`,
  }),
} as const;

/**
 * What a probe of the file found: enough to judge it without the processor's
 * full decode. `decode` is the result of decoding some or all of the audio.
 */
export interface ProbedInput {
  sizeBytes: number;
  /** false when no known container was recognised at all. */
  recognised: boolean;
  /** Codec of the first audio stream (ffmpeg's name), or undefined without one. */
  audioCodec?: string;
  /** A video stream that is not just cover art. */
  hasVideo: boolean;
  /** Duration the container declares, seconds (NaN when unknown). */
  durationSeconds: number;
  decode?: { errors: number; firstError?: string; failure?: string };
}

/**
 * The first rule the input breaks, in the processor's order, or undefined.
 * A partial decode (the page decodes the first and last minute) can find
 * damage but not prove its absence: the processor still decodes everything.
 */
export function judgeInput(
  input: ProbedInput,
  maxDurationSeconds: number = INPUT_RULES.defaultMaxDurationSeconds,
): InputRejection | undefined {
  if (input.sizeBytes === 0) return rejection.empty();
  if (!input.recognised) return rejection.notAudio();
  if (input.audioCodec === undefined) return rejection.noAudioStream(input.hasVideo);
  if (!SUPPORTED_CODECS.test(input.audioCodec)) return rejection.unsupportedCodec(input.audioCodec);
  if (input.durationSeconds > maxDurationSeconds) return rejection.tooLong(input.durationSeconds, maxDurationSeconds);
  const decode = input.decode;
  if (decode?.failure) return rejection.decodeFailed(decode.failure);
  if (decode && decode.errors > INPUT_RULES.maxDecodeErrors) return rejection.decodeErrors(decode.errors, decode.firstError);
  if (input.durationSeconds < INPUT_RULES.minDurationSeconds) return rejection.tooShort(input.durationSeconds);
  return undefined;
}

/**
 * The encoder settings of every rendition, in one place: the processor, the
 * bench's article approach and its floor all encode with exactly these.
 */
import type { RenditionSpec } from "../../shared/renditions.ts";

export function codecArgs(s: RenditionSpec): string[] {
  const b = ["-b:a", `${s.bitrateKbps}k`, "-ar", String(s.sampleRate)];
  switch (s.codec) {
    case "mp3":
      return ["-c:a", "libmp3lame", ...b, "-id3v2_version", "4", "-write_id3v1", "0"];
    case "aac":
      // +faststart: the index up front, so players start before the whole file arrives.
      // aac_coder fast, not the default twoloop: measured on the corpus's phone speech (mono 64k),
      // twoloop's true peak at one attack moved between +0.1 and +2.3 dB over the input with where
      // the encode began (chaotic: no excerpt can predict it), fast's stayed at +0.1 dB; and fast
      // costs a fifth of the CPU (1 min of speech: 0.62 against 2.98 CPU s at 64k, 0.94 against
      // 4.89 at 128k). ffmpeg's documentation: worse than twoloop only below 64 kb/s.
      return ["-c:a", "aac", "-aac_coder", "fast", ...b, "-movflags", "+faststart"];
    case "opus":
      return ["-c:a", "libopus", ...b, "-application", "audio", "-f", "opus"];
  }
}

/** Samples each encoder codes per frame: AAC-LC 1024, MPEG-1 Layer III 1152, libopus's default 20 ms. */
export function frameSamples(s: RenditionSpec): number {
  switch (s.codec) {
    case "aac":
      return 1024;
    case "mp3":
      return 1152;
    case "opus":
      return s.sampleRate / 50;
  }
}

/**
 * The step, in samples of a signal at `rate`, at which a cut of that signal
 * meets this encoder's frames at the same phase as the full encode: a whole
 * number of input samples that is a whole number of frames at the
 * rendition's rate (1024 for AAC from 44.1 kHz, 882 for Opus from 44.1 kHz;
 * from 48 kHz, AAC's would be 163840 samples, 3.4 s). An encoder's overshoot
 * at an attack depends on where the attack falls in its frames (twoloop AAC
 * 64k: 0.0 dBTP at one attack cut on the grid as in the full encode, -2.2 dBTP
 * cut 6 ms later). The encoder's rate control still starts afresh in an
 * excerpt, so a cut passage is a fair draw of what the full encode does
 * there, not a replay of it.
 */
export function frameGridSamples(s: RenditionSpec, rate: number): number {
  const f = frameSamples(s);
  // t = k f / R seconds is a whole number of samples at `rate` when k is a multiple of R / gcd(f rate, R).
  const k = s.sampleRate / gcd(f * rate, s.sampleRate);
  return (k * f * rate) / s.sampleRate;
}

const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b));

/**
 * The band ffmpeg's AAC encoder keeps at a bitrate (libavcodec/psymodel.h,
 * AAC_CUTOFF_FROM_BITRATE): it discards everything above, which is 9.5 kHz at
 * 64 kb/s stereo and 16 kHz at 128 kb/s.
 */
export function aacCutoffHz(bitrate: number, channels: number, sampleRate: number): number {
  const perChannel = Math.floor(bitrate / channels);
  const byRate = Math.min(
    Math.max(Math.floor(perChannel / 5), Math.floor((perChannel * 15) / 32) - 5500),
    3000 + Math.floor(perChannel / 4),
    12000 + Math.floor(perChannel / 16),
  );
  return Math.min(byRate, 22000, Math.floor(sampleRate / 2));
}

/**
 * The band a rendition's encoder keeps, where we know it: ffmpeg's AAC encoder
 * (above). LAME's and Opus' bands are not modelled (their limited branches have
 * not been seen to ring over the ceiling).
 */
export function encoderBandHz(s: RenditionSpec, channels: number): number | undefined {
  return s.codec === "aac" ? aacCutoffHz(s.bitrateKbps * 1000, channels === 1 ? 1 : 2, s.sampleRate) : undefined;
}

/**
 * A brick-wall low-pass at `hz`, like an encoder's own cutoff: a linear-phase
 * FIR (firequalizer, 5 ms half-length, FFT convolution) whose delay is taken
 * back out (zero_phase, then the samples before 0 trimmed), so the branch stays
 * aligned with the source. Measured on 10 minutes of speech: 0.6 CPU s against
 * 3.2 s (mostly system time) for ffmpeg 5.1's biquad lowpass. Being a brick
 * wall like the encoder's cut, it also left less for the encoder to ring
 * with: AAC 64k on the bench's hour, -2.2 dBTP against -1.6 with the biquad.
 */
export function bandLimit(hz: number): string {
  return `firequalizer=gain='if(lt(f,${hz}),0,-120)':delay=0.005:zero_phase=on:fft2=on,atrim=start=0,asetpts=PTS-STARTPTS`;
}

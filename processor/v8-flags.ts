/**
 * V8 flags the processor runs with: the Dockerfile's CMD, `npm run processor`,
 * the local stack and the bench pass them (Node takes them on its command line
 * or in NODE_OPTIONS; V8 reads them once, so the process cannot set them on
 * itself).
 *
 * --max-semi-space-size=2 (MB): the processor only orchestrates ffmpeg, but it
 * reads ffmpeg's stderr line by line for the whole job (ebur128 prints a line
 * per 100 ms of audio). V8 doubles its young generation each time the bytes that
 * survived scavenges add up to its size, so over a long job it grew to its
 * 32 MB maximum: measured 4 MB of new space at the peak of a 10-minute job and
 * 34 MB on an hour, i.e. memory that grew with the episode's length. At 2 MB
 * the young generation stays 4 MB on both; Node's CPU time for the 10-minute job
 * was 3.0 s user against 3.3 s uncapped (README "Memory").
 */
export const PROCESSOR_V8_FLAGS = ["--max-semi-space-size=2"] as const;

/** The same flags in the form Deno takes them. */
export const PROCESSOR_DENO_V8_FLAGS = `--v8-flags=${PROCESSOR_V8_FLAGS.join(",")}`;

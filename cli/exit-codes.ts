/** The uploader's exit codes (README "Creator's terminal uploader"): scripts can tell what went wrong. */
export const EXIT = {
  /** Uploaded, and (when followed) published. */
  ok: 0,
  /** Something unexpected; the message says what. */
  failure: 1,
  /** Wrong command line: unknown flag, missing file, title or token. */
  usage: 2,
  /** The edge refused the upload token (401/403). */
  tokenRefused: 3,
  /** The edge could not be reached, or the connection failed for good: run the same command again to resume. */
  unreachable: 4,
  /** The edge refused the upload itself (bad metadata, not audio, too large). */
  uploadRefused: 5,
  /** The episode failed in processing (e.g. the processor rejected the audio). */
  episodeFailed: 6,
  /** Interrupted (Ctrl-C): run the same command again to resume. */
  interrupted: 130,
} as const;

/** An error that ends the command with its exit code and one line for the creator. */
export class CliError extends Error {
  readonly exitCode: number;
  constructor(exitCode: number, message: string) {
    super(message);
    this.exitCode = exitCode;
  }
}

// Checks the chosen file in the browser before a byte is uploaded, with ffmpeg.wasm (single-threaded core):
// ffprobe for the container, codec, duration, channels and sample rate, then a decode of the first and the last
// minute. The file is mounted with WORKERFS, so ffmpeg reads only the slices it asks for: a multi-GB file is
// never copied into memory. The verdict comes from the edge (POST /upload/check, figures only, never the file),
// which judges by the processor's own rules and words (shared/input-rules.ts).
// ffmpeg's JS is served by the Worker; its 31 MB core from R2, fetched only once a file is chosen.

(() => {
  const DECODE_SECONDS = 60;
  const MOUNT = "/input";
  const abs = (p) => new URL(p, location.href).href;

  let ffmpegReady = null;
  /** ffmpeg runs one command at a time: checks queue behind each other. */
  let queue = Promise.resolve();
  /** Where ffmpeg's log lines go while a command runs. */
  let sink = null;

  function loadScript(src) {
    return new Promise((resolve, reject) => {
      const s = document.createElement("script");
      s.src = src;
      s.onload = resolve;
      s.onerror = () => reject(new Error(`could not load ${src}`));
      document.head.append(s);
    });
  }

  function ffmpeg() {
    if (!ffmpegReady) {
      ffmpegReady = (async () => {
        await loadScript("/upload/ffmpeg/ffmpeg.js");
        const ff = new FFmpegWASM.FFmpeg();
        ff.on("log", (entry) => sink?.(entry));
        const core = await fetch("/upload/ffmpeg-core/ffmpeg-core.js", { method: "HEAD" });
        if (!core.ok) throw new Error(`the checker's core is not installed on this server (${core.status})`);
        await ff.load({ coreURL: abs("/upload/ffmpeg-core/ffmpeg-core.js"), wasmURL: abs("/upload/ffmpeg-core/ffmpeg-core.wasm") });
        await ff.createDir(MOUNT);
        return ff;
      })();
      // A failed load may be retried with the next file.
      ffmpegReady.catch(() => (ffmpegReady = null));
    }
    return ffmpegReady;
  }

  /** Runs one ffmpeg/ffprobe command, returning its exit code and what it printed. */
  async function run(ff, tool, args) {
    const lines = { stdout: [], stderr: [] };
    sink = ({ type, message }) => (type === "stdout" ? lines.stdout : lines.stderr).push(message);
    try {
      const code = await ff[tool](args);
      return { code, ...lines };
    } finally {
      sink = null;
    }
  }

  /** A decode of part of the first audio stream: decoder errors counted, a failure named. */
  async function decode(ff, path, inputArgs) {
    const r = await run(ff, "exec", ["-v", "error", ...inputArgs, "-i", path, "-map", "0:a:0", "-f", "null", "-"]);
    let errors = 0;
    let firstError;
    for (const line of r.stderr) {
      if (/^Error while decoding/i.test(line)) errors++;
      else if (!firstError && line.trim() && !/^Aborted/.test(line)) firstError = line.replace(/^\[[^\]]*\]\s*/, "").slice(0, 200);
    }
    return { errors, firstError, failure: r.code === 0 ? undefined : firstError || `decoder exit code ${r.code}` };
  }

  async function verdict(facts) {
    const res = await fetch("/upload/check", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(facts),
    });
    if (!res.ok) throw new Error(`the server could not judge the file (${res.status})`);
    return res.json();
  }

  async function inspect(file) {
    const ff = await ffmpeg();
    await ff.mount("WORKERFS", { files: [file] }, MOUNT);
    try {
      const path = `${MOUNT}/${file.name}`;
      const probe = await run(ff, "ffprobe", ["-v", "error", "-print_format", "json", "-show_format", "-show_streams", path]);
      let info = null;
      try {
        // Its exit code is not reliable in ffmpeg.wasm (-1 after a good probe): the JSON is.
        const parsed = JSON.parse(probe.stdout.join("\n"));
        info = parsed && (parsed.format || parsed.streams?.length) ? parsed : null;
      } catch {
        info = null;
      }
      const streams = info?.streams || [];
      const audio = streams.find((s) => s.codec_type === "audio");
      const hasVideo = streams.some((s) => s.codec_type === "video" && !s.disposition?.attached_pic);
      const declared = Number(audio?.duration || info?.format?.duration);
      const figures = {
        sizeBytes: file.size,
        durationSeconds: Number.isFinite(declared) ? declared : null,
        codec: audio ? audio.codec_name : null,
        codecLongName: audio ? audio.codec_long_name : null,
        channels: audio ? audio.channels : null,
        channelLayout: audio ? audio.channel_layout : null,
        sampleRate: audio ? Number(audio.sample_rate) : null,
        decode: null,
      };
      const facts = {
        sizeBytes: file.size,
        recognised: info !== null,
        hasVideo,
        durationSeconds: figures.durationSeconds,
        ...(audio ? { audioCodec: audio.codec_name || "unknown" } : {}),
      };
      // What the figures alone refuse (no audio, a codec, too long) needs no decode.
      const first = await verdict(facts);
      if (!first.accepted) return { ...first, figures };
      const length = Number.isFinite(declared) ? declared : 0;
      const parts =
        length > 2 * DECODE_SECONDS
          ? [
              ["-t", String(DECODE_SECONDS)],
              ["-sseof", `-${DECODE_SECONDS}`],
            ]
          : [[]];
      let errors = 0;
      let firstError;
      let failure;
      for (const args of parts) {
        const d = await decode(ff, path, args);
        errors += d.errors;
        firstError = firstError || d.firstError;
        failure = failure || d.failure;
      }
      figures.decode = { errors, failure, seconds: parts.length === 2 ? 2 * DECODE_SECONDS : length };
      const second = await verdict({
        ...facts,
        decode: { errors, ...(firstError ? { firstError } : {}), ...(failure ? { failure } : {}) },
      });
      return { ...second, figures };
    } finally {
      await ff.unmount(MOUNT);
    }
  }

  /**
   * The verdict on one file: { accepted: true|false, code?, reason?, figures }, or { accepted: null,
   * unavailable } when this browser cannot run the checker (the server still checks after the upload).
   */
  function check(file) {
    const result = queue
      .then(() => inspect(file))
      .catch((err) => ({
        accepted: null,
        unavailable: err?.message ? err.message : String(err),
      }));
    queue = result;
    return result;
  }

  window.fileCheck = { check };
})();

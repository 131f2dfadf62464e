// The browser side of GET /upload. The token is checked first (GET /upload/whoami names the show it uploads to);
// the chosen file is checked in this browser (file-check.js, ffmpeg.wasm) before a byte is sent; then
// tus-js-client (the global `tus`, served at /upload/tus.min.js) sends it in resumable chunks to /uploads, and
// GET /episodes/:id is polled until the episode is published (links to its audio and the feed) or failed.
// The upload token lives in this tab only (sessionStorage).

(() => {
  // Cloudflare refuses request bodies over 100 MB on the Free and Pro plans: every PATCH stays below.
  const CHUNK_BYTES = 50 * 1024 * 1024;
  const RETRY_DELAYS_MS = [0, 1000, 3000, 5000, 10000, 20000, 30000];
  const POLL_MS = 2000;
  const TOKEN_KEY = "podcast-upload-token";
  const FINAL_STATES = new Set(["published", "failed"]);

  const $ = (id) => document.getElementById(id);
  const form = $("upload-form");
  const tokenInput = $("token");
  const titleInput = $("title");
  const fileInput = $("file");
  const startButton = $("start");
  const pauseButton = $("pause");
  const formError = $("form-error");
  const showLine = $("show");
  const showTitle = $("show-title");
  const checkSection = $("check");
  const checkStatus = $("check-status");
  const figuresList = $("figures");
  const section = $("progress-section");
  const bar = $("progress");
  const percentText = $("percent");
  const bytesText = $("bytes");
  const rateText = $("rate");
  const episodeIdText = $("episode-id");
  const stateText = $("episode-state");
  const uploadError = $("upload-error");
  const publishedBox = $("published");
  const audioLink = $("audio-link");
  const feedLink = $("feed-link");
  const anotherButton = $("another");
  /** Every input whose value goes into Upload-Metadata (data-metadata names its key): a new field is HTML only. */
  const metadataInputs = [...form.querySelectorAll("[data-metadata]")];

  tokenInput.value = sessionStorage.getItem(TOKEN_KEY) ?? "";

  let upload = null;
  let running = false;
  /** The show the token belongs to ({podcastId, title, feedUrl}), once the edge confirmed it. */
  let show = null;
  /** The check of the chosen file: { file, result: Promise }. */
  let check = null;
  /** Throughput of this run: a resumed run counts from the offset HEAD reported. */
  let rate = { since: 0, bytesAtStart: 0 };

  const megabytes = (bytes) => (bytes / 1e6).toFixed(1);

  function clock(seconds) {
    const s = Math.round(seconds);
    const h = Math.floor(s / 3600);
    const m = String(Math.floor((s % 3600) / 60)).padStart(2, "0");
    return `${h}:${m}:${String(s % 60).padStart(2, "0")}`;
  }

  function refuse(message, input) {
    formError.textContent = message;
    input?.focus();
  }

  function tokenRefused(status, message) {
    return `The upload token was not accepted (${message || status}).`;
  }

  /** The server's own explanation ({"error": "..."}) when there is one, else tus-js-client's message. */
  function explain(err) {
    const res = err?.originalResponse;
    if (res) {
      const status = res.getStatus();
      let message = "";
      try {
        message = JSON.parse(res.getBody() || "{}").error || "";
      } catch {
        // not JSON
      }
      if (status === 401 || status === 403) return tokenRefused(status, message);
      if (message) return `The server refused the upload (${status}): ${message}`;
      return `The server answered ${status}.`;
    }
    return `The upload stopped: ${err?.message ? err.message.split("\n")[0] : String(err)}`;
  }

  /** Which show the token uploads to; { error } when the edge refuses it. */
  async function whoami(token) {
    const res = await fetch("/upload/whoami", { headers: { Authorization: `Bearer ${token}` }, cache: "no-store" });
    if (res.ok) return { show: await res.json() };
    let message = "";
    try {
      message = (await res.json()).error || "";
    } catch {
      // not JSON
    }
    if (res.status === 401 || res.status === 403) return { error: tokenRefused(res.status, message) };
    return { error: `The server answered ${res.status}${message ? `: ${message}` : ""}.` };
  }

  function showShow(found) {
    show = found;
    showLine.hidden = !found;
    showTitle.textContent = found ? found.title : "";
  }

  // --- the file check -------------------------------------------------------------------------------------

  function showFigures(figures) {
    const text = (id, value) => ($(id).textContent = value);
    text("fig-duration", figures.durationSeconds === null ? "unknown" : clock(figures.durationSeconds));
    text("fig-codec", figures.codec ? `${figures.codec}${figures.codecLongName ? ` (${figures.codecLongName})` : ""}` : "no audio stream");
    text("fig-channels", figures.channels ? `${figures.channels}${figures.channelLayout ? ` (${figures.channelLayout})` : ""}` : "–");
    text("fig-sample-rate", figures.sampleRate ? `${figures.sampleRate} Hz` : "–");
    text("fig-size", `${megabytes(figures.sizeBytes)} MB`);
    const d = figures.decode;
    text(
      "fig-decode",
      !d
        ? "not decoded"
        : d.failure
          ? `failed: ${d.failure}`
          : d.errors
            ? `${d.errors} decode errors`
            : d.seconds >= 120
              ? "first and last minute decode cleanly"
              : "decodes cleanly",
    );
    figuresList.hidden = false;
  }

  function startCheck(file) {
    checkSection.hidden = false;
    figuresList.hidden = true;
    checkStatus.dataset.state = "checking";
    checkStatus.textContent = `Checking ${file.name} in this browser…`;
    const mine = { file, result: window.fileCheck.check(file) };
    check = mine;
    mine.result.then((r) => {
      if (check !== mine) return; // another file was chosen meanwhile
      if (r.figures) showFigures(r.figures);
      if (r.accepted === true) {
        checkStatus.dataset.state = "accepted";
        checkStatus.textContent = "The file passed the check (the processor decodes all of it after the upload).";
      } else if (r.accepted === false) {
        checkStatus.dataset.state = "refused";
        checkStatus.textContent = `This file would be refused: ${r.reason}`;
      } else {
        checkStatus.dataset.state = "unavailable";
        checkStatus.textContent = `Could not check the file in this browser (${r.unavailable}); the server checks it after the upload.`;
      }
    });
    return mine;
  }

  fileInput.addEventListener("change", () => {
    formError.textContent = "";
    const file = fileInput.files?.[0];
    if (file) startCheck(file);
    else {
      check = null;
      checkSection.hidden = true;
    }
  });

  tokenInput.addEventListener("change", async () => {
    const token = tokenInput.value.trim();
    showShow(null);
    if (!token) return;
    const who = await whoami(token).catch(() => ({}));
    if (tokenInput.value.trim() === token && who.show) showShow(who.show);
  });

  // --- the upload --------------------------------------------------------------------------------------------

  function episodeIdOf(url) {
    return url ? new URL(url, location.href).pathname.split("/").pop() : "";
  }

  function showProgress(sent, total) {
    const percent = total > 0 ? Math.floor((sent / total) * 100) : 0;
    bar.value = percent;
    percentText.textContent = `${percent}%`;
    bytesText.textContent = `(${megabytes(sent)} of ${megabytes(total)} MB)`;
    const seconds = (performance.now() - rate.since) / 1000;
    if (seconds > 0.2 && sent > rate.bytesAtStart) {
      rateText.textContent = `at ${megabytes((sent - rate.bytesAtStart) / seconds)} MB/s`;
    }
  }

  function describeEpisode(episode) {
    switch (episode.state) {
      case "uploading":
        return "uploading";
      case "queued":
        return "queued: waiting for the processor";
      case "processing":
        return episode.stage ? `processing (stage: ${episode.stage})` : "processing";
      case "published":
        return "published";
      case "failed":
        return `failed: ${episode.failure ? episode.failure.reason : "no reason given"}`;
      default:
        return episode.state;
    }
  }

  function showPublished(episode) {
    const renditions = episode.renditions || [];
    // MP3 128k is the feed's enclosure: the file every podcast app plays.
    const main = renditions.find((r) => r.id === "mp3_128k") || renditions[0];
    if (main) audioLink.href = main.url;
    audioLink.hidden = !main;
    feedLink.href = show ? show.feedUrl : "";
    feedLink.hidden = !show;
    publishedBox.hidden = false;
  }

  async function pollEpisode(episodeId, token) {
    for (;;) {
      try {
        const res = await fetch(`/episodes/${encodeURIComponent(episodeId)}`, {
          headers: { Authorization: `Bearer ${token}` },
          cache: "no-store",
        });
        if (res.ok) {
          const episode = await res.json();
          stateText.textContent = describeEpisode(episode);
          stateText.dataset.state = episode.state;
          if (episode.state === "published") showPublished(episode);
          if (FINAL_STATES.has(episode.state)) {
            if (episode.state === "failed") showAnother();
            return;
          }
        } else if (res.status === 401 || res.status === 403 || res.status === 404) {
          stateText.textContent = `cannot read the episode's state (${res.status})`;
          return;
        }
      } catch {
        // Offline for a moment: try again at the next tick.
      }
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
  }

  /** After a failure, "upload another" alone (no links: nothing was published). */
  function showAnother() {
    audioLink.parentElement.hidden = true;
    publishedBox.hidden = false;
  }

  function setRunning(on) {
    running = on;
    startButton.disabled = on;
    pauseButton.hidden = !upload;
    pauseButton.textContent = on ? "Pause" : "Resume";
  }

  /** A refused token: the error alone. Nothing was created, and neither progress nor Resume could help. */
  function stopForToken(message) {
    upload = null;
    setRunning(false);
    pauseButton.hidden = true;
    section.hidden = true;
    showShow(null);
    refuse(message, tokenInput);
  }

  function begin() {
    rate = { since: performance.now(), bytesAtStart: 0 };
    uploadError.textContent = "";
    setRunning(true);
    upload.start();
  }

  async function startUpload(token, metadata, file) {
    section.hidden = false;
    publishedBox.hidden = true;
    audioLink.parentElement.hidden = false;
    bar.value = 0;
    percentText.textContent = "0%";
    bytesText.textContent = "";
    rateText.textContent = "";
    episodeIdText.textContent = "not created yet";
    stateText.textContent = "uploading";
    delete stateText.dataset.state;
    upload = new tus.Upload(file, {
      endpoint: new URL("/uploads", location.href).href,
      chunkSize: CHUNK_BYTES,
      retryDelays: RETRY_DELAYS_MS,
      headers: { Authorization: `Bearer ${token}` },
      metadata: { ...metadata, filename: file.name, filetype: file.type || "application/octet-stream" },
      // The same file chosen again after a reload resumes its upload (fingerprint kept in localStorage until success).
      storeFingerprintForResuming: true,
      removeFingerprintOnSuccess: true,
      onUploadUrlAvailable() {
        episodeIdText.textContent = episodeIdOf(upload.url);
      },
      onProgress: showProgress,
      onAfterResponse(req, res) {
        if (req.getMethod() === "HEAD" && res.getStatus() === 200) {
          rate = { since: performance.now(), bytesAtStart: Number(res.getHeader("Upload-Offset")) || 0 };
        }
      },
      onError(err) {
        const status = err?.originalResponse ? err.originalResponse.getStatus() : 0;
        if (status === 401 || status === 403) return stopForToken(explain(err));
        setRunning(false);
        uploadError.textContent = explain(err);
      },
      onSuccess() {
        running = false;
        upload = null;
        startButton.disabled = false;
        pauseButton.hidden = true;
        showProgress(file.size, file.size);
        stateText.textContent = "uploaded; waiting for the episode's state";
        void pollEpisode(episodeIdText.textContent, token);
      },
    });
    const previous = await upload.findPreviousUploads();
    if (previous.length > 0) {
      upload.resumeFromPreviousUpload(previous[0]);
      episodeIdText.textContent = episodeIdOf(previous[0].uploadUrl);
      stateText.textContent = "resuming an earlier upload of this file";
    }
    begin();
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    formError.textContent = "";
    const token = tokenInput.value.trim();
    const title = titleInput.value.trim();
    const file = fileInput.files?.[0];
    if (!token) return refuse("Enter the podcast's upload token.", tokenInput);
    if (!title) return refuse("Enter a title for the episode.", titleInput);
    if (!file) return refuse("Choose the audio file to upload.", fileInput);
    if (!window.tus || !tus.isSupported) return refuse("This browser cannot upload files in pieces (tus is not supported).");
    sessionStorage.setItem(TOKEN_KEY, token);
    startButton.disabled = true;
    try {
      const who = await whoami(token);
      if (who.error) return stopForToken(who.error);
      showShow(who.show);
      // Nothing is sent before the file passed the check (or the check could not run here).
      const mine = check && check.file === file ? check : startCheck(file);
      const verdict = await mine.result;
      if (verdict.accepted === false) return refuse(`Not uploaded: ${verdict.reason}`, fileInput);
      const metadata = {};
      for (const input of metadataInputs) {
        const value = input.value.trim();
        if (value) metadata[input.dataset.metadata] = value;
      }
      await startUpload(token, metadata, file);
    } catch (err) {
      setRunning(false);
      uploadError.textContent = explain(err);
    } finally {
      if (!running) startButton.disabled = false;
    }
  });

  pauseButton.addEventListener("click", () => {
    if (!upload) return;
    if (running) {
      setRunning(false);
      void upload.abort();
      stateText.textContent = "paused";
    } else {
      stateText.textContent = "uploading";
      begin();
    }
  });

  anotherButton.addEventListener("click", () => {
    // The token stays (same show); everything about the last episode goes.
    for (const input of metadataInputs) input.value = "";
    fileInput.value = "";
    check = null;
    checkSection.hidden = true;
    section.hidden = true;
    publishedBox.hidden = true;
    formError.textContent = "";
    titleInput.focus();
  });

  window.addEventListener("beforeunload", (event) => {
    // Leaving is safe (the upload resumes later) but usually not meant.
    if (running) event.preventDefault();
  });
})();

// The browser side of GET /upload. tus-js-client (the global `tus`, served at /upload/tus.min.js) sends
// the file in resumable chunks to /uploads; once it is complete, GET /episodes/:id is polled until the
// episode is published or failed. The upload token lives in this tab only (sessionStorage).
"use strict";

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
  const section = $("progress-section");
  const bar = $("progress");
  const percentText = $("percent");
  const bytesText = $("bytes");
  const rateText = $("rate");
  const episodeIdText = $("episode-id");
  const stateText = $("episode-state");
  const uploadError = $("upload-error");

  tokenInput.value = sessionStorage.getItem(TOKEN_KEY) ?? "";

  let upload = null;
  let running = false;
  /** Throughput of this run: a resumed run counts from the offset HEAD reported. */
  let rate = { since: 0, bytesAtStart: 0 };

  const megabytes = (bytes) => (bytes / 1e6).toFixed(1);

  function refuse(message, input) {
    formError.textContent = message;
    input?.focus();
  }

  /** The server's own explanation ({"error": "..."}) when there is one, else tus-js-client's message. */
  function explain(err) {
    const res = err && err.originalResponse;
    if (res) {
      const status = res.getStatus();
      let message = "";
      try {
        message = JSON.parse(res.getBody() || "{}").error || "";
      } catch {
        // not JSON
      }
      if (status === 401 || status === 403) return `The upload token was not accepted (${message || status}).`;
      if (message) return `The server refused the upload (${status}): ${message}`;
      return `The server answered ${status}.`;
    }
    return `The upload stopped: ${err && err.message ? err.message.split("\n")[0] : String(err)}`;
  }

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
          if (FINAL_STATES.has(episode.state)) return;
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

  function setRunning(on) {
    running = on;
    startButton.disabled = on;
    pauseButton.hidden = !upload;
    pauseButton.textContent = on ? "Pause" : "Resume";
  }

  function begin() {
    rate = { since: performance.now(), bytesAtStart: 0 };
    uploadError.textContent = "";
    setRunning(true);
    upload.start();
  }

  async function startUpload(token, title, file) {
    section.hidden = false;
    episodeIdText.textContent = "not created yet";
    stateText.textContent = "uploading";
    delete stateText.dataset.state;
    upload = new tus.Upload(file, {
      endpoint: new URL("/uploads", location.href).href,
      chunkSize: CHUNK_BYTES,
      retryDelays: RETRY_DELAYS_MS,
      headers: { Authorization: `Bearer ${token}` },
      metadata: { title, filename: file.name, filetype: file.type || "application/octet-stream" },
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

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    formError.textContent = "";
    const token = tokenInput.value.trim();
    const title = titleInput.value.trim();
    const file = fileInput.files && fileInput.files[0];
    if (!token) return refuse("Enter the podcast's upload token.", tokenInput);
    if (!title) return refuse("Enter a title for the episode.", titleInput);
    if (!file) return refuse("Choose the audio file to upload.", fileInput);
    if (!window.tus || !tus.isSupported) return refuse("This browser cannot upload files in pieces (tus is not supported).");
    sessionStorage.setItem(TOKEN_KEY, token);
    startUpload(token, title, file).catch((err) => {
      setRunning(false);
      uploadError.textContent = explain(err);
    });
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

  window.addEventListener("beforeunload", (event) => {
    // Leaving is safe (the upload resumes later) but usually not meant.
    if (running) event.preventDefault();
  });
})();

// The asyncstt page: submits one recording through v3 recognizeFileAsync, polls the Operation API and shows
// the getRecognition stream per channel. Plain browser JavaScript, no dependencies, same origin only.
"use strict";

(() => {
  const KEY_STORAGE = "asyncstt.apiKey";
  const POLL_MS = 1000;
  const CONTAINERS = { wav: "WAV", ogg: "OGG_OPUS", opus: "OGG_OPUS", mp3: "MP3" };
  const MIME_CONTAINERS = {
    "audio/wav": "WAV", "audio/x-wav": "WAV", "audio/wave": "WAV", "audio/vnd.wave": "WAV",
    "audio/ogg": "OGG_OPUS", "audio/opus": "OGG_OPUS", "audio/mpeg": "MP3", "audio/mp3": "MP3",
  };

  const $ = (id) => document.getElementById(id);
  const ui = {
    form: $("request"), key: $("api-key"), file: $("file"), drop: $("drop"), dropText: $("drop-text"),
    link: $("link"), language: $("language"), submit: $("submit"), error: $("error"),
    intro: $("intro"), status: $("status"), state: $("state"), queue: $("queue"), operationId: $("operation-id"),
    progress: $("progress"), progressText: $("progress-text"),
    result: $("result"), player: $("player"), hint: $("hint"), transcript: $("transcript"),
  };

  /** What the page knows about the current recognition. */
  const current = { file: null, audioUrl: null, operationId: null, lines: [], utterances: [], name: "", total: 0 };

  /** An API answer that was not a success, carrying its google.rpc.Status message. */
  class ApiError extends Error {
    constructor(message, code, httpStatus) {
      super(message);
      this.code = code;
      this.httpStatus = httpStatus;
    }
  }

  // --- the API ------------------------------------------------------------------------------------------

  function headers(extra) {
    const result = Object.assign({}, extra);
    const key = ui.key.value.trim();
    if (key) result.Authorization = `Api-Key ${key}`;
    return result;
  }

  async function call(method, path, body) {
    let response;
    try {
      response = await fetch(path, {
        method,
        headers: headers(body === undefined ? {} : { "Content-Type": "application/json" }),
        body: body === undefined ? undefined : JSON.stringify(body),
        cache: "no-store",
      });
    } catch (error) {
      throw new ApiError(`could not reach the server: ${error.message}`, 14, 0);
    }
    if (!response.ok) throw await apiError(response);
    return response;
  }

  async function apiError(response) {
    const text = await response.text();
    try {
      const status = JSON.parse(text);
      if (status && typeof status.message === "string") {
        return new ApiError(status.message, status.code, response.status);
      }
    } catch (_) {
      // Not a google.rpc.Status (a proxy's page, say): the body itself is the best message there is.
    }
    return new ApiError(`HTTP ${response.status}: ${text.slice(0, 300) || response.statusText}`, 0, response.status);
  }

  // --- the form -----------------------------------------------------------------------------------------

  ui.key.value = sessionStorage.getItem(KEY_STORAGE) || "";
  ui.key.addEventListener("input", () => {
    const key = ui.key.value.trim();
    if (key) sessionStorage.setItem(KEY_STORAGE, key);
    else sessionStorage.removeItem(KEY_STORAGE);
  });

  function chooseFile(file) {
    current.file = file || null;
    if (file) {
      ui.link.value = "";
      ui.dropText.textContent = `${file.name} (${formatSize(file.size)})`;
      ui.drop.classList.add("chosen");
    } else {
      ui.dropText.innerHTML = "Drop a file here or <u>choose one</u>";
      ui.drop.classList.remove("chosen");
    }
  }

  ui.file.addEventListener("change", () => chooseFile(ui.file.files[0]));
  ui.link.addEventListener("input", () => {
    if (ui.link.value.trim() && current.file) {
      ui.file.value = "";
      chooseFile(null);
    }
  });
  for (const name of ["dragenter", "dragover"]) {
    ui.drop.addEventListener(name, (event) => {
      event.preventDefault();
      ui.drop.classList.add("over");
    });
  }
  for (const name of ["dragleave", "drop"]) {
    ui.drop.addEventListener(name, () => ui.drop.classList.remove("over"));
  }
  ui.drop.addEventListener("drop", (event) => {
    event.preventDefault();
    const file = event.dataTransfer && event.dataTransfer.files[0];
    if (file) chooseFile(file);
  });

  ui.form.addEventListener("submit", (event) => {
    event.preventDefault();
    recognise().catch(showError).finally(() => { ui.submit.disabled = false; });
  });

  async function recognise() {
    hideError();
    const link = ui.link.value.trim();
    if (!current.file && !link) throw new ApiError("choose a file or give a link first", 3, 0);
    ui.submit.disabled = true;
    ui.result.hidden = true;
    showStatus("Submitting…");
    const request = {
      recognitionModel: {
        model: document.querySelector("input[name=mode]:checked").value,
        textNormalization: { textNormalization: "TEXT_NORMALIZATION_ENABLED", literatureText: true },
        languageRestriction: { restrictionType: "WHITELIST", languageCode: [ui.language.value] },
      },
    };
    const container = current.file ? fileContainer(current.file) : linkContainer(link);
    if (container) {
      request.recognitionModel.audioFormat = { containerAudio: { containerAudioType: container } };
    }
    if (current.file) {
      request.content = await base64(current.file);
      current.name = stem(current.file.name);
    } else {
      request.uri = link;
      current.name = stem(link.split(/[?#]/)[0].split("/").pop() || "");
    }
    setAudio(current.file);
    const operation = await (await call("POST", "/stt/v3/recognizeFileAsync", request)).json();
    current.operationId = operation.id;
    current.name = current.name || operation.id;
    ui.operationId.textContent = operation.id;
    const finished = await poll(operation);
    if (finished.error) {
      throw new ApiError(finished.error.message || "the recognition failed", finished.error.code, 0);
    }
    ui.state.textContent = "Reading the result…";
    const response = await call("GET", `/stt/v3/getRecognition?operationId=${encodeURIComponent(operation.id)}`);
    const lines = (await response.text()).split("\n").filter((line) => line.trim()).map((line) => JSON.parse(line));
    current.lines = lines;
    current.utterances = utterances(lines);
    showTranscript();
    ui.state.textContent = "Done";
  }

  async function poll(operation) {
    let latest = operation;
    for (;;) {
      showOperation(latest);
      if (latest.done) return latest;
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
      latest = await (await call("GET", `/operations/${encodeURIComponent(operation.id)}`)).json();
    }
  }

  function showOperation(operation) {
    const meta = operation.metadata || {};
    const processed = Number(meta.processedSeconds || 0);
    const total = Number(meta.totalSeconds || 0);
    const position = meta.queuePosition;
    if (operation.done) {
      ui.state.textContent = operation.error ? "Failed" : "Recognised";
    } else if (position !== undefined && position !== null) {
      ui.state.textContent = "Queued";
    } else {
      ui.state.textContent = meta.stage ? `Running: ${meta.stage}` : "Running";
    }
    ui.queue.hidden = position === undefined || position === null || operation.done;
    ui.queue.textContent = ui.queue.hidden ? "" : `position ${position} in the queue`;
    if (total > 0) current.total = total;
    if (operation.done && !operation.error) {
      // A finished operation carries no progress: all of the audio it last reported is processed.
      ui.progress.value = 1;
      ui.progressText.textContent = current.total ? `${seconds(current.total)} of ${seconds(current.total)} (100 %)` : "";
    } else if (total > 0) {
      ui.progress.value = Math.min(processed / total, 1);
      ui.progressText.textContent = `${seconds(processed)} of ${seconds(total)} (${Math.floor((100 * processed) / total)} %)`;
    } else if (!operation.done) {
      ui.progress.removeAttribute("value");
      ui.progressText.textContent = "";
    }
  }

  // --- the result ---------------------------------------------------------------------------------------

  /** One entry per utterance in stream order: {channel, start, end, text, words: [{text, start, end}]}. */
  function utterances(lines) {
    const byFinal = new Map();
    for (const { result } of lines) {
      if (!result) continue;
      let update = null;
      let index = null;
      if (result.final) {
        update = result.final;
        index = result.audioCursors ? result.audioCursors.finalIndex : null;
      } else if (result.finalRefinement) {
        update = result.finalRefinement.normalizedText;
        index = result.finalRefinement.finalIndex;
      }
      const alternative = update && update.alternatives && update.alternatives[0];
      if (!alternative) continue;
      const channel = Number(update.channelTag || result.channelTag || 0);
      const id = `${channel}:${index}`;
      const entry = byFinal.get(id) || { channel, start: 0, end: 0, text: "", words: [] };
      entry.start = ms(alternative.startTimeMs);
      entry.end = ms(alternative.endTimeMs);
      // The refinement (the text as asked for: digits, punctuation) replaces the raw text of its final.
      if (alternative.text && (result.finalRefinement || !entry.text)) entry.text = alternative.text;
      if (alternative.words && alternative.words.length) {
        entry.words = alternative.words.map((w) => ({ text: w.text, start: ms(w.startTimeMs), end: ms(w.endTimeMs) }));
      }
      byFinal.set(id, entry);
    }
    return [...byFinal.values()];
  }

  function showTranscript() {
    const local = Boolean(current.audioUrl);
    const channels = [...new Set(current.utterances.map((u) => u.channel))].sort((a, b) => a - b);
    ui.transcript.replaceChildren();
    if (!current.utterances.length) {
      ui.transcript.append(element("p", "empty", "Nothing was said in this recording."));
    }
    for (const channel of channels) {
      const section = element("section", "channel");
      section.dataset.channel = String(channel + 1);
      if (channels.length > 1 || channel > 0) section.append(element("h3", "", `Channel ${channel + 1}`));
      const list = element("ol", "utterances");
      for (const utterance of current.utterances.filter((u) => u.channel === channel)) {
        const item = element("li", "utterance");
        const time = element(local ? "button" : "span", "time", clock(utterance.start));
        if (local) {
          time.type = "button";
          time.addEventListener("click", () => play(utterance.start));
        }
        item.append(time, renderText(utterance, local));
        list.append(item);
      }
      section.append(list);
      ui.transcript.append(section);
    }
    ui.hint.hidden = !local || !current.utterances.length;
    ui.result.hidden = false;
  }

  /** The utterance's text with each word clickable when the audio is at hand.
   *
   * The refined text is shown when its tokens line up one to one with the timed words (the usual case: the same
   * words with punctuation and capitals); otherwise (numbers written as digits, say) the spoken words are. */
  function renderText(utterance, local) {
    const text = element("span", "text");
    const tokens = utterance.text.split(/\s+/).filter(Boolean);
    const aligned = tokens.length === utterance.words.length;
    if (!utterance.words.length) {
      text.textContent = utterance.text;
      return text;
    }
    utterance.words.forEach((word, i) => {
      const span = element("span", "word", aligned ? tokens[i] : word.text);
      span.dataset.start = String(word.start);
      span.dataset.end = String(word.end);
      span.title = `${clock(word.start)} – ${clock(word.end)}`;
      if (local) {
        span.tabIndex = 0;
        span.setAttribute("role", "button");
        span.addEventListener("click", () => play(word.start));
        span.addEventListener("keydown", (event) => {
          if (event.key === "Enter" || event.key === " ") {
            event.preventDefault();
            play(word.start);
          }
        });
      }
      if (i) text.append(" ");
      text.append(span);
    });
    return text;
  }

  function setAudio(file) {
    if (current.audioUrl) URL.revokeObjectURL(current.audioUrl);
    current.audioUrl = file ? URL.createObjectURL(file) : null;
    ui.player.hidden = !file;
    if (file) ui.player.src = current.audioUrl;
    else ui.player.removeAttribute("src");
  }

  function play(seconds) {
    ui.player.currentTime = seconds;
    ui.player.play().catch(showError);
  }

  ui.player.addEventListener("timeupdate", () => {
    const now = ui.player.currentTime;
    for (const span of ui.transcript.querySelectorAll(".word")) {
      span.classList.toggle("playing", Number(span.dataset.start) <= now && now < Number(span.dataset.end));
    }
  });

  // --- downloads ----------------------------------------------------------------------------------------

  $("download-txt").addEventListener("click", () => {
    const labelled = new Set(current.utterances.map((u) => u.channel)).size > 1;
    const text = current.utterances.map((u) => (labelled ? `[${u.channel + 1}] ${u.text}` : u.text)).join("\n");
    save(new Blob([`${text}\n`], { type: "text/plain" }), `${current.name}.txt`);
  });
  $("download-json").addEventListener("click", () => {
    save(new Blob([JSON.stringify(current.lines, null, 2)], { type: "application/json" }), `${current.name}.json`);
  });
  for (const format of ["srt", "vtt"]) {
    $(`download-${format}`).addEventListener("click", () => {
      const path = `/operations/${encodeURIComponent(current.operationId)}/subtitles?format=${format}`;
      hideError();
      call("GET", path)
        .then((response) => response.blob())
        .then((blob) => save(blob, `${current.name}.${format}`))
        .catch(showError);
    });
  }

  function save(blob, name) {
    const url = URL.createObjectURL(blob);
    const link = element("a");
    link.href = url;
    link.download = name;
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10000);
  }

  // --- helpers ------------------------------------------------------------------------------------------

  function showStatus(text) {
    current.total = 0;
    ui.intro.hidden = true;
    ui.status.hidden = false;
    ui.state.textContent = text;
    ui.queue.hidden = true;
    ui.operationId.textContent = "";
    ui.progress.removeAttribute("value");
    ui.progressText.textContent = "";
  }

  function showError(error) {
    ui.error.textContent = error instanceof Error ? error.message : String(error);
    ui.error.hidden = false;
    if (!ui.status.hidden && ui.state.textContent !== "Done") ui.state.textContent = "Stopped";
  }

  function hideError() {
    ui.error.hidden = true;
    ui.error.textContent = "";
  }

  function base64(file) {
    return new Promise((resolve, reject) => {
      const reader = new FileReader();
      reader.onload = () => resolve(String(reader.result).slice(String(reader.result).indexOf(",") + 1));
      reader.onerror = () => reject(new ApiError(`could not read ${file.name}`, 3, 0));
      reader.readAsDataURL(file);
    });
  }

  function fileContainer(file) {
    return MIME_CONTAINERS[file.type] || linkContainer(file.name);
  }

  function linkContainer(name) {
    const match = /\.([a-z0-9]+)$/i.exec(name.split(/[?#]/)[0]);
    return match ? CONTAINERS[match[1].toLowerCase()] : undefined;
  }

  function stem(name) {
    return name.replace(/\.[^.]*$/, "").replace(/[^\w.-]+/g, "_");
  }

  function seconds(value) {
    return `${value.toFixed(1)} s`;
  }

  function ms(value) {
    return Number(value || 0) / 1000;
  }

  function clock(seconds) {
    const whole = Math.floor(seconds);
    const tenths = Math.floor((seconds - whole) * 10);
    const h = Math.floor(whole / 3600);
    const m = Math.floor((whole % 3600) / 60);
    const s = String(whole % 60).padStart(2, "0");
    return h ? `${h}:${String(m).padStart(2, "0")}:${s}.${tenths}` : `${String(m).padStart(2, "0")}:${s}.${tenths}`;
  }

  function formatSize(bytes) {
    if (bytes < 1024 * 1024) return `${Math.max(1, Math.round(bytes / 1024))} KB`;
    return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
  }

  function element(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }
})();

// Hearback's pages: confirmations, recording a voice in the browser, live job progress, playback.
"use strict";

const pageLang = document.documentElement.lang || "en";
const seconds = (s) => s.toLocaleString(pageLang, { minimumFractionDigits: 1, maximumFractionDigits: 1 }) + " s";
const duration = (s) => {
  s = Math.max(0, Math.round(s));
  return s < 60 ? s + " s" : Math.floor(s / 60) + " min " + String(s % 60).padStart(2, "0") + " s";
};

// Confirmations; a merge names both voices ({source}, {target}) so that it is clear which one stays.
document.querySelectorAll("form[data-confirm]").forEach((form) => {
  form.addEventListener("submit", (event) => {
    let text = form.dataset.confirm;
    const target = form.querySelector("input[name=target]");
    if (target) {
      text = text.split("{source}").join(form.dataset.source).split("{target}").join(target.value);
    }
    if (!window.confirm(text)) event.preventDefault();
  });
});

// The merge field suggests voices as one types: at most 20 names from /ui/speakers/names, never a list
// of every voice in the page.
document.querySelectorAll("input[data-names]").forEach((input) => {
  const list = document.getElementById(input.getAttribute("list"));
  let asked = 0;
  input.addEventListener("input", async () => {
    const mine = ++asked;
    const answer = await fetch(input.dataset.names + "?q=" + encodeURIComponent(input.value.trim()));
    if (!answer.ok || mine !== asked) return;
    const source = input.form.dataset.source;
    list.replaceChildren(...(await answer.json()).filter((s) => s.name !== source).map((s) => {
      const option = document.createElement("option");
      option.value = s.name;
      return option;
    }));
  });
});

// A file over HEARBACK_MAX_BYTES is refused before it is sent (the service would refuse it
// without reading it, and the browser would show its own error page): said on the page, typed values kept.
document.querySelectorAll("form[enctype='multipart/form-data']").forEach((form) => {
  form.addEventListener("submit", (event) => {
    const limit = parseInt(document.body.dataset.maxBytes || "0", 10);
    for (const input of form.querySelectorAll("input[type=file]")) {
      const file = input.files && input.files[0];
      if (limit && file && file.size > limit) {
        event.preventDefault();
        event.stopImmediatePropagation();
        const shown = document.getElementById("client-error");
        shown.textContent = document.body.dataset.tooLarge.replace("{file}", file.name).replace("{limit}", String(limit));
        shown.hidden = false;
        document.querySelectorAll("main > .error, main > .message, main > .warning").forEach((e) => e.remove());
        shown.scrollIntoView({ block: "center" });
        return;
      }
    }
  }, true);
});

// Record a voice sample with MediaRecorder and put it in the form's file input. Browsers give the
// microphone only to secure pages (https, or localhost): elsewhere, say so instead of doing nothing.
document.querySelectorAll(".recorder").forEach((box) => {
  const input = document.getElementById(box.dataset.target);
  const start = box.querySelector(".record"), stop = box.querySelector(".stop"), note = box.querySelector(".recorded");
  const meter = box.querySelector(".level"), problem = box.querySelector(".recorder-note");
  const say = (text) => { problem.textContent = text; problem.hidden = false; };
  const unavailable = !window.isSecureContext || !navigator.mediaDevices || !navigator.mediaDevices.getUserMedia
    ? box.dataset.noMicrophone : !window.MediaRecorder ? box.dataset.noRecorder : "";
  if (unavailable) { say(unavailable); start.disabled = true; return; }
  let recorder, chunks = [], started, timer, audioContext;
  start.addEventListener("click", async () => {
    problem.hidden = true;
    let stream;
    try {
      stream = await navigator.mediaDevices.getUserMedia({ audio: true });
    } catch (error) {
      // no microphone at all is not a refusal: say which it is
      const missing = ["NotFoundError", "DevicesNotFoundError", "OverconstrainedError"].includes(error.name);
      const refused = ["NotAllowedError", "PermissionDeniedError", "SecurityError"].includes(error.name);
      say(missing ? box.dataset.missing : refused ? box.dataset.refused : box.dataset.failed);
      return;
    }
    recorder = new MediaRecorder(stream);
    chunks = [];
    recorder.ondataavailable = (e) => chunks.push(e.data);
    // a level meter, so that a silent microphone is seen while recording, not after
    try {
      audioContext = new AudioContext();
      const analyser = audioContext.createAnalyser();
      audioContext.createMediaStreamSource(stream).connect(analyser);
      const samples = new Float32Array(analyser.fftSize);
      meter.hidden = false;
      const draw = () => {
        if (!recorder || recorder.state !== "recording") return;
        analyser.getFloatTimeDomainData(samples);
        let sum = 0;
        for (const v of samples) sum += v * v;
        meter.value = Math.min(1, Math.sqrt(sum / samples.length) * 4);
        requestAnimationFrame(draw);
      };
      requestAnimationFrame(draw);
    } catch (error) { meter.hidden = true; }
    recorder.onstop = () => {
      clearInterval(timer);
      stream.getTracks().forEach((t) => t.stop());
      if (audioContext) audioContext.close();
      meter.hidden = true;
      const file = new File(chunks, "recording.webm", { type: recorder.mimeType || "audio/webm" });
      const transfer = new DataTransfer();
      transfer.items.add(file);
      input.files = transfer.files;
      note.textContent = seconds((Date.now() - started) / 1000);
    };
    recorder.start();
    started = Date.now();
    timer = setInterval(() => { note.textContent = box.dataset.recording + " · " + seconds((Date.now() - started) / 1000); }, 200);
    start.disabled = true; stop.disabled = false;
  });
  stop.addEventListener("click", () => { recorder.stop(); start.disabled = false; stop.disabled = true; });
});

// Live progress of a transcription job, with the time left; on to the transcript when it is done.
async function jobState(id) {
  const response = await fetch("/ui/jobs/" + id + "/state", { headers: { "X-Requested-With": "hearback" } });
  if (!response.ok) throw new Error(String(response.status));
  return response.json();
}

// The time left of a job, from the whole percentages it showed and when: nothing until two of them
// were seen (one point gives no speed); a new estimate only when the percentage moves; while it
// stands still, the estimate counts down with the clock, never goes back up, and goes once run out.
function timeLeft() {
  let first = null, shown = -1, until = null;
  return (percent, now) => {
    if (percent <= 0 || percent >= 100) return null;
    if (first === null) { first = { t: now, p: percent }; shown = percent; return null; }
    if (percent > shown) {
      shown = percent;
      const rate = (percent - first.p) / Math.max(0.001, now - first.t);
      until = now + (100 - percent) / rate;
    }
    // an estimate run out while the bar still stands is no estimate: nothing is shown until it moves
    return until === null || until - now < 1 ? null : until - now;
  };
}
window.hearbackTimeLeft = timeLeft;  // for the tests

const job = document.getElementById("job");
if (job) {
  const bar = document.getElementById("job-progress"), stage = document.getElementById("job-stage");
  const percent = document.getElementById("job-percent"), left = document.getElementById("job-left");
  const error = document.getElementById("job-error"), title = document.getElementById("job-title");
  const estimate = timeLeft();
  let shown = parseInt(percent.textContent, 10), shownStage = stage.textContent;  // as the server drew it
  const show = (value, text) => {
    bar.value = value / 100;
    stage.textContent = text;
    percent.textContent = value + " %";
    shown = value; shownStage = text;
  };
  // The steps the job went through since the last poll (short stages last less than one), in turn
  // and quickly, up to where it stands now: each of them was reached, none is made up.
  const replay = async (state) => {
    const trail = state.trail || [];
    let last = -1;  // the step on screen, when the trail still holds it: only the steps after it were missed
    trail.forEach((s, i) => { if (s.percent === shown && s.stage_text === shownStage) last = i; });
    const missed = last >= 0 ? trail.slice(last + 1) : trail.filter((s) => s.percent > shown);
    const pause = Math.min(80, 320 / Math.max(1, missed.length));
    for (const step of missed) {
      if (step.percent >= state.percent && step.stage_text === state.stage_text) break;
      show(step.percent, step.stage_text);
      await new Promise((resolve) => setTimeout(resolve, pause));
    }
    if (state.percent >= shown) show(state.percent, state.stage_text);
  };
  const poll = async () => {
    let state;
    try { state = await jobState(job.dataset.job); } catch (e) { setTimeout(poll, 2000); return; }
    // nothing left to wait for; or the bar moves on: the time left shown was for where it stood
    if (state.state !== "running" || state.percent > shown) left.textContent = "";
    if (state.state !== "failed") await replay(state);
    const seconds = state.state === "running" ? estimate(state.percent, Date.now() / 1000) : null;
    left.textContent = seconds === null ? "" : "· " + job.dataset.timeLeft.replace("{s}", duration(seconds));
    if (state.state === "done") { window.location = state.done_url; return; }
    if (state.state === "failed") {
      stage.textContent = state.stage_text;
      title.textContent = title.dataset.failed;
      left.textContent = "";
      error.hidden = false;
      error.textContent = state.error;
      if (state.detail) {
        const fold = document.getElementById("job-detail");
        fold.querySelector("pre").textContent = state.detail;
        fold.hidden = false;
      }
      return;
    }
    setTimeout(poll, 250);
  };
  poll();
}

// The sessions list keeps the states of the recordings being transcribed up to date.
document.querySelectorAll("#sessions td.state[data-job]").forEach((cell) => {
  const poll = async () => {
    let state;
    try { state = await jobState(cell.dataset.job); } catch (e) { return; }
    if (state.state === "done" || state.state === "failed") {
      cell.textContent = state.state_text;
      const link = cell.closest("tr").querySelector("a");
      if (link) link.href = state.done_url;
      return;
    }
    cell.textContent = state.state_text + " · " + state.stage_text + " · " + state.percent + " %";
    setTimeout(poll, 1500);
  };
  poll();
});

// A line of the transcript plays from its start: a click anywhere on it, or its time button
// (Tab, then Enter or Space). A link to #t<ms> (a search hit) cues the audio at that line.
const player = document.getElementById("player");
const lines = document.querySelectorAll("#transcript li");
const cue = (line, play) => {
  document.querySelectorAll("#transcript li.playing").forEach((l) => l.classList.remove("playing"));
  line.classList.add("playing");
  if (!player) return;
  const at = parseFloat(line.dataset.start);
  player.currentTime = at;
  if (play) player.play().catch(() => {});
  else if (player.readyState === 0) player.addEventListener("loadedmetadata", () => { player.currentTime = at; }, { once: true });
};
lines.forEach((line) => {
  line.addEventListener("click", (event) => {
    if (event.target.closest("button") && !event.target.closest("button.play")) return;
    cue(line, true);
  });
});
const landed = window.location.hash && document.getElementById(window.location.hash.slice(1));
if (landed && landed.closest("#transcript")) {
  cue(landed, false);
  const button = landed.querySelector("button.play");
  const focus = () => { if (button) button.focus({ preventScroll: true }); landed.scrollIntoView({ block: "center" }); };
  focus();
  window.addEventListener("load", focus, { once: true });  // the browser's own move to the #fragment comes later
}

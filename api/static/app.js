// Hearback's pages: confirmations, recording a voice in the browser, live job progress, playback.
"use strict";

document.querySelectorAll("form[data-confirm]").forEach((form) => {
  form.addEventListener("submit", (event) => {
    if (!window.confirm(form.dataset.confirm)) event.preventDefault();
  });
});

// Record a voice sample with MediaRecorder and put it in the form's file input.
document.querySelectorAll(".recorder").forEach((box) => {
  const input = document.getElementById(box.dataset.target);
  const start = box.querySelector(".record"), stop = box.querySelector(".stop"), note = box.querySelector(".recorded");
  let recorder, chunks = [], started;
  start.addEventListener("click", async () => {
    const stream = await navigator.mediaDevices.getUserMedia({ audio: true });
    recorder = new MediaRecorder(stream);
    chunks = [];
    recorder.ondataavailable = (e) => chunks.push(e.data);
    recorder.onstop = () => {
      stream.getTracks().forEach((t) => t.stop());
      const file = new File(chunks, "recording.webm", { type: recorder.mimeType || "audio/webm" });
      const transfer = new DataTransfer();
      transfer.items.add(file);
      input.files = transfer.files;
      note.textContent = ((Date.now() - started) / 1000).toFixed(1) + " s";
    };
    recorder.start();
    started = Date.now();
    start.disabled = true; stop.disabled = false;
  });
  stop.addEventListener("click", () => { recorder.stop(); start.disabled = false; stop.disabled = true; });
});

// Live progress of a transcription job; on to the transcript when it is done.
const job = document.getElementById("job");
if (job) {
  const bar = document.getElementById("job-progress"), stage = document.getElementById("job-stage");
  const error = document.getElementById("job-error"), stages = JSON.parse(job.dataset.stages || "{}");
  const poll = async () => {
    const response = await fetch("/transcriptions/" + job.dataset.job, { headers: { "X-Requested-With": "hearback" } });
    const state = await response.json();
    bar.value = state.progress;
    stage.textContent = (stages[state.stage] || state.stage) + " · " + Math.round(100 * state.progress) + " %";
    if (state.state === "done") { window.location = "/ui/sessions/" + state.session_id; return; }
    if (state.state === "failed") { error.hidden = false; error.textContent = job.dataset.failed + ": " + state.error; return; }
    setTimeout(poll, 700);
  };
  poll();
}

// Click a line of the transcript to hear it.
const player = document.getElementById("player");
document.querySelectorAll("#transcript li").forEach((line) => {
  line.addEventListener("click", () => {
    document.querySelectorAll("#transcript li.playing").forEach((l) => l.classList.remove("playing"));
    line.classList.add("playing");
    if (player) { player.currentTime = parseFloat(line.dataset.start); player.play().catch(() => {}); }
  });
});

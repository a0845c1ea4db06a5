// Upload page: POST the clip to /api/upload, poll /api/jobs/{id} for progress, show the results.
"use strict";
const $ = (id) => document.getElementById(id);

function say(text, isError = false) {
  $("message").textContent = text;
  $("message").className = isError ? "error" : "";
}

async function poll(id) {
  const response = await fetch(`/api/jobs/${id}`);
  const job = await response.json();
  $("progress").value = job.progress;
  if (job.state === "error") { say(job.message, true); $("submit").disabled = false; return; }
  if (job.state !== "done") {
    say(`${job.phase}... (${job.seconds} s)`);
    setTimeout(() => poll(id), 500);
    return;
  }
  say(`Done in ${job.seconds} s.`);
  $("submit").disabled = false;
  $("result").hidden = false;
  $("output").src = job.files.video;
  $("figures").innerHTML = "";
  for (const [label, url] of Object.entries(job.files)) {
    if (!url.endsWith(".png")) continue;
    const image = document.createElement("img");
    image.src = url; image.alt = label;
    $("figures").appendChild(image);
  }
}

$("form").onsubmit = async (event) => {
  event.preventDefault();
  $("submit").disabled = true;
  $("result").hidden = true;
  $("progress").hidden = false;
  $("progress").value = 0;
  say("Uploading...");
  const data = new FormData($("form"));
  if (!$("audio").files.length) data.delete("audio");
  const response = await fetch("/api/upload", { method: "POST", body: data });
  const body = await response.json();
  if (!response.ok) { say(body.error, true); $("submit").disabled = false; return; }
  poll(body.id);
};

// Live page: camera frames (JPEG, 25 fps) and 16 kHz microphone samples go to /ws/live as binary
// messages "V"/"A" + float64 client time (ms) + payload; listener faces come back as JSON.
"use strict";
const FPS = 25;
const state = { ws: null, stream: null, timer: null, audio: null, queue: [], latencies: [], received: 0, drawn: 0 };
const $ = (id) => document.getElementById(id);

function header(kind, ms, payloadBytes) {
  const buffer = new ArrayBuffer(9 + payloadBytes);
  const view = new DataView(buffer);
  view.setUint8(0, kind.charCodeAt(0));
  view.setFloat64(1, ms, true);
  return buffer;
}

function sendFrame(canvas, video) {
  if (!state.ws || state.ws.readyState !== WebSocket.OPEN || video.readyState < 2) return;
  const ms = performance.now();
  canvas.getContext("2d").drawImage(video, 0, 0, canvas.width, canvas.height);
  canvas.toBlob(async (blob) => {
    if (!blob || !state.ws || state.ws.readyState !== WebSocket.OPEN) return;
    const jpeg = new Uint8Array(await blob.arrayBuffer());
    const buffer = header("V", ms, jpeg.length);
    new Uint8Array(buffer, 9).set(jpeg);
    state.ws.send(buffer);
  }, "image/jpeg", 0.8);
}

function startAudio(stream) {
  // The AudioContext resamples the microphone to the 16 kHz the features use.
  const context = new AudioContext({ sampleRate: 16000 });
  const source = context.createMediaStreamSource(stream);
  const processor = context.createScriptProcessor(1024, 1, 1);
  processor.onaudioprocess = (event) => {
    if (!state.ws || state.ws.readyState !== WebSocket.OPEN) return;
    const samples = event.inputBuffer.getChannelData(0);
    const buffer = header("A", performance.now(), samples.length * 4);
    // Copy into a 4-byte aligned array, then byte-copy behind the 9-byte header.
    new Uint8Array(buffer, 9).set(new Uint8Array(Float32Array.from(samples).buffer));
    state.ws.send(buffer);
  };
  source.connect(processor);
  processor.connect(context.destination);
  state.audio = context;
}

function drawNext() {
  // Listener frames arrive a window at a time; play them at 25 fps.
  const face = state.queue.shift();
  if (!face) return;
  const image = new Image();
  image.onload = () => { $("listener").getContext("2d").drawImage(image, 0, 0, 192, 192); state.drawn += 1; };
  image.src = face;
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

async function start() {
  $("start").disabled = true;
  $("status").className = "";
  $("status").textContent = "Asking for the camera and microphone...";
  try {
    state.stream = await navigator.mediaDevices.getUserMedia({ video: { width: 320, height: 240 }, audio: true });
  } catch (err) {
    $("status").textContent = "No camera/microphone: " + err;
    $("status").className = "error";
    $("start").disabled = false;
    return;
  }
  const video = $("camera");
  video.srcObject = state.stream;
  const protocol = location.protocol === "https:" ? "wss" : "ws";
  const ws = new WebSocket(`${protocol}://${location.host}/ws/live`);
  ws.binaryType = "arraybuffer";
  state.ws = ws;
  ws.onmessage = (event) => {
    const message = JSON.parse(event.data);
    if (message.type === "ready") {
      $("status").textContent = `Live: ${message.method}, listener window ${message.window_frames} frames.`;
      $("window").textContent = message.window_frames;
      const canvas = document.createElement("canvas");
      canvas.width = 320; canvas.height = 240;
      state.timer = setInterval(() => { sendFrame(canvas, video); drawNext(); }, 1000 / FPS);
      startAudio(state.stream);
    } else if (message.type === "frames") {
      state.latencies.push(performance.now() - message.client_ms);
      if (state.latencies.length > 20) state.latencies.shift();
      $("latency").textContent = median(state.latencies).toFixed(0);
      state.received += message.faces.length;
      $("received").textContent = state.received;
      state.queue.push(...message.faces);
    } else {
      $("status").textContent = message.message;
      $("status").className = "error";
    }
  };
  ws.onclose = (event) => {
    // Closed without the Stop button: say so (busy/error messages were shown already).
    if (state.ws === ws && !$("status").classList.contains("error")) {
      $("status").textContent = `Connection to the server closed (code ${event.code}); press Start to reconnect.`;
      $("status").className = "error";
    }
    stop(false);
  };
  $("stop").disabled = false;
}

function stop(closeSocket = true) {
  if (state.timer) clearInterval(state.timer);
  state.timer = null;
  if (state.audio) state.audio.close();
  state.audio = null;
  const ws = state.ws;
  state.ws = null;
  if (closeSocket && ws) ws.close();
  if (state.stream) state.stream.getTracks().forEach((track) => track.stop());
  state.stream = null;
  $("start").disabled = false;
  $("stop").disabled = true;
  if (!$("status").classList.contains("error")) $("status").textContent = "Stopped.";
}

$("start").onclick = start;
$("stop").onclick = () => stop(true);

// The browser demo: microphone -> AudioWorklet -> 16-bit PCM over /ws; agent audio scheduled back to
// back; transcript, agent text and per-turn timing drawn live. Speaks the native protocol only.

const $ = (id) => document.getElementById(id);
const state = {
  ws: null, ctx: null, stream: null, node: null, source: null,
  nextTime: 0, playing: [], budgets: null, bubbles: new Map(), hangingUp: false, ended: null,
};
// What tests (and curious people) can read: window.voiceagent.
const stats = (window.voiceagent = {
  status: "idle", transcripts: [], agentTexts: [], turns: [], clears: 0, errors: [],
  audioSecondsScheduled: 0, audioSecondsPlayed: 0, transferTo: null, endReason: null, outcome: "",
});

// How the server ended a call, in the caller's words (the ended event's reason; others: "Call ended").
const ENDINGS = {
  transferred: () => `Transferred to ${stats.transferTo ?? "a person"}`,
  agent_ended: () => "The agent ended the call",
  idle_timeout: () => "The call ended: nothing was heard for a while",
  max_call_length: () => "The call reached its time limit",
  server_shutdown: () => "The server is shutting down",
};

function setStatus(kind, text) {
  const el = $("status");
  el.className = `pill ${kind}`;
  el.textContent = text;
  stats.status = kind;
}

function notice(text, kind = "") {
  const el = $("notice");
  el.className = kind ? `notice ${kind}` : "notice";
  el.textContent = text || "";
  el.hidden = !text;
}

async function loadPersonas() {
  try {
    const response = await fetch("/personas");
    const personas = await response.json();
    const select = $("persona");
    for (const p of personas) {
      const option = document.createElement("option");
      option.value = p.name;
      option.textContent = p.name;
      option.dataset.description = p.description;
      if (p.default) option.selected = true;
      select.append(option);
    }
    const describe = () => {
      $("persona-description").textContent = select.selectedOptions[0]?.dataset.description || "";
    };
    select.addEventListener("change", describe);
    describe();
  } catch {
    notice("The voiceagent server is not reachable. Is `voiceagent serve` running?");
  }
}

function bubble(who, text, extra = "") {
  const li = document.createElement("li");
  li.className = `bubble ${who} ${extra}`;
  li.textContent = text;
  $("chat").append(li);
  li.scrollIntoView({ block: "end" });
  return li;
}

function agentBubble(turn) {
  let el = state.bubbles.get(turn);
  if (!el) {
    el = bubble("agent", "");
    state.bubbles.set(turn, el);
  }
  return el;
}

function onEvent(event) {
  switch (event.type) {
    case "ready":
      state.budgets = event.budgets;
      setStatus("live", "In call");
      $("models").innerHTML = Object.entries(event.models)
        .map(([k, v]) => `<dt>${k}</dt><dd>${v}</dd>`).join("");
      break;
    case "transcript": {
      stats.transcripts.push(event.text);
      // A continued turn replaces the bubble of the turn it revises, in place.
      const old = event.revises != null ? document.querySelector(`.caller[data-turn="${event.revises}"]`) : null;
      const li = old || bubble("caller", event.text);
      li.textContent = event.text;
      li.dataset.turn = event.turn;
      break;
    }
    case "agent_text": {
      stats.agentTexts.push(event);
      const el = agentBubble(event.turn);
      const span = document.createElement("span");
      span.className = `piece ${event.kind}`;
      span.textContent = (el.textContent ? " " : "") + event.text;
      el.append(span);
      el.scrollIntoView({ block: "end" });
      break;
    }
    case "clear":
      stats.clears += 1;
      stopPlayback();
      agentBubble(event.turn).classList.add("interrupted");
      agentBubble(event.turn).title = `heard: "${event.heard}"`;
      break;
    case "turn_metrics":
      stats.turns.push(event);
      if (event.outcome !== "continued" && event.outcome !== "empty") drawTiming(event);
      break;
    case "error":
      stats.errors.push(event);
      notice(`${event.code}: ${event.message}`);
      break;
    case "transfer":
      // The agent hands the caller to a person at event.to; the call ends next ("transferred").
      stats.transferTo = event.to;
      bubble("system", `Transferring you to ${event.to}`);
      break;
    case "ended":
      stats.endReason = event.reason;
      state.ended = event.reason;
      if (ENDINGS[event.reason]) {
        stats.outcome = ENDINGS[event.reason]();
        bubble("system", stats.outcome);
      }
      break;
  }
}

function drawTiming(m) {
  if (m.turn_ms != null) $("turn-ms").textContent = Math.round(m.turn_ms);
  const budget = state.budgets?.turn_ms || 1000;
  const t = m.timeline;
  const parts = [
    ["endpoint", 0, t.endpoint],
    ["stt", t.endpoint, t.stt_done],
    ["llm", t.stt_done, t.first_clause ?? t.llm_first_token],
    ["tts", t.first_clause ?? t.llm_first_token, t.audio_out],
  ];
  const scale = Math.max(budget * 1.25, ...Object.values(t).filter((v) => v != null));
  const bar = document.createElement("div");
  bar.className = "timing" + (m.budget_events.length ? " over" : "");
  for (const [name, a, b] of parts) {
    if (a == null || b == null || b <= a) continue;
    const seg = document.createElement("i");
    seg.className = `k ${name}`;
    seg.style.left = `${(100 * a) / scale}%`;
    seg.style.width = `${(100 * (b - a)) / scale}%`;
    seg.title = `${name}: ${Math.round(b - a)} ms`;
    bar.append(seg);
  }
  const line = document.createElement("b");
  line.className = "budget";
  line.style.left = `${(100 * budget) / scale}%`;
  bar.append(line);
  const label = document.createElement("span");
  label.className = "label";
  const misses = m.budget_events.map((e) => `${e.stage} +${Math.round(e.actual_ms - e.budget_ms)} ms`);
  label.textContent = `${m.turn_ms != null ? Math.round(m.turn_ms) + " ms" : "no reply"}`
    + (m.filler ? " · filler" : "") + (misses.length ? ` · over budget: ${misses.join(", ")}` : "");
  const li = document.createElement("li");
  li.className = "metrics";
  li.append(bar, label);
  const agent = state.bubbles.get(m.turn);
  if (agent) agent.after(li); else $("chat").append(li);
}

function playPcm(buffer) {
  const ctx = state.ctx;
  const pcm = new Int16Array(buffer);
  if (!pcm.length) return;
  const audio = ctx.createBuffer(1, pcm.length, ctx.sampleRate);
  const data = audio.getChannelData(0);
  for (let i = 0; i < pcm.length; i++) data[i] = pcm[i] / 32768;
  const node = ctx.createBufferSource();
  node.buffer = audio;
  node.connect(ctx.destination);
  const start = Math.max(ctx.currentTime + 0.03, state.nextTime);
  node.start(start);
  state.nextTime = start + audio.duration;
  stats.audioSecondsScheduled += audio.duration;
  state.playing.push(node);
  node.onended = () => {
    stats.audioSecondsPlayed += audio.duration;
    state.playing = state.playing.filter((n) => n !== node);
  };
}

function stopPlayback() {
  for (const node of state.playing) {
    node.onended = null;
    try { node.stop(); } catch { /* not started yet */ }
  }
  state.playing = [];
  state.nextTime = 0;
}

async function call() {
  notice("");
  state.hangingUp = false;
  state.ended = null;
  Object.assign(stats, { transferTo: null, endReason: null, outcome: "" });
  setStatus("connecting", "Connecting");
  try {
    state.stream = await navigator.mediaDevices.getUserMedia({
      audio: { echoCancellation: true, noiseSuppression: true, autoGainControl: true, channelCount: 1 },
    });
  } catch (error) {
    setStatus("error", "No microphone");
    notice(`Microphone access was denied or no microphone was found (${error.name}). `
      + "Allow the microphone for this page and press Call again.");
    return;
  }
  state.ctx = new AudioContext({ latencyHint: "interactive" });
  await state.ctx.audioWorklet.addModule("/static/capture-worklet.js");
  state.source = state.ctx.createMediaStreamSource(state.stream);
  state.node = new AudioWorkletNode(state.ctx, "capture-processor");
  state.source.connect(state.node);

  const scheme = location.protocol === "https:" ? "wss" : "ws";
  const ws = new WebSocket(`${scheme}://${location.host}/ws`);
  ws.binaryType = "arraybuffer";
  state.ws = ws;
  ws.onopen = () => {
    // A protected server: open the page as /?token=... and the token goes in the start message.
    const token = new URLSearchParams(location.search).get("token") || undefined;
    ws.send(JSON.stringify({ type: "start", sample_rate: state.ctx.sampleRate, persona: $("persona").value, token }));
    state.node.port.onmessage = ({ data }) => {
      $("level").style.width = `${Math.min(100, data.rms * 400)}%`;
      if (ws.readyState !== WebSocket.OPEN) return;
      const pcm = new Int16Array(data.samples.length);
      for (let i = 0; i < pcm.length; i++) pcm[i] = Math.max(-32768, Math.min(32767, data.samples[i] * 32768));
      ws.send(pcm.buffer);
    };
  };
  ws.onmessage = ({ data }) => {
    if (typeof data === "string") onEvent(JSON.parse(data));
    else playPcm(data);
  };
  ws.onerror = () => notice("Cannot reach the voiceagent server.");
  ws.onclose = (event) => {
    const wasLive = stats.status === "live";
    cleanup();
    if (state.ended && !state.hangingUp) {
      // The server ended the call and said why (ended): not a dropped call.
      setStatus("idle", state.ended === "transferred" ? "Transferred" : "Call ended");
      if (state.ended !== "caller_stop") notice(stats.outcome || `The call ended (${state.ended}).`, "info");
    } else if (!state.hangingUp) {
      setStatus("error", "Disconnected");
      notice(wasLive ? `The call dropped (code ${event.code}).` : "Cannot reach the voiceagent server.");
    } else {
      setStatus("idle", "Call ended");
    }
  };
  $("call").textContent = "Hang up";
  $("call").classList.add("hangup");
}

function hangUp() {
  state.hangingUp = true;
  if (state.ws?.readyState === WebSocket.OPEN) state.ws.send(JSON.stringify({ type: "stop" }));
  setTimeout(() => state.ws?.close(), 300);
}

function cleanup() {
  stopPlayback();
  state.node?.disconnect();
  state.source?.disconnect();
  state.stream?.getTracks().forEach((t) => t.stop());
  state.ctx?.close();
  state.ws = null;
  $("level").style.width = "0";
  $("call").textContent = "Call";
  $("call").classList.remove("hangup");
}

$("call").addEventListener("click", () => (state.ws ? hangUp() : call()));
loadPersonas();

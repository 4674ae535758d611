// The unit's page, live: one WebSocket to /ws carries the pipeline's events as they happen (no polling).
// The state and the words being heard are updated in place; when an outcome or a change from elsewhere
// arrives, the page's [data-live] parts are fetched again, rendered by the server.
"use strict";
(function () {
  const state = document.getElementById("state");
  const heard = document.getElementById("heard");
  const mic = document.getElementById("mic");
  const link = document.getElementById("link");
  let pending = null;
  // cloud parts offline; the unit shows "offline" while idle with any of them
  const offline = new Set(state && state.dataset.offline ? state.dataset.offline.split(" ") : []);
  let resting = state ? state.dataset.rest : "idle";

  function showState() {
    if (!state) return;
    const shown = resting === "idle" && offline.size ? "offline" : resting;
    state.textContent = shown;
    state.dataset.state = shown;
  }

  function refresh() {
    if (pending || !document.querySelector("[data-live]")) return;
    pending = setTimeout(async function () {
      try {
        const response = await fetch(location.href, { cache: "no-store", credentials: "same-origin" });
        if (!response.ok) return;
        const fresh = new DOMParser().parseFromString(await response.text(), "text/html");
        document.querySelectorAll("[data-live]").forEach(function (part) {
          const next = fresh.getElementById(part.id);
          if (next) part.innerHTML = next.innerHTML;
        });
      } finally {
        pending = null;
      }
    }, 60);
  }

  function show(event) {
    switch (event.event) {
      case "state":
        resting = event.state;
        showState();
        break;
      case "connectivity":
        if (event.online) offline.delete(event.part); else offline.add(event.part);
        showState();
        refresh();
        break;
      case "listening":
        if (heard) { heard.textContent = ""; heard.dataset.final = "false"; }
        break;
      case "interim":
      case "transcript":
        if (heard) { heard.textContent = event.text; heard.dataset.final = String(event.event === "transcript"); }
        break;
      case "mic_level":
        if (mic) mic.textContent = Math.round(event.rms_dbfs) + " dBFS (peak " + Math.round(event.peak_dbfs) + ")";
        break;
      case "outcome":
      case "store_changed":
        refresh();
        break;
    }
  }

  function connect() {
    const socket = new WebSocket((location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/ws");
    socket.onopen = function () { if (link) link.classList.add("up"); document.body.dataset.live = "up"; };
    socket.onmessage = function (message) { show(JSON.parse(message.data)); };
    socket.onclose = function () {
      if (link) link.classList.remove("up");
      document.body.dataset.live = "down";
      setTimeout(connect, 2000);
    };
  }

  // "Correct" on a stock row fills the correction form
  document.addEventListener("click", function (e) {
    const button = e.target.closest ? e.target.closest("button.fix") : null;
    const form = document.getElementById("correct");
    if (!button || !form) return;
    form.elements.item.value = button.dataset.item;
    form.elements.location.value = button.dataset.location;
    form.elements.quantity.value = button.dataset.quantity;
    form.scrollIntoView({ behavior: "smooth" });
    form.elements.quantity.focus();
  });

  connect();
})();

// The simulator page: a phone-like thread for one fictional resident at a time. Messages go
// to POST /staff/simulator/send (the Twilio web hook's pipeline); follow-ups the worker sends
// later are polled from GET /staff/simulator/thread. Every POST carries the CSRF token.
"use strict";

(() => {
  const root = document.getElementById("simulator");
  const thread = document.getElementById("thread");
  const status = document.getElementById("status");
  const body = document.getElementById("body");
  const csrf = document.querySelector('meta[name="csrf-token"]').content;
  const POLL_MS = 3000;
  const state = { resident: null, seen: 0, segments: 0 };
  let queue = Promise.resolve();  // one action at a time, in the order they were asked for

  function channel() {
    return document.querySelector('input[name="channel"]:checked').value;
  }

  async function json(response) {
    const type = response.headers.get("Content-Type") || "";
    if (response.redirected || !type.startsWith("application/json")) {
      throw new Error("Signed out: reload the page and sign in again.");
    }
    if (!response.ok) throw new Error(`The server answered ${response.status}.`);
    return response.json();
  }

  async function post(url, data) {
    return json(await fetch(url, {
      method: "POST", credentials: "same-origin", body: JSON.stringify(data),
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrf },
    }));
  }

  function add(kind, text, meta) {
    const item = document.createElement("li");
    item.className = `bubble ${kind}`;
    item.textContent = text;
    if (meta) {
      const small = document.createElement("small");
      small.className = "meta";
      small.textContent = meta;
      item.appendChild(small);
    }
    thread.appendChild(item);
    thread.scrollTop = thread.scrollHeight;
  }

  function addBot(message, later) {
    const parts = message.segments === 1 ? "1 segment" : `${message.segments} segments`;
    add(later ? "bot later" : "bot", message.text,
        `${later ? "Later, from the worker · " : ""}${parts} · ${message.encoding}`);
    state.segments += message.segments;
    document.getElementById("cost").textContent =
      `${state.segments} segment${state.segments === 1 ? "" : "s"} sent`;
  }

  async function newResident() {
    const data = await post(root.dataset.residents, {});
    Object.assign(state, { resident: data.resident, seen: 0, segments: 0 });
    thread.replaceChildren();
    thread.dataset.resident = data.resident;
    document.getElementById("resident").textContent =
      `Resident ${data.resident} · ${data.number} (fictional)`;
    document.getElementById("cost").textContent = "0 segments sent";
  }

  async function send(text) {
    if (state.resident === null) await newResident();
    add("me", text || " ");
    const data = await post(root.dataset.send,
                            { resident: state.resident, body: text, channel: channel() });
    if (!data.replies.length) add("note", "No reply");
    data.replies.forEach((reply) => addBot(reply, false));
  }

  async function poll() {
    if (state.resident === null) return;
    const resident = state.resident;
    const query = new URLSearchParams({ resident, after: state.seen });
    const data = await json(await fetch(`${root.dataset.thread}?${query}`,
                                        { credentials: "same-origin" }));
    if (resident !== state.resident) return;  // a new resident came meanwhile
    state.seen = data.next;
    data.messages.forEach((message) => addBot(message, true));
  }

  function run(action) {
    queue = queue.then(async () => {
      thread.setAttribute("aria-busy", "true");
      status.textContent = "";
      try {
        await action();
      } catch (error) {
        status.textContent = error.message;
      } finally {
        thread.setAttribute("aria-busy", "false");
      }
    });
    return queue;
  }

  document.getElementById("compose").addEventListener("submit", (event) => {
    event.preventDefault();
    const text = body.value;
    body.value = "";
    run(() => send(text));
    body.focus();
  });
  document.querySelectorAll("[data-start]").forEach((button) => {
    button.addEventListener("click", () => run(async () => {
      await newResident();
      await send(button.dataset.start);
    }));
  });
  const campaign = document.getElementById("start-campaign");
  if (campaign) {
    campaign.addEventListener("click", () => run(async () => {
      const chosen = document.getElementById("campaign").selectedOptions[0];
      if (!chosen || chosen.disabled) throw new Error("No campaign is running today.");
      await newResident();
      await send(chosen.value);
    }));
  }
  document.getElementById("new-resident").addEventListener("click", () => run(newResident));
  document.getElementById("reset").addEventListener("click", () => {
    if (state.resident !== null) run(() => send(root.dataset.restart));
  });
  let polling = false;  // a slow server must not pile polls up behind one another
  setInterval(() => {
    if (state.resident === null || polling) return;
    polling = true;
    run(poll).finally(() => { polling = false; });
  }, POLL_MS);
})();

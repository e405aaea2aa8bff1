// The resident web door, enhanced: the page works without this script (every control is a
// plain form post); with it, answers go by fetch and only what changed is redrawn, so the
// page does not reload and screen readers hear just the new messages in the live region.
// No framework, nothing inline (CSP: script-src 'self'), every text from the page itself.
"use strict";

(() => {
  const root = document.getElementById("door");
  if (!root || !window.fetch || !window.FormData) return;  // very old browsers: plain forms
  const $ = (id) => document.getElementById(id);
  const texts = root.dataset;
  const message = $("message");
  const notice = $("notice");
  let busy = false;
  let seen = $("transcript").children.length;  // transcript entries the page shows

  // A language's page, as the server links it in the header.
  function pageOf(lang) {
    const link = document.querySelector(`.languages a[hreflang="${lang}"]`);
    return link ? link.href : window.location.href;
  }

  // The turn's id: a double submit (a retried request) is answered once by the server.
  function requestId() {
    const bytes = crypto.getRandomValues(new Uint8Array(16));
    return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  }

  function clone(id) {
    return $(id).content.firstElementChild.cloneNode(true);
  }

  function fill(element, selector, value) {
    const target = element.querySelector(selector);
    target.textContent = value || "";
    target.hidden = !value;
    return target;
  }

  function say(text, isError, where = notice) {
    where.textContent = text || "";
    where.classList.toggle("error", Boolean(isError));
  }

  function link(item) {
    const a = document.createElement("a");
    const phone = item.href.startsWith("tel:");
    a.className = `action ${phone ? "call" : "visit"}`;
    a.href = item.href;
    a.textContent = phone ? texts.call.replace("{number}", item.label)
      : texts.visit.replace("{site}", item.label);
    return a;
  }

  function bubble(from, text) {
    const item = clone(from === "resident" ? "tpl-bubble-resident" : "tpl-bubble");
    item.querySelector(".text").textContent = text;
    return item;
  }

  // Add this turn to the log. When the server's transcript holds no more than this turn
  // (the first message, RESTART, STOP), the conversation began afresh: the log does too.
  // Otherwise anything that came before it unseen (a navigator's reply) goes first.
  function addTurn(shown, replies, transcript = []) {
    const turn = [bubble("resident", shown), ...replies.map((reply) => bubble("bot", reply))];
    const log = $("transcript");
    if (transcript.length <= turn.length) {
      log.replaceChildren(...turn);
    } else {
      catchUp(transcript.slice(0, transcript.length - turn.length));
      log.append(...turn);
    }
    seen = transcript.length;
  }

  // Show what the server's transcript holds beyond what the page shows (a navigator's
  // reply). It keeps the last 60 messages, so once full its length stops growing: then
  // what follows the page's last message is new.
  function catchUp(transcript) {
    let fresh = transcript.slice(seen);
    if (transcript.length <= seen) {
      const last = $("transcript").lastElementChild;
      const text = last ? last.querySelector(".text").textContent : null;
      const at = transcript.map((entry) => entry.text).lastIndexOf(text);
      fresh = at >= 0 ? transcript.slice(at + 1) : [];
    }
    $("transcript").append(...fresh.map((entry) => bubble(entry.from, entry.text)));
    seen = transcript.length;
  }

  // While a navigator has the conversation, ask for news every few seconds (only then, and
  // only while the page is in sight): their reply has no other way to reach this page.
  async function poll() {
    if (busy || root.dataset.stage !== "with_navigator" || document.hidden) return;
    try {
      const response = await fetch(`/chat/state?lang=${encodeURIComponent(root.dataset.lang)}`,
        { credentials: "same-origin", headers: { Accept: "application/json" } });
      if (!response.ok || busy) return;
      const data = await response.json();
      catchUp(data.transcript || []);
      render(data);
    } catch (offline) {
      // offline for now: the next poll tries again
    }
  }

  function card(result) {
    const item = clone("tpl-card");
    item.dataset.program = result.id;
    ["name", "summary", "details", "apply", "caution"].forEach(
      (field) => fill(item, `.${field}`, result[field]));
    const links = item.querySelector(".links");
    (result.links || []).forEach((entry) => {
      const li = document.createElement("li");
      li.appendChild(link(entry));
      links.appendChild(li);
    });
    return item;
  }

  function place(service) {
    const item = clone("tpl-service");
    ["name", "address"].forEach((field) => fill(item, `.${field}`, service[field]));
    fill(item, ".hours .value", service.hours).parentElement.hidden = !service.hours;
    const phone = item.querySelector(".phone");
    phone.hidden = !service.href;
    if (service.href) phone.appendChild(link({ href: service.href, label: service.phone }));
    return item;
  }

  function button(entry) {
    const item = clone("tpl-button");
    item.value = entry.send;
    item.textContent = entry.label;
    return item;
  }

  // Redraw everything but the transcript from a view (the contract's JSON); a part the
  // answer leaves out is shown empty.
  function render(view) {
    root.dataset.stage = view.stage || "";
    root.dataset.question = view.question ? view.question.id : "";
    root.dataset.type = view.question ? view.question.type : "";
    const buttons = view.buttons || [];
    $("replies").querySelector(".buttons").replaceChildren(...buttons.map(button));
    $("replies").hidden = !buttons.length;
    const results = view.results || [];
    $("cards").replaceChildren(...results.map(card));
    $("results").hidden = !results.length;
    const services = view.services || [];
    $("places").replaceChildren(...services.map(place));
    $("services").hidden = !services.length;
    $("text-me").hidden = !view.can_text_results;
    $("forget").hidden = !(view.transcript || []).length;
  }

  function setBusy(state) {
    busy = state;
    root.classList.toggle("busy", state);
    $("log").setAttribute("aria-busy", String(state));
    message.readOnly = state;  // not disabled: focus stays in the box
    document.querySelectorAll("#door button").forEach((b) => { b.disabled = state; });
  }

  // POST a form's fields as a form would, asking for JSON; the answer, or an Error whose
  // message is already in the page's language.
  async function post(form, extra) {
    const body = new URLSearchParams(new FormData(form));
    Object.entries(extra || {}).forEach(([name, value]) => body.set(name, value));
    let response;
    try {
      response = await fetch(form.action, {
        method: "POST", body, credentials: "same-origin",
        headers: { Accept: "application/json" },
      });
    } catch (offline) {
      throw new Error(texts.offline);
    }
    const data = await response.json().catch(() => ({}));
    if (!response.ok || data.error) throw new Error(data.error || texts.error);
    return data;
  }

  async function send(text, shown, focusAfter) {
    if (busy || !text.trim()) return;
    setBusy(true);
    say(texts.sending);
    try {
      const data = await post($("compose"), { text, request: requestId() });
      if (data.lang && data.lang !== root.dataset.lang) {
        window.location.assign(pageOf(data.lang));  // the whole page in the new language
        return;
      }
      say("");
      addTurn(shown, data.replies || [], data.transcript);
      render(data);
      message.value = "";
      $("compose").scrollIntoView({ block: "nearest" });  // the answer and the box in sight
    } catch (error) {
      say(error.message, true);
    } finally {
      setBusy(false);
      focusAfter.focus();
    }
  }

  window.setInterval(poll, Number(texts.poll) || 10000);

  $("compose").addEventListener("submit", (event) => {
    event.preventDefault();
    send(message.value, message.value.trim(), message);
  });

  $("replies").addEventListener("click", (event) => {
    const tapped = event.target.closest("button");
    if (!tapped) return;
    event.preventDefault();
    send(tapped.value, tapped.textContent, message);
  });

  $("forget-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    if (busy) return;
    setBusy(true);
    try {
      const data = await post(event.target);
      $("transcript").replaceChildren();
      seen = 0;
      render(data);
      say(texts.forgotten);
    } catch (error) {
      say(error.message, true);
    } finally {
      setBusy(false);
      message.focus();
    }
  });

  $("text-me-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    if (busy) return;
    const status = $("text-me-status");
    const phone = $("phone");
    setBusy(true);
    say(texts.sending, false, status);
    try {
      await post(event.target);
      phone.removeAttribute("aria-invalid");
      say(texts.sent, false, status);
    } catch (error) {
      phone.setAttribute("aria-invalid", "true");
      say(error.message, true, status);
    } finally {
      setBusy(false);
      phone.focus();
    }
  });
})();

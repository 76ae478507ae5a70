// The review page of `cutout review serve`: keyboard, selection, decisions with a short undo window.
//
// A decision cannot be taken back once made (its event is announced, a rejection deletes), so a key
// press does not decide at once: the card waits `data-undo-seconds` (u undoes the last one meanwhile),
// then one POST /decisions carries it, with the session's token. Leaving the page sends what waits.
"use strict";

(() => {
  const token = document.querySelector('meta[name="cutout-token"]').content;
  const undoSeconds = Number(document.body.dataset.undoSeconds || "0");
  const cards = Array.from(document.querySelectorAll("article.card"));
  const status = document.getElementById("status");
  const pending = []; // groups of cards waiting for their decision: [{action, cards, timer}]
  let current = -1;

  const say = (text) => { status.textContent = text; };
  const isOpen = (card) => !card.classList.contains("decided") && !card.classList.contains("pending");

  function focus(index) {
    if (!cards.length) return;
    current = Math.max(0, Math.min(cards.length - 1, index));
    cards.forEach((card, i) => card.classList.toggle("current", i === current));
    cards[current].focus({ preventScroll: true });
    cards[current].scrollIntoView({ block: "nearest" });
  }

  function move(step) {
    if (current < 0) { focus(0); return; }
    let index = current + step;
    while (index >= 0 && index < cards.length && !isOpen(cards[index])) index += step;
    if (index >= 0 && index < cards.length) focus(index);
    else say(step > 0 ? "No open card below." : "No open card above.");
  }

  function setOutcome(card, text, kind) {
    const line = card.querySelector(".outcome");
    line.textContent = text;
    line.dataset.outcome = kind;
  }

  function showButtons(card, undoable) {
    card.querySelectorAll("button[data-action=approve], button[data-action=reject]").forEach((button) => {
      button.disabled = !isOpen(card);
    });
    card.querySelector("button[data-action=undo]").hidden = !undoable;
  }

  function decide(action, chosen) {
    const open = chosen.filter(isOpen);
    if (!open.length) { say("Nothing to decide: those cards are decided or waiting."); return; }
    const verb = action === "approve" ? "Approving" : "Rejecting";
    open.forEach((card) => {
      card.classList.add("pending", action);
      card.querySelector("input.select").checked = false;
      card.classList.remove("selected");
      setOutcome(card, undoSeconds > 0 ? `${verb}… (u or Undo to take it back)` : `${verb}…`, "pending");
      showButtons(card, undoSeconds > 0);
    });
    const group = { action, cards: open, timer: null };
    pending.push(group);
    say(`${verb} ${open.length} upload${open.length === 1 ? "" : "s"}` + (undoSeconds > 0 ? ": u undoes it." : "."));
    group.timer = setTimeout(() => send(group), undoSeconds * 1000);
    const next = cards.findIndex((card, i) => i > current && isOpen(card));
    if (next >= 0) focus(next);
  }

  function undo(group) {
    group = group || pending[pending.length - 1];
    if (!group) { say("Nothing to undo: the decisions made are announced and cannot be taken back."); return; }
    clearTimeout(group.timer);
    pending.splice(pending.indexOf(group), 1);
    group.cards.forEach((card) => {
      card.classList.remove("pending", "approve", "reject");
      setOutcome(card, "Undone: still held.", "undone");
      showButtons(card, false);
    });
    say(`Undone: ${group.cards.length} upload${group.cards.length === 1 ? "" : "s"} still held.`);
    focus(cards.indexOf(group.cards[0]));
  }

  function body(group) {
    return JSON.stringify({
      action: group.action,
      uploads: group.cards.map((card) => ({ key: card.dataset.key, seen: JSON.parse(card.dataset.seen) })),
    });
  }

  async function send(group, keepalive = false) {
    const index = pending.indexOf(group);
    if (index < 0) return;
    pending.splice(index, 1);
    group.cards.forEach((card) => {
      card.classList.remove("pending");
      card.classList.add("sending");
      showButtons(card, false);
    });
    let answer;
    try {
      const response = await fetch("/decisions", {
        method: "POST",
        headers: { "Content-Type": "application/json", "X-Cutout-Token": token },
        body: body(group),
        keepalive,
      });
      answer = await response.json();
      if (!response.ok) throw new Error(answer.error || `the server answered ${response.status}`);
    } catch (error) {
      group.cards.forEach((card) => {
        card.classList.remove("sending", "approve", "reject");
        setOutcome(card, `Not decided: ${error.message}`, "error");
        showButtons(card, false);
      });
      say(`Not decided: ${error.message}`);
      return;
    }
    const byKey = new Map(answer.results.map((result) => [result.key, result]));
    group.cards.forEach((card) => {
      const result = byKey.get(card.dataset.key) || { outcome: "error", message: "No answer for this card." };
      card.classList.remove("sending");
      if (result.outcome === "approved" || result.outcome === "rejected") {
        card.classList.add("decided", result.outcome);
      } else {
        card.classList.remove("approve", "reject");
        card.classList.add(result.outcome === "stale" ? "stale" : "failed-decision");
        if (result.outcome === "stale") card.classList.add("decided");
      }
      card.dataset.outcome = result.outcome;
      setOutcome(card, result.message, result.outcome);
      showButtons(card, false);
    });
    const done = answer.results.filter((r) => r.outcome === "approved" || r.outcome === "rejected").length;
    say(`${done} of ${answer.results.length} decided.` + (done < answer.results.length ? " See the cards for why not." : ""));
  }

  function selection() { return cards.filter((card) => card.querySelector("input.select").checked); }

  function toggle(card) {
    if (!card || !isOpen(card)) return;
    const box = card.querySelector("input.select");
    box.checked = !box.checked;
    card.classList.toggle("selected", box.checked);
  }

  cards.forEach((card, index) => {
    card.addEventListener("click", (event) => {
      const button = event.target.closest("button[data-action]");
      if (event.target.matches("input.select")) {
        card.classList.toggle("selected", event.target.checked);
      }
      if (current !== index) focus(index);
      if (!button) return;
      if (button.dataset.action === "undo") undo(pending.find((group) => group.cards.includes(card)));
      else decide(button.dataset.action, [card]);
    });
    card.querySelectorAll("img").forEach((image) => {
      image.addEventListener("error", () => {
        const frame = image.closest(".frame");
        frame.classList.add("placeholder");
        frame.classList.remove("checker");
        frame.innerHTML = "<div><strong>not loaded</strong>the link may have expired: reload the page</div>";
      });
    });
  });

  document.querySelectorAll("button[data-bulk]").forEach((button) => {
    button.addEventListener("click", () => {
      const chosen = selection();
      if (!chosen.length) { say("Select cards first (x, or their boxes)."); return; }
      decide(button.dataset.bulk, chosen);
    });
  });

  document.addEventListener("keydown", (event) => {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    if (event.target.closest("input:not(.select), select, textarea")) return;
    if (current < 0 && cards.length) focus(0);
    const card = cards[current];
    const keys = {
      j: () => move(1), ArrowDown: () => move(1), k: () => move(-1), ArrowUp: () => move(-1),
      a: () => card && decide("approve", [card]), r: () => card && decide("reject", [card]),
      x: () => toggle(card), u: () => undo(), z: () => undo(),
      A: () => (selection().length ? decide("approve", selection()) : say("Select cards first (x).")),
      R: () => (selection().length ? decide("reject", selection()) : say("Select cards first (x).")),
    };
    const action = keys[event.key];
    if (!action) return;
    event.preventDefault();
    action();
  });

  // Leaving the page: what waits for its undo window is decided now (the person meant it).
  window.addEventListener("pagehide", () => { pending.slice().forEach((group) => { clearTimeout(group.timer); send(group, true); }); });

  if (cards.length) focus(0);
})();

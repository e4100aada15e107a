// megasend's page script: keeps a page's numbers current by polling its
// JSON (data-live) once a second, and asks before a button that cannot be
// undone. Plain JavaScript, no build step; the page works without it, only
// it does not update itself.
"use strict";

(function () {
  const POLL_MS = 1000;

  function setText(el, text) {
    if (el && el.textContent !== text) el.textContent = text;
  }

  // The tone classes a state pill may have.
  const TONES = ["ok", "busy", "warn", "bad", "idle"];
  function setTone(el, tone) {
    if (!el) return;
    TONES.forEach((t) => el.classList.toggle(t, t === tone));
  }

  // Fills the cells of scope marked data-k from row, and its progress bar.
  function fillRow(scope, row) {
    scope.querySelectorAll("[data-k]").forEach((el) => {
      const v = row[el.dataset.k];
      if (v !== undefined) setText(el, String(v));
    });
    setTone(scope.querySelector("[data-tone]"), row.tone);
    const bar = scope.querySelector("progress");
    if (bar) {
      bar.max = Math.max(row.of, 1);
      bar.value = row.done;
    }
  }

  async function poll(url, apply) {
    let stop = false;
    while (!stop) {
      try {
        const res = await fetch(url, { credentials: "same-origin", cache: "no-store" });
        if (res.status === 401) {
          location.assign("/signin?next=" + encodeURIComponent(location.pathname));
          return;
        }
        if (res.ok) stop = apply(await res.json()) === false;
      } catch (e) {
        // The server restarting: try again at the next tick.
      }
      await new Promise((r) => setTimeout(r, POLL_MS));
    }
  }

  function liveList(table) {
    poll(table.dataset.live, (doc) => {
      const rows = new Map();
      table.querySelectorAll("tr[data-batch]").forEach((tr) => rows.set(tr.dataset.batch, tr));
      if (doc.batches.length !== rows.size || doc.batches.some((b) => !rows.has(b.name))) {
        location.reload(); // a batch came or went
        return false;
      }
      doc.batches.forEach((b) => fillRow(rows.get(b.name), b));
    });
  }

  function liveBatch(root) {
    // The shape the page was drawn in: a change that happened between
    // the drawing and the first poll must redraw it too.
    const shape = root.dataset.shape;
    poll(root.dataset.live, (doc) => {
      if (doc.shape !== shape) {
        // New buttons or a new failure group: draw the page again, without
        // the notice of an earlier action.
        location.replace(location.pathname);
        return false;
      }
      fillRow(root, doc);
      root.querySelectorAll("[data-r]").forEach((el) => setText(el, doc.receipts[el.dataset.r]));
      root.querySelectorAll("tr[data-failure]").forEach((tr) => {
        const n = doc.failures[tr.dataset.failure];
        if (n !== undefined) setText(tr.querySelector("[data-f=count]"), n);
      });
      const c = doc.chart;
      root.querySelectorAll("[data-chart]").forEach((el) => {
        const k = el.dataset.chart;
        if (k === "points" || k === "area") {
          if (el.getAttribute("points") !== c[k]) el.setAttribute("points", c[k] || "");
        } else {
          setText(el, c[k]);
        }
      });
      return !doc.finished || doc.shape !== shape;
    });
  }

  document.addEventListener("submit", (ev) => {
    const msg = ev.target.dataset && ev.target.dataset.confirm;
    if (msg && !window.confirm(msg)) ev.preventDefault();
  });

  document.addEventListener("DOMContentLoaded", () => {
    const list = document.querySelector("table.batches[data-live]");
    if (list) liveList(list);
    const batch = document.querySelector("#batch[data-live]");
    if (batch) liveBatch(batch);
  });
})();

// The web console's little script. Everything works without it except a few conveniences: the time
// slider reads as you drag and shows the standings when released, a period or unit chosen in a list
// shows at once, and the integrity page checks an inclusion proof with the browser's own SHA-256
// (RFC 9162 §2.1.3.2).
"use strict";

document.addEventListener("DOMContentLoaded", () => {
  const slider = document.getElementById("at");
  const label = document.getElementById("at-label");
  if (slider && label) {
    const word = label.textContent.split(" ")[0];
    slider.addEventListener("input", () => {
      label.textContent = `${word} ${slider.value} / ${slider.dataset.head}`;
    });
    slider.addEventListener("change", () => {
      const time = document.getElementById("time");
      if (time) time.value = "";
      slider.form.submit();
    });
  }
  const inclusion = document.getElementById("inclusion-form");
  if (inclusion) inclusion.addEventListener("submit", checkInclusion);
  // A choice that shows another page at once (the Content-Security-Policy allows no inline handler).
  for (const select of document.querySelectorAll("select[data-autosubmit]")) {
    select.addEventListener("change", () => select.form.submit());
  }
  // A copy button copies the text of the element it names (a token shown once).
  for (const button of document.querySelectorAll("button[data-copy]")) {
    button.addEventListener("click", () => copyText(button));
  }
  // In an entry grid, Enter in a one-line field goes to the same field of the next row instead of
  // sending the form (Tab already goes along the row); Shift+Enter goes up.
  for (const grid of document.querySelectorAll("form.grid")) {
    grid.addEventListener("keydown", (event) => gridKey(grid, event));
  }
});

function copyText(button) {
  const target = document.getElementById(button.dataset.copy);
  if (!target) return;
  const text = target.textContent.trim();
  const done = () => { button.dataset.copied = "1"; button.textContent = "✓"; };
  if (navigator.clipboard && window.isSecureContext) {
    navigator.clipboard.writeText(text).then(done, () => selectText(target));
  } else {
    // Outside a secure context there is no clipboard API: select the text for Ctrl+C.
    selectText(target);
    try { if (document.execCommand("copy")) done(); } catch (_) { /* selected; copy by hand */ }
  }
}

function selectText(element) {
  const range = document.createRange();
  range.selectNodeContents(element);
  const selection = window.getSelection();
  selection.removeAllRanges();
  selection.addRange(range);
}

function gridKey(grid, event) {
  const field = event.target;
  if (event.key !== "Enter" || field.tagName !== "INPUT") return;
  const row = field.closest("tr");
  if (!row) return;
  event.preventDefault();
  const column = field.name.split("/").slice(1).join("/");
  let next = event.shiftKey ? row.previousElementSibling : row.nextElementSibling;
  while (next) {
    const same = [...next.querySelectorAll("input, select, textarea")].find((f) => f.name.split("/").slice(1).join("/") === column);
    if (same) { same.focus(); if (same.select) same.select(); return; }
    next = event.shiftKey ? next.previousElementSibling : next.nextElementSibling;
  }
}

function hexToBytes(hex) {
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.substr(i * 2, 2), 16);
  return out;
}

function bytesToHex(bytes) {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

async function sha256(...parts) {
  const length = parts.reduce((n, p) => n + p.length, 0);
  const data = new Uint8Array(length);
  let at = 0;
  for (const p of parts) { data.set(p, at); at += p.length; }
  return new Uint8Array(await crypto.subtle.digest("SHA-256", data));
}

// The root an inclusion proof leads to (RFC 9162 §2.1.3.2), or null when the path is malformed.
async function rootFromProof(leafIndex, treeSize, eventHash, path) {
  if (leafIndex >= treeSize) return null;
  let fn = BigInt(leafIndex);
  let sn = BigInt(treeSize - 1);
  let r = await sha256(new Uint8Array([0]), eventHash);
  for (const p of path) {
    if (sn === 0n) return null;
    if ((fn & 1n) === 1n || fn === sn) {
      r = await sha256(new Uint8Array([1]), p, r);
      if ((fn & 1n) === 0n) {
        while ((fn & 1n) === 0n && fn !== 0n) { fn >>= 1n; sn >>= 1n; }
      }
    } else {
      r = await sha256(new Uint8Array([1]), r, p);
    }
    fn >>= 1n;
    sn >>= 1n;
  }
  return sn === 0n ? r : null;
}

async function checkInclusion(event) {
  event.preventDefault();
  const form = event.target;
  const out = document.getElementById("inclusion-result");
  const position = form.elements.position.value.trim();
  out.className = "";
  out.textContent = "…";
  const response = await fetch(`/integrity/proof?position=${encodeURIComponent(position)}`);
  const body = await response.json();
  if (!response.ok) {
    out.className = "bad";
    out.textContent = `${body.title} — ${body.detail}`;
    return;
  }
  const root = await rootFromProof(body.leaf_index, body.tree_size, hexToBytes(body.event_hash), body.path.map(hexToBytes));
  const computed = root ? bytesToHex(root) : "—";
  const holds = root !== null && computed === body.checkpoint.root;
  out.className = holds ? "ok" : "bad";
  out.dataset.holds = String(holds);
  out.textContent = `${holds ? form.dataset.ok : form.dataset.bad} · #${body.position} / ${body.tree_size} · ${computed}`;
}

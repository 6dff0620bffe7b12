// The web console's little script. Everything works without it except a few conveniences: the time
// slider reads as you drag and shows the standings when released, a period or unit chosen in a list
// shows at once, and the integrity page checks an inclusion proof with the browser's own SHA-256
// (RFC 9162 §2.1.3.2); evidence files may be dropped on a form's drop zone.
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
  for (const table of document.querySelectorAll("table.sortable")) sortable(table);
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
  // Evidence files may be dropped on their field's zone as well as chosen.
  for (const zone of document.querySelectorAll("[data-dropzone]")) dropzone(zone);
});

// A drop zone around a file input: files dropped are added to those chosen, and their names listed.
function dropzone(zone) {
  const input = zone.querySelector("input[type=file]");
  const list = zone.querySelector("ul.dropped");
  if (!input || typeof DataTransfer === "undefined") return;
  const show = () => {
    if (!list) return;
    list.replaceChildren(...Array.from(input.files, (file) => {
      const item = document.createElement("li");
      item.textContent = `${file.name} (${Math.ceil(file.size / 1024)} KB)`;
      return item;
    }));
  };
  input.addEventListener("change", show);
  for (const type of ["dragenter", "dragover"]) {
    zone.addEventListener(type, (event) => {
      event.preventDefault();
      zone.classList.add("over");
    });
  }
  zone.addEventListener("dragleave", () => zone.classList.remove("over"));
  zone.addEventListener("drop", (event) => {
    event.preventDefault();
    zone.classList.remove("over");
    const all = new DataTransfer();
    for (const file of input.files) all.items.add(file);
    for (const file of event.dataTransfer.files) all.items.add(file);
    input.files = all.files;
    show();
  });
}

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
  // WebCrypto exists only in a secure context (HTTPS or localhost); on a plain-HTTP intranet host
  // the page hashes by itself.
  if (globalThis.crypto && crypto.subtle) {
    return new Uint8Array(await crypto.subtle.digest("SHA-256", data));
  }
  return sha256Soft(data);
}

// SHA-256 (FIPS 180-4) in a few lines, for pages outside a secure context. The browser test checks
// it against the standard's vectors.
const SHA256_K = new Uint32Array([
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
  0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
  0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
  0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
  0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
  0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
  0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
]);

function sha256Soft(data) {
  const bitLength = data.length * 8;
  const padded = new Uint8Array(((data.length + 9 + 63) >> 6) << 6);
  padded.set(data);
  padded[data.length] = 0x80;
  const view = new DataView(padded.buffer);
  view.setUint32(padded.length - 8, Math.floor(bitLength / 0x100000000));
  view.setUint32(padded.length - 4, bitLength >>> 0);
  const h = new Uint32Array([
    0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
  ]);
  const w = new Uint32Array(64);
  const rotr = (x, n) => (x >>> n) | (x << (32 - n));
  for (let block = 0; block < padded.length; block += 64) {
    for (let t = 0; t < 16; t++) w[t] = view.getUint32(block + t * 4);
    for (let t = 16; t < 64; t++) {
      const s0 = rotr(w[t - 15], 7) ^ rotr(w[t - 15], 18) ^ (w[t - 15] >>> 3);
      const s1 = rotr(w[t - 2], 17) ^ rotr(w[t - 2], 19) ^ (w[t - 2] >>> 10);
      w[t] = w[t - 16] + s0 + w[t - 7] + s1;
    }
    let [a, b, c, d, e, f, g, k] = h;
    for (let t = 0; t < 64; t++) {
      const t1 = k + (rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)) + ((e & f) ^ (~e & g)) + SHA256_K[t] + w[t];
      const t2 = (rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
      k = g; g = f; f = e; e = (d + t1) >>> 0; d = c; c = b; b = a; a = (t1 + t2) >>> 0;
    }
    h[0] += a; h[1] += b; h[2] += c; h[3] += d; h[4] += e; h[5] += f; h[6] += g; h[7] += k;
  }
  const out = new Uint8Array(32);
  const outView = new DataView(out.buffer);
  h.forEach((word, i) => outView.setUint32(i * 4, word));
  return out;
}

// Sortable tables: a click on a heading sorts the rows by that column (numbers as numbers, a
// cell's data-sort first), a second click reverses.
function sortable(table) {
  const head = table.tHead && table.tHead.rows[0];
  const body = table.tBodies[0];
  if (!head || !body) return;
  Array.from(head.cells).forEach((th, column) => {
    th.classList.add("sortable-on");
    th.tabIndex = 0;
    const sort = () => {
      const ascending = th.getAttribute("aria-sort") !== "ascending";
      for (const other of head.cells) other.removeAttribute("aria-sort");
      th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
      const key = (row) => {
        const cell = row.cells[column];
        if (!cell) return "";
        const text = (cell.dataset.sort ?? cell.textContent).trim();
        const number = Number(text.replace(/[^0-9.+-]/g, "") || NaN);
        return /^[+-]?[0-9.,]+$/.test(text) && !Number.isNaN(number) ? number : text;
      };
      const rows = Array.from(body.rows);
      rows.sort((x, y) => {
        const [a, b] = [key(x), key(y)];
        const order = typeof a === "number" && typeof b === "number" ? a - b : String(a).localeCompare(String(b), "zh-CN");
        return ascending ? order : -order;
      });
      for (const row of rows) body.appendChild(row);
    };
    th.addEventListener("click", sort);
    th.addEventListener("keydown", (event) => { if (event.key === "Enter") sort(); });
  });
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

// dedup's pages: clicking a passage scrolls the other side to it; sortable tables; live scans.
"use strict";

function otherSide(mark) {
  const text = mark.closest(".text");
  const match = mark.closest(".match");
  if (!text || !match) return null;
  const want = text.dataset.side === "mine" ? "theirs" : "mine";
  return match.querySelector(`.text[data-side="${want}"] mark[data-p="${mark.dataset.p}"]`);
}

function showOther(mark) {
  const target = otherSide(mark);
  if (!target) return;
  const box = target.closest(".text");
  box.scrollTop = target.offsetTop - box.offsetTop - box.clientHeight / 3;
  target.scrollIntoView({ block: "nearest", inline: "nearest" });
  target.classList.add("flash");
  setTimeout(() => target.classList.remove("flash"), 1200);
  target.focus({ preventScroll: true });
}

document.addEventListener("click", (event) => {
  const mark = event.target.closest("mark[data-p]");
  if (mark) showOther(mark);
});
document.addEventListener("keydown", (event) => {
  const mark = event.target.closest && event.target.closest("mark[data-p]");
  if (mark && (event.key === "Enter" || event.key === " ")) {
    event.preventDefault();
    showOther(mark);
  }
});

function sortBy(table, column, kind, button) {
  const body = table.tBodies[0];
  const rows = Array.from(body.rows);
  const up = button.dataset.dir !== "asc";
  const value = (row) => {
    const cell = row.cells[column];
    return kind === "number" ? parseFloat(cell.dataset.value ?? cell.textContent) : cell.textContent.trim().toLowerCase();
  };
  rows.sort((a, b) => (value(a) > value(b) ? 1 : value(a) < value(b) ? -1 : 0) * (up ? 1 : -1));
  table.querySelectorAll("th button").forEach((b) => delete b.dataset.dir);
  button.dataset.dir = up ? "asc" : "desc";
  rows.forEach((row) => body.appendChild(row));
}

document.querySelectorAll("table.sortable th button[data-sort]").forEach((button) => {
  const column = button.closest("th").cellIndex;
  button.addEventListener("click", () => sortBy(button.closest("table"), column, button.dataset.sort, button));
});

async function poll(row) {
  const answer = await fetch(`/scans/${row.dataset.scan}/progress`, { credentials: "same-origin" });
  if (!answer.ok) return;
  const scan = await answer.json();
  row.querySelector(".status").textContent = scan.status;
  row.querySelector(".processed").textContent = scan.processed;
  row.querySelector(".total").textContent = scan.total;
  row.querySelector(".stored").textContent = scan.stored;
  row.querySelector(".copies").textContent = scan.duplicates_found;
  row.querySelector(".failed").textContent = scan.failed;
  const bar = row.querySelector("progress");
  bar.max = scan.total || 1;
  bar.value = scan.processed;
  if (scan.status === "queued" || scan.status === "running") {
    setTimeout(() => poll(row), 1000);
  } else if (row.dataset.reload) {
    window.location.reload();  // the results table is filled now
  }
}

document.querySelectorAll("tr[data-live]").forEach((row) => setTimeout(() => poll(row), 1000));

// The report's print button (no inline handlers: the pages' CSP runs this file's scripts only).
document.getElementById("print")?.addEventListener("click", () => window.print());

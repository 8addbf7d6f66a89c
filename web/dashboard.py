"""The operators' dashboard: one server-rendered page whose script fetches
``/dashboard/data`` with the admin key and fills the tables. No build step, no libraries.

The key travels in the address's fragment (``/dashboard#key=...``), which browsers never send
to the server, so it stays out of access logs; the script sends it as a Bearer header.
"""

from __future__ import annotations

PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Wavelength dashboard</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
 body { font: 14px system-ui, sans-serif; margin: 2em; color: #222; }
 h1 { font-size: 1.4em; } h2 { font-size: 1.1em; margin-top: 1.6em; }
 table { border-collapse: collapse; min-width: 24em; }
 th, td { border-bottom: 1px solid #ddd; padding: .3em .8em; text-align: left; }
 td.n { text-align: right; font-variant-numeric: tabular-nums; }
 .bar { display: inline-block; height: .8em; background: #4a7; }
 .bad { background: #c55; }
 #status { color: #666; }
 .cards { display: flex; gap: 2em; } .card b { display: block; font-size: 1.6em; }
</style>
</head>
<body>
<h1>Wavelength</h1>
<p id="status">Loading…</p>
<form id="login" hidden><label>Admin key <input id="key" type="password" autocomplete="off"></label>
 <button>Show</button></form>
<div class="cards">
 <div class="card">Active stations (7 days)<b id="active-count">–</b></div>
 <div class="card">Playing now<b id="playing-now">–</b></div>
 <div class="card">Deliveries sent<b id="deliveries-sent">–</b></div>
 <div class="card">Deliveries failed<b id="deliveries-failed">–</b></div>
</div>
<h2>Active stations</h2>
<table id="active"><thead><tr><th>Station</th><th>Owner</th><th>Tracks played</th><th>Last</th></tr></thead><tbody></tbody></table>
<h2>Reactions over time</h2>
<table id="reactions"><thead><tr><th>Day</th><th>👍</th><th>❤️</th><th>👎</th><th>⏭</th><th></th></tr></thead><tbody></tbody></table>
<h2>Likes and dislikes per station</h2>
<table id="ratios"><thead><tr><th>Station</th><th>Likes</th><th>Dislikes</th><th>Liked share</th></tr></thead><tbody></tbody></table>
<h2>Deliveries</h2>
<table id="deliveries"><thead><tr><th>Kind</th><th>Outcome</th><th>Count</th></tr></thead><tbody></tbody></table>
<h2>Most shared stations</h2>
<table id="shared"><thead><tr><th>Station</th><th>Code</th><th>Other listeners</th></tr></thead><tbody></tbody></table>
<script>
"use strict";
function cell(row, value, numeric) {
  const td = row.insertCell();
  td.textContent = value === null || value === undefined ? "" : String(value);
  if (numeric) td.className = "n";
  return td;
}
function bar(row, share, bad) {
  const span = document.createElement("span");
  span.className = bad ? "bar bad" : "bar";
  span.style.width = Math.round(share * 120) + "px";
  row.insertCell().appendChild(span);
}
function fill(id, rows, draw) {
  const body = document.querySelector("#" + id + " tbody");
  body.replaceChildren();
  for (const r of rows) draw(body.insertRow(), r);
}
function render(d) {
  document.getElementById("active-count").textContent = d.active_stations.count;
  document.getElementById("playing-now").textContent = d.active_stations.playing_now;
  document.getElementById("deliveries-sent").textContent = d.deliveries.sent;
  document.getElementById("deliveries-failed").textContent = d.deliveries.failed;
  fill("active", d.active_stations.stations, (tr, s) => {
    cell(tr, s.name); cell(tr, s.owner); cell(tr, s.tracks, true); cell(tr, s.last);
  });
  const most = Math.max(1, ...d.reactions_by_day.map(r => r.like + r.love + r.dislike + r.skip));
  fill("reactions", d.reactions_by_day, (tr, r) => {
    cell(tr, r.day); cell(tr, r.like, true); cell(tr, r.love, true);
    cell(tr, r.dislike, true); cell(tr, r.skip, true);
    bar(tr, (r.like + r.love + r.dislike + r.skip) / most, false);
  });
  fill("ratios", d.station_ratios, (tr, s) => {
    cell(tr, s.name); cell(tr, s.likes, true); cell(tr, s.dislikes, true);
    cell(tr, Math.round(s.ratio * 100) + "%", true);
  });
  fill("deliveries", d.deliveries.rows, (tr, r) => {
    cell(tr, r.kind); cell(tr, r.status); cell(tr, r.count, true);
  });
  fill("shared", d.most_shared, (tr, s) => {
    cell(tr, s.name); cell(tr, s.code); cell(tr, s.listeners, true);
  });
}
async function load(key) {
  const status = document.getElementById("status");
  const answer = await fetch("/dashboard/data", { headers: { Authorization: "Bearer " + key } });
  if (answer.status === 401 || answer.status === 403) {
    status.textContent = "That key is not the admin key.";
    document.getElementById("login").hidden = false;
    return;
  }
  if (!answer.ok) { status.textContent = "The server answered " + answer.status + "."; return; }
  render(await answer.json());
  status.textContent = "Updated " + new Date().toLocaleTimeString();
  sessionStorage.setItem("wavelength-admin-key", key);
}
const fromHash = new URLSearchParams(location.hash.slice(1)).get("key");
if (fromHash) history.replaceState(null, "", location.pathname);
const key = fromHash || sessionStorage.getItem("wavelength-admin-key");
document.getElementById("login").addEventListener("submit", ev => {
  ev.preventDefault(); load(document.getElementById("key").value);
});
if (key) { load(key); setInterval(() => load(key), 30000); }
else { document.getElementById("status").textContent = "Enter the admin key."; document.getElementById("login").hidden = false; }
</script>
</body>
</html>
"""

// The podkeys console: manages keys through the public HTTP API with a pasted key.
// Rules: the key lives in this closure only (never storage, cookies or URLs); every string
// from the API reaches the page through textContent or input values, never as HTML.
"use strict";
(function () {
  var BASE = document.querySelector('meta[name="podkeys-base"]').getAttribute("content");
  var FEED_EXAMPLE = document.querySelector('meta[name="podkeys-feed-example"]')
    .getAttribute("content");
  var SCOPES = ["*", "keys:read", "keys:write", "podcasts:read", "podcasts:write", "feeds:read",
                "admin"];
  var ACTIONS = ["key.created", "key.rotated", "key.revoked", "key.updated"];
  // `catchUp` is the timer of the Activity view's second reload after a change (see
  // `activityChanged`). The paged lists (keys, activity) keep their own state: see `pager`;
  // the key list's usage totals theirs: see `totals`. `usage` is what the Usage dialog shows
  // ({key, body}) and `usageRound` numbers its loads (only the latest one is drawn).
  var state = { key: null, me: null, pending: null, feed: false, editing: null,
                catchUp: null, usage: null, usageRound: 0 };

  function $(id) { return document.getElementById(id); }

  function show(el, on) { el.hidden = !on; }

  function say(el, text) {
    el.textContent = text || "";
    show(el, Boolean(text));
  }

  function when(iso) {
    if (!iso) return "—";
    var d = new Date(iso);
    return isNaN(d.getTime()) ? iso : d.toLocaleString();
  }

  // One API call. Resolves to {status, body, link}; rejects with an Error whose message is the
  // API's own error message (or what went wrong on the way).
  function api(method, path, body) {
    var init = { method: method, headers: { "X-API-Key": state.key }, cache: "no-store",
                 credentials: "omit", referrerPolicy: "no-referrer" };
    if (body !== undefined) {
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    return fetch(BASE + path, init).then(function (resp) {
      return resp.text().then(function (text) {
        var data = null;
        try { data = text ? JSON.parse(text) : null; } catch (e) { data = null; }
        if (!resp.ok) {
          var err = data && data.error ? data.error : null;
          var e = new Error(err && err.message ? err.message : "HTTP " + resp.status);
          e.code = err ? err.code : "http_" + resp.status;
          e.status = resp.status;
          throw e;
        }
        return { status: resp.status, body: data, link: resp.headers.get("Link") };
      });
    }, function () {
      throw new Error("The API could not be reached. Check your connection and try again.");
    });
  }

  // Runs `request` (which returns a promise) unless the one `button` started is still in
  // flight. The button stays disabled until the answer (success or error) arrives, so a
  // double Enter or double click sends one request: one key minted, one rotation, one revoke.
  // The check is here as well as on the button because a form can be submitted without it.
  function once(button, request) {
    if (button.disabled) return;
    button.disabled = true;
    button.setAttribute("aria-busy", "true");
    var done = function () {
      button.disabled = false;
      button.removeAttribute("aria-busy");
    };
    request().then(done, done);
  }

  function nextFromLink(link) {
    if (!link) return null;
    var m = /<([^>]+)>\s*;\s*rel="next"/.exec(link);
    if (!m) return null;
    var url = new URL(m[1], window.location.href);
    return url.searchParams.get("cursor");
  }

  // ---- sign in / out ----

  $("sign-in-form").addEventListener("submit", function (ev) {
    ev.preventDefault();
    var input = $("sign-in-key");
    var key = input.value.trim();
    input.value = "";
    if (!key) return;
    state.key = key;
    say($("message"), "");
    api("GET", "/api/v1/auth/me").then(function (r) {
      state.me = r.body;
      $("who-owner").textContent = r.body.owner_id;
      show($("who-admin"), r.body.admin);
      show($("who"), true);
      show($("sign-in"), false);
      show($("keys"), true);
      show($("activity"), true);
      document.body.classList.toggle("is-admin", r.body.admin);
      show($("create-owner-field"), r.body.admin);
      keys.load(false);
      activity.load(false);
      $("new-key").focus();
    }, function (e) {
      state.key = null;
      say($("message"), "Sign-in failed: " + e.message);
      input.focus();
    });
  });

  function signOut() {
    state.key = null;
    state.me = null;
    keys.stop(); // a listing still on its way is not rendered after sign-out
    if ($("usage-dialog").open) $("usage-dialog").close();
    activity.stop();
    clearTimeout(state.catchUp);
    state.catchUp = null;
    state.pending = null;
    forgetKeys();
    forgetSecret();
    $("who-owner").textContent = "";
    document.body.classList.remove("is-admin");
    show($("who"), false);
    show($("keys"), false);
    show($("activity"), false);
    show($("sign-in"), true);
    say($("message"), "");
    $("sign-in-key").focus();
  }
  $("sign-out").addEventListener("click", signOut);

  // ---- paged lists ----

  // A paged API list (the keys, the activity) rendered into a table. `o.path` is the API
  // path; `o.filters()` gives the filters as they are now, as query-string pairs; `o.rows`,
  // `o.more` and `o.empty` are the tbody, its "Load more" button and its empty note; `o.add`
  // puts one item in the tbody; `o.emptyText(more)` says why the table is empty (`more`: a
  // next page follows); `o.failed(e)` shows an error. Optional: `o.reset()` runs when a new
  // listing starts or the list is forgotten, `o.loaded(items)` after a page has rendered.
  //
  // `listing` numbers listings: only answers for the latest one are rendered, so a slow answer
  // for an older filter never replaces a newer list. `filters`, `next` (the cursor of "Load
  // more", from the answer's Link header) and `paging` (a "Load more" request in flight) belong
  // to that latest listing. A new listing (`load(false)`) starts from the first page with the
  // filters as they are now and makes every older listing stale; "Load more" (`load(true)`)
  // fetches the next page of the latest listing (once, however often it is clicked
  // meanwhile), and is dropped too if a newer listing starts before it arrives.
  function pager(o) {
    var p = { listing: 0, filters: [], next: null, paging: false };
    p.load = function (more) {
      if (more && (!p.next || p.paging)) return;
      if (more) {
        p.paging = true;
      } else {
        p.listing += 1;
        p.filters = o.filters();
        p.next = null;
        p.paging = false;
        show(o.more, false);
        if (o.reset) o.reset();
      }
      o.more.disabled = p.paging;
      var listing = p.listing;
      // Takes an answer for this listing: false (drop it) if a newer listing has started since.
      var take = function () {
        if (listing !== p.listing) return false;
        p.paging = false;
        o.more.disabled = false;
        return true;
      };
      var q = ["limit=50"].concat(p.filters);
      if (more) q.push("cursor=" + encodeURIComponent(p.next));
      api("GET", o.path + "?" + q.join("&")).then(function (r) {
        if (!take()) return;
        if (!more) o.rows.textContent = "";
        r.body.forEach(o.add);
        if (o.loaded) o.loaded(r.body);
        p.next = nextFromLink(r.link);
        show(o.more, Boolean(p.next));
        // A filtered page does bounded work and can come back empty while more items follow.
        var empty = o.rows.children.length === 0;
        o.empty.textContent = o.emptyText(empty && Boolean(p.next));
        show(o.empty, empty);
      }, function (e) {
        if (take()) o.failed(e);
      });
    };
    // Forgets the list: answers still on their way are dropped.
    p.stop = function () {
      p.listing += 1;
      p.next = null;
      p.paging = false;
      o.rows.textContent = "";
      show(o.more, false);
      show(o.empty, false);
      if (o.reset) o.reset();
    };
    o.more.addEventListener("click", function () { p.load(true); });
    return p;
  }

  // ---- the list ----

  var keys = pager({
    path: "/api/v1/auth/api-keys",
    filters: function () {
      var status = $("status-filter").value;
      return status ? ["status=" + encodeURIComponent(status)] : [];
    },
    rows: $("key-rows"),
    more: $("more"),
    empty: $("empty"),
    add: addRow,
    reset: resetTotals,
    loaded: loadTotals,
    emptyText: function (more) {
      return more ? "No matching keys in this part of the list; Load more keeps looking."
                  : "No keys.";
    },
    failed: function (e) { say($("message"), "Could not list keys: " + e.message); }
  });

  function cell(tr, text, label, cls) {
    var td = document.createElement("td");
    td.textContent = text;
    td.setAttribute("data-label", label);
    if (cls) td.className = cls;
    tr.appendChild(td);
    return td;
  }

  // Puts a key's row in the table: replaces the row of the same key, or adds one (at the top
  // for a new key). Keys the status filter hides are taken out. Used after create, rotate and
  // revoke with the API's own answer, so the table never waits for the eventually consistent
  // listing to catch up.
  function upsertRow(k, atTop) {
    remember(k, atTop);
    var old = $("key-rows").querySelector('tr[data-key-id="' + CSS.escape(k.id) + '"]');
    var filter = $("status-filter").value;
    var tr = filter && k.status !== filter ? null : row(k);
    if (old && tr) old.replaceWith(tr);
    else if (old) old.remove();
    else if (tr && atTop) $("key-rows").prepend(tr);
    else if (tr) $("key-rows").appendChild(tr);
    if (tr) totalsFor(k);
    show($("empty"), $("key-rows").children.length === 0);
  }

  function addRow(k) {
    remember(k, false);
    $("key-rows").appendChild(row(k));
  }

  function row(k) {
    var tr = document.createElement("tr");
    tr.setAttribute("data-key-id", k.id);
    tr.setAttribute("data-owner-id", k.owner_id);
    var name = cell(tr, k.name, "Name", "name");
    if (k.description) name.title = k.description;
    cell(tr, k.owner_id, "Owner", "owner-col");
    cell(tr, k.hint, "Key", "hint");
    cell(tr, k.scopes.join(" "), "Scopes");
    cell(tr, k.plan || "—", "Plan");
    cell(tr, when(k.created_at), "Created");
    cell(tr, when(k.last_used_at), "Last used");
    fillRequests(cell(tr, "", "Requests (30\u00a0d)", "requests"), k.id, k.owner_id);
    cell(tr, k.expires_at ? when(k.expires_at) : "never", "Expires");
    var st = cell(tr, "", "Status");
    var badge = document.createElement("span");
    badge.className = "badge " + k.status;
    badge.textContent = k.status;
    st.appendChild(badge);
    var actions = cell(tr, "", "Actions", "actions-cell");
    if (k.status === "active") {
      actions.appendChild(button("Edit", "edit", function () { openEdit(k); }, k));
      actions.appendChild(button("Rotate", "rotate", function () { confirmRotate(k); }, k));
      actions.appendChild(button("Revoke", "revoke danger", function () { confirmRevoke(k); }, k));
    }
    actions.appendChild(button("Activity", "activity", function () { showActivityOf(k); }, k));
    actions.appendChild(button("Usage", "usage", function () { showUsageOf(k); }, k));
    return tr;
  }

  function button(text, cls, onClick, k) {
    var b = document.createElement("button");
    b.type = "button";
    b.className = cls;
    b.textContent = text;
    b.setAttribute("aria-label", text + " " + k.name);
    b.addEventListener("click", onClick);
    return b;
  }

  $("status-filter").addEventListener("change", function () { keys.load(false); });
  $("refresh").addEventListener("click", function () { keys.load(false); });

  // ---- usage (SPEC §12): each key's 30-day total in the list, a chart per key ----

  var OUTCOMES = [["allowed", "allowed"], ["rate_limited", "rate limited"],
                  ["denied", "denied"]];

  function count(n) { return (Number(n) || 0).toLocaleString(); }

  // "5 allowed, 0 rate limited, 2 denied".
  function outcomes(t) {
    t = t || {};
    return OUTCOMES.map(function (o) { return count(t[o[0]]) + " " + o[1]; }).join(", ");
  }

  // The list's totals, from `GET /auth/usage` (the owner's usage over the last 30 days, with
  // each key's total): one call per owner on the listed pages (a standard key: its own owner;
  // an admin: every owner the list shows, by `owner_id`), made after a page has rendered and
  // again for each new listing. `round` numbers the listings as `pager` does: an answer for an
  // older listing is dropped. `owners[owner]` is "loading", "done" or the error's message;
  // `keys[id]` a key's total (keys with no requests are absent: 0).
  // (Maps without a prototype: an owner or key named "constructor" is just a name.)
  var totals = { round: 0, owners: Object.create(null), keys: Object.create(null) };

  function resetTotals() {
    totals.round += 1;
    totals.owners = Object.create(null);
    totals.keys = Object.create(null);
  }

  // The owner whose usage call covers a key of `owner`: a standard key reads its own.
  function usageOwner(owner) {
    return state.me && state.me.admin ? owner : "";
  }

  function loadTotals(items) {
    if (!state.me) return;
    var round = totals.round;
    items.forEach(function (k) {
      var owner = usageOwner(k.owner_id);
      if (totals.owners[owner] !== undefined) return;
      totals.owners[owner] = "loading";
      var path = "/api/v1/auth/usage" + (owner ? "?owner_id=" + encodeURIComponent(owner) : "");
      api("GET", path).then(function (r) {
        if (round !== totals.round) return;
        ((r.body && r.body.keys) || []).forEach(function (u) { totals.keys[u.key_id] = u.total; });
        totals.owners[owner] = "done";
        refillRequests(owner);
      }, function (e) {
        if (round !== totals.round) return;
        totals.owners[owner] = e.message || "failed";
        refillRequests(owner);
      });
    });
  }

  // The "Requests (30 d)" cell of key `id` (of `owner`), as far as the totals are known.
  function fillRequests(td, id, owner) {
    var known = totals.owners[usageOwner(owner)];
    td.removeAttribute("aria-busy");
    if (known === "done") {
      var t = totals.keys[id] || { allowed: 0, rate_limited: 0, denied: 0 };
      td.textContent = count(t.allowed);
      td.title = outcomes(t) + " in the last 30 days (UTC)";
      td.setAttribute("data-allowed", String(Number(t.allowed) || 0));
      td.setAttribute("data-rate-limited", String(Number(t.rate_limited) || 0));
      td.setAttribute("data-denied", String(Number(t.denied) || 0));
    } else if (known === undefined || known === "loading") {
      td.textContent = "…";
      td.title = "Loading the usage";
      td.setAttribute("aria-busy", "true");
    } else {
      td.textContent = "—";
      td.title = "Could not load the usage: " + known;
    }
  }

  function refillRequests(owner) {
    Array.prototype.forEach.call($("key-rows").querySelectorAll("tr"), function (tr) {
      var id = tr.getAttribute("data-key-id");
      var of = tr.getAttribute("data-owner-id");
      var td = tr.querySelector("td.requests");
      if (td && usageOwner(of) === owner) fillRequests(td, id, of);
    });
  }

  // A row added or replaced later (create, rotate): an owner the list has not shown yet gets
  // its call too.
  function totalsFor(k) {
    if (totals.owners[usageOwner(k.owner_id)] === undefined) loadTotals([k]);
  }

  // The chart: inline SVG drawn here (no library, no third party), styled by console.css.
  var SVG = "http://www.w3.org/2000/svg";

  function svg(name, attrs, parent) {
    var el = document.createElementNS(SVG, name);
    Object.keys(attrs).forEach(function (a) { el.setAttribute(a, String(attrs[a])); });
    if (parent) parent.appendChild(el);
    return el;
  }

  function svgText(parent, x, y, anchor, text, cls) {
    var t = svg("text", { x: x, y: y, "text-anchor": anchor, "class": cls }, parent);
    t.textContent = text;
    return t;
  }

  // The smallest of 1, 2, 5 × 10^n at least `n` (1 for nothing at all).
  function niceMax(n) {
    if (!(n > 0)) return 1;
    var p = Math.pow(10, Math.floor(Math.log10(n)));
    var steps = [1, 2, 5, 10];
    for (var i = 0; i < steps.length; i++) if (steps[i] * p >= n) return steps[i] * p;
    return 10 * p;
  }

  function dayLabel(date) {
    var d = new Date(date + "T00:00:00Z");
    if (isNaN(d.getTime())) return date;
    return d.toLocaleDateString(undefined, { month: "short", day: "numeric", timeZone: "UTC" });
  }

  function sum(d) {
    return (Number(d.allowed) || 0) + (Number(d.rate_limited) || 0) + (Number(d.denied) || 0);
  }

  // Stacked bars, one per day, oldest on the left: allowed at the bottom, then rate limited,
  // then denied. `width` is the chart's width in CSS pixels (text keeps its size on phones).
  function usageChart(body, name, width) {
    var days = body.days || [];
    var H = 220, left = 44, right = 10, top = 14, bottom = 28;
    var W = Math.max(260, Math.round(width));
    var plotW = W - left - right, plotH = H - top - bottom, base = top + plotH;
    var max = days.reduce(function (m, d) { return Math.max(m, sum(d)); }, 0);
    var ymax = niceMax(max);
    var chart = svg("svg", {
      id: "usage-chart", "class": "usage-chart", viewBox: "0 0 " + W + " " + H,
      width: W, height: H, role: "group", "data-days": days.length, "data-max": ymax,
      "aria-label": "Requests per day with “" + name + "”, " + body.from + " to " + body.to +
        " (UTC): " + outcomes(body.total)
    });
    svg("line", { x1: left, x2: W - right, y1: top, y2: top, "class": "grid" }, chart);
    svg("line", { x1: left, x2: W - right, y1: base, y2: base, "class": "axis" }, chart);
    if (max > 0) svgText(chart, left - 6, top + 4, "end", count(ymax), "y-label y-max");
    svgText(chart, left - 6, base + 4, "end", "0", "y-label");
    var slot = plotW / Math.max(days.length, 1);
    var bar = Math.max(2, slot * 0.72);
    days.forEach(function (d, i) {
      var x = left + i * slot + (slot - bar) / 2;
      var g = svg("g", {
        "class": "usage-bar" + (i === days.length - 1 ? " last" : ""), role: "img",
        "data-date": d.date, "data-allowed": Number(d.allowed) || 0,
        "data-rate-limited": Number(d.rate_limited) || 0, "data-denied": Number(d.denied) || 0
      }, chart);
      // The bar's name for hover and screen readers; first child, as SVG wants it.
      svg("title", {}, g).textContent = d.date + ": " + outcomes(d);
      svg("rect", { x: x, y: top, width: bar, height: plotH, "class": "track" }, g);
      var y = base;
      OUTCOMES.forEach(function (o) {
        var v = Number(d[o[0]]) || 0;
        if (!v) return;
        var h = Math.max(1, v / ymax * plotH);
        y -= h;
        svg("rect", { x: x, y: y, width: bar, height: h,
                      "class": "seg seg-" + o[0].replace("_", "-") }, g);
      });
    });
    // A few dates under the axis: the first, the last and evenly between.
    var last = days.length - 1;
    var marks = last < 1 ? [0] : plotW < 420 ? [0, Math.round(last / 2), last]
                                           : [0, 7, 14, 21, last].filter(function (i) {
                                               return i <= last;
                                             });
    marks.forEach(function (i) {
      if (!days[i]) return;
      var x = left + i * slot + slot / 2;
      var anchor = "middle";
      if (i === 0) { anchor = "start"; x = left + (slot - bar) / 2; }
      if (i === last && last > 0) { anchor = "end"; x = left + i * slot + (slot + bar) / 2; }
      svgText(chart, x, H - 8, anchor, dayLabel(days[i].date), "x-label");
      svg("line", { x1: left + i * slot + slot / 2, x2: left + i * slot + slot / 2,
                    y1: base, y2: base + 4, "class": "tick" }, chart);
    });
    return chart;
  }

  // Draws what the dialog shows, at the width its box has now.
  function drawUsage() {
    var u = state.usage;
    var box = $("usage-chart-box");
    box.textContent = "";
    if (!u || !u.body) return;
    var body = u.body;
    box.appendChild(usageChart(body, u.key.name, box.clientWidth || 600));
    var p = $("usage-totals");
    p.textContent = "";
    p.appendChild(document.createTextNode("Last 30 days: "));
    OUTCOMES.forEach(function (o, i) {
      var n = Number(body.total && body.total[o[0]]) || 0;
      if (i) p.appendChild(document.createTextNode(", "));
      line(p, count(n) + " " + o[1], "total total-" + o[0].replace("_", "-"))
        .setAttribute("data-count", String(n));
    });
    show(p, true);
    show($("usage-empty"), sum(body.total || {}) === 0);
  }

  // The row's "Usage" button: the key's last 30 days in a dialog.
  function showUsageOf(k) {
    state.usageRound += 1;
    var round = state.usageRound;
    state.usage = { key: k, body: null };
    $("usage-title").textContent = "Usage of “" + k.name + "”";
    $("usage-range").textContent = k.hint +
      (state.me && state.me.admin ? " · " + k.owner_id : "") + " · the last 30 days";
    $("usage-chart-box").textContent = "";
    $("usage-totals").textContent = "";
    show($("usage-totals"), false);
    show($("usage-empty"), false);
    say($("usage-error"), "");
    $("usage-status").textContent = "Loading…";
    if (!$("usage-dialog").open) $("usage-dialog").showModal();
    $("usage-close").focus();
    return api("GET", "/api/v1/auth/api-keys/" + encodeURIComponent(k.id) + "/usage")
      .then(function (r) {
        if (round !== state.usageRound) return;
        state.usage.body = r.body;
        $("usage-status").textContent = "";
        $("usage-range").textContent = k.hint +
          (state.me && state.me.admin ? " · " + k.owner_id : "") + " · " + r.body.from +
          " to " + r.body.to + " (UTC)";
        drawUsage();
        // A consistent read of the key's own days: fresher than the list's, so the row shows it.
        if (totals.owners[usageOwner(k.owner_id)] === "done" && r.body.total) {
          totals.keys[k.id] = r.body.total;
          refillRequests(usageOwner(k.owner_id));
        }
      }, function (e) {
        if (round !== state.usageRound) return;
        $("usage-status").textContent = "";
        say($("usage-error"), "Could not load the usage: " + e.message);
      });
  }

  $("usage-dialog").addEventListener("close", function () {
    state.usageRound += 1; // an answer still on its way is not drawn
    state.usage = null;
    $("usage-chart-box").textContent = "";
  });
  // The chart keeps its text readable at any width: redrawn when the window changes size.
  window.addEventListener("resize", function () {
    if ($("usage-dialog").open && state.usage && state.usage.body) drawUsage();
  });

  // ---- activity (the audit log, SPEC §11) ----

  var activity = pager({
    path: "/api/v1/auth/audit-log",
    filters: function () {
      var q = [];
      var action = $("activity-action").value;
      var key = $("activity-key").value;
      if (action) q.push("action=" + encodeURIComponent(action));
      if (key) q.push("key_id=" + encodeURIComponent(key));
      say($("activity-error"), ""); // a new listing: the last one's error no longer applies
      return q;
    },
    rows: $("activity-rows"),
    more: $("activity-more"),
    empty: $("activity-empty"),
    add: function (ev) { $("activity-rows").appendChild(eventRow(ev)); },
    emptyText: function (more) {
      return more ? "No matching events in this part of the log; Load more keeps looking."
                  : "No activity.";
    },
    failed: function (e) { say($("activity-error"), "Could not load activity: " + e.message); }
  });

  // The keys the console has listed, as choices of the Activity view's key filter: one option
  // per key (its label follows renames), new keys at the top.
  function remember(k, atTop) {
    var select = $("activity-key");
    var label = k.name + " (" + k.hint + ")" +
      (state.me && state.me.admin ? " · " + k.owner_id : "");
    var option = Array.prototype.find.call(select.options, function (o) {
      return o.value === k.id;
    });
    if (option) {
      option.textContent = label;
      return;
    }
    option = document.createElement("option");
    option.value = k.id;
    option.textContent = label;
    if (atTop) select.insertBefore(option, select.options[1] || null);
    else select.appendChild(option);
  }

  function forgetKeys() {
    var select = $("activity-key");
    select.value = "";
    while (select.options.length > 1) select.remove(1);
    $("activity-action").value = "";
  }

  // The row's "Activity" button: every event of that key.
  function showActivityOf(k) {
    remember(k, false);
    $("activity-key").value = k.id;
    $("activity-action").value = "";
    activity.load(false);
    $("activity").scrollIntoView({ block: "start" });
    $("activity-key").focus();
  }

  // After a change made here: the view reloads at once, and once more a moment later, as the
  // log is read from an eventually consistent index that may not hold the new event yet.
  function activityChanged() {
    activity.load(false);
    clearTimeout(state.catchUp);
    state.catchUp = setTimeout(function () {
      state.catchUp = null;
      if (state.key) activity.load(false);
    }, 1500);
  }

  // One line of a multi-line cell.
  function line(parent, text, cls) {
    var span = document.createElement("span");
    span.textContent = text;
    if (cls) span.className = cls;
    parent.appendChild(span);
    return span;
  }

  // A cell of lines: `lines` is a list of [text, class].
  function linesCell(tr, label, cls, lines) {
    var td = cell(tr, "", label, cls);
    var div = document.createElement("div");
    div.className = "lines";
    lines.forEach(function (l) { if (l[0]) line(div, l[0], l[1]); });
    td.appendChild(div);
    return td;
  }

  // A changed field's value: text, a list (scopes) or null.
  function shown(v) {
    if (v === null || v === undefined || v === "") return "—";
    if (Array.isArray(v)) return v.length ? v.join(" ") : "—";
    return String(v);
  }

  function actorOf(a) {
    a = a || {};
    if (a.type === "cli") return "apikeys CLI";
    if (a.type === "system") return "system";
    return a.owner_id || a.type || "—";
  }

  function eventRow(ev) {
    var t = ev.target || {};
    var a = ev.actor || {};
    var tr = document.createElement("tr");
    tr.setAttribute("data-event-id", ev.id);
    tr.setAttribute("data-action", ev.action);
    tr.setAttribute("data-target", t.key_id || "");
    var time = cell(tr, when(ev.time), "Time", "time");
    time.title = ev.time || "";
    var act = cell(tr, "", "Action", "action");
    var badge = document.createElement("span");
    badge.className = "badge" +
      (ACTIONS.indexOf(ev.action) >= 0 ? " act-" + ev.action.slice(4) : "");
    badge.textContent = ev.action;
    act.appendChild(badge);
    var admin = Boolean(state.me && state.me.admin);
    linesCell(tr, "Key", "target", [
      [t.name || "—", "name"],
      [t.key_id, "mono key-id"],
      [admin && t.owner_id ? "owner " + t.owner_id : "", "sub"]
    ]);
    linesCell(tr, "Actor", "actor", [
      [actorOf(a), "who"],
      [a.key_id, "mono key-id"]
    ]);
    var details = [];
    Object.keys(ev.changes || {}).forEach(function (field) {
      var c = ev.changes[field] || {};
      details.push([field + ": " + shown(c.from) + " → " + shown(c.to), "change"]);
    });
    if (ev.correlation_id) details.push(["rotation " + ev.correlation_id, "mono correlation"]);
    if (ev.request_id) details.push(["request " + ev.request_id, "sub"]);
    linesCell(tr, "Details", "details", details);
    var ip = linesCell(tr, "Source IP", "ip", [[ev.source_ip || "—", "mono"]]);
    if (ev.user_agent) ip.title = ev.user_agent;
    return tr;
  }

  $("activity-action").addEventListener("change", function () { activity.load(false); });
  $("activity-key").addEventListener("change", function () { activity.load(false); });
  $("activity-refresh").addEventListener("click", function () { activity.load(false); });

  // ---- dialogs ----

  Array.prototype.forEach.call(document.querySelectorAll("[data-close]"), function (b) {
    b.addEventListener("click", function () { b.closest("dialog").close(); });
  });

  // A labelled scope checkbox, appended to `parent`.
  function scopeBox(parent, scope, checked, id) {
    var label = document.createElement("label");
    label.className = "check";
    var box = document.createElement("input");
    box.type = "checkbox";
    box.value = scope;
    if (id) box.id = id;
    box.checked = checked;
    label.appendChild(box);
    label.appendChild(document.createTextNode(" " + scope));
    parent.appendChild(label);
  }

  SCOPES.forEach(function (s) {
    scopeBox($("create-scopes"), s, s === "*", "scope-" + s.replace(/[^a-z]/g, "_"));
  });

  // "Create key" and "Create feed key" open the one dialog; a feed key's scopes are fixed.
  function openCreate(feed) {
    state.feed = feed;
    $("create-form").reset();
    Array.prototype.forEach.call($("create-scopes").querySelectorAll("input"), function (b) {
      b.checked = b.value === "*";
    });
    $("create-title").textContent = feed ? "Create a feed key for a podcast app"
                                         : "Create an API key";
    show($("create-feed-note"), feed);
    show($("create-scopes-field"), !feed);
    say($("create-error"), "");
    $("create-dialog").showModal();
    $("create-name").focus();
  }
  $("new-key").addEventListener("click", function () { openCreate(false); });
  $("new-feed-key").addEventListener("click", function () { openCreate(true); });

  $("create-form").addEventListener("submit", function (ev) {
    ev.preventDefault();
    once($("create-ok"), create);
  });

  function create() {
    var body = { name: $("create-name").value };
    var description = $("create-description").value;
    if (description) body.description = description;
    var scopes = Array.prototype.filter.call(
      $("create-scopes").querySelectorAll("input"), function (b) { return b.checked; }
    ).map(function (b) { return b.value; });
    if (state.feed) scopes = ["feeds:read"];
    if (scopes.length) body.scopes = scopes;
    var days = $("create-expiry").value;
    if (days) body.expires_in_days = Number(days);
    var owner = $("create-owner").value.trim();
    if (owner && state.me && state.me.admin) body.owner_id = owner;
    say($("create-error"), "");
    return api("POST", "/api/v1/auth/api-keys", body).then(function (r) {
      $("create-dialog").close();
      var key = r.body.key;
      delete r.body.key; // the row keeps the key object, never the secret
      upsertRow(r.body, true);
      activityChanged();
      showSecret(key, r.body);
    }, function (e) { say($("create-error"), e.message); });
  }

  // A key whose only scope is feeds:read goes in a feed URL (SPEC §16): its URL is shown
  // with the key, once, and forgotten with it.
  function feedUrl(key, k) {
    if (!FEED_EXAMPLE || k.scopes.length !== 1 || k.scopes[0] !== "feeds:read") return "";
    return location.origin + BASE + FEED_EXAMPLE + "?api_key=" + encodeURIComponent(key);
  }

  function showSecret(key, k) {
    $("secret-value").value = key;
    var url = feedUrl(key, k);
    $("feed-url").value = url;
    show($("feed-url-field"), Boolean(url));
    $("copy-status").textContent = "";
    $("secret-dialog").showModal();
    $("secret-value").select();
    $("copy").focus();
  }

  function copyFrom(input, what) {
    var value = input.value;
    var done = function () { $("copy-status").textContent = "Copied to the clipboard."; };
    var manual = function () {
      input.select();
      $("copy-status").textContent = "Press Ctrl+C (⌘C) to copy the selected " + what + ".";
    };
    if (navigator.clipboard && navigator.clipboard.writeText) {
      navigator.clipboard.writeText(value).then(done, manual);
    } else {
      manual();
    }
  }
  $("copy").addEventListener("click", function () { copyFrom($("secret-value"), "key"); });
  $("copy-feed").addEventListener("click", function () { copyFrom($("feed-url"), "URL"); });

  function forgetSecret() {
    $("secret-value").value = "";
    $("feed-url").value = "";
    show($("feed-url-field"), false);
    $("copy-status").textContent = "";
  }
  // Done forgets the key before closing: the dialog's close event (which also covers Escape)
  // is dispatched later, as a queued task, so the key would outlive the dialog by a moment.
  $("secret-done").addEventListener("click", function () {
    forgetSecret();
    $("secret-dialog").close();
  });
  $("secret-dialog").addEventListener("close", forgetSecret);

  // ---- edit (PATCH): name, description, narrowing scopes, plan for admins ----

  function openEdit(k) {
    state.editing = k;
    $("edit-form").reset();
    $("edit-title").textContent = "Edit “" + k.name + "”";
    $("edit-name").value = k.name;
    $("edit-description").value = k.description || "";
    var boxes = $("edit-scopes");
    boxes.textContent = "";
    // Only the key's own scopes are offered: a key's scopes can be narrowed, never widened.
    k.scopes.forEach(function (s) { scopeBox(boxes, s, true); });
    var admin = Boolean(state.me && state.me.admin);
    show($("edit-plan-field"), admin);
    $("edit-plan").value = k.plan || "";
    say($("edit-error"), "");
    $("edit-dialog").showModal();
    $("edit-name").focus();
  }

  $("edit-form").addEventListener("submit", function (ev) {
    ev.preventDefault();
    once($("edit-ok"), saveEdit);
  });

  function saveEdit() {
    var k = state.editing;
    if (!k) return Promise.resolve();
    var body = {};
    var name = $("edit-name").value;
    if (name !== k.name) body.name = name;
    var description = $("edit-description").value;
    if (description !== (k.description || "")) body.description = description || null;
    var scopes = Array.prototype.filter.call(
      $("edit-scopes").querySelectorAll("input"), function (b) { return b.checked; }
    ).map(function (b) { return b.value; });
    if (scopes.length !== k.scopes.length) body.scopes = scopes;
    var plan = $("edit-plan").value.trim();
    if (state.me && state.me.admin && plan && plan !== k.plan) body.plan = plan;
    say($("edit-error"), "");
    if (Object.keys(body).length === 0) {
      $("edit-dialog").close();
      return Promise.resolve();
    }
    return api("PATCH", "/api/v1/auth/api-keys/" + encodeURIComponent(k.id), body)
      .then(function (r) {
        if (state.editing === k) {
          state.editing = null;
          $("edit-dialog").close();
        }
        upsertRow(r.body, false);
        activityChanged();
      }, function (e) { say($("edit-error"), e.message); });
  }
  $("edit-dialog").addEventListener("close", function () { state.editing = null; });

  function confirm(title, text, okLabel, withGrace, action) {
    $("confirm-title").textContent = title;
    $("confirm-text").textContent = text;
    $("confirm-ok").textContent = okLabel;
    show($("grace-field"), withGrace);
    say($("confirm-error"), "");
    state.pending = action;
    $("confirm-dialog").showModal();
    (withGrace ? $("grace") : $("confirm-ok")).focus();
  }

  function confirmRevoke(k) {
    confirm("Revoke “" + k.name + "”?",
      "Every request with this key (" + k.hint + ") will be refused with 403 from the very " +
      "next request on. This cannot be undone.",
      "Revoke key", false,
      function () {
        return api("DELETE", "/api/v1/auth/api-keys/" + encodeURIComponent(k.id))
          .then(function (r) {
            upsertRow(r.body, false);
            activityChanged();
          });
      });
  }

  function confirmRotate(k) {
    confirm("Rotate “" + k.name + "”?",
      "A new key with the same name, scopes and lifetime replaces this one (" + k.hint +
      "). You will see the new key once. The old key stops working after the time you " +
      "choose below.",
      "Rotate key", true,
      function () {
        var grace = Number($("grace").value);
        return api("POST", "/api/v1/auth/api-keys/" + encodeURIComponent(k.id) + "/rotate",
                   { grace_period_seconds: grace }).then(function (r) {
          var key = r.body.key;
          delete r.body.key;
          upsertRow(r.body.rotated_from, false);
          upsertRow(r.body, true);
          activityChanged();
          return function () { showSecret(key, r.body); };
        });
      });
  }

  $("confirm-form").addEventListener("submit", function (ev) {
    ev.preventDefault();
    var action = state.pending;
    if (!action) return;
    once($("confirm-ok"), function () {
      return action().then(function (after) {
        // The dialog may have been cancelled (or reused) while the request was on its way;
        // close it only if it still asks about this action. A rotated key is shown anyway.
        if (state.pending === action) {
          state.pending = null;
          $("confirm-dialog").close();
        }
        if (typeof after === "function") after();
      }, function (e) {
        if (state.pending === action) say($("confirm-error"), e.message);
        else say($("message"), e.message);
      });
    });
  });
  $("confirm-dialog").addEventListener("close", function () { state.pending = null; });

  $("sign-in-key").focus();
})();

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
  // `activityChanged`). The paged lists (keys, activity) keep their own state: see `pager`.
  var state = { key: null, me: null, pending: null, feed: false, editing: null,
                catchUp: null };

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
  // next page follows); `o.failed(e)` shows an error.
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
    show($("empty"), $("key-rows").children.length === 0);
  }

  function addRow(k) {
    remember(k, false);
    $("key-rows").appendChild(row(k));
  }

  function row(k) {
    var tr = document.createElement("tr");
    tr.setAttribute("data-key-id", k.id);
    var name = cell(tr, k.name, "Name", "name");
    if (k.description) name.title = k.description;
    cell(tr, k.owner_id, "Owner", "owner-col");
    cell(tr, k.hint, "Key", "hint");
    cell(tr, k.scopes.join(" "), "Scopes");
    cell(tr, k.plan || "—", "Plan");
    cell(tr, when(k.created_at), "Created");
    cell(tr, when(k.last_used_at), "Last used");
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
  $("secret-done").addEventListener("click", function () { $("secret-dialog").close(); });
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

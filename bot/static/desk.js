/* Aisle agent desk. Plain JS; text only through textContent. */
(function () {
  "use strict";
  var $ = function (id) { return document.getElementById(id); };
  var state = { agent: null, display: null, ws: null, current: null, conv: null, retry: 0,
                knownWaiting: {}, queue: null, canned: [], lastTyping: 0, typingTimer: null,
                refreshTimer: null, unread: {}, search: "", searchTimer: null, searchSeq: 0 };

  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function api(path, body) {
    return fetch(path, {
      method: body === undefined ? "GET" : "POST",
      headers: { "Content-Type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: "same-origin"
    }).then(function (res) {
      return res.json().catch(function () { return {}; }).then(function (data) {
        if (!res.ok) {
          var err = new Error(data.error || "Request failed (" + res.status + ")");
          err.status = res.status;
          throw err;
        }
        return data;
      });
    });
  }

  function alertMsg(text) {
    $("alert").textContent = text || "";
    $("alert").hidden = !text;
  }

  function ago(iso) {
    if (!iso) return "";
    var s = Math.max(0, (Date.now() - Date.parse(iso)) / 1000);
    if (s < 60) return "just now";
    if (s < 3600) return Math.floor(s / 60) + " min";
    if (s < 86400) return Math.floor(s / 3600) + " h " + Math.floor((s % 3600) / 60) + " min";
    return Math.floor(s / 86400) + " d";
  }
  function clock(iso) {
    if (!iso) return "";
    var d = new Date(iso);
    return isNaN(d) ? "" : d.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
  }
  function money(price, currency) {
    if (typeof price !== "number") return "";
    try { return new Intl.NumberFormat(undefined, { style: "currency", currency: currency || "USD" }).format(price); }
    catch (e) { return price.toFixed(2); }
  }

  // --- login ---------------------------------------------------------------------------------
  function showLogin() {
    $("login").hidden = false;
    $("desk").hidden = true;
    $("logout").hidden = true;
    $("display-form").hidden = true;
    $("whoami").textContent = "";
    $("login-name").focus();
  }
  function showDesk(data) {
    state.agent = data.agent;
    state.display = data.display_name || null;
    $("login").hidden = true;
    $("desk").hidden = false;
    $("logout").hidden = false;
    $("display-form").hidden = false;
    $("display-name").value = state.display || "";
    $("whoami").textContent = "Signed in as " + data.agent;
    connect();
    api("/api/desk/canned").then(function (d) { renderCanned(d.replies || []); }, function () { /* none */ });
  }
  $("login-form").addEventListener("submit", function (ev) {
    ev.preventDefault();
    $("login-error").textContent = "";
    api("/api/desk/login", { name: $("login-name").value, password: $("login-password").value })
      .then(function (data) { $("login-password").value = ""; showDesk(data); })
      .catch(function (err) { $("login-error").textContent = err.message; });
  });
  $("logout").addEventListener("click", function () {
    api("/api/desk/logout", {}).finally(function () {
      state.agent = null;
      if (state.ws) { var ws = state.ws; state.ws = null; ws.close(); }
      showLogin();
    });
  });
  $("display-form").addEventListener("submit", function (ev) {
    ev.preventDefault();
    api("/api/desk/me", { display_name: $("display-name").value })
      .then(function (data) {
        state.display = data.display_name;
        $("display-name").value = data.display_name || "";
        alertMsg(data.display_name ? "Shoppers now see you as " + data.display_name + "." : "Shoppers now see “the shop team”.");
      })
      .catch(function (err) { alertMsg(err.message); });
  });

  // --- live queue ------------------------------------------------------------------------------
  function send(payload) {
    if (state.ws && state.ws.readyState === 1) {
      try { state.ws.send(JSON.stringify(payload)); } catch (e) { /* reconnecting */ }
    }
  }
  function connect() {
    if (state.ws) return;
    var ws = new WebSocket(location.origin.replace(/^http/, "ws") + "/api/desk/ws");
    state.ws = ws;
    ws.onopen = function () {
      state.retry = 0;
      document.body.dataset.connected = "1";
      if (state.current) send({ type: "watch", conversation_id: state.current });
    };
    ws.onmessage = function (ev) {
      var msg;
      try { msg = JSON.parse(ev.data); } catch (e) { return; }
      if (msg.type === "queue") renderQueue(msg);
      if (msg.type === "message" && msg.message.sender === "shopper" && msg.conversation_id !== state.current) {
        setUnread(msg.conversation_id, (state.unread[msg.conversation_id] || 0) + 1);
      }
      if (msg.conversation_id !== state.current) return;
      if (msg.type === "message") {
        appendLine(msg.message);
        if (msg.message.sender === "shopper") markRead(msg.conversation_id, msg.message.id);
        if (msg.message.sender === "shopper") hideShopperTyping();
        if (msg.message.type === "products") scheduleRefresh();
      } else if (msg.type === "note") {
        appendNote(msg.note);
      } else if (msg.type === "typing" && msg.sender === "shopper") {
        showShopperTyping();
      }
    };
    ws.onclose = function () {
      document.body.dataset.connected = "0";
      if (state.ws !== ws) return;
      state.ws = null;
      if (!state.agent) return;
      setTimeout(function () {
        api("/api/desk/me").then(function () { connect(); }, function () { state.agent = null; showLogin(); });
      }, Math.min(30000, 1000 * Math.pow(2, state.retry++)));
    };
  }

  var REASON_CLASS = { "Asked for a human": "reason-human", "Complaint": "reason-complaint" };

  function who(item) {
    var ctx = item.context || {};
    return ctx.customer || ctx.email || "Shopper " + item.conversation_id.slice(0, 6);
  }

  function queueItem(item, list) {
    var li = el("li");
    var btn = el("button", "queue-item");
    btn.type = "button";
    btn.dataset.conversationId = item.conversation_id;
    var ctx = item.context || {};
    var top = el("span", "queue-top");
    top.appendChild(el("span", "queue-who", who(item)));
    var since = list === "waiting" ? (item.waiting_since || item.requested_at)
      : list === "resolved" ? item.ended_at : (item.claimed_at || item.updated_at);
    var time = el("span", "queue-time");
    time.dataset.since = since || "";
    time.dataset.prefix = list === "waiting" ? "waiting " : list === "resolved" ? "" : "held ";
    time.dataset.suffix = list === "resolved" ? " ago" : "";
    top.appendChild(time);
    var badge = el("span", "unread");
    badge.hidden = true;
    top.appendChild(badge);
    btn.appendChild(top);
    var meta = el("span", "queue-meta");
    if (item.reason) meta.appendChild(el("span", "reason " + (REASON_CLASS[item.reason] || ""), item.reason));
    if (ctx.order) meta.appendChild(el("span", "order", ctx.order + (ctx.verified ? " ✓" : " (unverified)")));
    if (list === "others" && item.assigned_agent) meta.appendChild(el("span", "holder", "with " + item.assigned_agent));
    if (list === "resolved") {
      var how = item.outcome === "closed" ? "closed" : "handed back";
      meta.appendChild(el("span", "holder", how + (item.agent ? " by " + (item.agent === state.agent ? "you" : item.agent) : "")));
    }
    btn.appendChild(meta);
    btn.appendChild(el("span", "queue-preview", item.last_shopper_text ? "“" + item.last_shopper_text + "”" : ""));
    btn.setAttribute("aria-current", String(item.conversation_id === state.current));
    btn.addEventListener("click", function () { openConversation(item.conversation_id); });
    li.appendChild(btn);
    return li;
  }

  // --- unread: shopper messages since this agent last had the conversation open ---------------------
  function setUnread(id, count) {
    state.unread[id] = id === state.current ? 0 : count;
    document.querySelectorAll(".queue-item").forEach(function (b) {
      if (b.dataset.conversationId !== id) return;
      var badge = b.querySelector(".unread");
      var n = state.unread[id] || 0;
      badge.hidden = !n;
      badge.textContent = "";
      if (n) badge.append(String(n), el("span", "visually-hidden", n === 1 ? " unread message" : " unread messages"));
    });
  }
  function markRead(id, messageId) {
    api("/api/desk/conversations/" + encodeURIComponent(id) + "/read", { message_id: messageId })
      .catch(function () { /* counted again at the next queue: harmless */ });
  }

  // --- the resolved list's search (server side: customer, email, order, transcript) -----------------
  function renderList(name, items) {
    var list = $(name);
    list.textContent = "";
    items.forEach(function (item) { list.appendChild(queueItem(item, name)); });
    if (!items.length) {
      var none = name === "waiting" ? "Nobody is waiting." : name === "resolved" && state.search ? "No resolved conversation matches." : "None.";
      list.appendChild(el("li", "queue-empty", none));
    }
    items.forEach(function (item) { setUnread(item.conversation_id, item.unread || 0); });
  }
  function searchResolved() {
    var q = state.search, seq = ++state.searchSeq;
    if (!q) {
      $("resolved-found").textContent = "";
      renderList("resolved", (state.queue && state.queue.resolved) || []);
      tickTimes();
      return;
    }
    api("/api/desk/queue?q=" + encodeURIComponent(q)).then(function (data) {
      if (seq !== state.searchSeq) return;  // a newer search went out meanwhile
      var found = data.resolved || [];
      renderList("resolved", found);
      tickTimes();
      $("resolved-found").textContent = found.length + (found.length === 1 ? " conversation matches" : " conversations match") + " “" + q + "”";
    }).catch(function (err) { alertMsg(err.message); });
  }
  $("resolved-search").addEventListener("submit", function (ev) { ev.preventDefault(); });
  $("resolved-q").addEventListener("input", function () {
    clearTimeout(state.searchTimer);
    var value = this.value.trim();
    state.searchTimer = setTimeout(function () { state.search = value; searchResolved(); }, 250);
  });

  function tickTimes() {
    document.querySelectorAll(".queue-time").forEach(function (t) {
      t.textContent = t.dataset.since ? t.dataset.prefix + ago(t.dataset.since) + t.dataset.suffix : "";
    });
  }
  setInterval(tickTimes, 15000);

  function renderQueue(queue) {
    state.queue = queue;
    ["waiting", "mine", "others"].forEach(function (name) { renderList(name, queue[name] || []); });
    if (state.search) searchResolved(); else renderList("resolved", queue.resolved || []);
    tickTimes();
    var waiting = (queue.waiting || []).length;
    $("waiting-count").textContent = String(waiting);
    document.title = (waiting ? "(" + waiting + ") " : "") + "Aisle agent desk";
    var fresh = (queue.waiting || []).filter(function (i) { return !state.knownWaiting[i.conversation_id]; });
    state.knownWaiting = {};
    (queue.waiting || []).forEach(function (i) { state.knownWaiting[i.conversation_id] = true; });
    if (queue.notify || fresh.length) {
      alertMsg("A shopper is waiting for a human agent.");
      if (window.Notification && Notification.permission === "granted") {
        try { new Notification("Aisle: a shopper is waiting"); } catch (e) { /* ignore */ }
      }
    } else if (!waiting && /waiting/.test($("alert").textContent)) {
      alertMsg("");
    }
    syncCurrent();
  }

  // the open conversation's status follows the queue (claimed elsewhere, handed back …)
  function syncCurrent() {
    if (!state.conv || !state.queue) return;
    var q = state.queue, id = state.current, found = null;
    ["waiting", "mine", "others"].forEach(function (name) {
      (q[name] || []).forEach(function (i) { if (i.conversation_id === id) found = i; });
    });
    if (found) { state.conv.status = found.status; state.conv.assigned_agent = found.assigned_agent; }
    else if (state.conv.status === "waiting" || state.conv.status === "agent") {
      var done = (q.resolved || []).filter(function (i) { return i.conversation_id === id; })[0];
      state.conv.status = done ? done.status : "bot";
      state.conv.assigned_agent = null;
    }
    refreshButtons();
  }

  // --- conversation ------------------------------------------------------------------------------
  function lineWho(msg) {
    if (msg.sender === "shopper") return "Shopper";
    if (msg.sender === "bot") return "Bot";
    if (msg.sender === "agent") {
      var login = msg.agent_login || "";
      if (login && login === state.agent) return "You" + (msg.agent ? " (as " + msg.agent + ")" : "");
      return "Agent " + (msg.agent || login);
    }
    return "";
  }

  function systemText(msg) {
    if (msg.type === "handoff") {
      if (msg.status === "waiting") return "Handed over to a human: waiting for an agent";
      if (msg.status === "agent") return (msg.agent_login || msg.agent || "An agent") + " took the conversation";
      if (msg.status === "bot") return "Back with the bot";
    }
    return null;
  }

  function appendLine(msg) {
    var box = $("transcript");
    if (msg.id && box.querySelector('[data-message-id="' + String(msg.id).replace(/\D/g, "") + '"]')) return;
    var sys = systemText(msg);
    var line;
    if (sys || msg.sender === "system") {
      line = el("div", "line line-system", sys || msg.text || "");
    } else {
      line = el("div", "line line-" + msg.sender);
      var head = el("span", "line-who", lineWho(msg));
      if (msg.time) head.appendChild(el("span", "line-time", " · " + clock(msg.time)));
      line.appendChild(head);
      if (msg.type === "text") {
        line.appendChild(el("span", "line-text", msg.sender === "shopper" && msg.display ? msg.display : msg.text));
        if (msg.sender === "shopper" && msg.display && msg.display !== msg.text) line.appendChild(el("span", "line-payload", msg.text));
        if (msg.fallback) line.classList.add("line-fallback");
      } else if (msg.type === "buttons") {
        line.appendChild(el("span", "line-text", "Offered: " + (msg.buttons || []).map(function (b) { return b.title; }).join(" · ")));
      } else if (msg.type === "products") {
        line.appendChild(el("span", "line-text", "Showed " + (msg.items || []).length + " products"));
        line.appendChild(productStrip(msg.items || [], 4));
      } else if (msg.type === "cart") {
        var lines = (msg.items || []).map(function (i) {
          var variant = [i.size, i.color].filter(Boolean).join(", ");
          return i.title + (variant ? " (" + variant + ")" : "") + " × " + i.quantity;
        });
        line.appendChild(el("span", "line-text", "Cart: " + (lines.join("; ") || "empty") +
          (lines.length ? " · " + money(msg.total, msg.currency) : "")));
      } else if (msg.type === "comparison") {
        line.appendChild(el("span", "line-text", "Compared " + (msg.items || []).map(function (i) { return i.title; }).join(" and ")));
      } else if (msg.type === "image") {
        line.appendChild(el("span", "line-text", "Sent an image"));
      } else {
        line.appendChild(el("span", "line-text", "[" + msg.type + "]"));
      }
    }
    if (msg.id) line.dataset.messageId = msg.id;
    if (msg.time) line.dataset.time = msg.time;
    box.appendChild(line);
    box.scrollTop = box.scrollHeight;
  }

  function appendNote(note) {
    var box = $("transcript");
    if (box.querySelector('[data-note-id="' + String(note.id).replace(/\D/g, "") + '"]')) return;
    var line = el("div", "line line-note");
    line.dataset.noteId = note.id;
    var head = el("span", "line-who", "Internal note · " + (note.agent === state.agent ? "you" : note.agent));
    head.appendChild(el("span", "line-time", " · " + clock(note.time)));
    line.append(head, el("span", "line-text", note.text));
    // notes go in time order among the messages
    var after = null;
    box.querySelectorAll(".line[data-time]").forEach(function (n) { if (n.dataset.time > note.time && !after) after = n; });
    line.dataset.time = note.time;
    if (after) box.insertBefore(line, after); else box.appendChild(line);
    box.scrollTop = box.scrollHeight;
  }

  function miniCard(item) {
    var li = el("li", "mini-card");
    if (item.image_url) {
      var img = el("img");
      img.src = item.image_url.charAt(0) === "/" ? item.image_url : "";
      img.alt = "";
      img.width = 48; img.height = 48;
      img.loading = "lazy";
      if (img.src) li.appendChild(img);
    }
    var text = el("div", "mini-text");
    text.appendChild(el("span", "mini-title", item.title));
    var line = [money(item.price, item.currency), item.brand].filter(Boolean).join(" · ");
    if (line) text.appendChild(el("span", "mini-price", line));
    var met = item.met || [];
    var unmet = item.unmet || [];
    if (met.length) text.appendChild(el("span", "mini-met", "✓ " + met.slice(0, 3).join(" · ")));
    if (unmet.length) text.appendChild(el("span", "mini-unmet", "✗ " + unmet[0] + (unmet.length > 1 ? " +" + (unmet.length - 1) : "")));
    li.appendChild(text);
    return li;
  }
  function productStrip(items, max) {
    var ul = el("ul", "mini-cards");
    items.slice(0, max || items.length).forEach(function (item) { ul.appendChild(miniCard(item)); });
    if (max && items.length > max) ul.appendChild(el("li", "mini-more", "+" + (items.length - max) + " more"));
    return ul;
  }

  function renderKnowledge(data) {
    var view = data.view || {};
    $("summary").textContent = view.summary || "";
    var chips = $("chips");
    chips.textContent = "";
    (view.chips || []).forEach(function (c) { chips.appendChild(el("li", "chip", c)); });
    if (!(view.chips || []).length) chips.appendChild(el("li", "chip-none", "No product search yet."));
    var ctx = view.context || {};
    if (ctx.order) chips.appendChild(el("li", "chip chip-order", "order " + ctx.order + (ctx.verified ? " ✓ verified" : " (not verified)")));
    if (ctx.customer || ctx.email) chips.appendChild(el("li", "chip chip-order", ctx.customer || ctx.email));

    var actions = $("actions");
    actions.textContent = "";
    (view.actions || []).forEach(function (a) {
      if (view.reason && a.text === "Handed over to a human") return; // said below, with the reason
      var li = el("li", "action action-" + (a.kind || "bot"));
      if (a.time) li.appendChild(el("span", "action-time", clock(a.time)));
      li.appendChild(el("span", "", a.text));
      actions.appendChild(li);
    });
    if (view.reason) {
      var why = el("li", "action action-handoff");
      why.appendChild(el("span", "", "Handed over: " + view.reason));
      actions.appendChild(why);
    }
    if (!actions.children.length) actions.appendChild(el("li", "chip-none", "Nothing yet."));

    var products = $("products");
    products.textContent = "";
    (data.products_shown || []).slice().reverse().forEach(function (set) {
      var box = el("div", "product-set");
      box.appendChild(el("p", "product-query", "For “" + (set.query || "?") + "” · " + clock(set.time)));
      if ((set.relaxed || []).length) box.appendChild(el("p", "relaxed", "Widened: " + set.relaxed.join("; ")));
      box.appendChild(productStrip(set.items || []));
      products.appendChild(box);
    });
    if (!(data.products_shown || []).length) products.appendChild(el("p", "chip-none", "None."));

    var tbody = $("slots").querySelector("tbody");
    tbody.textContent = "";
    var bot = data.bot || {};
    if (bot.error) {
      var row = el("tr");
      row.appendChild(el("td", "", bot.error));
      tbody.appendChild(row);
    }
    Object.keys(bot.slots || {}).forEach(function (name) {
      var tr = el("tr");
      var value = bot.slots[name];
      tr.appendChild(el("th", "", name));
      var td = el("td");
      td.appendChild(el("code", "", typeof value === "string" ? value : JSON.stringify(value, null, 1)));
      tr.appendChild(td);
      tbody.appendChild(tr);
    });
    var intents = $("intents");
    intents.textContent = "";
    var last = null;
    (bot.intents || []).forEach(function (it) {
      var key = (it.intent || "?") + "|" + (it.text || "");
      if (key === last) return;
      last = key;
      var conf = typeof it.confidence === "number" ? " " + Math.round(it.confidence * 100) + "%" : "";
      var ents = (it.entities || []).map(function (e) { return e.entity + (e.role ? ":" + e.role : "") + "=" + e.value; }).join(", ");
      intents.appendChild(el("li", "", (it.intent || "?") + conf + " — “" + (it.text || "") + "”" + (ents ? " [" + ents + "]" : "")));
    });
  }

  function refreshButtons() {
    var conv = state.conv;
    if (!conv) return;
    var mine = conv.status === "agent" && conv.assigned_agent === state.agent;
    var text = { waiting: "waiting for an agent", bot: "with the bot", closed: "closed" }[conv.status];
    $("conv-status").textContent = conv.status === "agent" ? "held by " + (mine ? "you" : conv.assigned_agent) : text || conv.status;
    $("claim").hidden = conv.status !== "waiting";
    $("handback").hidden = !mine;
    $("close").hidden = !(mine || conv.status === "waiting");
    var note = $("note-mode").checked;
    $("reply").disabled = !(mine || note);
    $("send").disabled = !(mine || note);
    $("canned").disabled = !mine;
    $("send").textContent = note ? "Add note" : "Send";
    $("reply-form").classList.toggle("note", note);
    $("reply").placeholder = note ? "Write an internal note (agents only)…" : "Type a reply… (Enter sends, Shift+Enter: new line)";
    $("reply-hint").textContent = note ? "Internal notes are stored for agents; the shopper never sees them."
      : mine ? "The shopper sees you as " + (state.display || "“the shop team”") + "."
      : "Claim the conversation to reply. Notes can be added any time; the shopper never sees them.";
  }

  function openConversation(id, focusReply) {
    var switching = state.current !== id;
    state.current = id;
    setUnread(id, 0);  // the server marks it read as it sends it
    send({ type: "watch", conversation_id: id });
    return api("/api/desk/conversations/" + encodeURIComponent(id)).then(function (data) {
      if (state.current !== id) return;
      state.conv = data;
      $("conversation").hidden = false;
      $("empty").hidden = true;
      var ctx = (data.view || {}).context || {};
      $("conv-title").textContent = ctx.customer || ctx.email || "Shopper " + id.slice(0, 6);
      if (switching) hideShopperTyping();
      $("transcript").textContent = "";
      (data.messages || []).forEach(appendLine);
      (data.notes || []).forEach(appendNote);
      renderKnowledge(data);
      syncCurrent();
      refreshButtons();
      document.querySelectorAll(".queue-item").forEach(function (b) {
        b.setAttribute("aria-current", String(b.dataset.conversationId === id));
      });
      if (focusReply && !$("reply").disabled) $("reply").focus();
    }).catch(function (err) { alertMsg(err.message); });
  }
  function scheduleRefresh() {
    clearTimeout(state.refreshTimer);
    state.refreshTimer = setTimeout(function () { if (state.current) openConversation(state.current); }, 300);
  }

  function action(name) {
    if (!state.current) return;
    var id = state.current;
    api("/api/desk/conversations/" + encodeURIComponent(id) + "/" + name, {})
      .then(function () { alertMsg(""); return openConversation(id, name === "claim"); })
      .catch(function (err) { alertMsg(err.message); openConversation(id); });
  }
  $("claim").addEventListener("click", function () { action("claim"); });
  $("handback").addEventListener("click", function () { action("handback"); });
  $("close").addEventListener("click", function () { action("close"); });

  // --- replying: canned replies, notes, typing -------------------------------------------------
  function renderCanned(replies) {
    state.canned = replies;
    var select = $("canned");
    select.textContent = "";
    select.appendChild(el("option", "", replies.length ? "Canned replies…" : "No canned replies"));
    select.firstChild.value = "";
    replies.forEach(function (r, i) {
      var o = el("option", "", r.title);
      o.value = String(i);
      select.appendChild(o);
    });
  }
  $("canned").addEventListener("change", function () {
    var reply = state.canned[Number(this.value)];
    this.value = "";
    if (!reply) return;
    var box = $("reply");
    var text = reply.text.replace(/\{agent\}/g, state.display || "the shop team");
    box.value = box.value ? box.value.replace(/\s*$/, " ") + text : text;
    box.focus();
    box.setSelectionRange(box.value.length, box.value.length);
  });
  $("note-mode").addEventListener("change", function () { refreshButtons(); $("reply").focus(); });

  function showShopperTyping() {
    clearTimeout(state.typingTimer);
    $("shopper-typing").textContent = "Shopper is typing…";
    $("shopper-typing").hidden = false;
    state.typingTimer = setTimeout(hideShopperTyping, 4000);
  }
  function hideShopperTyping() {
    clearTimeout(state.typingTimer);
    $("shopper-typing").hidden = true;
  }

  $("reply").addEventListener("input", function () {
    var conv = state.conv;
    if (!conv || $("note-mode").checked || conv.status !== "agent" || conv.assigned_agent !== state.agent) return;
    var now = Date.now();
    if (!this.value || now - state.lastTyping < 2000) return;
    state.lastTyping = now;
    send({ type: "typing", conversation_id: state.current });
  });
  $("reply").addEventListener("keydown", function (ev) {
    if (ev.key === "Enter" && !ev.shiftKey && !ev.isComposing) {
      ev.preventDefault();
      $("reply-form").requestSubmit();
    }
  });

  $("reply-form").addEventListener("submit", function (ev) {
    ev.preventDefault();
    var text = $("reply").value.trim();
    if (!text || !state.current) return;
    var note = $("note-mode").checked;
    var path = "/api/desk/conversations/" + encodeURIComponent(state.current) + (note ? "/notes" : "/reply");
    api(path, { text: text })
      .then(function (data) {
        $("reply").value = "";
        if (note) appendNote(data.note); else appendLine(data.message);
      })
      .catch(function (err) { alertMsg(err.message); });
  });

  api("/api/desk/me").then(showDesk, showLogin);
})();

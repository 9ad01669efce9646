/* Aisle agent desk. Plain JS; text only through textContent. */
(function () {
  "use strict";
  var $ = function (id) { return document.getElementById(id); };
  var state = { agent: null, ws: null, current: null, conv: null, retry: 0, knownWaiting: {} };

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

  // --- login ---------------------------------------------------------------------------------
  function showLogin() {
    $("login").hidden = false;
    $("desk").hidden = true;
    $("logout").hidden = true;
    $("whoami").textContent = "";
    $("login-name").focus();
  }
  function showDesk(agent) {
    state.agent = agent;
    $("login").hidden = true;
    $("desk").hidden = false;
    $("logout").hidden = false;
    $("whoami").textContent = "Signed in as " + agent;
    connect();
  }
  $("login-form").addEventListener("submit", function (ev) {
    ev.preventDefault();
    $("login-error").textContent = "";
    api("/api/desk/login", { name: $("login-name").value, password: $("login-password").value })
      .then(function (data) { $("login-password").value = ""; showDesk(data.agent); })
      .catch(function (err) { $("login-error").textContent = err.message; });
  });
  $("logout").addEventListener("click", function () {
    api("/api/desk/logout", {}).finally(function () {
      if (state.ws) { var ws = state.ws; state.ws = null; ws.close(); }
      showLogin();
    });
  });

  // --- live queue ------------------------------------------------------------------------------
  function connect() {
    if (state.ws) return;
    var ws = new WebSocket(location.origin.replace(/^http/, "ws") + "/api/desk/ws");
    state.ws = ws;
    ws.onopen = function () { state.retry = 0; document.body.dataset.connected = "1"; };
    ws.onmessage = function (ev) {
      var msg;
      try { msg = JSON.parse(ev.data); } catch (e) { return; }
      if (msg.type === "queue") renderQueue(msg);
      if (msg.type === "message" && msg.conversation_id === state.current) {
        appendLine(msg.message);
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

  function queueItem(item) {
    var li = el("li");
    var btn = el("button", "queue-item");
    btn.type = "button";
    btn.dataset.conversationId = item.conversation_id;
    btn.appendChild(el("span", "queue-id", "Chat " + item.conversation_id.slice(0, 8)));
    btn.appendChild(el("span", "queue-preview", item.last_shopper_text || ""));
    if (item.conversation_id === state.current) btn.setAttribute("aria-current", "true");
    btn.addEventListener("click", function () { openConversation(item.conversation_id); });
    li.appendChild(btn);
    return li;
  }

  function renderQueue(queue) {
    ["waiting", "mine", "others"].forEach(function (name) {
      var list = $(name);
      list.textContent = "";
      (queue[name] || []).forEach(function (item) { list.appendChild(queueItem(item)); });
    });
    $("waiting-count").textContent = String((queue.waiting || []).length);
    var fresh = (queue.waiting || []).filter(function (i) { return !state.knownWaiting[i.conversation_id]; });
    state.knownWaiting = {};
    (queue.waiting || []).forEach(function (i) { state.knownWaiting[i.conversation_id] = true; });
    if (queue.notify || fresh.length) {
      alertMsg("A shopper is waiting for a human agent.");
      document.title = "(" + (queue.waiting || []).length + ") Aisle agent desk";
      if (window.Notification && Notification.permission === "granted") {
        try { new Notification("Aisle: a shopper is waiting"); } catch (e) { /* ignore */ }
      }
    } else if (!(queue.waiting || []).length) {
      document.title = "Aisle agent desk";
      alertMsg("");
    }
    if (state.current) refreshButtons();
  }

  // --- conversation ------------------------------------------------------------------------------
  var WHO = { shopper: "Shopper", bot: "Bot", agent: "Agent", system: "" };

  function describe(msg) {
    if (msg.type === "text") return msg.sender === "shopper" && msg.display ? msg.display + "  [" + msg.text + "]" : msg.text;
    if (msg.type === "buttons") return "Buttons: " + (msg.buttons || []).map(function (b) { return b.title; }).join(" | ");
    if (msg.type === "products") return "Showed " + (msg.items || []).length + " products: " + (msg.items || []).map(function (i) { return i.title; }).join(", ");
    if (msg.type === "handoff") return "Handoff: " + msg.status + (msg.agent ? " (" + msg.agent + ")" : "");
    return "[" + msg.type + "]";
  }

  function appendLine(msg) {
    var line = el("div", "line line-" + msg.sender);
    var who = WHO[msg.sender];
    if (who) line.appendChild(el("span", "line-who", msg.sender === "agent" && msg.agent ? "Agent " + msg.agent : who));
    line.appendChild(el("span", "line-text", describe(msg)));
    $("transcript").appendChild(line);
    $("transcript").scrollTop = $("transcript").scrollHeight;
  }

  function renderKnowledge(data) {
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
      tr.appendChild(el("td", "", name));
      tr.appendChild(el("td", "", typeof value === "string" ? value : JSON.stringify(value)));
      tbody.appendChild(tr);
    });
    var intents = $("intents");
    intents.textContent = "";
    (bot.intents || []).forEach(function (it) {
      var ents = (it.entities || []).map(function (e) { return e.entity + (e.role ? ":" + e.role : "") + "=" + e.value; }).join(", ");
      var conf = typeof it.confidence === "number" ? " (" + it.confidence.toFixed(2) + ")" : "";
      intents.appendChild(el("li", "", (it.intent || "?") + conf + " — " + (it.text || "") + (ents ? "  [" + ents + "]" : "")));
    });
    var products = $("products");
    products.textContent = "";
    (data.products_shown || []).forEach(function (set) {
      var box = el("div", "product-set");
      box.appendChild(el("strong", "", "For: " + (set.query || "?")));
      (set.relaxed || []).forEach(function (r) { box.appendChild(el("div", "relaxed", "Relaxed: " + r)); });
      var ul = el("ul");
      (set.items || []).forEach(function (item) {
        var li = el("li", "product-shown");
        li.appendChild(el("span", "product-title", item.title + " (" + item.id + ")"));
        if (item.explanation) li.appendChild(el("div", "product-why", item.explanation));
        ul.appendChild(li);
      });
      box.appendChild(ul);
      products.appendChild(box);
    });
  }

  function refreshButtons() {
    var conv = state.conv;
    if (!conv) return;
    var mine = conv.status === "agent" && conv.assigned_agent === state.agent;
    $("conv-status").textContent = conv.status === "agent" ? "held by " + conv.assigned_agent : conv.status;
    $("claim").hidden = conv.status !== "waiting";
    $("handback").hidden = !mine;
    $("close").hidden = !(mine || conv.status === "waiting");
    $("reply").disabled = !mine;
    $("reply-form").querySelector("button").disabled = !mine;
  }

  function openConversation(id) {
    state.current = id;
    return api("/api/desk/conversations/" + encodeURIComponent(id)).then(function (data) {
      state.conv = data;
      $("conversation").hidden = false;
      $("empty").hidden = true;
      $("conv-title").textContent = "Chat " + id.slice(0, 8);
      $("transcript").textContent = "";
      (data.messages || []).forEach(appendLine);
      renderKnowledge(data);
      refreshButtons();
      document.querySelectorAll(".queue-item").forEach(function (b) {
        b.setAttribute("aria-current", String(b.dataset.conversationId === id));
      });
    }).catch(function (err) { alertMsg(err.message); });
  }

  function action(name) {
    if (!state.current) return;
    var id = state.current;
    api("/api/desk/conversations/" + encodeURIComponent(id) + "/" + name, {})
      .then(function () { alertMsg(""); return openConversation(id); })
      .catch(function (err) { alertMsg(err.message); openConversation(id); });
  }
  $("claim").addEventListener("click", function () { action("claim"); });
  $("handback").addEventListener("click", function () { action("handback"); });
  $("close").addEventListener("click", function () { action("close"); });

  $("reply-form").addEventListener("submit", function (ev) {
    ev.preventDefault();
    var text = $("reply").value.trim();
    if (!text || !state.current) return;
    api("/api/desk/conversations/" + encodeURIComponent(state.current) + "/reply", { text: text })
      .then(function (data) { $("reply").value = ""; appendLine(data.message); })
      .catch(function (err) { alertMsg(err.message); });
  });

  api("/api/desk/me").then(function (data) { showDesk(data.agent); }, showLogin);
})();

/* Aisle chat widget. Embed with ONE tag: <script src="https://GATEWAY/static/widget.js" defer></script>
 * Optional: data-gateway="https://GATEWAY" on the tag. Plain JS, no dependencies, no network but the gateway.
 * Message text is only ever set through textContent; URLs are checked before use. */
(function () {
  "use strict";
  if (window.__aisleWidget) return;
  window.__aisleWidget = true;

  var script = document.currentScript;
  var base = (script && script.dataset.gateway) || (script ? new URL(script.src, location.href).origin : location.origin);
  base = base.replace(/\/+$/, "");
  var STORE_KEY = "aisle.conversation:" + base;
  var OPEN_KEY = "aisle.open:" + base;

  var state = { id: null, token: null, ws: null, wsRetry: 0, status: "bot", busy: false };

  // --- small DOM helpers ---------------------------------------------------------------------------
  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }
  function safeUrl(url) {
    if (typeof url !== "string" || !url) return null;
    if (url.charAt(0) === "/" && url.charAt(1) !== "/") return base + url;
    try {
      var parsed = new URL(url);
      return parsed.protocol === "https:" || parsed.protocol === "http:" ? parsed.href : null;
    } catch (e) { return null; }
  }
  function formatPrice(price, currency) {
    if (typeof price !== "number") return "";
    try {
      return new Intl.NumberFormat(undefined, { style: "currency", currency: currency || "USD" }).format(price);
    } catch (e) { return price.toFixed(2) + " " + (currency || ""); }
  }

  // --- layout ----------------------------------------------------------------------------------------
  var css = document.createElement("link");
  css.rel = "stylesheet";
  css.href = base + "/static/widget.css";
  document.head.appendChild(css);

  var root = el("div", "aisle-root");
  var launcher = el("button", "aisle-launcher", "Chat with us");
  launcher.type = "button";
  launcher.setAttribute("aria-expanded", "false");
  launcher.setAttribute("aria-controls", "aisle-panel");

  var panel = el("section", "aisle-panel");
  panel.id = "aisle-panel";
  panel.hidden = true;
  panel.setAttribute("aria-label", "Shop assistant chat");

  var header = el("div", "aisle-header");
  var title = el("h2", "aisle-title", "Shop assistant");
  var status = el("p", "aisle-status", "");
  status.setAttribute("role", "status");
  status.setAttribute("aria-live", "polite");
  var closeBtn = el("button", "aisle-close", "×");
  closeBtn.type = "button";
  closeBtn.setAttribute("aria-label", "Close chat");
  header.append(title, status, closeBtn);

  var log = el("div", "aisle-log");
  log.setAttribute("role", "log");
  log.setAttribute("aria-live", "polite");
  log.setAttribute("aria-label", "Conversation");
  log.tabIndex = 0;

  var typing = el("div", "aisle-typing", "Assistant is typing…");
  typing.hidden = true;
  typing.setAttribute("role", "status");

  var form = el("form", "aisle-form");
  var input = el("input", "aisle-input");
  input.type = "text";
  input.autocomplete = "off";
  input.maxLength = 1000;
  input.placeholder = "Ask about products or your order…";
  input.setAttribute("aria-label", "Your message");
  var send = el("button", "aisle-send", "Send");
  send.type = "submit";
  form.append(input, send);

  var notice = el("p", "aisle-notice", "");
  notice.setAttribute("role", "alert");
  notice.hidden = true;

  panel.append(header, log, typing, notice, form);
  root.append(panel, launcher);

  function setOpen(open) {
    panel.hidden = !open;
    launcher.setAttribute("aria-expanded", String(open));
    launcher.textContent = open ? "Close chat" : "Chat with us";
    try { localStorage.setItem(OPEN_KEY, open ? "1" : "0"); } catch (e) { /* private mode */ }
    if (open) { input.focus(); ensureConversation(); }
  }
  launcher.addEventListener("click", function () { setOpen(panel.hidden); });
  closeBtn.addEventListener("click", function () { setOpen(false); launcher.focus(); });
  panel.addEventListener("keydown", function (ev) {
    if (ev.key === "Escape") { setOpen(false); launcher.focus(); }
  });

  function showNotice(text) {
    notice.textContent = text || "";
    notice.hidden = !text;
  }
  function scrollDown() { log.scrollTop = log.scrollHeight; }

  // --- rendering -----------------------------------------------------------------------------------
  var STATUS_TEXT = {
    waiting: "Waiting for a human agent…",
    agent: "You're chatting with a human agent.",
    bot: "You're chatting with the shop assistant."
  };

  function setStatus(value, agentName) {
    state.status = value;
    status.textContent = value === "bot" ? "" : (value === "agent" && agentName ? "Chatting with " + agentName : STATUS_TEXT[value] || "");
    root.dataset.status = value;
  }

  function bubble(sender, text, extraClass) {
    var item = el("div", "aisle-msg aisle-" + sender + (extraClass ? " " + extraClass : ""));
    var who = { shopper: "You", bot: "Assistant", agent: "Agent", system: "" }[sender] || "";
    if (who) {
      var label = el("span", "aisle-sender", who + ": ");
      label.classList.add("aisle-visually-hidden");
      item.appendChild(label);
    }
    item.appendChild(el("span", "aisle-text", text));
    return item;
  }

  function productCard(item) {
    var card = el("li", "aisle-card");
    card.dataset.productId = item.id;
    var img = safeUrl(item.image_url);
    if (img) {
      var image = el("img", "aisle-card-img");
      image.src = img;
      image.alt = "";
      image.loading = "lazy";
      card.appendChild(image);
    }
    var link = safeUrl(item.url);
    var heading = el("h3", "aisle-card-title");
    if (link) {
      var a = el("a", "aisle-card-link", item.title);
      a.href = link;
      a.target = "_blank";
      a.rel = "noopener noreferrer";
      a.addEventListener("click", function () { sendEvent("click", item.id); });
      heading.appendChild(a);
    } else {
      heading.textContent = item.title;
    }
    card.appendChild(heading);
    var price = formatPrice(item.price, item.currency);
    if (price) card.appendChild(el("p", "aisle-card-price", price));
    if (item.explanation) card.appendChild(el("p", "aisle-card-why", item.explanation));
    var actions = el("div", "aisle-card-actions");
    actions.setAttribute("role", "group");
    actions.setAttribute("aria-label", "Actions for " + item.title);
    var payloadArg = JSON.stringify({ product_id: item.id });
    [
      ["More like this", "like", "/more_like_this" + payloadArg],
      ["Not for me", "dislike", "/reject_product" + payloadArg],
      ["Add to cart", "add_to_cart", "/add_to_cart" + payloadArg]
    ].forEach(function (spec) {
      var btn = el("button", "aisle-card-btn aisle-" + spec[1], spec[0]);
      btn.type = "button";
      btn.setAttribute("aria-label", spec[0] + ": " + item.title);
      btn.addEventListener("click", function () {
        sendEvent(spec[1], item.id);
        sendMessage(spec[2], spec[0] + ": " + item.title);
      });
      actions.appendChild(btn);
    });
    card.appendChild(actions);
    return card;
  }

  function render(msg) {
    if (!msg || typeof msg !== "object") return;
    var sender = msg.sender || "bot";
    var node = null;
    if (msg.type === "text") {
      var shown = sender === "shopper" && msg.display ? msg.display : msg.text;
      node = bubble(sender, shown, msg.fallback ? "aisle-fallback" : "");
      if (sender === "agent" && msg.agent) node.dataset.agent = msg.agent;
    } else if (msg.type === "buttons" && Array.isArray(msg.buttons)) {
      node = el("div", "aisle-buttons");
      node.setAttribute("role", "group");
      node.setAttribute("aria-label", "Suggested replies");
      msg.buttons.forEach(function (b) {
        var btn = el("button", "aisle-quick", b.title);
        btn.type = "button";
        btn.addEventListener("click", function () { sendMessage(String(b.payload), String(b.title)); });
        node.appendChild(btn);
      });
    } else if (msg.type === "products" && Array.isArray(msg.items)) {
      node = el("div", "aisle-products");
      (msg.relaxed || []).forEach(function (r) { node.appendChild(el("p", "aisle-relaxed", "Relaxed: " + r)); });
      var list = el("ul", "aisle-cards");
      list.setAttribute("aria-label", msg.items.length + " suggested products");
      msg.items.forEach(function (item) { if (item && item.id) list.appendChild(productCard(item)); });
      node.appendChild(list);
    } else if (msg.type === "handoff") {
      setStatus(msg.status, msg.agent);
      var text = msg.status === "agent" && msg.agent ? msg.agent + " (human agent) joined the chat." : STATUS_TEXT[msg.status];
      node = bubble("system", text || "", "aisle-handoff");
    } else if (msg.type === "image") {
      var src = safeUrl(msg.url);
      if (src) { node = el("img", "aisle-image"); node.src = src; node.alt = ""; }
    } else if (msg.type === "error") {
      showNotice(msg.error);
      return;
    }
    if (node) {
      node.classList.add("aisle-item");
      if (msg.id) node.dataset.messageId = msg.id;
      log.appendChild(node);
      scrollDown();
    }
  }

  // --- network -------------------------------------------------------------------------------------
  function api(path, options) {
    options = options || {};
    var headers = { "Content-Type": "application/json" };
    if (state.token) headers.Authorization = "Bearer " + state.token;
    return fetch(base + path, {
      method: options.method || "GET",
      headers: headers,
      body: options.body ? JSON.stringify(options.body) : undefined,
      keepalive: !!options.keepalive,
      credentials: "omit"
    }).then(function (res) {
      return res.json().catch(function () { return {}; }).then(function (data) {
        if (!res.ok) {
          var err = new Error(data.error || ("Request failed (" + res.status + ")"));
          err.status = res.status;
          throw err;
        }
        return data;
      });
    });
  }

  function save() {
    try { localStorage.setItem(STORE_KEY, JSON.stringify({ id: state.id, token: state.token })); } catch (e) { /* ignore */ }
  }
  function load() {
    try { return JSON.parse(localStorage.getItem(STORE_KEY) || "null"); } catch (e) { return null; }
  }

  var ready = null;
  function ensureConversation() {
    if (ready) return ready;
    var saved = load();
    ready = (saved && saved.id && saved.token ? restore(saved) : Promise.reject(new Error("none")))
      .catch(function (err) {
        if (err && err.status && err.status >= 500) throw err;
        return api("/api/conversations", { method: "POST", body: {} }).then(function (data) {
          state.id = data.conversation_id;
          state.token = data.token;
          save();
        });
      })
      .then(connect)
      .catch(function (err) {
        ready = null;
        showNotice("The chat is not available right now. Please try again later.");
        throw err;
      });
    return ready;
  }

  function restore(saved) {
    state.id = saved.id;
    state.token = saved.token;
    return api("/api/conversations/" + encodeURIComponent(saved.id) + "/history").then(function (data) {
      log.textContent = "";
      (data.messages || []).forEach(render);
      setStatus(data.status === "closed" ? "bot" : data.status);
    }, function (err) {
      state.id = state.token = null;
      throw err;
    });
  }

  function connect() {
    if (!state.id || (state.ws && state.ws.readyState <= 1)) return;
    var url = base.replace(/^http/, "ws") + "/api/conversations/" + encodeURIComponent(state.id) +
      "/ws?token=" + encodeURIComponent(state.token);
    var ws = new WebSocket(url);
    state.ws = ws;
    ws.onopen = function () { state.wsRetry = 0; root.dataset.connected = "1"; };
    ws.onmessage = function (ev) {
      var msg;
      try { msg = JSON.parse(ev.data); } catch (e) { return; }
      if (msg.type === "pong") return;
      typing.hidden = true;
      render(msg);
    };
    ws.onclose = function () {
      root.dataset.connected = "0";
      if (state.ws !== ws) return;
      state.ws = null;
      var delay = Math.min(30000, 1000 * Math.pow(2, state.wsRetry++));
      setTimeout(connect, delay);
    };
  }

  function sendEvent(type, productId, value) {
    if (!state.id) return;
    var body = { type: type };
    if (productId) body.product_id = productId;
    if (value !== undefined) body.value = value;
    api("/api/conversations/" + encodeURIComponent(state.id) + "/events", { method: "POST", body: body, keepalive: true })
      .catch(function () { /* feedback is best effort */ });
  }

  function sendMessage(text, display) {
    text = String(text || "").trim();
    if (!text || state.busy) return Promise.resolve();
    state.busy = true;
    showNotice("");
    var mine = bubble("shopper", display || text, "aisle-item aisle-pending");
    log.appendChild(mine);
    scrollDown();
    if (state.status === "bot") typing.hidden = false;
    return ensureConversation()
      .then(function () {
        var body = { text: text };
        if (display && display !== text) body.display = display;
        return api("/api/conversations/" + encodeURIComponent(state.id) + "/messages", { method: "POST", body: body });
      })
      .then(function (data) {
        mine.classList.remove("aisle-pending");
        (data.messages || []).forEach(render);
      })
      .catch(function (err) {
        mine.remove();
        if (!display) input.value = text; // keep what the shopper typed
        showNotice(err.message || "Your message could not be sent.");
      })
      .then(function () {
        typing.hidden = true;
        state.busy = false;
      });
  }

  form.addEventListener("submit", function (ev) {
    ev.preventDefault();
    var text = input.value;
    if (!text.trim()) return;
    input.value = "";
    sendMessage(text);
  });

  function mount() {
    document.body.appendChild(root);
    var saved = load();
    var wasOpen = false;
    try { wasOpen = localStorage.getItem(OPEN_KEY) === "1"; } catch (e) { /* ignore */ }
    if (wasOpen) setOpen(true);
    else if (saved) ensureConversation().catch(function () { /* shown in the notice */ });
  }
  if (document.body) mount();
  else document.addEventListener("DOMContentLoaded", mount);

  window.AisleWidget = { open: function () { setOpen(true); }, send: sendMessage };
})();

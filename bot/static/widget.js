/* Aisle chat widget. Embed with ONE tag: <script src="https://GATEWAY/static/widget.js" defer></script>
 * Optional attributes on the tag: data-gateway="https://GATEWAY"; data-greeting="Hi! …" (the first
 * bubble of a new chat); data-suggestions='["Running shoes", "Where is my order?"]' (JSON array, or
 * texts separated by "|"), the chips under the greeting.
 * Plain JS, no dependencies, no network but the gateway. Message text is only ever set through
 * textContent; URLs are checked before use. */
(function () {
  "use strict";
  if (window.__aisleWidget) return;
  window.__aisleWidget = true;

  var script = document.currentScript;
  var data = (script && script.dataset) || {};
  var base = data.gateway || (script ? new URL(script.src, location.href).origin : location.origin);
  base = base.replace(/\/+$/, "");
  var STORE_KEY = "aisle.conversation:" + base;
  var OPEN_KEY = "aisle.open:" + base;
  var GREETING = data.greeting || "Hi! I'm the shop assistant. I can find products for you, or help with an order, a return or a refund.";
  var SUGGESTIONS = parseList(data.suggestions, ["Running shoes", "Rain jackets under $150", "Where is my order?", "Talk to a human"]);

  var state = { id: null, token: null, ws: null, wsRetry: 0, status: "bot", agentName: null,
                outbox: [], sending: false, typingTimer: null, lastTypingSent: 0,
                cartId: -1, uid: 0 };

  function parseList(value, fallback) {
    if (!value) return fallback;
    try {
      var list = JSON.parse(value);
      if (Array.isArray(list)) return list.map(String).filter(Boolean).slice(0, 6);
    } catch (e) { /* not JSON: "a|b|c" */ }
    return String(value).split("|").map(function (s) { return s.trim(); }).filter(Boolean).slice(0, 6);
  }

  // --- small DOM helpers ---------------------------------------------------------------------------
  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }
  function button(cls, text, label) {
    var b = el("button", cls, text);
    b.type = "button";
    if (label) b.setAttribute("aria-label", label);
    return b;
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
  var launcher = button("aisle-launcher", "Chat with us");
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
  var closeBtn = button("aisle-close", "×", "Close chat");
  // the mini cart: the newest cart the bot sent (also after a reload: it is in the history)
  // its name is its text ("Cart, 2 items"): what a screen reader says contains what is seen
  var cartBtn = button("aisle-cart-btn", "");
  cartBtn.setAttribute("aria-expanded", "false");
  cartBtn.setAttribute("aria-controls", "aisle-cart");
  var cartCount = el("span", "aisle-cart-count", "0");
  var cartSeen = el("span", "aisle-cart-seen");
  cartSeen.setAttribute("aria-hidden", "true");
  cartSeen.append(el("span", "", "Cart"), cartCount);
  var cartName = el("span", "aisle-visually-hidden", "Cart, 0 items");
  cartBtn.append(cartSeen, cartName);
  header.append(title, status, cartBtn, closeBtn);

  var cartPanel = el("section", "aisle-cart");
  cartPanel.id = "aisle-cart";
  cartPanel.hidden = true;
  cartPanel.setAttribute("aria-label", "Your cart");
  cartPanel.tabIndex = 0;  // it may scroll: the keyboard reaches it

  var log = el("div", "aisle-log");
  log.setAttribute("role", "log");
  log.setAttribute("aria-live", "polite");
  log.setAttribute("aria-label", "Conversation");
  log.tabIndex = 0;

  // "… is typing": the bot while a message is being answered, an agent while they write
  var typing = el("div", "aisle-typing");
  typing.hidden = true;
  typing.setAttribute("role", "status");
  var typingText = el("span", "aisle-typing-text", "");
  var dots = el("span", "aisle-dots");
  dots.setAttribute("aria-hidden", "true");
  dots.append(el("span"), el("span"), el("span"));
  typing.append(dots, typingText);

  var form = el("form", "aisle-form");
  var input = el("input", "aisle-input");
  input.type = "text";
  input.autocomplete = "off";
  input.maxLength = 1000;
  input.placeholder = "Ask about products or your order…";
  input.setAttribute("aria-label", "Your message");
  input.setAttribute("enterkeyhint", "send");
  var send = el("button", "aisle-send", "Send");
  send.type = "submit";
  form.append(input, send);

  var notice = el("p", "aisle-notice", "");
  notice.setAttribute("role", "alert");
  notice.hidden = true;

  panel.append(header, cartPanel, log, typing, notice, form);
  root.append(panel, launcher);

  function setOpen(open) {
    panel.hidden = !open;
    root.dataset.open = open ? "1" : "0";
    launcher.setAttribute("aria-expanded", String(open));
    launcher.textContent = open ? "Close chat" : "Chat with us";
    try { localStorage.setItem(OPEN_KEY, open ? "1" : "0"); } catch (e) { /* private mode */ }
    if (open) {
      input.focus();
      ensureConversation().catch(function () { /* shown in the notice */ });
    }
  }
  launcher.addEventListener("click", function () { setOpen(panel.hidden); });
  closeBtn.addEventListener("click", function () { setOpen(false); launcher.focus(); });
  panel.addEventListener("keydown", function (ev) {
    if (ev.key !== "Escape") return;
    if (!cartPanel.hidden) { toggleCart(false); cartBtn.focus(); return; }  // the cart first
    setOpen(false); launcher.focus();
  });

  function showNotice(text) {
    notice.textContent = text || "";
    notice.hidden = !text;
  }
  function scrollDown() { log.scrollTop = log.scrollHeight; }

  // --- typing indicator ----------------------------------------------------------------------------
  function showTyping(who) {
    clearTimeout(state.typingTimer);
    typingText.textContent = who + " is typing…";
    typing.hidden = false;
    scrollDown();
  }
  function hideTyping() { clearTimeout(state.typingTimer); typing.hidden = true; }
  function agentTyping(name) {
    showTyping(name || "The agent");
    state.typingTimer = setTimeout(hideTyping, 4000);
  }

  // --- rendering -----------------------------------------------------------------------------------
  var STATUS_TEXT = {
    waiting: "Waiting for a human agent…",
    agent: "You're chatting with a human agent.",
    bot: "You're chatting with the shop assistant."
  };

  function setStatus(value, agentName) {
    state.status = value;
    if (agentName) state.agentName = agentName;
    status.textContent = value === "bot" ? "" : (value === "agent" && state.agentName ? "Chatting with " + state.agentName : STATUS_TEXT[value] || "");
    root.dataset.status = value;
  }

  function bubble(sender, text, extraClass, name) {
    var item = el("div", "aisle-msg aisle-" + sender + (extraClass ? " " + extraClass : ""));
    var who = { shopper: "You", bot: "Assistant", agent: name || "Agent", system: "" }[sender] || "";
    if (sender === "agent") {
      item.appendChild(el("span", "aisle-agent-name", (name || "Agent") + " · shop team"));
    } else if (who) {
      var label = el("span", "aisle-sender aisle-visually-hidden", who + ": ");
      item.appendChild(label);
    }
    item.appendChild(sender === "shopper" ? el("span", "aisle-text", text) : withLinks(text));
    return item;
  }
  // a bot's or agent's text with its links clickable ("your invoice: /invoices/INV-20427?…"); only
  // http(s) URLs and the gateway's own paths, each through safeUrl, everything else stays text
  var LINK = /(^|[\s(])((?:https?:\/\/|\/(?=[A-Za-z]))[^\s<>"')]+)/g;
  function withLinks(text) {
    var span = el("span", "aisle-text");
    var value = String(text || ""), last = 0, match;
    LINK.lastIndex = 0;
    while ((match = LINK.exec(value)) !== null) {
      var raw = match[2].replace(/[.,;:!?]+$/, "");
      var start = match.index + match[1].length;
      var href = safeUrl(raw);
      if (!href) continue;
      span.appendChild(document.createTextNode(value.slice(last, start)));
      var a = el("a", "aisle-link", raw.split("?")[0]);
      a.href = href;
      a.target = "_blank";
      a.rel = "noopener noreferrer";
      span.appendChild(a);
      last = start + raw.length;
    }
    span.appendChild(document.createTextNode(value.slice(last)));
    return span;
  }

  // "rain jackets ✓ · not green ✗" → {met, unmet}, for messages stored before the gateway split them
  function explanationParts(item) {
    if (Array.isArray(item.met) || Array.isArray(item.unmet)) {
      return { met: item.met || [], unmet: item.unmet || [] };
    }
    var met = [], unmet = [];
    String(item.explanation || "").split(" · ").forEach(function (part) {
      part = part.trim();
      if (!part || part === "closest match to what you described") return;
      if (/✗$/.test(part)) unmet.push(part.replace(/\s*✗$/, ""));
      else met.push(part.replace(/\s*✓$/, ""));
    });
    return { met: met, unmet: unmet };
  }

  function facts(item) {
    var parts = [];
    if (item.brand) parts.push(item.brand);
    var gender = { women: "Women's", men: "Men's", kids: "Kids'", unisex: "Unisex" }[item.gender];
    if (gender) parts.push(gender);
    if (Array.isArray(item.sizes) && item.sizes.length) {
      var sizes = item.sizes.length > 5 ? item.sizes.slice(0, 5).join(", ") + "…" : item.sizes.join(", ");
      parts.push("Sizes " + sizes);
    }
    return parts.join(" · ");
  }

  // a product's title into ``node``: a link to its page (its click counted) when it has one
  function productTitle(node, item, linkClass) {
    var link = safeUrl(item.url);
    if (!link) {
      node.textContent = item.title;
      return;
    }
    var a = el("a", linkClass, item.title);
    a.href = link;
    a.target = "_blank";
    a.rel = "noopener noreferrer";
    a.addEventListener("click", function () { sendEvent("click", item.id); });
    node.appendChild(a);
  }

  function productCard(item, index, count) {
    var card = el("li", "aisle-card");
    card.dataset.productId = item.id;
    card.setAttribute("aria-label", (index + 1) + " of " + count + ": " + item.title);
    var img = safeUrl(item.image_url);
    if (img) {
      var image = el("img", "aisle-card-img");
      image.src = img;
      image.alt = "";
      image.loading = "lazy";
      image.width = 176;
      image.height = 120;
      card.appendChild(image);
    }
    var heading = el("h3", "aisle-card-title");
    productTitle(heading, item, "aisle-card-link");
    card.appendChild(heading);
    var price = formatPrice(item.price, item.currency);
    if (price) card.appendChild(el("p", "aisle-card-price", price));
    var about = facts(item);
    if (about) card.appendChild(el("p", "aisle-card-facts", about));
    var why = explanationParts(item);
    if (why.met.length || why.unmet.length) {
      var box = el("div", "aisle-card-why");
      if (why.met.length) {
        var shown = why.met.slice(0, 3).join(" · ") + (why.met.length > 3 ? " +" + (why.met.length - 3) : "");
        var met = el("p", "aisle-why-met");
        met.append(el("span", "aisle-why-icon", "✓"), el("span", "aisle-visually-hidden", "Matches: "),
                   document.createTextNode(" " + shown));
        box.appendChild(met);
      }
      if (why.unmet.length) {
        var more = why.unmet.length > 1 ? " (+" + (why.unmet.length - 1) + " more)" : "";
        var unmet = el("p", "aisle-why-unmet", "Differs: " + why.unmet[0] + more);
        unmet.title = why.unmet.join("; ");
        box.appendChild(unmet);
      }
      card.appendChild(box);
    }
    var actions = el("div", "aisle-card-actions");
    actions.setAttribute("role", "group");
    actions.setAttribute("aria-label", "Actions for " + item.title);
    var payloadArg = JSON.stringify({ product_id: item.id });
    var add = button("aisle-card-btn aisle-add_to_cart", "Add to cart", "Add to cart: " + item.title);
    add.addEventListener("click", function () { addToCart(item, card, add); });
    actions.appendChild(add);
    [
      ["More like this", "like", "/more_like_this" + payloadArg],
      ["Not for me", "dislike", "/reject_product" + payloadArg]
    ].forEach(function (spec) {
      var btn = button("aisle-card-btn aisle-" + spec[1], spec[0], spec[0] + ": " + item.title);
      btn.addEventListener("click", function () {
        sendEvent(spec[1], item.id);
        sendMessage(spec[2], spec[0] + ": " + item.title);
      });
      actions.appendChild(btn);
    });
    card.appendChild(actions);
    return card;
  }

  // --- add to cart: a product with several sizes or colours asks which first -----------------------
  function options(list) {
    return Array.isArray(list) ? list.map(String).filter(Boolean) : [];
  }
  function sendAdd(item, size, color) {
    var payload = { product_id: item.id };
    if (size) payload.size = size;
    if (color) payload.color = color;
    var chosen = [size, color].filter(Boolean).join(", ");
    sendEvent("add_to_cart", item.id);
    return sendMessage("/add_to_cart" + JSON.stringify(payload), "Add to cart: " + item.title + (chosen ? " (" + chosen + ")" : ""));
  }
  function addToCart(item, card, add) {
    var sizes = options(item.sizes), colors = options(item.colors);
    if (sizes.length <= 1 && colors.length <= 1) { sendAdd(item, sizes[0], colors[0]); return; }
    var open = card.querySelector(".aisle-choose");
    if (open) { closeChooser(open, add); return; }
    var chooser = chooserFor(item, sizes, colors, add);
    card.appendChild(chooser);
    add.setAttribute("aria-expanded", "true");
    add.setAttribute("aria-controls", chooser.id);
    var first = chooser.querySelector("select");
    if (first) first.focus();
    chooser.scrollIntoView({ block: "nearest" });
  }
  function closeChooser(chooser, add) {
    chooser.remove();
    add.setAttribute("aria-expanded", "false");
    add.focus();
  }
  // one labelled <select> per choice with several values; a single value is chosen already
  function choice(label, values, id) {
    var wrap = el("div", "aisle-choice");
    var name = el("label", "aisle-choice-label", label);
    name.htmlFor = id;
    var select = el("select", "aisle-select");
    select.id = id;
    if (values.length > 1) {
      var none = el("option", "", "Choose…");
      none.value = "";
      select.appendChild(none);
    }
    values.forEach(function (v) { var o = el("option", "", v); o.value = v; select.appendChild(o); });
    wrap.append(name, select);
    return { node: wrap, select: select, label: label.toLowerCase() };
  }
  function chooserFor(item, sizes, colors, add) {
    var id = "aisle-choose-" + (++state.uid);
    var box = el("div", "aisle-choose");
    box.id = id;
    box.setAttribute("role", "group");
    box.setAttribute("aria-label", "Choose for " + item.title);
    var picks = [];
    if (sizes.length) picks.push(["size", choice("Size", sizes, id + "-size")]);
    if (colors.length) picks.push(["color", choice("Colour", colors, id + "-color")]);
    picks.forEach(function (p) { box.appendChild(p[1].node); });
    var problem = el("p", "aisle-choose-error", "");
    problem.id = id + "-error";
    problem.setAttribute("aria-live", "polite");
    var confirm = button("aisle-card-btn aisle-choose-add", "Add", "Add " + item.title + " to cart");
    var cancel = button("aisle-card-btn aisle-choose-cancel", "Cancel", "Cancel adding " + item.title);
    var row = el("div", "aisle-choose-actions");
    row.append(confirm, cancel);
    box.append(problem, row);
    confirm.addEventListener("click", function () {
      var chosen = {}, missing = null;
      picks.forEach(function (p) {
        var value = p[1].select.value;
        p[1].select.setAttribute("aria-invalid", String(!value));
        if (value) p[1].select.removeAttribute("aria-describedby");
        else { p[1].select.setAttribute("aria-describedby", problem.id); missing = missing || p[1]; }
        chosen[p[0]] = value;
      });
      if (missing) {
        problem.textContent = "Please choose a " + missing.label + ".";
        missing.select.focus();
        return;
      }
      closeChooser(box, add);
      sendAdd(item, chosen.size, chosen.color);
    });
    cancel.addEventListener("click", function () { closeChooser(box, add); });
    box.addEventListener("keydown", function (ev) {
      if (ev.key === "Escape") { ev.stopPropagation(); closeChooser(box, add); }
    });
    return box;
  }

  // --- mini cart: the newest cart payload, in the header button and its panel ----------------------
  function updateCart(msg) {
    var order = typeof msg.id === "number" ? msg.id : state.cartId + 1;
    if (order < state.cartId) return;  // an older cart (history and push can cross)
    state.cartId = order;
    var count = typeof msg.item_count === "number" ? msg.item_count : 0;
    cartCount.textContent = String(count);
    cartName.textContent = "Cart, " + count + (count === 1 ? " item" : " items");
    root.dataset.cartCount = String(count);
    cartPanel.textContent = "";
    var heading = el("h3", "aisle-cart-title", "Your cart");
    cartPanel.appendChild(heading);
    var lines = (msg.items || []).filter(function (i) { return i && i.title; });
    if (!lines.length) {
      cartPanel.appendChild(el("p", "aisle-cart-empty", "Your cart is empty."));
      return;
    }
    var list = el("ul", "aisle-cart-lines");
    lines.forEach(function (line) {
      var li = el("li", "aisle-cart-line");
      var what = el("span", "aisle-cart-what");
      what.appendChild(el("span", "aisle-cart-name", line.title));
      var variant = [line.size ? "Size " + line.size : "", line.color || ""].filter(Boolean).join(" · ");
      if (variant) what.appendChild(el("span", "aisle-cart-variant", variant));
      li.append(what, el("span", "aisle-cart-qty", "× " + (line.quantity || 1)),
                el("span", "aisle-cart-price", formatPrice(line.line_total, msg.currency)));
      list.appendChild(li);
    });
    var total = el("p", "aisle-cart-total");
    total.append(el("span", "", "Total"), el("strong", "", formatPrice(msg.total, msg.currency)));
    cartPanel.append(list, total);
  }
  function toggleCart(open) {
    cartPanel.hidden = !open;
    cartBtn.setAttribute("aria-expanded", String(open));
    if (open && !cartPanel.firstChild) updateCart({ items: [], item_count: 0 });
  }
  cartBtn.addEventListener("click", function () { toggleCart(cartPanel.hidden); });

  // --- comparison: a real table, scrolling inside itself on a narrow screen ------------------------
  function comparisonTable(msg) {
    var items = msg.items.filter(function (i) { return i && i.title; });
    var names = items.map(function (i) { return i.title; });
    var wrap = el("div", "aisle-compare");
    wrap.id = "aisle-compare-" + (++state.uid);
    wrap.setAttribute("role", "region");
    wrap.setAttribute("aria-labelledby", wrap.id + "-caption");
    wrap.tabIndex = 0;  // it scrolls sideways on a phone: the keyboard can scroll it too
    var table = el("table", "aisle-compare-table");
    var caption = el("caption", "aisle-compare-caption", "Comparing " + names.join(" and "));
    caption.id = wrap.id + "-caption";
    table.appendChild(caption);
    var head = el("thead");
    var top = el("tr");
    var corner = el("td", "aisle-compare-corner");
    top.appendChild(corner);
    items.forEach(function (item) {
      var th = el("th", "aisle-compare-product");
      th.scope = "col";
      productTitle(th, item, "aisle-compare-link");
      top.appendChild(th);
    });
    head.appendChild(top);
    table.appendChild(head);
    var body = el("tbody");
    (msg.rows || []).forEach(function (row) {
      if (!row || !row.label || !Array.isArray(row.values)) return;
      var tr = el("tr");
      var th = el("th", "aisle-compare-label", row.label);
      th.scope = "row";
      tr.appendChild(th);
      items.forEach(function (_, i) { tr.appendChild(el("td", "", row.values[i] === undefined ? "" : row.values[i])); });
      body.appendChild(tr);
    });
    table.appendChild(body);
    wrap.appendChild(table);
    return wrap;
  }

  // a row of cards with arrows and scroll-snap; the arrows scroll by one card
  function carousel(items) {
    var wrap = el("div", "aisle-carousel");
    var list = el("ul", "aisle-cards");
    list.setAttribute("aria-label", items.length + " suggested products");
    items.forEach(function (item, i) { list.appendChild(productCard(item, i, items.length)); });
    var prev = button("aisle-arrow aisle-prev", "‹", "Previous products");
    var next = button("aisle-arrow aisle-next", "›", "Next products");
    var hint = el("p", "aisle-carousel-hint", "");
    hint.setAttribute("aria-hidden", "true");
    function step(direction) {
      var card = list.querySelector(".aisle-card");
      var width = card ? card.getBoundingClientRect().width + 10 : 200;
      list.scrollBy({ left: direction * width, behavior: "smooth" });
    }
    function update() {
      var max = list.scrollWidth - list.clientWidth;
      var scrollable = max > 4;
      wrap.classList.toggle("aisle-scrollable", scrollable);
      prev.disabled = !scrollable || list.scrollLeft <= 4;
      next.disabled = !scrollable || list.scrollLeft >= max - 4;
      if (scrollable) {
        var card = list.querySelector(".aisle-card");
        var width = card ? card.getBoundingClientRect().width + 10 : 200;
        var first = Math.round(list.scrollLeft / width) + 1;
        var visible = Math.max(1, Math.floor((list.clientWidth + 10) / width));
        hint.textContent = first + "–" + Math.min(items.length, first + visible - 1) + " of " + items.length + " · swipe or use the arrows";
      } else {
        hint.textContent = "";
      }
    }
    prev.addEventListener("click", function () { step(-1); });
    next.addEventListener("click", function () { step(1); });
    list.addEventListener("scroll", function () { window.requestAnimationFrame(update); }, { passive: true });
    list.addEventListener("focusin", function (ev) {  // Tab into a card: bring it into view
      var card = ev.target.closest && ev.target.closest(".aisle-card");
      // not on a pointer's focus: moving the card between press and release would lose the click
      if (card && ev.target.matches(":focus-visible")) card.scrollIntoView({ block: "nearest", inline: "nearest" });
    });
    if (window.ResizeObserver) new ResizeObserver(update).observe(list);
    setTimeout(update, 0);
    wrap.append(prev, list, next, hint);
    return wrap;
  }

  // only the newest set of products and of suggested replies stays in the tab order
  function retire(kind) {
    var sets = log.querySelectorAll(kind);
    for (var i = 0; i < sets.length - 1; i++) {
      if (sets[i].dataset.stale) continue;
      sets[i].dataset.stale = "1";
      // its links and buttons, and its scroller (Chromium makes a scroller without focusable children focusable)
      sets[i].querySelectorAll("a, button, select, .aisle-cards").forEach(function (n) { n.tabIndex = -1; });
      if (sets[i].tabIndex === 0) sets[i].tabIndex = -1;  // a comparison's own scroller
    }
  }

  function greet() {
    if (log.querySelector(".aisle-item")) return;
    log.textContent = "";
    var hello = bubble("bot", GREETING, "aisle-greeting");
    log.appendChild(hello);
    if (!SUGGESTIONS.length) return;
    var chips = el("div", "aisle-buttons aisle-suggestions");
    chips.setAttribute("role", "group");
    chips.setAttribute("aria-label", "Suggestions");
    SUGGESTIONS.forEach(function (text) {
      var chip = button("aisle-quick aisle-chip", text);
      chip.addEventListener("click", function () { sendMessage(text); input.focus(); });
      chips.appendChild(chip);
    });
    log.appendChild(chips);
  }
  function dropSuggestions() {
    var chips = log.querySelector(".aisle-suggestions");
    if (chips) chips.remove();
  }

  function render(msg) {
    if (!msg || typeof msg !== "object") return;
    if (msg.id && log.querySelector('[data-message-id="' + String(msg.id).replace(/\D/g, "") + '"]')) return;
    var sender = msg.sender || "bot";
    var node = null;
    if (msg.type === "text") {
      var shown = sender === "shopper" && msg.display ? msg.display : msg.text;
      node = bubble(sender, shown, msg.fallback ? "aisle-fallback" : "", msg.agent);
      if (sender === "agent") { hideTyping(); if (msg.agent) node.dataset.agent = msg.agent; }
    } else if (msg.type === "buttons" && Array.isArray(msg.buttons)) {
      node = el("div", "aisle-buttons");
      node.setAttribute("role", "group");
      node.setAttribute("aria-label", "Suggested replies");
      msg.buttons.forEach(function (b) {
        var btn = button("aisle-quick", b.title);
        btn.addEventListener("click", function () { sendMessage(String(b.payload), String(b.title)); });
        node.appendChild(btn);
      });
    } else if (msg.type === "products" && Array.isArray(msg.items)) {
      node = el("div", "aisle-products");
      if ((msg.relaxed || []).length) {
        node.appendChild(el("p", "aisle-relaxed", "Widened the search: " + msg.relaxed.join("; ")));
      }
      node.appendChild(carousel(msg.items.filter(function (item) { return item && item.id; })));
    } else if (msg.type === "cart") {
      updateCart(msg);
      return;
    } else if (msg.type === "comparison" && Array.isArray(msg.items) && msg.items.length >= 2) {
      node = comparisonTable(msg);
    } else if (msg.type === "handoff") {
      setStatus(msg.status, msg.agent);
      var text = msg.status === "agent" && msg.agent ? msg.agent + " from the shop team joined the chat." : STATUS_TEXT[msg.status];
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
      var pending = log.querySelector(".aisle-pending");
      // replies pushed while later messages still wait to be sent go above those
      if (sender !== "shopper" && pending && state.outbox.length) log.insertBefore(node, pending);
      else log.appendChild(node);
      if (msg.type === "products") retire(".aisle-products");
      if (msg.type === "comparison") retire(".aisle-compare");
      if (msg.type === "buttons") retire(".aisle-buttons:not(.aisle-suggestions)");
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
          err.retryAfter = data.retry_after;
          throw err;
        }
        return data;
      });
    }, function () {
      var err = new Error("You seem to be offline.");
      err.status = 0;
      throw err;
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
          greet();
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
      var queued = Array.prototype.slice.call(log.querySelectorAll(".aisle-pending"));
      log.textContent = "";
      (data.messages || []).forEach(function (m) {
        if (m.type === "handoff" && m.status === "agent" && m.agent) state.agentName = m.agent;
        render(m);
      });
      queued.forEach(function (n) { log.appendChild(n); });
      setStatus(data.status === "closed" ? "bot" : data.status);
      if (!(data.messages || []).length && !queued.length) greet();
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
      if (msg.type === "typing") { if (msg.sender === "agent") agentTyping(msg.agent || state.agentName); return; }
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

  // --- sending: every message is queued, shown at once, sent in order, never dropped ----------------
  function markState(entry, text, cls) {
    entry.node.classList.remove("aisle-pending", "aisle-failed");
    if (cls) entry.node.classList.add(cls);
    var label = entry.node.querySelector(".aisle-msg-state");
    if (!text) { if (label) label.remove(); return; }
    if (!label) { label = el("span", "aisle-msg-state"); entry.node.appendChild(label); }
    label.textContent = text;
  }

  function sendMessage(text, display) {
    text = String(text || "").trim();
    if (!text) return Promise.resolve();
    showNotice("");
    dropSuggestions();
    var entry = { text: text, display: display, node: bubble("shopper", display || text, "aisle-item") };
    log.appendChild(entry.node);
    markState(entry, state.sending || state.outbox.length ? "Queued" : "Sending…", "aisle-pending");
    scrollDown();
    return new Promise(function (resolve) {
      entry.done = resolve;
      state.outbox.push(entry);
      pump();
    });
  }

  function pump() {
    if (state.sending || !state.outbox.length) return;
    var entry = state.outbox[0];
    state.sending = true;
    markState(entry, "Sending…", "aisle-pending");
    if (state.status === "bot") showTyping("Assistant");
    ensureConversation()
      .then(function () {
        var body = { text: entry.text };
        if (entry.display && entry.display !== entry.text) body.display = entry.display;
        return api("/api/conversations/" + encodeURIComponent(state.id) + "/messages", { method: "POST", body: body });
      })
      .then(function (data) {
        state.outbox.shift();
        markState(entry, "", "");
        (data.messages || []).forEach(render);
        entry.done();
      }, function (err) {
        if (err.status === 429) { // too fast: try the same message again after the pause
          markState(entry, "Waiting a moment…", "aisle-pending");
          return new Promise(function (r) { setTimeout(r, Math.max(1, err.retryAfter || 2) * 1000); });
        }
        state.outbox.shift();
        if (err.status >= 400 && err.status < 500) { // refused: back into the input box
          entry.node.remove();
          if (!entry.display && !input.value) input.value = entry.text;
          showNotice(err.message || "Your message could not be sent.");
        } else { // offline or a server error: kept, with a retry button
          markState(entry, "Not sent. ", "aisle-failed");
          var retry = button("aisle-retry", "Retry", "Retry sending: " + (entry.display || entry.text));
          retry.addEventListener("click", function () {
            retry.remove();
            markState(entry, "Queued", "aisle-pending");
            state.outbox.push(entry);
            pump();
          });
          entry.node.appendChild(retry);
          showNotice(err.message || "Your message could not be sent.");
        }
        entry.done();
      })
      .then(function () {
        state.sending = false;
        hideTyping();
        var next = state.outbox[0];
        if (next) pump();
      });
  }

  // the agent sees "shopper is typing" (at most one signal every 2 s, only while an agent holds it)
  input.addEventListener("input", function () {
    if (state.status !== "agent" || !state.ws || state.ws.readyState !== 1 || !input.value) return;
    var now = Date.now();
    if (now - state.lastTypingSent < 2000) return;
    state.lastTypingSent = now;
    try { state.ws.send(JSON.stringify({ type: "typing" })); } catch (e) { /* reconnecting */ }
  });

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

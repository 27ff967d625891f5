/* 网上户籍室 chat widget. Embed with:
     <div id="huji-chat" style="height:600px"></div>
     <script src="https://<hall service>/chat/widget.js" defer></script>
   Plain JavaScript, no build step, nothing loaded from elsewhere. Every text, the citizen's and the catalog's, is
   put in with textContent; links are built as elements from http(s) addresses only, never as HTML. */
(function () {
  "use strict";

  var script = document.currentScript || document.querySelector('script[src*="widget.js"]');
  var BASE = new URL(".", script ? script.src : location.href).href; // …/chat/
  var API = BASE + "api/";
  var KEY_SENDER = "huji-chat-sender";
  var KEY_ELDER = "huji-chat-elder";
  var ELDER_CHOICES = 3; // 长辈版: at most this many choices at once, then 更多
  var TIMEOUT_MS = 65000;
  var OFFLINE = "无法连接到服务，请检查网络后再试。";
  var URL_RE = /https?:\/\/[^\s，。；！？、（）()「」"'<>]+/g;
  var LIST_RE = /^\s*(\d+[.、．]|[（(]\d+[)）]|[-•·●▪✓✔☐□]|[一二三四五六七八九十]+、)/;

  var memory = {};
  function stored(key, value) {
    try {
      if (value === undefined) return localStorage.getItem(key);
      if (value === null) localStorage.removeItem(key); else localStorage.setItem(key, value);
    } catch (e) { // storage switched off: keep it for this page only
      if (value === undefined) return memory[key] || null;
      memory[key] = value;
    }
    return null;
  }

  function newSender() {
    var bytes = new Uint8Array(16);
    crypto.getRandomValues(bytes); // works without https too, unlike randomUUID
    return "web-" + Array.prototype.map.call(bytes, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  }

  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function button(cls, text, onClick) {
    var b = el("button", cls, text);
    b.type = "button";
    b.addEventListener("click", onClick);
    return b;
  }

  // --- mount ---------------------------------------------------------------------------------------------
  var root = document.getElementById("huji-chat");
  if (!root) {
    root = el("div");
    root.id = "huji-chat";
    root.style.height = "600px";
    (document.body || document.documentElement).appendChild(root);
  }
  if (!document.querySelector("link[data-huji-chat]")) {
    var css = el("link");
    css.rel = "stylesheet";
    css.href = BASE + "widget.css";
    css.setAttribute("data-huji-chat", "");
    document.head.appendChild(css);
  }
  root.classList.add("huji-chat");
  root.setAttribute("lang", "zh-CN");

  var bar = el("div", "huji-bar");
  var title = el("div", "huji-title", "网上户籍室 · 智能咨询");
  title.setAttribute("role", "heading");
  title.setAttribute("aria-level", "1");
  var elderSwitch = button("huji-elder-toggle", "长辈版 大字", function () { setElder(!elder, true); });
  elderSwitch.setAttribute("role", "switch");
  var restart = button("huji-restart", "重新开始", function () { startOver(); });
  bar.append(title, elderSwitch, restart);

  var log = el("div", "huji-log");
  log.setAttribute("role", "log");
  log.setAttribute("aria-live", "polite");
  log.setAttribute("aria-label", "对话记录");
  log.tabIndex = 0;

  var status = el("div", "huji-status");
  status.setAttribute("role", "status");

  var form = el("form", "huji-form");
  var inputId = "huji-input-" + Math.random().toString(36).slice(2);
  var label = el("label", "huji-sr", "输入您的问题");
  label.htmlFor = inputId;
  var input = el("input", "huji-input");
  input.id = inputId;
  input.type = "text";
  input.maxLength = 1000;
  input.autocomplete = "off";
  input.placeholder = "请输入您要办的事";
  input.setAttribute("enterkeyhint", "send");
  var sendButton = el("button", "huji-send", "发送");
  sendButton.type = "submit";
  form.append(label, input, sendButton);
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var text = input.value.trim();
    if (!text || busy) return;
    input.value = "";
    say(text, text);
  });

  root.replaceChildren(bar, log, status, form);

  // --- elderly mode ----------------------------------------------------------------------------------------
  var elder = stored(KEY_ELDER) === "1";
  function setElder(on, user) {
    elder = on;
    stored(KEY_ELDER, on ? "1" : "0");
    root.classList.toggle("huji-elder", on);
    elderSwitch.setAttribute("aria-checked", on ? "true" : "false");
    elderSwitch.textContent = on ? "长辈版 已开启" : "长辈版 大字";
    log.querySelectorAll(".huji-choices").forEach(limit);
    var answers = log.querySelectorAll(":scope > .huji-bot");
    if (user && answers.length) reveal(answers[answers.length - 1]); // the text grew: keep the answer in view
  }

  /* 长辈版 shows at most ELDER_CHOICES choices of a group; 更多 shows the next ones. */
  function limit(group) {
    var choices = group.querySelectorAll(".huji-choice");
    var shown = elder ? Number(group.dataset.shown || ELDER_CHOICES) : choices.length;
    choices.forEach(function (c, i) { c.hidden = i >= shown; });
    var more = group.querySelector(".huji-more");
    var rest = choices.length - shown;
    if (rest > 0) {
      if (!more) {
        more = button("huji-more", "", function () {
          group.dataset.shown = String(Number(group.dataset.shown || ELDER_CHOICES) + ELDER_CHOICES);
          limit(group);
          var next = group.querySelectorAll(".huji-choice")[Number(group.dataset.shown) - ELDER_CHOICES];
          if (next) next.focus();
        });
        group.appendChild(more);
      }
      more.textContent = "更多（还有 " + rest + " 项）";
      more.disabled = group.classList.contains("huji-spent");
    } else if (more) {
      more.remove();
    }
  }

  // --- rendering ---------------------------------------------------------------------------------------------
  function appendInline(node, line) {
    var last = 0;
    line.replace(URL_RE, function (url, at) {
      var before = line.slice(last, at);
      // "网页版：URL" becomes a link named 网页版: the words before the colon, back to the sentence's start
      var named = before.match(/([^\s：:。；！？][^：:。；！？]{0,29})[：:]\s*$/);
      var words = named ? named[1].replace(/^[^\p{L}\p{N}《「（(]+/u, "") : "";
      var link = el("a", "huji-newtab", words || "打开链接");
      if (words) before = before.slice(0, before.length - named[0].length) + named[1].slice(0, named[1].length - words.length);
      link.href = url;
      link.target = "_blank";
      link.rel = "noopener noreferrer";
      link.title = url;
      link.appendChild(el("span", "huji-sr", "（在新窗口打开）"));
      node.append(before, link);
      last = at + url.length;
      return url;
    });
    node.append(line.slice(last));
  }

  function renderText(text) {
    var box = el("div", "huji-text");
    String(text).split("\n").forEach(function (line) {
      if (!line.trim()) { box.appendChild(el("div", "huji-gap")); return; }
      var row = el("p", "huji-line");
      if (LIST_RE.test(line)) row.classList.add("huji-li");
      else if (/^\s{2,}/.test(line)) row.classList.add("huji-indent");
      else if (/[：:]$/.test(line.trim()) && line.length <= 30) row.classList.add("huji-head");
      appendInline(row, line.trim());
      box.appendChild(row);
    });
    return box;
  }

  function choices(list, label) {
    var group = el("div", "huji-choices");
    group.setAttribute("role", "group");
    group.setAttribute("aria-label", label || "可选项");
    (list || []).forEach(function (b) {
      if (!b || !b.title) return;
      var choice = button("huji-choice", b.title, function () {
        if (!busy && !choice.disabled) say(b.payload || b.title, b.title);
      });
      group.appendChild(choice);
    });
    if (group.children.length) limit(group);
    return group;
  }

  function bubble(parent, content) {
    var b = el("div", "huji-bubble");
    b.appendChild(content);
    parent.appendChild(b);
    return b;
  }

  function row(dl, name, value) {
    if (!value) return;
    dl.append(el("dt", null, name), el("dd", null, value));
  }

  function hallCard(h) {
    var card = el("article", "huji-card huji-hall");
    card.setAttribute("aria-label", h.name);
    var head = el("h3", null, h.number + ". " + h.name);
    card.appendChild(head);
    var dl = el("dl");
    row(dl, "地址", h.address);
    if (h.phone) {
      var phone = el("a", null, h.phone);
      phone.href = "tel:" + String(h.phone).replace(/[^\d+]/g, "");
      var dd = el("dd");
      dd.appendChild(phone);
      dl.append(el("dt", null, "电话"), dd);
    }
    row(dl, "开放时间", h.hours);
    card.appendChild(dl);
    var q = h.queue || {};
    var kind = !q.open_now ? "closed" : q.status === "live" ? "live" : q.status === "stale" ? "stale" : "none";
    var queue = el("p", "huji-queue huji-queue-" + kind, q.text || "暂无实时排队数据。");
    if (q.simulated) queue.appendChild(el("span", "huji-badge", "模拟数据"));
    if (q.status === "stale") queue.appendChild(el("span", "huji-badge", "数据未更新"));
    card.appendChild(queue);
    if (h.booking_note) card.appendChild(el("p", "huji-card-note", h.booking_note));
    var offers = (h.slots || []).slice();
    if (h.book) offers.push({ title: "更多时段 / 预约这个大厅", payload: h.book.payload });
    if (offers.length) {
      if (h.slots && h.slots.length) card.appendChild(el("p", "huji-caption", "最近可预约（点选即可预约）："));
      card.appendChild(choices(offers, h.name + " 可预约时段"));
    }
    if (h.note) card.appendChild(el("p", "huji-card-note", "提示：" + h.note));
    return card;
  }

  function bookingCard(c) {
    var card = el("article", "huji-card huji-booking" + (c.status === "confirm" ? " huji-confirm" : ""));
    card.appendChild(el("h3", null, (c.status === "booked" ? "✔ " : "") + (c.title || "")));
    if (c.code) {
      card.appendChild(el("div", "huji-sr", "预约码"));
      card.appendChild(el("div", "huji-code", c.code));
    }
    var dl = el("dl");
    (c.rows || []).forEach(function (r) { if (r.label !== "预约码") row(dl, r.label, r.value); });
    card.appendChild(dl);
    if (c.note) card.appendChild(el("p", "huji-card-note", c.note));
    return card;
  }

  function showBot(m) {
    var wrap = el("div", "huji-msg huji-bot");
    wrap.appendChild(el("span", "huji-who", "助手："));
    var c = m.custom && typeof m.custom === "object" ? m.custom : null;
    if (c && c.type === "halls" && Array.isArray(c.halls)) {
      if (c.intro) bubble(wrap, renderText(c.intro));
      var cards = el("div", "huji-cards");
      c.halls.forEach(function (h) { cards.appendChild(hallCard(h)); });
      wrap.appendChild(cards);
      if (c.note) bubble(wrap, renderText(c.note));
    } else if (c && c.type === "booking") {
      var box = el("div", "huji-cards");
      box.appendChild(bookingCard(c));
      wrap.appendChild(box);
      if (m.buttons && m.buttons.length) wrap.appendChild(choices(m.buttons));
    } else {
      if (m.text) bubble(wrap, renderText(m.text));
      if (m.buttons && m.buttons.length) wrap.appendChild(choices(m.buttons));
    }
    log.appendChild(wrap);
    return wrap;
  }

  function showUser(text) {
    var wrap = el("div", "huji-msg huji-user");
    wrap.appendChild(el("span", "huji-who", "我："));
    bubble(wrap, document.createTextNode(text));
    log.appendChild(wrap);
    return wrap;
  }

  /* Choices of earlier turns are answered: only the newest answer's choices stay clickable. */
  function spendChoices(keep) {
    log.querySelectorAll(".huji-choices").forEach(function (g) {
      if (keep && keep.contains(g)) return;
      g.classList.add("huji-spent");
      g.querySelectorAll("button").forEach(function (b) { b.disabled = true; });
    });
  }

  function reveal(node) {
    if (!node) return;
    log.scrollTop = Math.max(0, node.offsetTop - log.offsetTop - 8); // the answer's start, not the log's end
  }

  var typing = el("div", "huji-typing");
  var dots = el("span", "huji-dots");
  dots.setAttribute("aria-hidden", "true");
  dots.append(el("span"), el("span"), el("span"));
  typing.append(el("span", null, "助手正在回复"), dots);

  function setBusy(on) {
    busy = on;
    sendButton.disabled = on;
    status.replaceChildren(on ? typing : "");
    root.setAttribute("aria-busy", on ? "true" : "false");
  }

  function showError(message, retry) {
    var wrap = el("div", "huji-msg huji-bot huji-error");
    wrap.setAttribute("role", "alert");
    bubble(wrap, el("div", "huji-text", message || OFFLINE));
    wrap.appendChild(button("huji-retry", "重试", function () { wrap.remove(); retry(); }));
    log.appendChild(wrap);
    reveal(wrap);
  }

  // --- talking to the service --------------------------------------------------------------------------------
  function call(path, body) {
    var abort = typeof AbortController === "function" ? new AbortController() : null;
    var timer = abort ? setTimeout(function () { abort.abort(); }, TIMEOUT_MS) : null;
    var options = { method: body ? "POST" : "GET", headers: { Accept: "application/json" }, cache: "no-store",
                    signal: abort ? abort.signal : undefined };
    if (body) {
      options.headers["Content-Type"] = "application/json";
      options.body = JSON.stringify(body);
    }
    return fetch(API + path, options).then(function (answer) {
      return answer.json().catch(function () { return {}; }).then(function (data) {
        if (!answer.ok) throw new Error((data && data.error && data.error.message) || OFFLINE);
        return data;
      });
    }, function () { throw new Error(OFFLINE); }).finally(function () { if (timer) clearTimeout(timer); });
  }

  var busy = false;
  var sender = stored(KEY_SENDER);
  if (!sender || !/^web-[0-9a-f]{32}$/.test(sender)) {
    sender = newSender();
    stored(KEY_SENDER, sender);
  }

  function post(payload) {
    setBusy(true);
    return call("message", { sender: sender, message: payload }).then(function (data) {
      var first = null;
      (data.messages || []).forEach(function (m) { var shown = showBot(m); first = first || shown; });
      if (!first) first = showBot({ text: "抱歉，我没有理解，请换个说法再试一次。" });
      reveal(first);
    }, function (error) {
      showError(error.message, function () { post(payload); });
    }).finally(function () { setBusy(false); });
  }

  function say(payload, shown) {
    spendChoices(null);
    reveal(showUser(shown));
    return post(payload);
  }

  function load() {
    setBusy(true);
    return call("history?sender=" + encodeURIComponent(sender)).then(function (data) {
      setBusy(false);
      var history = data.messages || [];
      if (!history.length) return post("/greet");
      var last = null;
      history.forEach(function (m) { last = m.from === "user" ? showUser(m.text) : showBot(m); });
      spendChoices(last && last.classList.contains("huji-bot") ? last : null);
      log.scrollTop = log.scrollHeight;
    }, function (error) {
      setBusy(false);
      showError(error.message, load);
    });
  }

  function startOver() {
    if (busy) return;
    sender = newSender();
    stored(KEY_SENDER, sender);
    log.replaceChildren();
    post("/greet");
    input.focus();
  }

  setElder(elder);
  load();
})();

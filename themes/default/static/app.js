// Progressive enhancement only: every feature here also works without JavaScript.
(function () {
  "use strict";

  // Voting without a page reload. The vote form posts as usual (with its CSRF token), but
  // through fetch asking for JSON; the score and the pressed state of both buttons are then
  // updated in place. A refusal is read out from a live region next to the buttons.
  function setupVoting(form) {
    var box = form.closest(".vote-box") || form.parentNode;
    var live = document.createElement("p");
    live.className = "vote-error";
    live.setAttribute("aria-live", "polite");
    box.appendChild(live);
    // The message covers part of the post: a click on it, or Escape, puts it away.
    live.addEventListener("click", function () { live.textContent = ""; });
    box.addEventListener("keydown", function (event) {
      if (event.key === "Escape") { live.textContent = ""; }
    });
    var busy = false;

    function showState(score, vote) {
      var output = form.querySelector("output.score");
      if (output && typeof score === "number") { output.textContent = score; }
      form.querySelectorAll("button[name=value]").forEach(function (button) {
        var pressed = (button.value === "up" && vote === 1) || (button.value === "down" && vote === -1);
        button.classList.toggle("active", pressed);
        button.setAttribute("aria-pressed", pressed ? "true" : "false");
      });
    }

    // The plain post, for when fetch is missing or the answer is not the JSON we expect
    // (a login page, a rate-limit page): the server then answers with a full page.
    function submitPlainly(value) {
      var hidden = document.createElement("input");
      hidden.type = "hidden";
      hidden.name = "value";
      hidden.value = value;
      form.appendChild(hidden);
      HTMLFormElement.prototype.submit.call(form);
    }

    form.addEventListener("submit", function (event) {
      var button = event.submitter;
      if (!button || button.name !== "value" || !window.fetch || !window.FormData) { return; }
      event.preventDefault();
      if (busy) { return; }
      busy = true;
      form.classList.add("busy");
      form.setAttribute("aria-busy", "true");
      live.textContent = "";

      var data = new FormData(form);
      data.set("value", button.value);
      fetch(form.action, {
        method: "POST",
        body: data,
        credentials: "same-origin",
        headers: { "Accept": "application/json", "X-Requested-With": "fetch" }
      }).then(function (response) {
        var type = response.headers.get("Content-Type") || "";
        if (type.indexOf("application/json") === -1) { throw new Error("not json"); }
        return response.json();
      }).then(function (body) {
        if (body.error) {
          // A refused vote leaves the member's earlier vote as it was: only the score is fresh.
          var output = form.querySelector("output.score");
          if (output && typeof body.score === "number") { output.textContent = body.score; }
          live.textContent = body.error;
        } else {
          showState(body.score, body.vote);
        }
      }).catch(function () {
        submitPlainly(button.value);
      }).then(function () {
        busy = false;
        form.classList.remove("busy");
        form.removeAttribute("aria-busy");
      });
    });
  }

  // Forms that destroy something ask first (data-confirm holds the translated question).
  function setupConfirm(form) {
    form.addEventListener("submit", function (event) {
      if (!window.confirm(form.getAttribute("data-confirm"))) {
        event.preventDefault();
        event.stopImmediatePropagation();
      }
    });
  }

  // Opening "Add a comment" puts the cursor in its text box.
  function setupCommentToggle(details) {
    details.addEventListener("toggle", function () {
      var textarea = details.querySelector("textarea");
      if (details.open && textarea) { textarea.focus(); }
    });
  }

  // The ask form's suggestions as the title is typed: a pause in typing (300 ms) fetches the
  // server-rendered panel for the title and kind, which replaces the panel's content. Without
  // JavaScript the same panel comes with step 2 of the form.
  var SIMILAR_MIN_CHARS = 8;
  var SIMILAR_DELAY_MS = 300;

  function setupSimilar(panel) {
    var title = document.getElementById("title");
    var url = panel.getAttribute("data-similar-url");
    if (!title || !title.form || !url || !window.fetch || !window.URLSearchParams) { return; }
    var form = title.form;
    var timer = null;
    var controller = null;
    // Each request gets a number; only the answer to the latest one is shown.
    var latest = 0;

    function kind() {
      var checked = form.querySelector("input[name=kind]:checked");
      return checked ? checked.value : "";
    }

    function words() {
      return title.value.trim().replace(/\s+/g, " ");
    }

    // What the panel shows now: the server already answered for the title it rendered.
    var shown = words() + "\n" + kind();

    function update() {
      var text = words();
      var wanted = text + "\n" + kind();
      if (text.length < SIMILAR_MIN_CHARS || wanted === shown) { return; }
      shown = wanted;
      var ticket = ++latest;
      if (controller) { controller.abort(); }
      controller = window.AbortController ? new AbortController() : null;
      var params = new URLSearchParams({
        title: text,
        kind: kind(),
        space: panel.getAttribute("data-space") || ""
      });
      panel.setAttribute("aria-busy", "true");
      fetch(url + (url.indexOf("?") === -1 ? "?" : "&") + params.toString(), {
        credentials: "same-origin",
        headers: { "Accept": "text/html", "X-Requested-With": "fetch" },
        signal: controller ? controller.signal : undefined
      }).then(function (response) {
        // A sign-in page or a rate-limit page is not a panel: keep the suggestions shown.
        if (!response.ok || response.redirected) { throw new Error("no panel"); }
        return response.text();
      }).then(function (html) {
        if (ticket === latest) { panel.innerHTML = html.trim(); }
      }).catch(function () {
        // Suggestions are a help, not a step: on failure the next keystroke tries again.
        if (ticket === latest) { shown = null; }
      }).then(function () {
        if (ticket === latest) { panel.removeAttribute("aria-busy"); }
      });
    }

    function later() {
      window.clearTimeout(timer);
      timer = window.setTimeout(update, SIMILAR_DELAY_MS);
    }

    title.addEventListener("input", later);
    form.querySelectorAll("input[name=kind]").forEach(function (radio) {
      radio.addEventListener("change", later);
    });
  }

  // @mentions: typing "@" and the start of a name in a post's text box offers matching
  // usernames (data-mention-suggest is the JSON endpoint). It follows the ARIA combobox
  // pattern, but the textarea keeps its own role (a combobox role would hide that it is a
  // multi-line text box): arrow keys move through the options (aria-activedescendant), Enter
  // or Tab inserts "@username ", Escape closes, a click inserts too. Without JavaScript the
  // "@username" is simply typed.
  var MENTION_DELAY_MS = 150;
  // "@" starting a word, then up to 32 characters of a name, right before the cursor (the
  // server's rules: an "@" after a letter, digit, "_", "-", ".", "@" or "/" is no mention).
  var MENTION_BEFORE_CURSOR = /(?:^|[^\p{L}\p{M}\p{Nd}_.\-@\/])@([\p{L}\p{M}\p{Nd}_.\-]{1,32})$/u;
  var mentionBoxes = 0;

  function setupMentions(textarea) {
    var url = textarea.getAttribute("data-mention-suggest");
    if (!url || !window.fetch || !window.URLSearchParams) { return; }
    var base = textarea.id || "mention-box-" + (++mentionBoxes);
    var list = document.createElement("ul");
    list.id = base + "-mentions";
    list.className = "mention-list";
    list.setAttribute("role", "listbox");
    list.setAttribute("aria-label", textarea.getAttribute("data-mention-label") || "");
    list.hidden = true;
    textarea.parentNode.classList.add("mention-host");
    textarea.insertAdjacentElement("afterend", list);
    textarea.setAttribute("aria-autocomplete", "list");
    textarea.setAttribute("aria-controls", list.id);
    textarea.setAttribute("aria-expanded", "false");

    var timer = null;
    var controller = null;
    var latest = 0;        // the number of the latest request: older answers are ignored
    var active = -1;       // the highlighted option, -1 for none
    var names = [];        // the usernames offered
    var start = -1;        // where the "@" being completed is in the text
    var dismissed = -1;    // the "@" whose list Escape closed: not offered again

    // The "@name" being typed: its start and the name so far, or null.
    function typedMention() {
      if (textarea.selectionStart !== textarea.selectionEnd) { return null; }
      var before = textarea.value.slice(0, textarea.selectionStart);
      var match = MENTION_BEFORE_CURSOR.exec(before);
      if (!match) { return null; }
      return { start: before.length - match[1].length - 1, prefix: match[1] };
    }

    // Forget the pending request: what it answers is for text that has changed since.
    function cancel() {
      latest++;
      window.clearTimeout(timer);
      if (controller) { controller.abort(); controller = null; }
    }

    function close() {
      cancel();
      list.hidden = true;
      list.textContent = "";
      names = [];
      active = -1;
      textarea.setAttribute("aria-expanded", "false");
      textarea.removeAttribute("aria-activedescendant");
    }

    function highlight(index) {
      active = index;
      Array.prototype.forEach.call(list.children, function (option, i) {
        option.setAttribute("aria-selected", i === index ? "true" : "false");
      });
      if (index < 0) {
        textarea.removeAttribute("aria-activedescendant");
      } else {
        textarea.setAttribute("aria-activedescendant", list.children[index].id);
        list.children[index].scrollIntoView({ block: "nearest" });
      }
    }

    function show(users) {
      list.textContent = "";
      names = [];
      users.forEach(function (user, i) {
        if (!user || typeof user.username !== "string") { return; }
        var option = document.createElement("li");
        option.id = base + "-mention-" + i;
        option.className = "mention-option";
        option.setAttribute("role", "option");
        option.setAttribute("aria-selected", "false");
        option.setAttribute("data-username", user.username);
        var avatar = document.createElement("span");
        avatar.className = "avatar avatar-sm avatar-c" + (parseInt(user.avatar_color, 10) || 0);
        avatar.setAttribute("aria-hidden", "true");
        avatar.textContent = user.initials || "";
        var name = document.createElement("span");
        name.textContent = user.username;
        option.appendChild(avatar);
        option.appendChild(name);
        list.appendChild(option);
        names.push(user.username);
      });
      if (!names.length) { close(); return; }
      // Under the text box, whatever else (help, errors) follows it in its field.
      list.style.top = (textarea.offsetTop + textarea.offsetHeight) + "px";
      list.style.left = textarea.offsetLeft + "px";
      list.hidden = false;
      textarea.setAttribute("aria-expanded", "true");
      highlight(-1);
    }

    function ask(prefix) {
      cancel();
      var ticket = latest;
      controller = window.AbortController ? new AbortController() : null;
      var query = new URLSearchParams({ q: prefix }).toString();
      fetch(url + (url.indexOf("?") === -1 ? "?" : "&") + query, {
        credentials: "same-origin",
        headers: { "Accept": "application/json", "X-Requested-With": "fetch" },
        signal: controller ? controller.signal : undefined
      }).then(function (response) {
        // A sign-in page or a rate-limit page offers nobody.
        var type = response.headers.get("Content-Type") || "";
        if (!response.ok || response.redirected || type.indexOf("application/json") === -1) {
          throw new Error("no suggestions");
        }
        return response.json();
      }).then(function (users) {
        if (ticket === latest && Array.isArray(users)) { show(users); }
      }).catch(function () {
        if (ticket === latest) { close(); }
      });
    }

    function update() {
      var typed = typedMention();
      if (!typed) { dismissed = -1; }
      if (!typed || typed.start === dismissed) { close(); return; }
      start = typed.start;
      cancel();
      timer = window.setTimeout(function () { ask(typed.prefix); }, MENTION_DELAY_MS);
    }

    function insert(username) {
      var caret = textarea.selectionStart;
      var text = "@" + username + " ";
      textarea.value = textarea.value.slice(0, start) + text + textarea.value.slice(caret);
      var end = start + text.length;
      textarea.setSelectionRange(end, end);
      close();
      textarea.focus();
    }

    textarea.addEventListener("input", update);
    textarea.addEventListener("keydown", function (event) {
      // While an input method composes a character, its keys are its own.
      if (list.hidden || event.isComposing) { return; }
      if (event.key === "ArrowDown" || event.key === "ArrowUp") {
        event.preventDefault();
        var next = event.key === "ArrowDown" ? active + 1 : (active < 0 ? names.length : active) - 1;
        highlight((next + names.length) % names.length);
      } else if ((event.key === "Enter" || event.key === "Tab") && active >= 0) {
        event.preventDefault();
        insert(names[active]);
      } else if (event.key === "Escape") {
        event.preventDefault();
        dismissed = start;
        close();
      }
    });
    // Moving the cursor elsewhere (a click, Home, End) may leave the name being typed.
    textarea.addEventListener("click", update);
    textarea.addEventListener("keyup", function (event) {
      if (event.key === "ArrowLeft" || event.key === "ArrowRight" || event.key === "Home" || event.key === "End") {
        update();
      }
    });
    textarea.addEventListener("blur", close);
    // Pressing on an option must not take the focus from the text box (which would close it).
    list.addEventListener("mousedown", function (event) { event.preventDefault(); });
    list.addEventListener("click", function (event) {
      var option = event.target.closest("[role=option]");
      if (option) { insert(option.getAttribute("data-username")); }
    });
  }

  function init() {
    var similar = document.getElementById("similar-topics");
    if (similar) { setupSimilar(similar); }
    document.querySelectorAll("form.vote-form").forEach(setupVoting);
    document.querySelectorAll("form[data-confirm]").forEach(setupConfirm);
    document.querySelectorAll("details.comment-form").forEach(setupCommentToggle);
    document.querySelectorAll("textarea[data-mention-suggest]").forEach(setupMentions);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();

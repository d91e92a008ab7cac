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

  function init() {
    var similar = document.getElementById("similar-topics");
    if (similar) { setupSimilar(similar); }
    document.querySelectorAll("form.vote-form").forEach(setupVoting);
    document.querySelectorAll("form[data-confirm]").forEach(setupConfirm);
    document.querySelectorAll("details.comment-form").forEach(setupCommentToggle);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();

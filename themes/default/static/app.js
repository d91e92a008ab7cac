// Progressive enhancement only: every feature here also works without JavaScript.
(function () {
  "use strict";

  // Voting without a page reload: the vote form posts as usual, but through fetch, and the
  // score and pressed states are updated in place from the JSON answer.
  function setupVoting(form) {
    var box = form.closest(".vote-box");
    var live = document.createElement("p");
    live.className = "vote-error";
    live.setAttribute("aria-live", "polite");
    box.appendChild(live);

    form.addEventListener("submit", function (event) {
      var button = event.submitter;
      if (!button || !window.fetch) { return; }
      event.preventDefault();
      var data = new FormData(form);
      data.set("value", button.value);
      live.textContent = "";
      fetch(form.action, {
        method: "POST",
        body: data,
        credentials: "same-origin",
        headers: { "Accept": "application/json" }
      }).then(function (response) {
        return response.json().then(function (body) { return { ok: response.ok, body: body }; });
      }).then(function (result) {
        if (!result.ok || result.body.error) {
          live.textContent = result.body.error || "";
          return;
        }
        form.querySelector(".score").textContent = result.body.score;
        form.querySelectorAll("button[name=value]").forEach(function (b) {
          var pressed = (b.value === "up" && result.body.vote === 1) ||
                        (b.value === "down" && result.body.vote === -1);
          b.classList.toggle("active", pressed);
          b.setAttribute("aria-pressed", pressed ? "true" : "false");
        });
      }).catch(function () {
        // Network trouble: fall back to the plain form post, keeping the chosen value.
        var hidden = document.createElement("input");
        hidden.type = "hidden";
        hidden.name = "value";
        hidden.value = button.value;
        form.appendChild(hidden);
        form.submit();
      });
    });
  }

  // Forms that destroy something ask first.
  function setupConfirm(form) {
    form.addEventListener("submit", function (event) {
      if (!window.confirm(form.getAttribute("data-confirm"))) { event.preventDefault(); }
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("form.vote-form").forEach(setupVoting);
    document.querySelectorAll("form[data-confirm]").forEach(setupConfirm);
  });
})();

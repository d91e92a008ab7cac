// The review queue, with JavaScript: "Select all" ticks every row, and keyboard shortcuts
// (j/k move between posts, x ticks the current one, h hides it). Without JavaScript every
// control works as a plain form.
(function () {
  "use strict";

  function init() {
    var list = document.querySelector(".mod-queue-list");
    var shortcuts = document.getElementById("queue-shortcuts");
    var all = document.getElementById("queue-select-all");
    var items = list ? Array.prototype.slice.call(list.querySelectorAll(".mod-item")) : [];
    var boxes = items.map(function (item) { return item.querySelector("input.mod-select"); });

    if (all) {
      all.addEventListener("change", function () {
        boxes.forEach(function (box) { if (box) { box.checked = all.checked; } });
      });
      boxes.forEach(function (box) {
        if (!box) { return; }
        box.addEventListener("change", function () {
          var checked = boxes.filter(function (b) { return b && b.checked; }).length;
          all.checked = checked === boxes.length;
          all.indeterminate = checked > 0 && checked < boxes.length;
        });
      });
    }
    if (!items.length) { return; }
    if (shortcuts) { shortcuts.hidden = false; }

    var current = -1;
    function focusItem(index) {
      if (index < 0 || index >= items.length) { return; }
      if (current >= 0) { items[current].classList.remove("mod-current"); }
      current = index;
      items[current].classList.add("mod-current");
      items[current].focus();
    }
    items.forEach(function (item, index) {
      item.addEventListener("focusin", function () {
        if (current >= 0 && current !== index) { items[current].classList.remove("mod-current"); }
        current = index;
        item.classList.add("mod-current");
      });
    });

    document.addEventListener("keydown", function (event) {
      if (event.altKey || event.ctrlKey || event.metaKey) { return; }
      var target = event.target;
      var tag = target && target.tagName;
      if (tag === "INPUT" && target.type !== "checkbox" || tag === "TEXTAREA" || tag === "SELECT" ||
          (target && target.isContentEditable)) {
        return;
      }
      var key = event.key;
      if (key === "j") {
        event.preventDefault();
        focusItem(current < 0 ? 0 : Math.min(current + 1, items.length - 1));
      } else if (key === "k") {
        event.preventDefault();
        focusItem(current < 0 ? 0 : Math.max(current - 1, 0));
      } else if (key === "x" && current >= 0) {
        event.preventDefault();
        var box = boxes[current];
        if (box) {
          box.checked = !box.checked;
          box.dispatchEvent(new Event("change", { bubbles: true }));
        }
      } else if (key === "h" && current >= 0) {
        var hide = items[current].querySelector("button.mod-hide");
        if (hide) {
          event.preventDefault();
          hide.click();
        }
      }
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();

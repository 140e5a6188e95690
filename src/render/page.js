(function () {
  "use strict";
  var text = document.getElementById("article-text");
  var tip = document.getElementById("tooltip");
  var clear = document.getElementById("clear-filter");
  var status = document.getElementById("filter-status");
  var buttons = Array.prototype.slice.call(document.querySelectorAll(".speaker-filter"));
  var allStatus = status ? status.textContent : "";
  var active = null;

  // The tooltip copies the server-made description node, so no input is ever parsed as HTML.
  function describe(element) {
    var source = document.getElementById(element.getAttribute("data-tip"));
    if (!source || !tip) return;
    var copy = source.cloneNode(true);
    copy.removeAttribute("id");
    tip.replaceChildren(copy);
    tip.hidden = false;
    var box = element.getBoundingClientRect();
    var width = document.documentElement.clientWidth;
    var left = Math.min(box.left, width - tip.offsetWidth - 8);
    tip.style.left = Math.max(4, left) + window.scrollX + "px";
    tip.style.top = box.bottom + window.scrollY + 6 + "px";
  }
  function hideTip() { if (tip) tip.hidden = true; }
  function go(id) {
    var target = document.getElementById(id);
    if (!target) return;
    target.focus({ preventScroll: true });
    target.scrollIntoView({ block: "center" });
    target.classList.add("flash");
    setTimeout(function () { target.classList.remove("flash"); }, 1200);
  }
  if (text) {
    text.addEventListener("mouseover", function (event) {
      var element = event.target.closest("[data-tip]");
      if (element) describe(element);
    });
    text.addEventListener("mouseout", function (event) {
      var to = event.relatedTarget;
      if (!to || !to.closest || !to.closest("[data-tip]")) hideTip();
    });
    text.addEventListener("focusin", function (event) {
      var element = event.target.closest("[data-tip]");
      if (element) describe(element);
    });
    text.addEventListener("focusout", hideTip);
    text.addEventListener("click", function (event) {
      var element = event.target.closest("[data-goto]");
      var selection = window.getSelection();
      // Selecting text is reading, not following a link.
      if (!element || (selection && !selection.isCollapsed)) return;
      go(element.getAttribute("data-goto"));
    });
    text.addEventListener("keydown", function (event) {
      if (event.key !== "Enter") return;
      var element = event.target.closest("[data-goto]");
      if (!element) return;
      event.preventDefault();
      go(element.getAttribute("data-goto"));
    });
  }
  function setFilter(group) {
    active = group;
    var marked = text ? text.querySelectorAll("[data-group]") : [];
    for (var i = 0; i < marked.length; i++) {
      marked[i].classList.toggle("filtered-out", group !== null && marked[i].getAttribute("data-group") !== group);
    }
    var name = "";
    buttons.forEach(function (button) {
      var on = group !== null && button.getAttribute("data-group") === group;
      if (on) name = button.getAttribute("data-speaker");
      button.setAttribute("aria-pressed", on ? "true" : "false");
      var item = button.closest(".speaker");
      if (item) item.classList.toggle("filtered-out", group !== null && !on);
    });
    document.body.classList.toggle("filtering", group !== null);
    if (clear) clear.disabled = group === null;
    if (status) status.textContent = group === null ? allStatus : (name ? "Showing only the quotes of " + name + "." : "Showing only the quotes with no speaker.");
  }
  buttons.forEach(function (button) {
    button.addEventListener("click", function () {
      var group = button.getAttribute("data-group");
      setFilter(active === group ? null : group);
    });
  });
  if (clear) clear.addEventListener("click", function () { setFilter(null); });
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") return;
    hideTip();
    if (active !== null) setFilter(null);
  });
})();

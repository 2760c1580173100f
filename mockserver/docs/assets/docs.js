/* The documentation site's only script: the filter box, the mock's URLs, copy buttons and the current
   section in the table of contents. Everything works without it; it only makes finding things quicker. */
(function () {
  "use strict";

  var search = document.getElementById("search");
  var status = document.getElementById("search-status");
  var noResults = document.getElementById("no-results");
  var items = Array.prototype.slice.call(document.querySelectorAll("[data-search]"));
  var groups = Array.prototype.slice.call(document.querySelectorAll("[data-group]"));

  function countable(el) {
    return el.classList.contains("op") || (el.tagName === "TR" && el.closest(".ops-table"));
  }

  var total = items.filter(countable).length;

  function applyFilter() {
    var words = search.value.toLowerCase().split(/\s+/).filter(Boolean);
    var shown = 0;
    items.forEach(function (el) {
      var text = el.getAttribute("data-search");
      var match = words.every(function (word) { return text.indexOf(word) !== -1; });
      el.classList.toggle("filtered-out", !match);
      if (match && countable(el)) { shown += 1; }
    });
    groups.forEach(function (group) {
      var inside = group.querySelectorAll("[data-search]");
      var visible = Array.prototype.some.call(inside, function (el) {
        return !el.classList.contains("filtered-out");
      });
      group.classList.toggle("filtered-out", words.length > 0 && inside.length > 0 && !visible);
    });
    if (status) {
      status.textContent = words.length ? shown + " of " + total + " operations match" : "";
    }
    if (noResults) { noResults.hidden = !(words.length && shown === 0); }
  }

  if (search) {
    search.addEventListener("input", applyFilter);
    search.addEventListener("keydown", function (event) {
      if (event.key === "Escape") { search.value = ""; applyFilter(); search.blur(); }
    });
    document.addEventListener("keydown", function (event) {
      var typing = /^(INPUT|TEXTAREA|SELECT)$/.test(document.activeElement.tagName);
      if (event.key === "/" && !typing) { event.preventDefault(); search.focus(); }
    });
  }

  // Served by the mock: show its base URLs with the origin the page came from.
  if (document.body.getAttribute("data-static") === "false" && /^https?:$/.test(location.protocol)) {
    document.querySelectorAll("[data-mock-path]").forEach(function (el) {
      el.textContent = location.origin + el.getAttribute("data-mock-path");
    });
  }

  // Copy buttons, where the browser lets a page write to the clipboard.
  if (navigator.clipboard && window.isSecureContext) {
    document.querySelectorAll("pre.code").forEach(function (pre) {
      var button = document.createElement("button");
      button.type = "button";
      button.className = "copy";
      button.textContent = "Copy";
      button.addEventListener("click", function () {
        var code = pre.querySelector("code");
        navigator.clipboard.writeText(code ? code.textContent : pre.textContent).then(function () {
          button.textContent = "Copied";
          setTimeout(function () { button.textContent = "Copy"; }, 1200);
        }, function () { button.textContent = "Select and copy"; });
      });
      pre.appendChild(button);
    });
  }

  // The small-screen menu.
  var toggle = document.querySelector(".menu-toggle");
  if (toggle) {
    toggle.addEventListener("click", function () {
      var open = document.body.classList.toggle("toc-open");
      toggle.setAttribute("aria-expanded", open ? "true" : "false");
    });
    document.querySelectorAll(".sidebar a").forEach(function (link) {
      link.addEventListener("click", function () {
        document.body.classList.remove("toc-open");
        toggle.setAttribute("aria-expanded", "false");
      });
    });
  }

  // Mark the table-of-contents entry of the section being read.
  var links = {};
  document.querySelectorAll('.toc a[href^="#"]').forEach(function (link) {
    links[link.getAttribute("href").slice(1)] = link;
  });
  var current = null;
  if ("IntersectionObserver" in window) {
    var observer = new IntersectionObserver(function (entries) {
      entries.forEach(function (entry) {
        if (!entry.isIntersecting) { return; }
        var link = links[entry.target.id];
        if (!link) { return; }
        if (current) { current.classList.remove("current"); }
        current = link;
        current.classList.add("current");
      });
    }, { rootMargin: "-60px 0px -70% 0px" });
    Object.keys(links).forEach(function (id) {
      var target = document.getElementById(id);
      if (target) { observer.observe(target); }
    });
  }
})();

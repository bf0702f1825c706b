// Draws each page's charts from the specs embedded in it, and searches trusts and groups by name or ODS code.
// Everything runs from local files: vega.js and search-index.js sit beside this file; nothing is fetched.
(function () {
  "use strict";
  var root = document.body.dataset.root || "";

  function drawCharts() {
    var containers = document.querySelectorAll("[data-chart]");
    containers.forEach(function (element) {
      var spec = JSON.parse(document.getElementById("spec-" + element.dataset.chart).textContent);
      window.vegaEmbed(element, spec, { renderer: "svg", actions: false })
        .then(function () { element.dataset.rendered = "true"; })
        .catch(function (error) {
          element.dataset.error = String(error);
          element.textContent = "This chart could not be drawn: " + error;
          console.error("chart " + element.dataset.chart + ": " + error);
        });
    });
  }

  function normalise(text) { return text.toLowerCase().replace(/\s+/g, " ").trim(); }

  function search(query, entries) {
    var words = normalise(query).split(" ").filter(Boolean);
    if (!words.length) { return []; }
    return entries.filter(function (entry) {
      var haystack = normalise(entry.name + " " + entry.code + " " + entry.group);
      return words.every(function (word) { return haystack.indexOf(word) !== -1; });
    }).sort(function (a, b) {
      var exact = (b.code.toLowerCase() === words[0]) - (a.code.toLowerCase() === words[0]);
      return exact || a.name.localeCompare(b.name);
    }).slice(0, 30);
  }

  function wireSearch() {
    var input = document.getElementById("search");
    var results = document.getElementById("search-results");
    var entries = window.REPORT_SEARCH_INDEX || [];
    if (!input || !results) { return; }
    input.addEventListener("input", function () {
      results.innerHTML = "";
      search(input.value, entries).forEach(function (entry) {
        var item = document.createElement("li");
        var link = document.createElement("a");
        link.href = root + entry.url;
        link.textContent = entry.name + (entry.kind === "trust" ? " (" + entry.code + ") · " + entry.group : " · group");
        item.appendChild(link);
        results.appendChild(item);
      });
    });
  }

  window.reportSearch = search;
  wireSearch();
  drawCharts();
})();

// Draws each page's charts from the specs embedded in it, searches trusts and groups by name or ODS code, and makes
// tables marked data-sortable sortable and filterable. Everything runs from local files; nothing is fetched.
(function () {
  "use strict";
  var root = document.body.dataset.root || "";

  function drawCharts() {
    document.querySelectorAll("[data-chart]").forEach(function (element) {
      var spec = JSON.parse(document.getElementById("spec-" + element.dataset.chart).textContent);
      var label = element.getAttribute("aria-label");
      window.vegaEmbed(element, spec, {
        renderer: "svg",
        // "Save as SVG / PNG" drawn in the browser: no image files to build for every chart
        actions: { export: true, source: false, compiled: false, editor: false },
      })
        .then(function () {
          // Vega labels its SVG from spec.description; keep the page's text alternative wherever Vega wrote one
          // the container (role="img") carries the text alternative; Vega would label the SVG "Vega visualization"
          // and leave some mark groups with an image role and no name, so the SVG takes the same label and is
          // hidden from assistive technology, which reads the container and the table of numbers instead
          // vega-embed makes it a "graphics-document"; a chart with controls (sort menu, save menu) is a group
          element.setAttribute("role", element.querySelector("input, select, summary") ? "group" : "img");
          element.querySelectorAll("summary").forEach(function (node) {
            node.setAttribute("aria-label", "Save this chart as an image (SVG or PNG)");
          });
          element.setAttribute("aria-label", label);
          element.querySelectorAll("svg").forEach(function (node) {
            node.setAttribute("aria-label", label);
            node.setAttribute("aria-hidden", "true");
          });
          element.dataset.rendered = "true";
        })
        .catch(function (error) {
          element.dataset.error = String(error);
          element.textContent = "This chart could not be drawn: " + error + ". The table of its numbers is below.";
          console.error("chart " + element.dataset.chart + ": " + error);
        });
    });
  }

  // lower case, apostrophes dropped, other punctuation as spaces: "Guys" finds "Guy's and St Thomas'"
  function normalise(text) {
    return text.toLowerCase().normalize("NFD").replace(/[\u0300-\u036f]/g, "")
      .replace(/['\u2019`]/g, "").replace(/[^a-z0-9]+/g, " ").trim();
  }

  function search(query, entries) {
    var words = normalise(query).split(" ").filter(Boolean);
    if (!words.length) { return []; }
    return entries.filter(function (entry) {
      var haystack = " " + normalise(entry.name + " " + entry.code + " " + entry.group);
      return words.every(function (word) { return haystack.indexOf(word) !== -1; });
    }).sort(function (a, b) {
      var exact = (b.code.toLowerCase() === words[0]) - (a.code.toLowerCase() === words[0]);
      return exact || a.name.localeCompare(b.name);
    }).slice(0, 30);
  }

  function wireSearch() {
    var input = document.getElementById("search");
    var results = document.getElementById("search-results");
    var status = document.getElementById("search-status");
    var entries = window.REPORT_SEARCH_INDEX || [];
    if (!input || !results) { return; }
    var active = -1;

    function links() { return results.querySelectorAll("a"); }
    function highlight(index) {
      var all = links();
      if (!all.length) { return; }
      active = (index + all.length) % all.length;
      all.forEach(function (link, i) { if (i === active) { link.setAttribute("aria-current", "true"); } else { link.removeAttribute("aria-current"); } });
      all[active].scrollIntoView({ block: "nearest" });
    }
    function render() {
      results.innerHTML = "";
      active = -1;
      var found = search(input.value, entries);
      found.forEach(function (entry) {
        var item = document.createElement("li");
        var link = document.createElement("a");
        link.href = root + entry.url;
        link.textContent = entry.name + (entry.kind === "trust" ? " (" + entry.code + ") · " + entry.group : " · group");
        item.appendChild(link);
        results.appendChild(item);
      });
      if (status) {
        status.textContent = !input.value.trim() ? "" : found.length
          ? found.length + " match" + (found.length === 1 ? "" : "es") + ": Enter opens the first, arrows move"
          : "No trust or group matches \u201c" + input.value.trim() + "\u201d";
      }
    }
    input.addEventListener("input", render);
    input.addEventListener("keydown", function (event) {
      var all = links();
      if (event.key === "ArrowDown") { event.preventDefault(); highlight(active + 1); }
      else if (event.key === "ArrowUp") { event.preventDefault(); highlight(active - 1); }
      else if (event.key === "Escape") { input.value = ""; render(); }
      else if (event.key === "Enter") {
        event.preventDefault();
        if (all.length) { window.location.href = all[Math.max(active, 0)].href; }
        else { render(); }
      }
    });
  }

  function cellValue(row, column) {
    var cell = row.cells[column];
    var value = cell.dataset.sort !== undefined ? cell.dataset.sort : cell.textContent.trim();
    var number = parseFloat(value);
    return value !== "" && !isNaN(number) && /^-?[0-9.]/.test(value) ? number : value.toLowerCase();
  }

  function wireTables() {
    document.querySelectorAll("table[data-sortable]").forEach(function (table) {
      var body = table.tBodies[0];
      var rows = Array.prototype.slice.call(body.rows);
      table.querySelectorAll("thead th").forEach(function (th, column) {
        var button = document.createElement("button");
        button.type = "button";
        button.textContent = th.textContent;
        th.textContent = "";
        th.appendChild(button);
        th.setAttribute("aria-sort", "none");
        button.addEventListener("click", function () {
          var ascending = th.getAttribute("aria-sort") !== "ascending";
          table.querySelectorAll("thead th").forEach(function (other) { other.setAttribute("aria-sort", "none"); });
          th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
          rows.sort(function (a, b) {
            var x = cellValue(a, column), y = cellValue(b, column);
            // blanks ("not measured") always last
            if (typeof x !== typeof y) { return typeof x === "number" ? -1 : 1; }
            return (x < y ? -1 : x > y ? 1 : 0) * (ascending ? 1 : -1);
          });
          rows.forEach(function (row) { body.appendChild(row); });
        });
      });
      var filter = document.querySelector("[data-filter-for='" + table.id + "']");
      var group = document.querySelector("[data-group-filter-for='" + table.id + "']");
      var count = document.querySelector("[data-count-for='" + table.id + "']");
      function apply() {
        var words = normalise(filter ? filter.value : "").split(" ").filter(Boolean);
        var chosen = group ? group.value : "";
        var shown = 0;
        rows.forEach(function (row) {
          var text = " " + normalise(row.textContent);
          var keep = words.every(function (w) { return text.indexOf(w) !== -1; }) &&
            (!chosen || row.dataset.group === chosen);
          row.hidden = !keep;
          shown += keep ? 1 : 0;
        });
        if (count) { count.textContent = shown ? shown + " of " + rows.length + " trusts shown" : "No trust matches"; }
      }
      if (filter) { filter.addEventListener("input", apply); }
      if (group) { group.addEventListener("change", apply); }
    });
  }

  window.reportSearch = search;
  window.reportNormalise = normalise;
  wireSearch();
  wireTables();
  drawCharts();
})();

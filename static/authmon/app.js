// authmon console behaviour. Loaded as a file (no inline scripts) so the CSP can forbid inline code.
// Everything here is an enhancement: every page works without it, only less comfortably.
(function () {
  "use strict";

  // ---- Copy to clipboard -------------------------------------------------------------------------------------
  async function copyText(text) {
    if (navigator.clipboard && window.isSecureContext) {
      await navigator.clipboard.writeText(text);
      return;
    }
    const area = document.createElement("textarea");
    area.value = text;
    area.setAttribute("readonly", "");
    area.className = "position-absolute top-0 start-0 opacity-0";
    document.body.appendChild(area);
    area.select();
    document.execCommand("copy");
    area.remove();
  }

  document.addEventListener("click", function (event) {
    const button = event.target.closest(".copy-btn");
    if (!button) return;
    event.preventDefault();
    copyText(button.dataset.copy || "").then(function () {
      button.classList.add("copied");
      announce("Copied to the clipboard.");
      setTimeout(function () { button.classList.remove("copied"); }, 1500);
    });
  });

  // ---- Forms -------------------------------------------------------------------------------------------------
  // A choice made with the mouse applies at once. With the keyboard, the arrow keys only move through the options
  // (a change on each press would leave at the first step: a keyboard trap); Enter applies the choice.
  let keyedSelect = null;
  document.addEventListener("keydown", function (event) {
    const select = event.target.closest && event.target.closest("select.auto-submit");
    if (!select) return;
    if (event.key === "Enter" && select.form) {
      event.preventDefault();
      select.form.submit();
    } else if (event.key !== "Tab") {
      keyedSelect = select;
    }
  }, true);
  document.addEventListener("change", function (event) {
    const select = event.target.closest("select.auto-submit");
    if (!select || !select.form) return;
    if (keyedSelect === select) return;  // moved with the keyboard: wait for Enter
    select.form.submit();
  });
  document.addEventListener("mousedown", function () { keyedSelect = null; }, true);

  // A preset and custom dates exclude each other and the server prefers the dates, so keep the form honest.
  // Capture phase: this runs before htmx, which sends the form as soon as the preset changes.
  document.addEventListener("change", function (event) {
    const form = event.target.closest && event.target.closest("#search-form");
    if (!form) return;
    if (event.target.id === "preset") {
      form.querySelectorAll("#start, #end").forEach(function (input) { input.value = ""; });
    } else if (event.target.id === "start" || event.target.id === "end") {
      const preset = form.querySelector("#preset");
      if (preset && event.target.value) preset.value = "";
    }
  }, true);

  // Confirmation for destructive forms: <form data-confirm="...">.
  document.addEventListener("submit", function (event) {
    const form = event.target.closest("form[data-confirm]");
    if (form && !window.confirm(form.dataset.confirm)) event.preventDefault();
  });

  // Slow full-page submits (uploads, revocations) show that they are under way and cannot be sent twice.
  document.addEventListener("submit", function (event) {
    const form = event.target.closest("form[data-busy]");
    if (!form || event.defaultPrevented) return;
    const button = form.querySelector("button[type=submit]");
    if (!button) return;
    setTimeout(function () {
      button.disabled = true;
      const spinner = document.createElement("span");
      spinner.className = "spinner-border spinner-border-sm ms-2";
      spinner.setAttribute("aria-hidden", "true");
      button.appendChild(spinner);
      announce(form.dataset.busy);
    }, 0);
  });

  // The list's search form: leave empty fields out of the URL, so shared links stay short and readable.
  document.addEventListener("htmx:configRequest", function (event) {
    if (!event.detail.elt.closest || !event.detail.elt.closest("#search-form")) return;
    const params = event.detail.parameters;
    const empty = [];
    const keys = typeof params.keys === "function" ? Array.from(params.keys()) : Object.keys(params);
    keys.forEach(function (key) {
      const values = typeof params.getAll === "function" ? params.getAll(key) : [].concat(params[key]);
      if (values.every(function (v) { return String(v).trim() === ""; })) empty.push(key);
    });
    empty.forEach(function (key) {
      if (typeof params.delete === "function") params.delete(key); else delete params[key];
    });
  });

  // ---- Bulk revocation: "Select all on this page" and a count of the ticked rows ----------------------------------
  // The rows' boxes join the form by its id (form="bulk-revoke-form"); the select-all box, which needs this
  // script, is shown by it.
  function bulkBoxes(form) {
    return Array.from(document.querySelectorAll('input[type=checkbox][name=pk][form="' + form.id + '"]'));
  }
  function bulkSync(form) {
    const boxes = bulkBoxes(form);
    const ticked = boxes.filter(function (box) { return box.checked; }).length;
    const all = form.querySelector("#bulk-select-all");
    if (all) {
      all.checked = boxes.length > 0 && ticked === boxes.length;
      all.indeterminate = ticked > 0 && ticked < boxes.length;
      all.disabled = boxes.length === 0;
    }
    const count = form.querySelector("#bulk-selected-count");
    if (count) count.textContent = ticked ? ticked + " selected" : "";
  }
  function bulkForms(root) {
    const found = root.querySelectorAll ? Array.from(root.querySelectorAll("#bulk-revoke-form")) : [];
    if (root.id === "bulk-revoke-form") found.push(root);
    found.forEach(function (form) {
      const wrap = form.querySelector("[data-bulk-select-all]");
      if (wrap) wrap.hidden = false;
      bulkSync(form);
    });
  }
  document.addEventListener("change", function (event) {
    const box = event.target;
    if (box.id === "bulk-select-all" && box.form) {
      bulkBoxes(box.form).forEach(function (row) { row.checked = box.checked; });
      bulkSync(box.form);
    } else if (box.name === "pk" && box.form && box.form.id === "bulk-revoke-form") {
      bulkSync(box.form);
    }
  });

  // ---- Screen-reader announcements ---------------------------------------------------------------------------
  function announce(text) {
    const region = document.getElementById("live-status");
    if (!region || !text) return;
    region.textContent = "";
    setTimeout(function () { region.textContent = text; }, 50);
  }

  function announceResults(root) {
    const results = root.id === "results" ? root : root.querySelector && root.querySelector("#results");
    if (!results) return;
    const error = results.querySelector("#question-error .fw-semibold");
    const summary = results.querySelector("#range-summary");
    const empty = results.querySelector("#empty-state .h5");
    const text = error || summary || empty;
    if (text) announce(text.textContent.replace(/\s+/g, " ").trim() + (summary ? " rows" : ""));
  }

  // ---- Times: relative age next to the absolute time, exact time on hover -------------------------------------
  const UNITS = [
    [60, "s", 1], [3600, "min", 60], [86400 * 1.5, "h", 3600], [86400 * 45, "d", 86400], [Infinity, "mo", 2592000],
  ];

  function relative(date, now) {
    const seconds = Math.round((now - date) / 1000);
    const ahead = seconds < 0;
    const abs = Math.abs(seconds);
    if (abs < 45) return "just now";
    for (const [limit, unit, size] of UNITS) {
      if (abs < limit) {
        const n = Math.max(1, Math.round(abs / size));
        return ahead ? "in " + n + " " + unit : n + " " + unit + " ago";
      }
    }
    return "";
  }

  function paintTimes(root) {
    const now = Date.now();
    root.querySelectorAll(".log-table time[datetime], #timeline time[datetime]").forEach(function (time) {
      const date = new Date(time.getAttribute("datetime"));
      if (isNaN(date)) return;
      let label = time.nextElementSibling;
      if (!label || !label.classList.contains("time-rel")) {
        label = document.createElement("span");
        label.className = "time-rel";
        time.after(label);
      }
      label.textContent = relative(date, now);
      if (!time.title) time.title = time.getAttribute("datetime");
    });
  }
  setInterval(function () { paintTimes(document); }, 60000);

  // ---- Long values: full text on hover where CSS cut it short -----------------------------------------------
  // Cells are capped so wide tables stay readable: a table gets the widest cells with which it still fits its box
  // (roomy, then the default, then tight, tightest); one that fits in none scrolls under its sticky Details column.
  const FITS = ["roomy", "", "tight", "tightest"];
  function fitTables(root) {
    root.querySelectorAll(".results-table .log-table").forEach(function (table) {
      const box = table.closest(".results-table");
      for (const fit of FITS) {
        FITS.forEach(function (name) { if (name) table.classList.toggle(name, name === fit); });
        if (table.scrollWidth <= box.clientWidth) break;
      }
      box.classList.toggle("scrolls", table.scrollWidth > box.clientWidth);
    });
  }

  function titleTruncated(root) {
    root.querySelectorAll(".log-table code.preview").forEach(function (code) {
      if (/^\s*[[{]/.test(code.textContent)) code.classList.add("preview-json");
    });
    root.querySelectorAll(".log-table td, .log-table code.preview").forEach(function (cell) {
      if (cell.title || cell.scrollWidth <= cell.clientWidth + 1) return;
      const inner = cell.querySelector("[title]");
      const text = cell.textContent.replace(/\s+/g, " ").trim();
      if (text && !inner) cell.title = text;
    });
  }

  // ---- JSON blocks: syntax colours, keyboard-scrollable ----------------------------------------------------
  const TOKEN = /("(?:\\.|[^"\\])*")(\s*:)?|(-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)|\b(true|false|null)\b/g;

  function span(className, text) {
    const node = document.createElement("span");
    node.className = className;
    node.textContent = text;
    return node;
  }

  // Hand-written because a highlighting library (highlight.js, Prism) would add 30-100 kB for one grammar whose
  // tokens are four regular expressions; it only wraps text nodes, so the copied text stays exactly the JSON.
  function highlightJson(pre) {
    const text = pre.textContent;
    if (pre.dataset.highlighted || text.length > 200000 || !/^\s*[[{]/.test(text)) return;
    const out = document.createDocumentFragment();
    let last = 0;
    text.replace(TOKEN, function (match, string, colon, number, literal, offset) {
      if (offset > last) out.appendChild(document.createTextNode(text.slice(last, offset)));
      if (string && colon) {
        out.appendChild(span("json-key", string));
        out.appendChild(document.createTextNode(colon));
      } else if (string) {
        out.appendChild(span("json-string", string));
      } else if (number) {
        out.appendChild(span("json-number", number));
      } else {
        out.appendChild(span("json-literal", literal));
      }
      last = offset + match.length;
      return match;
    });
    if (last < text.length) out.appendChild(document.createTextNode(text.slice(last)));
    pre.textContent = "";
    pre.appendChild(out);
    pre.dataset.highlighted = "1";
  }

  function enhanceBlocks(root) {
    root.querySelectorAll("pre.json-block").forEach(highlightJson);
    root.querySelectorAll("pre.json-block, pre.text-block").forEach(function (pre) {
      if (!pre.hasAttribute("tabindex")) pre.setAttribute("tabindex", "0");
    });
  }

  // ---- Progress bars whose width comes from data-progress (no inline style attributes) -----------------------
  function paintProgress(root) {
    root.querySelectorAll("[data-progress]").forEach(function (bar) {
      bar.style.width = Math.max(0, Math.min(100, Number(bar.dataset.progress) || 0)) + "%";
    });
  }

  // ---- Click a value to filter: one tab stop per table ----------------------------------------------------------
  // Each value cell has an "Only" and an "Exclude" link: in the tab order they would be two stops per cell, hundreds
  // on a page. A table's links share one stop instead (the last one focused, at first the first), and the arrow keys
  // move between them: Left and Right along the row, Up and Down to the same link of the row above or below, Home and
  // End to the ends of the row. Screen readers still list every link.
  function rovingLinks(root) {
    const tables = root.matches && root.matches(".log-table") ? [root] : root.querySelectorAll(".log-table");
    tables.forEach(function (table) {
      table.querySelectorAll(".value-filter a").forEach(function (link, i) { link.tabIndex = i === 0 ? 0 : -1; });
    });
  }

  function verticalNeighbour(link, down) {
    const cell = link.closest("td");
    const which = link.classList.contains("value-exclude") ? "a.value-exclude" : "a.value-only";
    let row = link.closest("tr");
    while ((row = down ? row.nextElementSibling : row.previousElementSibling)) {
      const found = row.cells[cell.cellIndex] && row.cells[cell.cellIndex].querySelector(".value-filter " + which);
      if (found) return found;
    }
    return null;
  }

  document.addEventListener("keydown", function (event) {
    const link = event.target.closest && event.target.closest(".log-table .value-filter a");
    if (!link || event.altKey || event.ctrlKey || event.metaKey) return;
    const inRow = Array.from(link.closest("tr").querySelectorAll(".value-filter a"));
    const at = inRow.indexOf(link);
    const moves = {
      ArrowRight: function () { return inRow[at + 1]; },
      ArrowLeft: function () { return inRow[at - 1]; },
      Home: function () { return inRow[0]; },
      End: function () { return inRow[inRow.length - 1]; },
      ArrowDown: function () { return verticalNeighbour(link, true); },
      ArrowUp: function () { return verticalNeighbour(link, false); },
    };
    const next = moves[event.key] && moves[event.key]();
    if (!next) return;
    event.preventDefault();
    link.tabIndex = -1;
    next.tabIndex = 0;
    next.focus();
  });

  function enhance(root) {
    if (!root || !root.querySelectorAll) return;
    rovingLinks(root);
    paintProgress(root);
    paintTimes(root);
    enhanceBlocks(root);
    fitTables(root);
    titleTruncated(root);
    bulkForms(root);
  }

  document.addEventListener("DOMContentLoaded", function () { enhance(document); });
  let resizing = null;
  window.addEventListener("resize", function () {
    clearTimeout(resizing);
    resizing = setTimeout(function () { fitTables(document); titleTruncated(document); }, 150);
  });

  // ---- "/" jumps to the question box --------------------------------------------------------------------------
  // Not while typing somewhere (the key is a character there) nor with Ctrl, Alt or Meta (browser shortcuts). Shift is
  // allowed: on some layouts "/" is Shift+7.
  function typingIn(element) {
    return Boolean(element && element.closest && (
      element.closest("input, textarea, select, [contenteditable]:not([contenteditable=false])")));
  }

  document.addEventListener("keydown", function (event) {
    if (event.key !== "/" || event.ctrlKey || event.altKey || event.metaKey || event.isComposing) return;
    if (event.defaultPrevented || typingIn(event.target)) return;
    const box = document.querySelector("#search-form #q");
    if (!box) return;
    event.preventDefault();
    box.focus();
    box.select();
  });

  // ---- Auto-refresh: the list's current results again every N seconds ------------------------------------------
  // On while the URL carries refresh=<seconds> (the server renders the #auto-refresh switch checked and with that
  // interval). It fetches the address bar's URL, so exactly the results on screen, and swaps only #results: the form
  // keeps whatever the user has started to change. It waits while the tab is hidden, on an older page (cursor), while
  // the user types in the form or has a menu of the results open, and while any other request is on its way; it keeps
  // the focus, the scroll position and the table's sideways scroll, and announces new rows through #live-status.
  const TYPING_MS = 5000;  // a key pressed in the form this recently: the user is still typing
  const refresh = { timer: null, busy: false, swapping: false, lastAt: 0, typedAt: 0, controller: null };

  function refreshSwitch() {
    const box = document.getElementById("auto-refresh");
    return box && box.checked ? box : null;
  }

  function refreshSeconds(box) {
    return Math.max(10, parseInt(box.value, 10) || 30);
  }

  function refreshStatus(text) {
    const status = document.getElementById("refresh-status");
    if (status) status.textContent = text;
  }

  function clock(date) {
    return date.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit" });
  }

  function refreshWaitReason() {
    if (document.visibilityState === "hidden") return "Paused while the tab is hidden.";
    if (new URLSearchParams(window.location.search).has("cursor")) return "Paused on older pages.";
    const active = document.activeElement;
    if (active && active.closest("#search-form") && Date.now() - refresh.typedAt < TYPING_MS) return "wait";
    if (document.querySelector("#results .dropdown-menu.show")) return "wait";  // a swap would close the menu
    if (refresh.busy || document.querySelector("#results.htmx-request")) return "wait";  // never two at once
    return "";
  }

  function refreshSchedule(delayMs) {
    clearTimeout(refresh.timer);
    refresh.timer = null;
    const box = refreshSwitch();
    if (!box) {
      refreshStatus("");
      return;
    }
    const wait = delayMs === undefined ? refreshSeconds(box) * 1000 : delayMs;
    refresh.timer = setTimeout(refreshTick, Math.max(0, wait));
  }

  function refreshTick() {
    const box = refreshSwitch();
    if (!box) return refreshSchedule();
    const reason = refreshWaitReason();
    if (reason === "wait") return refreshSchedule(2000);
    if (reason) {
      refreshStatus(reason);  // hidden tab: visibilitychange starts it again; older page: a new page does
      return;
    }
    refreshRun(box);
  }

  function rowKeys(root) {
    return Array.from(root.querySelectorAll("tbody tr")).map(function (row) {
      const link = row.querySelector("td.col-details a[href]");
      return link ? link.getAttribute("href") : row.textContent;
    });
  }

  // Where the keyboard focus is in the results, so it can be found again in the new rows: by id, else by the link's
  // address (a record's Details link, a value's Only link: the same record wherever its row moved).
  function focusMark() {
    const active = document.activeElement;
    const results = document.getElementById("results");
    if (!active || !results || !results.contains(active) || active === results) return null;
    if (active.id) return { selector: "#" + CSS.escape(active.id) };
    if (active.getAttribute("href")) {
      return { selector: active.tagName.toLowerCase() + '[href="' + CSS.escape(active.getAttribute("href")) + '"]' };
    }
    return { selector: null };
  }

  function focusRestore(mark) {
    if (!mark) return;
    const results = document.getElementById("results");
    const found = (mark.selector && results.querySelector(mark.selector)) || results.querySelector("#range-summary")
      || results;
    if (found.closest(".log-table") && found.matches(".value-filter a")) {
      found.closest(".log-table").querySelectorAll(".value-filter a").forEach(function (link) { link.tabIndex = -1; });
      found.tabIndex = 0;
    }
    if (!found.hasAttribute("tabindex") && !found.matches("a[href], button, input, select, textarea")) {
      found.setAttribute("tabindex", "-1");
    }
    found.focus({ preventScroll: true });
  }

  function refreshRun(box) {
    const url = window.location.pathname + window.location.search;
    refresh.busy = true;
    refresh.controller = new AbortController();
    fetch(url, {
      headers: { "HX-Request": "true", "HX-Target": "results" },
      credentials: "same-origin",
      signal: refresh.controller.signal,
    }).then(function (response) {
      if (!response.ok) throw new Error("HTTP " + response.status);
      return response.text();
    }).then(function (html) {
      // The page may have moved on (a search, another page) while this was on its way: then it is stale.
      if (window.location.pathname + window.location.search !== url) return;
      const fresh = new DOMParser().parseFromString(html, "text/html").getElementById("results");
      const results = document.getElementById("results");
      if (!fresh || !results) throw new Error("no results in the answer (signed out?)");
      const before = new Set(rowKeys(results));
      const added = rowKeys(fresh).filter(function (key) { return !before.has(key); }).length;
      const mark = focusMark();
      const scrollY = window.scrollY;
      const box = results.querySelector(".results-table");
      const scrollLeft = box ? box.scrollLeft : 0;
      refresh.swapping = true;
      try {
        htmx.swap(results, fresh.outerHTML, { swapStyle: "outerHTML", swapDelay: 0, settleDelay: 0 });
      } finally {
        refresh.swapping = false;
      }
      const newBox = document.querySelector("#results .results-table");
      if (newBox) newBox.scrollLeft = scrollLeft;
      window.scrollTo({ top: scrollY, left: window.scrollX, behavior: "instant" });
      focusRestore(mark);
      if (added > 0) {
        const rows = document.querySelectorAll("#results tbody tr");
        for (let i = 0; i < added && i < rows.length; i++) rows[i].classList.add("row-new");
        const toggle = document.getElementById("auto-refresh");
        announce(added + " new " + ((toggle && toggle.dataset.noun) || "rows") + " at the top.");
      }
      refresh.lastAt = Date.now();
      refreshStatus("Last refreshed " + clock(new Date()) + ".");
    }).catch(function (error) {
      if (error.name === "AbortError") return;
      refreshStatus("Could not refresh at " + clock(new Date()) + " (" + error.message + "); trying again.");
    }).finally(function () {
      refresh.busy = false;
      refresh.controller = null;
      refreshSchedule();
    });
  }

  document.addEventListener("visibilitychange", function () {
    const box = refreshSwitch();
    if (!box) return;
    if (document.visibilityState === "hidden") {
      clearTimeout(refresh.timer);
      refreshStatus("Paused while the tab is hidden.");
      return;
    }
    // Back on the tab: refresh at once when a refresh fell due while it was hidden.
    const due = refresh.lastAt + refreshSeconds(box) * 1000 - Date.now();
    refreshSchedule(Math.max(0, due));
  });

  // Any other request (a search, a page) wins over a refresh under way, whose rows it makes stale anyway.
  document.addEventListener("htmx:beforeRequest", function () {
    if (refresh.controller) refresh.controller.abort();
  });
  ["keydown", "input"].forEach(function (type) {
    document.addEventListener(type, function (event) {
      if (event.target.closest && event.target.closest("#search-form") && typingIn(event.target)) {
        refresh.typedAt = Date.now();
      }
    }, true);
  });

  // Rows just loaded (the page, a search, another page, Back): the next refresh is a full interval away.
  function refreshStart() {
    refresh.lastAt = Date.now();
    if (refreshSwitch()) refreshStatus("Last refreshed " + clock(new Date()) + ".");
    refreshSchedule();
  }
  document.addEventListener("DOMContentLoaded", refreshStart);
  document.addEventListener("htmx:historyRestore", refreshStart);
  document.addEventListener("htmx:afterSettle", function (event) {
    if (refresh.swapping || !event.detail.elt || event.detail.elt.id !== "results") return;
    refreshStart();
  });

  // ---- htmx: in-place results ------------------------------------------------------------------------------
  let pagerRel = null;
  document.addEventListener("htmx:beforeRequest", function (event) {
    const link = event.detail.elt;
    pagerRel = link && link.matches && link.matches(".pager a[rel]") ? link.getAttribute("rel") : null;
  });

  document.addEventListener("htmx:load", function (event) { enhance(event.detail.elt); });

  document.addEventListener("htmx:afterSettle", function (event) {
    const results = document.getElementById("results");
    if (!results || (!results.contains(event.detail.elt) && event.detail.elt !== results)) return;
    if (refresh.swapping) return;  // an auto-refresh announces only new rows, and keeps the focus where it was
    announceResults(results);
    // Keyboard paging: keep focus on the pager so Enter pages on; otherwise on the summary of what changed.
    if (pagerRel) {
      const again = results.querySelector('.pager a[rel="' + pagerRel + '"]') || results.querySelector("#range-summary");
      if (again) again.focus();
      pagerRel = null;
    }
  });

  // A failed in-place request says so instead of leaving the old rows looking current.
  function showRequestError(message) {
    const results = document.getElementById("results");
    if (!results) return;
    let alert = document.getElementById("request-error");
    if (!alert) {
      alert = document.createElement("div");
      alert.id = "request-error";
      alert.className = "alert alert-danger";
      alert.setAttribute("role", "alert");
      results.before(alert);
    }
    alert.textContent = message;
  }
  document.addEventListener("htmx:beforeSwap", function () {
    const alert = document.getElementById("request-error");
    if (alert) alert.remove();
  });
  document.addEventListener("htmx:responseError", function (event) {
    const status = event.detail.xhr ? event.detail.xhr.status : "";
    showRequestError("The results could not be loaded (HTTP " + status + "). Reload the page or try again.");
  });
  document.addEventListener("htmx:sendError", function () {
    showRequestError("The server could not be reached. Check the connection and try again.");
  });
})();

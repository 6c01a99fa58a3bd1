/* Coprod: progressive enhancement of the questionnaire pages.
   Everything works without this file; it only
   - moves focus to the error summary so screen readers announce it,
   - shows and hides questions as relevance rules change on the same page,
   - keeps what was typed on a page across an accidental reload (sessionStorage):
     stored under the draft's opaque key and the page, restored only when the
     page is reloaded, reached with back/forward or shown again after a change
     of language (any other visit shows what the server holds), never over a
     page the server returned for what was just sent (its errors), and
     forgotten when a respondent starts afresh. */
(function () {
  "use strict";

  var PREFIX = "coprod:";

  function answers(form) {
    var values = {};
    Array.prototype.forEach.call(form.elements, function (el) {
      if (!el.name || el.name === "csrfmiddlewaretoken" || el.name === "action") return;
      if (el.type === "checkbox") {
        values[el.name] = values[el.name] || [];
        if (el.checked) values[el.name].push(el.value);
      } else if (el.type === "radio") {
        if (el.checked) values[el.name] = el.value;
      } else if (el.value.trim() !== "") {
        var n = Number(el.value.replace(",", "."));
        values[el.name] = el.inputMode === "numeric" || el.inputMode === "decimal" ? (isNaN(n) ? el.value : n) : el.value;
      }
    });
    return values;
  }

  function answered(v) {
    return v !== undefined && v !== null && v !== "" && !(Array.isArray(v) && v.length === 0);
  }

  /* The same semantics as surveys/definition/relevance.py. */
  function holds(rule, values) {
    if (rule.all) return rule.all.every(function (r) { return holds(r, values); });
    if (rule.any) return rule.any.some(function (r) { return holds(r, values); });
    if (rule.not) return !holds(rule.not, values);
    var v = values[rule.item];
    if ("answered" in rule) return answered(v) === rule.answered;
    if (!answered(v)) return false;
    if ("equals" in rule) return v === rule.equals;
    if ("not_equals" in rule) return v !== rule.not_equals;
    if ("in" in rule) return rule.in.indexOf(v) !== -1;
    if ("not_in" in rule) return rule.not_in.indexOf(v) === -1;
    if ("includes" in rule) return Array.isArray(v) && v.indexOf(rule.includes) !== -1;
    if (typeof v !== "number") return false;
    if ("gt" in rule) return v > rule.gt;
    if ("gte" in rule) return v >= rule.gte;
    if ("lt" in rule) return v < rule.lt;
    if ("lte" in rule) return v <= rule.lte;
    return true;
  }

  function applyRelevance(form) {
    var values = answers(form);
    form.querySelectorAll("[data-relevant]").forEach(function (q) {
      q.hidden = !holds(JSON.parse(q.getAttribute("data-relevant")), values);
    });
  }

  /* Reloaded, or reached with back/forward: what was typed may be newer than
     what the server holds. Any other visit shows the server's answers. */
  function revisited() {
    var perf = window.performance;
    var entries = perf && perf.getEntriesByType ? perf.getEntriesByType("navigation") : [];
    if (entries.length) return entries[0].type === "reload" || entries[0].type === "back_forward";
    return !!(perf && perf.navigation) && (perf.navigation.type === 1 || perf.navigation.type === 2);
  }

  /* The language menu reloads the page through the server (a plain navigation):
     a mark left as it is sent says the next page is the same one again. */
  var LANGUAGE_SWITCHED = PREFIX + "language-switched";

  function switchedLanguage() {
    try {
      var mark = window.sessionStorage.getItem(LANGUAGE_SWITCHED);
      window.sessionStorage.removeItem(LANGUAGE_SWITCHED);
      return mark === "1";
    } catch (e) { return false; }
  }

  /* Everything typed on this computer's pages in this tab (a shared computer). */
  function forgetAll() {
    try {
      var keys = [];
      for (var i = 0; i < window.sessionStorage.length; i++) keys.push(window.sessionStorage.key(i));
      keys.forEach(function (k) { if (k && k.indexOf(PREFIX) === 0) window.sessionStorage.removeItem(k); });
    } catch (e) { /* storage off */ }
  }

  function restore(form, key) {
    var saved;
    try { saved = JSON.parse(window.sessionStorage.getItem(key) || "null"); } catch (e) { return; }
    if (!saved) return;
    Array.prototype.forEach.call(form.elements, function (el) {
      if (!el.name || !(el.name in saved)) return;
      var v = saved[el.name];
      if (el.type === "checkbox") el.checked = Array.isArray(v) && v.indexOf(el.value) !== -1;
      else if (el.type === "radio") el.checked = v === el.value;
      else if (el.name !== "csrfmiddlewaretoken") el.value = v;
    });
  }

  function store(form, key) {
    var state = {};
    Array.prototype.forEach.call(form.elements, function (el) {
      if (!el.name || el.name === "csrfmiddlewaretoken" || el.name === "action") return;
      if (el.type === "checkbox") {
        state[el.name] = state[el.name] || [];
        if (el.checked) state[el.name].push(el.value);
      } else if (el.type === "radio") {
        if (el.checked) state[el.name] = el.value;
        else if (!(el.name in state)) state[el.name] = null;
      } else {
        state[el.name] = el.value;
      }
    });
    try { window.sessionStorage.setItem(key, JSON.stringify(state)); } catch (e) { /* storage full or off */ }
  }

  document.addEventListener("DOMContentLoaded", function () {
    var summary = document.getElementById("error-summary");
    if (summary) summary.focus();
    var again = switchedLanguage() || revisited();

    document.querySelectorAll("form.language").forEach(function (form) {
      form.addEventListener("submit", function () {
        try { window.sessionStorage.setItem(LANGUAGE_SWITCHED, "1"); } catch (e) { /* storage off */ }
      });
    });

    document.querySelectorAll("form[data-forget-answers]").forEach(function (form) {
      form.addEventListener("submit", forgetAll);
    });

    document.querySelectorAll("form.questionnaire").forEach(function (form) {
      var key = PREFIX + form.getAttribute("data-draft-key");
      if (again && !form.hasAttribute("data-posted")) restore(form, key);
      applyRelevance(form);
      form.addEventListener("change", function () { applyRelevance(form); store(form, key); });
      form.addEventListener("input", function () { store(form, key); });
      form.addEventListener("submit", function () {
        try { window.sessionStorage.removeItem(key); } catch (e) { /* ignore */ }
      });
    });
  });
})();

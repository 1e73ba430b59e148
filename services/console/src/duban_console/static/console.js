// 督办台: a little progressive enhancement. Pages work without it; with it, actions post in place and
// the parts of a page marked data-live refresh when the services announce a change (server-sent events).
(function () {
  "use strict";
  var regions = function () { return Array.prototype.slice.call(document.querySelectorAll("[data-live]")); };
  var status = document.getElementById("live-status");
  var pending = null;

  function say(text) { if (status) { status.textContent = text; } }

  function refresh() {
    pending = null;
    var groups = {};
    regions().forEach(function (el) { var src = el.getAttribute("data-src") || location.href; (groups[src] = groups[src] || []).push(el); });
    Object.keys(groups).forEach(function (src) {
      fetch(src, { headers: { "X-Live": "1" }, credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.text() : null; })
        .then(function (html) {
          if (!html) { return; }
          var fresh = new DOMParser().parseFromString(html, "text/html");
          groups[src].forEach(function (el) {
            if (el.contains(document.activeElement) && document.activeElement.tagName !== "BODY" && document.activeElement.value) { return; }
            var next = fresh.getElementById(el.id);
            if (next) { el.innerHTML = next.innerHTML; enhance(el); }
          });
        })
        .catch(function () { /* the next change tries again */ });
    });
  }

  function soon(delay) { if (!pending) { pending = setTimeout(refresh, delay); } }

  function wanted(notice) {
    return regions().some(function (el) {
      return (el.getAttribute("data-live") || "").split(" ").some(function (kind) {
        if (!kind || notice.type.indexOf(kind) !== 0) { return false; }
        var file = el.getAttribute("data-file");
        return !file || notice.file_id === file;
      });
    });
  }

  function enhance(root) {
    Array.prototype.forEach.call(root.querySelectorAll("form[data-enhance]"), function (form) {
      if (form.dataset.enhanced) { return; }
      form.dataset.enhanced = "1";
      form.addEventListener("submit", function (event) {
        event.preventDefault();
        var button = form.querySelector("button[type=submit], button:not([type])");
        if (button) { button.disabled = true; }
        fetch(form.action, { method: "POST", body: new FormData(form), credentials: "same-origin", headers: { "X-Requested-With": "fetch" } })
          .then(function (r) { return r.json().catch(function () { return { ok: false, message: "请求失败（" + r.status + "）" }; }); })
          .then(function (reply) {
            say(reply.message || "");
            var box = document.getElementById("flash");
            if (box) { box.className = "flash " + (reply.ok ? "ok" : "err"); box.textContent = reply.message || ""; box.hidden = false; }
            if (reply.ok) { form.reset(); }
            refresh();
          })
          .catch(function () { say("网络异常，请稍后重试。"); })
          .then(function () { if (button) { button.disabled = false; } });
      });
    });
  }

  enhance(document);
  if (regions().length && window.EventSource) {
    var source = new EventSource("/events");
    source.onmessage = function (event) {
      try { if (wanted(JSON.parse(event.data))) { soon(800); } } catch (e) { /* not a notice */ }
    };
    // Changes made before the stream was open (an upload's first rows) or while it was down are caught
    // up on opening: at once where the page says it is waiting for more, and after every reconnect.
    var opened = false;
    source.onopen = function () {
      if (opened || document.querySelector("[data-live][data-pending]")) { soon(0); }
      opened = true;
    };
    source.onerror = function () { /* EventSource reconnects by itself */ };
    window.addEventListener("pagehide", function () { source.close(); });
  }
})();

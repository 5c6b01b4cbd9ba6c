// Small page helpers beside htmx: the UTC clock, countdowns to transmission, ages of the
// fleet's last heartbeats, and a link indicator so an operator knows when the live view has
// stopped updating.
(function () {
  "use strict";

  function pad(n) { return String(n).padStart(2, "0"); }

  function age(seconds) {
    if (seconds < 1) { return "now"; }
    if (seconds < 120) { return seconds + " s ago"; }
    if (seconds < 7200) { return Math.floor(seconds / 60) + " min ago"; }
    if (seconds < 172800) { return Math.floor(seconds / 3600) + " h ago"; }
    return Math.floor(seconds / 86400) + " d ago";
  }

  function tick() {
    var now = new Date();
    var clock = document.getElementById("utc-clock");
    if (clock) {
      clock.textContent = pad(now.getUTCHours()) + ":" + pad(now.getUTCMinutes()) + ":" +
        pad(now.getUTCSeconds()) + " UTC";
    }
    document.querySelectorAll("[data-age]").forEach(function (el) {
      var seconds = Math.round((now.getTime() - Date.parse(el.dataset.age)) / 1000);
      el.textContent = age(seconds);
    });
    document.querySelectorAll("[data-countdown]").forEach(function (el) {
      var seconds = Math.round((Date.parse(el.dataset.countdown) - now.getTime()) / 1000);
      el.textContent = seconds > 0 ? "in " + seconds + " s" : "due";
    });
  }

  function setLink(state, text) {
    var el = document.getElementById("link-status");
    if (el && el.dataset.state !== state) {
      el.dataset.state = state;
      el.textContent = text;
    }
  }

  // Every htmx request carries the session's CSRF token (the server refuses writes without).
  document.addEventListener("htmx:configRequest", function (event) {
    var meta = document.querySelector('meta[name="csrf-token"]');
    if (meta && meta.content) { event.detail.headers["X-CSRF-Token"] = meta.content; }
  });

  document.addEventListener("htmx:afterRequest", function (event) {
    if (event.detail.successful) { setLink("live", "Live"); }
  });
  document.addEventListener("htmx:sendError", function () {
    setLink("lost", "Connection lost");
  });
  document.addEventListener("htmx:responseError", function (event) {
    setLink("error", "Server error " + event.detail.xhr.status);
  });
  document.addEventListener("htmx:afterSwap", tick);

  // A printable page's Print button (no inline handlers: the page's CSP forbids them).
  document.addEventListener("click", function (event) {
    if (event.target.closest && event.target.closest("[data-print]")) { window.print(); }
  });

  tick();
  setInterval(tick, 1000);
})();

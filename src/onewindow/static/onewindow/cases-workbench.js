// Live queue counters (cases workbench). The badges are a fragment htmx fetches again when the
// body receives "cases-counters-changed"; this script fires that event when the server says a
// case of one of the user's departments changed (websocket), or every 30 seconds while the
// websocket is unavailable. Without JavaScript the badges are as the page was rendered.
(function () {
  "use strict";

  var box = document.querySelector("[data-live-counters]");
  if (!box || !window.htmx) {
    return;
  }
  var POLL_MS = 30000;
  var FIRST_RETRY_MS = 5000;
  var MAX_RETRY_MS = 300000;
  // Several cases changing at once cause one refresh, not one each.
  var SETTLE_MS = 400;

  var retryMs = FIRST_RETRY_MS;
  var poller = null;
  var pending = null;
  var missed = false;

  function refresh() {
    if (pending) {
      return;
    }
    pending = window.setTimeout(function () {
      pending = null;
      window.htmx.trigger(document.body, "cases-counters-changed");
    }, SETTLE_MS);
  }

  function startPolling() {
    if (!poller) {
      poller = window.setInterval(refresh, POLL_MS);
    }
  }

  function stopPolling() {
    if (poller) {
      window.clearInterval(poller);
      poller = null;
    }
  }

  function connect() {
    var socket;
    if (!("WebSocket" in window)) {
      startPolling();
      return;
    }
    try {
      var scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
      socket = new window.WebSocket(scheme + window.location.host + box.getAttribute("data-socket-path"));
    } catch (error) {
      startPolling();
      return;
    }
    socket.addEventListener("open", function () {
      retryMs = FIRST_RETRY_MS;
      stopPolling();
      if (missed) {
        // Changes may have happened while the connection was down.
        missed = false;
        refresh();
      }
    });
    socket.addEventListener("message", refresh);
    socket.addEventListener("close", function () {
      missed = true;
      startPolling();
      window.setTimeout(connect, retryMs);
      retryMs = Math.min(retryMs * 2, MAX_RETRY_MS);
    });
  }

  connect();
})();

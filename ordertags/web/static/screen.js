// The orders page refreshes itself when a new apply lands (or the tag book changes):
// it asks the server for a small change token and reloads the same address (so the
// tag filter and the search stay) when it differs. No data goes through this script.
(function () {
  "use strict";
  var live = document.getElementById("live");
  if (!live) { return; }
  var token = live.getAttribute("data-token");
  var every = 5000;
  function check() {
    if (document.hidden) { return; }
    fetch("/changes", { credentials: "same-origin", cache: "no-store" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (data) {
        if (data && data.token && data.token !== token) {
          token = data.token;
          window.location.reload();
        }
      })
      .catch(function () { /* the server is restarting: try again next time */ });
  }
  window.setInterval(check, every);
})();

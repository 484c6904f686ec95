// Live progress of a running run: polls the run's progress endpoint and updates the statuses
// in place (textContent only: nothing from the server is parsed as HTML); reloads once the
// run has finished so the logs appear.
(function () {
  var live = document.getElementById("live");
  if (!live) return;
  var url = live.getAttribute("data-progress");
  function tick() {
    fetch(url, { credentials: "same-origin", cache: "no-store" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (p) {
        if (!p) return;
        var rows = document.querySelectorAll("#instances tr[data-stack]");
        // A finished run, or one that reported new instances, is shown afresh.
        if (p.status !== "running" || rows.length !== p.instances.length) {
          location.reload();
          return;
        }
        p.instances.forEach(function (i) {
          rows.forEach(function (row) {
            if (row.getAttribute("data-stack") !== i.stack) return;
            var badge = row.querySelector("td.status .badge");
            if (badge && badge.textContent !== i.status) {
              badge.textContent = i.status;
              badge.className = "badge st-" + (i.status === "failed" ? "failed" :
                i.status === "running" || i.status === "pending" ? "running" : "ok");
            }
            var d = row.querySelector("td.duration");
            if (d) d.textContent = i.duration;
          });
        });
      })
      .catch(function () {})
      .then(function () { setTimeout(tick, 2000); });
  }
  setTimeout(tick, 2000);
})();

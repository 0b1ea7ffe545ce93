// Live updates without a full reload: every few seconds, fetch this page again and swap
// the header status and the live region, unless someone is typing in a form.
(function () {
  const live = document.querySelector("[data-live]");
  const period = 5000;
  async function refresh() {
    const active = document.activeElement;
    if (active && ["INPUT", "TEXTAREA", "SELECT"].includes(active.tagName)) return;
    try {
      const response = await fetch(window.location.href, { headers: { "X-Live": "1" } });
      if (!response.ok || response.redirected) return;
      const page = new DOMParser().parseFromString(await response.text(), "text/html");
      const status = page.getElementById("status");
      if (status) document.getElementById("status").replaceWith(status);
      const fresh = page.querySelector("[data-live]");
      if (live && fresh) live.innerHTML = fresh.innerHTML;
    } catch (error) {
      // Offline for a moment: the next round tries again.
    }
  }
  setInterval(refresh, period);
})();

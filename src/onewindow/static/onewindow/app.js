// Progressive enhancement for the shell; every page works without it.
// The CSRF token for htmx requests travels in hx-headers on <body>, so nothing here touches it.
(function () {
  "use strict";

  // A toggle names the navigation it folds with aria-controls. It ships hidden so that
  // without JavaScript the navigation stays open; CSS folds it only on narrow screens.
  function setUpNavToggle(button) {
    var nav = document.getElementById(button.getAttribute("aria-controls"));
    if (!nav) {
      return;
    }
    function show(open) {
      button.setAttribute("aria-expanded", open ? "true" : "false");
      if (open) {
        nav.removeAttribute("data-collapsed");
      } else {
        nav.setAttribute("data-collapsed", "");
      }
    }
    show(false);
    button.hidden = false;
    button.addEventListener("click", function () {
      show(button.getAttribute("aria-expanded") !== "true");
    });
  }

  document.querySelectorAll("[data-nav-toggle]").forEach(setUpNavToggle);
})();

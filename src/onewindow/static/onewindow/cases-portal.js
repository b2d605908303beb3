// The applicant portal for cases. Progressive enhancement only: every page works without it.
// - a case form is sent once: a second click while the first request is under way is ignored
//   (the server also takes the submission key, so a resend gives the same case);
// - the 容缺 commitment is shown only while some material asks for 容缺.
(function () {
  "use strict";

  function guardDoubleSubmit(form) {
    form.addEventListener("submit", function (event) {
      if (form.hasAttribute("data-sending")) {
        event.preventDefault();
        return;
      }
      form.setAttribute("data-sending", "");
      form.setAttribute("aria-busy", "true");
    });
    // Coming back with the browser's back button shows the page from its cache: allow sending again.
    window.addEventListener("pageshow", function () {
      form.removeAttribute("data-sending");
      form.removeAttribute("aria-busy");
    });
  }

  function linkCommitment(form) {
    var commitment = form.querySelector("[data-commitment]");
    var boxes = form.querySelectorAll("[data-deferral]");
    if (!commitment || !boxes.length) {
      return;
    }
    function update() {
      var any = Array.prototype.some.call(boxes, function (box) {
        return box.checked;
      });
      commitment.hidden = !any;
    }
    boxes.forEach(function (box) {
      box.addEventListener("change", update);
    });
    update();
  }

  document.querySelectorAll("[data-case-form]").forEach(function (form) {
    guardDoubleSubmit(form);
    linkCommitment(form);
  });
})();

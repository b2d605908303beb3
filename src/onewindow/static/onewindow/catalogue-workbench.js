// Guide editor (catalogue workbench): keep the "not compressed by 50%" notice in step with the
// two time limits while they are typed. Progressive enhancement only: the server shows the same
// notice on every render and the service refuses a save without the reason.
(function () {
  "use strict";

  function setUpCompression(section) {
    var flag = section.querySelector("[data-compression-flag]");
    var legal = section.querySelector('[name="legal_limit_amount"]');
    var promised = section.querySelector('[name="promised_limit_amount"]');
    if (!flag || !legal || !promised) {
      return;
    }
    function number(input) {
      var text = input.value.trim();
      return /^[0-9]+$/.test(text) ? parseInt(text, 10) : null;
    }
    function update() {
      var limit = number(legal);
      var promise = number(promised);
      // As schema.is_compressed: no legal limit (or zero) counts as compressed.
      flag.hidden = limit === null || promise === null || limit === 0 || promise * 2 <= limit;
    }
    legal.addEventListener("input", update);
    promised.addEventListener("input", update);
  }

  document.querySelectorAll("[data-compression]").forEach(setUpCompression);
})();

// Application forms (申请表) rendered by {% render_application_form %}: show/hide by data-show-if
// and add/remove table rows from their <template>. Progressive enhancement only: without this
// script every field is shown, and the server ignores what a field's show_if hides.
(function () {
  "use strict";

  var ROW_PLACEHOLDER = /__row__/g;
  var ROW_ATTRIBUTES = ["name", "id", "for", "aria-describedby", "aria-labelledby"];

  function fieldOf(form, key) {
    return form.querySelector('[data-form-field="' + key + '"]');
  }

  // The values a field has now, as the server compares them (strings, trimmed, empty dropped).
  function valuesOf(form, key) {
    var values = [];
    form.querySelectorAll('[name="f-' + key + '"]').forEach(function (el) {
      if (el.disabled) {
        return;
      }
      if (el.type === "checkbox" || el.type === "radio") {
        if (el.checked) {
          values.push(el.value);
        }
      } else if (el.tagName === "SELECT") {
        Array.prototype.forEach.call(el.selectedOptions, function (option) {
          if (option.value) {
            values.push(option.value);
          }
        });
      } else if (el.type === "file") {
        if (el.files && el.files.length) {
          values.push("file");
        }
      } else if (el.value.trim()) {
        values.push(el.value.trim());
      }
    });
    return values;
  }

  // Whether anything is entered anywhere in a field (address parts, table cells, uploads).
  function isFilled(field) {
    var filled = false;
    field.querySelectorAll("input, select, textarea").forEach(function (el) {
      if (filled || el.disabled || el.type === "button" || el.type === "submit") {
        return;
      }
      if (el.type === "checkbox" || el.type === "radio") {
        filled = el.checked;
      } else if (el.type === "file") {
        filled = !!(el.files && el.files.length);
      } else if (el.tagName === "SELECT") {
        filled = Array.prototype.some.call(el.selectedOptions, function (option) {
          return option.value !== "";
        });
      } else {
        filled = el.value.trim() !== "";
      }
    });
    return filled;
  }

  function sameValue(given, wanted) {
    if (given === wanted) {
      return true;
    }
    // Numbers: "3" and "3.00" are the same, as on the server.
    var a = Number(given);
    var b = Number(wanted);
    return given !== "" && wanted !== "" && !isNaN(a) && !isNaN(b) && a === b;
  }

  function conditionHolds(form, condition) {
    var source = fieldOf(form, condition.field);
    if (!source || source.hidden) {
      return false;
    }
    if (typeof condition.filled === "boolean") {
      return isFilled(source) === condition.filled;
    }
    var wanted = condition.any_of || [condition.equals];
    return valuesOf(form, condition.field).some(function (value) {
      return wanted.some(function (w) {
        return sameValue(value, w);
      });
    });
  }

  function setShown(field, shown) {
    field.hidden = !shown;
    // Disabled controls are neither posted nor checked by the browser.
    field.querySelectorAll("input, select, textarea, button").forEach(function (el) {
      if (el.hasAttribute("data-form-add-row") || el.hasAttribute("data-form-remove-row")) {
        return;
      }
      el.disabled = !shown;
    });
  }

  // Fields come in document order and a condition names an earlier field, so one pass settles
  // chains (a field hidden because the field it depends on is hidden).
  function update(form) {
    form.querySelectorAll("[data-form-field][data-show-if]").forEach(function (field) {
      var condition;
      try {
        condition = JSON.parse(field.getAttribute("data-show-if"));
      } catch (e) {
        return;
      }
      setShown(field, conditionHolds(form, condition));
    });
  }

  function rowsOf(table) {
    return table.querySelectorAll("[data-form-rows] > [data-form-row]");
  }

  function refreshRows(table) {
    var rows = rowsOf(table);
    var min = parseInt(table.getAttribute("data-min-rows"), 10) || 0;
    var max = parseInt(table.getAttribute("data-max-rows"), 10) || 1;
    rows.forEach(function (row, i) {
      var number = row.querySelector("[data-form-row-number]");
      if (number && number.firstChild && number.firstChild.nodeType === Node.TEXT_NODE) {
        number.firstChild.nodeValue = String(i + 1);
      } else if (number) {
        number.insertBefore(document.createTextNode(String(i + 1)), number.firstChild);
      }
      var remove = row.querySelector("[data-form-remove-row]");
      if (remove) {
        remove.hidden = false;
        remove.disabled = rows.length <= Math.max(min, 1);
      }
    });
    var add = table.querySelector("[data-form-add-row]");
    if (add) {
      add.hidden = false;
      add.disabled = rows.length >= max;
    }
  }

  function addRow(form, table) {
    var template = table.querySelector("template[data-form-row-template]");
    var body = table.querySelector("[data-form-rows]");
    var max = parseInt(table.getAttribute("data-max-rows"), 10) || 1;
    if (!template || !body || rowsOf(table).length >= max) {
      return;
    }
    // Row numbers in names only need to be unique; the server renumbers them.
    var index = parseInt(table.getAttribute("data-next-row"), 10) || 0;
    table.setAttribute("data-next-row", String(index + 1));
    var fragment = template.content.cloneNode(true);
    fragment.querySelectorAll("*").forEach(function (el) {
      ROW_ATTRIBUTES.forEach(function (name) {
        var value = el.getAttribute(name);
        if (value !== null) {
          el.setAttribute(name, value.replace(ROW_PLACEHOLDER, String(index)));
        }
      });
    });
    var row = fragment.querySelector("[data-form-row]");
    body.appendChild(fragment);
    refreshRows(table);
    update(form);
    var first = row && row.querySelector("input, select, textarea");
    if (first) {
      first.focus();
    }
  }

  function removeRow(form, table, row) {
    var min = parseInt(table.getAttribute("data-min-rows"), 10) || 0;
    if (rowsOf(table).length <= Math.max(min, 1)) {
      return;
    }
    var next = row.nextElementSibling || row.previousElementSibling;
    row.remove();
    refreshRows(table);
    update(form);
    var focus = next && next.querySelector("[data-form-remove-row]");
    (focus || table.querySelector("[data-form-add-row]")).focus();
  }

  function setUp(form) {
    if (form.hasAttribute("data-form-ready")) {
      return;
    }
    form.setAttribute("data-form-ready", "");
    form.querySelectorAll("[data-form-table]").forEach(refreshRows);
    form.addEventListener("change", function () {
      update(form);
    });
    form.addEventListener("input", function () {
      update(form);
    });
    form.addEventListener("click", function (event) {
      var button = event.target.closest("[data-form-add-row], [data-form-remove-row]");
      if (!button || !form.contains(button)) {
        return;
      }
      var table = button.closest("[data-form-table]");
      if (button.hasAttribute("data-form-add-row")) {
        addRow(form, table);
      } else {
        removeRow(form, table, button.closest("[data-form-row]"));
      }
    });
    update(form);
  }

  document.querySelectorAll("[data-application-form]").forEach(setUp);
})();

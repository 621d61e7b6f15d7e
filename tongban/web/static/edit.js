// Uploading or removing a material reloads the page: carry what was typed in the form (and not
// yet saved) along, so it is saved rather than lost. Without script the forms work as before.
(function () {
  var main = document.getElementById("application-form");
  if (!main || !window.FormData) { return; }
  var snapshot = function () { return JSON.stringify(Array.from(new FormData(main).entries()).filter(function (e) { return e[0].indexOf("f_") === 0; })); };
  var initial = snapshot();
  document.querySelectorAll("form[data-carry-form]").forEach(function (form) {
    form.addEventListener("submit", function () {
      form.querySelectorAll("input[data-carried]").forEach(function (e) { e.remove(); });
      if (!main.hasAttribute("data-unsaved") && snapshot() === initial) { return; }
      var add = function (name, value) {
        var input = document.createElement("input");
        input.type = "hidden"; input.name = name; input.value = value; input.setAttribute("data-carried", "");
        form.appendChild(input);
      };
      add("with_form", "1");
      new FormData(main).forEach(function (value, name) { if (name.indexOf("f_") === 0) { add(name, value); } });
    });
  });
})();

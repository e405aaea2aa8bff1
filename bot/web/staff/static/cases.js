// Saved replies: one click puts the translated text into the reply box.
document.querySelectorAll(".saved-reply").forEach(function (button) {
  button.addEventListener("click", function () {
    var box = document.getElementById("body");
    box.value = box.value ? box.value + " " + button.dataset.text : button.dataset.text;
    box.focus();
  });
});

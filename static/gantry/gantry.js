// Small progressive enhancements; every page works without this file.
document.addEventListener("click", (event) => {
  const button = event.target.closest("[data-copy-target]");
  if (!button) return;
  const source = document.querySelector(button.dataset.copyTarget);
  if (!source) return;
  navigator.clipboard.writeText(source.textContent).then(() => {
    const label = button.textContent;
    button.textContent = "Copied";
    setTimeout(() => { button.textContent = label; }, 1500);
  });
});
document.addEventListener("submit", (event) => {
  const message = event.target.dataset.confirm;
  if (message && !window.confirm(message)) event.preventDefault();
});
// Wizard: the image follows the serving runtime until the user types one of their own.
document.addEventListener("change", (event) => {
  if (event.target.name !== "runtime__kind") return;
  const image = event.target.form && event.target.form.elements.namedItem("runtime__image");
  if (!image || !image.dataset.runtimeImages) return;
  const defaults = JSON.parse(image.dataset.runtimeImages);
  const ours = image.value === "" || Object.values(defaults).includes(image.value);
  if (ours) image.value = defaults[event.target.value] || "";
});

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
// Logs panel: with Follow on, the log API's follow=1 stream is appended to the <pre> as it comes. The server
// ends each stream within a minute, so it is reopened while this <pre> is still on the page; unticking
// Follow redraws the panel without data-follow-url and the old stream is cancelled at its next chunk.
function logFollow(pre) {
  if (pre.dataset.streaming) return;
  pre.dataset.streaming = "1";
  const open = () => {
    if (!pre.isConnected) return;
    const decoder = new TextDecoder();
    fetch(pre.dataset.followUrl, { credentials: "same-origin", headers: { Accept: "text/plain" } })
      .then((response) => {
        if (!response.ok || !response.body) throw new Error(`HTTP ${response.status}`);
        const reader = response.body.getReader();
        const pump = () => reader.read().then(({ done, value }) => {
          if (!pre.isConnected) return reader.cancel();
          if (done) return open();
          const atEnd = pre.scrollTop + pre.clientHeight >= pre.scrollHeight - 8;
          pre.append(decoder.decode(value, { stream: true }));
          while (pre.childNodes.length > 2000) pre.firstChild.remove();
          if (atEnd) pre.scrollTop = pre.scrollHeight;
          return pump();
        });
        return pump();
      })
      .catch(() => { setTimeout(open, 5000); });
  };
  pre.scrollTop = pre.scrollHeight;
  open();
}
document.addEventListener("htmx:load", (event) => {
  const root = event.detail.elt;
  if (root.querySelectorAll) root.querySelectorAll("pre[data-follow-url]").forEach(logFollow);
});

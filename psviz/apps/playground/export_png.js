// The Proxy Synthesis Playground's "figures PNG" button: every plotly figure on the page, drawn by plotly.js in
// the browser (nothing leaves the machine), stacked into one image and downloaded as playground.png.
(async () => {
  const plots = [];
  const walk = (root) => {  // Panel draws each figure inside a shadow root
    for (const el of root.querySelectorAll("*")) {
      if (el.classList && el.classList.contains("js-plotly-plot")) plots.push(el);
      if (el.shadowRoot) walk(el.shadowRoot);
    }
  };
  walk(document);
  const images = [];
  for (const gd of plots) {
    const url = await window.Plotly.toImage(gd, {format: "png", width: gd.clientWidth, height: gd.clientHeight});
    const image = new Image();
    image.src = url;
    await image.decode();
    images.push(image);
  }
  if (!images.length) return;
  const canvas = document.createElement("canvas");
  canvas.width = Math.max(...images.map((i) => i.width));
  canvas.height = images.reduce((sum, i) => sum + i.height, 0);
  const context = canvas.getContext("2d");
  context.fillStyle = "white";
  context.fillRect(0, 0, canvas.width, canvas.height);
  let top = 0;
  for (const image of images) {
    context.drawImage(image, 0, top);
    top += image.height;
  }
  const link = document.createElement("a");
  link.download = "playground.png";
  link.href = canvas.toDataURL("image/png");
  document.body.appendChild(link);
  link.click();
  link.remove();
})();

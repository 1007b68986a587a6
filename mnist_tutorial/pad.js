// The digit pad's front end (mnist_tutorial/pad.py is the rest): a canvas to draw on, the 28x28
// image the model is given, and its ten probabilities. The kernel prepares and reads the drawing;
// this file draws, sends the canvas's ink (one byte per pixel), and shows what comes back.

function render({ model, el }) {
  const size = model.get("size");
  el.classList.add("digit-pad");
  el.innerHTML = `
    <canvas class="digit-pad-canvas" width="${size}" height="${size}" aria-label="draw a digit here"></canvas>
    <div class="digit-pad-side">
      <button class="digit-pad-clear" type="button">Clear</button>
      <div class="digit-pad-caption">what the model is given</div>
      <canvas class="digit-pad-image" width="28" height="28"></canvas>
      <div class="digit-pad-message" aria-live="polite"></div>
      <div class="digit-pad-note"></div>
      <div class="digit-pad-bars"></div>
    </div>`;
  const canvas = el.querySelector(".digit-pad-canvas");
  const pen = canvas.getContext("2d", { willReadFrequently: true });
  const seen = el.querySelector(".digit-pad-image").getContext("2d");
  const message = el.querySelector(".digit-pad-message");
  const note = el.querySelector(".digit-pad-note");
  const bars = el.querySelector(".digit-pad-bars");
  bars.innerHTML = [...Array(10).keys()]
    .map((digit) => `<div class="digit-pad-bar"><span>${digit}</span><div><i></i></div></div>`).join("");

  // Drawing: a round black pen on a transparent canvas, so the alpha channel is the ink.
  let strokes = [], drawing = false;
  const line = (from, to) => {
    pen.lineWidth = model.get("pen_width");
    pen.lineCap = pen.lineJoin = "round";
    pen.strokeStyle = "#000";
    pen.beginPath();
    pen.moveTo(...from);
    pen.lineTo(...to);
    pen.stroke();
  };
  const paint = () => {
    pen.clearRect(0, 0, size, size);
    for (const stroke of strokes) stroke.forEach((point, i) => line(stroke[Math.max(0, i - 1)], point));
  };
  const at = (event) => {
    const box = canvas.getBoundingClientRect();
    return [(event.clientX - box.left) * (size / box.width), (event.clientY - box.top) * (size / box.height)];
  };

  // Reading: at most one per animation frame, and never a second while the kernel works on the first.
  let wanted = false, waiting = false, frame = 0, timer = 0, strokeEnded = 0;
  const busy = () => (el.dataset.busy = String(wanted || waiting));
  const send = () => {
    frame = 0;
    if (!wanted || waiting) return;
    wanted = false;
    waiting = true;
    clearTimeout(timer);
    timer = setTimeout(answered, 10000); // a kernel that never answers must not freeze the pad
    const rgba = pen.getImageData(0, 0, size, size).data;
    const ink = new Uint8Array(size * size);
    for (let i = 0; i < ink.length; i++) ink[i] = rgba[4 * i + 3];
    model.send({ type: "pixels", width: size, height: size }, undefined, [ink.buffer]);
  };
  const want = () => {
    wanted = true;
    busy();
    if (!frame) frame = requestAnimationFrame(send);
  };
  function answered() {
    waiting = false;
    clearTimeout(timer);
    if (wanted && !frame) frame = requestAnimationFrame(send);
    if (!wanted && strokeEnded) {
      el.dataset.latency = (performance.now() - strokeEnded).toFixed(1); // end of stroke to its reading shown
      strokeEnded = 0;
    }
    busy();
  }

  canvas.addEventListener("pointerdown", (event) => {
    drawing = true;
    canvas.setPointerCapture(event.pointerId);
    strokes.push([at(event)]);
    line(at(event), at(event));
    want();
  });
  canvas.addEventListener("pointermove", (event) => {
    if (!drawing) return;
    const stroke = strokes[strokes.length - 1];
    line(stroke[stroke.length - 1], at(event));
    stroke.push(at(event));
    want();
  });
  const lift = () => {
    if (!drawing) return;
    drawing = false;
    strokeEnded = performance.now();
    want();
  };
  canvas.addEventListener("pointerup", lift);
  canvas.addEventListener("pointercancel", lift);
  el.querySelector(".digit-pad-clear").addEventListener("click", () => {
    strokes = [];
    paint();
    model.set("strokes", []);
    model.save_changes();
    want();
  });

  // What the kernel sends back: the prepared image, the probabilities, the message.
  const show = () => {
    const image = model.get("image"), probabilities = model.get("probabilities"), guess = model.get("guess");
    const pixels = seen.createImageData(28, 28);
    image.forEach((value, i) => {
      pixels.data.set([value, value, value, 255], 4 * i);
    });
    if (image.length === 0) for (let i = 3; i < pixels.data.length; i += 4) pixels.data[i] = 255;
    seen.putImageData(pixels, 0, 0);
    [...bars.children].forEach((bar, digit) => {
      bar.querySelector("i").style.width = `${100 * (probabilities[digit] ?? 0)}%`;
      bar.classList.toggle("digit-pad-guess", digit === guess);
    });
    message.textContent = model.get("message");
    note.textContent = model.get("note"); // LOGITS_NOTE when the bars are the softmax of the model's logits
    el.dataset.answered = String(model.get("answered"));
  };
  model.on("change:answered", () => {
    show();
    answered();
  });
  model.on("change:strokes", () => {
    strokes = structuredClone(model.get("strokes"));
    paint();
  });
  strokes = structuredClone(model.get("strokes"));
  paint();
  show();
  busy();
  return () => clearTimeout(timer);
}

export default { render };

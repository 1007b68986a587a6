// The digit pad on notebook 05's page of the book (mnist_tutorial/tools/book_pad.py puts it there): the
// widget's own front end (pad.js, unchanged), with the kernel's part done in the page. A drawing is prepared
// as mnist_tutorial.pad.read_drawing prepares it (prepare_image's steps for a canvas: ink_on_black,
// even_strokes, center_by_mass, each ported from mnist_tutorial/images.py in float32 as NumPy computes it),
// and read by the convnet exported when the book was built (convnet.json, convnet.bin) in a plain forward pass.

import widget from "./pad.js";

export const DRAW_A_DIGIT = "draw a digit"; // as mnist_tutorial.pad names them
export const LOGITS_NOTE = "the model gives logits: showing their softmax";
const INK_THRESHOLD = 0.3, MIN_CONTRAST = 0.15, MNIST_STROKE_WIDTH = 1.9, WORKING_SIZE = 360;
const f32 = Math.fround;

/** An error named as Python's, so the pad's line reads as the notebook's. */
export class ValueError extends Error {
  constructor(message) { super(message); this.name = "ValueError"; }
}

/** Python's round(): halves to even. */
export function roundHalfEven(x) {
  return Math.abs(x % 1) === 0.5 ? 2 * Math.round(x / 2) : Math.round(x);
}

/** An image: its height, width and float32 pixels, row by row. */
const image = (h, w, data = new Float32Array(h * w)) => ({ h, w, data });
/** The lines of an image along ``axis``: down the columns (0) or along the rows (1), as (count, length, first, step). */
const lines = ({ h, w }, axis) => (axis === 0 ? [w, h, (i) => i, w] : [h, w, (i) => i * w, 1]);
/** An image's pixels through ``f``, into a new image. */
const each = ({ h, w, data }, f) => {
  const out = new Float32Array(h * w);
  for (let i = 0; i < out.length; i++) out[i] = f(data[i]);
  return image(h, w, out);
};

/** The k-th and (k+1)-th smallest of ``values`` (k from 0), by Hoare's selection: what sorting would give, faster. */
function select(values, k) {
  const a = Float32Array.from(values);
  let low = 0, high = a.length - 1;
  while (low < high) {
    const pivot = a[(low + high) >> 1];
    let i = low, j = high;
    while (i <= j) {
      while (a[i] < pivot) i++;
      while (a[j] > pivot) j--;
      if (i <= j) { const swap = a[i]; a[i] = a[j]; a[j] = swap; i++; j--; }
    }
    if (k <= j) high = j;
    else if (k >= i) low = i;
    else break;
  }
  let next = Infinity;
  for (let i = k + 1; i < a.length; i++) if (a[i] < next) next = a[i];
  return [a[k], k + 1 < a.length ? next : a[k]];
}

/** NumPy's median of float32 values: the middle one, or the float32 mean of the two. */
function median(values) {
  const n = values.length, [a, b] = select(values, (n - 1) >> 1);
  return n % 2 ? a : f32(f32(a + b) / 2);
}

/** NumPy's percentile (the linear method) of float32 values, q in [0, 100], as NumPy computes it. */
function percentile(values, q) {
  const n = values.length, quantile = q / 100;
  const virtual = n * quantile + (1 + quantile * (1 - 1 - 1)) - 1;
  const below = Math.min(Math.max(Math.floor(virtual), 0), n - 1), [a, above] = select(values, below);
  const b = below + 1 < n ? above : a, gamma = virtual - Math.floor(virtual), difference = f32(b - a);
  return gamma >= 0.5 ? b - difference * (1 - gamma) : a + difference * gamma;
}

/** Whether the line of ``length`` pixels from ``start`` by ``step`` holds one value alone: ``value``. */
function constant(data, start, length, step, value) {
  for (let j = 0; j < length; j++) if (data[start + j * step] !== value) return false;
  return true;
}

/** The mean over a centred ``size`` along ``axis``, of the pixels inside the image, summed in float32 in NumPy's order. */
function runningMean(img, size, axis) {
  const [count, length, first, step] = lines(img, axis), half = size >> 1, out = new Float32Array(img.data.length);
  for (let line = 0; line < count; line++) {
    const start = first(line);
    if (constant(img.data, start, length, step, 0)) continue;  // bare canvas: its mean is 0, as out holds
    for (let j = 0; j < length; j++) {
      const low = Math.max(0, j - half), high = Math.min(length - 1, j + half);
      let total = 0;
      for (let k = low; k <= high; k++) total = f32(total + img.data[start + k * step]);
      out[start + j * step] = f32(total / (high - low + 1));
    }
  }
  return image(img.h, img.w, out);
}

/**
 * The maximum over a centred ``window`` along ``axis``, -inf outside (images._running_max), by van Herk's blocks;
 * with ``sign`` -1, the minimum (images' -_max_filter(-image)). A line of one value stays as it is.
 */
function runningMax(img, window, axis, sign = 1) {
  const [count, length, first, step] = lines(img, axis), before = (window - 1) >> 1, data = img.data;
  const size = Math.ceil((length + window - 1) / window) * window, out = new Float32Array(data.length);
  const padded = new Float64Array(size), prefix = new Float64Array(size), suffix = new Float64Array(size);
  for (let line = 0; line < count; line++) {
    const start = first(line);
    if (constant(data, start, length, step, data[start])) {
      for (let j = 0; j < length; j++) out[start + j * step] = data[start];
      continue;
    }
    padded.fill(-Infinity);
    for (let j = 0; j < length; j++) padded[j + before] = sign * data[start + j * step];
    for (let block = 0; block < size; block += window) {
      let most = -Infinity;
      for (let i = block; i < block + window; i++) prefix[i] = most = padded[i] > most ? padded[i] : most;
      most = -Infinity;
      for (let i = block + window - 1; i >= block; i--) suffix[i] = most = padded[i] > most ? padded[i] : most;
    }
    for (let j = 0; j < length; j++) {
      const a = suffix[j], b = prefix[j + window - 1];
      out[start + j * step] = sign * (a > b ? a : b);
    }
  }
  return image(img.h, img.w, out);
}

const maxFilter = (img, window) => runningMax(runningMax(img, window, 0), window, 1);
const minFilter = (img, window) => runningMax(runningMax(img, window, 0, -1), window, 1, -1);

/** The strokes' width of bright-on-black ink: its area over half its outline (images.stroke_width). */
export function strokeWidth({ h, w, data }) {
  let most = -Infinity;
  for (let i = 0; i < data.length; i++) if (data[i] > most) most = data[i];
  const half = f32(most / 2);
  let area = 0, outline = 0;
  for (let r = 0; r < h; r++) {
    for (let c = 0; c < w; c++) {
      const here = data[r * w + c] > half;
      if (!here) continue;
      area++;  // each side of an inside pixel that is outside, or the image's edge, is outline
      outline += (r === 0 || !(data[(r - 1) * w + c] > half)) + (r === h - 1 || !(data[(r + 1) * w + c] > half));
      outline += (c === 0 || !(data[r * w + c - 1] > half)) + (c === w - 1 || !(data[r * w + c + 1] > half));
    }
  }
  return (2 * area) / Math.max(outline, 1);
}

/** The first and last rows and columns that hold ink; null without ink. */
function bounds({ h, w, data }) {
  let top = h, bottom = -1, left = w, right = -1;
  for (let r = 0; r < h; r++) {
    for (let c = 0; c < w; c++) {
      if (data[r * w + c] !== 0) {
        top = Math.min(top, r); bottom = Math.max(bottom, r); left = Math.min(left, c); right = Math.max(right, c);
      }
    }
  }
  return bottom < 0 ? null : { top, bottom, left, right };
}

/** The ink on the paper, with the paper under it subtracted: one window of images.ink_on_black's loop. */
function inkAbovePaper(smooth, window) {
  const paper = maxFilter(minFilter(smooth, window), window), ink = new Float32Array(smooth.data.length);
  for (let i = 0; i < ink.length; i++) ink[i] = smooth.data[i] - paper.data[i];
  const peak = percentile(ink, 99.9), middle = median(ink);
  const spread = median(each(image(1, ink.length, ink), (v) => Math.abs(v - middle)).data);
  const noiseFloor = middle + 6 * 1.4826 * spread, threshold = f32(Math.max(INK_THRESHOLD * peak, noiseFloor));
  const divisor = f32(Math.max(peak, MIN_CONTRAST));
  const scaled = each(image(smooth.h, smooth.w, ink),
                      (v) => (v < threshold ? 0 : Math.min(Math.max(f32(v / divisor), 0), 1)));
  return { scaled, peak };
}

/** Make the ink bright on black, with the paper removed (images.ink_on_black). */
export function inkOnBlack(gray) {
  const { h, w, data } = gray, border = [];
  for (let c = 0; c < w; c++) border.push(data[c], data[(h - 1) * w + c]);
  for (let r = 0; r < h; r++) border.push(data[r * w], data[r * w + w - 1]);
  const inverted = median(border) < 0.5 ? gray : each(gray, (v) => 1 - v);
  const blur = 2 * Math.floor(Math.min(h, w) / 200) + 1;
  const smooth = runningMean(runningMean(inverted, blur, 0), blur, 1);
  const base = Math.max(3, Math.floor(Math.min(h, w) / 6)), middle = median(smooth.data);
  const strokes = strokeWidth(each(smooth, (v) => v - middle));
  const wide = Math.min(Math.min(h, w), roundHalfEven(3 * strokes));
  const evenPaper = percentile(border, 95) - percentile(border, 5) < MIN_CONTRAST;
  let peak = 0;
  for (const window of evenPaper && wide > base ? [wide, base] : [base]) {
    const found = inkAbovePaper(smooth, window);
    peak = found.peak;
    if (peak >= MIN_CONTRAST && found.scaled.data.some((v) => v !== 0)) return found.scaled;
  }
  throw new ValueError(`the image has no visible ink: the brightest strokes stand ${peak.toFixed(2)} above the paper ` +
    `(needs ${MIN_CONTRAST}, and above the paper's noise); is it blank, or the photo too dark or washed out?`);
}

/** Thin or thicken the strokes to MNIST's width once fitted into ``box`` (images.even_strokes). */
export function evenStrokes(digit, box = 20, width = MNIST_STROKE_WIDTH) {
  const found = bounds(digit);
  if (found === null) throw new ValueError("the image has no ink to even out");
  const longer = Math.max(found.bottom - found.top, found.right - found.left) + 1, current = strokeWidth(digit);
  let change = roundHalfEven((current - (width * longer) / box) / (1 - width / box));
  change = Math.trunc(Math.min(change, current / 2));
  if (change > 0) return minFilter(digit, change + 1);
  if (change < 0) return maxFilter(digit, 1 - change);
  return digit;
}

/** TensorFlow's resize_area weights along one side: for each output cell, its first cell, and each cell's share. */
function areaWeights(inSize, outSize) {
  const scale = f32(inSize / outSize), cells = [];
  for (let o = 0; o < outSize; o++) {
    const start = f32(o * scale), end = f32((o + 1) * scale), shares = [];
    for (let i = Math.floor(start); i < Math.ceil(end); i++) {
      const share = i < start ? (i + 1 > end ? scale : f32(i + 1 - start)) : (i + 1 > end ? f32(end - i) : 1);
      shares.push([Math.min(Math.max(i, 0), inSize - 1), share]);
    }
    cells.push(shares);
  }
  return { scale, cells };
}

/** ``tf.image.resize(..., method="area")``, in TensorFlow's order of float32 sums (resize_area_op.cc). */
export function resizeArea({ h, w, data }, height, width) {
  const rows = areaWeights(h, height), cols = areaWeights(w, width), out = new Float32Array(height * width);
  const scale = f32(1 / f32(rows.scale * cols.scale));
  rows.cells.forEach((rowShares, y) => cols.cells.forEach((colShares, x) => {
    let sum = 0;
    for (const [row, rowShare] of rowShares) {
      let sumY = f32(data[row * w + colShares[0][0]] * colShares[0][1]);
      for (let k = 1; k < colShares.length - 1; k++) sumY = f32(sumY + data[row * w + colShares[k][0]]);
      if (colShares.length > 1) {
        const [col, share] = colShares[colShares.length - 1];
        sumY = f32(sumY + f32(data[row * w + col] * share));
      }
      sum = f32(sum + f32(sumY * rowShare));
    }
    out[y * width + x] = f32(sum * scale);
  }));
  return image(height, width, out);
}

/** Fit the ink into a ``box`` square and centre its mass in a ``size`` square (images.center_by_mass). */
export function centerByMass(digit, size = 28, box = 20) {
  const found = bounds(digit);
  if (found === null) throw new ValueError("the image has no ink to centre");
  const cropH = found.bottom - found.top + 1, cropW = found.right - found.left + 1, crop = image(cropH, cropW);
  for (let r = 0; r < cropH; r++) {
    crop.data.set(digit.data.subarray((found.top + r) * digit.w + found.left, (found.top + r) * digit.w + found.right + 1),
                  r * cropW);
  }
  const factor = box / Math.max(cropH, cropW);
  const height = Math.max(1, roundHalfEven(cropH * factor)), width = Math.max(1, roundHalfEven(cropW * factor));
  const fitted = resizeArea(crop, height, width);
  let mass = 0, massRow = 0, massCol = 0;
  fitted.data.forEach((v, i) => { mass += v; massRow += Math.floor(i / width) * v; massCol += (i % width) * v; });
  const place = (centre, side) => Math.min(Math.max(roundHalfEven((size - 1) / 2 - centre / mass), 0), size - side);
  const top = place(massRow, height), left = place(massCol, width), out = image(size, size);
  for (let r = 0; r < height; r++) out.data.set(fitted.data.subarray(r * width, (r + 1) * width), (top + r) * size + left);
  return out;
}

/**
 * Prepare the canvas's ink (one byte per pixel, 0 bare, 255 full) as mnist_tutorial.pad.read_drawing does:
 * the 784 float32 pixels the model is given, or null when the ink spans less than two pen widths.
 */
export function readDrawing(ink, size, penWidth) {
  if (size > WORKING_SIZE) throw new ValueError(`the book's pad prepares canvases up to ${WORKING_SIZE} pixels`);
  const gray = each(image(size, size, ink), (v) => f32(v / 255)), found = bounds(gray);
  if (found === null || Math.max(found.bottom - found.top, found.right - found.left) + 1 < 2 * penWidth) return null;
  const digit = centerByMass(evenStrokes(inkOnBlack(gray)));
  let most = -Infinity;
  for (const v of digit.data) if (v > most) most = v;
  return each(digit, (v) => f32(v / most)).data;
}

/** Fetch the exported convnet: its description (convnet.json) and float32 weights, checked against it. */
export async function loadNet(url) {
  const description = await (await fetch(url)).json();
  const response = await fetch(new URL(description.weights, new URL(url, location.href)));
  const weights = new Float32Array(await response.arrayBuffer());
  if (weights.length !== description.parameters) {
    throw new Error(`${description.weights}: ${weights.length} weights, ${description.parameters} expected`);
  }
  for (const layer of description.layers) {
    for (const part of ["kernel", "bias"]) {
      if (layer[part]) layer[part].values = weights.subarray(layer[part].offset, layer[part].offset + layer[part].size);
    }
  }
  return description;
}

const activate = (values, activation) => (activation === "relu" ? values.map((v) => Math.max(v, 0)) : values);

/** A Conv2D layer (channels last, stride and "valid" or "same" padding as Keras') on an [h, w, c] input. */
function conv2d(input, [h, w, c], layer) {
  const [kh, kw, , filters] = layer.kernel.shape, [sh, sw] = layer.strides, kernel = layer.kernel.values;
  const same = layer.padding === "same", outH = same ? Math.ceil(h / sh) : Math.floor((h - kh) / sh) + 1;
  const outW = same ? Math.ceil(w / sw) : Math.floor((w - kw) / sw) + 1;
  const padTop = same ? Math.floor(Math.max((outH - 1) * sh + kh - h, 0) / 2) : 0;
  const padLeft = same ? Math.floor(Math.max((outW - 1) * sw + kw - w, 0) / 2) : 0;
  const out = new Float32Array(outH * outW * filters), sum = new Float64Array(filters);
  for (let y = 0; y < outH; y++) {
    for (let x = 0; x < outW; x++) {
      sum.set(layer.bias.values);
      for (let ky = 0; ky < kh; ky++) {
        const row = y * sh + ky - padTop;
        if (row < 0 || row >= h) continue;
        for (let kx = 0; kx < kw; kx++) {
          const col = x * sw + kx - padLeft;
          if (col < 0 || col >= w) continue;
          for (let i = 0; i < c; i++) {
            const v = input[(row * w + col) * c + i], at = ((ky * kw + kx) * c + i) * filters;
            if (v !== 0) for (let f = 0; f < filters; f++) sum[f] += v * kernel[at + f];
          }
        }
      }
      out.set(activate(sum, layer.activation), (y * outW + x) * filters);
    }
  }
  return [out, [outH, outW, filters]];
}

/** A Dense layer on a flat input. */
function dense(input, layer) {
  const [inputs, units] = layer.kernel.shape, kernel = layer.kernel.values, sum = Float64Array.from(layer.bias.values);
  for (let i = 0; i < inputs; i++) {
    const v = input[i];
    if (v !== 0) for (let u = 0; u < units; u++) sum[u] += v * kernel[i * units + u];
  }
  return Float32Array.from(activate(sum, layer.activation === "softmax" ? "linear" : layer.activation));
}

/** The softmax of float32 outputs, in float64. */
export function softmax(values) {
  const most = Math.max(...values), exps = Array.from(values, (v) => Math.exp(v - most));
  const total = exps.reduce((a, b) => a + b, 0);
  return exps.map((v) => v / total);
}

/** The net's ten probabilities for a prepared digit (784 pixels), and whether they are the softmax of logits. */
export function forward(net, pixels) {
  let values = Float32Array.from(pixels), shape = net.input;
  for (const layer of net.layers) {
    if (layer.type === "conv2d") [values, shape] = conv2d(values, shape, layer);
    else if (layer.type === "flatten") shape = [values.length];
    else if (layer.type === "dense") {
      values = dense(values, layer);
      shape = [values.length];
    }
  }
  const last = net.layers[net.layers.length - 1];
  return { probabilities: softmax(values), logits: last.activation !== "softmax" };
}

/** An exception in one line, as mnist_tutorial.pad._one_line gives it: its type and its message's first line. */
function oneLine(error, limit = 200) {
  const first = String(error.message ?? error).split("\n").map((line) => line.trim()).find((line) => line) ?? "";
  const line = first ? `${error.name ?? "Error"}: ${first}` : `${error.name ?? "Error"}`;
  return line.length <= limit ? line : `${line.slice(0, limit - 1)}…`;
}

/** Read the canvas's ink: what the widget's kernel would send back (image 0-255, probabilities, guess, message, note). */
export function read(net, ink, size, penWidth) {
  let pixels;
  try {
    pixels = readDrawing(ink, size, penWidth);
    if (pixels === null) return { image: [], probabilities: [], guess: null, message: DRAW_A_DIGIT, note: "", pixels };
    const { probabilities, logits } = forward(net, pixels);
    const guess = probabilities.indexOf(Math.max(...probabilities));
    const message = `${guess} (${(100 * probabilities[guess]).toFixed(1)}%)`;
    const shown = Array.from(pixels, (v) => roundHalfEven(f32(v * 255)));
    return { image: shown, probabilities, guess, message, note: logits ? LOGITS_NOTE : "", pixels };
  } catch (error) {
    const message = `could not read the drawing: ${oneLine(error)}`;
    return { image: [], probabilities: [], guess: null, message, note: "", pixels: null, error };
  }
}

/** A stand-in for the widget's model (anywidget's get, set, on, send): the page reads each drawing pad.js sends. */
function pageModel(net, state, onRead) {
  const handlers = {};
  const fire = (event) => (handlers[event] ?? []).forEach((handler) => handler());
  return {
    get: (name) => state[name],
    set: (name, value) => { state[name] = value; },
    save_changes() {},
    on(event, handler) { (handlers[event] ??= []).push(handler); },
    off() {},
    fire,
    send(content, _callbacks, buffers) {
      const began = performance.now();
      const reading = read(net, new Uint8Array(buffers[0]), content.width, state.pen_width);
      Object.assign(state, { image: reading.image, probabilities: reading.probabilities, guess: reading.guess,
                             message: reading.message, note: reading.note, answered: state.answered + 1 });
      onRead(reading, performance.now() - began);
      fire("change:answered");
    },
  };
}

/** Put the pad in ``el`` (its data-model names convnet.json), in place of its picture; return what tests call. */
export async function mount(el) {
  const net = await loadNet(el.dataset.model);
  const bar = Uint8Array.from({ length: net.canvas ** 2 }, (_, i) => (Math.abs((i % net.canvas) - net.canvas / 2) < 10 &&
    Math.abs(Math.floor(i / net.canvas) - net.canvas / 2) < 80 ? 255 : 0));
  read(net, bar, net.canvas, net.pen_width);  // a "1" read once at load: the first reading drawn is as quick as the rest
  const state = { size: net.canvas, pen_width: net.pen_width, strokes: [], image: [],
                  probabilities: [], guess: null, message: DRAW_A_DIGIT, note: "", answered: 0 };
  const pad = document.createElement("div"), readings = [];
  const model = pageModel(net, state, (reading, ms) => {
    readings.push(ms);
    pad.dataset.readMs = ms.toFixed(1);
  });
  el.querySelector(".digit-pad-book-picture")?.setAttribute("hidden", "");
  el.prepend(pad);
  widget.render({ model, el: pad });
  const canvas = pad.querySelector(".digit-pad-canvas");
  const ink = () => {
    const rgba = canvas.getContext("2d").getImageData(0, 0, state.size, state.size).data;
    return Uint8Array.from({ length: state.size * state.size }, (_, i) => rgba[4 * i + 3]);
  };
  const replay = (strokes) => {  // as the kernel's pad.draw: the strokes painted by pad.js
    model.set("strokes", strokes);
    model.fire("change:strokes");
    return ink();
  };
  el.bookPad = { net, readings, ink, replay, read: (pixels) => read(net, pixels, state.size, state.pen_width) };
  el.dataset.ready = "yes";
  return el.bookPad;
}

for (const el of globalThis.document?.querySelectorAll(".digit-pad-book[data-model]") ?? []) {
  mount(el).catch((error) => {
    el.dataset.ready = "failed";
    el.querySelector(".digit-pad-book-status").textContent = `The pad could not start here (${error.message}): ` +
      "this is its picture.";
  });
}

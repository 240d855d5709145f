// rnnlab explore: the page. State from the URL query, controls, the unrolled SVG, the step
// player, the gradient chart, the model's heatmap, and #trace kept equal to the computation.
"use strict";

(() => {
  const $ = (id) => document.getElementById(id);
  const SVG = "http://www.w3.org/2000/svg";
  const MAX_STEPS = 50;
  const WEIGHTS = [
    ["wx", "Wx", "input weight", "wx"],
    ["wh", "Wh", "recurrent weight", "wh"],
    ["b", "b", "hidden bias", "bb"],
    ["wout", "W_out", "output weight", "out"],
    ["bout", "b_out", "output bias", "out"],
    ["h0", "h₀", "initial hidden state", "wh"],
  ];
  const DEFAULTS = {
    inputs: [0, 0], wx: 1.8, wh: -0.5, b: 0, wout: 1.1, bout: 0, h0: 0,
    activation: "tanh", scaleKind: "none", scaleA: 0, scaleB: 1, target: 0,
  };
  const model = JSON.parse($("model").textContent || "null");
  // a gated cell's numbers are computed by rnnlab (torch) and embedded; the page shows them
  const gated = Boolean(model) && model.cell !== "rnn";
  const embedded = gated ? JSON.parse($("trace").textContent) : null;
  let state = { ...DEFAULTS };
  let live = 2; // the highlighted time step
  let timer = null;
  let last = null; // the last good computation

  // numbers as the page shows them: 4 significant digits, exponents for the very small or large
  function fmt(v) {
    if (!Number.isFinite(v)) return String(v);
    if (v === 0) return "0";
    const a = Math.abs(v);
    let s = a >= 1e-3 && a < 1e5 ? String(Number(v.toPrecision(4))) : v.toExponential(2).replace("e+", "e");
    return s.replace("-", "−");
  }
  const SUB = "₀₁₂₃₄₅₆₇₈₉";
  const sub = (n) => String(n).split("").map((d) => SUB[+d]).join("");

  function showError(message) {
    const box = $("error");
    box.hidden = !message;
    box.textContent = message || "";
  }

  function parseNumber(text, name) {
    const s = String(text).trim().replace(/\u2212/g, "-");
    const v = s === "" ? NaN : Number(s);
    if (!Number.isFinite(v)) throw new Error(`${name}: ${JSON.stringify(String(text))} is not a finite number`);
    return v;
  }

  function parseList(text, name) {
    const items = String(text).split(",");
    if (!String(text).trim()) throw new Error(`${name}: the list is empty`);
    const values = items.map((s, i) => parseNumber(s, `${name} item ${i + 1}`));
    if (values.length > MAX_STEPS) throw new Error(`${name}: ${values.length} values; the page takes at most ${MAX_STEPS}`);
    return values;
  }

  // ?inputs=0.2,0.5&wx=1.8&wh=-0.5&b=0&wout=1.1&bout=0&h0=0&activation=tanh&scale=100,200
  function fromQuery(search) {
    const q = new URLSearchParams(search);
    const s = { ...DEFAULTS };
    if (model) {
      s.inputs = model.window.slice();
      s.activation = model.activation || "tanh";
      s.scaleKind = model.scale.kind;
      [s.scaleA, s.scaleB] = model.scale.kind === "minmax" ? [model.scale.low, model.scale.high] : [model.scale.mean, model.scale.std];
    }
    const problems = [];
    const take = (key, fn) => {
      if (!q.has(key)) return;
      try { fn(q.get(key)); } catch (e) { problems.push(e.message); }
    };
    for (const key of gated ? ["inputs", "target"] : []) {
      if (q.has(key)) problems.push(`${key}: this ${model.cell}'s numbers were computed by rnnlab for its own window; the page shows them as they are`);
      q.delete(key);
    }
    take("inputs", (v) => { s.inputs = parseList(v, "inputs"); });
    if (!model) {
      for (const [key] of WEIGHTS) take(key, (v) => { s[key] = parseNumber(v, key); });
      take("activation", (v) => {
        if (v !== "tanh" && v !== "relu") throw new Error(`activation: choose tanh or relu, not ${JSON.stringify(v)}`);
        s.activation = v;
      });
      for (const [key, kind] of [["scale", "minmax"], ["standard", "standard"]]) {
        take(key, (v) => {
          const pair = parseList(v, key);
          if (pair.length !== 2) throw new Error(`${key}: expected two numbers, got ${pair.length}`);
          checkScale(kind, pair[0], pair[1]);
          [s.scaleKind, s.scaleA, s.scaleB] = [kind, pair[0], pair[1]];
        });
      }
    }
    take("target", (v) => { s.target = parseNumber(v, "target"); });
    take("step", (v) => { live = Math.round(parseNumber(v, "step")); });
    return { state: s, problems };
  }

  function checkScale(kind, a, b) {
    if (kind === "minmax" && !(a < b)) throw new Error("scale: needs MIN < MAX");
    if (kind === "standard" && !(b > 0)) throw new Error("standard: needs STD > 0");
  }

  function toQuery(s) {
    const q = new URLSearchParams();
    q.set("inputs", s.inputs.map(String).join(","));
    if (!model) {
      for (const [key] of WEIGHTS) q.set(key, String(s[key]));
      q.set("activation", s.activation);
      if (s.scaleKind !== "none") q.set(s.scaleKind === "minmax" ? "scale" : "standard", `${s.scaleA},${s.scaleB}`);
    }
    if (s.target !== 0) q.set("target", String(s.target));
    return q.toString().replace(/%2C/g, ",");
  }

  function params(s) {
    if (model) return model.weights;
    return { wx: [[s.wx]], wh: [[s.wh]], b: [s.b], wout: [[s.wout]], bout: [s.bout] };
  }

  function scaleOf(s) {
    if (s.scaleKind === "minmax") return { kind: "minmax", low: s.scaleA, high: s.scaleB };
    if (s.scaleKind === "standard") return { kind: "standard", mean: s.scaleA, std: s.scaleB };
    return null;
  }

  function compute() {
    if (gated) {
      const h = [embedded.steps[0].h_prev, ...embedded.steps.map((st) => st.h)];
      return { trace: embedded, cache: { h }, p: null };
    }
    const p = params(state);
    const xs = state.inputs.map((x) => [x]);
    const h0 = model ? null : [state.h0];
    const { trace, cache } = RNN.trace(p, xs, h0, state.activation, scaleOf(state), state.target);
    const forwardOk = trace.steps.every((st) => RNN.finite([st.wx_x, st.wh_h, st.pre_activation, st.h, st.y]));
    if (!forwardOk || (trace.prediction_real_units !== undefined && !RNN.finite(trace.prediction_real_units))) {
      return { error: "the numbers overflow float64 (beyond 1.8e308): use smaller weights, inputs or h₀" };
    }
    if (model) trace.next_level = RNN.toLevel(trace.prediction_real_units[0], model.previous, model.target);
    // a gradient that overflows is shown as such; JSON has no Infinity, so the trace says null
    return { trace, cache, p };
  }

  function update(fromUser) {
    const result = compute();
    if (result.error) {
      showError(result.error);
      $("trace").textContent = JSON.stringify({ error: result.error });
      return;
    }
    last = result;
    const T = state.inputs.length;
    live = Math.min(Math.max(live, 1), T);
    $("trace").textContent = JSON.stringify(result.trace);
    $("step").max = String(T);
    $("step").value = String(live);
    drawUnrolled(result);
    drawLive(result);
    drawPrediction(result);
    drawGradients(result);
    if (model) drawHeatmap(result);
    const query = toQuery(state);
    $("permalink").href = `?${query}`;
    if (fromUser) {
      try { history.replaceState(null, "", `?${query}`); } catch (e) { /* file:// may refuse it; the link above still works */ }
    }
  }

  // ---------------------------------------------------------------- the unrolled cell (SVG)
  function el(parent, name, attrs, text) {
    const node = document.createElementNS(SVG, name);
    for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, v);
    if (text !== undefined) node.textContent = text;
    parent.appendChild(node);
    return node;
  }

  const mean = (v) => v.reduce((a, b) => a + b, 0) / v.length;
  const scalarOf = (v) => (Array.isArray(v) ? (v.length === 1 ? scalarOf(v[0]) : RNN.safeNorm(v.flat())) : v);
  const norm = (label) => (model && model.hidden > 1 ? `‖${label}‖` : label);

  function drawUnrolled({ trace }) {
    const svg = $("unrolled");
    const keep = svg.querySelector("title");
    svg.replaceChildren(keep);
    const defs = el(svg, "defs");
    const marker = el(defs, "marker", { id: "head", viewBox: "0 0 10 10", refX: "9", refY: "5", markerWidth: "7", markerHeight: "7", orient: "auto-start-reverse" });
    el(marker, "path", { d: "M0,0 L10,5 L0,10 z", fill: "#1d2330" });
    const T = trace.steps.length, CW = 176, BW = 146, X0 = 64;
    const width = X0 + T * CW + 20, height = 350;
    svg.setAttribute("width", width);
    svg.setAttribute("height", height);
    svg.setAttribute("viewBox", `0 0 ${width} ${height}`);
    const act = state.activation;
    // the shared weights: one band, tied to every copy
    el(svg, "rect", { class: "shared", x: 4, y: 4, width: width - 8, height: 30, rx: 6 });
    const band = el(svg, "text", { x: 12, y: 24, id: "shared-weights" });
    if (gated) {
      const G = model.weights.weight_hh ? `${model.gates.length * model.hidden}` : null;
      const w = G ? `W_ih (${G}×1), W_hh (${G}×${model.hidden}), b_ih, b_hh` : `W (${model.gates.length * model.hidden}×1), b`;
      el(band, "tspan", {}, `Shared by all ${T} copies: the checkpoint's ${w}, W_out, b_out. In each cell: the gates' mean over the ${model.hidden} units`);
    } else if (model) {
      el(band, "tspan", {}, `Shared by all ${T} copies: the checkpoint's Wx (${model.hidden}×1), Wh (${model.hidden}×${model.hidden}), b, W_out, b_out`);
    } else {
      el(band, "tspan", { class: "label" }, `Shared by all ${T} copies:  `);
      const w = trace.weights;
      for (const [key, name, , cls] of WEIGHTS.slice(0, 5)) {
        el(band, "tspan", { class: cls }, `${name} = `);
        el(band, "tspan", { class: "num", id: `v-shared-${key}` }, `${fmt(w[key])}     `);
      }
    }
    const h0 = trace.steps[0].h_prev;
    el(svg, "text", { x: 6, y: 205, class: "label" }, `h${sub(0)}`);
    el(svg, "text", { x: 6, y: 221, class: "num", id: "v-h-0" }, fmt(scalarOf(h0)));
    el(svg, "line", { class: "arrow", x1: 40, y1: 212, x2: X0 - 2, y2: 212 });
    trace.steps.forEach((st, i) => {
      const t = st.t, x = X0 + i * CW, g = el(svg, "g", { class: "cell", id: `cell-${t}` });
      el(g, "line", { class: "tie", x1: x + 4, y1: 34, x2: x + 4, y2: 110 });
      el(g, "line", { class: "tie", x1: x + BW - 4, y1: 34, x2: x + BW - 4, y2: 110 });
      // the output on top
      const isLast = t === T;
      const pg = el(g, "g", { class: isLast ? "pred" : "" });
      el(pg, "rect", { x: x + 8, y: 48, width: BW - 16, height: 40, rx: 6, fill: "#f5f8fc", stroke: "#c9d0dc" });
      el(pg, "text", { x: x + 16, y: 64, class: "label" }, isLast ? `y${sub(t)}: the prediction` : `y${sub(t)} = W_out·h${sub(t)} + b_out`);
      el(pg, "text", { x: x + 16, y: 81, class: "num out", id: `v-y-${t}` }, fmt(scalarOf(st.y)));
      el(g, "line", { class: "arrow", x1: x + BW / 2, y1: 110, x2: x + BW / 2, y2: 90 });
      // the cell
      el(g, "rect", { class: "box", x, y: 110, width: BW, height: 150, rx: 8 });
      if (gated) {
        const rows = model.gates.map((gt) => [`${gt.symbol}${sub(t)} ${gt.name.replace("candidate", "cand.")}`, mean(trace.gates[gt.name][t - 1]), "bb", `gate-${gt.name}`]);
        if (st.c) rows.push([`‖c${sub(t)}‖ cell state`, RNN.safeNorm(st.c), "wh", "c"]);
        rows.push([`‖h${sub(t)}‖`, RNN.safeNorm(st.h), "", "h"]);
        rows.forEach(([label, value, cls, key], r) => {
          const y = 132 + r * 21;
          el(g, "text", { x: x + 8, y, class: `label ${cls}` }, label);
          el(g, "text", { x: x + BW - 8, y, "text-anchor": "end", class: `num ${cls}`, id: `v-${key}-${t}` }, fmt(value));
        });
      }
      const rows = gated ? [] : [
        [`${norm("Wx·x" + sub(t))}`, st.wx_x, "wx", "wxx"],
        [`${norm("Wh·h" + sub(t - 1))}`, st.wh_h, "wh", "whh"],
        [`${norm("a" + sub(t))} = sum + b`, st.pre_activation, "bb", "a"],
        [`${norm("h" + sub(t))} = ${act}(a${sub(t)})`, st.h, "", "h"],
      ];
      rows.forEach(([label, value, cls, key], r) => {
        const y = 132 + r * 32;
        el(g, "text", { x: x + 8, y, class: `label ${cls}` }, label);
        el(g, "text", { x: x + 8, y: y + 15, class: `num ${cls}`, id: `v-${key}-${t}` }, fmt(scalarOf(value)));
      });
      if (t < T) el(g, "line", { class: "arrow", x1: x + BW, y1: 212, x2: x + CW - 2, y2: 212 });
      // the input below
      el(g, "line", { class: "arrow", x1: x + BW / 2, y1: 290, x2: x + BW / 2, y2: 262 });
      el(g, "rect", { x: x + 28, y: 290, width: BW - 56, height: 34, rx: 17, fill: "#eef5ff", stroke: "#1f6fd1" });
      el(g, "text", { x: x + 40, y: 312, class: "num" }, `x${sub(t)} = `).appendChild(
        Object.assign(document.createElementNS(SVG, "tspan"), { id: `v-x-${t}`, textContent: fmt(scalarOf(st.x)) }));
      el(g, "text", { x: x + BW / 2 - 12, y: 344, class: "label" }, `t = ${t}`);
    });
  }

  function drawLive({ trace }) {
    const T = trace.steps.length;
    for (let t = 1; t <= T; t++) {
      const g = $(`cell-${t}`);
      g.classList.toggle("live", t === live);
      g.classList.toggle("future", t > live);
    }
    $("step-label").textContent = `t = ${live} of ${T}`;
    const st = trace.steps[live - 1];
    let text;
    if (gated) {
      const gates = model.gates.map((gt) => `${gt.name} ${gt.symbol} = ${fmt(mean(trace.gates[gt.name][live - 1]))}`).join(", ");
      text = `Step ${live}: the ${model.cell} reads x${sub(live)} = ${fmt(scalarOf(st.x))} and the ${model.hidden} numbers of h${sub(live - 1)}; `
        + `its gates, averaged over the units: ${gates}; `
        + `${st.c ? `‖c${sub(live)}‖ = ${fmt(RNN.safeNorm(st.c))}, ` : ""}‖h${sub(live)}‖ = ${fmt(RNN.safeNorm(st.h))}, y${sub(live)} = ${fmt(scalarOf(st.y))}.`;
    } else if (model) {
      text = `Step ${live}: the cell reads x${sub(live)} = ${fmt(scalarOf(st.x))} and the ${model.hidden} numbers of h${sub(live - 1)}; `
        + `‖h${sub(live)}‖ = ${fmt(scalarOf(st.h))}, y${sub(live)} = ${fmt(scalarOf(st.y))}.`;
    } else {
      const w = trace.weights, f = fmt;
      text = `Step ${live}: Wx·x${sub(live)} = ${f(w.wx)} × ${f(st.x)} = ${f(st.wx_x)};  `
        + `Wh·h${sub(live - 1)} = ${f(w.wh)} × ${f(st.h_prev)} = ${f(st.wh_h)};  `
        + `a${sub(live)} = ${f(st.wx_x)} + ${f(st.wh_h)} + ${f(w.b)} = ${f(st.pre_activation)};  `
        + `h${sub(live)} = ${state.activation}(${f(st.pre_activation)}) = ${f(st.h)};  `
        + `y${sub(live)} = ${f(w.wout)} × ${f(st.h)} + ${f(w.bout)} = ${f(st.y)}.`;
    }
    $("step-text").textContent = text;
    const cell = $(`cell-${live}`);
    const scroller = $("unrolled").parentElement;
    const box = cell.getBBox();
    if (box.x < scroller.scrollLeft || box.x + box.width > scroller.scrollLeft + scroller.clientWidth) {
      scroller.scrollLeft = Math.max(0, box.x - 40);
    }
  }

  function drawPrediction({ trace }) {
    const T = trace.steps.length;
    let text = `Prediction of the next value, y${sub(T)} = ${fmt(scalarOf(trace.prediction))}`;
    if (trace.prediction_real_units !== undefined) {
      const sc = trace.scale;
      const how = sc.kind === "minmax" ? `${fmt(sc.low)} + y·(${fmt(sc.high)} − ${fmt(sc.low)})` : `${fmt(sc.mean)} + y·${fmt(sc.std)}`;
      text += `; in real units ${how} = ${fmt(scalarOf(trace.prediction_real_units))}`;
    }
    if (model) {
      const what = { level: "the value itself", diff: "the change from the last value", "log-return": "the log-return" }[model.target];
      text += ` (${what}). Next value of ${model.series}: ${fmt(trace.next_level)}${model.next_date ? ` on ${model.next_date}` : ""}`;
    }
    $("prediction").textContent = `${text}.`;
  }

  // ---------------------------------------------------------------- backward through time
  function drawGradients({ trace, p }) {
    const svg = $("gradients");
    const keep = svg.querySelector("title");
    svg.replaceChildren(keep);
    const g = trace.grad_norm, wh = gated ? [] : trace.wh_grad_by_lag, T = g.length;
    const cg = (gated && trace.cell_grad_norm) || [];
    const sigma = gated ? NaN : RNN.sigmaMax(p.wh);
    const theory = gated ? trace.gate_path || [] : g.map((_, k) => sigma ** k);
    const W = 640, H = 300, L = 62, R = 12, TOP = 12, B = 40;
    const positive = [...g, ...theory, ...wh, ...cg].filter((v) => v > 0 && Number.isFinite(v));
    let lo = positive.length ? Math.floor(Math.log10(Math.min(...positive))) : -1;
    let hi = positive.length ? Math.ceil(Math.log10(Math.max(...positive))) : 1;
    lo = Math.max(lo, -320); hi = Math.min(hi, 310);
    if (hi - lo < 2) { lo -= 1; hi += 1; }
    const X = (k) => L + ((W - L - R) * k) / Math.max(T - 1, 1);
    const Y = (v) => TOP + ((H - TOP - B) * (hi - Math.log10(v))) / (hi - lo);
    const every = Math.ceil((hi - lo) / 7);
    for (let d = lo; d <= hi; d += every) {
      el(svg, "line", { class: "grid", x1: L, x2: W - R, y1: Y(10 ** d), y2: Y(10 ** d) });
      el(svg, "text", { x: L - 6, y: Y(10 ** d) + 4, "text-anchor": "end", class: "label" }, d === 0 ? "1" : `1e${d}`.replace("-", "−"));
    }
    const xEvery = Math.max(1, Math.ceil(T / 10));
    for (let k = 0; k < T; k += xEvery) {
      el(svg, "text", { x: X(k), y: H - B + 16, "text-anchor": "middle", class: "label" }, String(k));
    }
    el(svg, "text", { x: (L + W) / 2, y: H - 6, "text-anchor": "middle", class: "label" }, "lag k (steps back from the last one, t = T − k)");
    el(svg, "line", { class: "axis", x1: L, x2: L, y1: TOP, y2: H - B });
    el(svg, "line", { class: "axis", x1: L, x2: W - R, y1: H - B, y2: H - B });
    const bw = Math.max(2, Math.min(14, (W - L - R) / Math.max(T, 1) - 2));
    wh.forEach((v, k) => {
      if (v > 0 && Number.isFinite(v)) {
        const y = Math.max(TOP, Y(v));
        el(svg, "rect", { class: "bar", x: X(k) - bw / 2, y, width: bw, height: Math.max(0, H - B - y) });
      }
    });
    const pts = theory.map((v, k) => (v > 0 && Number.isFinite(v) ? `${X(k)},${Math.min(Math.max(Y(v), TOP - 4), H - B + 4)}` : null)).filter(Boolean);
    if (pts.length > 1) el(svg, "polyline", { class: "theory", points: pts.join(" ") });
    cg.forEach((v, k) => {
      if (v > 0 && Number.isFinite(v)) el(svg, "rect", { class: "cdot", x: X(k) - 3, y: Y(v) - 3, width: 6, height: 6 });
    });
    g.forEach((v, k) => {
      if (v > 0 && Number.isFinite(v)) el(svg, "circle", { class: "dot", cx: X(k), cy: Y(v), r: 3.5 });
    });
    if (gated) { gatedGradientText(trace, g, cg, theory); return; }
    const far = T - 1, name = model ? "σ_max(Wh)" : "|Wh|";
    $("theory-name").textContent = model ? "σ_max(Wh)ᵏ" : "|Wh|ᵏ";
    let text = `Backpropagation multiplies by Wh once per step it walks back. `
      + `Over ${far} step${far === 1 ? "" : "s"}, ‖∂h${sub(T)}/∂h${sub(1)}‖ = ${fmt(g[far])}; `
      + `the theory ${name}^${far} = ${fmt(sigma)}^${far} = ${fmt(theory[far])}`
      + `${model ? " (an upper bound)" : " (equal when every tanh sits at its steepest, a = 0)"}. `;
    if (far > 0) {
      text += g[far] < 1e-3 ? "The gradient vanishes: the first inputs barely move Wh's update. "
        : g[far] > 1e3 ? "The gradient explodes: a tiny change early on swings the last state wildly. "
        : "Over this distance the gradient neither vanishes nor explodes. ";
    }
    text += `With the target ${fmt(trace.target)}, the loss is ${fmt(trace.loss)} and dL/dWh = ${fmt(scalarOf(trace.wh_grad))}, `
      + `the sum of one term per step (the bars).`;
    $("backward-text").textContent = text;
  }

  function gatedGradientText(trace, g, cg, path) {
    const T = g.length, far = T - 1;
    $("theory-name").textContent = "max over units of ∏ gate";
    $("theory-tail").textContent = ", the gate's direct path";
    let text = `Backpropagation through the ${model.cell} multiplies by one step Jacobian ∂hₜ/∂hₜ₋₁ per step it walks back, `
      + `and the gates set each one. Over ${far} step${far === 1 ? "" : "s"}, ‖∂h${sub(T)}/∂h${sub(1)}‖ = ${fmt(g[far])}`;
    if (cg.length) text += `; through the cell state (squares), ‖∂c${sub(T)}/∂c${sub(1)}‖ = ${fmt(cg[far])}`;
    text += ". ";
    if (path.length) text += `The dashed line is the ${model.path_gate}; over ${far} steps it is ${fmt(path[far])}. `;
    if (far > 0) {
      text += g[far] < 1e-3 ? "The gradient vanishes over this window. "
        : g[far] > 1e3 ? "The gradient explodes over this window. "
        : "Over this window the gradient neither vanishes nor explodes. ";
    }
    $("backward-text").textContent = `${text}Measured by rnnlab (torch autograd through the cell's own step, float64), shown here.`;
  }

  // ---------------------------------------------------------------- the model's hidden states
  // a heatmap of rows[t][j] (columns t, rows j): "signed" blue −m … red +m, "unit" white 0 … teal 1,
  // "positive" white 0 … teal m; returns m
  function paint(canvas, rows, kind, cw, ch) {
    const T = rows.length, H = rows[0].length;
    canvas.width = T * cw;
    canvas.height = H * ch;
    const ctx = canvas.getContext("2d");
    let m = 1;
    if (kind !== "unit") {
      m = 0;
      for (const row of rows) for (const v of row) m = Math.max(m, Math.abs(v));
      m = m || 1;
    }
    rows.forEach((row, t) => {
      row.forEach((v, j) => {
        const u = Math.max(-1, Math.min(1, v / m));
        if (kind === "signed") {
          const r = u < 0 ? Math.round(255 * (1 + u)) : 255, b = u > 0 ? Math.round(255 * (1 - u)) : 255;
          const gg = Math.round(255 * (1 - Math.abs(u)));
          ctx.fillStyle = `rgb(${u > 0 ? 255 : r},${gg},${u < 0 ? 255 : b})`;
        } else {
          const w = Math.max(0, u);
          ctx.fillStyle = `rgb(${Math.round(255 - 244 * w)},${Math.round(255 - 162 * w)},${Math.round(255 - 140 * w)})`;
        }
        ctx.fillRect(t * cw, j * ch, cw, ch);
      });
    });
    return m;
  }

  function drawGates(trace) {
    const box = $("gate-charts");
    if (box.childElementCount) return; // the embedded numbers never change
    const T = trace.steps.length, H = model.hidden, cw = 6;
    const ch = Math.max(2, Math.min(12, Math.round((T * cw) / (2.5 * H))));
    const charts = model.gates.map((gt) => ({
      id: `gate-${gt.name}`, rows: trace.gates[gt.name], kind: gt.squash === "σ" ? "unit" : gt.squash === "tanh" ? "signed" : "positive",
      title: `${gt.name}${gt.name === "candidate" ? "" : " gate"} ${gt.symbol}ₜ = ${gt.squash}(…)`, what: gt.what,
    }));
    if (trace.steps[0].c) {
      charts.push({ id: "cell-state", rows: trace.steps.map((st) => st.c), kind: "signed", title: "cell state cₜ", what: "the LSTM's memory, f⊙c + i⊙g" });
    }
    for (const c of charts) {
      const fig = document.createElement("figure");
      fig.className = "chart";
      const cap = document.createElement("figcaption");
      const canvas = document.createElement("canvas");
      canvas.id = c.id;
      canvas.setAttribute("role", "img");
      fig.append(cap, canvas);
      box.appendChild(fig);
      const m = paint(canvas, c.rows, c.kind, cw, ch);
      const scale = c.kind === "unit" ? "white 0 → teal 1" : c.kind === "signed" ? `blue −${fmt(m)} → red +${fmt(m)}` : `white 0 → teal ${fmt(m)}`;
      cap.innerHTML = "<b></b>: <span></span> <span class=\"small\"></span>";
      cap.children[0].textContent = c.title;
      cap.children[1].textContent = `${c.what}.`;
      cap.children[2].textContent = `(${scale})`;
      canvas.setAttribute("aria-label", `Heatmap of the ${c.title}: ${H} units (rows) over ${T} steps (columns), ${scale}`);
    }
    $("gates-text").textContent = `${model.equation}. Each chart: the ${H} units (rows) over the window's ${T} steps (columns). `
      + "Gates computed by rnnlab, shown here: rnnlab runs the model itself (torch, float64) over this window "
      + "and embeds the values; the page does not recompute them.";
  }

  function drawHeatmap({ cache, trace }) {
    const canvas = $("heatmap");
    const T = cache.h.length - 1, H = cache.h[0].length;
    const cw = Math.max(8, Math.floor(720 / T)), ch = Math.max(2, Math.min(14, Math.floor(320 / H)));
    const m = paint(canvas, cache.h.slice(1), "signed", cw, ch);
    if (gated) drawGates(trace);
    $("model-text").textContent = `${model.name}: ${model.hidden} hidden units (rows) over the last ${T} steps (columns), `
      + `red for positive, blue for negative (±${fmt(m)}). Its inputs are the window's ${model.scale.kind} scaled `
      + `${model.target === "level" ? "values" : model.target === "diff" ? "changes" : "log-returns"} of ${model.column}.`;
  }

  // ---------------------------------------------------------------- controls
  function buildWeightControls() {
    const box = $("weights");
    for (const [key, name, what] of WEIGHTS) {
      const row = document.createElement("div");
      row.className = "weight";
      row.innerHTML = `<label for="${key}" title="${what}">${name}</label>`
        + `<input id="${key}" type="range" min="-3" max="3" step="0.01" aria-label="${name}, ${what} (slider)">`
        + `<input id="${key}-value" type="number" step="any" aria-label="${name}, ${what} (exact value)">`;
      box.appendChild(row);
      const slider = row.children[1], exact = row.children[2];
      slider.addEventListener("input", () => {
        state[key] = Number(slider.value);
        exact.value = slider.value;
        update(true);
      });
      exact.addEventListener("change", () => {
        try {
          state[key] = parseNumber(exact.value, key);
          slider.value = String(state[key]);
          showError("");
          update(true);
        } catch (e) { showError(e.message); }
      });
    }
  }

  function syncControls() {
    $("inputs").value = state.inputs.map(String).join(", ");
    if (!model) {
      for (const [key] of WEIGHTS) {
        $(key).value = String(state[key]);
        $(`${key}-value`).value = String(state[key]);
      }
    }
    $("activation").value = state.activation;
    $("scale-kind").value = state.scaleKind;
    $("scale-fields").hidden = state.scaleKind === "none";
    $("scale-a").value = String(state.scaleA);
    $("scale-b").value = String(state.scaleB);
    $("scale-a-label").textContent = state.scaleKind === "standard" ? "MEAN" : "MIN";
    $("scale-b-label").textContent = state.scaleKind === "standard" ? "STD" : "MAX";
    $("target").value = String(state.target);
  }

  function setPreset(name) {
    const n = 50;
    if (name === "toy") Object.assign(state, DEFAULTS, { scaleKind: state.scaleKind, scaleA: state.scaleA, scaleB: state.scaleB });
    if (name === "vanish") Object.assign(state, { inputs: new Array(n).fill(0), wh: 0.5, b: 0, h0: 0, activation: "tanh" });
    if (name === "explode") Object.assign(state, { inputs: new Array(n).fill(0), wh: 1.5, b: 0, h0: 0, activation: "tanh" });
    if (name === "random") {
      const r = (lo, hi) => Number((lo + Math.random() * (hi - lo)).toFixed(2));
      Object.assign(state, { inputs: Array.from({ length: 12 }, () => r(0, 1)), wx: r(-2, 2), wh: r(-1.5, 1.5), b: r(-0.5, 0.5), wout: r(-2, 2), bout: r(-0.5, 0.5) });
    }
    live = state.inputs.length;
    syncControls();
    showError("");
    update(true);
  }

  function wire() {
    $("inputs").addEventListener("change", () => {
      try {
        state.inputs = parseList($("inputs").value.replace(/\s+/g, ""), "inputs");
        live = state.inputs.length;
        showError("");
        update(true);
      } catch (e) { showError(e.message); }
    });
    $("activation").addEventListener("change", () => { state.activation = $("activation").value; update(true); });
    const scaleChanged = () => {
      const kind = $("scale-kind").value;
      if (kind !== state.scaleKind && kind !== "none") {
        [$("scale-a").value, $("scale-b").value] = kind === "minmax" ? ["100", "200"] : ["0", "1"];
      }
      try {
        const a = parseNumber($("scale-a").value, "scale"), b = parseNumber($("scale-b").value, "scale");
        if (kind !== "none") checkScale(kind, a, b);
        Object.assign(state, { scaleKind: kind, scaleA: a, scaleB: b });
        syncControls();
        showError("");
        update(true);
      } catch (e) { showError(e.message); }
    };
    for (const id of ["scale-kind", "scale-a", "scale-b"]) $(id).addEventListener("change", scaleChanged);
    $("target").addEventListener("change", () => {
      try { state.target = parseNumber($("target").value, "target"); showError(""); update(true); } catch (e) { showError(e.message); }
    });
    document.querySelectorAll("[data-preset]").forEach((b) => b.addEventListener("click", () => setPreset(b.dataset.preset)));
    const go = (t) => { live = t; $("step").value = String(t); if (last) drawLive(last); };
    $("step").addEventListener("input", () => { stop(); go(Number($("step").value)); });
    $("step-back").addEventListener("click", () => { stop(); go(Math.max(1, live - 1)); });
    $("step-next").addEventListener("click", () => { stop(); go(Math.min(state.inputs.length, live + 1)); });
    $("play").addEventListener("click", () => {
      if (timer) { stop(); return; }
      if (live >= state.inputs.length) go(1);
      $("play").textContent = "❚❚ Pause";
      $("play").setAttribute("aria-label", "Pause");
      timer = setInterval(() => {
        if (live >= state.inputs.length) { stop(); return; }
        go(live + 1);
      }, 700);
    });
  }

  function stop() {
    if (timer) clearInterval(timer);
    timer = null;
    $("play").textContent = "▶ Play";
    $("play").setAttribute("aria-label", "Play");
  }

  function start() {
    live = Infinity;
    const { state: s, problems } = fromQuery(location.search);
    state = s;
    if (model) {
      document.querySelectorAll(".presets, #weights").forEach((n) => { n.hidden = true; });
      for (const id of ["activation", "scale-kind", "scale-a", "scale-b"]) $(id).disabled = true;
      $("model-view").hidden = false;
      if (gated) {
        $("activation").parentElement.hidden = true;
        for (const id of ["inputs", "target"]) $(id).disabled = true;
        $("gate-view").hidden = false;
        for (const id of ["legend-wh"]) $(id).hidden = true;
        $("legend-cell").hidden = model.cell !== "lstm";
      }
      $("lede").textContent = `A trained ${model.cell} (H = ${model.hidden}): its weights, `
        + `and the last ${model.window.length} points of ${model.series} as its input window.`;
    } else {
      buildWeightControls();
    }
    syncControls();
    wire();
    showError(problems.join("; "));
    update(false);
  }

  window.RNNLAB = { fmt, state: () => state, update };
  start();
})();

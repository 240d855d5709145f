// rnnlab explore: the maths, a second implementation of the NumPy glass box (rnnlab.glassbox).
// No DOM here. Matrices are arrays of rows; the article's RNN is H = I = O = 1.
//
//   a_t = Wx·x_t + Wh·h_(t-1) + b      h_t = act(a_t)      y_t = W_out·h_t + b_out
//   ∂h_T/∂h_(t-1) = ∂h_T/∂h_t · diag(act'(a_t)) · Wh,   ∂h_T/∂h_T = I
//   L = mean_o (y_T,o − target)²,  dL/da_t = dL/dh_t ⊙ act'(a_t),  dL/dWh = Σ_t dL/da_t · h_(t-1)ᵀ
"use strict";

const RNN = (() => {
  function matvec(M, v) {
    // (R, C)·(C,) -> (R,)
    return M.map((row) => {
      let s = 0;
      for (let j = 0; j < row.length; j++) s += row[j] * v[j];
      return s;
    });
  }

  function add(u, v) {
    return u.map((x, i) => x + v[i]);
  }

  function activate(a, activation) {
    return a.map((x) => (activation === "tanh" ? Math.tanh(x) : Math.max(x, 0)));
  }

  // act'(a_t): 1 − h_t² for tanh, [a_t > 0] for relu
  function derivative(a, h, activation) {
    return activation === "tanh" ? h.map((x) => 1.0 - x * x) : a.map((x) => (x > 0 ? 1 : 0));
  }

  // ‖v‖_F as m·sqrt(Σ (v/m)²), m = max |v|: no underflow, exactly |v| for one number
  function safeNorm(values) {
    let m = 0;
    for (const x of values) m = Math.max(m, Math.abs(x));
    if (m === 0) return 0;
    let s = 0;
    for (const x of values) s += (x / m) * (x / m);
    return m * Math.sqrt(s);
  }

  function forward(p, xs, h0, activation) {
    const H = p.wh.length;
    const T = xs.length;
    const h = [h0 ? h0.slice() : new Array(H).fill(0)];
    const wxx = [], whh = [], a = [], y = [];
    for (let t = 1; t <= T; t++) {
      wxx.push(matvec(p.wx, xs[t - 1])); // Wx·x_t
      whh.push(matvec(p.wh, h[t - 1])); // Wh·h_(t-1)
      a.push(add(add(wxx[t - 1], whh[t - 1]), p.b)); // a_t
      h.push(activate(a[t - 1], activation)); // h_t = act(a_t)
      y.push(add(matvec(p.wout, h[t]), p.bout)); // y_t = W_out·h_t + b_out
    }
    return { x: xs, h, wxx, whh, a, y };
  }

  function backward(p, c, activation, target) {
    const T = c.x.length, H = p.wh.length, O = p.wout.length;
    const dphi = c.a.map((a, i) => derivative(a, c.h[i + 1], activation));
    // ∂h_T/∂h_t, walked back from the identity
    let J = [];
    for (let i = 0; i < H; i++) J.push(Array.from({ length: H }, (_, j) => (i === j ? 1 : 0)));
    const gradNorm = [safeNorm(J.flat())];
    for (let t = T; t > 1; t--) {
      const JD = J.map((row) => row.map((x, j) => x * dphi[t - 1][j])); // J · diag(act'(a_t))
      J = JD.map((row) => p.wh[0].map((_, k) => {
        let s = 0;
        for (let j = 0; j < H; j++) s += row[j] * p.wh[j][k];
        return s;
      })); // · Wh
      gradNorm.push(safeNorm(J.flat()));
    }
    // the loss on the last output and dL/dWh, step by step from t = T back to 1
    const err = c.y[T - 1].map((v) => v - target);
    let loss = 0;
    for (const e of err) loss += e * e;
    loss /= O;
    const dy = err.map((e) => (2.0 * e) / O); // d mean(err²)/dy
    let dh = p.wout[0].map((_, j) => {
      let s = 0;
      for (let o = 0; o < O; o++) s += dy[o] * p.wout[o][j];
      return s;
    }); // W_outᵀ·dy_T
    const whGrad = p.wh.map((row) => row.map(() => 0));
    const byLag = [];
    for (let t = T; t >= 1; t--) {
      const da = dh.map((x, j) => x * dphi[t - 1][j]); // dL/da_t = dL/dh_t ⊙ act'(a_t)
      const term = da.map((d) => c.h[t - 1].map((hv) => d * hv)); // dL/da_t · h_(t-1)ᵀ
      term.forEach((row, i) => row.forEach((v, j) => { whGrad[i][j] += v; }));
      byLag.push(safeNorm(term.flat()));
      dh = p.wh[0].map((_, j) => {
        let s = 0;
        for (let i = 0; i < H; i++) s += p.wh[i][j] * da[i];
        return s;
      }); // Whᵀ·dL/da_t
    }
    return { gradNorm, loss, whGrad, byLag };
  }

  // the largest singular value of Wh (power iteration on WhᵀWh): the theory line σ^k
  function sigmaMax(wh) {
    const H = wh.length;
    if (H === 1) return Math.abs(wh[0][0]);
    let v = new Array(H).fill(1 / Math.sqrt(H));
    let s = 0;
    for (let it = 0; it < 200; it++) {
      const u = matvec(wh, v);
      const w = wh[0].map((_, j) => u.reduce((acc, ui, i) => acc + wh[i][j] * ui, 0));
      const n = safeNorm(w);
      if (n === 0) return 0;
      v = w.map((x) => x / n);
      s = Math.sqrt(n);
    }
    return s;
  }

  // the maths outside the cell: back to real units
  function realUnits(scale, y) {
    if (scale.kind === "minmax") return scale.low + y * (scale.high - scale.low);
    return scale.mean + y * scale.std;
  }

  // the model's level: what the scaled prediction means for the series (target mode)
  function toLevel(z, previous, target) {
    if (target === "diff") return previous + z;
    if (target === "log-return") return previous * Math.exp(z);
    return z;
  }

  // The trace: rnnlab walkthrough --json's keys, plus the backward pass.
  function trace(p, xs, h0, activation, scale, target) {
    const scalar = p.wx.length === 1 && p.wx[0].length === 1 && p.wout.length === 1;
    const out = (v) => (scalar ? (Array.isArray(v) ? out(v[0]) : v) : v);
    const c = forward(p, xs, h0, activation);
    const T = xs.length;
    const result = {
      activation,
      weights: { wx: out(p.wx), wh: out(p.wh), b: out(p.b), wout: out(p.wout), bout: out(p.bout) },
      steps: c.a.map((_, i) => ({
        t: i + 1,
        x: out(c.x[i]),
        h_prev: out(c.h[i]),
        wx_x: out(c.wxx[i]),
        wh_h: out(c.whh[i]),
        pre_activation: out(c.a[i]),
        h: out(c.h[i + 1]),
        y: out(c.y[i]),
      })),
      prediction: out(c.y[T - 1]),
    };
    if (scale) {
      result.scale = scale;
      result.prediction_real_units = out(c.y[T - 1].map((y) => realUnits(scale, y)));
    }
    const b = backward(p, c, activation, target);
    result.grad_norm = b.gradNorm;
    result.target = target;
    result.loss = b.loss;
    result.wh_grad = out(b.whGrad);
    result.wh_grad_by_lag = b.byLag;
    return { trace: result, cache: c };
  }

  function finite(x) {
    return Array.isArray(x) ? x.every(finite) : Number.isFinite(x);
  }

  return { forward, backward, trace, sigmaMax, realUnits, toLevel, safeNorm, finite };
})();

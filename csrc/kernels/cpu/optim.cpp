// Fused optimizer kernels (see optim.h). Every loop body is branch-free on per-element data and
// uses restrict pointers, so GCC vectorises it; options that change the formula are template
// parameters or loop-invariant selects.
#include "kernels/cpu/optim.h"

#include <cmath>
#include <type_traits>

#include "core/parallel.h"

namespace tgx::cpu::TGX_ARCH_NS {
namespace {

constexpr int64_t kGrain = 16384;

// torch.lerp: start + w * (end - start) for |w| < 0.5, else end - (end - start) * (1 - w).
template <typename T>
inline T lerp(T start, T end, T w, bool low) {
  T d = end - start;
  return low ? start + w * d : end - d * (T(1) - w);
}

// g = (maximize ? -grad : grad) [+ weight_decay * param]
template <typename T, bool WD>
inline T dir(T g, T p, T sign, T wd) {
  g = g * sign;
  if constexpr (WD) g = g + wd * p;
  return g;
}

template <typename T, bool WD, bool MOM>
void sgd(const OptimBuffers& b, const OptimCoeffs& c, int64_t lo, int64_t hi) {
  T* __restrict p = static_cast<T*>(b.param);
  const T* __restrict g = static_cast<const T*>(b.grad);
  T* __restrict buf = static_cast<T*>(b.s0);
  const T sign = c.maximize ? T(-1) : T(1), wd = T(c.weight_decay), neg_lr = T(-c.lr);
  const T mom = T(c.momentum), keep = T(1 - c.dampening);
  for (int64_t i = lo; i < hi; ++i) {
    T d = dir<T, WD>(g[i], p[i], sign, wd);
    if constexpr (MOM) {
      // first step: buf = d; later: buf = buf * momentum + (1 - dampening) * d
      T bi = c.first_step ? d : buf[i] * mom + keep * d;
      buf[i] = bi;
      d = c.nesterov ? d + mom * bi : bi;
    }
    p[i] = p[i] + neg_lr * d;
  }
}

template <typename T, int WD, bool AMS>  // WD: 0 none, 1 coupled (L2), 2 decoupled (AdamW)
void adam(const OptimBuffers& b, const OptimCoeffs& c, int64_t lo, int64_t hi) {
  T* __restrict p = static_cast<T*>(b.param);
  const T* __restrict g = static_cast<const T*>(b.grad);
  T* __restrict m = static_cast<T*>(b.s0);
  T* __restrict v = static_cast<T*>(b.s1);
  T* __restrict vmax = static_cast<T*>(b.s2);
  const T sign = c.maximize ? T(-1) : T(1), wd = T(c.weight_decay);
  const T decay = T(1 - c.lr * c.weight_decay);
  const T w1 = T(1 - c.beta1), b2 = T(c.beta2), w2 = T(1 - c.beta2), eps = T(c.eps);
  const bool low = std::abs(double(w1)) < 0.5;
  const T inv_bc2 = T(1) / T(c.bc2_sqrt), neg_step = T(-c.step_size);
  for (int64_t i = lo; i < hi; ++i) {
    T pi = p[i];
    T gi = dir<T, WD == 1>(g[i], pi, sign, wd);
    if constexpr (WD == 2) pi = pi * decay;
    T mi = lerp(m[i], gi, w1, low);
    T vi = v[i] * b2 + w2 * gi * gi;
    m[i] = mi;
    v[i] = vi;
    if constexpr (AMS) {
      vi = vmax[i] < vi ? vi : vmax[i];
      vmax[i] = vi;
    }
    T denom = std::sqrt(vi) * inv_bc2 + eps;
    p[i] = pi + neg_step * (mi / denom);
  }
}

template <typename T, bool WD, bool MOM, bool CENTERED>
void rmsprop(const OptimBuffers& b, const OptimCoeffs& c, int64_t lo, int64_t hi) {
  T* __restrict p = static_cast<T*>(b.param);
  const T* __restrict g = static_cast<const T*>(b.grad);
  T* __restrict sq = static_cast<T*>(b.s0);
  T* __restrict buf = static_cast<T*>(b.s1);
  T* __restrict ga = static_cast<T*>(b.s2);
  const T sign = c.maximize ? T(-1) : T(1), wd = T(c.weight_decay), neg_lr = T(-c.lr);
  const T alpha = T(c.beta2), w = T(1 - c.beta2), eps = T(c.eps), mom = T(c.momentum);
  const bool low = std::abs(double(w)) < 0.5;
  for (int64_t i = lo; i < hi; ++i) {
    T gi = dir<T, WD>(g[i], p[i], sign, wd);
    T si = sq[i] * alpha + w * gi * gi;
    sq[i] = si;
    T avg;
    if constexpr (CENTERED) {
      T ai = lerp(ga[i], gi, w, low);
      ga[i] = ai;
      avg = std::sqrt(si + T(-1) * ai * ai);
    } else {
      avg = std::sqrt(si);
    }
    avg = avg + eps;
    if constexpr (MOM) {
      T bi = buf[i] * mom + gi / avg;
      buf[i] = bi;
      p[i] = p[i] + neg_lr * bi;
    } else {
      p[i] = p[i] + neg_lr * (gi / avg);
    }
  }
}

template <typename T, bool WD>
void adagrad(const OptimBuffers& b, const OptimCoeffs& c, int64_t lo, int64_t hi) {
  T* __restrict p = static_cast<T*>(b.param);
  const T* __restrict g = static_cast<const T*>(b.grad);
  T* __restrict sum = static_cast<T*>(b.s0);
  const T sign = c.maximize ? T(-1) : T(1), wd = T(c.weight_decay), neg_clr = T(-c.lr);
  const T eps = T(c.eps);
  for (int64_t i = lo; i < hi; ++i) {
    T gi = dir<T, WD>(g[i], p[i], sign, wd);
    T si = sum[i] + T(1) * gi * gi;
    sum[i] = si;
    p[i] = p[i] + neg_clr * (gi / (std::sqrt(si) + eps));
  }
}

template <typename T, bool WD>
void adadelta(const OptimBuffers& b, const OptimCoeffs& c, int64_t lo, int64_t hi) {
  T* __restrict p = static_cast<T*>(b.param);
  const T* __restrict g = static_cast<const T*>(b.grad);
  T* __restrict sq = static_cast<T*>(b.s0);
  T* __restrict acc = static_cast<T*>(b.s1);
  const T sign = c.maximize ? T(-1) : T(1), wd = T(c.weight_decay), neg_lr = T(-c.lr);
  const T rho = T(c.beta2), w = T(1 - c.beta2), eps = T(c.eps);
  for (int64_t i = lo; i < hi; ++i) {
    T gi = dir<T, WD>(g[i], p[i], sign, wd);
    T si = sq[i] * rho + w * gi * gi;
    sq[i] = si;
    T delta = std::sqrt(acc[i] + eps) / std::sqrt(si + eps) * gi;
    acc[i] = acc[i] * rho + w * delta * delta;
    p[i] = p[i] + neg_lr * delta;
  }
}

template <typename T, bool WD>
void adamax(const OptimBuffers& b, const OptimCoeffs& c, int64_t lo, int64_t hi) {
  T* __restrict p = static_cast<T*>(b.param);
  const T* __restrict g = static_cast<const T*>(b.grad);
  T* __restrict m = static_cast<T*>(b.s0);
  T* __restrict u = static_cast<T*>(b.s1);
  const T sign = c.maximize ? T(-1) : T(1), wd = T(c.weight_decay), neg_clr = T(-c.lr);
  const T w1 = T(1 - c.beta1), b2 = T(c.beta2), eps = T(c.eps);
  const bool low = std::abs(double(w1)) < 0.5;
  for (int64_t i = lo; i < hi; ++i) {
    T gi = dir<T, WD>(g[i], p[i], sign, wd);
    T mi = lerp(m[i], gi, w1, low);
    m[i] = mi;
    T a = u[i] * b2, bb = std::abs(gi) + eps;
    T ui = (a != a || bb != bb) ? a + bb : (a < bb ? bb : a);  // torch.maximum: nan propagates
    u[i] = ui;
    p[i] = p[i] + neg_clr * (mi / ui);
  }
}

template <typename T, int WD>
void nadam(const OptimBuffers& b, const OptimCoeffs& c, int64_t lo, int64_t hi) {
  T* __restrict p = static_cast<T*>(b.param);
  const T* __restrict g = static_cast<const T*>(b.grad);
  T* __restrict m = static_cast<T*>(b.s0);
  T* __restrict v = static_cast<T*>(b.s1);
  const T sign = c.maximize ? T(-1) : T(1), wd = T(c.weight_decay);
  const T decay = T(1 - c.lr * c.weight_decay);
  const T w1 = T(1 - c.beta1), b2 = T(c.beta2), w2 = T(1 - c.beta2), eps = T(c.eps);
  const bool low = std::abs(double(w1)) < 0.5;
  const T inv_bc2 = T(1) / T(c.bc2_sqrt), c1 = T(c.c1), c2 = T(c.c2);
  for (int64_t i = lo; i < hi; ++i) {
    T pi = p[i];
    T gi = dir<T, WD == 1>(g[i], pi, sign, wd);
    if constexpr (WD == 2) pi = pi * decay;
    T mi = lerp(m[i], gi, w1, low);
    T vi = v[i] * b2 + w2 * gi * gi;
    m[i] = mi;
    v[i] = vi;
    T denom = std::sqrt(vi * inv_bc2) + eps;
    pi = pi + c1 * (gi / denom);
    p[i] = pi + c2 * (mi / denom);
  }
}

// Turns runtime flags into template arguments.
template <typename F>
void with_bool(bool v, F&& f) {
  if (v) f(std::true_type{}); else f(std::false_type{});
}

template <typename T>
void run(OptimKind kind, const OptimBuffers& b, const OptimCoeffs& c, int64_t lo, int64_t hi) {
  const bool wd = c.weight_decay != 0;
  const int wd_mode = !wd ? 0 : (c.decoupled ? 2 : 1);
  switch (kind) {
    case OptimKind::SGD:
      with_bool(wd, [&](auto W) { with_bool(c.momentum != 0, [&](auto M) {
        sgd<T, W(), M()>(b, c, lo, hi); }); });
      break;
    case OptimKind::Adam:
      with_bool(c.amsgrad, [&](auto A) {
        if (wd_mode == 0) adam<T, 0, A()>(b, c, lo, hi);
        else if (wd_mode == 1) adam<T, 1, A()>(b, c, lo, hi);
        else adam<T, 2, A()>(b, c, lo, hi);
      });
      break;
    case OptimKind::RMSprop:
      with_bool(wd, [&](auto W) { with_bool(c.momentum > 0, [&](auto M) {
        with_bool(c.centered, [&](auto C) { rmsprop<T, W(), M(), C()>(b, c, lo, hi); }); }); });
      break;
    case OptimKind::Adagrad:
      with_bool(wd, [&](auto W) { adagrad<T, W()>(b, c, lo, hi); });
      break;
    case OptimKind::Adadelta:
      with_bool(wd, [&](auto W) { adadelta<T, W()>(b, c, lo, hi); });
      break;
    case OptimKind::Adamax:
      with_bool(wd, [&](auto W) { adamax<T, W()>(b, c, lo, hi); });
      break;
    case OptimKind::NAdam:
      if (wd_mode == 0) nadam<T, 0>(b, c, lo, hi);
      else if (wd_mode == 1) nadam<T, 1>(b, c, lo, hi);
      else nadam<T, 2>(b, c, lo, hi);
      break;
  }
}

}  // namespace

void optim_kernel(OptimKind kind, DType dtype, const OptimBuffers& b, const OptimCoeffs& c) {
  parallel_for(0, b.n, kGrain, [&](int64_t lo, int64_t hi) {
    if (dtype == DType::Float64) run<double>(kind, b, c, lo, hi);
    else run<float>(kind, b, c, lo, hi);
  });
}

}  // namespace tgx::cpu::TGX_ARCH_NS

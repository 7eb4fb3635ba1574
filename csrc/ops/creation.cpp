#include "ops/creation.h"

#include <cmath>
#include <limits>

#include "kernels/cpu/random.h"
#include "ops/elementwise.h"

namespace tgx::ops {
namespace {

// Values a dtype holds exactly as integers: [lo, hi].
std::pair<double, double> exact_int_range(DType t) {
  switch (t) {
    case DType::Bool: return {0, 1};
    case DType::UInt8: return {0, 255};
    case DType::Int32: return {-2147483648.0, 2147483647.0};
    case DType::Int64: return {-9223372036854775808.0, 9223372036854775807.0};
    case DType::Float32: return {-16777216.0, 16777216.0};
    case DType::Float64: return {-9007199254740992.0, 9007199254740992.0};
  }
  return {0, 0};
}

void check_floating(DType t, const char* op) {
  TGX_CHECK(is_floating(t), NotImplementedError, "[", op, "] not implemented for dtype ", t,
            " (expected float32 or float64)");
}

// Every element of t in [lo, hi] (nan fails), or ValueError naming the op.
void check_values(const Tensor& t, double lo, double hi, const char* op, const char* what) {
  Tensor d = contiguous(to_dtype(t, DType::Float64));
  const double* p = d->data<double>();
  for (int64_t i = 0, n = d->numel(); i < n; ++i)
    TGX_CHECK(p[i] >= lo && p[i] <= hi, ValueError, "[", op, "] expected all elements of ", what,
              " in [", lo, ", ", hi, "], got ", p[i]);
}

// Draws n = out->numel() values of `dist` into out (any strides) and advances the generator.
Tensor draw(RandomDist dist, const Tensor& out, const RandomParams& p, Generator* gen) {
  int64_t n = out->numel();
  int64_t per = random_per_block(dist, out->dtype);
  auto [seed, offset] = generator_or_default(gen).reserve(uint64_t((n + per - 1) / per));
  if (n == 0) return out;
  if (out->is_contiguous()) {
    TGX_KERNEL(random_kernel)(dist, out->dtype, out->raw(), n, seed, offset, p);
    out->bump_version();
  } else {
    Tensor tmp = empty(out->shape, out->dtype);
    TGX_KERNEL(random_kernel)(dist, out->dtype, tmp->raw(), n, seed, offset, p);
    copy_(out, tmp);
  }
  return out;
}

RandomParams params(double a, double b) {
  RandomParams p;
  p.a = a;
  p.b = b;
  return p;
}

// Integers in [low, low + range) (range 0 = 2^64) after checking they fit the dtype.
Tensor draw_integers(const Tensor& out, int64_t low, uint64_t range, const char* op, Generator* gen) {
  auto [lo, hi] = exact_int_range(out->dtype);
  double last = double(low) + (range ? double(range - 1) : 18446744073709551615.0);
  TGX_CHECK(double(low) >= lo && last <= hi, ValueError, "[", op, "] expects 'from' and 'to' - 1 in [",
            int64_t(lo), ", ", uint64_t(hi), "] for dtype ", out->dtype, ", got from=", low,
            " and to - 1=", last);
  RandomParams p;
  p.low = low;
  p.range = range;
  return draw(RandomDist::Integer, out, p, gen);
}

}  // namespace

// ---- deterministic creation ---------------------------------------------------------------
Tensor full(const Shape& shape, const Scalar& value, DType dtype) {
  checked_numel(shape, dtype, "full");
  return fill_(empty(shape, dtype), value);
}
Tensor zeros(const Shape& shape, DType dtype) { return full(shape, Scalar::from_int(0), dtype); }
Tensor ones(const Shape& shape, DType dtype) { return full(shape, Scalar::from_int(1), dtype); }

Tensor arange(const Scalar& start, const Scalar& end, const Scalar& step, std::optional<DType> dtype) {
  bool all_int = start.kind != Scalar::Float && end.kind != Scalar::Float && step.kind != Scalar::Float;
  DType dt = dtype ? *dtype : (all_int ? DType::Int64 : DType::Float32);
  int64_t n;
  Scalar s0 = start, st = step;
  if (!is_floating(dt)) {  // as PyTorch: integer outputs truncate the bounds first, then count exactly
    int64_t a = start.to<int64_t>(), b = end.to<int64_t>(), c = step.to<int64_t>();
    TGX_CHECK(c != 0, ValueError, "[arange] step must be nonzero");
    TGX_CHECK((c > 0 && b >= a) || (c < 0 && b <= a), ValueError,
              "[arange] upper bound and lower bound inconsistent with step sign (start=", a,
              ", end=", b, ", step=", c, ")");
    __int128 diff = __int128(b) - a, cnt = (diff + c - (c > 0 ? 1 : -1)) / c;
    n = int64_t(cnt);
    s0 = Scalar::from_int(a);
    st = Scalar::from_int(c);
  } else {
    double a = start.d, b = end.d, c = step.d;
    TGX_CHECK(std::isfinite(a) && std::isfinite(b), ValueError, "[arange] unsupported range: ", a,
              " -> ", b, " (bounds must be finite)");
    TGX_CHECK(c != 0, ValueError, "[arange] step must be nonzero");
    TGX_CHECK((c > 0 && b >= a) || (c < 0 && b <= a), ValueError,
              "[arange] upper bound and lower bound inconsistent with step sign (start=", a,
              ", end=", b, ", step=", c, ")");
    double size = std::ceil((b - a) / c);
    TGX_CHECK(size < 9.2e18, ValueError, "[arange] the range ", a, " -> ", b, " with step ", c,
              " has too many elements");
    n = int64_t(size);
  }
  Tensor out = empty({n}, dt);
  TGX_KERNEL(arange_kernel)(dt, out->raw(), n, s0, st);
  return out;
}

Tensor linspace(double start, double end, int64_t steps, DType dtype) {
  TGX_CHECK(steps >= 0, ValueError, "[linspace] number of steps must be non-negative, got ", steps);
  Tensor out = empty({steps}, dtype);
  TGX_KERNEL(linspace_kernel)(dtype, out->raw(), steps, start, end);
  return out;
}

Tensor logspace(double start, double end, int64_t steps, double base, DType dtype) {
  TGX_CHECK(steps >= 0, ValueError, "[logspace] number of steps must be non-negative, got ", steps);
  Tensor exps = linspace(start, end, steps, DType::Float64);
  Tensor b = scalar_tensor(Scalar::from_double(base), DType::Float64);
  return to_dtype(binary(BinaryOp::Pow, b, exps), dtype);
}

Tensor eye(int64_t n, int64_t m, DType dtype) {
  TGX_CHECK(n >= 0 && m >= 0, ValueError, "[eye] n and m must be non-negative, got n=", n, ", m=", m);
  Tensor out = zeros({n, m}, dtype);
  int64_t k = std::min(n, m);
  if (k) fill_(make_view(out, {k}, {m + 1}, 0), Scalar::from_int(1));
  return out;
}

// ---- random -------------------------------------------------------------------------------
Tensor rand(const Shape& shape, DType dtype, Generator* gen) {
  check_floating(dtype, "rand");
  return draw(RandomDist::Uniform, empty(shape, dtype), params(0, 1), gen);
}

Tensor randn(const Shape& shape, DType dtype, Generator* gen) {
  check_floating(dtype, "randn");
  return draw(RandomDist::Normal, empty(shape, dtype), params(0, 1), gen);
}

Tensor randint(int64_t low, int64_t high, const Shape& shape, DType dtype, Generator* gen) {
  TGX_CHECK(low < high, ValueError, "[randint] expects 'low' < 'high', got low=", low, ", high=", high);
  return draw_integers(empty(shape, dtype), low, uint64_t(high) - uint64_t(low), "randint", gen);
}

Tensor randperm(int64_t n, DType dtype, Generator* gen) {
  TGX_CHECK(n >= 0, ValueError, "[randperm] n must be non-negative, got ", n);
  TGX_CHECK(n == 0 || double(n - 1) <= exact_int_range(dtype).second, ValueError,
            "[randperm] n=", n, " is too large for dtype ", dtype);
  Tensor idx = empty({n}, DType::Int64);
  int64_t* p = idx->data<int64_t>();
  for (int64_t i = 0; i < n; ++i) p[i] = i;
  // Fisher-Yates: draw k (k = 0 .. n-2) swaps position n-1-k with a uniform j in [0, n-1-k]
  auto [seed, offset] = generator_or_default(gen).reserve(uint64_t(n / 2 + 1));
  philox::Block bits{};
  for (int64_t k = 0; k + 1 < n; ++k) {
    if (k % 2 == 0) bits = philox::block(seed, offset, uint64_t(k / 2));
    int h = int(k % 2) * 2;
    uint64_t r = (uint64_t(bits[h + 1]) << 32) | bits[h];
    int64_t i = n - 1 - k, j = int64_t(r % uint64_t(i + 1));
    std::swap(p[i], p[j]);
  }
  return to_dtype(idx, dtype);
}

Tensor normal(double mean, double std, const Shape& shape, DType dtype, Generator* gen) {
  check_floating(dtype, "normal");
  TGX_CHECK(std >= 0, ValueError, "[normal] expects std >= 0.0, got ", std);
  return draw(RandomDist::Normal, empty(shape, dtype), params(mean, std), gen);
}

Tensor normal(const Tensor& mean, const Tensor& std, Generator* gen) {
  DType dt = result_type({mean.get(), std.get()});
  if (mean->is_wrapped_number && std->is_wrapped_number) dt = DType::Float32;
  check_floating(dt, "normal");
  Shape shape = broadcast_shapes(mean->shape, std->shape, "normal");
  check_values(std, 0, std::numeric_limits<double>::infinity(), "normal", "std");
  Tensor z = randn(shape, dt, gen);
  Tensor out = binary(BinaryOp::Add, mean, binary(BinaryOp::Mul, std, z));
  return to_dtype(out, dt);
}

Tensor bernoulli(const Tensor& p, Generator* gen) {
  check_floating(p->dtype, "bernoulli");
  check_values(p, 0, 1, "bernoulli", "p");
  Tensor u = rand(p->shape, DType::Float64, gen);
  return to_dtype(binary(BinaryOp::Lt, u, p), p->dtype);
}

Tensor uniform_(const Tensor& self, double from, double to, Generator* gen) {
  check_floating(self->dtype, "uniform_");
  TGX_CHECK(from <= to && std::isfinite(to - from), ValueError,
            "[uniform_] expects a finite [from, to) range with from <= to, got from=", from, ", to=", to);
  return draw(RandomDist::Uniform, self, params(from, to), gen);
}

Tensor normal_(const Tensor& self, double mean, double std, Generator* gen) {
  check_floating(self->dtype, "normal_");
  TGX_CHECK(std >= 0, ValueError, "[normal_] expects std >= 0.0, got ", std);
  return draw(RandomDist::Normal, self, params(mean, std), gen);
}

Tensor bernoulli_(const Tensor& self, double p, Generator* gen) {
  TGX_CHECK(p >= 0 && p <= 1, ValueError, "[bernoulli_] expects 0 <= p <= 1, got ", p);
  return draw(RandomDist::Bernoulli, self, params(p, 0), gen);
}

Tensor bernoulli_(const Tensor& self, const Tensor& p, Generator* gen) {
  check_values(p, 0, 1, "bernoulli_", "p");
  Tensor u = rand(self->shape, DType::Float64, gen);
  Tensor mask = binary(BinaryOp::Lt, u, p);
  TGX_CHECK(mask->shape == self->shape, ValueError, "[bernoulli_] p of shape ", p->shape,
            " cannot be broadcast to self of shape ", self->shape);
  return copy_(self, mask);
}

Tensor exponential_(const Tensor& self, double lambd, Generator* gen) {
  check_floating(self->dtype, "exponential_");
  TGX_CHECK(lambd > 0, ValueError, "[exponential_] expects lambd > 0.0, got ", lambd);
  return draw(RandomDist::Exponential, self, params(lambd, 0), gen);
}

Tensor random_(const Tensor& self, int64_t from, std::optional<int64_t> to, Generator* gen) {
  if (to) {
    TGX_CHECK(from < *to, ValueError, "[random_] expects 'from' < 'to', got from=", from, ", to=", *to);
    return draw_integers(self, from, uint64_t(*to) - uint64_t(from), "random_", gen);
  }
  // [from, max]: max is 2^digits for floats and the largest value for integers
  double hi = exact_int_range(self->dtype).second;
  uint64_t last = hi >= 9.2e18 ? uint64_t(INT64_MAX) : uint64_t(hi);
  TGX_CHECK(double(from) <= hi, ValueError, "[random_] 'from'=", from, " is larger than the maximum ",
            last, " of dtype ", self->dtype);
  return draw_integers(self, from, last - uint64_t(from) + 1, "random_", gen);
}

}  // namespace tgx::ops

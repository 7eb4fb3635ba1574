// Creation ops (zeros, arange, linspace, eye ...) and random sampling. Random ops take a
// Generator* (nullptr = the default generator) and advance it by the Philox blocks they use.
#pragma once
#include <optional>

#include "core/rng.h"
#include "core/tensor.h"

namespace tgx::ops {

Tensor full(const Shape& shape, const Scalar& value, DType dtype);
Tensor zeros(const Shape& shape, DType dtype);
Tensor ones(const Shape& shape, DType dtype);
// dtype defaults to int64 when start, end and step are all integers, float32 otherwise.
Tensor arange(const Scalar& start, const Scalar& end, const Scalar& step,
              std::optional<DType> dtype = std::nullopt);
Tensor linspace(double start, double end, int64_t steps, DType dtype);
Tensor logspace(double start, double end, int64_t steps, double base, DType dtype);
Tensor eye(int64_t n, int64_t m, DType dtype);

// ---- random -------------------------------------------------------------------------------
Tensor rand(const Shape& shape, DType dtype, Generator* gen = nullptr);
Tensor randn(const Shape& shape, DType dtype, Generator* gen = nullptr);
// Uniform integers in [low, high).
Tensor randint(int64_t low, int64_t high, const Shape& shape, DType dtype, Generator* gen = nullptr);
// A random permutation of 0 .. n-1 (Fisher-Yates on the generator's output).
Tensor randperm(int64_t n, DType dtype, Generator* gen = nullptr);
Tensor normal(double mean, double std, const Shape& shape, DType dtype, Generator* gen = nullptr);
// mean and std broadcast; the result has their promoted (floating) dtype.
Tensor normal(const Tensor& mean, const Tensor& std, Generator* gen = nullptr);
// 1 with probability p (elementwise), in p's floating dtype.
Tensor bernoulli(const Tensor& p, Generator* gen = nullptr);

// In place (bump the version counter); return self.
Tensor uniform_(const Tensor& self, double from, double to, Generator* gen = nullptr);
Tensor normal_(const Tensor& self, double mean, double std, Generator* gen = nullptr);
Tensor bernoulli_(const Tensor& self, double p, Generator* gen = nullptr);
Tensor bernoulli_(const Tensor& self, const Tensor& p, Generator* gen = nullptr);
Tensor exponential_(const Tensor& self, double lambd, Generator* gen = nullptr);
// Integers in [from, to); without `to`, [from, 2^digits] (floats) or [from, max] (integers).
Tensor random_(const Tensor& self, int64_t from, std::optional<int64_t> to, Generator* gen = nullptr);

}  // namespace tgx::ops

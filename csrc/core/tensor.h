// TensorImpl: storage + shape + strides (in elements) + offset + dtype, plus the autograd slots.
// A Tensor is a shared_ptr to it; Python's tinygrad_ext.Tensor is this very class, bound once.
#pragma once
#include <atomic>
#include <functional>
#include <memory>
#include <vector>

#include "core/dtype.h"
#include "core/error.h"
#include "core/shape.h"
#include "core/storage.h"

namespace tgx {

struct TensorImpl;
using Tensor = std::shared_ptr<TensorImpl>;
struct Node;  // autograd/node.h

// Allocated on first use, so plain tensors stay light. Owned by autograd (csrc/autograd).
struct AutogradMeta {
  bool requires_grad = false;
  bool retains_grad = false;
  uint32_t output_nr = 0;         // which output of grad_fn this tensor is
  Tensor grad;                    // accumulated gradient (leaves, or retain_grad())
  std::shared_ptr<Node> grad_fn;  // the node that produced this tensor (null for leaves)
  std::weak_ptr<Node> grad_accumulator;  // leaves: their AccumulateGrad node, while a graph uses it
  Tensor fw_grad;                 // forward-mode tangent (dual tensors)
  int64_t fw_level = -1;          // id of the dual level fw_grad belongs to
  // Leaf hooks (non-leaf hooks live on grad_fn): id -> fn(grad) returning a replacement or null.
  std::vector<std::pair<int64_t, std::function<Tensor(const Tensor&)>>> hooks;
};

struct TensorImpl {
  std::shared_ptr<Storage> storage;
  Shape shape;
  Shape strides;  // in elements
  int64_t offset = 0;
  DType dtype = DType::Float32;
  bool is_wrapped_number = false;  // a Python scalar turned into a 0-d tensor (promotion rule)
  std::unique_ptr<AutogradMeta> autograd;
  // Views (make_view): the tensor whose storage this one views, always a root (never itself a
  // view); null for non-views. In-place ops on a view rewrite the base's autograd history
  // (autograd/copy_slices.cpp). view_gen: on a root, bumped whenever an in-place op rewrites its
  // history; on a view, the root's value when the view's history was last built from it.
  Tensor view_base;
  uint64_t view_gen = 0;

  TensorImpl() { live_count.fetch_add(1, std::memory_order_relaxed); }
  ~TensorImpl() { live_count.fetch_sub(1, std::memory_order_relaxed); }
  TensorImpl(const TensorImpl&) = delete;
  TensorImpl& operator=(const TensorImpl&) = delete;

  int64_t ndim() const { return int64_t(shape.size()); }
  int64_t numel() const {
    int64_t n = 1;
    for (int64_t s : shape) n *= s;
    return n;
  }
  size_t element_size() const { return itemsize(dtype); }
  Device device() const { return storage->device; }
  bool is_contiguous() const;
  char* raw() const { return static_cast<char*>(storage->data) + offset * int64_t(itemsize(dtype)); }
  template <typename T> T* data() const { return reinterpret_cast<T*>(raw()); }

  bool requires_grad() const { return autograd && autograd->requires_grad; }
  AutogradMeta& meta() {
    if (!autograd) autograd = std::make_unique<AutogradMeta>();
    return *autograd;
  }
  void bump_version() { storage->version.fetch_add(1, std::memory_order_relaxed); }
  int64_t version() const { return storage->version.load(std::memory_order_relaxed); }

  static std::atomic<int64_t> live_count;
};

// ---- construction ----------------------------------------------------------------------
Shape contiguous_strides(const Shape& shape);
// Validates sizes (no negatives, no overflow of numel * itemsize) and returns numel.
int64_t checked_numel(const Shape& shape, DType dtype, const char* op);
Tensor empty(const Shape& shape, DType dtype, Device device = {});
Tensor empty(Shape&& shape, DType dtype, Device device = {});  // takes the shape over
// A view sharing t's storage (and so its version counter); records t's root as view_base.
Tensor make_view(const Tensor& t, Shape shape, Shape strides, int64_t offset);

// ---- shape helpers ----------------------------------------------------------------------
// Wraps a possibly negative dim; IndexError naming the valid range otherwise.
int64_t wrap_dim(int64_t dim, int64_t ndim, const char* op);
Shape broadcast_shapes(const Shape& a, const Shape& b, const char* op);
// Bytes needed by a view (max reachable element + 1), to validate views of external memory.
bool view_in_bounds(const Shape& shape, const Shape& strides, int64_t offset, size_t itemsize,
                    size_t nbytes);

}  // namespace tgx

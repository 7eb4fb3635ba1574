// The reverse-mode engine: iterative, dependency-counted, visits only what leads to a grad.
#pragma once
#include "autograd/node.h"

namespace tgx::autograd {

// tensor.backward / autograd.backward: accumulates into .grad of the leaves (or of `inputs`).
// grad_roots entries may be null for single-element roots (implicit ones).
void backward(const TensorList& roots, const TensorList& grad_roots, bool keep_graph,
              bool create_graph, const TensorList& inputs = {});

// autograd.grad: returns d(roots)/d(inputs) without touching .grad (null for unused inputs
// when allow_unused, RuntimeError otherwise).
TensorList grad(const TensorList& roots, const TensorList& grad_roots, const TensorList& inputs,
                bool keep_graph, bool create_graph, bool allow_unused);

}  // namespace tgx::autograd

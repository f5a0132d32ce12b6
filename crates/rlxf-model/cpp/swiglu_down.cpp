// The tail of a SwiGLU MLP, down_proj(silu(gate) * up), as one autograd function that keeps only gate
// and up for the backward. Composed of libtorch operations, autograd keeps four intermediate-sized
// tensors per token and layer (gate for silu, silu(gate) and up for the product, the product for
// down_proj); they are most of a training micro-batch's activations (for Qwen2.5-0.5B, 4 x 4864 of
// the about 26k floats a token keeps per layer). The backward recomputes silu(gate) and the product,
// one elementwise pass, against two saved tensors of the four.
//
// The operations are the composed path's: silu and mul in the inputs' dtype (they are on none of
// autocast's lists), then under autocast the product and the weight cast as autocast's linear casts
// them (the weight's from the region's cache) and the projection run with autocast off; the backward
// calls the kernels libtorch's autograd would (mm, silu_backward). Every C++ exception stays here.
#include <ATen/ATen.h>
#include <ATen/autocast_mode.h>
#include <c10/core/impl/LocalDispatchKeySet.h>
#include <torch/csrc/autograd/custom_function.h>

#include "shim_error.h"

namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

class SwiGluDown : public torch::autograd::Function<SwiGluDown> {
 public:
  // `product_dtype`: the dtype autocast runs the projection in; the weight comes already cast to it.
  static variable_list forward(AutogradContext* ctx, const at::Tensor& gate, const at::Tensor& up,
                               const at::Tensor& weight, at::ScalarType product_dtype) {
    c10::impl::ExcludeDispatchKeyGuard no_autocast(c10::autocast_dispatch_keyset);
    auto out = at::linear(gated(gate, up, product_dtype), weight);
    ctx->save_for_backward({gate, up, weight});
    ctx->saved_data["product_dtype"] = static_cast<int64_t>(product_dtype);
    return {out};
  }

  static at::Tensor gated(const at::Tensor& gate, const at::Tensor& up, at::ScalarType product_dtype) {
    return (at::silu(gate) * up).to(product_dtype);
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    c10::impl::ExcludeDispatchKeyGuard no_autocast(c10::autocast_dispatch_keyset);
    const auto saved = ctx->get_saved_variables();
    const auto& gate = saved[0];
    const auto& up = saved[1];
    const auto& weight = saved[2];
    const auto& grad = grads[0];
    const auto product_dtype = static_cast<at::ScalarType>(ctx->saved_data["product_dtype"].toInt());
    variable_list out(4);
    if (!grad.defined()) return out;
    const int64_t features = gate.size(-1);
    auto silu_gate = at::silu(gate);
    if (ctx->needs_input_grad(2)) {
      // linear's weight gradient as mm's backward forms it: gradᵀ · input over the flattened rows.
      auto hidden = (silu_gate * up).to(product_dtype).reshape({-1, features});
      out[2] = grad.reshape({-1, grad.size(-1)}).t().mm(hidden);
    }
    if (ctx->needs_input_grad(0) || ctx->needs_input_grad(1)) {
      auto grad_hidden = at::matmul(grad, weight).to(gate.scalar_type());
      if (ctx->needs_input_grad(1)) out[1] = grad_hidden * silu_gate;
      if (ctx->needs_input_grad(0)) out[0] = at::silu_backward(grad_hidden * up, gate);
    }
    return out;
  }
};

}  // namespace

extern "C" int rlxf_swiglu_down(const at::Tensor* gate, const at::Tensor* up, const at::Tensor* weight,
                                at::Tensor** out, char* error, size_t error_len) {
  try {
    TORCH_CHECK(gate->sizes() == up->sizes(), "SwiGLU: gate ", gate->sizes(), " and up ", up->sizes(),
                " differ in shape");
    TORCH_CHECK(gate->dim() >= 1 && weight->dim() == 2 && weight->size(1) == gate->size(-1),
                "SwiGLU: the down projection's weight must be [hidden, ", gate->size(-1), "], not ",
                weight->sizes());
    TORCH_CHECK(gate->scalar_type() == up->scalar_type(), "SwiGLU: gate is ", gate->scalar_type(),
                " but up is ", up->scalar_type());
    at::Tensor w = *weight;
    auto product_dtype = gate->scalar_type();
    const auto type = gate->device().type();
    if (at::autocast::is_autocast_enabled(type)) {
      product_dtype = at::autocast::get_autocast_dtype(type);
      w = at::autocast::cached_cast(product_dtype, w, type);
    }
    TORCH_CHECK(w.scalar_type() == product_dtype, "SwiGLU: the down projection's weight is ",
                w.scalar_type(), " but the product is ", product_dtype);
    *out = new at::Tensor(SwiGluDown::apply(*gate, *up, w, product_dtype)[0]);
    return 0;
  } catch (const std::exception& e) {
    rlxf_write_error(e, error, error_len);
    return 1;
  }
}

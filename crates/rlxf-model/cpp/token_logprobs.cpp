// Log-probabilities (and the predictive entropy) of target tokens under the vocabulary projection,
// computed tile by tile so the `[tokens, vocab]` logits never exist whole, in the forward or the
// backward: the forward folds each vocabulary tile into an online log-sum-exp, the backward
// recomputes each tile's logits and turns them into that tile's gradient at once. For a 150k-token
// vocabulary at a thousand tokens per micro-batch, the full path holds several 0.6 GB tensors (the
// f32 logits kept for the backward, the entropy's temporaries, their gradient); this holds one
// tile. The price is one more vocabulary product in the backward.
//
// Math, per token with logits z (already divided by the temperature T), lse = log sum exp z:
//   logp = z[target] - lse,  entropy = lse - sum_j p_j z_j,  p = exp(z - lse)
//   d logp / d z_j = 1[j = target] - p_j,  d entropy / d z_j = -p_j (log p_j + entropy)
//
// Precision follows the full path: in f32 the states are divided by T before the product; in bf16
// (autocast) the product is bf16, converted to f32 and then divided. Gradients leave the tile in the
// product's dtype, as autocast's linear backward does. Every C++ exception stays here.
#include <ATen/ATen.h>
#include <c10/core/impl/LocalDispatchKeySet.h>
#include <torch/csrc/autograd/custom_function.h>

#include <limits>

#include "shim_error.h"

namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

// The f32 logits of one tile: some rows of the prepared states against some rows of the weight.
at::Tensor tile_logits(const at::Tensor& states, const at::Tensor& weight_tile, bool bf16,
                       double temperature) {
  auto product = at::mm(states, weight_tile.t());
  if (!bf16) return product;  // the states were divided by T already
  return product.to(at::kFloat).div_(temperature);
}

// The operand the products use: bf16 under autocast, else the states divided by T (f32).
at::Tensor prepared_states(const at::Tensor& states, bool bf16, double temperature) {
  if (bf16) return states.to(at::kBFloat16).contiguous();
  auto s = states.to(at::kFloat);
  return temperature == 1.0 ? s.contiguous() : (s / temperature).contiguous();
}

at::Tensor weight_operand(const at::Tensor& weight_tile, bool bf16) {
  return weight_tile.to(bf16 ? at::kBFloat16 : at::kFloat);
}

class TileTokenLogprobs : public torch::autograd::Function<TileTokenLogprobs> {
 public:
  static variable_list forward(AutogradContext* ctx, const at::Tensor& states, const at::Tensor& weight,
                               const at::Tensor& targets, double temperature, int64_t row_tile,
                               int64_t column_tile, bool bf16, bool with_entropy) {
    // The products' dtype is decided here, not by an enclosing autocast region.
    c10::impl::ExcludeDispatchKeyGuard no_autocast(c10::autocast_dispatch_keyset);
    const int64_t n = states.size(0);
    const int64_t vocab = weight.size(0);
    const auto f32 = states.options().dtype(at::kFloat);
    auto h = prepared_states(states, bf16, temperature);
    auto lse = at::empty({n}, f32);
    // A target outside [0, vocab) matches no tile and leaves NaN, not an arbitrary value.
    auto target_logit = at::full({n}, std::numeric_limits<float>::quiet_NaN(), f32);
    // The entropy of what the tiles so far cover, in their running normalisation: sums of
    // non-negative terms -p log p, where lse - sum p z would cancel two large numbers.
    auto entropy = at::zeros({n}, f32);
    for (int64_t r0 = 0; r0 < n; r0 += row_tile) {
      const int64_t nr = std::min(row_tile, n - r0);
      auto h_rows = h.narrow(0, r0, nr);
      auto targets_rows = targets.narrow(0, r0, nr);
      auto target_rows = target_logit.narrow(0, r0, nr);
      auto entropy_rows = entropy.narrow(0, r0, nr);
      at::Tensor running;
      for (int64_t v0 = 0; v0 < vocab; v0 += column_tile) {
        const int64_t nv = std::min(column_tile, vocab - v0);
        auto z = tile_logits(h_rows, weight_operand(weight.narrow(0, v0, nv), bf16), bf16, temperature);
        auto local = targets_rows - v0;
        auto inside = local.ge(0).logical_and(local.lt(nv));
        auto picked = z.gather(1, local.clamp(0, nv - 1).unsqueeze(1)).squeeze(1);
        target_rows.copy_(at::where(inside, picked, target_rows));
        auto tile_lse = at::logsumexp(z, {1});
        at::Tensor tile_entropy;
        if (with_entropy) {
          auto log_p = z.sub_(tile_lse.unsqueeze(1));
          tile_entropy = log_p.exp().mul_(log_p).sum(1).neg_();
        }
        if (!running.defined()) {
          running = tile_lse;
          if (with_entropy) entropy_rows.copy_(tile_entropy);
          continue;
        }
        auto merged = at::logaddexp(running, tile_lse);
        if (with_entropy) {
          // Each part's -p log p re-expressed under the merged normaliser, weighted by its mass.
          auto seen = (running - merged).exp_().mul_(entropy_rows + merged - running);
          auto tile = (tile_lse - merged).exp_().mul_(tile_entropy + merged - tile_lse);
          entropy_rows.copy_(seen.add_(tile));
        }
        running = merged;
      }
      lse.narrow(0, r0, nr).copy_(running);
    }
    auto logp = target_logit - lse;
    if (!with_entropy) ctx->mark_non_differentiable({entropy});
    ctx->save_for_backward({states, weight, targets, lse, entropy});
    ctx->saved_data["temperature"] = temperature;
    ctx->saved_data["row_tile"] = row_tile;
    ctx->saved_data["column_tile"] = column_tile;
    ctx->saved_data["bf16"] = bf16;
    ctx->set_materialize_grads(false);
    return {logp, entropy};
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    c10::impl::ExcludeDispatchKeyGuard no_autocast(c10::autocast_dispatch_keyset);
    const auto saved = ctx->get_saved_variables();
    const auto& states = saved[0];
    const auto& weight = saved[1];
    const auto& targets = saved[2];
    const auto& lse = saved[3];
    const auto& entropy = saved[4];
    const double temperature = ctx->saved_data["temperature"].toDouble();
    const int64_t row_tile = ctx->saved_data["row_tile"].toInt();
    const int64_t column_tile = ctx->saved_data["column_tile"].toInt();
    const bool bf16 = ctx->saved_data["bf16"].toBool();
    const at::Tensor& grad_logp = grads[0];
    const at::Tensor& grad_entropy = grads[1];
    variable_list out(8);
    if (!grad_logp.defined() && !grad_entropy.defined()) return out;

    const int64_t n = states.size(0);
    const int64_t vocab = weight.size(0);
    const auto f32 = states.options().dtype(at::kFloat);
    auto h = prepared_states(states, bf16, temperature);
    auto grad_h = at::zeros({n, states.size(1)}, f32);
    // A trainable f32 weight whose gradient already exists (a later micro-batch, or a step after
    // zero_grad) takes the tiles' contributions in place: returning a fresh [vocab, hidden] gradient
    // would hold a second vocabulary-sized f32 buffer (0.5 GB for Qwen2.5-0.5B) at the point of the
    // backward where every activation is still alive, only for autograd to add it in. Same sums, one
    // buffer; as Megatron's gradient-accumulation fusion does. Under autocast the weight is a bf16
    // cast, not the leaf, and the gradient is returned.
    const bool accumulate_in_place = !bf16 && ctx->needs_input_grad(1) && weight.is_leaf() &&
                                     weight.grad().defined() && weight.grad().scalar_type() == at::kFloat &&
                                     weight.grad().sizes() == weight.sizes() && weight.grad().is_contiguous() &&
                                     weight.grad().device() == weight.device();
    auto grad_weight = accumulate_in_place ? weight.grad()
                                           : at::zeros(weight.sizes(), weight.options().dtype(at::kFloat));
    auto g = grad_logp.defined() ? grad_logp.to(at::kFloat) : at::zeros({n}, f32);
    // In bf16 the tile's logits were (product / T): the product's gradient carries the 1/T. In f32
    // the states carry it (divided before the product), applied once to grad_h at the end.
    const double tile_scale = bf16 ? 1.0 / temperature : 1.0;
    for (int64_t r0 = 0; r0 < n; r0 += row_tile) {
      const int64_t nr = std::min(row_tile, n - r0);
      auto h_rows = h.narrow(0, r0, nr);
      auto lse_rows = lse.narrow(0, r0, nr).unsqueeze(1);
      auto g_rows = g.narrow(0, r0, nr);
      auto targets_rows = targets.narrow(0, r0, nr);
      auto grad_h_rows = grad_h.narrow(0, r0, nr);
      at::Tensor ge_rows, entropy_rows;
      if (grad_entropy.defined()) {
        ge_rows = grad_entropy.narrow(0, r0, nr).to(at::kFloat).unsqueeze(1);
        entropy_rows = entropy.narrow(0, r0, nr).unsqueeze(1);
      }
      for (int64_t v0 = 0; v0 < vocab; v0 += column_tile) {
        const int64_t nv = std::min(column_tile, vocab - v0);
        auto w_tile = weight_operand(weight.narrow(0, v0, nv), bf16);
        auto log_p = tile_logits(h_rows, w_tile, bf16, temperature).sub_(lse_rows);
        auto p = log_p.exp();
        // dz = g (onehot - p) - ge p (log p + entropy) = -p (g + ge (log p + entropy)) + g onehot
        at::Tensor dz;
        if (ge_rows.defined()) {
          dz = p.mul_(log_p.add_(entropy_rows).mul_(ge_rows).add_(g_rows.unsqueeze(1))).neg_();
        } else {
          dz = p.mul_(g_rows.neg().unsqueeze(1));
        }
        auto local = targets_rows - v0;
        auto inside = local.ge(0).logical_and(local.lt(nv));
        dz.scatter_add_(1, local.clamp(0, nv - 1).unsqueeze(1), (g_rows * inside).unsqueeze(1));
        if (tile_scale != 1.0) dz.mul_(tile_scale);
        auto dz_operand = dz.to(h.scalar_type());
        grad_h_rows.add_(at::mm(dz_operand, w_tile));
        grad_weight.narrow(0, v0, nv).add_(at::mm(dz_operand.t(), h_rows));
      }
    }
    if (!bf16 && temperature != 1.0) grad_h.div_(temperature);
    out[0] = grad_h.to(states.scalar_type());
    if (!accumulate_in_place) out[1] = grad_weight.to(weight.scalar_type());
    return out;
  }
};

}  // namespace

// logp and entropy out as new tensors the caller owns (tch's `Tensor::from_ptr`).
extern "C" int rlxf_tile_token_logprobs(const at::Tensor* states, const at::Tensor* weight,
                                        const at::Tensor* targets, double temperature, int64_t row_tile,
                                        int64_t column_tile, int bf16, int with_entropy,
                                        at::Tensor** logp, at::Tensor** entropy, char* error,
                                        size_t error_len) {
  try {
    TORCH_CHECK(states->dim() == 2 && weight->dim() == 2 && targets->dim() == 1,
                "token log-probs take states [tokens, hidden], weight [vocab, hidden], targets [tokens]");
    TORCH_CHECK(states->size(1) == weight->size(1), "token log-probs: states have hidden size ",
                states->size(1), ", the vocabulary weight ", weight->size(1));
    TORCH_CHECK(states->size(0) == targets->size(0), "token log-probs: ", states->size(0),
                " states but ", targets->size(0), " targets");
    TORCH_CHECK(targets->scalar_type() == at::kLong, "token log-probs: targets must be int64");
    TORCH_CHECK(row_tile > 0 && column_tile > 0, "token log-probs: tiles must be positive");
    TORCH_CHECK(temperature > 0.0, "token log-probs: temperature must be positive");
    auto outputs = TileTokenLogprobs::apply(*states, *weight, *targets, temperature, row_tile, column_tile,
                                            bf16 != 0, with_entropy != 0);
    *logp = new at::Tensor(outputs[0]);
    *entropy = new at::Tensor(outputs[1]);
    return 0;
  } catch (const std::exception& e) {
    rlxf_write_error(e, error, error_len);
    return 1;
  }
}

// One call of libtorch's fused AdamW kernel (the one behind torch.optim.AdamW(fused=True)) over a
// list of parameters, which tch does not expose. The tensors arrive as tch's handles (at::Tensor*);
// every C++ exception stays here and its message goes back through `error`.
#include <ATen/ATen.h>
#include <ATen/ops/_fused_adamw.h>
#include <c10/core/GradMode.h>
#include <cstdint>
#include <vector>

#include "shim_error.h"

extern "C" int rlxf_fused_adamw(at::Tensor** params, at::Tensor** grads, at::Tensor** exp_avgs,
                                at::Tensor** exp_avg_sqs, size_t count, double step, double lr,
                                double beta1, double beta2, double weight_decay, double eps,
                                char* error, size_t error_len) {
  try {
    // Parameters are leaves that require grad: updating them in place is only allowed without grad.
    c10::NoGradGuard no_grad;
    std::vector<at::Tensor> p, g, m, v;
    p.reserve(count), g.reserve(count), m.reserve(count), v.reserve(count);
    for (size_t i = 0; i < count; ++i) {
      p.push_back(*params[i]);
      g.push_back(*grads[i]);
      m.push_back(*exp_avgs[i]);
      v.push_back(*exp_avg_sqs[i]);
    }
    // The kernel reads the step count (already incremented) from a float tensor per parameter on
    // the parameters' device; it only reads them, so one tensor serves the whole list.
    const auto step_tensor = at::full({}, step, at::TensorOptions().dtype(at::kFloat).device(p.empty() ? at::kCPU : p[0].device()));
    const std::vector<at::Tensor> steps(count, step_tensor);
    at::_fused_adamw_(p, g, m, v, {}, steps, lr, beta1, beta2, weight_decay, eps, /*amsgrad=*/false, /*maximize=*/false);
    return 0;
  } catch (const std::exception& e) {
    rlxf_write_error(e, error, error_len);
    return 1;
  }
}

//! libtorch's fused AdamW kernel (`torch.optim.AdamW(fused=True)`), one pass over each parameter
//! instead of a dozen elementwise ops with temporaries; tch does not expose it, so a C++ shim
//! (`cpp/fused_adamw.cpp`) calls it. On this project's CPU it updates SmolLM2-135M's parameters in
//! about a tenth of the single-tensor path's time; on a GPU it is one launch per parameter group.

use tch::Tensor;

extern "C" {
    #[allow(clippy::too_many_arguments)]
    fn rlxf_fused_adamw(
        params: *const *const torch_sys::C_tensor,
        grads: *const *const torch_sys::C_tensor,
        exp_avgs: *const *const torch_sys::C_tensor,
        exp_avg_sqs: *const *const torch_sys::C_tensor,
        count: usize,
        step: f64,
        lr: f64,
        beta1: f64,
        beta2: f64,
        weight_decay: f64,
        eps: f64,
        error: *mut std::os::raw::c_char,
        error_len: usize,
    ) -> i32;
}

/// AdamW's hyper-parameters for one update; `step` counts this update (1 for the first).
#[derive(Debug, Clone, Copy)]
pub struct AdamWUpdate {
    pub step: u64,
    pub lr: f64,
    pub beta1: f64,
    pub beta2: f64,
    pub weight_decay: f64,
    pub eps: f64,
}

/// One parameter with its gradient and moments, all of the same shape, dtype and device.
pub struct AdamWSlot<'a> {
    pub param: &'a Tensor,
    pub grad: &'a Tensor,
    pub exp_avg: &'a Tensor,
    pub exp_avg_sq: &'a Tensor,
}

/// Updates every slot in place (parameters and moments). All tensors must share dtype and device and
/// be contiguous, and each slot's four tensors one shape; a violation is an error naming the slot
/// (the CPU kernel walks raw memory and checks none of this itself). libtorch's own failures come
/// back as the error too.
pub fn step(slots: &[AdamWSlot<'_>], update: AdamWUpdate) -> Result<(), String> {
    let Some(first) = slots.first() else {
        return Ok(());
    };
    let (kind, device) = (first.param.kind(), first.param.device());
    for (i, s) in slots.iter().enumerate() {
        for (what, t) in [("parameter", s.param), ("gradient", s.grad), ("first moment", s.exp_avg), ("second moment", s.exp_avg_sq)] {
            if t.size() != s.param.size() || t.kind() != kind || t.device() != device || !t.is_contiguous() {
                return Err(format!(
                    "fused AdamW slot {i}: the {what} is {:?} {:?} on {:?}{}, expected contiguous {:?} {kind:?} on {device:?}",
                    t.size(),
                    t.kind(),
                    t.device(),
                    if t.is_contiguous() { "" } else { " (not contiguous)" },
                    s.param.size()
                ));
            }
        }
    }
    let params: Vec<_> = slots.iter().map(|s| s.param.as_ptr()).collect();
    let grads: Vec<_> = slots.iter().map(|s| s.grad.as_ptr()).collect();
    let exp_avgs: Vec<_> = slots.iter().map(|s| s.exp_avg.as_ptr()).collect();
    let exp_avg_sqs: Vec<_> = slots.iter().map(|s| s.exp_avg_sq.as_ptr()).collect();
    let mut error = crate::shim_error::ShimError::new();
    // SAFETY: four arrays of `slots.len()` live tensor handles; the shim copies the handles (reference
    // counts), writes at most `error.len()` bytes of message and catches every C++ exception.
    let status = unsafe {
        rlxf_fused_adamw(
            params.as_ptr(),
            grads.as_ptr(),
            exp_avgs.as_ptr(),
            exp_avg_sqs.as_ptr(),
            slots.len(),
            update.step as f64,
            update.lr,
            update.beta1,
            update.beta2,
            update.weight_decay,
            update.eps,
            error.as_mut_ptr(),
            error.len(),
        )
    };
    if status == 0 {
        return Ok(());
    }
    Err(format!("libtorch's fused AdamW failed: {}", error.first_line()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use tch::{Device, Kind};

    /// AdamW written out as `torch.optim.AdamW`'s single-tensor path does it.
    fn reference(p: &Tensor, g: &Tensor, m: &Tensor, v: &Tensor, u: AdamWUpdate) -> (Tensor, Tensor, Tensor) {
        let p = p * (1.0 - u.lr * u.weight_decay);
        let m = m * u.beta1 + g * (1.0 - u.beta1);
        let v = v * u.beta2 + g * g * (1.0 - u.beta2);
        let t = u.step as i32;
        let bias1 = 1.0 - u.beta1.powi(t);
        let bias2_sqrt = (1.0 - u.beta2.powi(t)).sqrt();
        let denom = v.sqrt() / bias2_sqrt + u.eps;
        (p - &m * (u.lr / bias1) / denom, m, v)
    }

    #[test]
    fn matches_the_written_out_update_over_steps() {
        tch::manual_seed(3);
        let shapes: [&[i64]; 3] = [&[7, 5], &[13], &[2, 3, 4]];
        let params: Vec<Tensor> = shapes.iter().map(|s| Tensor::randn(*s, (Kind::Float, Device::Cpu))).collect();
        let moments = |params: &[Tensor]| -> Vec<Tensor> { params.iter().map(|p| p.zeros_like()).collect() };
        let (exp_avgs, exp_avg_sqs) = (moments(&params), moments(&params));
        let mut expected: Vec<(Tensor, Tensor, Tensor)> =
            params.iter().map(|p| (p.copy(), p.zeros_like(), p.zeros_like())).collect();
        for step_number in 1..=5u64 {
            let grads: Vec<Tensor> = params.iter().map(|p| p.randn_like() * 0.3).collect();
            let update = AdamWUpdate { step: step_number, lr: 0.01 * step_number as f64, beta1: 0.9, beta2: 0.95, weight_decay: 0.1, eps: 1e-8 };
            let slots: Vec<AdamWSlot<'_>> = (0..params.len())
                .map(|i| AdamWSlot { param: &params[i], grad: &grads[i], exp_avg: &exp_avgs[i], exp_avg_sq: &exp_avg_sqs[i] })
                .collect();
            step(&slots, update).unwrap();
            for (e, g) in expected.iter_mut().zip(&grads) {
                *e = reference(&e.0, g, &e.1, &e.2, update);
            }
        }
        for (i, (p, m, v)) in expected.iter().enumerate() {
            for (ours, theirs) in [(&params[i], p), (&exp_avgs[i], m), (&exp_avg_sqs[i], v)] {
                let diff = (ours - theirs).abs().max().double_value(&[]);
                assert!(diff < 1e-6, "slot {i}: max abs diff {diff}");
            }
        }
    }

    #[test]
    fn mismatched_tensors_are_an_error_not_a_crash() {
        let p = Tensor::zeros([4], (Kind::Float, Device::Cpu));
        let (m, v) = (p.zeros_like(), p.zeros_like());
        let update = AdamWUpdate { step: 1, lr: 1e-3, beta1: 0.9, beta2: 0.999, weight_decay: 0.0, eps: 1e-8 };
        let longer = Tensor::zeros([5], (Kind::Float, Device::Cpu));
        let double = Tensor::zeros([4], (Kind::Double, Device::Cpu));
        let strided = Tensor::zeros([8], (Kind::Float, Device::Cpu)).slice(0, 0, 8, 2);
        for (grad, fault) in [(&longer, "[5]"), (&double, "Double"), (&strided, "not contiguous")] {
            let err = step(&[AdamWSlot { param: &p, grad, exp_avg: &m, exp_avg_sq: &v }], update).unwrap_err();
            assert!(err.contains("slot 0: the gradient") && err.contains(fault), "{err}");
        }
        assert_eq!(p.abs().sum(Kind::Float).double_value(&[]), 0.0, "nothing may change on an error");
    }
}

//! Activation checkpointing for the shared-prompt training forward
//! ([`crate::LanguageModel::completion_predictor_states`]): the layers keep only each layer's input
//! (detached) for the backward; after the loss's backward has reached the final states,
//! [`TrunkCheckpoints::backward`] recomputes one layer at a time, from the last, and pushes the
//! gradient through it. A micro-batch then holds one layer's activations instead of every layer's,
//! for one more forward of the trunk (what `gradient_checkpointing` does in the Python stacks; TRL's
//! GRPO trainer has it on by default).
//!
//! Each recomputed layer is the same function of the same inputs as in the forward, so the
//! gradients are those of the plain forward (up to the order in which a parameter's contributions
//! are summed: the tied embedding gets its head part first and its lookup part last).

use tch::{Kind, Tensor};

use crate::decoder::DecoderLm;
use crate::layers::LayerKv;
use crate::mask::{causal_mask, positions_from_valid};
use crate::model::CompletionPass;

/// The residual stream between layers: `x + pending` (the previous MLP output, not yet added).
struct Stream {
    x: Tensor,
    pending: Option<Tensor>,
}

impl Stream {
    /// Detached copies that autograd tracks from here: the inputs of a recomputed layer.
    fn leaves(&self) -> Stream {
        let leaf = |t: &Tensor| t.detach().set_requires_grad(true);
        Stream {
            x: leaf(&self.x),
            pending: self.pending.as_ref().map(leaf),
        }
    }

    fn detached(&self) -> Stream {
        Stream {
            x: self.x.detach(),
            pending: self.pending.as_ref().map(Tensor::detach),
        }
    }

    fn tensors(&self) -> impl Iterator<Item = &Tensor> {
        std::iter::once(&self.x).chain(self.pending.as_ref())
    }
}

/// The prompts' stream and the completions' (absent when every completion is one token long).
struct Streams {
    prompt: Stream,
    completion: Option<Stream>,
}

impl Streams {
    fn leaves(&self) -> Streams {
        Streams {
            prompt: self.prompt.leaves(),
            completion: self.completion.as_ref().map(Stream::leaves),
        }
    }

    fn detached(&self) -> Streams {
        Streams {
            prompt: self.prompt.detached(),
            completion: self.completion.as_ref().map(Stream::detached),
        }
    }

    fn tensors(&self) -> impl Iterator<Item = &Tensor> {
        self.prompt.tensors().chain(self.completion.iter().flat_map(Stream::tensors))
    }

    /// The gradients autograd left on these leaves (undefined where nothing reached one).
    fn grads(&self) -> Vec<Tensor> {
        self.tensors().map(Tensor::grad).collect()
    }
}

/// What every layer of the pass reads besides the stream: ids, positions' rotary tables, masks.
struct PassInputs {
    prompt_ids: Tensor,
    prompt_rope: (Tensor, Tensor),
    prompt_mask: Tensor,
    prompt_len: i64,
    prompt_of: Tensor,
    completion: Option<CompletionInputs>,
}

struct CompletionInputs {
    ids: Tensor,
    rope: (Tensor, Tensor),
    mask: Tensor,
}

impl PassInputs {
    fn embedded(&self, net: &DecoderLm) -> Streams {
        Streams {
            prompt: Stream { x: net.embed(&self.prompt_ids), pending: None },
            completion: self.completion.as_ref().map(|c| Stream { x: net.embed(&c.ids), pending: None }),
        }
    }

    /// Layer `index` on both streams: the prompts first, recording their keys/values, which the
    /// completions then attend to (each completion to its own prompt's).
    fn layer(&self, net: &DecoderLm, index: usize, input: &Streams) -> Streams {
        let layer = &net.layers()[index];
        let mut record = Vec::with_capacity(1);
        let (rope_cos, rope_sin) = &self.prompt_rope;
        let prompt = input.prompt.pending.as_ref();
        let (x, pending) =
            layer.forward(&input.prompt.x, prompt, (rope_cos, rope_sin), &self.prompt_mask, LayerKv::Record(&mut record));
        let completion = match (&self.completion, &input.completion) {
            (Some(c), Some(stream)) => {
                let (keys, values) = &record[0];
                let prefix = (keys.index_select(0, &self.prompt_of), values.index_select(0, &self.prompt_of));
                let (cx, cpending) =
                    layer.forward(&stream.x, stream.pending.as_ref(), (&c.rope.0, &c.rope.1), &c.mask, LayerKv::Prefix(&prefix));
                Some(Stream { x: cx, pending: Some(cpending) })
            }
            _ => None,
        };
        Streams { prompt: Stream { x, pending: Some(pending) }, completion }
    }

    /// `[B, C, hidden]`: the prompt's last state for each completion, then the completion's states.
    fn final_states(&self, net: &DecoderLm, top: &Streams) -> Tensor {
        let prompt_hidden = net.final_norm(&top.prompt.x, top.prompt.pending.as_ref());
        let last = prompt_hidden.narrow(1, self.prompt_len - 1, 1).index_select(0, &self.prompt_of);
        match &top.completion {
            Some(stream) => Tensor::cat(&[last, net.final_norm(&stream.x, stream.pending.as_ref())], 1),
            None => last,
        }
    }
}

/// The inputs of every layer of a checkpointed forward, and the leaves its final states grew from.
pub struct TrunkCheckpoints {
    inputs: PassInputs,
    /// `boundaries[i]`: the input of layer i (`boundaries[0]`: the embeddings), detached.
    boundaries: Vec<Streams>,
    /// The last layer's output as leaves: the loss's backward leaves its gradient here.
    top: Streams,
}

/// The final states of a checkpointed forward (differentiable back to [`TrunkCheckpoints::top`]
/// only) and what the trunk's backward needs.
pub struct CheckpointedStates {
    pub states: Tensor,
    pub trunk: TrunkCheckpoints,
}

/// Same arguments and states as [`crate::LanguageModel::completion_predictor_states`].
pub(crate) fn forward(
    net: &DecoderLm,
    prompt_ids: &Tensor,
    prompt_valid: &Tensor,
    completion_ids: &Tensor,
    completion_valid: &Tensor,
    prompt_of: &Tensor,
) -> CheckpointedStates {
    let _region = net.precision_region();
    let p = prompt_ids.size()[1];
    let c = completion_ids.size()[1];
    // Rotary tables in the stream's dtype, as `run_layers` makes them (the embeddings' dtype).
    let kind = net.embedding_kind();
    let prompt_positions = positions_from_valid(prompt_valid);
    let completion = (c > 1).then(|| {
        let pass = CompletionPass::new(prompt_valid, completion_ids, completion_valid, prompt_of);
        CompletionInputs { rope: net.rope_tables(&pass.positions, kind), ids: pass.ids, mask: pass.mask }
    });
    let inputs = PassInputs {
        prompt_ids: prompt_ids.shallow_clone(),
        prompt_rope: net.rope_tables(&prompt_positions, kind),
        prompt_mask: causal_mask(prompt_valid, p),
        prompt_len: p,
        prompt_of: prompt_of.shallow_clone(),
        completion,
    };
    let layers = net.layers().len();
    let mut boundaries = Vec::with_capacity(layers);
    // Each layer runs as in the plain forward (gradients on, so the same kernels), and only its
    // detached output is kept: its graph goes as soon as the output does.
    let mut streams = inputs.embedded(net).detached();
    for index in 0..layers {
        let next = inputs.layer(net, index, &streams).detached();
        boundaries.push(streams);
        streams = next;
    }
    let top = streams.leaves();
    let states = inputs.final_states(net, &top);
    CheckpointedStates { states, trunk: TrunkCheckpoints { inputs, boundaries, top } }
}

impl TrunkCheckpoints {
    /// Finishes the backward the loss started: call once, after the backward that reached the final
    /// states. Every parameter's gradient then holds what the plain forward's backward would add.
    pub fn backward(self, net: &DecoderLm) {
        let _region = net.precision_region();
        let mut grads = self.top.grads();
        for (index, input) in self.boundaries.iter().enumerate().rev() {
            let leaves = input.leaves();
            let output = self.inputs.layer(net, index, &leaves);
            push_gradient(output.tensors(), &grads);
            grads = leaves.grads();
        }
        let embedded = self.inputs.embedded(net);
        push_gradient(embedded.tensors(), &grads);
    }
}

/// Backpropagates `grads` (one per output, undefined = zero) from `outputs`: the backward of
/// Σ (output · grad), whose gradient with respect to each output is its `grad` exactly.
fn push_gradient<'a>(outputs: impl Iterator<Item = &'a Tensor>, grads: &[Tensor]) {
    let terms: Vec<Tensor> = outputs
        .zip(grads)
        .filter(|(output, grad)| grad.defined() && output.requires_grad())
        .map(|(output, grad)| (output * grad).sum(Kind::Float))
        .collect();
    if let Some(total) = terms.into_iter().reduce(|a, b| a + b) {
        total.backward();
    }
}

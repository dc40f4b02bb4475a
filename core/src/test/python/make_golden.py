#!/usr/bin/env python3
"""PyTorch golden files for Vertebra's core ops.

Run from the repository root with Debian's python3-torch and python3-numpy:

    python3 core/src/test/python/make_golden.py

It (re)writes core/src/test/resources/golden/: one folder per case holding .npy files
(float32, int64 for class labels) and a case.json describing the op, its parameters and every
file (role, shape, dtype, layout), plus index.json listing all cases. See the README.md written
next to them for the conventions. The output is deterministic (fixed seeds per case).

Oracle: inputs, parameters and grad_out are drawn as float32 and saved as float32; the forward
and backward passes run in float64 on those exact values (autograd), and the results are rounded
to float32 when saved.

Layouts: image activations (inputs, outputs and their gradients) are saved NHWC; convolution
weights and their gradients stay in PyTorch's OIHW. The NHWC tensors are the autograd leaves and
the permutation to PyTorch's NCHW happens inside the graph, so every gradient comes back in the
layout of the tensor it belongs to without a hand-written inverse permutation.
"""

import json
import math
import os
import re
import shutil

import numpy as np
import torch
import torch.nn.functional as F

ROOT = os.path.join("core", "src", "test", "resources", "golden")
COMPUTE = torch.float64

torch.use_deterministic_algorithms(True)


# --------------------------------------------------------------------------------------------
# Case bookkeeping
# --------------------------------------------------------------------------------------------

class Case:
    """One golden case: a folder of .npy files plus case.json."""

    def __init__(self, name, op, seed, description, params=None):
        self.name = name
        self.op = op
        self.description = description
        self.params = dict(params or {})
        self.rng = np.random.default_rng(seed)
        self.seed = seed
        self.files = []
        self.arrays = {}

    # -- random data (float32) --
    def normal(self, shape, scale=1.0, shift=0.0):
        return (self.rng.standard_normal(shape) * scale + shift).astype(np.float32)

    def uniform(self, shape, low, high):
        return self.rng.uniform(low, high, shape).astype(np.float32)

    # -- files --
    def add(self, name, array, role, layout=None, of=None):
        array = np.asarray(array)
        if array.dtype == np.float64:
            array = array.astype(np.float32)
        assert array.dtype in (np.float32, np.int64), (name, array.dtype)
        assert name not in self.arrays, name
        self.arrays[name] = array
        entry = {
            "name": name,
            "file": name + ".npy",
            "role": role,
            "dtype": str(array.dtype),
            "shape": list(array.shape),
        }
        if layout is not None:
            entry["layout"] = layout
        if of is not None:
            entry["of"] = of
        self.files.append(entry)
        return array

    def write(self):
        folder = os.path.join(ROOT, self.name)
        os.makedirs(folder)
        for entry in self.files:
            np.save(os.path.join(folder, entry["file"]), np.array(self.arrays[entry["name"]], order="C"))
        meta = {
            "case": self.name,
            "op": self.op,
            "description": self.description,
            "params": self.params,
            "compute_dtype": "float64",
            "saved_dtype": "float32",
            "seed": self.seed,
            "files": self.files,
        }
        with open(os.path.join(folder, "case.json"), "w") as f:
            f.write(dump_json(meta))
        return {"case": self.name, "op": self.op}


def dump_json(obj):
    """Indented JSON with flat lists (shapes, strides) kept on one line."""
    text = json.dumps(obj, indent=2)
    text = re.sub(r"\[\s+([^\[\]{}]*?)\s+\]",
                  lambda m: "[" + ", ".join(v.strip() for v in m.group(1).split(",")) + "]", text)
    return text + "\n"


def leaf(array):
    """float32 numpy -> float64 torch leaf that records gradients."""
    return torch.from_numpy(array.astype(np.float64)).requires_grad_(True)


def const(array):
    if array.dtype == np.int64:
        return torch.from_numpy(array)
    return torch.from_numpy(array.astype(np.float64))


def f32(t):
    return t.detach().to(torch.float64).numpy().astype(np.float32)


def nchw(x):
    """NHWC -> NCHW (view inside the autograd graph)."""
    return x.permute(0, 3, 1, 2)


def nhwc(x):
    """NCHW -> NHWC (view inside the autograd graph)."""
    return x.permute(0, 2, 3, 1)


def run_case(case, inputs, forward, out_layout=None, scalar_grad_out=False):
    """Generic driver.

    inputs: list of (name, float32 array, role, layout, requires_grad).
    forward: function(dict name -> torch tensor) -> output tensor already in the saved layout.
    Saves inputs, out, grad_out, and grad_<name> for every input with requires_grad.
    Returns the dict of torch tensors (for extra checks).
    """
    tensors = {}
    for name, array, role, layout, requires_grad in inputs:
        case.add(name, array, role, layout)
        tensors[name] = leaf(array) if requires_grad else const(array)
    out = forward(tensors)
    case.add("out", f32(out), "output", out_layout)
    if out.dim() == 0 and scalar_grad_out:
        g = np.array(1.0, dtype=np.float32)
    else:
        g = case.normal(tuple(out.shape))
    case.add("grad_out", g, "grad_out", out_layout)
    out.backward(const(g))
    for name, array, role, layout, requires_grad in inputs:
        if requires_grad:
            grad = tensors[name].grad
            assert grad is not None and grad.shape == tensors[name].shape, name
            case.add("grad_" + name, f32(grad), "grad", layout, of=name)
    return tensors, out


# --------------------------------------------------------------------------------------------
# Independent NumPy check of the NHWC/OIHW conventions (catches a wrong permutation)
# --------------------------------------------------------------------------------------------

def numpy_conv_nhwc(x, w_oihw, bias, stride, pads, dilation, groups):
    """Direct convolution: x NHWC, weights OIHW, pads (top, bottom, left, right). float64."""
    x = x.astype(np.float64)
    w = w_oihw.astype(np.float64)
    n, h, wd, cin = x.shape
    cout, cin_g, kh, kw = w.shape
    pt, pb, pl, pr = pads
    xp = np.zeros((n, h + pt + pb, wd + pl + pr, cin))
    xp[:, pt:pt + h, pl:pl + wd, :] = x
    oh = (h + pt + pb - dilation * (kh - 1) - 1) // stride + 1
    ow = (wd + pl + pr - dilation * (kw - 1) - 1) // stride + 1
    cout_g = cout // groups
    out = np.zeros((n, oh, ow, cout))
    for co in range(cout):
        g = co // cout_g
        for i in range(kh):
            for j in range(kw):
                patch = xp[:, i * dilation:i * dilation + stride * (oh - 1) + 1:stride,
                           j * dilation:j * dilation + stride * (ow - 1) + 1:stride,
                           g * cin_g:(g + 1) * cin_g]
                out[..., co] += patch @ w[co, :, i, j]
    if bias is not None:
        out += bias.astype(np.float64)
    return out


# --------------------------------------------------------------------------------------------
# 1. conv2d
# --------------------------------------------------------------------------------------------

def tf_same_pads(size, k, s, d):
    out = math.ceil(size / s)
    total = max((out - 1) * s + (k - 1) * d + 1 - size, 0)
    return total // 2, total - total // 2


def conv_case(name, seed, desc, n, h, w, cin, cout, k, stride=1, padding=0, dilation=1, groups=1,
              bias=True, tf_same=False):
    params = {"kernel": [k, k], "stride": [stride, stride], "dilation": [dilation, dilation],
              "groups": groups, "bias": bias, "in_channels": cin, "out_channels": cout}
    if tf_same:
        pt, pb = tf_same_pads(h, k, stride, dilation)
        pl, pr = tf_same_pads(w, k, stride, dilation)
        params["padding_mode"] = "tf_same"
        params["padding"] = [0, 0]
    else:
        pt = pb = pl = pr = padding
        params["padding_mode"] = "symmetric"
        params["padding"] = [padding, padding]
    params.update({"pad_top": pt, "pad_bottom": pb, "pad_left": pl, "pad_right": pr})
    case = Case(name, "conv2d", seed, desc, params)
    x = case.normal((n, h, w, cin))
    fan_in = (cin // groups) * k * k
    wt = case.normal((cout, cin // groups, k, k), scale=1.0 / math.sqrt(fan_in))
    inputs = [("x", x, "input", "NHWC", True), ("weight", wt, "param", "OIHW", True)]
    if bias:
        inputs.append(("bias", case.normal((cout,), scale=0.5), "param", None, True))

    def fwd(t):
        xin = nchw(t["x"])
        if tf_same:
            xin = F.pad(xin, (pl, pr, pt, pb))
            pad = 0
        else:
            pad = padding
        y = F.conv2d(xin, t["weight"], t.get("bias"), stride=stride, padding=pad,
                     dilation=dilation, groups=groups)
        return nhwc(y)

    _, out = run_case(case, inputs, fwd, out_layout="NHWC")
    ref = numpy_conv_nhwc(x, wt, case.arrays.get("bias"), stride, (pt, pb, pl, pr), dilation, groups)
    assert ref.shape == tuple(out.shape), (name, ref.shape, out.shape)
    assert np.allclose(ref, out.detach().numpy(), atol=1e-10), name
    # adjoint checks of the saved gradients against the NumPy convolution (it is linear in x and in w)
    pads = (pt, pb, pl, pr)
    g = case.arrays["grad_out"].astype(np.float64)
    v = case.rng.standard_normal(x.shape)
    u = case.rng.standard_normal(wt.shape)
    lhs = np.sum(g * numpy_conv_nhwc(v, wt, None, stride, pads, dilation, groups))
    assert np.isclose(lhs, np.sum(case.arrays["grad_x"] * v), rtol=1e-5), name
    lhs = np.sum(g * numpy_conv_nhwc(x, u, None, stride, pads, dilation, groups))
    assert np.isclose(lhs, np.sum(case.arrays["grad_weight"] * u), rtol=1e-5), name
    if bias:
        assert np.allclose(case.arrays["grad_bias"], g.sum(axis=(0, 1, 2)), atol=1e-5), name
    return case


def conv_cases():
    return [
        conv_case("conv2d_3x3_s1_p1_bias", 101, "plain 3x3 conv, stride 1, padding 1, with bias; non-square input",
                  n=2, h=9, w=7, cin=5, cout=7, k=3, stride=1, padding=1),
        conv_case("conv2d_3x3_s2_p1_nobias", 102, "strided 3x3 conv, stride 2, padding 1, no bias; non-square input",
                  n=2, h=9, w=7, cin=4, cout=6, k=3, stride=2, padding=1, bias=False),
        conv_case("conv2d_3x3_grouped_g2", 103, "grouped 3x3 conv, groups 2 (Cin 6, Cout 4), stride 1, padding 1, bias",
                  n=2, h=6, w=5, cin=6, cout=4, k=3, stride=1, padding=1, groups=2),
        conv_case("conv2d_dw3x3_s1_p1", 104, "depthwise 3x3 conv (groups = C = 8), stride 1, padding 1, no bias",
                  n=2, h=7, w=6, cin=8, cout=8, k=3, stride=1, padding=1, groups=8, bias=False),
        conv_case("conv2d_dw5x5_s2_p2", 105, "depthwise 5x5 conv (groups = C = 8), stride 2, padding 2, no bias; non-square input",
                  n=2, h=9, w=7, cin=8, cout=8, k=5, stride=2, padding=2, groups=8, bias=False),
        conv_case("conv2d_1x1_bias", 106, "pointwise 1x1 conv, Cin 6, Cout 5, with bias",
                  n=2, h=4, w=3, cin=6, cout=5, k=1, stride=1, padding=0),
        conv_case("conv2d_3x3_dil2_p2", 107, "dilated 3x3 conv, dilation 2, padding 2, stride 1, bias; non-square input",
                  n=2, h=9, w=7, cin=3, cout=4, k=3, stride=1, padding=2, dilation=2),
        conv_case("conv2d_3x3_s2_tfsame", 108,
                  "3x3 stride 2 conv with TensorFlow SAME padding on an even 8x8 input (asymmetric: "
                  "extra row/column at the bottom/right); PyTorch: F.pad then conv2d with padding 0; bias",
                  n=2, h=8, w=8, cin=3, cout=4, k=3, stride=2, tf_same=True),
        conv_case("conv2d_dw5x5_s2_tfsame", 109,
                  "depthwise 5x5 stride 2 conv (groups = C = 6) with TensorFlow SAME padding on an 8x6 input "
                  "(asymmetric on both axes); PyTorch: F.pad then conv2d with padding 0; no bias",
                  n=2, h=8, w=6, cin=6, cout=6, k=5, stride=2, groups=6, bias=False, tf_same=True),
    ]


# --------------------------------------------------------------------------------------------
# 2. batch_norm
# --------------------------------------------------------------------------------------------

def bn_cases():
    cases = []
    for suffix, seed, eps, momentum in (("", 201, 1e-5, 0.1), ("_eps1e-3_m0.01", 203, 1e-3, 0.01)):
        for training in (True, False):
            mode = "train" if training else "eval"
            name = "batch_norm_" + mode + suffix
            params = {"training": training, "eps": eps, "momentum": momentum, "channels": 6,
                      "channel_axis": 3}
            if training:
                desc = ("batch norm, training mode, NHWC input: normalise with the batch mean and the "
                        "biased batch variance over N,H,W; running stats updated in place as "
                        "running = (1 - momentum) * running + momentum * batch_stat, with the UNBIASED "
                        "batch variance (n/(n-1)) for running_var")
                params["running_var_update"] = "unbiased"
            else:
                desc = ("batch norm, eval mode, NHWC input: normalise with running_mean/running_var; "
                        "running stats unchanged")
            case = Case(name, "batch_norm", seed + (0 if training else 1), desc, params)
            x = case.normal((4, 5, 3, 6), scale=1.5, shift=0.7)
            weight = case.uniform((6,), 0.5, 1.5)
            bias = case.normal((6,), scale=0.3)
            rm = case.normal((6,), scale=0.5)
            rv = case.uniform((6,), 0.5, 2.0)
            case.add("x", x, "input", "NHWC")
            case.add("weight", weight, "param")
            case.add("bias", bias, "param")
            case.add("running_mean", rm, "state")
            case.add("running_var", rv, "state")
            tx, tw, tb = leaf(x), leaf(weight), leaf(bias)
            trm, trv = const(rm).clone(), const(rv).clone()
            y = nhwc(F.batch_norm(nchw(tx), trm, trv, tw, tb, training=training, momentum=momentum, eps=eps))
            case.add("out", f32(y), "output", "NHWC")
            if training:
                xd = x.astype(np.float64).reshape(-1, 6)
                mean = xd.mean(0)
                var_b = xd.var(0)
                n = xd.shape[0]
                assert np.allclose(trm.numpy(), (1 - momentum) * rm + momentum * mean)
                assert np.allclose(trv.numpy(), (1 - momentum) * rv + momentum * var_b * n / (n - 1))
                ref = (xd - mean) / np.sqrt(var_b + eps) * weight + bias
                assert np.allclose(ref.reshape(x.shape), y.detach().numpy())
                case.add("batch_mean", mean, "aux")
                case.add("batch_var", var_b, "aux")
                case.add("running_mean_after", f32(trm), "state_after", of="running_mean")
                case.add("running_var_after", f32(trv), "state_after", of="running_var")
            else:
                assert np.array_equal(trm.numpy(), rm.astype(np.float64))
                ref = (x.astype(np.float64) - rm) / np.sqrt(rv.astype(np.float64) + eps) * weight + bias
                assert np.allclose(ref, y.detach().numpy())
            g = case.normal(tuple(y.shape))
            case.add("grad_out", g, "grad_out", "NHWC")
            y.backward(const(g))
            case.add("grad_x", f32(tx.grad), "grad", "NHWC", of="x")
            case.add("grad_weight", f32(tw.grad), "grad", of="weight")
            case.add("grad_bias", f32(tb.grad), "grad", of="bias")
            cases.append(case)
    return cases


# --------------------------------------------------------------------------------------------
# 3. silu, 4. squeeze-and-excitation
# --------------------------------------------------------------------------------------------

def silu_case():
    case = Case("silu", "silu", 301, "SiLU (x * sigmoid(x)) elementwise; includes large |x| (+-20, +-90)", {})
    x = case.normal((3, 4, 5), scale=3.0)
    x.flat[:4] = [20.0, -20.0, 90.0, -90.0]
    run_case(case, [("x", x, "input", None, True)], lambda t: F.silu(t["x"]))
    return case


def se_mul_case():
    case = Case("se_mul", "se_mul", 401,
                "broadcast multiply out = x * g with x [N,H,W,C] and g [N,1,1,C] (NHWC); "
                "grad_g is summed over H,W", {})
    x = case.normal((2, 5, 4, 8))
    gate = case.uniform((2, 1, 1, 8), 0.05, 0.95)
    run_case(case, [("x", x, "input", "NHWC", True), ("g", gate, "input", "NHWC", True)],
             lambda t: t["x"] * t["g"], out_layout="NHWC")
    return case


def se_block_case():
    n, h, w, c, r = 2, 5, 4, 8, 2
    case = Case("se_block", "se_block", 402,
                "squeeze-and-excitation: s = mean over H,W of x -> 1x1 conv reduce (C->r, bias) -> SiLU -> "
                "1x1 conv expand (r->C, bias) -> sigmoid -> out = x * s (s broadcast over H,W); "
                "x/out NHWC, conv weights OIHW",
                {"channels": c, "reduced_channels": r, "activation": "silu", "gate": "sigmoid"})
    x = case.normal((n, h, w, c))
    w1 = case.normal((r, c, 1, 1), scale=1.0 / math.sqrt(c))
    b1 = case.normal((r,), scale=0.3)
    w2 = case.normal((c, r, 1, 1), scale=1.0 / math.sqrt(r))
    b2 = case.normal((c,), scale=0.3)
    saved = {}

    def fwd(t):
        xc = nchw(t["x"])
        s = xc.mean(dim=(2, 3), keepdim=True)
        s = F.silu(F.conv2d(s, t["reduce_weight"], t["reduce_bias"]))
        s = torch.sigmoid(F.conv2d(s, t["expand_weight"], t["expand_bias"]))
        saved["gate"] = nhwc(s)
        return nhwc(xc * s)

    run_case(case, [("x", x, "input", "NHWC", True),
                    ("reduce_weight", w1, "param", "OIHW", True), ("reduce_bias", b1, "param", None, True),
                    ("expand_weight", w2, "param", "OIHW", True), ("expand_bias", b2, "param", None, True)],
             fwd, out_layout="NHWC")
    case.add("gate", f32(saved["gate"]), "aux", "NHWC")
    # independent check in NHWC
    xd = x.astype(np.float64)
    p = xd.mean(axis=(1, 2))                                  # [N, C]
    z = p @ w1[:, :, 0, 0].T.astype(np.float64) + b1          # [N, r]
    z = z / (1 + np.exp(-z))
    s = 1 / (1 + np.exp(-(z @ w2[:, :, 0, 0].T.astype(np.float64) + b2)))
    assert np.allclose(xd * s[:, None, None, :], case.arrays["out"], atol=1e-6)
    return case


# --------------------------------------------------------------------------------------------
# 5. binary cross-entropy with logits, 6. cross-entropy
# --------------------------------------------------------------------------------------------

def bce_inputs(case):
    x = case.normal((6, 8), scale=2.0)
    y = (case.rng.random((6, 8)) < 0.5).astype(np.float32)
    # large-magnitude logits, both agreeing and disagreeing with the target
    for (i, j, v, t) in ((0, 0, 30.0, 1), (0, 1, -30.0, 0), (1, 2, 30.0, 0), (1, 3, -30.0, 1),
                         (2, 4, 100.0, 0), (2, 5, -100.0, 1), (3, 6, 100.0, 1), (3, 7, -100.0, 0)):
        x[i, j] = v
        y[i, j] = t
    return x, y


def bce_cases():
    cases = []
    common = ("loss = mean over all B*8 elements of w * (max(x,0) - x*y + log(1 + exp(-|x|)))"
              " [= F.binary_cross_entropy_with_logits(x, y, weight=w, reduction='mean')]; "
              "logits include +-30 and +-100")
    # (a) per-element weights
    case = Case("bce_with_logits_weight", "bce_with_logits", 501,
                "per-element weights w [6,8]; " + common, {"reduction": "mean", "weight_shape": [6, 8]})
    x, y = bce_inputs(case)
    wt = case.uniform((6, 8), 0.2, 2.0)
    run_case(case, [("logits", x, "input", None, True), ("targets", y, "target", None, False),
                    ("weight", wt, "weight", None, False)],
             lambda t: F.binary_cross_entropy_with_logits(t["logits"], t["targets"], weight=t["weight"]),
             scalar_grad_out=True)
    cases.append(case)
    # (b) per-column weights broadcast over the batch
    case = Case("bce_with_logits_colweight", "bce_with_logits", 502,
                "per-column weights w [8] broadcast over the batch; " + common,
                {"reduction": "mean", "weight_shape": [8]})
    x, y = bce_inputs(case)
    wt = case.uniform((8,), 0.2, 3.0)
    run_case(case, [("logits", x, "input", None, True), ("targets", y, "target", None, False),
                    ("weight", wt, "weight", None, False)],
             lambda t: F.binary_cross_entropy_with_logits(t["logits"], t["targets"], weight=t["weight"]),
             scalar_grad_out=True)
    cases.append(case)
    # (c) PyTorch's pos_weight (weights only the positive term)
    case = Case("bce_with_logits_pos_weight", "bce_with_logits", 503,
                "PyTorch pos_weight p [8] (per column): loss = mean of "
                "-(p*y*log(sigmoid(x)) + (1-y)*log(1-sigmoid(x))) "
                "[= F.binary_cross_entropy_with_logits(x, y, pos_weight=p, reduction='mean')]; "
                "logits include +-30 and +-100",
                {"reduction": "mean", "pos_weight_shape": [8]})
    x, y = bce_inputs(case)
    pw = case.uniform((8,), 0.5, 4.0)
    run_case(case, [("logits", x, "input", None, True), ("targets", y, "target", None, False),
                    ("pos_weight", pw, "weight", None, False)],
             lambda t: F.binary_cross_entropy_with_logits(t["logits"], t["targets"], pos_weight=t["pos_weight"]),
             scalar_grad_out=True)
    cases.append(case)
    for c in cases:
        xd, yd = c.arrays["logits"].astype(np.float64), c.arrays["targets"].astype(np.float64)
        sp = np.logaddexp(0, -np.abs(xd))
        if "weight" in c.arrays:
            ref = np.mean(c.arrays["weight"] * (np.maximum(xd, 0) - xd * yd + sp))
        else:
            p = c.arrays["pos_weight"].astype(np.float64)
            log_sig = -np.logaddexp(0, -xd)
            log_one_minus = -np.logaddexp(0, xd)
            ref = np.mean(-(p * yd * log_sig + (1 - yd) * log_one_minus))
        assert np.isclose(ref, c.arrays["out"], rtol=1e-6), c.name
    return cases


def ce_cases():
    cases = []
    for name, seed, ls in (("cross_entropy", 601, 0.0), ("cross_entropy_ls0.1", 602, 0.1)):
        case = Case(name, "cross_entropy", seed,
                    "softmax cross-entropy, int64 class labels, reduction mean; with label smoothing e the "
                    "per-sample loss is (1-e)*(-log p[label]) + e*mean_k(-log p[k]) (PyTorch's definition)",
                    {"reduction": "mean", "label_smoothing": ls, "classes": 7})
        x = case.normal((5, 7), scale=2.0)
        x[4] += 40.0  # a shifted row: needs the max-subtraction
        labels = case.rng.integers(0, 7, size=(5,)).astype(np.int64)
        run_case(case, [("logits", x, "input", None, True), ("labels", labels, "target", None, False)],
                 lambda t: F.cross_entropy(t["logits"], t["labels"], label_smoothing=ls),
                 scalar_grad_out=True)
        lsm = torch.log_softmax(torch.from_numpy(x.astype(np.float64)), -1).numpy()
        ref = np.mean((1 - ls) * -lsm[np.arange(5), labels] + ls * -lsm.mean(1))
        assert np.isclose(ref, case.arrays["out"], rtol=1e-6)
        cases.append(case)
    return cases


# --------------------------------------------------------------------------------------------
# 7. Extra oracles
# --------------------------------------------------------------------------------------------

def extra_cases():
    cases = []

    for name, seed, fn in (("softmax", 701, torch.softmax), ("log_softmax", 702, torch.log_softmax)):
        case = Case(name, name, seed, name + " over the last dim; one row shifted by +50 (stability)", {"dim": -1})
        x = case.normal((2, 3, 7), scale=2.0)
        x[1, 2] += 50.0
        run_case(case, [("x", x, "input", None, True)], lambda t, fn=fn: fn(t["x"], -1))
        cases.append(case)

    case = Case("max_pool2d_3x3_s2_p1", "max_pool2d", 711,
                "max pool 3x3, stride 2, padding 1 (padding never wins: -inf), floor mode; NHWC; "
                "gradient goes to the arg-max of each window (inputs are tie-free)",
                {"kernel": [3, 3], "stride": [2, 2], "padding": [1, 1], "ceil_mode": False})
    x = case.normal((2, 9, 7, 3))
    run_case(case, [("x", x, "input", "NHWC", True)],
             lambda t: nhwc(F.max_pool2d(nchw(t["x"]), 3, 2, 1)), out_layout="NHWC")
    cases.append(case)

    case = Case("avg_pool2d_2x2_s2", "avg_pool2d", 712,
                "average pool 2x2, stride 2, no padding, floor mode on a 9x7 input (last row/column dropped); "
                "NHWC; count_include_pad irrelevant here (no padding)",
                {"kernel": [2, 2], "stride": [2, 2], "padding": [0, 0], "ceil_mode": False,
                 "count_include_pad": True})
    x = case.normal((2, 9, 7, 3))
    run_case(case, [("x", x, "input", "NHWC", True)],
             lambda t: nhwc(F.avg_pool2d(nchw(t["x"]), 2, 2)), out_layout="NHWC")
    cases.append(case)

    case = Case("avg_pool2d_3x3_s2_p1", "avg_pool2d", 713,
                "average pool 3x3, stride 2, padding 1, count_include_pad=True (PyTorch default: every "
                "window divides by 9, zero padding counted); NHWC",
                {"kernel": [3, 3], "stride": [2, 2], "padding": [1, 1], "ceil_mode": False,
                 "count_include_pad": True})
    x = case.normal((2, 9, 7, 3))
    run_case(case, [("x", x, "input", "NHWC", True)],
             lambda t: nhwc(F.avg_pool2d(nchw(t["x"]), 3, 2, 1, count_include_pad=True)), out_layout="NHWC")
    cases.append(case)

    case = Case("global_avg_pool", "global_avg_pool", 714,
                "global average pool over H,W; x NHWC [N,H,W,C] -> out NHWC [N,1,1,C] (keepdim)",
                {"keepdim": True})
    x = case.normal((2, 5, 4, 6))
    run_case(case, [("x", x, "input", "NHWC", True)],
             lambda t: t["x"].mean(dim=(1, 2), keepdim=True), out_layout="NHWC")
    assert np.allclose(case.arrays["out"][:, 0, 0, :], x.astype(np.float64).mean(axis=(1, 2)), atol=1e-6)
    cases.append(case)

    case = Case("matmul_batched", "matmul", 721, "batched matmul out[b] = a[b] @ b[b]: [2,3,4] x [2,4,5] -> [2,3,5]", {})
    a = case.normal((2, 3, 4))
    b = case.normal((2, 4, 5))
    run_case(case, [("a", a, "input", None, True), ("b", b, "input", None, True)],
             lambda t: torch.matmul(t["a"], t["b"]))
    cases.append(case)

    for name, seed, shape, dims, unbiased, keepdim in (
            ("var_unbiased_dims012", 731, (4, 3, 5, 6), [0, 1, 2], True, False),
            ("var_biased_dims012", 732, (4, 3, 5, 6), [0, 1, 2], False, False),
            ("var_unbiased_dim1_keepdim", 733, (3, 5, 4), [1], True, True)):
        case = Case(name, "var", seed,
                    "variance over dims %s (%s: divide by %s), keepdim %s" %
                    (dims, "unbiased" if unbiased else "biased", "n-1" if unbiased else "n", keepdim),
                    {"dims": dims, "unbiased": unbiased, "correction": 1 if unbiased else 0, "keepdim": keepdim})
        x = case.normal(shape, scale=1.3, shift=0.5)
        run_case(case, [("x", x, "input", None, True)],
                 lambda t, d=dims, u=unbiased, k=keepdim: torch.var(t["x"], dim=d, unbiased=u, keepdim=k))
        ref = x.astype(np.float64).var(axis=tuple(dims), ddof=1 if unbiased else 0, keepdims=keepdim)
        assert np.allclose(ref, case.arrays["out"], rtol=1e-6)
        cases.append(case)

    case = Case("mse_loss", "mse_loss", 741, "mean squared error, reduction mean: mean((input - target)^2); "
                "gradients of both input and target", {"reduction": "mean"})
    x = case.normal((4, 6))
    y = case.normal((4, 6))
    run_case(case, [("input", x, "input", None, True), ("target", y, "target", None, True)],
             lambda t: F.mse_loss(t["input"], t["target"]), scalar_grad_out=True)
    cases.append(case)
    return cases


# --------------------------------------------------------------------------------------------

def main():
    if os.path.isdir(ROOT):
        for entry in os.listdir(ROOT):
            path = os.path.join(ROOT, entry)
            if os.path.isdir(path):
                shutil.rmtree(path)
    os.makedirs(ROOT, exist_ok=True)
    cases = (conv_cases() + bn_cases() + [silu_case(), se_mul_case(), se_block_case()]
             + bce_cases() + ce_cases() + extra_cases())
    names = [c.name for c in cases]
    assert len(set(names)) == len(names)
    index = [c.write() for c in cases]
    with open(os.path.join(ROOT, "index.json"), "w") as f:
        f.write(dump_json({"torch_version": torch.__version__.split("+")[0], "cases": index}))
    total = 0
    for dirpath, _, filenames in os.walk(ROOT):
        for fn in filenames:
            total += os.path.getsize(os.path.join(dirpath, fn))
    print("wrote %d cases to %s (%.1f KB)" % (len(cases), ROOT, total / 1024))


if __name__ == "__main__":
    main()

package dev.vertebra.cuda;

import dev.vertebra.core.Backends;
import dev.vertebra.core.ConvSpec;
import dev.vertebra.core.DType;
import dev.vertebra.core.Layout;
import dev.vertebra.core.MemoryScope;
import dev.vertebra.core.Shape;
import dev.vertebra.core.Tensor;

import java.lang.foreign.MemorySegment;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * NHWC convolutions through cuDNN: forward, backward data and backward filter, grouped and depthwise included
 * (cudnnSetConvolutionGroupCount), on float32 data and, for mixed precision, float16 and bfloat16 data with float32
 * accumulation on the tensor cores (CUDNN_TENSOR_OP_MATH, as PyTorch asks for half-precision convolutions).
 *
 * <p><b>Math.</b> float32 convolutions use CUDNN_FMA_MATH unless {@link Backends#allowTf32} is on, when
 * CUDNN_DEFAULT_MATH lets cuDNN pick TF32 tensor-core kernels (PyTorch's {@code cudnn.allow_tf32}). The switch is
 * read at each call; each setting gets its own plan.
 *
 * <p><b>Weights.</b> Vertebra keeps weights HWIO ({@code [KH, KW, Cin/g, Cout]}); cuDNN's NHWC filters are KRSC
 * ({@code [Cout, KH, KW, Cin/g]}). Each call transposes the weight into a fresh KRSC buffer (one strided copy
 * kernel, the size of the weight: small next to the activations) and the filter gradient back. A cached copy per
 * weight would save that copy but needs a version counter on tensors to know when an optimiser step changed the
 * weight in place, which core does not have: correctness first.
 *
 * <p><b>Padding.</b> cuDNN's legacy descriptors pad symmetrically. TensorFlow "SAME" padding (one more row or
 * column at the bottom/right) is done as the symmetric part by cuDNN plus an explicit zero-padded copy of the
 * input for the extra rows/columns; backward data computes the gradient of that padded input and returns its
 * interior.
 *
 * <p><b>Algorithms.</b> One plan per geometry (descriptors plus, per direction, the chosen algorithm, its
 * workspace and math type), chosen on first use: by timing with {@code cudnnFind*AlgorithmEx} or by cuDNN's
 * heuristic, among the algorithms {@link CudnnSettings} admits. One workspace buffer serves every call, grown on
 * demand from the caching allocator. When no algorithm qualifies the caller falls back to its own kernels (the
 * methods return empty). Everything runs on the backend's stream; calls are serialised (one cuDNN handle).
 */
final class CudnnConvolutions {
    private static final int UNUSABLE = -1;

    private final CudaBackend backend;
    private final Cudnn cudnn;
    private final CudnnSettings settings;
    private final MemorySegment handle;
    private final Map<Key, Plan> plans = new HashMap<>();
    private Tensor workspace;

    CudnnConvolutions(CudaBackend backend, Cudnn cudnn, MemorySegment handle, CudnnSettings settings) {
        this.backend = backend;
        this.cudnn = cudnn;
        this.handle = handle;
        this.settings = settings;
    }

    /**
     * The geometry cuDNN sees (the explicitly padded input and symmetric padding), the data type (a Cudnn.DATA_
     * constant) and the math type requested.
     */
    record Key(int n, int h, int w, int cin, int kh, int kw, int cpg, int cout, int padH, int padW, int strideH,
               int strideW, int dilationH, int dilationW, int groups, int dataType, int mathType) {
    }

    /**
     * One convolution as cuDNN runs it: {@code top/bottom/left/right} are the rows and columns padded explicitly
     * (beyond the symmetric part), {@code oh, ow} the output size.
     */
    record Problem(Key key, int top, int bottom, int left, int right, int oh, int ow) {

        /** The float32 problem without TF32 for {@code x} and HWIO {@code w}; null when cuDNN should not take it. */
        static Problem of(Shape x, Shape w, ConvSpec s) {
            return of(x, w, s, DType.FLOAT32, false);
        }

        /**
         * The problem for {@code x} and HWIO {@code w} of {@code dtype}, or null when cuDNN should not take it
         * (empty sizes, or a type other than float32, float16, bfloat16).
         */
        static Problem of(Shape x, Shape w, ConvSpec s, DType dtype, boolean tf32) {
            int dataType = switch (dtype) {
                case FLOAT32 -> Cudnn.DATA_FLOAT;
                case FLOAT16 -> Cudnn.DATA_HALF;
                case BFLOAT16 -> Cudnn.DATA_BFLOAT16;
                default -> -1;
            };
            if (dataType < 0 || x.rank() != 4 || w.rank() != 4 || x.numel() == 0 || w.numel() == 0) {
                return null;
            }
            // Half-precision data: tensor cores. float32: TF32 tensor cores only when allowed, else plain FMA.
            int mathType = dataType != Cudnn.DATA_FLOAT ? Cudnn.TENSOR_OP_MATH
                    : tf32 ? Cudnn.DEFAULT_MATH : Cudnn.FMA_MATH;
            int oh = s.outHeight(x.dim(1), w.dim(0));
            int ow = s.outWidth(x.dim(2), w.dim(1));
            if (oh <= 0 || ow <= 0 || x.dim(3) != w.dim(2) * s.groups() || w.dim(3) % s.groups() != 0) {
                return null;
            }
            int padH = Math.min(s.padTop(), s.padBottom());
            int padW = Math.min(s.padLeft(), s.padRight());
            int top = s.padTop() - padH;
            int bottom = s.padBottom() - padH;
            int left = s.padLeft() - padW;
            int right = s.padRight() - padW;
            Key key = new Key(x.dim(0), x.dim(1) + top + bottom, x.dim(2) + left + right, x.dim(3), w.dim(0),
                    w.dim(1), w.dim(2), w.dim(3), padH, padW, s.strideH(), s.strideW(), s.dilationH(), s.dilationW(),
                    s.groups(), dataType, mathType);
            return new Problem(key, top, bottom, left, right, oh, ow);
        }

        boolean explicitPadding() {
            return top + bottom + left + right > 0;
        }

        Shape inputShape() {
            return Shape.of(key.n(), key.h(), key.w(), key.cin());
        }

        Shape outputShape() {
            return Shape.of(key.n(), oh, ow, key.cout());
        }

        Shape krscShape() {
            return Shape.of(key.cout(), key.kh(), key.kw(), key.cpg());
        }
    }

    /** A chosen algorithm: {@code algo} is {@value #UNUSABLE} when none qualified. */
    record Choice(int algo, long workspaceBytes, int mathType) {
    }

    /** Descriptors of one geometry and the algorithm chosen per direction. */
    private static final class Plan {
        final MemorySegment x;
        final MemorySegment w;
        final MemorySegment y;
        final MemorySegment conv;
        final int mathType;
        final Choice[] choices = new Choice[Cudnn.Direction.values().length];

        Plan(MemorySegment x, MemorySegment w, MemorySegment y, MemorySegment conv, int mathType) {
            this.x = x;
            this.w = w;
            this.y = y;
            this.conv = conv;
            this.mathType = mathType;
        }
    }

    private Plan plan(Problem p) {
        return plans.computeIfAbsent(p.key(), k -> {
            MemorySegment x = cudnn.tensor(Cudnn.TENSOR_NHWC, k.dataType(), k.n(), k.cin(), k.h(), k.w());
            MemorySegment w = cudnn.filterNhwc(k.dataType(), k.cout(), k.cpg(), k.kh(), k.kw());
            MemorySegment y = cudnn.tensor(Cudnn.TENSOR_NHWC, k.dataType(), k.n(), k.cout(), p.oh(), p.ow());
            MemorySegment conv = cudnn.convolution(k.padH(), k.padW(), k.strideH(), k.strideW(), k.dilationH(),
                    k.dilationW(), k.groups(), k.mathType());
            int[] out = cudnn.forwardOutputDim(conv, x, w);
            if (out[0] != k.n() || out[1] != k.cout() || out[2] != p.oh() || out[3] != p.ow()) {
                throw new IllegalStateException("cuDNN derives output [N, C, H, W] = " + java.util.Arrays.toString(out)
                        + " for " + k + ", Vertebra expects [" + k.n() + ", " + k.cout() + ", " + p.oh() + ", "
                        + p.ow() + "]");
            }
            return new Plan(x, w, y, conv, k.mathType());
        });
    }

    /**
     * The problem when cuDNN takes it here (operands of one type among float32, float16, bfloat16; non-empty), else
     * null. Which problems are offered to cuDNN at all is the backend's routing ({@link CudnnSettings#routesToCudnn}).
     */
    private Problem accepted(Shape x, Shape w, ConvSpec spec, Tensor first, Tensor second) {
        if (first.dtype() != second.dtype()) {
            return null;
        }
        return Problem.of(x, w, spec, first.dtype(), Backends.tf32Allowed());
    }

    /** {@code conv2d} through cuDNN, or empty when cuDNN does not take this problem. */
    synchronized Optional<Tensor> forward(Tensor x, Tensor w, ConvSpec spec) {
        Problem p = accepted(x.shape(), w.shape(), spec, x, w);
        if (p == null) {
            return Optional.empty();
        }
        backend.context().makeCurrent();
        Plan plan = plan(p);
        Tensor input = p.explicitPadding() ? padded(x, p) : backend.dense(x);
        Tensor krsc = toKrsc(w);
        Tensor y = backend.empty(p.outputShape(), x.dtype());
        Cudnn.Operands o = new Cudnn.Operands(plan.x, backend.address(input), plan.w, backend.address(krsc), plan.y,
                backend.address(y));
        return execute(Cudnn.Direction.FORWARD, plan, o) ? Optional.of(y) : Optional.empty();
    }

    /** {@code conv2dBackwardInput} through cuDNN, or empty. */
    synchronized Optional<Tensor> backwardData(Tensor dy, Tensor w, Shape xShape, ConvSpec spec) {
        Problem p = accepted(xShape, w.shape(), spec, dy, w);
        if (p == null || !dy.shape().equals(p.outputShape())) {
            return Optional.empty();
        }
        backend.context().makeCurrent();
        Plan plan = plan(p);
        Tensor dyd = backend.dense(dy);
        Tensor krsc = toKrsc(w);
        Tensor dx = backend.empty(p.inputShape(), dy.dtype());
        Cudnn.Operands o = new Cudnn.Operands(plan.w, backend.address(krsc), plan.y, backend.address(dyd), plan.x,
                backend.address(dx));
        if (!execute(Cudnn.Direction.BACKWARD_DATA, plan, o)) {
            return Optional.empty();
        }
        if (!p.explicitPadding()) {
            return Optional.of(dx);
        }
        Layout interior = dx.layout().narrow(1, p.top(), xShape.dim(1)).narrow(2, p.left(), xShape.dim(2));
        return Optional.of(backend.dense(Tensor.wrap(dx.storage(), interior, backend)));
    }

    /** {@code conv2dBackwardWeight} through cuDNN (HWIO result), or empty. */
    synchronized Optional<Tensor> backwardFilter(Tensor x, Tensor dy, Shape wShape, ConvSpec spec) {
        Problem p = accepted(x.shape(), wShape, spec, x, dy);
        if (p == null || !dy.shape().equals(p.outputShape())) {
            return Optional.empty();
        }
        backend.context().makeCurrent();
        Plan plan = plan(p);
        Tensor input = p.explicitPadding() ? padded(x, p) : backend.dense(x);
        Tensor dyd = backend.dense(dy);
        Tensor dwKrsc = backend.empty(p.krscShape(), x.dtype());
        Cudnn.Operands o = new Cudnn.Operands(plan.x, backend.address(input), plan.y, backend.address(dyd), plan.w,
                backend.address(dwKrsc));
        if (!execute(Cudnn.Direction.BACKWARD_FILTER, plan, o)) {
            return Optional.empty();
        }
        // KRSC [Cout, KH, KW, Cin/g] → HWIO [KH, KW, Cin/g, Cout].
        return Optional.of(backend.dense(Tensor.wrap(dwKrsc.storage(), dwKrsc.layout().permute(1, 2, 3, 0), backend)));
    }

    /**
     * The chosen algorithm of each direction for float32 {@code x}, {@code w}, {@code spec} under the current TF32
     * setting, where chosen yet (tests, logs).
     */
    synchronized Choice[] choices(Shape x, Shape w, ConvSpec spec) {
        Problem p = Problem.of(x, w, spec, DType.FLOAT32, Backends.tf32Allowed());
        Plan plan = p == null ? null : plans.get(p.key());
        return plan == null ? new Choice[Cudnn.Direction.values().length] : plan.choices.clone();
    }

    /** HWIO [KH, KW, Cin/g, Cout] → a new KRSC [Cout, KH, KW, Cin/g] buffer. */
    private Tensor toKrsc(Tensor w) {
        Tensor out = backend.empty(Shape.of(w.dim(3), w.dim(0), w.dim(1), w.dim(2)), w.dtype());
        backend.copyInto(Tensor.wrap(w.storage(), w.layout().permute(3, 0, 1, 2), backend), out);
        return out;
    }

    /** {@code x} inside zeros, with the explicit (asymmetric) part of the padding around it. */
    private Tensor padded(Tensor x, Problem p) {
        Tensor out = backend.zeros(p.inputShape(), x.dtype());
        Layout interior = out.layout().narrow(1, p.top(), x.dim(1)).narrow(2, p.left(), x.dim(2));
        backend.copyInto(x, Tensor.wrap(out.storage(), interior, backend));
        return out;
    }

    private boolean execute(Cudnn.Direction d, Plan plan, Cudnn.Operands o) {
        Choice c = plan.choices[d.ordinal()];
        if (c == null) {
            c = choose(d, plan, o, plan.mathType);
            plan.choices[d.ordinal()] = c;
        }
        if (c.algo() == UNUSABLE) {
            return false;
        }
        long ws = workspace(c.workspaceBytes());
        cudnn.mathType(plan.conv, c.mathType());
        cudnn.run(handle, d, plan.conv, c.algo(), o, ws, c.workspaceBytes());
        return true;
    }

    private boolean admitted(Cudnn.Direction d, Cudnn.Perf perf, long limit) {
        return perf.status() == 0 && perf.memory() <= limit && (settings.allAlgorithms() || d.precise(perf.algo()));
    }

    private Choice choose(Cudnn.Direction d, Plan plan, Cudnn.Operands o, int requestedMath) {
        cudnn.mathType(plan.conv, requestedMath);
        long limit = settings.workspaceLimit();
        List<Cudnn.Perf> ranked = cudnn.heuristic(handle, d, plan.conv, o);
        Cudnn.Perf best = ranked.stream().filter(perf -> admitted(d, perf, limit)).findFirst().orElse(null);
        if (settings.exhaustiveSearch() && best != null) {
            long need = ranked.stream().filter(perf -> admitted(d, perf, limit)).mapToLong(Cudnn.Perf::memory).max()
                    .orElse(0);
            long ws = workspace(need);
            List<Cudnn.Perf> timed = cudnn.find(handle, d, plan.conv, o, ws, need);
            best = timed.stream().filter(perf -> admitted(d, perf, need)).findFirst().orElse(best);
        }
        if (best == null) {
            return new Choice(UNUSABLE, 0, 0);
        }
        // Without TF32 permission (float32 data) the FMA math type stays, whatever the result reports.
        return new Choice(best.algo(), best.memory(),
                requestedMath == Cudnn.FMA_MATH ? Cudnn.FMA_MATH : best.mathType());
    }

    /** Device address of a workspace of at least {@code bytes} (0 when none is needed). */
    private long workspace(long bytes) {
        if (bytes == 0) {
            return 0;
        }
        long have = workspace == null ? 0 : (long) workspace.numel() * Long.BYTES;
        if (have < bytes) {
            if (workspace != null) {
                // Work queued on the stream may still use the old block; the allocator's reuse follows the stream.
                backend.buffer(workspace).close();
            }
            long words = (bytes + Long.BYTES - 1) / Long.BYTES;
            if (words > Integer.MAX_VALUE) {
                throw new IllegalArgumentException("cuDNN workspace of " + bytes + " bytes is beyond one buffer");
            }
            // Kept for every later call: no step's MemoryScope may close it.
            workspace = MemoryScope.keep(backend.empty(Shape.of((int) words), DType.INT64));
        }
        return backend.address(workspace);
    }
}

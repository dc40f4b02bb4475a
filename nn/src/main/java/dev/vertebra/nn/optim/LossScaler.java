package dev.vertebra.nn.optim;

import dev.vertebra.core.DType;
import dev.vertebra.core.NoGrad;
import dev.vertebra.core.Precision;
import dev.vertebra.core.Tensor;
import dev.vertebra.nn.Parameter;

import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SequencedMap;

/**
 * Dynamic loss scaling for float16 training, with {@code torch.amp.GradScaler}'s semantics. float16 gradients
 * below 2⁻²⁴ flush to zero; multiplying the loss by a large scale keeps them representable, and the gradients are
 * divided by it again before the update. When a step's gradients overflow (inf or NaN) the update is skipped and
 * the scale shrinks by {@code backoffFactor}; after {@code growthInterval} consecutive finite steps it grows by
 * {@code growthFactor}. bfloat16 has float32's range and needs no scaling: a disabled scaler passes everything
 * through.
 *
 * <pre>{@code
 * LossScaler scaler = LossScaler.forPrecision(Precision.FP16);
 * try (Autocast _ = Autocast.enter(DType.FLOAT16)) {
 *     loss = lossOf(model.forward(x));
 * }
 * scaler.scale(loss).backward();
 * scaler.unscale(optimizer);                       // true gradients, so clipping sees the real norm
 * GradClip.clipByGlobalNorm(model.parameters(), 1.0);
 * scaler.step(optimizer);                          // skipped when a gradient is inf/NaN
 * scaler.update();
 * optimizer.zeroGrad();
 * }</pre>
 */
public final class LossScaler {
    /** torch.amp.GradScaler's defaults. */
    public static final double INIT_SCALE = 65536;
    public static final double GROWTH_FACTOR = 2;
    public static final double BACKOFF_FACTOR = 0.5;
    public static final int GROWTH_INTERVAL = 2000;

    /** Where one optimiser stands between two {@link #update()} calls. */
    private enum Stage { UNSCALED, STEPPED }

    private record OptimizerState(Stage stage, boolean foundInf) {
    }

    private final boolean enabled;
    private double scale;
    private double growthFactor;
    private double backoffFactor;
    private int growthInterval;
    private int growthTracker;
    private final Map<Optimizer, OptimizerState> perOptimizer = new IdentityHashMap<>();

    /** An enabled scaler with torch's defaults: scale 2¹⁶, ×2 after 2000 finite steps, ×0.5 on overflow. */
    public LossScaler() {
        this(INIT_SCALE, GROWTH_FACTOR, BACKOFF_FACTOR, GROWTH_INTERVAL, true);
    }

    public LossScaler(double initScale, double growthFactor, double backoffFactor, int growthInterval,
                      boolean enabled) {
        if (!(initScale > 0) || Double.isInfinite(initScale) || !(growthFactor > 1) || !(backoffFactor > 0
                && backoffFactor < 1) || growthInterval < 1) {
            throw new IllegalArgumentException("loss scaler needs a finite initial scale > 0, growth factor > 1, backoff "
                    + "in (0, 1) and growth interval ≥ 1, got " + initScale + ", " + growthFactor + ", " + backoffFactor
                    + ", " + growthInterval);
        }
        this.scale = initScale;
        this.growthFactor = growthFactor;
        this.backoffFactor = backoffFactor;
        this.growthInterval = growthInterval;
        this.enabled = enabled;
    }

    /** Enabled with torch's defaults for {@link Precision#FP16}; a pass-through for the others. */
    public static LossScaler forPrecision(Precision precision) {
        return new LossScaler(INIT_SCALE, GROWTH_FACTOR, BACKOFF_FACTOR, GROWTH_INTERVAL, precision.lossScaling());
    }

    public boolean isEnabled() {
        return enabled;
    }

    /** The current scale (1 when disabled). */
    public double currentScale() {
        return enabled ? scale : 1;
    }

    /** Consecutive finite steps since the scale last changed. */
    public int growthTracker() {
        return growthTracker;
    }

    /** {@code loss × scale}, computed in float32 (a 16-bit loss is widened first); the loss itself when disabled. */
    public Tensor scale(Tensor loss) {
        if (!enabled) {
            return loss;
        }
        Tensor wide = loss.dtype() == DType.FLOAT64 ? loss : loss.to(DType.FLOAT32);
        return wide.mul(scale);
    }

    /**
     * Divides the gradients of {@code optimizer}'s parameters by the scale, in place, and records whether any is
     * inf or NaN. Call it before clipping or inspecting gradients; at most once per optimiser between updates.
     */
    public void unscale(Optimizer optimizer) {
        if (!enabled) {
            return;
        }
        OptimizerState state = perOptimizer.get(optimizer);
        if (state != null) {
            throw new IllegalStateException(state.stage() == Stage.STEPPED
                    ? "unscale() after step(): call update() first"
                    : "unscale() has already been called on this optimizer since the last update()");
        }
        double inverse = 1 / scale;
        Tensor nonFinite = null;   // a sum that is NaN exactly when some gradient element is inf or NaN
        try (NoGrad _ = NoGrad.enter()) {
            for (ParamGroup g : optimizer.groups()) {
                for (Parameter p : g.parameters()) {
                    Tensor grad = p.grad();
                    if (grad == null) {
                        continue;
                    }
                    Tensor unscaled = grad.mul(inverse);
                    p.setGrad(unscaled);
                    // 0·x is 0 for finite x and NaN for ±inf and NaN; one device-side sum, one read at the end.
                    Tensor check = unscaled.mul(0).sum().to(DType.FLOAT32);
                    nonFinite = nonFinite == null ? check : nonFinite.add(check.to(nonFinite.device()));
                }
            }
        }
        boolean foundInf = nonFinite != null && Double.isNaN(nonFinite.item());
        perOptimizer.put(optimizer, new OptimizerState(Stage.UNSCALED, foundInf));
    }

    /**
     * Unscales (unless {@link #unscale} already did) and runs {@code optimizer.step()} unless a gradient is inf or
     * NaN. Returns whether the step was taken.
     */
    public boolean step(Optimizer optimizer) {
        if (!enabled) {
            optimizer.step();
            return true;
        }
        OptimizerState state = perOptimizer.get(optimizer);
        if (state == null) {
            unscale(optimizer);
            state = perOptimizer.get(optimizer);
        } else if (state.stage() == Stage.STEPPED) {
            throw new IllegalStateException("step() has already been called since the last update()");
        }
        perOptimizer.put(optimizer, new OptimizerState(Stage.STEPPED, state.foundInf()));
        if (state.foundInf()) {
            return false;
        }
        optimizer.step();
        return true;
    }

    /**
     * Adjusts the scale after a step: × {@code backoffFactor} when any optimiser saw inf/NaN gradients (and the
     * count of finite steps restarts), × {@code growthFactor} after {@code growthInterval} finite steps in a row.
     */
    public void update() {
        if (!enabled) {
            return;
        }
        if (perOptimizer.isEmpty()) {
            throw new IllegalStateException("update() without an unscale() or step() since the last update(): no "
                    + "overflow check was recorded");
        }
        boolean foundInf = perOptimizer.values().stream().anyMatch(OptimizerState::foundInf);
        perOptimizer.clear();
        if (foundInf) {
            scale *= backoffFactor;
            growthTracker = 0;
        } else if (++growthTracker == growthInterval) {
            scale *= growthFactor;
            growthTracker = 0;
        }
    }

    /**
     * The state under torch's GradScaler.state_dict() names: {@code scale}, {@code growth_factor},
     * {@code backoff_factor} (0-d FLOAT64), {@code growth_interval}, {@code _growth_tracker} (0-d INT64). Empty when
     * disabled, as torch's.
     */
    public SequencedMap<String, Tensor> stateDict() {
        SequencedMap<String, Tensor> out = new LinkedHashMap<>();
        if (!enabled) {
            return out;
        }
        out.put("scale", Tensor.of(new double[]{scale}));
        out.put("growth_factor", Tensor.of(new double[]{growthFactor}));
        out.put("backoff_factor", Tensor.of(new double[]{backoffFactor}));
        out.put("growth_interval", Tensor.ofLongs(new long[]{growthInterval}));
        out.put("_growth_tracker", Tensor.ofLongs(new long[]{growthTracker}));
        return out;
    }

    /**
     * Restores {@link #stateDict()}'s output; validated first, so a refused state changes nothing. An empty state
     * (a checkpoint written without scaling) leaves the scaler as it is.
     *
     * @throws IllegalArgumentException naming the offending key
     */
    public void loadStateDict(Map<String, Tensor> state) {
        checkStateDict(state);
        if (state.isEmpty()) {
            return;
        }
        scale = state.get("scale").item();
        growthFactor = state.get("growth_factor").item();
        backoffFactor = state.get("backoff_factor").item();
        growthInterval = (int) Math.round(state.get("growth_interval").item());
        growthTracker = (int) Math.round(state.get("_growth_tracker").item());
        perOptimizer.clear();
    }

    /** Validates a state from {@link #stateDict()} without loading it. */
    public void checkStateDict(Map<String, Tensor> state) {
        if (state.isEmpty()) {
            return;
        }
        for (String key : state.keySet()) {
            if (!key.equals("scale") && !key.equals("growth_factor") && !key.equals("backoff_factor")
                    && !key.equals("growth_interval") && !key.equals("_growth_tracker")) {
                throw new IllegalArgumentException("unexpected loss scaler state key '" + key + "'");
            }
        }
        double s = number(state, "scale");
        double growth = number(state, "growth_factor");
        double backoff = number(state, "backoff_factor");
        double interval = number(state, "growth_interval");
        double tracker = number(state, "_growth_tracker");
        if (!(s > 0) || Double.isInfinite(s) || !(growth > 1) || !(backoff > 0 && backoff < 1) || interval < 1
                || interval > Integer.MAX_VALUE || tracker < 0 || tracker >= interval) {
            throw new IllegalArgumentException("loss scaler state out of range: scale " + s + ", growth factor " + growth
                    + ", backoff " + backoff + ", interval " + interval + ", tracker " + tracker);
        }
    }

    private static double number(Map<String, Tensor> state, String key) {
        Tensor t = state.get(key);
        if (t == null || t.numel() != 1) {
            throw new IllegalArgumentException("loss scaler state lacks a one-element '" + key + "'");
        }
        return t.item();
    }

    @Override
    public String toString() {
        return enabled ? "LossScaler(scale=" + scale + ", growth tracker " + growthTracker + "/" + growthInterval + ")"
                : "LossScaler(disabled)";
    }
}

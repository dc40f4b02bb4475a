package dev.vertebra.nn.optim;

import dev.vertebra.core.Tensor;
import dev.vertebra.nn.Golden;
import dev.vertebra.nn.Parameter;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * Three steps of each optimiser on fixed gradients against PyTorch 1.13 (and, for the TensorFlow RMSprop, a
 * NumPy float64 evaluation of TensorFlow's formula). Tolerance: 1e-6 relative, plus 1e-7 absolute for values
 * near zero, where float32 rounding of single operations already reaches ~6e-8.
 */
class OptimizerGoldenTest {

    private static final Map<String, Function<List<ParamGroup>, Optimizer>> OPTIMIZERS = Map.of(
            "sgd_nesterov_wd", g -> new Sgd(g, 0.9, 0, true),
            "sgd_dampening", g -> new Sgd(g, 0.8, 0.3, false),
            "adam_wd", g -> new Adam(g, 0.9, 0.999, 1e-8),
            "adamw", g -> new AdamW(g, 0.8, 0.99, 1e-6),
            "rmsprop", g -> new RmsProp(g, 0.99, 1e-8, 0, false),
            "rmsprop_centered_momentum_wd", g -> new RmsProp(g, 0.9, 1e-6, 0.9, true),
            "tf_rmsprop", g -> new RmsPropTf(g, 0.9, 0.9, 1e-3, false),
            "tf_rmsprop_centered", g -> new RmsPropTf(g, 0.9, 0.9, 1e-3, true));

    private static final Map<String, double[]> LR_AND_DECAY = Map.of(
            "sgd_nesterov_wd", new double[]{0.1, 0.01},
            "sgd_dampening", new double[]{0.05, 0},
            "adam_wd", new double[]{0.01, 0.01},
            "adamw", new double[]{0.01, 0.1},
            "rmsprop", new double[]{0.01, 0},
            "rmsprop_centered_momentum_wd", new double[]{0.01, 0.01},
            "tf_rmsprop", new double[]{0.01, 0},
            "tf_rmsprop_centered", new double[]{0.01, 0});

    @ParameterizedTest
    @ValueSource(strings = {"sgd_nesterov_wd", "sgd_dampening", "adam_wd", "adamw", "rmsprop",
            "rmsprop_centered_momentum_wd", "tf_rmsprop", "tf_rmsprop_centered"})
    void threeStepsMatchTheOracle(String name) {
        Map<String, Tensor> g = Golden.read("optim_" + name + ".safetensors");
        Parameter w = new Parameter(g.get("w0").contiguousCopy().detach());
        Parameter b = new Parameter(g.get("b0").contiguousCopy().detach());
        double[] hyper = LR_AND_DECAY.get(name);
        Optimizer opt = OPTIMIZERS.get(name).apply(List.of(ParamGroup.of(List.of(w, b), hyper[0], hyper[1])));
        for (int step = 1; step <= 3; step++) {
            w.setGrad(g.get("grad_w" + step));
            b.setGrad(g.get("grad_b" + step));
            opt.step();
            Golden.assertClose(g.get("w" + step), w.data(), 1e-6, 1e-7, name + " w after step " + step);
            Golden.assertClose(g.get("b" + step), b.data(), 1e-6, 1e-7, name + " b after step " + step);
        }
    }
}

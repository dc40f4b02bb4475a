package dev.vertebra.nn.optim;

import dev.vertebra.core.NoGrad;
import dev.vertebra.core.Tensor;
import dev.vertebra.nn.Parameter;

import java.util.List;

/**
 * Gradient clipping by global norm, as {@code torch.nn.utils.clip_grad_norm_}: the L2 norm of all gradients
 * taken together; when above {@code maxNorm} every gradient is scaled by {@code maxNorm / (norm + 1e-6)}.
 *
 * <pre>{@code
 * double norm = GradClip.clipByGlobalNorm(model.parameters(), 1.0);
 * }</pre>
 */
public final class GradClip {

    private GradClip() {
    }

    /** Clips in place; returns the total norm before clipping (parameters without gradient are ignored). */
    public static double clipByGlobalNorm(List<Parameter> parameters, double maxNorm) {
        if (!(maxNorm > 0)) {
            throw new IllegalArgumentException("maxNorm must be > 0, got " + maxNorm);
        }
        try (NoGrad _ = NoGrad.enter()) {
            double squares = 0;
            for (Parameter p : parameters) {
                if (p.grad() != null) {
                    squares += p.grad().mul(p.grad()).sum().item();
                }
            }
            double norm = Math.sqrt(squares);
            double coefficient = maxNorm / (norm + 1e-6);
            if (coefficient < 1) {
                for (Parameter p : parameters) {
                    if (p.grad() != null) {
                        p.setGrad(p.grad().mul(coefficient));
                    }
                }
            }
            return norm;
        }
    }
}

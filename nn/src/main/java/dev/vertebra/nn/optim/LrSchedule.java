package dev.vertebra.nn.optim;

/**
 * A learning rate as a function of the optimiser step (0-based: {@code lr(0)} is used for the first update).
 * Apply it with {@link Optimizer#scheduleLr(double)} before each step.
 *
 * <pre>{@code
 * LrSchedule schedule = new LrSchedule.WarmupCosine(0.016, 500, 30_000, 0.0);
 * for (long step = 0; step < 30_000; step++) {
 *     opt.scheduleLr(schedule.lr(step));
 *     ... backward ...
 *     opt.step();
 * }
 * }</pre>
 */
public sealed interface LrSchedule {

    /** The learning rate for step {@code step} (0-based). */
    double lr(long step);

    /**
     * Linear warmup then cosine decay: {@code base·(step + 1)/warmup} for the first {@code warmupSteps} steps,
     * then from {@code base} down to {@code minLr} along half a cosine, reached at {@code totalSteps} and held
     * after.
     */
    record WarmupCosine(double baseLr, long warmupSteps, long totalSteps, double minLr) implements LrSchedule {
        public WarmupCosine {
            if (!(baseLr >= 0) || !(minLr >= 0) || warmupSteps < 0 || totalSteps <= warmupSteps) {
                throw new IllegalArgumentException("WarmupCosine needs lrs ≥ 0 and 0 ≤ warmup < total, got base="
                        + baseLr + " min=" + minLr + " warmup=" + warmupSteps + " total=" + totalSteps);
            }
        }

        @Override
        public double lr(long step) {
            if (step < warmupSteps) {
                return baseLr * (step + 1) / warmupSteps;
            }
            double progress = Math.min(1, (double) (step - warmupSteps) / (totalSteps - warmupSteps));
            return minLr + (baseLr - minLr) * 0.5 * (1 + Math.cos(Math.PI * progress));
        }
    }

    /** {@code base·gamma^⌊step / stepSize⌋} (PyTorch's StepLR). */
    record StepDecay(double baseLr, long stepSize, double gamma) implements LrSchedule {
        public StepDecay {
            if (!(baseLr >= 0) || stepSize < 1 || !(gamma > 0)) {
                throw new IllegalArgumentException("StepDecay needs base ≥ 0, stepSize ≥ 1, gamma > 0, got " + baseLr
                        + ", " + stepSize + ", " + gamma);
            }
        }

        @Override
        public double lr(long step) {
            return baseLr * Math.pow(gamma, Math.floorDiv(step, stepSize));
        }
    }

    /**
     * PyTorch's OneCycleLR (two phases, cosine annealing): from {@code maxLr/divFactor} up to {@code maxLr} over
     * the first {@code pctStart·totalSteps − 1} steps, then down to {@code maxLr/(divFactor·finalDivFactor)} at
     * step {@code totalSteps − 1}. Steps beyond that are refused, as PyTorch does.
     */
    record OneCycle(double maxLr, long totalSteps, double pctStart, double divFactor, double finalDivFactor)
            implements LrSchedule {
        public OneCycle {
            if (!(maxLr > 0) || totalSteps < 2 || !(pctStart > 0 && pctStart < 1) || !(divFactor > 0)
                    || !(finalDivFactor > 0)) {
                throw new IllegalArgumentException("OneCycle needs maxLr > 0, totalSteps ≥ 2, pctStart in (0, 1) and "
                        + "positive factors, got " + maxLr + ", " + totalSteps + ", " + pctStart + ", " + divFactor
                        + ", " + finalDivFactor);
            }
        }

        /** PyTorch's defaults: pctStart 0.3, divFactor 25, finalDivFactor 1e4. */
        public static OneCycle of(double maxLr, long totalSteps) {
            return new OneCycle(maxLr, totalSteps, 0.3, 25, 1e4);
        }

        @Override
        public double lr(long step) {
            if (step < 0 || step >= totalSteps) {
                throw new IllegalArgumentException("OneCycle step " + step + " is outside 0.." + (totalSteps - 1));
            }
            double initial = maxLr / divFactor;
            double min = initial / finalDivFactor;
            double warmEnd = pctStart * totalSteps - 1;
            double end = totalSteps - 1;
            if (step <= warmEnd) {
                return cosine(initial, maxLr, step / warmEnd);
            }
            return cosine(maxLr, min, (step - warmEnd) / (end - warmEnd));
        }

        private static double cosine(double from, double to, double pct) {
            return to + (from - to) / 2 * (Math.cos(Math.PI * pct) + 1);
        }
    }
}

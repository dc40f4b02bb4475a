package dev.vertebra.data.synth;

import dev.vertebra.core.Generator;

/**
 * Draws which cervical vertebrae are fractured, with the prevalence of the RSNA 2022 training set: the patient
 * first (48 % have a fracture), then each vertebra given that the patient has one. The per-vertebra conditional
 * probabilities are solved for once so that, with "at least one" enforced by redrawing, the marginals come out
 * at C1 7 %, C2 14 %, C3 4 %, C4 5 %, C5 8 %, C6 14 %, C7 20 %.
 *
 * <pre>{@code
 * boolean[] fractured = FracturePrevalence.RSNA_2022.draw(new Generator(7)); // 7 entries, C1..C7
 * }</pre>
 *
 * @param patient   probability that a patient has at least one fracture
 * @param marginals probability that each vertebra (C1..C7) is fractured, over all patients
 */
public record FracturePrevalence(double patient, double[] marginals) {

    /** The RSNA 2022 training-set prevalence. */
    public static final FracturePrevalence RSNA_2022 =
            new FracturePrevalence(0.48, new double[] {0.07, 0.14, 0.04, 0.05, 0.08, 0.14, 0.20});

    public FracturePrevalence {
        marginals = marginals.clone();
        if (!(patient > 0 && patient <= 1) || marginals.length != 7) {
            throw new IllegalArgumentException("patient prevalence " + patient + " with " + marginals.length
                    + " marginals");
        }
        for (double m : marginals) {
            if (!(m >= 0 && m <= patient)) {
                throw new IllegalArgumentException("marginal " + m + " is not within [0, patient prevalence]");
            }
        }
    }

    @Override
    public double[] marginals() {
        return marginals.clone();
    }

    /**
     * Per-vertebra probabilities q for independent draws that are redrawn until one is positive: the marginal
     * given a fractured patient is then q_v / (1 - Π(1 - q)), which must equal marginal_v / patient.
     */
    double[] conditionalDrawProbabilities() {
        double[] target = new double[7];
        for (int v = 0; v < 7; v++) {
            target[v] = marginals[v] / patient;
        }
        double[] q = target.clone();
        for (int iteration = 0; iteration < 500; iteration++) {
            double none = 1;
            for (double p : q) {
                none *= 1 - p;
            }
            for (int v = 0; v < 7; v++) {
                q[v] = target[v] * (1 - none);
            }
        }
        return q;
    }

    /** Fracture flags for C1..C7 of one patient; all false for a patient without a fracture. */
    public boolean[] draw(Generator generator) {
        boolean[] fractured = new boolean[7];
        if (generator.nextDouble() >= patient) {
            return fractured;
        }
        double[] q = conditionalDrawProbabilities();
        boolean any = false;
        while (!any) {
            for (int v = 0; v < 7; v++) {
                fractured[v] = generator.nextDouble() < q[v];
                any |= fractured[v];
            }
        }
        return fractured;
    }
}

package dev.vertebra.core.cpu;

import jdk.incubator.vector.FloatVector;
import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

/**
 * The gate's gradient of {@link GatedPointwiseBackward} sums each channel's products in one fixed order, whether the
 * method runs in the interpreter, C1 or C2. {@code FloatVector.reduceLanes(ADD)} left the lanes' order to the JIT:
 * C2's order and the interpreter's loop differ in the last bits, so a B0 training step's gradients depended on how far
 * that method had been compiled, and two runs of the same build parted. The test calls the method until C2 has
 * long taken it, then checks its bits against the order written out in scalar code; likewise the narrow
 * projections' sums ({@code reduceTransposed}), which C2 vectorizes.
 */
class GateGradientOrderTest {
    private static final int LANES = FloatVector.SPECIES_PREFERRED.length();

    @Test
    void theGateGradientTakesItsLanesInOrderOnceCompiled() {
        int n = 2;
        int cin = 3;
        int cout = 4 * LANES + 3; // whole vectors and a tail
        Random random = new Random(17);
        float[] p = random(random, n * cin * cout);
        float[] gate = random(random, n * cin);
        float[] w = random(random, cin * cout);
        float[] dgate = new float[n * cin];
        float[] dw = new float[cin * cout];
        // Enough calls for C2 (about 10⁴ invocations and their loops' back edges), then one more to check.
        for (int i = 0; i < 200_000; i++) {
            GatedPointwiseBackward.reduceDirect(n, cin, cout, p, gate, 0, w, 0, 0, cin, dgate, dw);
        }
        GatedPointwiseBackward.reduceDirect(n, cin, cout, p, gate, 0, w, 0, 0, cin, dgate, dw);
        assertArrayEquals(bits(inOrder(n, cin, cout, p, w)), bits(dgate));
    }

    @Test
    void narrowProjectionsChainTheirSumsInOrderOnceCompiled() {
        int n = 3;
        int cin = 2 * LANES + 5;  // whole vectors' worth of channels and a tail, split into two channel ranges
        int cout = 6;
        Random random = new Random(23);
        float[] pT = random(random, n * cout * cin);
        float[] gate = random(random, 1 + n * cin);
        float[] wT = random(random, cout * cin);
        float[] dgate = new float[n * cin];
        float[] dwT = new float[cout * cin];
        for (int i = 0; i < 50_000; i++) {
            GatedPointwiseBackward.reduceTransposed(n, cin, cout, pT, gate, 1, wT, 0, LANES + 3, dgate, dwT);
            GatedPointwiseBackward.reduceTransposed(n, cin, cout, pT, gate, 1, wT, LANES + 3, cin, dgate, dwT);
        }
        float[] wantDgate = new float[n * cin];
        float[] wantDwT = new float[cout * cin];
        for (int c = 0; c < cin; c++) {
            for (int j = 0; j < cout; j++) {      // dwT[j, c]: gate[t, c]·Pᵀ[t, j, c], images in order
                float acc = pT[j * cin + c] * gate[1 + c];
                for (int t = 1; t < n; t++) {
                    acc = Math.fma(pT[(t * cout + j) * cin + c], gate[1 + t * cin + c], acc);
                }
                wantDwT[j * cin + c] = acc;
            }
            for (int t = 0; t < n; t++) {         // dgate[t, c]: wT[j, c]·Pᵀ[t, j, c], output channels in order
                float acc = 0f;
                for (int j = 0; j < cout; j++) {
                    acc = Math.fma(pT[(t * cout + j) * cin + c], wT[j * cin + c], acc);
                }
                wantDgate[t * cin + c] = acc;
            }
        }
        assertArrayEquals(bits(wantDwT), bits(dwT));
        assertArrayEquals(bits(wantDgate), bits(dgate));
    }

    /** dgate[t, c]: per lane an FMA chain over the whole vectors, lanes added in order, then the tail's FMAs. */
    private static float[] inOrder(int n, int cin, int cout, float[] p, float[] w) {
        int bound = cout / LANES * LANES;
        float[] dgate = new float[n * cin];
        for (int t = 0; t < n; t++) {
            for (int c = 0; c < cin; c++) {
                int row = (t * cin + c) * cout;
                float[] lanes = new float[LANES];
                for (int k = 0; k < bound; k += LANES) {
                    for (int l = 0; l < LANES; l++) {
                        lanes[l] = Math.fma(p[row + k + l], w[c * cout + k + l], lanes[l]);
                    }
                }
                float sum = lanes[0];
                for (int l = 1; l < LANES; l++) {
                    sum += lanes[l];
                }
                for (int k = bound; k < cout; k++) {
                    sum = Math.fma(p[row + k], w[c * cout + k], sum);
                }
                dgate[t * cin + c] = sum;
            }
        }
        return dgate;
    }

    private static float[] random(Random random, int size) {
        float[] a = new float[size];
        for (int i = 0; i < size; i++) {
            a[i] = (float) random.nextGaussian();
        }
        return a;
    }

    private static int[] bits(float[] a) {
        int[] b = new int[a.length];
        for (int i = 0; i < a.length; i++) {
            b[i] = Float.floatToRawIntBits(a[i]);
        }
        return b;
    }
}

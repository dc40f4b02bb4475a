package dev.vertebra.core.conformance;

import dev.vertebra.core.DType;
import dev.vertebra.core.Device;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The backend conformance suite: every op of the catalog ({@link OpCatalog}), forward and backward, on the device
 * under test against the same computation on {@link Device#REFERENCE}, in float32 with each case's tolerance.
 * Inputs, upstream gradients and dropout masks come from generators seeded by the case's name, so both devices see
 * bit-identical data; the inputs are also compared after the op (in-place updates such as batch-norm running
 * statistics).
 *
 * <p>A backend gets the whole suite by subclassing and naming its device; core ships this class in its test-jar
 * so other modules can do the same:
 *
 * <pre>{@code
 * class CudaConformanceTest extends BackendConformance {
 *     protected Device device() { return Device.parse("cuda:0"); }
 * }
 * }</pre>
 *
 * A subclass for an optional device should check its availability in a {@code @BeforeAll} with a JUnit
 * assumption, so an absent device is reported as skipped rather than passing silently.
 */
public abstract class BackendConformance {

    /** The device under test. */
    protected abstract Device device();

    @TestFactory
    Stream<DynamicTest> elementwise() {
        return group("elementwise");
    }

    @TestFactory
    Stream<DynamicTest> reductionsAndMatmul() {
        return group("reductions and matmul");
    }

    @TestFactory
    Stream<DynamicTest> imageOps() {
        return group("image ops");
    }

    @TestFactory
    Stream<DynamicTest> nnOpsAndLosses() {
        return group("nn ops and losses");
    }

    @TestFactory
    Stream<DynamicTest> viewsAssemblyGatherCasts() {
        return group("views, assembly, gather, casts");
    }

    @TestFactory
    Stream<DynamicTest> largeShapes() {
        return group("large shapes");
    }

    @TestFactory
    Stream<DynamicTest> gradientAccumulation() {
        return group("gradient accumulation (fan-out)");
    }

    @Test
    void caseNamesAreUnique() {
        Set<String> seen = new HashSet<>();
        for (OpCase c : OpCatalog.all()) {
            assertTrue(seen.add(c.name()), "duplicate case name (and seed): " + c.name());
        }
    }

    private Stream<DynamicTest> group(String name) {
        return OpCatalog.groups().get(name).get().stream()
                .map(c -> DynamicTest.dynamicTest(c.name(), () -> assertConforms(c)));
    }

    /** Runs {@code c} on the device under test and on the reference and compares everything it produced. */
    protected void assertConforms(OpCase c) {
        OpCase.Outcome want = c.run(Device.REFERENCE, DType.FLOAT32);
        OpCase.Outcome got = c.run(device(), DType.FLOAT32);
        assertEquals(device(), got.output().device(), "output device");
        assertEquals(want.output().shape(), got.output().shape(), "output shape");
        assertEquals(want.output().dtype(), got.output().dtype(), "output dtype");
        assertEquals(want.output().requiresGrad(), got.output().requiresGrad(), "output requiresGrad");
        c.tolerance().assertClose("output", want.values(), got.values());
        List<double[]> wantGrads = want.grads();
        for (int i = 0; i < wantGrads.size(); i++) {
            double[] wg = wantGrads.get(i);
            double[] gg = got.grads().get(i);
            assertEquals(wg == null, gg == null, "input " + i + " has a gradient on one device only");
            if (wg != null) {
                c.tolerance().assertClose("gradient of input " + i, wg, gg);
            }
            c.tolerance().assertClose("input " + i + " after the op", want.inputsAfter().get(i),
                    got.inputsAfter().get(i));
        }
        if (c.differentiable() && want.output().requiresGrad()) {
            assertTrue(wantGrads.stream().anyMatch(g -> g != null), "a differentiable case produced no gradient");
        }
        assertArrayEquals(want.output().shape().dims(), got.output().shape().dims());
    }
}

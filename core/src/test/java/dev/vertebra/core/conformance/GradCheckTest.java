package dev.vertebra.core.conformance;

import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Finite-difference checks (float64, reference backend) of every differentiable conformance case: the backward
 * rules themselves, independent of any backend. Casts through narrower float types use steps far above their
 * ulp (a rounding function has zero derivative almost everywhere; over a wide step its slope is the identity's).
 */
class GradCheckTest {

    @TestFactory
    Stream<DynamicTest> everyDifferentiableCase() {
        return OpCatalog.all().stream().filter(OpCase::finiteDifferencesApply)
                .map(c -> DynamicTest.dynamicTest(c.name(), () -> GradCheck.check(c)));
    }

    @Test
    void coversEnoughCases() {
        long n = OpCatalog.all().stream().filter(OpCase::finiteDifferencesApply).count();
        assertTrue(n > 200, "only " + n + " cases are finite-difference checked");
    }
}

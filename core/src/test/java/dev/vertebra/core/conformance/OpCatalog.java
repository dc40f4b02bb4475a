package dev.vertebra.core.conformance;

import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/** Every conformance case, by group. Adding an op means adding its cases to one of the group classes. */
public final class OpCatalog {

    private OpCatalog() {
    }

    /** The groups: group name → its cases. */
    public static Map<String, Supplier<List<OpCase>>> groups() {
        return Map.of(
                "elementwise", ElementwiseCases::all,
                "reductions and matmul", ReductionCases::all,
                "image ops", ImageCases::all,
                "nn ops and losses", NnCases::all,
                "views, assembly, gather, casts", ViewCases::all,
                "large shapes", LargeCases::all,
                "gradient accumulation (fan-out)", FanOutCases::all);
    }

    /** All cases of every group. */
    public static List<OpCase> all() {
        return groups().values().stream().flatMap(g -> g.get().stream()).toList();
    }
}

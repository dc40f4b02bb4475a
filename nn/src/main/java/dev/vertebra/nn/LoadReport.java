package dev.vertebra.nn;

import java.util.List;

/**
 * What {@link Module#loadStateDict} found: keys the module has but the state dict lacks, keys the state dict has
 * but the module lacks, and keys present in both whose shapes differ (described as
 * {@code "name: file [..] vs module [..]"}, shapes in file layout).
 *
 * <pre>{@code
 * LoadReport r = model.loadStateDict(state, false);
 * if (!r.isClean()) log(r);
 * }</pre>
 */
public record LoadReport(List<String> missing, List<String> unexpected, List<String> mismatched) {

    public LoadReport {
        missing = List.copyOf(missing);
        unexpected = List.copyOf(unexpected);
        mismatched = List.copyOf(mismatched);
    }

    /** True when every key matched in name and shape. */
    public boolean isClean() {
        return missing.isEmpty() && unexpected.isEmpty() && mismatched.isEmpty();
    }

    @Override
    public String toString() {
        StringBuilder s = new StringBuilder();
        append(s, "missing keys", missing);
        append(s, "unexpected keys", unexpected);
        append(s, "shape mismatches", mismatched);
        return s.isEmpty() ? "all keys matched" : s.toString();
    }

    private static void append(StringBuilder s, String title, List<String> keys) {
        if (keys.isEmpty()) {
            return;
        }
        if (!s.isEmpty()) {
            s.append("; ");
        }
        int shown = Math.min(keys.size(), 20);
        s.append(keys.size()).append(' ').append(title).append(": ").append(String.join(", ", keys.subList(0, shown)));
        if (shown < keys.size()) {
            s.append(", … (").append(keys.size() - shown).append(" more)");
        }
    }
}

package dev.vertebra.nn;

/**
 * A state dict does not fit a module (other architecture, wrong shapes, missing or extra keys under strict
 * loading). Thrown before anything is copied: the module is left as it was.
 */
public final class StateDictException extends IllegalArgumentException {
    private static final long serialVersionUID = 1L;

    private final transient LoadReport report;

    public StateDictException(String context, LoadReport report) {
        super(context + ": " + report);
        this.report = report;
    }

    /** The keys that did not match. */
    public LoadReport report() {
        return report;
    }
}

package dev.vertebra.core;

import java.util.List;

/**
 * Service interface through which backends outside core (cuda) make themselves known; found with
 * {@link java.util.ServiceLoader}, so a CPU-only application never loads them.
 */
public interface BackendProvider {

    /** The device kind this provider serves, e.g. "cuda". */
    String kind();

    /**
     * Whether the backend can run here; when not, {@link Availability#reason()} says why (no driver, no
     * device, a missing library).
     */
    Availability availability();

    /** The backend for a device of this kind; throws when unavailable. */
    Backend open(Device device);

    /** Devices of this kind present on the machine (empty when unavailable). */
    List<Device> devices();

    /** Whether a backend can run, and why not. */
    record Availability(boolean available, String reason) {
        public static Availability yes(String description) {
            return new Availability(true, description);
        }

        public static Availability no(String reason) {
            return new Availability(false, reason);
        }
    }
}

package dev.vertebra.examples;

import dev.vertebra.core.Backends;
import dev.vertebra.core.Device;

/** The {@code --device} option of the commands. */
final class Devices {

    private Devices() {
    }

    /**
     * The device {@code text} names, with its backend opened, so that an unknown or unusable device (no GPU, no
     * driver) fails before any work, as bad input: one line naming the reason, not a stack trace.
     *
     * @throws IllegalArgumentException for a malformed name, an unknown kind or a device that cannot be used here
     */
    static Device open(String text) {
        Device device = Device.parse(text);
        try {
            Backends.get(device);
        } catch (IllegalStateException e) {
            throw new IllegalArgumentException(e.getMessage(), e);
        }
        return device;
    }
}

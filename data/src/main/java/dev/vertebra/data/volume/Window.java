package dev.vertebra.data.volume;

/**
 * A display window: HU in [level − width/2, level + width/2] map linearly to [0, 1], clipped outside.
 *
 * <pre>{@code
 * float[] bone = Window.BONE.apply(ct.hu());
 * float[] channels = Window.stackChannels(ct.hu(), Window.BONE, Window.SOFT_TISSUE, Window.BRAIN); // [..., 3]
 * }</pre>
 */
public record Window(double level, double width) {
    /** Bone: level 400, width 1800 (the default). */
    public static final Window BONE = new Window(400, 1800);
    public static final Window SOFT_TISSUE = new Window(40, 400);
    public static final Window BRAIN = new Window(40, 80);

    public Window {
        if (!(width > 0)) {
            throw new IllegalArgumentException("window width must be positive: " + width);
        }
    }

    /** One value through the window. */
    public float apply(float hu) {
        double v = (hu - (level - width / 2)) / width;
        return (float) Math.clamp(v, 0.0, 1.0);
    }

    /** Every value through the window, into a new array. */
    public float[] apply(float[] hu) {
        float[] out = new float[hu.length];
        for (int i = 0; i < hu.length; i++) {
            out[i] = apply(hu[i]);
        }
        return out;
    }

    /** Several windows as interleaved channels: out[i·k + w] = windows[w].apply(hu[i]). */
    public static float[] stackChannels(float[] hu, Window... windows) {
        float[] out = new float[hu.length * windows.length];
        for (int i = 0; i < hu.length; i++) {
            for (int w = 0; w < windows.length; w++) {
                out[i * windows.length + w] = windows[w].apply(hu[i]);
            }
        }
        return out;
    }
}

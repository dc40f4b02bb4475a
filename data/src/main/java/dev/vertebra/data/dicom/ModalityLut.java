package dev.vertebra.data.dicom;


/**
 * The Modality LUT of an image (PS3.3 §C.11.1), mapping stored values to modality units (HU for CT) exactly as
 * pydicom's {@code apply_modality_lut} does: a Modality LUT Sequence wins over Rescale Slope/Intercept, which
 * apply only when both are present.
 */
public sealed interface ModalityLut {

    /** Maps one stored value. */
    double apply(long stored);

    /** No Modality LUT: values stay as stored. */
    record Identity() implements ModalityLut {
        @Override
        public double apply(long stored) {
            return stored;
        }
    }

    /** {@code stored × slope + intercept}. */
    record Rescale(double slope, double intercept) implements ModalityLut {
        @Override
        public double apply(long stored) {
            return stored * slope + intercept;
        }
    }

    /**
     * A lookup table: values below {@code firstMapped} take the first entry, values past the end the last.
     *
     * @param firstMapped the stored value mapped to {@code entries[0]}
     * @param entries     the table
     */
    record Table(long firstMapped, int[] entries) implements ModalityLut {
        public Table {
            if (entries.length == 0) {
                throw new IllegalArgumentException("empty modality LUT");
            }
            entries = entries.clone();
        }

        @Override
        public double apply(long stored) {
            long index = Math.clamp(stored >= firstMapped ? stored - firstMapped : 0, 0, entries.length - 1);
            return entries[(int) index];
        }
    }

    /** The Modality LUT a dataset describes. */
    static ModalityLut of(DicomObject ds, boolean signedPixels) throws DicomException {
        try {
            if (ds.contains(Tags.MODALITY_LUT_SEQUENCE) && !ds.getSequence(Tags.MODALITY_LUT_SEQUENCE).isEmpty()) {
                return table(ds.getSequence(Tags.MODALITY_LUT_SEQUENCE).getFirst(), signedPixels);
            }
            double[] slope = ds.contains(Tags.RESCALE_SLOPE) ? ds.getDoubles(Tags.RESCALE_SLOPE) : new double[0];
            double[] intercept = ds.contains(Tags.RESCALE_INTERCEPT)
                    ? ds.getDoubles(Tags.RESCALE_INTERCEPT) : new double[0];
            if (slope.length > 0 && intercept.length > 0) {
                return new Rescale(slope[0], intercept[0]);
            }
            return new Identity();
        } catch (DicomValueException e) {
            throw e.toChecked();
        }
    }

    private static Table table(DicomObject item, boolean signedPixels) throws DicomException {
        int[] descriptor = item.getInts(Tags.LUT_DESCRIPTOR);
        if (descriptor.length < 3) {
            throw new DicomValueException(item.sourceName(), item.element(Tags.LUT_DESCRIPTOR).orElseThrow().offset(),
                    "LUT Descriptor has " + descriptor.length + " values, 3 needed").toChecked();
        }
        int count = descriptor[0] & 0xFFFF;
        if (count == 0) {
            count = 1 << 16;
        }
        long first = signedPixels ? (short) descriptor[1] : descriptor[1] & 0xFFFF;
        int bits = descriptor[2];
        byte[] data = item.getBytes(Tags.LUT_DATA);
        DicomElement lutData = item.element(Tags.LUT_DATA).orElseThrow();
        if (data.length / 2 < count) {
            throw new DicomException(item.sourceName(), lutData.offset(),
                    "LUT Data holds " + data.length / 2 + " entries, the descriptor says " + count);
        }
        int[] entries = new int[count];
        int mask = bits >= 16 || bits <= 0 ? 0xFFFF : (1 << bits) - 1; // pydicom casts to uint<bits>
        for (int i = 0; i < count; i++) {
            entries[i] = (int) ValueCodec.integer(data, 2 * i, 2, item.isBigEndian()) & mask;
        }
        return new Table(first, entries);
    }
}

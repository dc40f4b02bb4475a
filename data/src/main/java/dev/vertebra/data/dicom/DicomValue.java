package dev.vertebra.data.dicom;

import java.util.List;

/** The value of one element as the reader holds it: bytes in memory, bytes left in the file, items or fragments. */
public sealed interface DicomValue {

    /** A value read into memory, exactly as encoded (padding included). */
    record Bytes(byte[] bytes) implements DicomValue {
    }

    /** A large value left in its source until asked for: {@code length} bytes from byte {@code offset}. */
    record Bulk(long offset, long length) implements DicomValue {
    }

    /** The items of a sequence, in order. */
    record Sequence(List<DicomObject> items) implements DicomValue {
        public Sequence {
            items = List.copyOf(items);
        }
    }

    /**
     * Encapsulated (compressed) pixel data.
     *
     * @param basicOffsetTable the Basic Offset Table: offset of each frame's first fragment item, relative to the
     *                         first fragment item; empty when the table is empty
     * @param fragments        the fragments after the offset table, in order
     */
    record Fragments(long[] basicOffsetTable, List<Fragment> fragments) implements DicomValue {
        public Fragments {
            basicOffsetTable = basicOffsetTable.clone();
            fragments = List.copyOf(fragments);
        }

        @Override
        public long[] basicOffsetTable() {
            return basicOffsetTable.clone();
        }
    }

    /**
     * One fragment of encapsulated pixel data.
     *
     * @param itemOffset offset of the fragment's item header in the source
     * @param offset     offset of the fragment's bytes in the source
     * @param length     number of bytes
     */
    record Fragment(long itemOffset, long offset, int length) {
    }
}

package dev.vertebra.data.dicom;

import java.util.ArrayList;
import java.util.List;

/**
 * Groups the fragments of encapsulated pixel data into frames (PS3.5 §A.4): all fragments for a single frame;
 * otherwise by the Extended Offset Table, the Basic Offset Table, one fragment per frame, or — with no table and
 * more fragments than frames — by the JPEG/JPEG 2000 end-of-image marker (FF D9) that closes each frame.
 */
final class FrameFragments {
    private FrameFragments() {
    }

    /** The fragments of each frame, in frame order. */
    static List<List<DicomValue.Fragment>> split(DicomObject ds, DicomElement pixelData, DicomValue.Fragments value,
                                                 int frames, String name) throws DicomException {
        List<DicomValue.Fragment> fragments = value.fragments();
        if (fragments.isEmpty()) {
            throw new DicomException(name, pixelData.offset(), "encapsulated pixel data has no fragments");
        }
        if (frames == 1) {
            return List.of(fragments);
        }
        long[] offsets = extendedOffsets(ds, name);
        if (offsets.length == 0) {
            offsets = value.basicOffsetTable();
        }
        if (offsets.length > 0) {
            return byOffsets(offsets, fragments, frames, pixelData, name);
        }
        if (fragments.size() == frames) {
            List<List<DicomValue.Fragment>> out = new ArrayList<>();
            for (DicomValue.Fragment f : fragments) {
                out.add(List.of(f));
            }
            return out;
        }
        if (fragments.size() < frames) {
            throw new DicomException(name, pixelData.offset(), "encapsulated pixel data has " + fragments.size()
                    + " fragments for " + frames + " frames");
        }
        return byEndMarker(ds, fragments, frames, pixelData, name);
    }

    private static long[] extendedOffsets(DicomObject ds, String name) throws DicomException {
        if (!ds.contains(Tags.EXTENDED_OFFSET_TABLE)) {
            return new long[0];
        }
        byte[] bytes = ds.getBytes(Tags.EXTENDED_OFFSET_TABLE);
        long[] out = new long[bytes.length / 8];
        for (int i = 0; i < out.length; i++) {
            out[i] = ValueCodec.integer(bytes, 8 * i, 8, false);
            if (out[i] < 0) {
                throw new DicomException(name, ds.element(Tags.EXTENDED_OFFSET_TABLE).orElseThrow().offset(),
                        "extended offset table entry " + i + " is beyond 2^63");
            }
        }
        return out;
    }

    private static List<List<DicomValue.Fragment>> byOffsets(long[] offsets, List<DicomValue.Fragment> fragments,
                                                             int frames, DicomElement pixelData, String name)
            throws DicomException {
        if (offsets.length != frames) {
            throw new DicomException(name, pixelData.offset(), "offset table has " + offsets.length
                    + " entries for " + frames + " frames");
        }
        long first = fragments.getFirst().itemOffset();
        int[] starts = new int[frames + 1];
        int next = 0;
        for (int frame = 0; frame < frames; frame++) {
            while (next < fragments.size() && fragments.get(next).itemOffset() - first < offsets[frame]) {
                next++;
            }
            if (next == fragments.size() || fragments.get(next).itemOffset() - first != offsets[frame]) {
                throw new DicomException(name, pixelData.offset(), "offset table entry " + frame + " ("
                        + offsets[frame] + ") does not point at a fragment");
            }
            if (frame > 0 && next == starts[frame - 1]) {
                throw new DicomException(name, pixelData.offset(), "offset table repeats an offset at " + frame);
            }
            starts[frame] = next;
        }
        starts[frames] = fragments.size();
        List<List<DicomValue.Fragment>> out = new ArrayList<>();
        for (int frame = 0; frame < frames; frame++) {
            out.add(fragments.subList(starts[frame], starts[frame + 1]));
        }
        return out;
    }

    private static List<List<DicomValue.Fragment>> byEndMarker(DicomObject ds, List<DicomValue.Fragment> fragments,
                                                               int frames, DicomElement pixelData, String name)
            throws DicomException {
        List<List<DicomValue.Fragment>> out = new ArrayList<>();
        int start = 0;
        for (int i = 0; i < fragments.size(); i++) {
            DicomValue.Fragment f = fragments.get(i);
            byte[] tail = ds.source().read(f.offset() + Math.max(0, f.length() - 3), Math.min(3, f.length()));
            if (endsWithEoi(tail) || i == fragments.size() - 1) {
                out.add(fragments.subList(start, i + 1));
                start = i + 1;
            }
        }
        if (out.size() != frames) {
            throw new DicomException(name, pixelData.offset(), "cannot map " + fragments.size() + " fragments to "
                    + frames + " frames: no offset table and " + out.size() + " end-of-image markers");
        }
        return out;
    }

    /** FF D9 at the end, allowing one padding byte after it. */
    private static boolean endsWithEoi(byte[] tail) {
        int n = tail.length;
        return (n >= 2 && (tail[n - 2] & 0xFF) == 0xFF && (tail[n - 1] & 0xFF) == 0xD9)
                || (n >= 3 && (tail[n - 3] & 0xFF) == 0xFF && (tail[n - 2] & 0xFF) == 0xD9 && tail[n - 1] == 0);
    }
}

package dev.vertebra.examples;

import dev.vertebra.core.DType;
import dev.vertebra.core.io.HostArray;
import dev.vertebra.core.io.Npy;
import dev.vertebra.data.dicom.DicomPixels;
import dev.vertebra.data.dicom.DicomReader;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.concurrent.Callable;

/**
 * {@code vertebra dicom2npy IN.dcm OUT.npy}: the pixel values as float32, equal to pydicom's
 * {@code apply_modality_lut(ds.pixel_array, ds)} — the modality LUT (e.g. rescale to Hounsfield units) where
 * the file has one, stored values otherwise; no VOI LUT, no MONOCHROME1 inversion. Shape (rows, cols) for one
 * frame, (frames, rows, cols) for several, with a trailing samples axis for colour.
 */
@Command(name = "dicom2npy", mixinStandardHelpOptions = true,
        description = "Write a DICOM file's modality-LUT pixel values (e.g. HU) as a float32 .npy array.")
final class Dicom2NpyCommand implements Callable<Integer> {

    @Spec
    private CommandSpec spec;

    @Parameters(index = "0", paramLabel = "IN.dcm", description = "the DICOM file")
    private Path input;

    @Parameters(index = "1", paramLabel = "OUT.npy", description = "the array to write")
    private Path output;

    @Override
    public Integer call() {
        try {
            DicomPixels pixels = DicomPixels.read(DicomReader.read(input));
            int[] shape = pixels.shape();
            Npy.write(output, new HostArray(DType.FLOAT32, shape, pixels.modalityLut()));
            spec.commandLine().getOut().println(output + ": float32 " + Arrays.toString(shape));
            spec.commandLine().getOut().flush();
            return 0;
        } catch (IOException | IllegalArgumentException e) {
            return Failures.report(spec, e);
        }
    }
}

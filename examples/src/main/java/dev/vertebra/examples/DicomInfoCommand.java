package dev.vertebra.examples;

import dev.vertebra.data.dicom.DicomDump;
import dev.vertebra.data.dicom.DicomReader;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.nio.file.Path;
import java.util.concurrent.Callable;

/** {@code vertebra dicom-info IN.dcm}: the file's elements, listed the way dcmdump lists them. */
@Command(name = "dicom-info", mixinStandardHelpOptions = true,
        description = "Print a DICOM file's elements like dcmdump: tag, VR, value, length, keyword; sequences indented.")
final class DicomInfoCommand implements Callable<Integer> {

    @Spec
    private CommandSpec spec;

    @Parameters(index = "0", paramLabel = "IN.dcm", description = "the DICOM file")
    private Path input;

    @Override
    public Integer call() {
        try {
            spec.commandLine().getOut().print(DicomDump.format(DicomReader.read(input)));
            spec.commandLine().getOut().flush();
            return 0;
        } catch (IOException | IllegalArgumentException e) {
            return Failures.report(spec, e);
        }
    }
}

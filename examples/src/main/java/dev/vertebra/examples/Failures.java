package dev.vertebra.examples;

import picocli.CommandLine.Model.CommandSpec;

import java.nio.file.NoSuchFileException;

/**
 * How the command line reports bad input (a missing folder or file, a broken study or DICOM file, settings out of
 * range): one line on stderr that names the command and the cause, and exit code 1, instead of a stack trace.
 */
final class Failures {

    private Failures() {
    }

    static int report(CommandSpec spec, Exception e) {
        // A NoSuchFileException's message is the bare path.
        String message = e instanceof NoSuchFileException missing && missing.getReason() == null
                ? missing.getFile() + ": no such file" : e.getMessage();
        spec.commandLine().getErr().println("vertebra " + spec.name() + ": " + message);
        spec.commandLine().getErr().flush();
        return 1;
    }
}

package dev.vertebra.examples;

import picocli.CommandLine.Option;

import java.nio.file.Path;

/** {@code --cache DIR} of train, evaluate and predict: where {@code vertebra prepare} wrote the volumes. */
final class CacheOption {

    @Option(names = "--cache", paramLabel = "DIR",
            description = "volume cache from `vertebra prepare` (native grid): the studies it holds are read from it, "
                    + "the rest decoded from DICOM")
    Path dir;
}

package dev.vertebra.data.rsna;

import java.io.IOException;

/** A CSV file of the dataset that is missing, malformed or inconsistent: names the file and the line (1-based). */
public final class CsvException extends IOException {
    private static final long serialVersionUID = 1L;
    private final String file;
    private final int line;

    public CsvException(String file, int line, String message) {
        super(file + ":" + line + ": " + message);
        this.file = file;
        this.line = line;
    }

    public String file() {
        return file;
    }

    public int line() {
        return line;
    }
}

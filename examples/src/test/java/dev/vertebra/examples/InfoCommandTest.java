package dev.vertebra.examples;

import org.junit.jupiter.api.Test;
import picocli.CommandLine;

import java.io.PrintWriter;
import java.io.StringWriter;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class InfoCommandTest {

    @Test
    void infoNamesTheBuiltInBackendsAndTheVectorWidth() {
        StringWriter captured = new StringWriter();
        CommandLine cmd = new CommandLine(new Main());
        cmd.setOut(new PrintWriter(captured, true));

        int exit = cmd.execute("info");

        String out = captured.toString();
        assertEquals(0, exit, out);
        assertTrue(out.lines().anyMatch(l -> l.matches("\\s+cpu\\s+available.*")), out);
        assertTrue(out.lines().anyMatch(l -> l.matches("\\s+cpu-reference\\s+available.*")), out);
        assertTrue(out.contains("vector:   " + jdk.incubator.vector.FloatVector.SPECIES_PREFERRED.vectorBitSize()
                + "-bit"), out);
        assertTrue(out.contains(Runtime.version().toString()), out);
    }

    @Test
    void helpListsTheInfoSubcommand() {
        StringWriter captured = new StringWriter();
        CommandLine cmd = new CommandLine(new Main());
        cmd.setOut(new PrintWriter(captured, true));

        assertEquals(0, cmd.execute("--help"));
        assertTrue(captured.toString().contains("info"), captured.toString());
    }
}

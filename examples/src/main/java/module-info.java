/** Vertebra examples: the command-line main class and its subcommands. */
module dev.vertebra.examples {
    requires dev.vertebra.core;
    requires dev.vertebra.data;
    requires dev.vertebra.efficientnet;
    requires info.picocli;
    requires jdk.incubator.vector;
    requires org.slf4j;

    opens dev.vertebra.examples to info.picocli;
    opens dev.vertebra.examples.fmnist to info.picocli;
}

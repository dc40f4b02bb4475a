/** Vertebra examples: the command-line main class and its subcommands, the fracture trainer and its metric. */
module dev.vertebra.examples {
    requires dev.vertebra.bench;
    requires transitive dev.vertebra.core;
    requires transitive dev.vertebra.data;
    requires transitive dev.vertebra.nn;
    requires transitive dev.vertebra.efficientnet;
    requires info.picocli;
    requires jdk.incubator.vector;
    requires org.slf4j;
    requires org.knowm.xchart;
    requires java.desktop;
    requires static jdk.management; // ZgcHeapTarget, where the runtime has it

    exports dev.vertebra.examples.metric;
    exports dev.vertebra.examples.trainer;

    opens dev.vertebra.examples to info.picocli;
    opens dev.vertebra.examples.fmnist to info.picocli;
}

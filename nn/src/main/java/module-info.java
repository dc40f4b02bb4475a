/** Vertebra nn: modules, layers, losses, optimisers, learning-rate schedules, EMA and checkpoints. */
module dev.vertebra.nn {
    requires transitive dev.vertebra.core;

    exports dev.vertebra.nn;
    exports dev.vertebra.nn.optim;
}

/** Vertebra core: tensors, autograd, backends and tensor file formats. */
module dev.vertebra.core {
    requires jdk.incubator.vector;

    exports dev.vertebra.core;
    exports dev.vertebra.core.cpu;
    exports dev.vertebra.core.io;
    exports dev.vertebra.core.reference;

    uses dev.vertebra.core.BackendProvider;
}

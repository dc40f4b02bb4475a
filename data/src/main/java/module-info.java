/** Vertebra data: DICOM reading and pixel codecs, NIfTI, CT volumes, the RSNA layout, loaders, synthetic CT. */
module dev.vertebra.data {
    // javax.imageio, through which a JPEG 2000 reader (jai-imageio-jpeg2000, a run-time dependency) is found.
    requires java.desktop;
    requires transitive dev.vertebra.core;
    requires org.slf4j;

    exports dev.vertebra.data.codec;
    exports dev.vertebra.data.dicom;
    exports dev.vertebra.data.nifti;
    exports dev.vertebra.data.synth;
    exports dev.vertebra.data.volume;
}

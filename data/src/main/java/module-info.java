/** Vertebra data: DICOM reading and pixel codecs. */
module dev.vertebra.data {
    // javax.imageio, through which a JPEG 2000 reader (jai-imageio-jpeg2000, a run-time dependency) is found.
    requires java.desktop;

    exports dev.vertebra.data.codec;
    exports dev.vertebra.data.dicom;
}

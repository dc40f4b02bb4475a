/** Vertebra data: DICOM reading and pixel codecs. */
module dev.vertebra.data {
    exports dev.vertebra.data.codec;
    exports dev.vertebra.data.dicom;
}

"""Decodes Vertebra's lossless-JPEG encoder output with decoders nobody here wrote, and records what they saw.

For each NAME.jpg listed in samples.tsv (written by EncoderSamples): wraps the codestream in a DICOM file,
decodes it with dcmtk's dcmdjpeg and, from 8 bits up, with GDCM (through pydicom), checks the two agree, and writes the pixels
as NAME.dcmdjpeg.raw (uint16 little-endian, row-major, components interleaved). EncoderOracleTest compares them with the encoder input.
    /usr/bin/python3 data/src/test/scripts/check_encoder_with_dcmtk.py data/src/test/resources/codec/encoder
"""
import os
import subprocess
import sys
import tempfile

import numpy as np
import pydicom
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.encaps import encapsulate
from pydicom.uid import generate_uid

DIR = sys.argv[1]
TMP = tempfile.mkdtemp()

for line in open(os.path.join(DIR, 'samples.tsv')):
    if line.startswith('#') or not line.strip():
        continue
    name, rows, cols, components, precision, predictor = line.split('\t')
    rows, cols, components, precision, predictor = int(rows), int(cols), int(components), int(precision), int(predictor)
    syntax = '1.2.840.10008.1.2.4.70' if predictor == 1 else '1.2.840.10008.1.2.4.57'
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = '1.2.840.10008.5.1.4.1.1.7'
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = syntax
    ds = Dataset()
    ds.file_meta = meta
    ds.is_little_endian, ds.is_implicit_VR = True, False
    ds.SOPClassUID, ds.SOPInstanceUID = meta.MediaStorageSOPClassUID, meta.MediaStorageSOPInstanceUID
    ds.Modality, ds.PatientName, ds.PatientID = 'OT', 'Encoder^Check', 'ENC'
    ds.Rows, ds.Columns, ds.SamplesPerPixel = rows, cols, components
    ds.PhotometricInterpretation = 'MONOCHROME2' if components == 1 else 'RGB'
    if components > 1:
        ds.PlanarConfiguration = 0
    ds.BitsAllocated = 16 if precision > 8 else 8
    ds.BitsStored, ds.HighBit, ds.PixelRepresentation = precision, precision - 1, 0
    with open(os.path.join(DIR, name + '.jpg'), 'rb') as f:
        ds.PixelData = encapsulate([f.read()])
    ds['PixelData'].is_undefined_length = True
    ds['PixelData'].VR = 'OB'
    src, dst = os.path.join(TMP, name + '.dcm'), os.path.join(TMP, name + '.raw.dcm')
    ds.save_as(src, write_like_original=False)
    subprocess.run(['dcmdjpeg', src, dst], check=True)
    out = pydicom.dcmread(dst)
    dtype = '<u2' if out.BitsAllocated == 16 else '<u1'
    by_dcmtk = np.frombuffer(out.PixelData, dtype=dtype)[:rows * cols * components]
    if components > 1 and out.get('PlanarConfiguration', 0) == 1:
        by_dcmtk = by_dcmtk.reshape(components, -1).T.reshape(-1)
    if precision >= 8:  # GDCM aborts on 8-bit-allocated data with fewer bits stored
        by_gdcm = pydicom.dcmread(src).pixel_array.reshape(-1)  # pydicom's GDCM handler for JPEG lossless
        assert np.array_equal(by_dcmtk.astype(np.int64), by_gdcm.astype(np.int64)), name + ': dcmtk and GDCM disagree'
    with open(os.path.join(DIR, name + '.dcmdjpeg.raw'), 'wb') as f:
        f.write(by_dcmtk.astype('<u2').tobytes())
    print(name, 'ok')

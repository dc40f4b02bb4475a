"""Writes the 512x512 16-bit CT slices DecodeBench decodes and pydicom_decode.py reads, one per transfer syntax.

The image is pydicom's CT_small (a real 128x128 CT slice) upsampled 4x with bilinear interpolation plus
Gaussian noise of 10 stored units, so the entropy coders see CT-like texture at the RSNA slice size. Encoders:
dcmtk (dcmcjpeg +e1, dcmcjpls, dcmcrle) and GDCM (gdcmconv --j2k). For each syntax NAME it writes NAME.dcm
and NAME.bin (the frame's codestream).
    /usr/bin/python3 bench/scripts/make_decode_bench_files.py /tmp/vertebra-decode-bench
"""
import os
import subprocess
import sys

import numpy as np
import pydicom
from pydicom.encaps import generate_pixel_data_frame
from pydicom.uid import ExplicitVRLittleEndian

OUT = sys.argv[1]
os.makedirs(OUT, exist_ok=True)
ds = pydicom.dcmread(os.path.join(os.path.dirname(pydicom.__file__), 'data', 'test_files', 'CT_small.dcm'))
small = ds.pixel_array.astype(np.float64)
grid = (np.arange(512) + 0.5) / 4 - 0.5
i0 = np.clip(np.floor(grid).astype(int), 0, 126)
w = np.clip(grid - i0, 0, 1)
rows = small[i0] * (1 - w)[:, None] + small[i0 + 1] * w[:, None]
image = rows[:, i0] * (1 - w)[None, :] + rows[:, i0 + 1] * w[None, :]
image += np.random.default_rng(2022).normal(0, 10, image.shape)
ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
ds.Rows = ds.Columns = 512
ds.PixelData = np.clip(np.rint(image), -32768, 32767).astype('<i2').tobytes()
native = os.path.join(OUT, 'native.dcm')
ds.save_as(native, write_like_original=False)

for name, command in (('jpeg_lossless_sv1', ['dcmcjpeg', '+e1']), ('jpeg_ls', ['dcmcjpls', '+el']),
                      ('rle', ['dcmcrle']), ('j2k', ['gdcmconv', '--j2k'])):
    path = os.path.join(OUT, name + '.dcm')
    subprocess.run(command + [native, path], check=True)
    compressed = pydicom.dcmread(path)
    with open(os.path.join(OUT, name + '.bin'), 'wb') as f:
        f.write(next(generate_pixel_data_frame(compressed.PixelData, 1)))
    print(name, compressed.file_meta.TransferSyntaxUID, os.path.getsize(path), 'bytes')

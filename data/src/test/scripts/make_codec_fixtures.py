"""Builds the codec test fixtures in data/src/test/resources/codec from images and encoders nobody here wrote.

Sources: pydicom's bundled test images (CT_small, MR_small, SC_rgb_*), cropped or rescaled to cover the bit
depths and sample counts the codecs must handle. Encoders: dcmtk (dcmcjpeg, dcmcjpls, dcmcrle) and GDCM
(gdcmconv). Expected pixels: each compressed file decoded back to native by the same toolkit's decoder
(dcmdjpeg, dcmdjpls, gdcmconv --raw) or by pydicom's own RLE handler, never by Vertebra.

Writes, per case, NAME.bin (the first frame's codestream, fragments concatenated) and NAME.raw (expected
stored values, pixel-interleaved, little-endian, 2 bytes per sample, 4 when BitsAllocated is 32), plus
manifest.tsv with one line per case:
    name  transfer-syntax  rows  columns  samples  bits-allocated  bits-stored  signed  planar  tolerance
(tolerance: largest allowed difference per sample; -1 marks a stream Vertebra must refuse with CodecException)
Run with Debian's python3 (python3-pydicom, python3-numpy, dcmtk, libgdcm-tools):
    /usr/bin/python3 data/src/test/scripts/make_codec_fixtures.py data/src/test/resources/codec
"""
import os
import subprocess
import sys
import tempfile

import numpy as np
import pydicom
from pydicom.encaps import generate_pixel_data_frame
from pydicom.uid import ExplicitVRLittleEndian

TEST_FILES = os.path.join(os.path.dirname(pydicom.__file__), 'data', 'test_files')
OUT = sys.argv[1]
TMP = tempfile.mkdtemp()
manifest = []


def native_dataset(pixels, bits_stored, signed, photometric='MONOCHROME2'):
    """A CT_small header carrying `pixels` ([rows, cols] or [rows, cols, 3]) as native explicit-LE data."""
    ds = pydicom.dcmread(os.path.join(TEST_FILES, 'CT_small.dcm'))
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.is_little_endian, ds.is_implicit_VR = True, False
    ds.Rows, ds.Columns = pixels.shape[0], pixels.shape[1]
    ds.SamplesPerPixel = 3 if pixels.ndim == 3 else 1
    if ds.SamplesPerPixel == 3:
        ds.PlanarConfiguration = 0
    ds.PhotometricInterpretation = photometric
    ds.BitsAllocated = pixels.dtype.itemsize * 8
    ds.BitsStored, ds.HighBit, ds.PixelRepresentation = bits_stored, bits_stored - 1, int(signed)
    ds.PixelData = np.ascontiguousarray(pixels).astype(pixels.dtype.newbyteorder('<')).tobytes()
    for tag in ('SmallestImagePixelValue', 'LargestImagePixelValue', 'WindowCenter', 'WindowWidth'):
        if tag in ds:
            delattr(ds, tag)
    return ds


def write(ds, name):
    path = os.path.join(TMP, name + '.dcm')
    ds.save_as(path, write_like_original=False)
    return path


def stored_values(path):
    """Native pixel data of a decompressed file as unsigned stored bit patterns, pixel-interleaved."""
    ds = pydicom.dcmread(path)
    dtype = {8: '<u1', 16: '<u2', 32: '<u4'}[ds.BitsAllocated]
    values = np.frombuffer(ds.PixelData, dtype=dtype)[:ds.Rows * ds.Columns * ds.SamplesPerPixel]
    if ds.SamplesPerPixel > 1 and ds.get('PlanarConfiguration', 0) == 1:
        values = values.reshape(ds.SamplesPerPixel, -1).T.reshape(-1)
    return values


def add_case(name, compressed_path, expected, tolerance=0):
    ds = pydicom.dcmread(compressed_path)
    frames = int(ds.get('NumberOfFrames', 1))
    frame = next(generate_pixel_data_frame(ds.PixelData, frames))
    with open(os.path.join(OUT, name + '.bin'), 'wb') as f:
        f.write(frame)
    width = '<u4' if ds.BitsAllocated == 32 else '<u2'
    with open(os.path.join(OUT, name + '.raw'), 'wb') as f:
        if tolerance >= 0:  # a stream to refuse needs no expected pixels
            f.write(np.asarray(expected).astype(width).tobytes())
    manifest.append([name, str(ds.file_meta.TransferSyntaxUID), ds.Rows, ds.Columns, ds.SamplesPerPixel,
                     ds.BitsAllocated, ds.BitsStored, ds.PixelRepresentation,
                     ds.get('PlanarConfiguration', 0), tolerance])


def run(*cmd):
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)


def encode_decode(src, name, encoder, decoder, lossless=True, tolerance=0):
    """Encodes with one external tool, decodes with its partner, records the codestream and the decoded pixels."""
    enc, dec = os.path.join(TMP, name + '.enc.dcm'), os.path.join(TMP, name + '.dec.dcm')
    run(*encoder, src, enc)
    run(*decoder, enc, dec)
    decoded = stored_values(dec)
    if lossless:
        assert np.array_equal(decoded, stored_values(src)), name + ': the toolkit round trip is not lossless'
    add_case(name, enc, decoded, tolerance)


ct = pydicom.dcmread(os.path.join(TEST_FILES, 'CT_small.dcm')).pixel_array  # int16 [128, 128]
mr = pydicom.dcmread(os.path.join(TEST_FILES, 'MR_small.dcm')).pixel_array  # int16 [64, 64]
rgb8 = pydicom.dcmread(os.path.join(TEST_FILES, 'SC_rgb_rle.dcm')).pixel_array[30:62, 30:62]  # uint8 [32, 32, 3]
rgb16 = pydicom.dcmread(os.path.join(TEST_FILES, 'SC_rgb_rle_16bit.dcm')).pixel_array[30:62, 30:62]

ct64 = write(native_dataset(ct[32:96, 32:96].astype(np.int16), 16, True), 'ct64')
ct128 = write(native_dataset(ct.astype(np.int16), 16, True), 'ct128')
ct12 = write(native_dataset(np.clip(ct[32:96, 32:96].astype(np.int32) + 1024, 0, 4095).astype(np.uint16), 12, False), 'ct12')
mr8 = write(native_dataset((mr.astype(np.int32) * 255 // max(1, int(mr.max()))).astype(np.uint8), 8, False), 'mr8')
rgb8_path = write(native_dataset(rgb8.astype(np.uint8), 8, False, 'RGB'), 'rgb8')
rgb16_path = write(native_dataset(rgb16.astype(np.uint16), 16, False, 'RGB'), 'rgb16')
ct_odd = write(native_dataset(ct[10:47, 20:71].astype(np.int16), 16, True), 'ctodd')  # 37 x 51

# JPEG lossless, process 14 (dcmtk)
DJPEG = ['dcmdjpeg']
encode_decode(ct128, 'jpll_sv1_ct128', ['dcmcjpeg', '+e1'], DJPEG)
for sv in range(1, 8):
    encode_decode(ct64, f'jpll_sv{sv}_ct64', ['dcmcjpeg', '+el', '+sv', str(sv)], DJPEG)
encode_decode(ct_odd, 'jpll_sv6_ctodd', ['dcmcjpeg', '+el', '+sv', '6'], DJPEG)
encode_decode(ct64, 'jpll_sv1_pt3_ct64', ['dcmcjpeg', '+el', '+sv', '1', '+pt', '3'], DJPEG, lossless=False)
encode_decode(ct12, 'jpll_sv1_ct12', ['dcmcjpeg', '+e1'], DJPEG)
encode_decode(mr8, 'jpll_sv1_mr8', ['dcmcjpeg', '+e1'], DJPEG)
encode_decode(mr8, 'jpll_sv4_std_mr8', ['dcmcjpeg', '+el', '+sv', '4', '-ho'], DJPEG)
encode_decode(rgb8_path, 'jpll_sv1_rgb8', ['dcmcjpeg', '+e1'], DJPEG)
encode_decode(rgb16_path, 'jpll_sv5_rgb16', ['dcmcjpeg', '+el', '+sv', '5'], DJPEG)

# JPEG-LS (dcmtk and GDCM)
DJPLS = ['dcmdjpls']
encode_decode(ct64, 'jls_ct64', ['dcmcjpls', '+el'], DJPLS)
encode_decode(ct12, 'jls_ct12', ['dcmcjpls', '+el'], DJPLS)
encode_decode(mr8, 'jls_mr8', ['dcmcjpls', '+el'], DJPLS)
encode_decode(ct_odd, 'jls_ctodd', ['dcmcjpls', '+el'], DJPLS)
encode_decode(ct12, 'jls_near3_ct12', ['dcmcjpls', '+en', '+md', '3'], DJPLS, lossless=False)
encode_decode(mr8, 'jls_near2_mr8', ['dcmcjpls', '+en', '+md', '2'], DJPLS, lossless=False)
for mode in ('il', 'is', 'in'):
    encode_decode(rgb8_path, f'jls_{mode}_rgb8', ['dcmcjpls', '+el', '+' + mode], DJPLS)
encode_decode(rgb16_path, 'jls_il_rgb16', ['dcmcjpls', '+el', '+il'], DJPLS)
encode_decode(ct64, 'jls_gdcm_ct64', ['gdcmconv', '--jpegls'], ['gdcmconv', '--raw'])
mr_jls = os.path.join(TEST_FILES, 'MR_small_jpeg_ls_lossless.dcm')
add_case('jls_pydicom_mr', mr_jls, stored_values(os.path.join(TEST_FILES, 'MR_small.dcm')))

# RLE lossless (dcmtk, GDCM, and pydicom's own files decoded by pydicom's RLE handler)
encode_decode(ct64, 'rle_ct64', ['dcmcrle'], ['dcmdrle'])
encode_decode(ct64, 'rle_gdcm_ct64', ['gdcmconv', '--rle'], ['gdcmconv', '--raw'])
encode_decode(mr8, 'rle_mr8', ['dcmcrle'], ['dcmdrle'])
encode_decode(rgb16_path, 'rle_rgb16', ['dcmcrle'], ['dcmdrle'])
for source, name in (('SC_rgb_rle.dcm', 'rle_pydicom_rgb8'), ('SC_rgb_rle_32bit.dcm', 'rle_pydicom_rgb32'),
                     ('rtdose_rle_1frame.dcm', 'rle_pydicom_dose32'), ('MR_small_RLE.dcm', 'rle_pydicom_mr')):
    path = os.path.join(TEST_FILES, source)
    pixels = pydicom.dcmread(path).pixel_array
    add_case(name, path, pixels.view(pixels.dtype.str.replace('i', 'u')).reshape(-1))

# JPEG 2000 (GDCM / OpenJPEG)
encode_decode(ct64, 'j2k_gdcm_ct64', ['gdcmconv', '--j2k'], ['gdcmconv', '--raw'])
encode_decode(ct12, 'j2k_gdcm_ct12', ['gdcmconv', '--j2k'], ['gdcmconv', '--raw'])
mr_j2k = os.path.join(TEST_FILES, 'MR_small_jp2klossless.dcm')
add_case('j2k_pydicom_mr', mr_j2k, stored_values(os.path.join(TEST_FILES, 'MR_small.dcm')))

# JPEG baseline and extended (8/12-bit DCT, lossy): IDCT rounding may differ by one between implementations, hence
# tolerance 1. dcmdjpeg +cn keeps colour data in YCbCr, the stored values a JPEG frame holds.
encode_decode(mr8, 'jpeg_baseline_mr8', ['dcmcjpeg', '+eb'], DJPEG, lossless=False, tolerance=1)
ybr = os.path.join(TEST_FILES, 'SC_rgb_jpeg_dcmtk.dcm')
ybr_native = os.path.join(TMP, 'ybr_native.dcm')
run('dcmdjpeg', '+cn', ybr, ybr_native)
add_case('jpeg_baseline_ybr', ybr, stored_values(ybr_native), tolerance=1)
DJPEG_YBR = ['dcmdjpeg', '+cn']
encode_decode(rgb8_path, 'jpeg_baseline_ybr422', ['dcmcjpeg', '+eb', '+cy', '+s2'], DJPEG_YBR, lossless=False, tolerance=1)
# dcmtk's "4:1:1" (+n1) is 2x2 luminance sampling, i.e. 4:2:0
encode_decode(rgb8_path, 'jpeg_baseline_ybr420', ['dcmcjpeg', '+eb', '+cy', '+n1'], DJPEG_YBR, lossless=False, tolerance=1)
encode_decode(mr8, 'jpeg_extended8_mr8', ['dcmcjpeg', '+ee', '+q', '75'], DJPEG, lossless=False, tolerance=1)
ct12_128 = write(native_dataset(np.clip(ct.astype(np.int32) + 1024, 0, 4095).astype(np.uint16), 12, False), 'ct12_128')
encode_decode(ct12, 'jpeg_extended12_ct64', ['dcmcjpeg', '+ee'], DJPEG, lossless=False, tolerance=1)
encode_decode(ct12_128, 'jpeg_extended12_ct128', ['dcmcjpeg', '+ee', '+q', '60'], DJPEG, lossless=False, tolerance=1)
encode_decode(ct12, 'jpeg_extended12_q95_ct64', ['dcmcjpeg', '+ee', '+q', '95'], DJPEG, lossless=False, tolerance=1)
# progressive DCT (process 10/12) is refused
progressive = os.path.join(TMP, 'progressive.dcm')
run('dcmcjpeg', '+ep', ct12, progressive)
add_case('jpeg_progressive12_unsupported', progressive, None, tolerance=-1)

with open(os.path.join(OUT, 'manifest.tsv'), 'w') as f:
    f.write('# name\ttransfer-syntax\trows\tcolumns\tsamples\tbits-allocated\tbits-stored\tsigned\tplanar\ttolerance\n')
    for row in manifest:
        f.write('\t'.join(str(v) for v in row) + '\n')
print(len(manifest), 'cases written to', OUT)

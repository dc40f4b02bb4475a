"""Golden data for the DICOM reader tests, written by pydicom (with GDCM for compressed pixel data).

Run with Debian's python3-pydicom, python3-gdcm and python3-numpy from the repository root:

    python3 data/src/test/python/gen_dicom_golden.py

Copies the small test files that Debian's python3-pydicom ships (pydicom/data/test_files) into
data/src/test/resources/dev/vertebra/data/dicom/files/ and writes, for each, into .../golden/:

  <name>.tsv             '#key<TAB>value' header lines, then one line per top-level element:
                         tag, VR, kind (text|num|seq|bytes), values (URL-quoted, comma-separated; item count
                         for seq; byte length for bytes)
  <name>.stored.npy.gz   pixel_array after BitsStored masking and sign extension (PS3.5 §8.1.1, done here with
                         numpy, since pydicom 2.3 leaves native values unmasked)
  <name>.lut.npy.gz      apply_modality_lut(stored, ds), for native files with a Modality LUT
  <name>.dcmdump.txt     dcmtk's `dcmdump -Un -M` listing, for the files in DCMDUMP
"""
import gzip
import io
import pathlib
import shutil
import subprocess
import urllib.parse

import hashlib

import numpy as np
import pydicom
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.encaps import encapsulate, generate_pixel_data_frame, get_frame_offsets
from pydicom.filebase import DicomBytesIO
from pydicom.pixel_data_handlers.rle_handler import rle_encode_frame
from pydicom.pixel_data_handlers.util import apply_modality_lut
from pydicom.sequence import Sequence
from pydicom.uid import ExplicitVRBigEndian, ExplicitVRLittleEndian, ImplicitVRLittleEndian, RLELossless

SOURCE = pathlib.Path(pydicom.__file__).parent / "data" / "test_files"
ROOT = pathlib.Path("data/src/test/resources/dev/vertebra/data/dicom")
MAX_SIZE = 40_000
# a duplicate (JPGExtended = JPEG-lossy) and lossy noise whose golden array would outweigh the rest
EXCLUDE = {"JPGExtended.dcm", "693_J2KI.dcm"}
DCMDUMP = ["CT_small.dcm", "rtplan.dcm", "MR_small_bigendian.dcm", "nested_priv_SQ.dcm"]
NATIVE = {"1.2.840.10008.1.2", "1.2.840.10008.1.2.1", "1.2.840.10008.1.2.1.99", "1.2.840.10008.1.2.2"}
LOSSY = {"1.2.840.10008.1.2.4.50", "1.2.840.10008.1.2.4.51", "1.2.840.10008.1.2.4.81",
         "1.2.840.10008.1.2.4.91"}
TEXT_VRS = {"AE", "AS", "CS", "DA", "DT", "LO", "LT", "PN", "SH", "ST", "TM", "UC", "UI", "UR", "UT"}
NUM_VRS = {"DS", "IS", "US", "SS", "UL", "SL", "FL", "FD", "SV", "UV", "AT"}


def quote(values):
    return ",".join(urllib.parse.quote(str(v), safe="") for v in values)


def values_of(elem):
    v = elem.value
    if v is None or v == "":
        return []
    if isinstance(v, (list, tuple, pydicom.multival.MultiValue)):
        return list(v)
    return [v]


def element_line(elem):
    vr = elem.VR if type(elem.VR) is str else elem.VR.value  # pydicom 2.3 may hold an enum
    tag = f"{int(elem.tag):08X}"
    if vr == "SQ":
        return f"{tag}\t{vr}\tseq\t{len(elem.value)}"
    if vr in TEXT_VRS:
        return f"{tag}\t{vr}\ttext\t{quote(values_of(elem))}"
    if vr in NUM_VRS:
        return f"{tag}\t{vr}\tnum\t{quote(repr(float(x)) for x in values_of(elem))}"
    return f"{tag}\t{vr}\tbytes\t{len(elem.value) if elem.value is not None else 0}"


def mask(arr, ds):
    bits = int(ds.BitsStored)
    allocated = int(ds.BitsAllocated)
    if bits >= allocated or arr.dtype.kind == "f":
        return arr
    wide = arr.astype(np.int64) & ((1 << bits) - 1)
    if int(ds.PixelRepresentation) == 1:
        wide = np.where(wide >= (1 << (bits - 1)), wide - (1 << bits), wide)
    return wide.astype(arr.dtype)


def write_npy_gz(path, arr):
    buf = io.BytesIO()
    np.save(buf, np.ascontiguousarray(arr.astype(arr.dtype.newbyteorder("<"))))
    with open(path, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0, filename="") as gz:
        gz.write(buf.getvalue())


def golden(src, golden_dir, known_frame_hashes=None):
    ds = pydicom.dcmread(src, force=True)
    ts = str(ds.file_meta.get("TransferSyntaxUID", "")) if hasattr(ds, "file_meta") else ""
    ts = ts or ("1.2.840.10008.1.2.1" if not ds.is_implicit_VR else "1.2.840.10008.1.2")
    if not ds.is_little_endian:
        ts = "1.2.840.10008.1.2.2" if ts in ("1.2.840.10008.1.2.1", "") else ts
    header = {"transfer_syntax": ts, "lossy": "1" if ts in LOSSY else "0"}
    lines = []
    for elem in ds:
        lines.append(element_line(elem))
    if "PixelData" in ds:
        try:
            arr = ds.pixel_array.copy()
            again = pydicom.dcmread(src, force=True).pixel_array
            if not np.array_equal(arr, again):
                raise ValueError("the decoder gives different pixels on each run")  # no usable oracle
            stored = mask(arr, ds)
            header["pixels"] = "ok"
            header["shape"] = ",".join(str(d) for d in stored.shape)
            header["dtype"] = stored.dtype.str
            header["masking_changed_values"] = "1" if not np.array_equal(stored, arr) else "0"
            write_npy_gz(golden_dir / f"{src.stem}.stored.npy.gz", stored)
            # the Modality LUT does not depend on the codec: native files suffice to check it
            if ts in NATIVE and ("ModalityLUTSequence" in ds or ("RescaleSlope" in ds and "RescaleIntercept" in ds)):
                write_npy_gz(golden_dir / f"{src.stem}.lut.npy.gz", apply_modality_lut(stored, ds))
        except Exception as e:  # pydicom cannot decode: record why, the test only checks parsing then
            header["pixels"] = "error: " + type(e).__name__
        if ts not in NATIVE:
            header["frame_sha256"] = known_frame_hashes or frame_hashes(ds)
    text = "".join(f"#{k}\t{v}\n" for k, v in header.items()) + "".join(l + "\n" for l in lines)
    (golden_dir / f"{src.stem}.tsv").write_text(text)
    return header


def frame_hashes(ds):
    """SHA-256 of each frame's concatenated fragments, as pydicom splits them."""
    frames = int(ds.get("NumberOfFrames", 1) or 1)
    try:
        return ",".join(hashlib.sha256(f).hexdigest() for f in generate_pixel_data_frame(ds.PixelData, frames))
    except Exception as e:
        return "error: " + type(e).__name__


def image(ts, rows, cols, frames=1, spp=1, bits=16, stored=None, signed=0, photometric="MONOCHROME2"):
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.7"
    ds.file_meta.MediaStorageSOPInstanceUID = "1.2.3.4.5.6"
    ds.file_meta.TransferSyntaxUID = ts
    ds.is_little_endian = ts != ExplicitVRBigEndian
    ds.is_implicit_VR = ts == ImplicitVRLittleEndian
    ds.SOPClassUID = "1.2.840.10008.5.1.4.1.1.7"
    ds.SOPInstanceUID = "1.2.3.4.5.6"
    ds.Modality = "OT"
    ds.SamplesPerPixel = spp
    ds.PhotometricInterpretation = photometric
    if spp > 1:
        ds.PlanarConfiguration = 0
    if frames > 1:
        ds.NumberOfFrames = frames
    ds.Rows, ds.Columns = rows, cols
    ds.BitsAllocated = bits
    ds.BitsStored = stored or bits
    ds.HighBit = (stored or bits) - 1
    ds.PixelRepresentation = signed
    return ds


def save(ds, path, encapsulated=False):
    ds["PixelData"].VR = "OB" if encapsulated or ds.BitsAllocated <= 8 else "OW"
    if encapsulated:
        ds["PixelData"].is_undefined_length = True
    ds.save_as(path, write_like_original=False)


def synthetic(files_dir):
    """Small files written by pydicom for cases the shipped test files lack."""
    rng = np.random.default_rng(20240611)
    made = []
    hashes = {}

    ds = image(ExplicitVRLittleEndian, 5, 7, frames=2, stored=12, signed=1)
    values = rng.integers(-2048, 2048, size=(2, 5, 7)).astype(np.int16)
    garbage = rng.integers(0, 16, size=values.shape).astype(np.uint16) << 12
    ds.PixelData = (values.view(np.uint16) & 0x0FFF | garbage).astype("<u2").tobytes()
    ds.RescaleSlope, ds.RescaleIntercept = "0.5", "-1024"
    save(ds, files_dir / "synthetic_12bit_signed_garbage.dcm")
    made.append("synthetic_12bit_signed_garbage.dcm")

    ds = image(ImplicitVRLittleEndian, 6, 8, stored=10)
    ds.PixelData = rng.integers(0, 1024, size=(6, 8)).astype("<u2").tobytes()
    lut = Dataset()
    lut.LUTDescriptor = [256, 100, 16]
    lut.add_new(0x00283006, "OW", rng.integers(0, 65536, size=256).astype("<u2").tobytes())
    lut.ModalityLUTType = "HU"
    ds.ModalityLUTSequence = Sequence([lut])
    save(ds, files_dir / "synthetic_modality_lut_sequence.dcm")
    made.append("synthetic_modality_lut_sequence.dcm")

    ds = image(ExplicitVRLittleEndian, 5, 3, frames=3, bits=1)
    bits = rng.integers(0, 2, size=45).astype(np.uint8)
    packed = np.packbits(bits, bitorder="little").tobytes()
    ds.PixelData = packed + b"\0" * (len(packed) % 2)
    save(ds, files_dir / "synthetic_1bit_3frame.dcm")
    made.append("synthetic_1bit_3frame.dcm")

    ds = image(ExplicitVRBigEndian, 3, 4, frames=2, spp=3, photometric="RGB")
    ds.PlanarConfiguration = 1
    ds.PixelData = rng.integers(0, 65536, size=(2, 3, 3, 4)).astype(">u2").tobytes()
    save(ds, files_dir / "synthetic_rgb_planar_bigendian.dcm")
    made.append("synthetic_rgb_planar_bigendian.dcm")

    ds = image(ExplicitVRLittleEndian, 4, 4, bits=32)
    ds.PixelData = rng.integers(0, 2**32, size=(4, 4), dtype=np.uint64).astype("<u4").tobytes()
    save(ds, files_dir / "synthetic_32bit_unsigned.dcm")
    made.append("synthetic_32bit_unsigned.dcm")

    frames = [rle_encode_frame(rng.integers(0, 4, size=(6, 5)).astype(np.uint8)) for _ in range(3)]
    for name, per_frame, bot in (("bot", 1, True), ("multifragment_bot", 2, True), ("no_bot", 1, False),
                                 ("eot", 2, False)):
        ds = image(RLELossless, 6, 5, frames=3, bits=8)
        ds.PixelData = encapsulate(frames, fragments_per_frame=per_frame, has_bot=bot)
        if name == "eot":
            with_bot = encapsulate(frames, fragments_per_frame=per_frame, has_bot=True)
            fp = DicomBytesIO(with_bot)
            fp.is_little_endian = True
            offsets = get_frame_offsets(fp)
            ds.ExtendedOffsetTable = np.asarray(offsets[1], dtype="<u8").tobytes()
            split = list(generate_pixel_data_frame(with_bot, 3))
            lengths = [len(f) for f in split]
            # the same fragments with a BOT: pydicom's split of that version is the oracle for the EOT file
            hashes[name] = ",".join(hashlib.sha256(f).hexdigest() for f in split)
            ds.ExtendedOffsetTableLengths = np.asarray(lengths, dtype="<u8").tobytes()
        save(ds, files_dir / f"synthetic_rle_{name}.dcm", encapsulated=True)
        made.append(f"synthetic_rle_{name}.dcm")
    return made, hashes


def main():
    files_dir = ROOT / "files"
    golden_dir = ROOT / "golden"
    for d in (files_dir, golden_dir):
        if d.exists():
            shutil.rmtree(d)
        d.mkdir(parents=True)
    for src in sorted(SOURCE.glob("*.dcm")):
        if src.stat().st_size > MAX_SIZE or src.name in EXCLUDE:
            continue
        try:
            header = golden(src, golden_dir)
        except Exception as e:
            print(f"skip {src.name}: pydicom cannot read it ({type(e).__name__}: {e})")
            continue
        shutil.copyfile(src, files_dir / src.name)
        print(src.name, header.get("pixels", "-"), header["transfer_syntax"], header.get("shape", ""))
    for name in DCMDUMP:
        listing = subprocess.run(["dcmdump", "-Un", "-M", str(files_dir / name)], check=True,
                                 capture_output=True, text=True, encoding="latin-1").stdout
        (golden_dir / name.replace(".dcm", ".dcmdump.txt")).write_text(listing, encoding="latin-1")
    made, hashes = synthetic(files_dir)
    for name in made:
        header = golden(files_dir / name, golden_dir, hashes.get(name[len("synthetic_rle_"):-4]))
        print(name, header.get("pixels", "-"), header["transfer_syntax"], header.get("shape", ""),
              header.get("frame_sha256", ""))


if __name__ == "__main__":
    main()

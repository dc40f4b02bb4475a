"""Writes the DICOM data dictionary resource of dev.vertebra.data.dicom from the PS3.6 data that pydicom ships.

Run with Debian's python3-pydicom from the repository root:

    python3 data/src/test/python/gen_dicom_dictionary.py

Output: data/src/main/resources/dev/vertebra/data/dicom/dictionary.tsv.gz, one element per line:
tag (8 hex digits; 'x' marks a digit of a repeating group), VR, VM, keyword, name, 'R' when retired.
"""
import gzip
import pathlib

from pydicom._dicom_dict import DicomDictionary, RepeatersDictionary

OUT = pathlib.Path("data/src/main/resources/dev/vertebra/data/dicom/dictionary.tsv.gz")


def rows():
    for tag, (vr, vm, name, retired, keyword) in sorted(DicomDictionary.items()):
        yield f"{tag:08X}", vr, vm, keyword, name, retired
    for mask, (vr, vm, name, retired, keyword) in sorted(RepeatersDictionary.items()):
        yield mask.upper().replace("X", "x"), vr, vm, keyword, name, retired


def main():
    lines = []
    for tag, vr, vm, keyword, name, retired in rows():
        fields = [tag, vr, vm, keyword, name, "R" if retired else ""]
        assert all("\t" not in f and "\n" not in f for f in fields), fields
        lines.append("\t".join(fields))
    # mtime=0 keeps the committed file byte-identical across runs
    with open(OUT, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0, filename="") as gz:
        gz.write(("\n".join(lines) + "\n").encode("utf-8"))
    print(f"{len(lines)} entries -> {OUT}")


if __name__ == "__main__":
    main()

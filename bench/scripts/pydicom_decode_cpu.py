"""pydicom (+GDCM) decode rate in slices per second of this process's CPU time, for a shared, loaded machine.

Same work per slice as shared/reference/pydicom_decode.py (dcmread, pixel_array, rescale to float32), but the
clock is time.process_time(), so other tenants' load inflates the figure less than wall time does. Pair it with
dev.vertebra.bench.DecodeCpuTime, which measures Vertebra's codecs the same way.
    /usr/bin/python3 bench/scripts/pydicom_decode_cpu.py /tmp/vertebra-decode-bench/*.dcm
"""
import sys
import time
import warnings

import numpy as np
import pydicom

warnings.simplefilter('ignore')
for path in sys.argv[1:]:
    n, t0 = 0, time.process_time()
    while time.process_time() - t0 < 2.0:
        d = pydicom.dcmread(path)
        a = d.pixel_array.astype(np.float32) * float(d.RescaleSlope) + float(d.RescaleIntercept)
        n += 1
    dt = time.process_time() - t0
    print(f"{path.split('/')[-1]}: {n / dt:.1f} slices/s of CPU time (pydicom {pydicom.__version__}, "
          f"TS {d.file_meta.TransferSyntaxUID.name})")

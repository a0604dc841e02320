"""Test values of each V2 datatype, shaped [2, 3], chosen to catch a lossy path: 64-bit integers beyond 2^53
(binary only: JSON numbers cannot carry them), halves and floats with full mantissas, non-ASCII text."""
import numpy as np

NUMPY = {
    "BOOL": np.bool_, "UINT8": np.uint8, "UINT16": np.uint16, "UINT32": np.uint32, "UINT64": np.uint64,
    "INT8": np.int8, "INT16": np.int16, "INT32": np.int32, "INT64": np.int64,
    "FP16": np.float16, "FP32": np.float32, "FP64": np.float64, "BYTES": np.object_,
}

def values_for(datatype, json_safe=False):
    if datatype == "BOOL":
        return np.array([[True, False, True], [False, False, True]])
    if datatype == "BYTES":
        return np.array([[b"caf\xc3\xa9", b"", b"edge"], [b"\xe2\x9c\x93 ok", b"a b", b"z"]], dtype=np.object_)
    dtype = NUMPY[datatype]
    if np.issubdtype(dtype, np.integer):
        info = np.iinfo(dtype)
        big = info.max if info.bits < 64 or not json_safe else 2**53 - 1
        small = info.min if info.bits < 64 or not json_safe else -(2**53 - 1) if info.min < 0 else 0
        return np.array([[small, 0, 1], [big, 7, big - 3]], dtype=dtype)
    info = np.finfo(dtype)
    return np.array([[1 / 3, -0.0, info.max], [info.tiny, -2.5, 1e-3]], dtype=dtype)

def as_strings(array, datatype):
    flat = array.flatten().tolist()
    if datatype == "BYTES":
        return [v.decode("utf-8") if isinstance(v, bytes) else str(v) for v in flat]
    if datatype in ("FP16", "FP32", "FP64"):
        return [float(v).hex() for v in flat]
    return [str(v) for v in flat]

"""LSTM.save and LSTM.load: the safetensors format, hostile and damaged files, failing saves.

The files here are built by hand from the format's specification (an 8-byte little-endian header
length, a JSON header of dtypes, shapes and byte ranges, the raw little-endian data), not by the
module's writer, so that a reader and a writer wrong in the same way cannot agree. Loading a
hostile file must raise a ValueError that says what is wrong, allocating no more than a few MB
(tracemalloc) whatever its header claims. The interop with the safetensors package itself is in
tests/test_frameworks.py.
"""

import io
import json
import os
import re
import stat
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
import tracemalloc

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import lstm_reference as lr

FOREIGN = r"is not an LSTM model file \(safetensors\)"
FEW_MB = 4 << 20  # bytes: what loading a hostile file may allocate at most (the model: ~1 KB)
CODES = {np.dtype(np.float16): "F16", np.dtype(np.float32): "F32", np.dtype(np.float64): "F64"}


def random_model(output_size=2, dtype=np.float64, input_size=3, hidden_size=4):
    model = lr.LSTM(input_size, hidden_size, output_size=output_size, rng=0, dtype=dtype)
    rng = np.random.default_rng(1)  # every parameter distinct, so a swap or a zero shows
    model.set_params({k: rng.standard_normal(v.shape).astype(dtype)
                      for k, v in model.get_params().items()})
    return model


def file_bytes(header, data=b"", pad=True):
    """A safetensors file: the header (a dict, or raw bytes) and the data, as the spec says."""
    text = header if isinstance(header, bytes) else json.dumps(header).encode()
    if pad:
        text += b" " * (-len(text) % 8)
    return len(text).to_bytes(8, "little") + text + data


def spec_file(params, order=sorted, metadata=None, **tamper):
    """The bytes of a file holding ``params`` (name -> array), tensors in ``order`` of their
    names (safetensors itself sorts them), header entries changed by ``tamper[name]``."""
    header, data = {}, b""
    for name in order(params):
        array = np.asarray(params[name])
        raw = array.astype(array.dtype.newbyteorder("<")).tobytes()
        header[name] = {"dtype": CODES.get(array.dtype.newbyteorder("="), str(array.dtype)),
                        "shape": list(array.shape),
                        "data_offsets": [len(data), len(data) + len(raw)]}
        data += raw
    for name, change in tamper.items():
        header[name] = {**header[name], **change}
    if metadata is not None:
        header["__metadata__"] = metadata
    return file_bytes(header, data)


def write(path, content):
    path.write_bytes(content)
    return path


def load_peak(path, message=""):
    """LSTM.load(path)'s ValueError (matching ``message``), and the peak memory traced."""
    tracemalloc.start()
    try:
        with pytest.raises(ValueError, match=FOREIGN + ".*" + message) as error:
            lr.LSTM.load(path)
        return error.value, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def files_in(folder):
    return sorted(p.name for p in folder.iterdir())


# --- The format: what save writes is the specification's, and the specification's loads ------


@pytest.mark.parametrize("output_size, dtype", [(2, np.float64), (None, np.float64),
                                                (3, np.float32), (2, np.float16)])
def test_save_load_round_trip_is_bit_for_bit(tmp_path, output_size, dtype):
    model = random_model(output_size=output_size, dtype=dtype)
    X = np.random.default_rng(23).standard_normal((2, 6, 3)).astype(dtype)
    path = tmp_path / "model.safetensors"
    model.save(path)
    loaded = lr.LSTM.load(path)
    assert ((loaded.input_size, loaded.hidden_size, loaded.output_size, loaded.dtype)
            == (3, 4, output_size, dtype))
    assert list(loaded.params) == list(model.get_params())
    for k, v in model.get_params().items():
        assert loaded.params[k].dtype == dtype and np.array_equal(loaded.params[k], v)
    assert np.array_equal(loaded.forward(X), model.forward(X))


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
def test_save_writes_the_safetensors_layout(tmp_path, dtype):
    """Read back by hand, by the specification: length, JSON, back-to-back little-endian data."""
    model = random_model(dtype=dtype)
    model.save(tmp_path / "m.safetensors")
    raw = (tmp_path / "m.safetensors").read_bytes()
    length = int.from_bytes(raw[:8], "little")
    assert length % 8 == 0  # padded with spaces, as safetensors aligns its data
    header = json.loads(raw[8:8 + length])
    assert header.pop("__metadata__") == {"format": "lstm_reference.LSTM"}
    assert list(header) == list(model.get_params())
    data, end = raw[8 + length:], 0
    for name, value in model.get_params().items():
        entry = header[name]
        assert entry["dtype"] == CODES[np.dtype(dtype)] and entry["shape"] == list(value.shape)
        begin, stop = entry["data_offsets"]
        assert begin == end
        stored = np.frombuffer(data[begin:stop], dtype=np.dtype(dtype).newbyteorder("<"))
        assert np.array_equal(stored.reshape(value.shape), value)
        end = stop
    assert end == len(data)


@pytest.mark.parametrize("output_size", [2, None])
def test_a_file_written_to_the_specification_without_metadata_loads(tmp_path, output_size):
    """As safetensors.numpy.save_file writes it: names sorted, no __metadata__."""
    model = random_model(output_size=output_size)
    path = write(tmp_path / "plain.safetensors", spec_file(model.get_params()))
    loaded = lr.LSTM.load(path)
    assert (loaded.input_size, loaded.hidden_size, loaded.output_size) == (3, 4, output_size)
    assert list(loaded.params) == list(model.get_params())  # get_params' order, not the file's
    for k, v in model.get_params().items():
        assert np.array_equal(loaded.params[k], v)


def split(raw):
    """A file's header (a dict) and its data."""
    length = int.from_bytes(raw[:8], "little")
    return json.loads(raw[8:8 + length]), raw[8 + length:]


def test_load_reads_an_unpadded_header_and_any_metadata(tmp_path):
    params = good()
    header, data = split(spec_file(params))
    header["__metadata__"] = {"by": "someone", "note": ""}
    path = write(tmp_path / "m", file_bytes(header, data, pad=False))
    assert len(json.dumps(header)) % 8  # really unpadded
    assert np.array_equal(lr.LSTM.load(path).params["W_hg"], params["W_hg"])


def test_load_reads_from_and_save_writes_to_a_file_object():
    model = random_model()
    buffer = io.BytesIO(b"prefix")
    buffer.seek(6)
    model.save(buffer)  # in place, from where it stands
    buffer.seek(6)
    loaded = lr.LSTM.load(buffer)
    assert np.array_equal(loaded.params["b_y"], model.params["b_y"])
    assert buffer.getvalue().startswith(b"prefix")


@pytest.mark.parametrize("as_path", [str, os.fsencode, lambda p: p])
def test_save_uses_the_path_as_given(tmp_path, as_path):
    model = random_model()
    model.save(as_path(tmp_path / "model"))
    model.save(as_path(tmp_path / "other.bin"))
    assert files_in(tmp_path) == ["model", "other.bin"]  # no suffix added
    assert np.array_equal(lr.LSTM.load(as_path(tmp_path / "model")).params["W_xi"],
                          model.params["W_xi"])


def test_load_does_not_run_the_random_initialization(monkeypatch, tmp_path):
    """It would cost four d x d QR decompositions of the file's hidden size."""
    model = random_model(hidden_size=50)
    model.save(tmp_path / "m")
    sizes = []
    real = lr.orthogonal

    def counting(shape, *args, **kwargs):
        sizes.append(shape)
        return real(shape, *args, **kwargs)

    monkeypatch.setattr(lr, "orthogonal", counting)
    loaded = lr.LSTM.load(tmp_path / "m")
    assert loaded.hidden_size == 50 and all(shape == (1, 1) for shape in sizes)


def test_load_allocates_the_model_and_a_constant(tmp_path):
    model = random_model(input_size=100, hidden_size=300, output_size=None)  # ~1.5 MB
    model.save(tmp_path / "m")
    nbytes = sum(v.nbytes for v in model.params.values())
    tracemalloc.start()
    try:
        lr.LSTM.load(tmp_path / "m")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < nbytes + (256 << 10), (peak, nbytes)


# --- Hostile and damaged files: a ValueError, before any data is read or allocated -----------


def good():
    return random_model().get_params()


HEADERS = [
    # the length and the header itself
    (b"", "it holds 0 bytes"),
    (b"\x05\x00\x00", "it holds 3 bytes"),
    ((2**63).to_bytes(8, "little") + b"{}", "header length is 9223372036854775808 bytes"),
    ((100).to_bytes(8, "little") + b"{}", "header length is 100 bytes.*holds 2 after"),
    (file_bytes(b"\xff\xfe{}"), "not UTF-8"),
    (file_bytes(b"W_xi = 1"), "not JSON"),
    (file_bytes(b"[]"), "must be a JSON object; got a list"),
    (file_bytes(b"[" * 30000 + b"]" * 30000), "nests too deep"),
    (file_bytes(b'{"W_xi": ' + b"9" * 5000 + b"}"), "an integer of 5000 digits"),
    (file_bytes(b'{"W_xi": 1.5}'), "a fraction '1.5'"),
    (file_bytes(b'{"W_xi": NaN}'), "the constant 'NaN'"),
    (file_bytes(b'{"W_xi": {}, "W_xi": {}}'), "a key twice"),
    (file_bytes(b'{"__metadata__": {"format": 1}}'), "__metadata__ must be a JSON object of"),
    (file_bytes({}), "must hold the tensors"),
]


@pytest.mark.parametrize("content, message", HEADERS, ids=range(len(HEADERS)))
def test_load_refuses_a_bad_length_or_header(tmp_path, content, message):
    error, peak = load_peak(write(tmp_path / "m", content), message)
    assert peak < FEW_MB


def drop(name):
    return lambda params: {k: v for k, v in params.items() if k != name}


TENSORS = [
    (lambda p: {**p, "extra": np.zeros(3)}, {}, "a tensor 'extra'; a model's are W_xi"),
    (drop("W_ho"), {}, r"missing: \['W_ho'\]"),
    (drop("b_y"), {}, r"missing: \['b_y'\]"),
    (drop("W_y"), {}, r"unexpected: \['b_y'\]"),
    (drop("W_xi"), {}, "must hold the tensors"),
    (lambda p: {**p, "W_xi": p["W_xi"].astype(np.float32)}, {},
     r"one dtype of F16, F32, F64; got \['F32', 'F64'\]"),
    (lambda p: {k: v.astype(np.int64) for k, v in p.items()}, {}, r"got \['int64'\]"),
    (lambda p: p, {"b_i": {"dtype": "BF16"}}, r"got \['BF16', 'F64'\]"),
    (lambda p: p, {"b_i": {"dtype": ["F64"]}}, r"got \['F64', \"\['F64'\]\"\]"),
    (lambda p: p, {"b_i": {"extra": 1}}, "entry 'b_i' must have exactly the keys"),
    (lambda p: p, {"b_i": {"shape": [-4]}}, "'b_i' must have a shape of sizes >= 0"),
    (lambda p: p, {"b_i": {"shape": [True]}}, "'b_i' must have a shape of sizes >= 0"),
    (lambda p: p, {"b_i": {"data_offsets": [0]}},
     r"data_offsets \[begin, end\]; got \[4\] and \[0\]"),
    (lambda p: {**p, "W_hg": p["W_hg"][:, :3]}, {}, r"'W_hg' must have shape \(hidden_size, "
     r"hidden_size\) = \(4, 4\) for the sizes \(3, 4, 2\); got \(4, 3\)"),
    (lambda p: {**p, "W_xi": p["W_xi"][:, :3]}, {}, r"'W_h.' must have shape .* = \(3, 3\)"),
    (lambda p: {**p, "W_xi": p["W_xi"][0]}, {},
     r"'W_xi' must have shape \(input_size, hidden_size\); got \(4,\)"),
    (lambda p: {**p, "W_y": p["W_y"][..., None]}, {},
     r"'W_y' must have shape \(hidden_size, output_size\); got \(4, 2, 1\)"),
    (lambda p: {**p, "W_xi": p["W_xi"][:0]}, {}, r"must be positive; got \(0, 4, 2\)"),
    (lambda p: {**p, "W_y": p["W_y"][:, :0], "b_y": p["b_y"][:0]}, {}, "must be positive"),
    (lambda p: p, {"W_hf": {"data_offsets": [0, 0]}}, r"'W_hf' must take bytes \[0, 128\]"),
]


@pytest.mark.parametrize("tamper, header, message", TENSORS, ids=range(len(TENSORS)))
def test_load_refuses_a_header_that_is_not_a_models(tmp_path, tamper, header, message):
    path = write(tmp_path / "m", spec_file(tamper(good()), **header))
    load_peak(path, message)


def with_data(params, data):
    """``params``' header, with ``data`` instead of theirs."""
    return file_bytes(split(spec_file(params))[0], data)


def offsets_moved(params, name, by):
    header, data = split(spec_file(params))
    header[name]["data_offsets"] = [o + by for o in header[name]["data_offsets"]]
    return file_bytes(header, data)


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda p: with_data(p, spec_file(p)[-10:]),
         "accounts for 1104 bytes of data; the file holds 10$"),
        (lambda p: spec_file(p)[:-1], "accounts for 1104 bytes of data; the file holds 1103"),
        (lambda p: spec_file(p) + b"\0", "accounts for 1104 bytes of data; the file holds 1105"),
        (lambda p: offsets_moved(p, "W_y", 8),  # a gap
         r"'W_y' must take bytes \[896, 960\].*got \[904, 968\]"),
        (lambda p: offsets_moved(p, "W_y", -8), r"'W_y' must take bytes"),  # overlapping
        (lambda p: spec_file({**p, "b_o": np.array([1.0, np.nan, 0, 0])}),
         "'b_o' holds NaN or inf"),
        (lambda p: spec_file({**p, "W_xi": np.full((3, 4), -np.inf)}), "'W_xi' holds NaN or inf"),
    ],
)
def test_load_refuses_data_that_is_not_what_the_header_says(tmp_path, make, message):
    load_peak(write(tmp_path / "m", make(good())), message)


@pytest.mark.parametrize("sizes", [(10**6, 10**6, None), (1, 10**6, None), (3, 4, 10**12)])
def test_a_header_claiming_a_huge_model_is_refused_in_a_few_mb(tmp_path, sizes):
    """10^12 elements claimed, consistently, in a file of a few hundred bytes."""
    shapes = lr._param_shapes(*sizes)
    header, offset = {}, 0
    for name, shape in shapes.items():
        nbytes = 2 * int(np.prod(shape, dtype=object))
        header[name] = {"dtype": "F16", "shape": list(shape),
                        "data_offsets": [offset, offset + nbytes]}
        offset += nbytes
    path = write(tmp_path / "m", file_bytes(header, bytes(64)))
    start = time.perf_counter()
    error, peak = load_peak(path, f"accounts for {offset} bytes of data; the file holds 64")
    assert peak < FEW_MB
    assert time.perf_counter() - start < 5  # not a timing claim: a bound against a hang


def test_load_refuses_what_is_not_a_regular_file(tmp_path):
    with pytest.raises(ValueError, match=FOREIGN + ": it is not a regular file"):
        lr.LSTM.load(tmp_path)  # a folder
    if os.path.exists("/dev/zero"):
        start = time.perf_counter()
        with pytest.raises(ValueError, match=FOREIGN + ": it is not a regular file"):
            lr.LSTM.load("/dev/zero")
        with open("/dev/zero", "rb") as zero, pytest.raises(ValueError, match="not a regular"):
            lr.LSTM.load(zero)
        assert time.perf_counter() - start < 5


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no named pipes on this system")
def test_load_of_a_pipe_is_refused_without_waiting_for_a_writer(tmp_path):
    os.mkfifo(tmp_path / "pipe")
    child = textwrap.dedent(f"""
        import sys
        sys.path.insert(0, {os.path.dirname(os.path.abspath(lr.__file__))!r})
        import lstm_reference as lr
        try:
            lr.LSTM.load({str(tmp_path / "pipe")!r})
        except ValueError as error:
            print(error)
    """)
    result = subprocess.run([sys.executable, "-c", child], capture_output=True, text=True,
                            timeout=60)  # a load that waited for a writer would time out
    assert "it is not a regular file" in result.stdout, result.stderr


def test_load_of_an_npz_file_says_what_it_is_not(tmp_path):
    np.savez(tmp_path / "old.npz", **good())
    load_peak(tmp_path / "old.npz", "header length is")


def test_load_of_a_missing_file_is_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError):
        lr.LSTM.load(tmp_path / "missing.safetensors")


def test_load_refuses_a_path_of_the_wrong_type():
    with pytest.raises(TypeError, match="path must be a file name or a binary, seekable file"):
        lr.LSTM.load(123)


def test_load_changes_nothing_in_a_file_object_it_refuses():
    buffer = io.BytesIO(file_bytes({}))
    with pytest.raises(ValueError):
        lr.LSTM.load(buffer)
    assert not buffer.closed  # the caller's


# --- Saving: checked, atomic, private while written, with the permissions open() would give ---


def test_a_save_that_fails_half_way_leaves_the_old_file(tmp_path):
    """A full disk, simulated in a child process: files may not grow past 64 KiB there."""
    path = tmp_path / "model.safetensors"
    random_model().save(path)
    before = path.read_bytes()
    child = textwrap.dedent(f"""
        import resource, signal, sys
        sys.path.insert(0, {os.path.dirname(os.path.abspath(lr.__file__))!r})
        import lstm_reference as lr
        model = lr.LSTM(3, 100, output_size=2, rng=0)  # ~400 KB of parameters
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # write() fails with EFBIG instead
        resource.setrlimit(resource.RLIMIT_FSIZE, (1 << 16, 1 << 16))
        try:
            model.save({str(path)!r})
        except OSError as error:
            print("OSError", error.errno)
    """)
    result = subprocess.run([sys.executable, "-c", child], capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("OSError"), (result.stdout, result.stderr)
    assert path.read_bytes() == before
    assert files_in(tmp_path) == ["model.safetensors"]


def test_the_weights_are_private_until_the_file_is_complete(tmp_path, monkeypatch):
    """While the data is written the temporary file is 0o600; it is on disk (fsync) before it
    is renamed; an interruption leaves the old file and no temporary one."""
    path = tmp_path / "model.safetensors"
    random_model().save(path)
    os.chmod(path, 0o640)
    before = path.read_bytes()
    seen, fsynced = [], []
    write_model, fsync = lr._write_model, os.fsync

    def interrupted(file, header, arrays):
        write_model(file, header, arrays)
        seen.append(stat.S_IMODE(os.fstat(file.fileno()).st_mode))
        raise KeyboardInterrupt

    monkeypatch.setattr(lr, "_write_model", interrupted)
    with pytest.raises(KeyboardInterrupt):
        random_model(output_size=None).save(path)
    assert seen == [0o600]
    assert path.read_bytes() == before and files_in(tmp_path) == ["model.safetensors"]

    monkeypatch.setattr(lr, "_write_model", write_model)
    monkeypatch.setattr(os, "fsync", lambda fd: fsynced.append(os.fstat(fd).st_size) or fsync(fd))
    random_model(output_size=None).save(path)
    assert fsynced and fsynced[0] == path.stat().st_size  # the whole file, before the rename
    assert stat.S_IMODE(path.stat().st_mode) == 0o640  # the mode of the file it replaced


def usual_mode(folder):
    """The mode open(path, "wb") gives a new file here (0o666 less the umask)."""
    with open(folder / "plain", "wb"):
        pass
    mode = stat.S_IMODE((folder / "plain").stat().st_mode)
    os.remove(folder / "plain")
    return mode


def test_save_gives_new_files_the_usual_permissions_and_keeps_an_old_files(tmp_path):
    model = random_model()
    model.save(tmp_path / "model")
    assert stat.S_IMODE((tmp_path / "model").stat().st_mode) == usual_mode(tmp_path)
    for mode in (0o600, 0o444 if os.geteuid() == 0 else 0o644):  # root may write 0o444
        os.chmod(tmp_path / "model", mode)
        model.save(tmp_path / "model")
        assert stat.S_IMODE((tmp_path / "model").stat().st_mode) == mode
    assert files_in(tmp_path) == ["model"]


def test_save_refuses_a_write_protected_file_as_open_would():
    """Root may open a 0o444 file for writing, so as root the child drops to nobody first."""
    with tempfile.TemporaryDirectory() as folder:  # in /tmp, which nobody can reach
        os.chmod(folder, 0o777)
        path = os.path.join(folder, "model")
        random_model().save(path)
        os.chmod(path, 0o444)
        with open(path, "rb") as file:
            before = file.read()
        child = textwrap.dedent(f"""
            import io, os, sys
            sys.path.insert(0, {os.path.dirname(os.path.abspath(lr.__file__))!r})
            import lstm_reference as lr
            model = lr.LSTM(3, 4, rng=0)
            model.save(io.BytesIO())  # NumPy's lazy imports done while /root is readable
            if os.geteuid() == 0:
                os.setgid(65534)
                os.setuid(65534)
            try:
                open({path!r}, "wb")
            except PermissionError:
                print("open refuses", end=", ")
            try:
                model.save({path!r})
            except PermissionError:
                print("save refuses")
        """)
        result = subprocess.run([sys.executable, "-c", child], capture_output=True, text=True,
                                timeout=60)
        assert result.stdout == "open refuses, save refuses\n", result.stderr
        with open(path, "rb") as file:
            assert file.read() == before
        assert os.listdir(folder) == ["model"]


def test_save_refuses_a_target_that_is_not_a_regular_file(tmp_path):
    with pytest.raises(IsADirectoryError):  # as open(path, "wb")
        random_model().save(tmp_path)
    if hasattr(os, "mkfifo"):
        os.mkfifo(tmp_path / "pipe")
        with pytest.raises(ValueError, match="is not a regular file: LSTM.save replaces files"):
            random_model().save(tmp_path / "pipe")
        assert stat.S_ISFIFO((tmp_path / "pipe").stat().st_mode)
    assert files_in(tmp_path) == (["pipe"] if hasattr(os, "mkfifo") else [])


@pytest.mark.parametrize(
    "where, name, value, error, message",
    [
        ("params", "W_xi", np.empty((3, 4), dtype=object), TypeError,
         r"model.params\['W_xi'\] must hold real floating-point numbers; got dtype object"),
        ("params", "W_hf", np.zeros((4, 4), dtype=np.float32), TypeError,
         r"model.params\['W_hf'\] must have the model's dtype float64; got float32"),
        ("params", "b_o", "zeros", TypeError,
         r"model.params\['b_o'\] must hold real floating-point"),
        ("params", "W_y", np.zeros((4, 3)), ValueError,
         r"model.params\['W_y'\] must have shape \(hidden_size, output_size\) = \(4, 2\); "
         r"got \(4, 3\)"),
        ("params", "b_y", None, TypeError, r"model.params\['b_y'\] must hold real floating-point"),
        ("params", "b_i", np.array([0, 0, 0, np.nan]), ValueError,
         r"model.params\['b_i'\] contains NaN"),
        ("model", "hidden_size", 4.0, TypeError, "model.hidden_size must be an integer"),
    ],
)
def test_save_checks_every_parameter_before_writing(tmp_path, where, name, value, error, message):
    path = tmp_path / "model.safetensors"
    model = random_model()
    model.save(path)
    before = path.read_bytes()
    if where == "params":
        model.params[name] = value
    else:
        setattr(model, name, value)
    with pytest.raises(error, match=message):
        model.save(path)
    assert path.read_bytes() == before
    assert files_in(tmp_path) == ["model.safetensors"]


@pytest.mark.skipif(np.dtype(np.longdouble).itemsize <= 8, reason="long double is float64 here")
def test_save_refuses_a_dtype_the_format_has_not(tmp_path):
    model = lr.LSTM(3, 4, rng=0, dtype=np.longdouble)
    with pytest.raises(TypeError, match="model.dtype must be float16, float32 or float64"):
        model.save(tmp_path / "model")
    assert files_in(tmp_path) == []


def test_save_through_a_symbolic_link_replaces_the_file_it_points_to(tmp_path):
    (tmp_path / "real").mkdir()
    os.symlink(tmp_path / "real" / "model", tmp_path / "link")
    model = random_model()
    model.save(tmp_path / "link")
    assert (tmp_path / "link").is_symlink()
    assert files_in(tmp_path / "real") == ["model"]
    assert np.array_equal(lr.LSTM.load(tmp_path / "link").params["W_xi"], model.params["W_xi"])


def test_saves_and_loads_in_threads_do_not_collide(tmp_path):
    models = [random_model(hidden_size=k) for k in range(1, 9)]
    errors = []

    def work(k):
        try:
            for _ in range(5):
                models[k].save(tmp_path / "shared")
                assert lr.LSTM.load(tmp_path / "shared").hidden_size in range(1, 9)
        except Exception as error:  # reported below
            errors.append(error)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == [] and files_in(tmp_path) == ["shared"]


# --- Fuzzed: any change to a good file loads or is a ValueError, nothing else ------------------


GOOD = io.BytesIO()
random_model().save(GOOD)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.integers(0, len(GOOD.getvalue()) - 1), st.integers(0, 255)),
                min_size=1, max_size=4),
       st.integers(0, len(GOOD.getvalue())))
def test_a_changed_or_cut_file_loads_or_is_a_value_error(changes, cut):
    data = bytearray(GOOD.getvalue())
    for at, byte in changes:
        data[at] = byte
    try:
        model = lr.LSTM.load(io.BytesIO(bytes(data[:cut])))
    except ValueError as error:
        assert re.search(FOREIGN, str(error))
    else:  # only the numbers, the metadata or the header's spaces changed
        assert all(np.isfinite(v).all() for v in model.params.values())


# --- Found by an adversarial review of the reader and writer --------------------------------------


@pytest.mark.parametrize("tail", ["new.st/", "new.st/.", "missing/../new.st", "afile/../new.st"])
def test_save_refuses_the_paths_open_refuses(tmp_path, tail):
    (tmp_path / "afile").write_bytes(b"")
    path = str(tmp_path) + "/" + tail
    with pytest.raises(OSError) as opened:
        open(path, "wb")
    with pytest.raises(type(opened.value)):
        random_model().save(path)
    assert files_in(tmp_path) == ["afile"]


def test_save_takes_a_file_name_as_long_as_open_does(tmp_path):
    path = tmp_path / ("n" * 240)
    random_model().save(path)
    assert lr.LSTM.load(path).params["W_xi"].shape == (3, 4)


class Trickle(io.RawIOBase):
    """A raw file that takes at most 7 bytes a call, as a pipe or a socket may."""

    def __init__(self):
        self.data = bytearray()

    def writable(self):
        return True

    def write(self, b):
        taken = bytes(memoryview(b).cast("B")[:7])
        self.data += taken
        return len(taken)


def test_save_to_a_file_that_takes_few_bytes_at_a_time_writes_them_all():
    model, trickle, whole = random_model(), Trickle(), io.BytesIO()
    model.save(trickle)
    model.save(whole)
    assert bytes(trickle.data) == whole.getvalue()


def test_save_to_a_file_that_takes_nothing_is_an_error():
    class Full(Trickle):
        def write(self, b):
            return None  # a non-blocking file that would block

    with pytest.raises(OSError, match="left unwritten"):
        random_model().save(Full())


def test_a_header_with_a_key_twice_is_refused_naming_it():
    body = ",".join([f'"{i:x}":0' for i in range(5000)] + ['"0":0'])
    text = ("{" + body + "}").encode()
    with pytest.raises(ValueError, match="a key twice: '0'"):
        lr.LSTM.load(io.BytesIO(len(text).to_bytes(8, "little") + text))


@pytest.mark.skipif(not os.path.exists("/proc/self/status"), reason="no /proc on this system")
def test_a_file_whose_size_cannot_be_found_is_refused():
    with pytest.raises(ValueError, match="not an LSTM model file"):
        lr.LSTM.load("/proc/self/status")


def test_load_needs_only_readinto_seek_and_tell():
    buffer = io.BytesIO()
    model = random_model()
    model.save(buffer)

    class Minimal:
        def __init__(self, data):
            self.inner = io.BytesIO(data)

        def readinto(self, b):
            return self.inner.readinto(b)

        def seek(self, *args):
            return self.inner.seek(*args)

        def tell(self):
            return self.inner.tell()

    loaded = lr.LSTM.load(Minimal(buffer.getvalue()))
    assert np.array_equal(loaded.params["W_hf"], model.params["W_hf"])


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no named pipes here")
def test_save_over_a_pipe_does_not_open_it(tmp_path):
    pipe = tmp_path / "pipe"
    os.mkfifo(pipe)
    with pytest.raises(ValueError, match="not a regular file"):
        random_model().save(pipe)  # opening it for writing would block or wake a reader
    assert files_in(tmp_path) == ["pipe"]

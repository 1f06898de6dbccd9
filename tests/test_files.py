"""LSTM.save and LSTM.load against hostile, damaged and foreign files, and failing saves.

Every hostile file here is a few hundred KB at most; loading one must raise a ValueError that says
what is wrong, without allocating more than a few MB (tracemalloc) and without reading a member a
model file does not have.
"""

import io
import os
import re
import stat
import struct
import subprocess
import sys
import textwrap
import tracemalloc
import warnings
import zipfile

import numpy as np
import pytest

import lstm_reference as lr

FOREIGN = "is not an LSTM file written by LSTM.save"
FEW_MB = 4 << 20  # bytes: what loading a hostile file may allocate at most (the model: ~1 KB)


def random_model(output_size=2, dtype=np.float64):
    model = lr.LSTM(3, 4, output_size=output_size, rng=0, dtype=dtype)
    params = model.get_params()
    rng = np.random.default_rng(1)  # every parameter distinct, so a swap or a zero shows
    model.set_params({k: rng.standard_normal(v.shape).astype(dtype) for k, v in params.items()})
    return model


def npy(array):
    """The bytes np.save writes for ``array``."""
    buffer = io.BytesIO()
    np.save(buffer, array)
    return buffer.getvalue()


def npy_header(shape, descr="<f8", version=(1, 0)):
    """An .npy header that declares ``shape``, with no data after it."""
    buffer = io.BytesIO()
    write = {(1, 0): np.lib.format.write_array_header_1_0,
             (2, 0): np.lib.format.write_array_header_2_0}[version]
    write(buffer, {"descr": descr, "fortran_order": False, "shape": shape})
    return buffer.getvalue()


def model_members(model=None, **replace):
    """The (name, bytes) members of a saved model file, with some replaced (None: removed)."""
    arrays = {"format": np.array("lstm_reference.LSTM/1"), "sizes": np.array([3, 4, 2]),
              **(model or random_model()).get_params()}
    members = {f"{k}.npy": npy(v) for k, v in arrays.items()}
    members.update({f"{k}.npy": v for k, v in replace.items()})
    return [(k, v) for k, v in members.items() if v is not None]


def write_zip(path, members, method=zipfile.ZIP_STORED):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zipfile warns about a duplicate name: we want one
        with zipfile.ZipFile(path, "w", method) as archive:
            for name, data in members:
                archive.writestr(name, data)
    return path


def patch_directory(path, member, offset, fmt, value):
    """Overwrite a field of ``member``'s central directory entry (what zipfile reads)."""
    data = bytearray(path.read_bytes())
    at = data.find(b"PK\x01\x02")
    while data[at + 46:at + 46 + struct.unpack_from("<H", data, at + 28)[0]] != member.encode():
        at += 46 + sum(struct.unpack_from("<3H", data, at + 28))
    struct.pack_into(fmt, data, at + offset, value)
    path.write_bytes(bytes(data))
    return path


def load_peak(path):
    """LSTM.load(path)'s exception, and the peak memory traced while it ran."""
    tracemalloc.start()
    try:
        with pytest.raises(ValueError, match=FOREIGN) as error:
            lr.LSTM.load(path)
        return error.value, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


# --- Memory: a few-MB file never makes load allocate more than a few MB -----------------------


@pytest.mark.parametrize("name", ["zeros", "zeros.npy"])
def test_load_never_reads_an_unknown_member(tmp_path, name):
    """A zip bomb: 64 MiB of zeros deflated to ~300 KB, beside a good model."""
    path = write_zip(tmp_path / "bomb.npz", model_members())
    with zipfile.ZipFile(path, "a", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        with archive.open(name, "w") as member:
            for _ in range(64):
                member.write(bytes(1 << 20))
    assert path.stat().st_size < 1 << 20
    error, peak = load_peak(path)
    assert "'zeros" in str(error)
    assert peak < FEW_MB


@pytest.mark.parametrize(
    "replace, message",
    [
        # a header declaring an array of 8 PB
        ({"W_xi": npy_header((10**15,)) + bytes(64)}, r"entry 'W_xi' must have shape \(3, 4\)"),
        # a header that matches the (tampered) sizes, with 64 bytes of its 32 MiB of data
        ({"sizes": npy(np.array([2**20, 4, 2])), "W_xi": npy_header((2**20, 4)) + bytes(64)},
         r"entry 'W_xi' holds 64 bytes of data; its header, float64 \(1048576, 4\), needs"),
        # an .npy header that declares 2 GiB of header
        ({"W_xi": b"\x93NUMPY\x02\x00" + struct.pack("<I", 2**31) + b" " * 64},
         "entry 'W_xi': an .npy header of 2147483648 bytes"),
    ],
)
def test_load_checks_each_header_before_reading_data(tmp_path, replace, message):
    error, peak = load_peak(write_zip(tmp_path / "hostile.npz", model_members(**replace)))
    assert re.search(message, str(error)), str(error)
    assert peak < FEW_MB


def test_load_refuses_a_long_deflated_header_without_reading_it(tmp_path):
    """8 MiB of header (spaces) deflate to a few KB."""
    header = b"\x93NUMPY\x02\x00" + struct.pack("<I", 8 << 20) + b" " * (8 << 20)
    path = write_zip(tmp_path / "header.npz", model_members(W_xi=header), zipfile.ZIP_DEFLATED)
    error, peak = load_peak(path)
    assert "entry 'W_xi': an .npy header of 8388608 bytes" in str(error)
    assert peak < FEW_MB


@pytest.mark.parametrize("method", [zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED])
def test_load_checks_the_data_is_there_before_keeping_it(tmp_path, method):
    """The zip directory declares 32 MiB for W_xi, as its header needs; 64 bytes are there."""
    header = npy_header((2**20, 4))
    path = write_zip(tmp_path / "short.npz",
                     model_members(sizes=npy(np.array([2**20, 4, 2])), W_xi=header + bytes(64)),
                     method)
    path = patch_directory(path, "W_xi.npy", 24, "<I", len(header) + 8 * 4 * 2**20)
    if method == zipfile.ZIP_STORED:  # a stored member's compressed size is its size
        path = patch_directory(path, "W_xi.npy", 20, "<I", len(header) + 8 * 4 * 2**20)
    error, peak = load_peak(path)
    assert "entry 'W_xi'" in str(error) or "W_xi.npy" in str(error)
    assert peak < FEW_MB


def test_load_refuses_a_zip_directory_larger_than_a_model_files(tmp_path):
    """20000 empty members: zipfile alone would build ~10 MB of objects for them."""
    path = write_zip(tmp_path / "many.npz", model_members() + [(f"{k}", b"") for k in range(20000)])
    error, peak = load_peak(path)
    assert "zip directory takes" in str(error)
    assert peak < FEW_MB


# --- Every foreign or damaged file is a ValueError that says what is wrong ----------------------


def deflated_with_garbage(path):
    """A good model, deflated, with W_xi's compressed data overwritten: not a deflate stream."""
    write_zip(path, model_members(), zipfile.ZIP_DEFLATED)
    with zipfile.ZipFile(path) as archive:
        info = archive.getinfo("W_xi.npy")
    data = bytearray(path.read_bytes())
    start = info.header_offset + 30 + sum(struct.unpack_from("<2H", data, info.header_offset + 26))
    data[start:start + info.compress_size] = b"\xff" * info.compress_size
    path.write_bytes(bytes(data))
    return path


def with_bad_crc(path):
    """A good model whose W_xi data has one byte changed: the CRC-32 no longer matches."""
    write_zip(path, model_members())
    data = bytearray(path.read_bytes())
    at = data.rfind(npy(random_model().get_params()["W_xi"])[-8:])
    data[at] ^= 0xFF
    path.write_bytes(bytes(data))
    return path


@pytest.mark.parametrize(
    "write, message",
    [
        # AttributeError before: np.load gives a raw member as bytes
        (lambda p: write_zip(p, [("format", b"lstm_reference.LSTM/1")] + model_members()[1:]),
         "member 'format' is not an .npy array"),
        # zlib.error before
        (deflated_with_garbage, r"a damaged zip archive \(error: Error -3 while decompressing"),
        # NotImplementedError before
        (lambda p: patch_directory(write_zip(p, model_members()), "W_xi.npy", 10, "<H", 99),
         "member 'W_xi.npy' has compression method 99; a model file's are stored"),
        # loaded before: bzip2 and lzma are refused too (a bzip2 bomb expands further)
        (lambda p: write_zip(p, model_members(), zipfile.ZIP_BZIP2),
         "member 'format.npy' has compression method 12"),
        # RuntimeError before
        (lambda p: patch_directory(write_zip(p, model_members()), "W_xi.npy", 8, "<H", 1),
         "member 'W_xi.npy' is encrypted"),
        # loaded the last one before
        (lambda p: write_zip(p, model_members() + [("W_xi.npy", npy(np.zeros((3, 4))))]),
         "member 'W_xi.npy' appears twice"),
        (with_bad_crc, r"a damaged zip archive \(BadZipFile: Bad CRC-32 for file 'W_xi.npy'"),
        (lambda p: write_zip(p, model_members(W_xi=npy(np.ones((3, 4)))[:-8])),
         r"entry 'W_xi' holds 88 bytes of data; its header, float64 \(3, 4\), needs 96"),
        (lambda p: write_zip(p, model_members(W_xi=npy(np.ones((3, 4))) + b"x")),
         "entry 'W_xi' holds 97 bytes of data"),
        (lambda p: write_zip(p, model_members(W_xi=b"\x93NUMPY\x01")), "entry 'W_xi': EOF"),
        (lambda p: write_zip(p, model_members(W_xi=npy(np.ones((3, 4), dtype=np.complex128)))),
         "entry 'W_xi' dtype must be a floating-point type; got complex128"),
        (lambda p: write_zip(p, model_members(W_xi=b"\x93NUMPY\x03\x00" + bytes(8))),
         r"entry 'W_xi': .npy format version \(3, 0\)"),
        (lambda p: write_zip(p, model_members(W_xi=npy_header((3, 4), descr="<U4") + bytes(192))),
         "entry 'W_xi' dtype must be a floating-point type; got <U4"),
        (lambda p: write_zip(p, model_members(sizes=npy(np.array([0, 4, 2])))),
         r"'sizes' must be 3 integers .*the first two positive; got \[0, 4, 2\]"),
        (lambda p: write_zip(p, model_members(sizes=npy(np.array([[3, 4, 2]])))),
         r"'sizes' must be 3 integers .*got an array of dtype int64, shape \(1, 3\)"),
        (lambda p: write_zip(p, model_members(format=npy(np.array("lstm_reference.LSTM/2")))),
         "'format' must be 'lstm_reference.LSTM/1'; got 'lstm_reference.LSTM/2'"),
        (lambda p: write_zip(p, model_members(format=npy(np.array(["lstm_reference.LSTM/1"])))),
         r"'format' must be .*shape \(1,\)"),
        (lambda p: write_zip(p, model_members(W_y=None, b_y=None)),
         r"entry 'W_y' must have shape \(4, 2\) for sizes \[3, 4, 2\]; got no such entry"),
        (lambda p: p.write_bytes(write_zip(p, model_members()).read_bytes()[:-30]),
         "not a zip archive"),
        (lambda p: p.write_bytes(write_zip(p, model_members()).read_bytes()[:2000]),
         "not a zip archive"),
        (lambda p: p.write_bytes(write_zip(p, model_members()).read_bytes()[-2000:]),
         r"a damaged zip archive \(OSError: "),
    ],
)
def test_load_turns_every_damaged_or_foreign_file_into_a_value_error(tmp_path, write, message):
    path = tmp_path / "damaged.npz"
    write(path)
    with pytest.raises(ValueError, match=message) as error:
        lr.LSTM.load(path)
    assert str(error.value).startswith(f"{path} {FOREIGN}: ")


def test_load_reads_a_model_from_a_file_object(tmp_path):
    model = random_model()
    buffer = io.BytesIO()
    model.save(buffer)
    loaded = lr.LSTM.load(io.BytesIO(buffer.getvalue()))
    assert np.array_equal(loaded.params["W_xi"], model.params["W_xi"])


@pytest.mark.parametrize("output_size", [2, None])
def test_load_reads_savez_compressed_files(tmp_path, output_size):
    model = random_model(output_size=output_size)
    path = tmp_path / "compressed.npz"
    np.savez_compressed(path, format=np.array("lstm_reference.LSTM/1"),
                        sizes=np.array([3, 4, output_size or 0]), **model.get_params())
    loaded = lr.LSTM.load(path)
    for name, value in model.get_params().items():
        assert np.array_equal(loaded.get_params()[name], value)


@pytest.mark.parametrize("byte_orders", [">", "<>"])
def test_load_of_a_big_endian_file_gives_a_model_of_the_native_dtype(tmp_path, byte_orders):
    """All big-endian, or mixed: the numbers are float64 either way."""
    model = random_model()
    params = {name: value.astype(value.dtype.newbyteorder(byte_orders[k % len(byte_orders)]))
              for k, (name, value) in enumerate(model.get_params().items())}
    path = tmp_path / "big_endian.npz"
    np.savez(path, format=np.array("lstm_reference.LSTM/1"), sizes=np.array([3, 4, 2], ">i8"),
             **params)
    loaded = lr.LSTM.load(path)
    assert loaded.dtype == np.float64 and loaded.dtype.isnative
    for name, value in model.get_params().items():
        assert loaded.get_params()[name].dtype.isnative
        assert np.array_equal(loaded.get_params()[name], value)
    loaded.set_params(model.get_params())  # native arrays, as for any float64 model
    X = np.random.default_rng(2).standard_normal((2, 5, 3))
    assert np.array_equal(loaded.forward(X), model.forward(X))


def test_load_reads_fortran_ordered_entries(tmp_path):
    model = random_model()
    arrays = {"format": np.array("lstm_reference.LSTM/1"), "sizes": np.array([3, 4, 2]),
              **{k: np.asfortranarray(v) for k, v in model.get_params().items()}}
    path = tmp_path / "fortran.npz"
    np.savez(path, **arrays)
    with zipfile.ZipFile(path) as archive, archive.open("W_xi.npy") as member:
        np.lib.format.read_magic(member)
        assert np.lib.format.read_array_header_1_0(member)[1]  # really Fortran order
    assert np.array_equal(lr.LSTM.load(path).params["W_xi"], model.params["W_xi"])


# --- Saving: atomic, and only a model whose every parameter is right -----------------------------


def files_in(folder):
    return sorted(p.name for p in folder.iterdir())


def test_a_save_that_fails_half_way_leaves_the_old_file(tmp_path):
    """A full disk, simulated in a child process: files may not grow past 64 KiB there."""
    path = tmp_path / "model.npz"
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
    assert files_in(tmp_path) == ["model.npz"]


def test_a_save_interrupted_while_writing_leaves_the_old_file(tmp_path, monkeypatch):
    path = tmp_path / "model.npz"
    random_model().save(path)
    before = path.read_bytes()
    savez = np.savez

    def interrupted(file, **arrays):
        savez(file, **arrays)
        raise KeyboardInterrupt

    monkeypatch.setattr(np, "savez", interrupted)
    with pytest.raises(KeyboardInterrupt):
        random_model(output_size=None).save(path)
    assert path.read_bytes() == before
    assert files_in(tmp_path) == ["model.npz"]


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
        ("model", "hidden_size", 4.0, TypeError, "model.hidden_size must be an integer"),
    ],
)
def test_save_checks_every_parameter_before_writing(tmp_path, where, name, value, error, message):
    path = tmp_path / "model.npz"
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
    assert files_in(tmp_path) == ["model.npz"]


@pytest.mark.parametrize("as_path", [str, os.fsencode, lambda p: p])
def test_save_appends_npz_to_a_path_that_lacks_it(tmp_path, as_path):
    model = random_model()
    model.save(as_path(tmp_path / "model"))
    model.save(as_path(tmp_path / "other.npz"))
    assert files_in(tmp_path) == ["model.npz", "other.npz"]
    assert np.array_equal(lr.LSTM.load(tmp_path / "model.npz").params["W_xi"], model.params["W_xi"])


def test_save_to_a_file_object_writes_it_in_place(tmp_path):
    model = random_model()
    with open(tmp_path / "model", "wb") as file:
        model.save(file)
    assert files_in(tmp_path) == ["model"]
    assert np.array_equal(lr.LSTM.load(tmp_path / "model").params["W_xi"], model.params["W_xi"])


def test_save_gives_new_files_the_usual_permissions_and_keeps_an_old_files(tmp_path):
    model = random_model()
    with open(tmp_path / "plain", "wb"):  # what np.savez would create: 0o666 less the umask
        pass
    model.save(tmp_path / "model.npz")
    usual = stat.S_IMODE((tmp_path / "plain").stat().st_mode)
    assert stat.S_IMODE((tmp_path / "model.npz").stat().st_mode) == usual
    os.chmod(tmp_path / "model.npz", 0o600)
    model.save(tmp_path / "model.npz")
    assert stat.S_IMODE((tmp_path / "model.npz").stat().st_mode) == 0o600


def test_save_through_a_symbolic_link_replaces_the_file_it_points_to(tmp_path):
    (tmp_path / "real").mkdir()
    os.symlink(tmp_path / "real" / "model.npz", tmp_path / "link.npz")
    model = random_model()
    model.save(tmp_path / "link.npz")
    assert (tmp_path / "link.npz").is_symlink()
    assert files_in(tmp_path / "real") == ["model.npz"]
    assert np.array_equal(lr.LSTM.load(tmp_path / "link.npz").params["W_xi"], model.params["W_xi"])

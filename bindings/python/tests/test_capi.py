"""The loader, the prototype table, the error mapping and the struct mirrors."""
import ctypes
import os
import re
import shutil
import subprocess
from ctypes import byref

import pytest

import persona
from persona import _capi, _structs

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
MAP_FILE = os.path.join(REPO, "lib", "libpersona.map")
INCLUDE = os.path.join(REPO, "include")


def exported_in_map():
    text = open(MAP_FILE, encoding="utf-8").read()
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    return set(re.findall(r"\b(persona_\w+)\s*;", text))


def test_prototype_table_covers_exactly_the_map():
    assert set(_capi.PROTOTYPES) == exported_in_map()
    assert len(_capi.PROTOTYPES) == 281  # every function of libpersona 1.0 (with cohorts, funnels, segments, RFM, k-means, hclust, features, itemsets, affinity, paths, attribution, metrics)


def test_every_prototype_is_declared_on_the_loaded_library():
    for name, (restype, argtypes) in _capi.PROTOTYPES.items():
        func = getattr(_capi.lib, name)
        assert func.argtypes == argtypes, name
        if restype is _capi.STATUS:
            assert func.restype is ctypes.c_int and func.errcheck is _capi._check_status
        else:
            assert func.restype is restype, name


def test_wrong_handle_type_raises_argument_error(store):
    source = persona.Source.records([{"user": "a", "time": 1}])
    info = _capi.new_struct(_structs.persona_store_info)
    with pytest.raises(ctypes.ArgumentError):
        _capi.lib.persona_store_info_get(byref(info), source._handle)
    with pytest.raises(ctypes.ArgumentError):
        _capi.lib.persona_store_info_get(byref(info), store._handle.value)  # a bare int
    with pytest.raises(ctypes.ArgumentError):
        _capi.lib.persona_source_rewind(store._handle)
    source.close()


def test_null_handle_is_a_library_error():
    info = _capi.new_struct(_structs.persona_store_info)
    with pytest.raises(persona.InvalidArgumentError) as err:
        _capi.lib.persona_store_info_get(byref(info), None)
    assert err.value.code == -1
    assert err.value.message == "store is NULL"
    assert err.value.function == "persona_store_info_get"


def test_version():
    number = persona.version_number()
    assert number // 1_000_000 == 1
    major, minor, patch = number // 1_000_000, number // 1000 % 1000, number % 1000
    assert persona.version() == f"{major}.{minor}.{patch}"
    assert re.fullmatch(r"(\w+=\w+ ?)+", persona.build_features())


class FakeLibrary:
    def __init__(self, number):
        self.persona_version_number = lambda: number


@pytest.mark.parametrize("number", [2_000_000, 0, 999_999])
def test_version_check_refuses_other_majors(number):
    with pytest.raises(OSError, match=r"^/x/libpersona.so.1: libpersona \d+\.\d+ found"):
        _capi._check_version(FakeLibrary(number), "/x/libpersona.so.1")


def test_version_check_accepts_later_minors():
    _capi._check_version(FakeLibrary(1_007_003), "/x")


def test_env_library_is_the_only_candidate(monkeypatch):
    monkeypatch.setenv("PERSONA_LIBRARY", "/nowhere/libpersona.so.1")
    assert _capi.candidate_paths() == ["/nowhere/libpersona.so.1"]
    with pytest.raises(OSError) as err:
        _capi.load_library()
    assert str(err.value) == ("cannot load libpersona.so.1; set PERSONA_LIBRARY to its path. "
                              "Tried: /nowhere/libpersona.so.1 (no such file)")


def test_search_order_package_then_build_tree(monkeypatch, tmp_path):
    package = tmp_path / "bindings" / "python" / "persona"
    package.mkdir(parents=True)
    for build in ("build-asan", "build", "buildz"):
        (tmp_path / build / "lib").mkdir(parents=True)
        (tmp_path / build / "lib" / "libpersona.so.1").write_bytes(b"")
    (tmp_path / "other" / "lib").mkdir(parents=True)
    monkeypatch.delenv("PERSONA_LIBRARY", raising=False)
    monkeypatch.setattr(_capi, "_package_dir", lambda: str(package))
    monkeypatch.setattr(_capi.ctypes.util, "find_library", lambda name: None)
    assert _capi.candidate_paths() == [
        str(package / "libpersona.so.1"),
        str(tmp_path / "build" / "lib" / "libpersona.so.1"),
        str(tmp_path / "build-asan" / "lib" / "libpersona.so.1"),
        str(tmp_path / "buildz" / "lib" / "libpersona.so.1"),
    ]
    with pytest.raises(OSError) as err:
        _capi.load_library()
    message = str(err.value)
    assert f"{package / 'libpersona.so.1'} (no such file)" in message
    for build in ("build", "build-asan", "buildz"):  # empty files: dlopen fails on each
        assert str(tmp_path / build / "lib" / "libpersona.so.1") + " (" in message


@pytest.mark.parametrize("code, cls, builtin", [
    (-1, persona.InvalidArgumentError, ValueError),
    (-2, persona.OutOfMemoryError, MemoryError),
    (-4, persona.NotFoundError, LookupError),
    (-4, persona.NotFoundError, KeyError),
    (-5, persona.ParseError, ValueError),
    (-6, persona.PersonaIOError, OSError),
    (-9, persona.UnsupportedError, NotImplementedError),
])
def test_error_classes(code, cls, builtin):
    assert _capi.ERROR_CLASSES[code] is cls
    assert issubclass(cls, persona.PersonaError) and issubclass(cls, builtin)


def test_every_code_has_a_class():
    assert sorted(_capi.ERROR_CLASSES) == list(range(-13, 0))
    assert persona.strerror(-999) == "unknown error"  # documented text for unknown codes
    assert persona.strerror(-4) != "unknown error"


def test_io_error_names_the_path(tmp_path):
    path = tmp_path / "missing.csv"
    with pytest.raises(persona.PersonaIOError) as err:
        persona.Source.csv(path)
    assert isinstance(err.value, OSError)
    assert err.value.code == -6
    assert str(path) in err.value.message


def test_not_found_is_a_key_error(store):
    with pytest.raises(KeyError) as err:
        store.profile("nobody")
    assert err.value.message == "no user 'nobody'"
    assert str(err.value) == "no user 'nobody'"


def test_reject_reason_names():
    names = [persona.reject_reason_name(r) for r in range(16)]
    assert names == ["missing_user", "bad_time", "bad_number", "bad_utf8", "field_count",
                     "duplicate_id", "too_long", "missing_event", "bad_quote", "bad_json",
                     "wrong_type", "nul_byte", "suppressed", "bad_identifier", "bad_consent",
                     "unknown"]


# ---------------------------------------------------------------- struct layout

def layout_program():
    lines = ["#include <stdio.h>", "#include <stddef.h>", "#include <persona.h>",
             "int main(void) {"]
    for cls in _structs.ALL_STRUCTS:
        name = cls.__name__
        lines.append(f'  printf("{name} %zu\\n", sizeof({name}));')
        for field, _ in cls._fields_:
            lines.append(f'  printf("{name}.{field} %zu\\n", offsetof({name}, {field}));')
    lines += ["  return 0;", "}"]
    return "\n".join(lines) + "\n"


def ctypes_layout():
    layout = {}
    for cls in _structs.ALL_STRUCTS:
        layout[cls.__name__] = ctypes.sizeof(cls)
        for field, _ in cls._fields_:
            layout[f"{cls.__name__}.{field}"] = getattr(cls, field).offset
    return layout


def test_struct_layout_matches_c(tmp_path):
    cc = shutil.which("cc") or shutil.which("gcc")
    if cc is None:
        pytest.skip("no C compiler")
    source = tmp_path / "layout.c"
    source.write_text(layout_program())
    binary = tmp_path / "layout"
    plain = {**os.environ, "LD_PRELOAD": ""}  # no ASan runtime for the compiler or the probe
    subprocess.run([cc, "-std=c11", "-I", INCLUDE, str(source), "-o", str(binary)],
                   check=True, env=plain)
    output = subprocess.run([str(binary)], check=True, capture_output=True, text=True,
                            env=plain).stdout
    c_layout = {key: int(value) for key, value in (line.split() for line in output.splitlines())}
    assert c_layout == ctypes_layout()
    assert c_layout["persona_ingest_stats"] == 1328  # 8 + 4*8 + 32*8 + 32*4*8 + 8


def test_structs_initialised_by_the_library():
    for cls in _structs.ALL_STRUCTS:
        value = _capi.new_struct(cls)
        assert value.struct_size == ctypes.sizeof(cls)
    event = _capi.new_struct(_structs.persona_event)
    assert (event.user, event.time_ms, event.value, event.n_props) == (None, 0, 0.0, 0)


def test_errors_pickle():
    import pickle
    with pytest.raises(persona.ParseError) as err:
        persona.parse_time("2021-13-01")
    copy = pickle.loads(pickle.dumps(err.value))
    assert (type(copy), copy.code, copy.message, copy.line, copy.column) == (
        persona.ParseError, err.value.code, err.value.message, err.value.line, err.value.column)

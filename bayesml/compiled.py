"""Numba-compiled log density and draws for nutpie, cached on disk across processes.

nutpie calls two C functions: the log density with its gradient, and the "expand" function
that maps a point of the sampler's space to every stored variable. nutpie's own
``compile_pymc_model`` builds them as Numba ``cfunc`` wrappers that embed the model's data,
so Numba cannot cache them, and their array reshapes pull in Numba's error-message
formatting, which compiles for several seconds in every process. Here the wrappers are
generated as source, one module per model structure, reading each data container through a
table of pointers and shapes; Numba caches them beside that source. A later process with the
same model structure loads the machine code and skips PyTensor's graph compilation too (the
layout of the sampler's space is stored beside the code).

The cache lives in ``$BAYESML_CACHE_DIR`` (default ``~/.cache/bayesml/compiled``); its key is the
model fingerprint (graph, constants, data shapes, coordinates) and the versions of the
compiling libraries. ``BAYESML_CACHE_DIR=`` (empty) turns the disk cache off.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import importlib.util
import json
import os
import sys
import threading
import types
from dataclasses import dataclass
from functools import wraps
from pathlib import Path

import numpy as np
import pymc as pm
import pytensor

__all__ = ["NumbaModel", "cache_dir", "compile_numba"]


def cache_dir() -> Path | None:
    """The folder of compiled models, or None when the disk cache is off
    (``BAYESML_CACHE_DIR`` set to an empty string)."""
    value = os.environ.get("BAYESML_CACHE_DIR")
    if value is None:
        base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
        return Path(base) / "bayesml" / "compiled"
    return Path(value) if value else None


def _versions() -> str:
    import numba
    import nutpie
    import pytensor

    # the text of every module of the package: the graph's fingerprint names operations,
    # distributions and transforms but not the code of their log densities, Jacobians and
    # kernels, so a change to any of them voids older entries
    own = hashlib.sha1()
    for path in sorted(Path(__file__).parent.rglob("*.py")):
        own.update(path.relative_to(Path(__file__).parent).as_posix().encode())
        own.update(path.read_bytes())
    return "|".join(
        (own.hexdigest(), numba.__version__, pytensor.__version__, nutpie.__version__,
         pm.__version__, np.__version__, sys.version)
    )  # fmt: skip


@dataclass(frozen=True)
class _Layout:
    """What the sampler needs to know of the compiled functions besides their code: the
    sampler space's size, the stored variables' names/slices/shapes, and which data
    containers each function reads, in argument order."""

    n_dim: int
    n_expanded: int
    names: list[str]
    slices: list[tuple[int, int]]
    shapes: list[tuple[int, ...]]
    reparameterized: list[str]
    logp_data: list[str]
    expand_data: list[str]
    data_ndim: dict[str, int]
    data_dtype: dict[str, str]

    def shape_info(self) -> tuple[list[str], list[slice], list[tuple[int, ...]]]:
        return (list(self.names), [slice(a, b) for a, b in self.slices],
                [tuple(s) for s in self.shapes])  # fmt: skip


def _data_table(layout: _Layout, data: dict[str, np.ndarray]) -> np.ndarray:
    """The int64 table the wrappers read: per data container its address, then its shape."""
    entries: list[int] = []
    for name in _table_order(layout):
        value = data[name]
        entries.append(value.ctypes.data)
        entries.extend(int(n) for n in value.shape)
    return np.asarray(entries or [0], dtype=np.int64)


def _table_order(layout: _Layout) -> list[str]:
    return sorted(set(layout.logp_data) | set(layout.expand_data))


def _offsets(layout: _Layout) -> dict[str, int]:
    offsets, at = {}, 0
    for name in _table_order(layout):
        offsets[name] = at
        at += 1 + layout.data_ndim[name]
    return offsets


def _array_lines(layout: _Layout, names: list[str]) -> list[str]:
    offsets = _offsets(layout)
    lines = []
    for i, name in enumerate(names):
        at, ndim = offsets[name], layout.data_ndim[name]
        shape = "(" + "".join(f"table[{at + 1 + k}], " for k in range(ndim)) + ")"
        dtype = layout.data_dtype[name]
        lines.append(f"        d{i} = numba.carray(as_pointer(table[{at}]), {shape}, np.{dtype})")
    return lines


def _wrapper_source(layout: _Layout, key: str) -> str:
    """Python source of the two C callbacks for one model structure."""
    size = max(1, sum(1 + layout.data_ndim[n] for n in _table_order(layout)))
    logp_args = "".join(f", d{i}" for i in range(len(layout.logp_data)))
    expand_args = "".join(f", d{i}" for i in range(len(layout.expand_data)))
    n, m = layout.n_dim, layout.n_expanded
    return "\n".join([
        f'"""bayesml compiled model {key} (generated; safe to delete)."""',
        "import numba",
        "import numpy as np",
        "from bayesml.compiled import as_pointer",
        "LOGP = None",
        "EXPAND = None",
        "",
        "def logp(dim, x_, out_, logp_, table_):",
        f"    if dim != {n}:",
        "        return -1",
        "    try:",
        f"        table = numba.carray(table_, ({size},), np.int64)",
        f"        x = numba.carray(x_, ({n},))",
        f"        out = numba.carray(out_, ({n},))",
        "        value = numba.carray(logp_, ())",
        *_array_lines(layout, layout.logp_data),
        f"        logp_val, grad = LOGP(x{logp_args})",
        "        value[()] = logp_val",
        # element loops: slice assignment compiles Numba's shape-error formatting (seconds)
        "        finite = True",
        f"        for i in range({n}):",
        "            out[i] = grad[i]",
        "            finite = finite and np.isfinite(grad[i])",
        "        if not finite:",
        "            return 3",
        "        if not np.isfinite(logp_val):",
        "            return 4",
        "    except Exception:",
        "        return 1",
        "    return 0",
        "",
        "def expand(dim, expanded, x_, out_, table_):",
        f"    if dim != {n} or expanded != {m}:",
        "        return -1",
        "    try:",
        f"        table = numba.carray(table_, ({size},), np.int64)",
        f"        x = numba.carray(x_, ({n},))",
        f"        out = numba.carray(out_, ({m},))",
        *_array_lines(layout, layout.expand_data),
        f"        (values,) = EXPAND(x{expand_args})",
        f"        for i in range({m}):",
        "            out[i] = values[i]",
        "    except Exception:",
        "        return -2",
        "    return 0",
        "",
    ])  # fmt: skip


def _as_pointer_intrinsic():
    from numba.core import cgutils, types
    from numba.extending import intrinsic

    @intrinsic
    def as_pointer(typingctx, address):
        """A void pointer from an integer address."""

        def codegen(context, builder, signature, args):
            return builder.inttoptr(args[0], cgutils.voidptr_t)

        return types.voidptr(address), codegen

    return as_pointer


def __getattr__(name: str):
    # The intrinsic is made on first use so that importing bayesml does not import Numba.
    if name == "as_pointer":
        value = _as_pointer_intrinsic()
        globals()["as_pointer"] = value
        return value
    raise AttributeError(name)


try:
    from nutpie.compile_pymc import CompiledPyMCModel as _NutpieModel
except ImportError:  # pragma: no cover - nutpie is a dependency
    _NutpieModel = object  # type: ignore[misc,assignment]


@dataclass(frozen=True)
class NumbaModel(_NutpieModel):  # type: ignore[misc]
    """nutpie's compiled PyMC model, with the data read through a table of pointers
    (``user_data``) so that the compiled code holds no data and can be cached."""

    layout: _Layout | None = None

    def with_data(self, **updates):
        """The same compiled code on new values of the data containers (same ranks)."""
        shared = dict(self.shared_data)
        for name, value in updates.items():
            if name not in shared:
                raise KeyError(f"Unknown data container: {name}")
            old = shared[name]
            new = np.array(value, dtype=old.dtype, order="C", copy=True)
            if new.ndim != old.ndim:
                raise ValueError(f"Data container {name} must have rank {old.ndim}")
            new.flags.writeable = False
            shared[name] = new
        return dataclasses.replace(
            self, shared_data=shared, user_data=_data_table(self.layout, shared)
        )


def _locked(func):
    lock = threading.Lock()

    @wraps(func)
    def wrapper(*args, **kwargs):
        with lock:
            return func(*args, **kwargs)

    return wrapper


def _flat_initial_point(model: pm.Model, layout: _Layout):
    """nutpie's initial point function: brms-like jittered support points, flattened.

    PyMC's ``make_initial_point_fn``, evaluated by PyTensor's Python linker without graph
    rewrites: the same values for the same seed, built in 0.04 s instead of 0.12 s (its
    virtual machine's first use imports setuptools)."""
    from pymc.initial_point import make_initial_point_expression
    from pymc.pytensorf import compile, find_rng_nodes, replace_rng_nodes, reseed_rngs
    from pytensor.compile.mode import Mode

    expressions = make_initial_point_expression(
        free_rvs=model.free_RVs, rvs_to_transforms=model.rvs_to_transforms,
        initval_strategies=dict(model.rvs_to_initial_values),
        jitter_rvs=set(model.free_RVs), default_strategy="support_point",
        return_transformed=True,
    )  # fmt: skip
    # fresh random generators, so that seeding them leaves the model's own untouched
    point_fn = compile([], replace_rng_nodes(expressions), mode=Mode(linker="py", optimizer=None))
    rngs = find_rng_nodes(point_fn.maker.fgraph.outputs)
    # the values in the layout's order (the value variables carry the transformed names)
    names = [model.rvs_to_values[rv].name for rv in model.free_RVs]
    order = [names.index(n) for n in layout.names[: len(names)]]

    def initial_point(seed=None):
        reseed_rngs(rngs, seed)
        values = point_fn()
        flat = [np.asarray(values[i], dtype=np.float64).ravel() for i in order]
        return np.concatenate(flat) if flat else np.zeros(0)

    return _locked(initial_point)


def _layout_and_functions(model: pm.Model):
    """PyTensor's Numba functions of the log density (with gradient) and of the draws,
    with their layout (nutpie's construction)."""
    from nutpie.compile_pymc import _make_functions

    # nutpie only wraps the initial point function here; ours is made in _assemble
    n_dim, n_expanded, logp_pt, expand_pt, _, shape_info, reparameterized = _make_functions(
        model, mode="NUMBA", compute_grad=True, join_expanded=True,
        pymc_initial_point_fn=lambda seed: {},
    )  # fmt: skip
    names, slices, shapes = shape_info
    shared = [*logp_pt.get_shared(), *expand_pt.get_shared()]
    data = {v.name: v for v in shared}
    if None in data or len(data) != len(set(shared)):
        raise _Unsupported("data containers without a unique name")
    layout = _Layout(
        n_dim=int(n_dim), n_expanded=int(n_expanded), names=list(names),
        slices=[(int(s.start), int(s.stop)) for s in slices],
        shapes=[tuple(map(int, s)) for s in shapes],
        reparameterized=list(reparameterized),
        logp_data=[v.name for v in logp_pt.get_shared()],
        expand_data=[v.name for v in expand_pt.get_shared()],
        data_ndim={k: v.ndim for k, v in data.items()},
        data_dtype={k: str(np.dtype(v.dtype)) for k, v in data.items()},
    )  # fmt: skip
    return layout, logp_pt.vm.jit_fn, expand_pt.vm.jit_fn


def _load_module(path: Path, name: str):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _c_signatures():
    from numba import types

    logp = types.int64(types.uint64, types.CPointer(types.double), types.CPointer(types.double),
                       types.CPointer(types.double), types.voidptr)  # fmt: skip
    expand = types.int64(types.uint64, types.uint64, types.CPointer(types.double),
                         types.CPointer(types.double), types.voidptr)  # fmt: skip
    return logp, expand


def _cfuncs(module, cache: bool):
    import numba

    logp_sig, expand_sig = _c_signatures()
    logp = numba.cfunc(logp_sig, cache=cache)(module.logp)
    expand = numba.cfunc(expand_sig, cache=cache)(module.expand)
    return logp, expand


def _cached(folder: Path, key: str):
    """The layout and C callbacks of a model compiled by an earlier process, or None."""
    meta = folder / f"model_{key}.json"
    source = folder / f"model_{key}.py"
    if not (meta.exists() and source.exists()):
        return None
    try:
        layout = _Layout(**json.loads(meta.read_text()))
        module = _load_module(source, f"bayesml_model_{key}")
        with _generated_module_names():
            logp, expand = _cfuncs(module, cache=True)
    except Exception:  # noqa: BLE001 - a damaged cache entry is compiled afresh
        return None
    if logp.cache_hits == 0 or expand.cache_hits == 0:
        return None  # compiled just now without the Python functions: not usable
    return layout, logp, expand


@contextlib.contextmanager
def _generated_module_names():
    """Numba restores each cached function's environment by importing the module the
    function was defined in; PyTensor defines its functions from generated source under the
    name ``<dynamic>``, which no import can find. Their nopython code needs no globals, so an
    empty module stands in while the cache loads."""
    added = "<dynamic>" not in sys.modules
    if added:
        sys.modules["<dynamic>"] = types.ModuleType("<dynamic>")
    try:
        yield
    finally:
        if added:
            sys.modules.pop("<dynamic>", None)


def _write_atomic(path: Path, text: str) -> None:
    tmp = path.with_suffix(path.suffix + f".{os.getpid()}.tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


class _Unsupported(Exception):
    """A model this module cannot compile (nutpie's own compilation takes it)."""


def compile_numba(model: pm.Model, fingerprint: str):
    """Compile ``model`` for nutpie with Numba, or load the compiled code of the same
    structure (``fingerprint``, see ``sampling.model_fingerprint``) from the disk cache.

    Returns a ``NumbaModel``; for a model whose data containers have no unique names,
    nutpie's own compiled model (no disk cache)."""
    folder = cache_dir()
    key = hashlib.sha1(f"{fingerprint}|{_versions()}".encode()).hexdigest()[:24]
    found = _cached(folder, key) if folder is not None else None
    if found is not None:
        return _assemble(model, *found)
    # IEEE arithmetic (no fast-math): with fast-math, LLVM may contract and reorder floating
    # point operations differently when the code is compiled here and when it is loaded
    # from the cache, and a last-bit difference in the gradient changes every draw of a
    # seeded fit (mo(), measured). Strict code gives the same draws either way, at the same
    # speed on the seed models.
    with pytensor.config.change_flags(numba__fastmath=False):
        try:
            layout, logp_jit, expand_jit = _layout_and_functions(model)
        except _Unsupported:
            import nutpie

            return nutpie.compile_pymc_model(model, backend="numba")
        module, cache = _wrapper_module(layout, key, folder)
        module.LOGP, module.EXPAND = logp_jit, expand_jit
        with _generated_module_names():  # an earlier process's code may load here
            logp, expand = _cfuncs(module, cache=cache)
    if cache:
        try:
            _write_atomic(folder / f"model_{key}.json", json.dumps(dataclasses.asdict(layout)))
        except OSError:
            pass  # the next process compiles again
    return _assemble(model, layout, logp, expand)


def _wrapper_module(layout: _Layout, key: str, folder: Path | None):
    """The generated callbacks' module: a file in the cache folder (so that Numba can cache
    them), or in memory when the cache is off or cannot be written. Also whether to cache."""
    source = _wrapper_source(layout, key)
    if folder is not None:
        try:
            folder.mkdir(parents=True, exist_ok=True)
            path = folder / f"model_{key}.py"
            if not path.exists():  # rewriting it would change its stamp and void Numba's cache
                _write_atomic(path, source)
            return _load_module(path, f"bayesml_model_{key}"), True
        except OSError:
            pass
    return _module_from_source(source, key), False


def _module_from_source(source: str, key: str):
    module = types.ModuleType(f"bayesml_model_{key}")
    exec(compile(source, f"<bayesml model {key}>", "exec"), module.__dict__)  # noqa: S102
    return module


def _shared_values(model: pm.Model, names: list[str]) -> dict[str, np.ndarray]:
    """The values of the shared variables ``names`` that the model's graphs read: its data
    containers and dimension lengths, else (rarely) found by walking the graphs."""
    from pytensor.compile.sharedvalue import SharedVariable
    from pytensor.graph.traversal import graph_inputs

    known = {v.name: v for v in model.data_vars}
    known.update((k, v) for k, v in model.dim_lengths.items() if isinstance(v, SharedVariable))
    if all(n in known for n in names):
        return {n: known[n].get_value(borrow=True) for n in names}
    outputs = [model.logp(), *model.deterministics, *model.unobserved_value_vars]
    return {
        v.name: v.get_value(borrow=True)
        for v in graph_inputs(outputs)
        if isinstance(v, SharedVariable) and v.name is not None
    }


def _assemble(model: pm.Model, layout: _Layout, logp, expand) -> NumbaModel:
    from nutpie.compile_pymc import _prepare_dims_and_coords

    values = _shared_values(model, _table_order(layout))
    shared = {}
    for name in _table_order(layout):
        value = np.array(values[name], dtype=layout.data_dtype[name], order="C", copy=True)
        value.flags.writeable = False
        shared[name] = value
    shape_info = layout.shape_info()
    dims, coords = _prepare_dims_and_coords(model, shape_info, layout.reparameterized)
    return NumbaModel(
        _n_dim=layout.n_dim, dims=dims, _coords=coords,
        _shapes={name: tuple(shape) for name, _, shape in zip(*shape_info, strict=True)},
        compiled_logp_func=logp, compiled_expand_func=expand,
        initial_point_func=_flat_initial_point(model, layout),
        shared_data=shared, shared_var_keys={}, user_data=_data_table(layout, shared),
        n_expanded=layout.n_expanded, shape_info=shape_info, logp_func=None,
        expand_func=None, reparameterized_names=list(layout.reparameterized), layout=layout,
    )  # fmt: skip

"""Type stubs of the C++ extension. Users import `stratacache`, never this module."""

from collections.abc import Callable, Sequence
from typing import Any, final

DEFAULT_POLICY: str

def policy_names() -> list[str]: ...

@final
class FastGet:
    """get(key, default=None) bound to one store and key prefix. Thread-safe."""

    def __call__(self, key: str, default: Any = None, /) -> Any: ...

@final
class FastSet:
    """set(key, value, ttl=None) bound to one store and key prefix; weight 1. Thread-safe."""

    def __call__(self, key: str, value: Any, ttl: float | None = None, /) -> None: ...

def builtin_call(fast: FastGet | FastSet) -> Callable[..., Any]:
    """The same call as a builtin function (CPython calls those straight from the call site)."""

@final
class CachedCall:
    """A cached function's call entry: formats scalar positional arguments into the key, returns
    a hit from the bound store, hands a miss with its key to `on_miss(key, args, kwargs)`, and
    every call it builds no key for to the Python fallback (in probe mode it returns the miss
    or the unkeyed sentinel instead). Thread-safe; holds the GIL throughout."""

    @property
    def hits(self) -> int: ...
    def bind(self, getter: Callable[..., Any], /) -> None:
        """Looks keys up through `getter`, which must be a `Store.getter()` (else TypeError)."""
    def key(self, *args: Any) -> str | None:
        """The key built for this positional call, or None when it builds none."""
    def __call__(self, *args: Any, **kwargs: Any) -> Any: ...

def cached_call(
    fallback: Callable[..., Any] | None,
    miss: object,
    head: str,
    nparams: int,
    on_miss: Callable[[str, tuple[Any, ...], dict[str, Any]], Any] | None = None,
    unkeyed: object = None,
) -> CachedCall: ...

@final
class CachedMethod:
    """A cached method: a descriptor binding calls and invalidate() to the instance; through an
    instance a call is passed the instance first, with no bound object. Holds the GIL."""

    def __get__(self, instance: object, owner: type[Any] | None = None, /) -> Any: ...
    def __call__(self, *args: Any, **kwargs: Any) -> Any: ...

@final
class CachedOwnerMethod:
    """A `CachedMethod` binding the class, also through an instance (bind_owner=True)."""

    def __get__(self, instance: object, owner: type[Any] | None = None, /) -> Any: ...
    def __call__(self, *args: Any, **kwargs: Any) -> Any: ...

@final
class BoundCachedMethod:
    """A cached method bound to its instance (or class): calls and invalidate() pass it first;
    other attributes are the method's."""

    @property
    def __self__(self) -> object: ...
    @property
    def __func__(self) -> CachedMethod | CachedOwnerMethod: ...
    def invalidate(self, *args: Any, **kwargs: Any) -> Any:
        """Deletes the entry of the bound instance and these arguments."""
    def cache_info(self) -> Any:
        """The cached function's counters."""
    def cache_clear(self) -> Any:
        """Deletes every entry of the cached function."""
    def __call__(self, *args: Any, **kwargs: Any) -> Any: ...

def cached_method(
    func: Callable[..., Any], bind_owner: bool
) -> CachedMethod | CachedOwnerMethod: ...

class Store:
    """The L1 engine over Python objects.

    Thread-safe: every method may be called from any thread; each holds the GIL (but
    export_trace and recorded_miss_ratio_curve, which touch no Python object meanwhile) and
    takes one shard lock at a time, never while calling back into Python. With record > 0 the
    store also logs sampled accesses to a lock-free ring, outside its locks. Keys are str
    (their UTF-8 bytes prefixed by `prefix` form the stored key).
    """

    def __init__(
        self,
        max_entries: int = 0,
        max_bytes: int = 0,
        policy: str = ...,
        shards: int = 0,
        strict: bool = False,
        record: float = 0.0,
        record_capacity: int = 0,
        timing: float = 0.0,
    ) -> None: ...
    def get(self, prefix: str, key: str, default: Any) -> Any: ...
    def peek(self, prefix: str, key: str, default: Any) -> Any: ...
    def set(self, prefix: str, key: str, value: Any, weight: int, ttl: float | None) -> str: ...
    def delete(self, prefix: str, key: str) -> bool: ...
    def contains(self, prefix: str, key: str) -> bool: ...
    def expect(self, prefix: str, key: str) -> bool: ...
    def ttl(self, prefix: str, key: str) -> float | None: ...
    def touch(self, prefix: str, key: str, ttl: float | None) -> bool: ...
    def get_many(self, prefix: str, keys: Sequence[str], default: Any) -> list[Any]: ...
    def delete_many(self, prefix: str, keys: Sequence[str]) -> int: ...
    def clear(self, prefix: str) -> int: ...
    def expire(self) -> int: ...
    def keys(self, prefix: str) -> list[str]: ...
    def stats(self) -> dict[str, int]: ...
    def __len__(self) -> int: ...
    @property
    def policy(self) -> str: ...
    @property
    def shard_count(self) -> int: ...
    def overhead_bytes(self) -> int: ...
    def getter(self, prefix: str, on_miss: Callable[[str, Any], Any] | None = None) -> FastGet: ...
    def setter(
        self,
        prefix: str,
        default_ttl: float | None = None,
        fallback: Callable[..., None] | None = None,
    ) -> FastSet:
        """`fallback` receives calls with keywords other than ttl (e.g. tags=)."""
    def namespace_stats(self) -> list[tuple[str | None, dict[str, int]]]:
        """(prefix, counters) per namespace; prefix None for the shared overflow slot. Read
        without locks: each counter may lag the others by a few calls."""
    def latencies(
        self, bounds_ns: Sequence[int], quantiles: Sequence[float]
    ) -> list[tuple[str, str, int, int, list[int], list[int]]]:
        """(tier, op, count, sum_ns, counts below each bound, ns at each quantile) for each
        histogram holding values; empty when timing is off."""
    def record_latency(self, tier: str, op: str, ns: int) -> None:
        """Adds one latency to the (tier, op) histogram; a no-op when timing is off. Raises
        ValueError for an unknown tier or op. Wait-free."""
    @property
    def timing(self) -> float:
        """The fraction of calls timed; 0.0 when timing is off."""
    def recording(self) -> dict[str, float | int] | None:
        """sample_rate, capacity, recorded, dropped; None when the store records nothing."""
    def export_trace(self, path: str) -> int:
        """Releases the GIL; the lock-free recorder keeps taking records meanwhile."""
    def read_records(
        self, from_ticket: int
    ) -> tuple[int, list[int], list[int], list[int], list[int]]:
        """(cursor, times in ns, key hashes, namespace hashes, ops 0 hit 1 miss 2 set 3
        delete) of the records from ticket `from_ticket` on; pass the cursor next time.
        Overwritten records are skipped. Copies out of the ring with the GIL released."""
    @staticmethod
    def namespace_hash(prefix: str) -> int:
        """The 32-bit hash records carry for the namespace of `prefix`."""
    def recorded(self, prefix: str, key: str) -> bool:
        """True if the recorder samples this key (False when recording is off)."""
    def recorded_miss_ratio_curve(self, policy: str, sizes: Sequence[int]) -> MissRatioCurve:
        """The recorded reads replayed exactly; sizes in entries of the sample. Releases the
        GIL."""

class SimulationResult:
    """Outcome of one trace replay. Immutable."""

    @property
    def hits(self) -> int: ...
    @property
    def misses(self) -> int: ...
    @property
    def requests(self) -> int: ...
    @property
    def hit_ratio(self) -> float: ...

def simulate(trace_path: str, policy: str, capacity: int) -> SimulationResult: ...

class MissRatioCurve:
    """Miss ratio at each cache size of one trace, with what the estimate rests on. Immutable."""

    @property
    def policy(self) -> str: ...
    @property
    def sample_rate(self) -> float: ...
    @property
    def requests(self) -> int: ...
    @property
    def sampled_requests(self) -> int: ...
    @property
    def distinct_keys(self) -> int: ...
    @property
    def sizes(self) -> list[int]: ...
    @property
    def miss_ratios(self) -> list[float]: ...

def miss_ratio_curve(
    trace_path: str,
    policy: str,
    sample_rate: float,
    sizes: Sequence[int],
    min_entries: int = 32,
    adjust: bool = True,
    seed: int = 0,
) -> MissRatioCurve:
    """Releases the GIL; runs the per-size replays on up to two threads of its own."""

@final
class SecretKey:
    """A 256-bit key in C++ memory, wiped when freed; never exposes its bytes. Immutable."""

    def __init__(self, raw: bytes) -> None: ...
    @staticmethod
    def from_passphrase(passphrase: str, salt: bytes, iterations: int) -> SecretKey: ...
    @staticmethod
    def from_hkdf(ikm: bytes, salt: bytes, info: bytes) -> SecretKey: ...
    @property
    def fingerprint(self) -> int: ...

@final
class Codec:
    """Envelope codec with the msgpack walk. Thread-safe for encode/decode (the walks hold the
    GIL; compression and crypto above `release_gil_above` bytes release it);
    register_type must happen before the codec is shared."""

    def __init__(
        self,
        compression: str,
        compress_threshold: int,
        zstd_level: int,
        encryption_keys: list[tuple[int, SecretKey]],
        signing_keys: list[tuple[int, SecretKey]],
        field_keys: list[tuple[int, SecretKey]],
        encrypt_fields: list[str],
        max_value_bytes: int,
        max_depth: int,
        max_items: int,
        max_decoded_bytes: int,
        release_gil_above: int,
        placeholder: Callable[[str, int], Any],
        loader: Callable[[int, bytes], Any],
    ) -> None: ...
    def pack(
        self,
        key: str,
        value: Any,
        created_at_ms: int | None,
        ttl_ms: int,
        compute_us: int,
        tags: list[tuple[str, int]] | None,
    ) -> bytes: ...
    def seal(
        self,
        key: str,
        serializer: int,
        payload: bytes,
        created_at_ms: int | None,
        ttl_ms: int,
        compute_us: int,
        tags: list[tuple[str, int]] | None,
    ) -> bytes: ...
    def pack_value(self, key: str, value: Any) -> bytes: ...
    def open(self, key: str, data: bytes) -> tuple[int, Any, int, int, int, dict[str, int]]: ...
    def open_value(self, key: str, data: bytes) -> Any: ...
    def try_open(
        self, key: str, data: bytes
    ) -> tuple[int, Any, int, int, int, dict[str, int]] | str: ...
    def register_type(
        self, cls: type, code: int, encode: Callable[[Any], Any], decode: Callable[[Any], Any]
    ) -> None: ...
    def check_json(self, value: Any) -> None: ...

# --- predictor (bind_predict.cpp); option structs are plain mutable records ---

def workload_kinds() -> list[str]: ...

class WorkloadOptions:
    kind: str
    keys: int
    duration: float
    seed: int
    rate: float
    period_min: float
    period_max: float
    jitter: float
    burst_on: float
    burst_off: float
    burst_rate: float
    zipf_alpha: float
    cycle: float
    amplitude: float
    scan_every: float
    scan_length: int
    trace_path: str
    max_requests: int
    update_interval: float
    ns: int
    def __init__(self) -> None: ...

class PredictorOptions:
    horizon: float
    sample_rate: float
    pending_capacity: int
    batch_size: int
    seed: int
    max_keys: int
    half_life_short: float
    half_life_long: float
    learning_rate: float
    l2: float
    def __init__(self) -> None: ...

class RefreshOptions:
    ttl: float
    margin: float
    warmup: float
    loader_seconds: float
    xfetch_betas: list[float]
    windows: list[float]
    thresholds: list[float]
    oracle: bool
    predictor: PredictorOptions
    seed: int
    def __init__(self) -> None: ...

class WarmOptions:
    restart_at: float
    warm_keys: int
    capacity: int
    measure_reads: int
    window_reads: int
    predictor: PredictorOptions
    def __init__(self) -> None: ...

@final
class TimedWorkload:
    """Events (time, key, get/set, namespace) in time order. Immutable."""

    @property
    def size(self) -> int: ...
    @property
    def duration(self) -> float: ...
    @property
    def keys(self) -> int: ...
    def events(self) -> tuple[list[float], list[int], list[bool]]:
        """(times, keys, is_write), in time order."""

@final
class RefreshPoint:
    """One replay of one refresh method at one parameter value. Immutable."""

    @property
    def method(self) -> str: ...
    @property
    def parameter(self) -> float: ...
    @property
    def gets(self) -> int: ...
    @property
    def misses(self) -> int: ...
    @property
    def refreshes(self) -> int: ...
    @property
    def loader_calls(self) -> int: ...

@final
class WarmResult:
    """Hits of one warming method over the measured reads. Immutable."""

    @property
    def method(self) -> str: ...
    @property
    def preloaded(self) -> int: ...
    @property
    def hits(self) -> int: ...
    @property
    def reads(self) -> int: ...
    @property
    def hit_ratio(self) -> float: ...

@final
class TtlOutcome:
    """Hit ratio and stale fraction of one TTL, replayed. Immutable."""

    @property
    def ttl(self) -> float: ...
    @property
    def hit_ratio(self) -> float: ...
    @property
    def stale_fraction(self) -> float: ...
    @property
    def reads(self) -> int: ...

@final
class TtlRecommendation:
    """A recommended TTL and what its model predicts. Immutable."""

    @property
    def ttl(self) -> float: ...
    @property
    def predicted_hit_ratio(self) -> float: ...
    @property
    def predicted_stale_fraction(self) -> float: ...
    @property
    def keys(self) -> int: ...

@final
class TtlReport:
    """One namespace's recommendation checked against a TTL grid. Immutable."""

    @property
    def ns(self) -> int: ...
    @property
    def recommendation(self) -> TtlRecommendation: ...
    @property
    def at_recommended(self) -> TtlOutcome: ...
    @property
    def best(self) -> TtlOutcome: ...
    @property
    def heuristic(self) -> TtlOutcome: ...
    @property
    def grid(self) -> list[TtlOutcome]: ...

@final
class AccessPredictor:
    """Not thread-safe: one owner records and asks. Batch calls release the GIL."""

    def __init__(self, options: PredictorOptions) -> None: ...
    def record_batch(
        self, keys: Sequence[int], times: Sequence[float], writes: Sequence[bool]
    ) -> None: ...
    def probabilities(self, keys: Sequence[int], now: float) -> list[float]: ...
    def top_keys(self, n: int, now: float) -> list[int]: ...
    def expected_next_read(self, key: int, now: float) -> float | None: ...
    @property
    def tracked(self) -> int: ...
    @property
    def bytes_per_key(self) -> float: ...
    @property
    def trained(self) -> int: ...
    @property
    def dropped(self) -> int: ...
    @property
    def observed(self) -> int: ...

@final
class LivePredictor:
    """A store's recorder feeding a model. Thread-safe (one internal mutex); drain and
    hot_keys release the GIL. Keeps the store alive."""

    def __init__(self, options: PredictorOptions, store: Store) -> None: ...
    def drain(self) -> int: ...
    def hot_keys(self, n: int, prefix: str | None) -> list[tuple[str, str, float]]:
        """(key body, prefix, probability), best first."""
    def probabilities(self, prefix: str, keys: list[str]) -> list[float]:
        """P(read within the horizon) of each key (untracked: a new key's)."""
    def observe(self, prefix: str, keys: list[str], skip: float) -> int:
        """Queues a labelled-later observation of each tracked key now; how many queued."""
    def recent_keys(self, n: int, prefix: str | None) -> list[tuple[str, str, float]]:
        """(key body, prefix, seconds since its last read), most recently read first."""
    def stats(self) -> dict[str, float | int]: ...
    @property
    def horizon(self) -> float: ...

def make_workload(options: WorkloadOptions) -> TimedWorkload:
    """Releases the GIL while generating (or reading a trace)."""

def merge_workloads(parts: Sequence[TimedWorkload]) -> TimedWorkload: ...
def evaluate_refresh(workload: TimedWorkload, options: RefreshOptions) -> list[RefreshPoint]:
    """Releases the GIL for the replays."""

def evaluate_warming(workload: TimedWorkload, options: WarmOptions) -> list[WarmResult]:
    """Releases the GIL for the replays and training."""

def recommend_ttl(workload: TimedWorkload, ns: int, staleness_budget: float) -> TtlRecommendation:
    """Releases the GIL."""

def evaluate_ttl(
    workload: TimedWorkload, staleness_budget: float, grid: Sequence[float], fit_fraction: float
) -> list[TtlReport]:
    """Releases the GIL for the replays."""

class DiskStore:
    """The disk tier's store (cpp/disk, LMDB). Thread-safe and shared by every process that
    opens the same directory; not fork-safe (a child calls `abandon` and opens its own). Every
    call but `count_corrupt` and `abandon` releases the GIL around the disk work."""

    def __init__(self, path: str, max_bytes: int, durability: str) -> None: ...
    def get(self, key: str) -> tuple[bytes, float] | None: ...
    def get_many(self, keys: Sequence[str]) -> list[tuple[bytes, float] | None]: ...
    def set(self, key: str, envelope: bytes, ttl: float) -> bool: ...
    def delete(self, keys: Sequence[str]) -> int: ...
    def delete_prefix(self, prefix: str) -> int: ...
    def keys(self, prefix: str, limit: int) -> list[bytes]: ...
    def ttl(self, key: str) -> float | None: ...
    def touch(self, key: str, ttl: float) -> bool: ...
    def purge_expired(self, limit: int) -> int: ...
    def count_corrupt(self) -> None: ...
    def stats(self) -> dict[str, int]: ...
    def abandon(self) -> None: ...
    def scan(
        self, prefix: str | bytes, after: str | bytes, limit: int, max_bytes: int
    ) -> tuple[list[tuple[bytes, bytes, int, int]], bytes, bool]:
        """Live entries (key, envelope, expiry ms or 0, sequence) after key `after` under
        `prefix`, one snapshot, at most `limit` examined: (entries, next after, done)."""
    def changes_since(
        self, after_seq: int, limit: int, max_bytes: int
    ) -> tuple[list[tuple[str, bytes, bytes, int, int]], int, bool, int]:
        """What changed after sequence `after_seq`, in sequence order, one snapshot: (kind
        "w" a write (expired included) / "k" a removed key / "p" a removed prefix, key,
        envelope, expiry ms or 0, sequence) tuples; (changes, next after_seq, done, the
        removal log's floor: removals up to it may be missing)."""
    def sequence(self) -> int: ...
    def put_many(self, items: list[tuple[bytes, bytes, int]]) -> int:
        """Stores (key, envelope, expiry ms or 0) in one transaction; how many stored."""
    @property
    def path(self) -> str: ...

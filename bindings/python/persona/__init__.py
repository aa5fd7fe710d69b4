"""Python bindings of libpersona (ctypes): profiles, traits, attributes, consent,
cohort tables, funnels, paths (Markov models), rule segments, RFM, k-means, hierarchical
clustering and item affinity.

    import persona
    with persona.Store() as store:
        stats = store.ingest([{"user": "u1", "time": "2021-03-04T05:06:07Z",
                               "type": "purchase", "value": 9.5}])
        store.profile("u1")

The shared library is found through $PERSONA_LIBRARY, the package directory, a meson
build tree above the package, or the system linker path (see persona._capi).
"""
from ._capi import (BufferTooSmallError, BusyError, CallbackError, CorruptError,
                    InternalError, InvalidArgumentError, MisuseError, NotFoundError,
                    OutOfMemoryError, ParseError, PersonaError, PersonaIOError,
                    UnsupportedError, VersionError, lib as _lib, library_path,
                    reject_reason_name, strerror)
from .affinity import Affinity
from .attribution import Attribution
from .cohort import CohortTable
from .funnel import Funnel
from .identity import (ID_COOKIE, ID_CUSTOMER, ID_EMAIL, ID_HOST, ID_KEY, ID_PHONE, ID_TYPES,
                       LINK_ADDED, LINK_BLOCKED_LIMIT, LINK_BLOCKED_VALUE, LINK_MERGED,
                       LINK_OUTCOMES, LINK_SAME, AliasResult, normalize_identifier)
from .segment import Rules
from .rfm import RFM
from .kmeans import KMeans, choose_k, cluster_scores
from .features import Features, KMeansSegments
from .hclust import HClust, linkage
from .itemsets import Baskets, Itemsets, association_rules, itemsets
from .evaluation import deciles, metrics
from .multiview import MultiViewKMeans
from .paths import PathModel
from .stability import adjusted_rand_index
from .source import Source
from .store import IngestStats, Store
from .times import format_time, parse_time, time_bucket, time_label

__version__ = "1.0.0"


def version():
    """Version string of the loaded library, e.g. "1.0.0"."""
    return _lib.persona_version_string().decode()


def version_number():
    """major * 1000000 + minor * 1000 + patch of the loaded library."""
    return _lib.persona_version_number()


def build_features():
    """Build features of the loaded library, e.g. "openmp=off"."""
    return _lib.persona_build_features().decode()


__all__ = [
    "Store", "Source", "IngestStats", "AliasResult", "Affinity", "Attribution", "CohortTable", "Funnel", "Rules",
    "PathModel",
    "RFM",
    "KMeans", "choose_k", "cluster_scores", "MultiViewKMeans", "HClust", "linkage",
    "Baskets", "Itemsets", "itemsets", "association_rules",
    "adjusted_rand_index", "metrics", "deciles",
    "PersonaError", "InvalidArgumentError", "OutOfMemoryError", "BufferTooSmallError",
    "NotFoundError", "ParseError", "PersonaIOError", "CorruptError", "VersionError",
    "UnsupportedError", "BusyError", "CallbackError", "MisuseError", "InternalError",
    "parse_time", "format_time", "time_bucket", "time_label",
    "version", "version_number", "build_features", "library_path", "strerror",
    "reject_reason_name", "normalize_identifier", "ID_TYPES",
    "ID_KEY", "ID_COOKIE", "ID_EMAIL", "ID_PHONE", "ID_CUSTOMER", "ID_HOST",
    "LINK_MERGED", "LINK_ADDED", "LINK_SAME", "LINK_BLOCKED_VALUE", "LINK_BLOCKED_LIMIT",
    "LINK_OUTCOMES",
]

"""The one place that talks to libpersona.so.1 directly (CONVENTIONS §14).

* ``load_library``: finds and loads the library once, checks its version.
* ``PROTOTYPES``: restype and argtypes of every exported symbol, in one table.
* ``PersonaError`` and its subclasses, raised by the errcheck of every status-returning
  function with the code and the thread-local message read right after the call.
* Small helpers every area module shares: ``new_struct``, ``encode``, ``read_string``,
  ``take_owned_string``.

ctypes.CDLL releases the GIL during every call, so a long load does not block other
Python threads; callbacks (sources, progress, export writers) take it back while they run.
"""
import ctypes
import ctypes.util
import os
from ctypes import (POINTER, byref, c_char_p, c_double, c_int, c_int32, c_int64,
                    c_size_t, c_uint32, c_uint64, c_void_p)

from . import _structs as S

MIN_MINOR = 0          # the bindings use nothing newer than libpersona 1.0
REQUIRED_MAJOR = 1
SONAME = "libpersona.so.1"
LIBRARY_ENV = "PERSONA_LIBRARY"

# Result codes (common.h).
OK = 0
EINVAL = -1
ENOMEM = -2
EBUFS = -3
ENOTFOUND = -4
EPARSE = -5
EIO = -6
ECORRUPT = -7
EVERSION = -8
EUNSUPPORTED = -9
EBUSY = -10
ECALLBACK = -11
EMISUSE = -12
EINTERNAL = -13


# --------------------------------------------------------------------------- errors

class PersonaError(Exception):
    """A libpersona call failed. ``code`` is the ``PERSONA_E*`` value, ``message`` the
    library's message (persona_errmsg()), ``function`` the C function that failed."""

    def __init__(self, code, message, function=None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.function = function

    def __str__(self):
        return self.message

    def __reduce__(self):  # picklable (multiprocessing, Dask) despite the extra fields
        return type(self), (self.code, self.message, self.function), self.__dict__


class InvalidArgumentError(PersonaError, ValueError):
    """PERSONA_EINVAL: an argument is invalid."""


class OutOfMemoryError(PersonaError, MemoryError):
    """PERSONA_ENOMEM: an allocation failed; nothing changed."""


class BufferTooSmallError(PersonaError):
    """PERSONA_EBUFS (the bindings retry with a larger buffer; seen only from raw calls)."""


class NotFoundError(PersonaError, KeyError):
    """PERSONA_ENOTFOUND: the user, key or name does not exist."""


class ParseError(PersonaError, ValueError):
    """PERSONA_EPARSE: input could not be parsed. ``line`` and ``column`` come from
    persona_error_position() (0 when unknown)."""

    def __init__(self, code, message, function=None, line=0, column=0):
        super().__init__(code, message, function)
        self.line = line
        self.column = column


class PersonaIOError(PersonaError, OSError):
    """PERSONA_EIO: a file operation failed; the message names path and step."""


class CorruptError(PersonaError):
    """PERSONA_ECORRUPT: a file is damaged."""


class VersionError(PersonaError):
    """PERSONA_EVERSION: a file or caller is newer than this library."""


class UnsupportedError(PersonaError, NotImplementedError):
    """PERSONA_EUNSUPPORTED: a feature this build or object does not offer."""


class BusyError(PersonaError):
    """PERSONA_EBUSY: the operation needs no live objects."""


class CallbackError(PersonaError):
    """PERSONA_ECALLBACK: a callback failed. When a Python callback raised, the bindings
    re-raise that exception instead, with this one as its ``__cause__``."""


class MisuseError(PersonaError):
    """PERSONA_EMISUSE: API used in the wrong order or state."""


class InternalError(PersonaError):
    """PERSONA_EINTERNAL: a bug in libpersona."""


ERROR_CLASSES = {
    EINVAL: InvalidArgumentError, ENOMEM: OutOfMemoryError, EBUFS: BufferTooSmallError,
    ENOTFOUND: NotFoundError, EPARSE: ParseError, EIO: PersonaIOError, ECORRUPT: CorruptError,
    EVERSION: VersionError, EUNSUPPORTED: UnsupportedError, EBUSY: BusyError,
    ECALLBACK: CallbackError, EMISUSE: MisuseError, EINTERNAL: InternalError,
}


def last_error(code, function=None):
    """The exception for a failed call; read at once, on the calling thread."""
    message = lib.persona_errmsg().decode("utf-8", "replace")
    if not message:
        message = lib.persona_strerror(code).decode("utf-8", "replace")
    cls = ERROR_CLASSES.get(code, PersonaError)
    if cls is ParseError:
        line, column = c_uint64(), c_uint64()
        lib.persona_error_position(byref(line), byref(column))
        return ParseError(code, message, function, line.value, column.value)
    return cls(code, message, function)


def _check_status(result, func, args):
    if result < 0:
        raise last_error(result, func.__name__)
    return result


# --------------------------------------------------------------------------- prototypes

class _Handle(c_void_p):
    """A typed opaque pointer: only instances of the same class (or None = NULL) are
    accepted where it is declared, so passing a source as a store raises ArgumentError."""

    @classmethod
    def from_param(cls, obj):
        if obj is None or isinstance(obj, cls):
            return obj
        raise TypeError(f"expected {cls.__name__}, got {type(obj).__name__}")


class StoreHandle(_Handle):
    """persona_store *"""


class SourceHandle(_Handle):
    """persona_source *"""


class CohortTableHandle(_Handle):
    """persona_cohort_table *"""


class SegmentModelHandle(_Handle):
    pass


class FunnelHandle(_Handle):
    """persona_funnel *"""


class RfmHandle(_Handle):
    """persona_rfm *"""


class KMeansHandle(_Handle):
    """persona_kmeans *"""


class HClustHandle(_Handle):
    """persona_hclust *"""


class FeaturesHandle(_Handle):
    """persona_features *"""


class AffinityHandle(_Handle):
    """persona_affinity_matrix *"""


class BasketsHandle(_Handle):
    """persona_baskets *"""


class ItemsetsHandle(_Handle):
    """persona_itemsets *"""


class AssocRulesHandle(_Handle):
    """persona_assoc_rules *"""


class PathHandle(_Handle):
    """persona_path_model *"""


class PathListHandle(_Handle):
    """persona_path_list *"""


class AttributionHandle(_Handle):
    """persona_attribution *"""


STATUS = object()  # restype marker: int status code, checked by errcheck
P = POINTER
BUF = [c_char_p, c_size_t, P(c_size_t)]  # caller buffer, capacity, out_len

PROTOTYPES = {
    # common.h
    "persona_version_number": (c_int32, []),
    "persona_version_string": (c_char_p, []),
    "persona_build_features": (c_char_p, []),
    "persona_errcode": (c_int, []),
    "persona_errmsg": (c_char_p, []),
    "persona_error_position": (c_int, [P(c_uint64), P(c_uint64)]),  # ENOTFOUND is normal
    "persona_strerror": (c_char_p, [c_int]),
    "persona_set_allocator": (STATUS, [P(S.persona_allocator)]),
    "persona_allocator_init": (STATUS, [P(S.persona_allocator), c_uint32]),
    "persona_free": (None, [c_void_p]),
    "persona_time_parse": (STATUS, [P(c_int64), c_char_p, c_size_t, c_char_p, c_int32]),
    "persona_time_bucket": (STATUS, [P(c_int64), c_int64, c_int32, c_int32]),
    "persona_time_format": (STATUS, BUF + [c_int64, c_int32]),
    "persona_time_label": (STATUS, BUF + [c_int64, c_int32, c_int32]),
    # event.h
    "persona_event_init": (STATUS, [P(S.persona_event), c_uint32]),
    "persona_attribute_init": (STATUS, [P(S.persona_attribute), c_uint32]),
    "persona_reject_reason_name": (c_char_p, [c_int32]),
    "persona_ingest_options_init": (STATUS, [P(S.persona_ingest_options), c_uint32]),
    "persona_ingest_stats_init": (STATUS, [P(S.persona_ingest_stats), c_uint32]),
    # store.h
    "persona_store_options_init": (STATUS, [P(S.persona_store_options), c_uint32]),
    "persona_store_new": (STATUS, [P(StoreHandle), P(S.persona_store_options)]),
    "persona_store_free": (None, [StoreHandle]),
    "persona_store_save": (STATUS, [StoreHandle, c_char_p]),
    "persona_erase_receipt_init": (STATUS, [P(S.persona_erase_receipt), c_uint32]),
    "persona_store_erase": (STATUS, [P(S.persona_erase_receipt), StoreHandle, c_char_p]),
    "persona_store_set_tracking": (STATUS, [StoreHandle, c_char_p, c_int32]),
    "persona_store_get_tracking": (STATUS, [P(c_int32), StoreHandle, c_char_p]),
    "persona_store_anonymize": (STATUS, BUF + [P(S.persona_erase_receipt), StoreHandle,
                                               c_char_p]),
    "persona_store_export_profile": (STATUS, [P(c_void_p), P(c_size_t), StoreHandle,
                                              c_char_p]),
    "persona_store_open": (STATUS, [P(StoreHandle), c_char_p]),
    "persona_store_ingest": (STATUS, [P(S.persona_ingest_stats), StoreHandle,
                                      P(S.persona_event), c_size_t,
                                      P(S.persona_ingest_options)]),
    "persona_store_info_get": (STATUS, [P(S.persona_store_info), StoreHandle]),
    "persona_store_info_init": (STATUS, [P(S.persona_store_info), c_uint32]),
    "persona_profile_info_init": (STATUS, [P(S.persona_profile_info), c_uint32]),
    "persona_store_user_at": (STATUS, BUF + [StoreHandle, c_uint64]),
    "persona_store_event_type_at": (STATUS, BUF + [StoreHandle, c_uint64]),
    "persona_store_profile_get": (STATUS, [P(S.persona_profile_info), StoreHandle, c_char_p]),
    "persona_store_profile_type": (STATUS, [P(c_uint64), P(c_double), StoreHandle, c_char_p,
                                            c_char_p]),
    "persona_store_profile_last": (STATUS, BUF + [P(c_int64), StoreHandle, c_char_p,
                                                  c_char_p]),
    "persona_store_profile_engagement": (STATUS, [P(c_double), StoreHandle, c_char_p,
                                                  c_char_p, c_int64]),
    "persona_store_attr_set_num": (STATUS, [StoreHandle, c_char_p, c_char_p, c_double]),
    "persona_store_attr_set_str": (STATUS, [StoreHandle, c_char_p, c_char_p, c_char_p]),
    "persona_store_attr_set_bool": (STATUS, [StoreHandle, c_char_p, c_char_p, c_int32]),
    "persona_store_attr_set_time": (STATUS, [StoreHandle, c_char_p, c_char_p, c_int64]),
    "persona_store_attr_set_null": (STATUS, [StoreHandle, c_char_p, c_char_p]),
    "persona_store_attr_remove": (STATUS, [StoreHandle, c_char_p, c_char_p]),
    "persona_store_attr_type": (STATUS, [P(c_int32), StoreHandle, c_char_p, c_char_p]),
    "persona_store_attr_get_num": (STATUS, [P(c_double), StoreHandle, c_char_p, c_char_p]),
    "persona_store_attr_get_str": (STATUS, BUF + [StoreHandle, c_char_p, c_char_p]),
    "persona_store_attr_get_bool": (STATUS, [P(c_int32), StoreHandle, c_char_p, c_char_p]),
    "persona_store_attr_get_time": (STATUS, [P(c_int64), StoreHandle, c_char_p, c_char_p]),
    "persona_store_consent_set": (STATUS, [StoreHandle, c_char_p, c_char_p, c_int32,
                                           c_int64]),
    "persona_store_consent_get": (STATUS, [P(c_int32), P(c_int64), StoreHandle, c_char_p,
                                           c_char_p]),
    "persona_store_export": (STATUS, [StoreHandle, c_int32, S.WRITE_FN, c_void_p]),
    "persona_store_export_buffer": (STATUS, [P(c_void_p), P(c_size_t), StoreHandle,
                                             c_int32]),
    "persona_store_profile_json": (STATUS, [P(c_void_p), P(c_size_t), StoreHandle,
                                            c_char_p]),
    # identity.h
    "persona_identifier_normalize": (STATUS, BUF + [c_int32, c_char_p, c_char_p]),
    "persona_alias_result_init": (STATUS, [P(S.persona_alias_result), c_uint32]),
    "persona_store_alias": (STATUS, [P(S.persona_alias_result), StoreHandle,
                                     P(S.persona_identifier), c_size_t, c_int64, c_char_p]),
    "persona_store_unmerge": (STATUS, [P(c_uint32), StoreHandle, P(S.persona_identifier)]),
    "persona_store_resolve": (STATUS, BUF + [StoreHandle, c_char_p]),
    "persona_store_merge_log": (STATUS, [P(c_void_p), P(c_size_t), StoreHandle, c_char_p]),
    "persona_store_identity_limit": (STATUS, [StoreHandle, c_int32, c_uint32]),
    "persona_store_identity_priority": (STATUS, [StoreHandle, c_int32, c_int32]),
    "persona_store_identity_block": (STATUS, [StoreHandle, c_char_p]),
    "persona_store_identity_country": (STATUS, [StoreHandle, c_char_p]),
    "persona_store_identify_rule": (STATUS, [StoreHandle, c_char_p, c_char_p, c_int32]),
    "persona_store_consent_rule": (STATUS, [StoreHandle, c_char_p, c_char_p, c_char_p]),
    # source.h
    "persona_source_new": (STATUS, [P(SourceHandle), P(S.persona_source_vtable), c_void_p]),
    "persona_source_vtable_init": (STATUS, [P(S.persona_source_vtable), c_uint32]),
    "persona_event_arrays_init": (STATUS, [P(S.persona_event_arrays), c_uint32]),
    "persona_source_free": (None, [SourceHandle]),
    "persona_source_rewind": (STATUS, [SourceHandle]),
    "persona_mapping_init": (STATUS, [P(S.persona_mapping), c_uint32]),
    "persona_csv_options_init": (STATUS, [P(S.persona_csv_options), c_uint32]),
    "persona_source_open_csv": (STATUS, [P(SourceHandle), c_char_p, P(S.persona_csv_options),
                                         P(S.persona_mapping)]),
    "persona_source_open_csv_memory": (STATUS, [P(SourceHandle), c_char_p, c_size_t,
                                                P(S.persona_csv_options),
                                                P(S.persona_mapping)]),
    "persona_source_open_jsonl": (STATUS, [P(SourceHandle), c_char_p, P(S.persona_mapping)]),
    "persona_source_open_jsonl_memory": (STATUS, [P(SourceHandle), c_char_p, c_size_t,
                                                  P(S.persona_mapping)]),
    "persona_source_from_arrays": (STATUS, [P(SourceHandle), P(S.persona_event_arrays)]),
    "persona_store_load": (STATUS, [P(S.persona_ingest_stats), StoreHandle, SourceHandle,
                                    P(S.persona_ingest_options)]),
    # cohort.h
    "persona_cohort_options_init": (STATUS, [P(S.persona_cohort_options), c_uint32]),
    "persona_cohort_build": (STATUS, [P(CohortTableHandle), StoreHandle,
                                      P(S.persona_cohort_options)]),
    "persona_cohort_table_free": (None, [CohortTableHandle]),
    "persona_cohort_table_kind": (STATUS, [P(c_int32), CohortTableHandle]),
    "persona_cohort_table_rows": (STATUS, [P(c_size_t), CohortTableHandle]),
    "persona_cohort_table_cols": (STATUS, [P(c_size_t), CohortTableHandle]),
    "persona_cohort_table_cell": (STATUS, [P(c_double), P(c_int32), CohortTableHandle,
                                           c_size_t, c_size_t, c_int32]),
    "persona_cohort_table_size": (STATUS, [P(c_uint64), P(c_int32), CohortTableHandle,
                                           c_size_t]),
    "persona_cohort_table_label": (STATUS, BUF + [CohortTableHandle, c_size_t]),
    "persona_cohort_table_col_label": (STATUS, BUF + [CohortTableHandle, c_size_t]),
    "persona_cohort_table_row_start": (STATUS, [P(c_int64), CohortTableHandle, c_size_t]),
    "persona_cohort_table_export": (STATUS, [CohortTableHandle, c_int32, c_int32, S.WRITE_FN,
                                             c_void_p]),
    "persona_cohort_table_export_buffer": (STATUS, [P(c_void_p), P(c_size_t),
                                                    CohortTableHandle, c_int32, c_int32]),
    "persona_cohort_table_merge": (STATUS, [CohortTableHandle, CohortTableHandle]),
    "persona_cohort_table_update": (STATUS, [CohortTableHandle, StoreHandle]),
    "persona_cohort_table_save": (STATUS, [CohortTableHandle, c_char_p]),
    "persona_cohort_table_load": (STATUS, [P(CohortTableHandle), c_char_p]),
    # funnel.h
    "persona_funnel_step_init": (STATUS, [P(S.persona_funnel_step), c_uint32]),
    "persona_funnel_exclusion_init": (STATUS, [P(S.persona_funnel_exclusion), c_uint32]),
    "persona_funnel_options_init": (STATUS, [P(S.persona_funnel_options), c_uint32]),
    "persona_funnel_build": (STATUS, [P(FunnelHandle), StoreHandle,
                                      P(S.persona_funnel_options)]),
    "persona_funnel_free": (None, [FunnelHandle]),
    "persona_funnel_step_count": (STATUS, [P(c_size_t), FunnelHandle]),
    "persona_funnel_step_event": (STATUS, BUF + [FunnelHandle, c_size_t]),
    "persona_funnel_units": (STATUS, [P(c_uint64), FunnelHandle, c_size_t]),
    "persona_funnel_conversion": (STATUS, [P(c_double), P(c_double), FunnelHandle,
                                           c_size_t]),
    "persona_funnel_time_quantile": (STATUS, [P(c_double), FunnelHandle, c_size_t,
                                              c_double]),
    "persona_funnel_time_histogram": (STATUS, [P(c_uint64), c_size_t, P(c_size_t),
                                               FunnelHandle, c_size_t]),
    "persona_funnel_trend_count": (STATUS, [P(c_size_t), FunnelHandle]),
    "persona_funnel_trend_at": (STATUS, [P(c_int64), P(c_uint64), P(c_uint64), FunnelHandle,
                                         c_size_t]),
    "persona_funnel_stage_of": (STATUS, [P(c_int32), FunnelHandle, c_char_p]),
    "persona_funnel_user_count": (STATUS, [P(c_size_t), FunnelHandle]),
    "persona_funnel_user_at": (STATUS, BUF + [P(c_int32), FunnelHandle, c_size_t]),
    "persona_funnel_export": (STATUS, [FunnelHandle, c_int32, S.WRITE_FN, c_void_p]),
    "persona_funnel_export_buffer": (STATUS, [P(c_void_p), P(c_size_t), FunnelHandle,
                                              c_int32]),
    "persona_funnel_merge": (STATUS, [FunnelHandle, FunnelHandle]),
    "persona_funnel_save": (STATUS, [FunnelHandle, c_char_p]),
    "persona_funnel_load": (STATUS, [P(FunnelHandle), c_char_p]),
    # segment.h
    "persona_segment_options_init": (STATUS, [P(S.persona_segment_options), c_uint32]),
    "persona_eval_context_init": (STATUS, [P(S.persona_eval_context), c_uint32]),
    "persona_segment_model_new": (STATUS, [P(SegmentModelHandle), P(S.persona_segment_options)]),
    "persona_segment_model_compile": (STATUS, [P(SegmentModelHandle), c_char_p, c_size_t,
                                               P(S.persona_segment_options)]),
    "persona_segment_model_add_rule": (STATUS, [SegmentModelHandle, c_char_p, c_char_p,
                                                c_size_t]),
    "persona_segment_model_add_list": (STATUS, [SegmentModelHandle, c_char_p, P(c_char_p),
                                                c_size_t]),
    "persona_segment_model_free": (None, [SegmentModelHandle]),
    "persona_segment_model_count": (STATUS, [P(c_size_t), SegmentModelHandle]),
    "persona_segment_model_mode": (STATUS, [P(c_int32), SegmentModelHandle]),
    "persona_segment_model_name": (STATUS, BUF + [SegmentModelHandle, c_size_t]),
    "persona_segment_model_rule": (STATUS, BUF + [SegmentModelHandle, c_size_t]),
    "persona_segment_model_find": (STATUS, [P(c_size_t), SegmentModelHandle, c_char_p]),
    "persona_segment_model_assign": (STATUS, [P(c_uint32), c_size_t, P(c_size_t),
                                              SegmentModelHandle, StoreHandle, c_char_p,
                                              P(S.persona_eval_context)]),
    "persona_segment_model_test": (STATUS, [P(c_int32), SegmentModelHandle, c_size_t,
                                            StoreHandle, c_char_p, P(S.persona_eval_context)]),
    "persona_segment_model_use_paths": (STATUS, [SegmentModelHandle, PathHandle]),
    "persona_segment_model_describe": (STATUS, BUF + [SegmentModelHandle, StoreHandle, c_char_p,
                                                      P(S.persona_eval_context)]),
    "persona_segment_model_scan": (STATUS, [P(c_uint64), c_size_t, P(c_uint64),
                                            SegmentModelHandle, StoreHandle,
                                            P(S.persona_eval_context), S.MEMBER_FN, c_void_p,
                                            c_uint32]),
    "persona_segment_model_save": (STATUS, [SegmentModelHandle, c_char_p]),
    "persona_segment_model_load": (STATUS, [P(SegmentModelHandle), c_char_p]),
    "persona_store_add_segment": (STATUS, [StoreHandle, c_char_p, c_char_p, c_size_t,
                                           S.SEGMENT_FN, c_void_p]),
    "persona_store_tick": (STATUS, [StoreHandle, c_int64]),
    "persona_store_clock": (STATUS, [P(c_int64), StoreHandle]),
    "persona_store_segment_count": (STATUS, [P(c_size_t), StoreHandle]),
    "persona_store_segment_name": (STATUS, BUF + [StoreHandle, c_size_t]),
    "persona_store_segments_of": (STATUS, [P(c_uint32), c_size_t, P(c_size_t), StoreHandle,
                                           c_char_p]),
    # rfm.h
    "persona_rfm_options_init": (STATUS, [P(S.persona_rfm_options), c_uint32]),
    "persona_rfm_entry_init": (STATUS, [P(S.persona_rfm_entry), c_uint32]),
    "persona_rfm_build": (STATUS, [P(RfmHandle), StoreHandle, P(S.persona_rfm_options)]),
    "persona_rfm_free": (None, [RfmHandle]),
    "persona_rfm_count": (STATUS, [P(c_size_t), RfmHandle]),
    "persona_rfm_bins": (STATUS, [P(c_uint32), RfmHandle]),
    "persona_rfm_reference": (STATUS, [P(c_int64), RfmHandle]),
    "persona_rfm_user_at": (STATUS, BUF + [RfmHandle, c_size_t]),
    "persona_rfm_get": (STATUS, [P(S.persona_rfm_entry), RfmHandle, c_size_t]),
    "persona_rfm_find": (STATUS, [P(c_size_t), RfmHandle, c_char_p]),
    "persona_rfm_segment_size": (STATUS, [P(c_uint64), RfmHandle, c_int32]),
    "persona_rfm_segment_name": (c_char_p, [c_int32]),
    "persona_rfm_export": (STATUS, [RfmHandle, c_int32, S.WRITE_FN, c_void_p]),
    "persona_rfm_export_buffer": (STATUS, [P(c_void_p), P(c_size_t), RfmHandle, c_int32]),
    "persona_rfm_save": (STATUS, [RfmHandle, c_char_p]),
    "persona_rfm_load": (STATUS, [P(RfmHandle), c_char_p]),
    # stability.h
    "persona_adjusted_rand_index": (STATUS, [P(c_double), P(c_uint32), P(c_uint32), c_size_t]),
    "persona_segment_model_migration": (STATUS, [P(c_uint64), c_size_t, SegmentModelHandle,
                                                 StoreHandle, c_int64, c_int64]),
    # kmeans.h
    "persona_kmeans_options_init": (STATUS, [P(S.persona_kmeans_options), c_uint32]),
    "persona_kmeans_info_init": (STATUS, [P(S.persona_kmeans_info), c_uint32]),
    "persona_kmeans_fit": (STATUS, [P(KMeansHandle), P(c_double), c_size_t, c_size_t,
                                    P(S.persona_kmeans_options), P(c_uint32)]),
    "persona_kmeans_free": (None, [KMeansHandle]),
    "persona_kmeans_info_get": (STATUS, [P(S.persona_kmeans_info), KMeansHandle]),
    "persona_kmeans_centers": (STATUS, [P(c_double), c_size_t, KMeansHandle]),
    "persona_kmeans_sizes": (STATUS, [P(c_uint64), c_size_t, KMeansHandle]),
    "persona_kmeans_predict": (STATUS, [P(c_uint32), P(c_double), KMeansHandle, P(c_double),
                                        c_size_t, c_size_t]),
    "persona_kmeans_zscores": (STATUS, [P(c_double), c_size_t, KMeansHandle, c_uint32]),
    "persona_kmeans_describe": (STATUS, BUF + [KMeansHandle, c_uint32, P(c_char_p), c_size_t]),
    "persona_cluster_scores_init": (STATUS, [P(S.persona_cluster_scores), c_uint32]),
    "persona_cluster_scores_get": (STATUS, [P(S.persona_cluster_scores), P(c_double), c_size_t,
                                            c_size_t, P(c_uint32), c_uint32, c_uint64, c_uint64]),
    "persona_kmeans_choose_k": (STATUS, [P(S.persona_cluster_scores), c_size_t, P(c_double),
                                         c_size_t, c_size_t, c_uint32, c_uint32,
                                         P(S.persona_kmeans_options), c_uint64]),
    "persona_kmeans_save": (STATUS, [KMeansHandle, c_char_p]),
    "persona_kmeans_load": (STATUS, [P(KMeansHandle), c_char_p]),
    "persona_kmeans_views_init": (STATUS, [P(S.persona_kmeans_views), c_uint32]),
    "persona_kmeans_fit_views": (STATUS, [P(KMeansHandle), P(c_double), c_size_t, c_size_t,
                                          P(S.persona_kmeans_views), P(S.persona_kmeans_options),
                                          P(c_uint32)]),
    "persona_kmeans_views_get": (STATUS, [P(c_double), P(c_double), c_size_t, KMeansHandle]),
    # hclust.h
    "persona_hclust_options_init": (STATUS, [P(S.persona_hclust_options), c_uint32]),
    "persona_hclust_info_init": (STATUS, [P(S.persona_hclust_info), c_uint32]),
    "persona_hclust_fit": (STATUS, [P(HClustHandle), P(c_double), c_size_t, c_size_t,
                                    P(S.persona_hclust_options)]),
    "persona_hclust_free": (None, [HClustHandle]),
    "persona_hclust_info_get": (STATUS, [P(S.persona_hclust_info), HClustHandle]),
    "persona_hclust_linkage": (STATUS, [P(c_double), c_size_t, HClustHandle]),
    "persona_hclust_cut": (STATUS, [P(c_uint32), c_size_t, HClustHandle, c_uint32]),
    "persona_hclust_cut_height": (STATUS, [P(c_uint32), c_size_t, P(c_uint32), HClustHandle,
                                           c_double]),
    "persona_hclust_predict": (STATUS, [P(c_uint32), P(c_double), HClustHandle, c_uint32,
                                        P(c_double), c_size_t, c_size_t]),
    # itemsets.h
    "persona_itemsets_options_init": (STATUS, [P(S.persona_itemsets_options), c_uint32]),
    "persona_assoc_rules_options_init": (STATUS, [P(S.persona_assoc_rules_options), c_uint32]),
    "persona_assoc_rule_init": (STATUS, [P(S.persona_assoc_rule), c_uint32]),
    "persona_baskets_new": (STATUS, [P(BasketsHandle)]),
    "persona_baskets_add": (STATUS, [BasketsHandle, c_char_p, c_size_t, c_char_p, c_size_t]),
    "persona_baskets_from_csr": (STATUS, [P(BasketsHandle), P(c_uint64), c_size_t, P(c_uint32),
                                          P(c_char_p), c_size_t]),
    "persona_baskets_free": (None, [BasketsHandle]),
    "persona_baskets_counts": (STATUS, [P(c_uint64), P(c_uint64), BasketsHandle]),
    "persona_baskets_item_name": (STATUS, [P(c_char_p), BasketsHandle, c_uint32]),
    "persona_itemsets_mine": (STATUS, [P(ItemsetsHandle), BasketsHandle,
                                       P(S.persona_itemsets_options)]),
    "persona_itemsets_mine_each": (STATUS, [BasketsHandle, P(S.persona_itemsets_options),
                                            c_void_p, c_void_p]),
    "persona_itemsets_free": (None, [ItemsetsHandle]),
    "persona_itemsets_count": (STATUS, [P(c_uint64), P(c_uint64), ItemsetsHandle]),
    "persona_itemsets_get": (STATUS, [P(c_uint32), c_size_t, P(c_size_t), P(c_uint64),
                                      ItemsetsHandle, c_uint64]),
    "persona_assoc_rules_build": (STATUS, [P(AssocRulesHandle), ItemsetsHandle,
                                           P(S.persona_assoc_rules_options)]),
    "persona_assoc_rules_free": (None, [AssocRulesHandle]),
    "persona_assoc_rules_count": (STATUS, [P(c_uint64), AssocRulesHandle]),
    "persona_assoc_rules_get": (STATUS, [P(S.persona_assoc_rule), P(c_uint32), c_size_t,
                                         AssocRulesHandle, c_uint64]),
    # features.h
    "persona_features_options_init": (STATUS, [P(S.persona_features_options), c_uint32]),
    "persona_features_info_init": (STATUS, [P(S.persona_features_info), c_uint32]),
    "persona_features_column_init": (STATUS, [P(S.persona_features_column), c_uint32]),
    "persona_features_build": (STATUS, [P(FeaturesHandle), StoreHandle, c_char_p,
                                        P(S.persona_features_options)]),
    "persona_features_free": (None, [FeaturesHandle]),
    "persona_features_info_get": (STATUS, [P(S.persona_features_info), FeaturesHandle]),
    "persona_features_matrix": (STATUS, [P(c_double), c_size_t, FeaturesHandle]),
    "persona_features_column_name": (STATUS, BUF + [FeaturesHandle, c_size_t]),
    "persona_features_column_get": (STATUS, [P(S.persona_features_column), FeaturesHandle,
                                             c_size_t]),
    "persona_features_view_name": (STATUS, BUF + [FeaturesHandle, c_uint32]),
    "persona_features_view_columns": (STATUS, [P(c_size_t), P(c_size_t), FeaturesHandle,
                                               c_uint32]),
    "persona_features_user_at": (STATUS, BUF + [FeaturesHandle, c_size_t]),
    "persona_features_transform": (STATUS, [P(c_double), c_size_t, FeaturesHandle, StoreHandle,
                                            c_char_p]),
    # affinity.h
    "persona_affinity_options_init": (STATUS, [P(S.persona_affinity_options), c_uint32]),
    "persona_affinity_info_init": (STATUS, [P(S.persona_affinity_info), c_uint32]),
    "persona_affinity_pair_info_init": (STATUS, [P(S.persona_affinity_pair_info), c_uint32]),
    "persona_affinity_build": (STATUS, [P(AffinityHandle), StoreHandle,
                                        P(S.persona_affinity_options)]),
    "persona_affinity_free": (None, [AffinityHandle]),
    "persona_affinity_info_get": (STATUS, [P(S.persona_affinity_info), AffinityHandle]),
    "persona_affinity_item_find": (STATUS, [P(c_size_t), AffinityHandle, c_char_p]),
    "persona_affinity_item_key": (STATUS, BUF + [AffinityHandle, c_size_t]),
    "persona_affinity_category_key": (STATUS, BUF + [AffinityHandle, c_size_t]),
    "persona_affinity_support": (c_double, [c_uint64, c_uint64, c_uint64, c_uint64]),
    "persona_affinity_confidence": (c_double, [c_uint64, c_uint64, c_uint64, c_uint64]),
    "persona_affinity_lift": (c_double, [c_uint64, c_uint64, c_uint64, c_uint64]),
    "persona_affinity_jaccard": (c_double, [c_uint64, c_uint64, c_uint64, c_uint64]),
    "persona_affinity_cosine": (c_double, [c_uint64, c_uint64, c_uint64, c_uint64]),
    "persona_affinity_conviction": (c_double, [c_uint64, c_uint64, c_uint64, c_uint64]),
    "persona_affinity_leverage": (c_double, [c_uint64, c_uint64, c_uint64, c_uint64]),
    "persona_affinity_pair": (STATUS, [P(S.persona_affinity_pair_info), AffinityHandle,
                                       c_char_p, c_char_p]),
    "persona_affinity_similar": (STATUS, [P(c_uint32), P(c_double), P(c_uint64), c_size_t,
                                          P(c_size_t), AffinityHandle, c_char_p, c_int32,
                                          c_uint64]),
    "persona_affinity_recommend": (STATUS, [P(c_uint32), P(c_double), c_size_t, P(c_size_t),
                                            AffinityHandle, StoreHandle, c_char_p,
                                            P(c_char_p), c_size_t, c_int32, c_uint64]),
    "persona_affinity_user_categories": (STATUS, [P(c_uint32), P(c_double), c_size_t,
                                                  P(c_size_t), AffinityHandle, StoreHandle,
                                                  c_char_p, c_int64, c_int64]),
    "persona_affinity_overindex": (STATUS, [P(c_uint32), P(c_double), P(c_double), P(c_double),
                                            P(c_double), c_size_t, P(c_size_t), P(c_uint64),
                                            AffinityHandle, StoreHandle, c_char_p,
                                            S.AFFINITY_MEMBER_FN, c_void_p, c_uint64]),
    "persona_affinity_merge": (STATUS, [P(AffinityHandle), AffinityHandle, AffinityHandle]),
    "persona_affinity_baskets": (STATUS, [P(BasketsHandle), AffinityHandle]),
    "persona_affinity_save": (STATUS, [AffinityHandle, c_char_p]),
    "persona_affinity_load": (STATUS, [P(AffinityHandle), c_char_p]),
    # path.h
    "persona_path_options_init": (STATUS, [P(S.persona_path_options), c_uint32]),
    "persona_path_rule_init": (STATUS, [P(S.persona_path_rule), c_uint32]),
    "persona_path_info_init": (STATUS, [P(S.persona_path_info), c_uint32]),
    "persona_path_query_init": (STATUS, [P(S.persona_path_query), c_uint32]),
    "persona_path_build": (STATUS, [P(PathHandle), StoreHandle, P(S.persona_path_options)]),
    "persona_path_free": (None, [PathHandle]),
    "persona_path_info_get": (STATUS, [P(S.persona_path_info), PathHandle]),
    "persona_path_state_find": (STATUS, [P(c_uint32), PathHandle, c_char_p]),
    "persona_path_state_name": (STATUS, BUF + [PathHandle, c_uint32]),
    "persona_path_next": (STATUS, [P(c_uint32), P(c_double), c_size_t, P(c_size_t), P(c_int32),
                                   PathHandle, P(c_uint32), c_size_t, c_int32]),
    "persona_path_next_user": (STATUS, [P(c_uint32), P(c_double), c_size_t, P(c_size_t),
                                        P(c_int32), PathHandle, c_char_p, c_int32]),
    "persona_path_explore": (STATUS, [P(PathListHandle), PathHandle, P(S.persona_path_query)]),
    "persona_path_transitions": (STATUS, [P(PathListHandle), PathHandle, c_int32]),
    "persona_path_list_free": (None, [PathListHandle]),
    "persona_path_list_size": (STATUS, [P(c_size_t), PathListHandle]),
    "persona_path_list_row": (STATUS, [P(c_uint32), c_size_t, P(c_size_t), P(c_uint64),
                                       P(c_uint64), PathListHandle, c_size_t]),
    "persona_path_save": (STATUS, [PathHandle, c_char_p]),
    "persona_path_load": (STATUS, [P(PathHandle), c_char_p]),
    "persona_path_merge": (STATUS, [P(PathHandle), PathHandle, PathHandle]),
    # attribution.h
    "persona_attribution_options_init": (STATUS, [P(S.persona_attribution_options), c_uint32]),
    "persona_attribution_journeys_init": (STATUS, [P(S.persona_attribution_journeys), c_uint32]),
    "persona_attribution_model_options_init": (STATUS, [P(S.persona_attribution_model_options),
                                                        c_uint32]),
    "persona_attribution_info_init": (STATUS, [P(S.persona_attribution_info), c_uint32]),
    "persona_attribution_build": (STATUS, [P(AttributionHandle), StoreHandle,
                                           P(S.persona_attribution_options)]),
    "persona_attribution_from_journeys": (STATUS, [P(AttributionHandle),
                                                   P(S.persona_attribution_journeys)]),
    "persona_attribution_free": (None, [AttributionHandle]),
    "persona_attribution_info_get": (STATUS, [P(S.persona_attribution_info), AttributionHandle]),
    "persona_attribution_channel_name": (STATUS, BUF + [AttributionHandle, c_size_t]),
    "persona_attribution_path": (STATUS, [P(c_uint32), c_size_t, P(c_size_t), P(c_uint64),
                                          P(c_double), P(c_uint64), AttributionHandle, c_size_t]),
    "persona_attribution_compute": (STATUS, [P(c_double), P(c_double), P(c_double), P(c_double),
                                             c_size_t, P(c_size_t), AttributionHandle,
                                             P(S.persona_attribution_model_options)]),
    "persona_attribution_merge": (STATUS, [P(AttributionHandle), AttributionHandle,
                                           AttributionHandle]),
    "persona_attribution_save": (STATUS, [AttributionHandle, c_char_p]),
    "persona_attribution_load": (STATUS, [P(AttributionHandle), c_char_p]),
    # metrics.h
    "persona_metrics_init": (STATUS, [P(S.persona_metrics), c_uint32]),
    "persona_metrics_compute": (STATUS, [P(S.persona_metrics), P(c_double), P(c_double),
                                         c_size_t, c_double]),
    "persona_metrics_bins": (STATUS, [P(c_uint64), P(c_uint64), P(c_double), P(c_double),
                                      P(c_double), c_size_t, P(c_double), P(c_double),
                                      c_size_t]),
}


# --------------------------------------------------------------------------- loading

def _package_dir():
    return os.path.dirname(os.path.abspath(__file__))


def _build_tree_candidates(start):
    """build*/lib/libpersona.so.1 in the nearest ancestor of ``start`` that has one;
    ``build`` first, then other build directories alphabetically."""
    directory = start
    while True:
        try:
            names = sorted(n for n in os.listdir(directory) if n.startswith("build"))
        except OSError:
            names = []
        names.sort(key=lambda n: n != "build")
        found = [os.path.join(directory, n, "lib", SONAME) for n in names]
        found = [p for p in found if os.path.isfile(p)]
        if found:
            return found
        parent = os.path.dirname(directory)
        if parent == directory:
            return []
        directory = parent


def candidate_paths():
    """Where the library is looked for, in order (CONVENTIONS §14)."""
    explicit = os.environ.get(LIBRARY_ENV)
    if explicit:
        return [explicit]  # an explicit choice is never silently replaced by another library
    package = _package_dir()
    paths = [os.path.join(package, SONAME)]
    paths += _build_tree_candidates(os.path.dirname(package))
    system = ctypes.util.find_library("persona")
    if system:
        paths.append(system)
    return paths


def _declare(cdll):
    missing = []
    for name, (restype, argtypes) in PROTOTYPES.items():
        try:
            func = getattr(cdll, name)
        except AttributeError:
            missing.append(name)
            continue
        func.argtypes = argtypes
        if restype is STATUS:
            func.restype = c_int
            func.errcheck = _check_status
        else:
            func.restype = restype
    return missing


def _check_version(cdll, path):
    number = cdll.persona_version_number()
    major, minor = number // 1000000, number // 1000 % 1000
    if major != REQUIRED_MAJOR or minor < MIN_MINOR:
        raise OSError(f"{path}: libpersona {major}.{minor} found, these bindings need "
                      f"{REQUIRED_MAJOR}.x with x >= {MIN_MINOR}")


def load_library():
    """(the prepared CDLL, its path); OSError names every path tried and why it failed."""
    tried = []
    for path in candidate_paths():
        if os.sep in path and not os.path.exists(path):
            tried.append(f"{path} (no such file)")
            continue
        try:
            cdll = ctypes.CDLL(path)
        except OSError as err:
            tried.append(f"{path} ({err})")
            continue
        missing = _declare(cdll)
        if missing:
            raise OSError(f"{path} lacks libpersona symbols: {', '.join(missing)}")
        _check_version(cdll, path)
        return cdll, path
    if not tried:
        tried.append("(no candidate found)")
    raise OSError(f"cannot load {SONAME}; set {LIBRARY_ENV} to its path. Tried: "
                  + "; ".join(tried))


lib, library_path = load_library()


# --------------------------------------------------------------------------- helpers

def new_struct(cls):
    """A caller-filled struct with ``struct_size`` set: through its ``persona_*_init``
    function when the C API has one."""
    value = cls()
    if cls._init_:
        getattr(lib, cls._init_)(byref(value), ctypes.sizeof(value))
    else:
        value.struct_size = ctypes.sizeof(value)
    return value


def encode(text, what="string"):
    """UTF-8 bytes for C; None stays None (NULL). Lone surrogates pass through
    ('surrogatepass') so the library, not Python, reports invalid UTF-8; bytes are passed
    as given. C strings end at NUL, so an embedded NUL is refused here."""
    if text is None:
        return None
    if isinstance(text, bytes):
        data = text
    elif isinstance(text, str):
        data = text.encode("utf-8", "surrogatepass")
    else:
        data = str(text).encode("utf-8", "surrogatepass")
    if b"\0" in data:
        raise ValueError(f"{what} contains a NUL byte: {text!r}")
    return data


def decode(data):
    return data.decode("utf-8")


def read_string(func, *args, capacity=256):
    """Call a ``(buf, capacity, out_len, *args)`` function, growing the buffer on EBUFS."""
    out_len = c_size_t()
    while True:
        buf = ctypes.create_string_buffer(capacity)
        try:
            func(buf, capacity, byref(out_len), *args)
        except BufferTooSmallError:
            capacity = max(out_len.value + 1, capacity * 2)
            continue
        return decode(buf.raw[:out_len.value])


def take_owned_string(func, *args):
    """Call a ``(char **out, size_t *out_len, *args)`` function and release the result
    with persona_free() once copied."""
    out, out_len = c_void_p(), c_size_t()
    func(byref(out), byref(out_len), *args)
    try:
        return decode(ctypes.string_at(out.value, out_len.value)) if out_len.value else ""
    finally:
        lib.persona_free(out)


def strerror(code):
    """Static description of a result code (persona_strerror)."""
    return decode(lib.persona_strerror(code))


def reject_reason_name(reason):
    """Short name of a PERSONA_REJECT_* reason (persona_reject_reason_name)."""
    return decode(lib.persona_reject_reason_name(reason))


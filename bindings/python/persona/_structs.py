"""ctypes mirrors of the caller-filled structs of include/persona/*.h.

Field names and order are exactly the C ones (a test compares sizes and offsets with the
C compiler's). Each class names the ``persona_*_init`` function that fills its defaults
(``_init_``), or None when the C API has none; ``_capi.new_struct`` uses it.
"""
from ctypes import (CFUNCTYPE, POINTER, Structure, c_char_p, c_double, c_int, c_int32,
                    c_int64, c_size_t, c_uint32, c_uint64, c_void_p)

REJECT_SLOTS = 32     # PERSONA_REJECT_SLOTS
REJECT_EXAMPLES = 4   # PERSONA_REJECT_EXAMPLES

# Callback types (data pointers as c_void_p: pieces are not NUL-terminated).
PROGRESS_FN = CFUNCTYPE(c_int, c_void_p, c_uint64, c_uint64)
WRITE_FN = CFUNCTYPE(c_int, c_void_p, c_void_p, c_size_t)
MEMBER_FN = CFUNCTYPE(c_int, c_void_p, c_void_p, c_size_t, c_uint32)
SEGMENT_FN = CFUNCTYPE(c_int, c_void_p, c_void_p, c_size_t, c_char_p, c_int32, c_int64)
AFFINITY_MEMBER_FN = CFUNCTYPE(c_int, c_void_p, c_void_p, c_size_t)
ALLOCATE_FN = CFUNCTYPE(c_void_p, c_void_p, c_size_t)
REALLOCATE_FN = CFUNCTYPE(c_void_p, c_void_p, c_void_p, c_size_t)
DEALLOCATE_FN = CFUNCTYPE(None, c_void_p, c_void_p)


class persona_allocator(Structure):
    _init_ = "persona_allocator_init"
    _fields_ = [
        ("struct_size", c_uint32),
        ("reserved", c_uint32),
        ("ctx", c_void_p),
        ("allocate", ALLOCATE_FN),
        ("reallocate", REALLOCATE_FN),
        ("deallocate", DEALLOCATE_FN),
    ]


class persona_event(Structure):
    _init_ = "persona_event_init"
    _fields_ = [
        ("struct_size", c_uint32),
        ("reserved", c_uint32),
        ("user", c_char_p),
        ("time_ms", c_int64),
        ("type", c_char_p),
        ("item", c_char_p),
        ("value", c_double),
        ("event_id", c_char_p),
        ("basket", c_char_p),
        ("prop_names", POINTER(c_char_p)),
        ("prop_values", POINTER(c_char_p)),
        ("n_props", c_size_t),
    ]


class persona_ingest_stats(Structure):
    _init_ = "persona_ingest_stats_init"
    _fields_ = [
        ("struct_size", c_uint32),
        ("reserved", c_uint32),
        ("rows_read", c_uint64),
        ("bytes_read", c_uint64),
        ("events_accepted", c_uint64),
        ("events_rejected", c_uint64),
        ("rejected", c_uint64 * REJECT_SLOTS),
        ("example_lines", (c_uint64 * REJECT_EXAMPLES) * REJECT_SLOTS),
        ("users_created", c_uint64),
    ]


class persona_ingest_options(Structure):
    _init_ = "persona_ingest_options_init"
    _fields_ = [
        ("struct_size", c_uint32),
        ("flags", c_uint32),
        ("progress", PROGRESS_FN),
        ("progress_ctx", c_void_p),
        ("progress_every", c_uint64),
    ]


class persona_attribute(Structure):
    _init_ = "persona_attribute_init"
    _fields_ = [
        ("struct_size", c_uint32),
        ("type", c_int32),
        ("user", c_char_p),
        ("name", c_char_p),
        ("num", c_double),
        ("str", c_char_p),
        ("time_ms", c_int64),
        ("boolean", c_int32),
        ("reserved", c_int32),
    ]


class persona_store_options(Structure):
    _init_ = "persona_store_options_init"
    _fields_ = [
        ("struct_size", c_uint32),
        ("flags", c_uint32),
        ("session_gap_ms", c_int64),
        ("decay_half_life_ms", c_int64),
        ("hash_seed", c_uint64),
    ]


class persona_store_info(Structure):
    _init_ = "persona_store_info_init"
    _fields_ = [
        ("struct_size", c_uint32),
        ("reserved", c_uint32),
        ("users", c_uint64),
        ("events", c_uint64),
        ("event_types", c_uint64),
        ("items", c_uint64),
        ("baskets", c_uint64),
        ("first_time_ms", c_int64),
        ("last_time_ms", c_int64),
        ("bytes_events", c_uint64),
        ("bytes_profiles", c_uint64),
        ("bytes_total", c_uint64),
    ]


class persona_profile_info(Structure):
    _init_ = "persona_profile_info_init"
    _fields_ = [
        ("struct_size", c_uint32),
        ("reserved", c_uint32),
        ("events", c_uint64),
        ("first_seen_ms", c_int64),
        ("last_seen_ms", c_int64),
        ("value_sum", c_double),
        ("orders", c_uint64),
        ("sessions", c_uint64),
        ("event_types", c_uint64),
        ("attributes", c_uint64),
    ]


# The vtable's callbacks; defined after persona_event and persona_attribute they point to.
NEXT_FN = CFUNCTYPE(c_int, c_void_p, POINTER(POINTER(persona_event)), POINTER(c_size_t))
REWIND_FN = CFUNCTYPE(c_int, c_void_p)
NEXT_ATTRIBUTES_FN = CFUNCTYPE(c_int, c_void_p, POINTER(POINTER(persona_attribute)),
                               POINTER(c_size_t))
CLOSE_FN = CFUNCTYPE(c_int, c_void_p)


class persona_source_vtable(Structure):
    _init_ = "persona_source_vtable_init"
    _fields_ = [
        ("struct_size", c_uint32),
        ("reserved", c_uint32),
        ("next", NEXT_FN),
        ("rewind", REWIND_FN),
        ("next_attributes", NEXT_ATTRIBUTES_FN),
        ("close", CLOSE_FN),
    ]


class persona_mapping(Structure):
    _init_ = "persona_mapping_init"
    _fields_ = [
        ("struct_size", c_uint32),
        ("time_offset_minutes", c_int32),
        ("user", c_char_p),
        ("time", c_char_p),
        ("time_format", c_char_p),
        ("event", c_char_p),
        ("event_const", c_char_p),
        ("item", c_char_p),
        ("basket", c_char_p),
        ("event_id", c_char_p),
        ("value", c_char_p),
        ("prop_names", POINTER(c_char_p)),
        ("prop_columns", POINTER(c_char_p)),
        ("n_props", c_size_t),
    ]


class persona_csv_options(Structure):
    _init_ = "persona_csv_options_init"
    _fields_ = [
        ("struct_size", c_uint32),
        ("delimiter", c_uint32),
        ("flags", c_uint32),
        ("reserved", c_uint32),
        ("max_row_bytes", c_size_t),
    ]


class persona_event_arrays(Structure):
    _init_ = "persona_event_arrays_init"
    _fields_ = [
        ("struct_size", c_uint32),
        ("reserved", c_uint32),
        ("count", c_size_t),
        ("user", POINTER(c_char_p)),
        ("time_ms", POINTER(c_int64)),
        ("type", POINTER(c_char_p)),
        ("item", POINTER(c_char_p)),
        ("value", POINTER(c_double)),
        ("event_id", POINTER(c_char_p)),
        ("basket", POINTER(c_char_p)),
        ("n_props", c_size_t),
        ("prop_names", POINTER(c_char_p)),
        ("prop_values", POINTER(POINTER(c_char_p))),
    ]


class persona_erase_receipt(Structure):
    _init_ = "persona_erase_receipt_init"
    _fields_ = [
        ("struct_size", c_uint32),
        ("reserved", c_uint32),
        ("events", c_uint64),
        ("identifiers", c_uint64),
        ("attributes", c_uint64),
        ("consents", c_uint64),
        ("stale_models", c_uint64),
    ]


class persona_identifier(Structure):
    _init_ = None  # no init function: PERSONA_IDENTIFIER() is a macro
    _fields_ = [
        ("struct_size", c_uint32),
        ("type", c_int32),
        ("value", c_char_p),
    ]


class persona_alias_result(Structure):
    _init_ = "persona_alias_result_init"
    _fields_ = [
        ("struct_size", c_uint32),
        ("outcome", c_int32),
        ("merged", c_uint32),
        ("added", c_uint32),
        ("same", c_uint32),
        ("blocked", c_uint32),
        ("blocked_type", c_int32),
        ("reserved", c_uint32),
        ("events_replayed", c_uint64),
    ]


class persona_cohort_options(Structure):
    _init_ = "persona_cohort_options_init"
    _fields_ = [
        ("struct_size", c_uint32),
        ("kind", c_int32),
        ("period", c_int32),
        ("row_period", c_int32),
        ("window_ms", c_int64),
        ("utc_offset_minutes", c_int32),
        ("cohort_by", c_int32),
        ("cohort_event", c_char_p),
        ("cohort_property", c_char_p),
        ("retention", c_int32),
        ("metrics", c_uint32),
        ("active_types", POINTER(c_char_p)),
        ("n_active_types", c_size_t),
        ("brackets", POINTER(c_uint32)),
        ("n_brackets", c_size_t),
        ("periods", c_uint32),
        ("min_users", c_uint32),
        ("consent_purpose", c_char_p),
        ("from_ms", c_int64),
        ("to_ms", c_int64),
        ("threads", c_int32),
    ]


class persona_funnel_step(Structure):
    _init_ = "persona_funnel_step_init"
    _fields_ = [
        ("struct_size", c_uint32),
        ("event_type", c_char_p),
        ("where_property", c_char_p),
        ("where_value", c_char_p),
        ("where_op", c_int32),
        ("min_ms", c_int64),
        ("max_ms", c_int64),
    ]


class persona_funnel_exclusion(Structure):
    _init_ = "persona_funnel_exclusion_init"
    _fields_ = [
        ("struct_size", c_uint32),
        ("from_step", c_uint32),
        ("to_step", c_uint32),
        ("event", POINTER(persona_funnel_step)),
    ]


class persona_funnel_options(Structure):
    _init_ = "persona_funnel_options_init"
    _fields_ = [
        ("struct_size", c_uint32),
        ("steps", POINTER(POINTER(persona_funnel_step))),
        ("n_steps", c_size_t),
        ("exclusions", POINTER(POINTER(persona_funnel_exclusion))),
        ("n_exclusions", c_size_t),
        ("window_ms", c_int64),
        ("order", c_int32),
        ("count", c_int32),
        ("hold_property", c_char_p),
        ("trend_period", c_int32),
        ("utc_offset_minutes", c_int32),
        ("consent_purpose", c_char_p),
        ("from_ms", c_int64),
        ("to_ms", c_int64),
    ]


class persona_segment_options(Structure):
    _init_ = "persona_segment_options_init"
    _fields_ = [
        ("struct_size", c_uint32),
        ("mode", c_int32),
    ]


class persona_eval_context(Structure):
    _init_ = "persona_eval_context_init"
    _fields_ = [
        ("struct_size", c_uint32),
        ("hour", c_int32),
        ("now_ms", c_int64),
        ("count", c_size_t),
        ("names", POINTER(c_char_p)),
        ("values", POINTER(c_char_p)),
    ]


class persona_rfm_options(Structure):
    _init_ = "persona_rfm_options_init"
    _fields_ = [
        ("struct_size", c_uint32),
        ("bins", c_uint32),
        ("purchase_type", c_char_p),
        ("return_type", c_char_p),
        ("reference_ms", c_int64),
        ("from_ms", c_int64),
        ("consent_purpose", c_char_p),
    ]


class persona_rfm_entry(Structure):
    _init_ = "persona_rfm_entry_init"
    _fields_ = [
        ("struct_size", c_uint32),
        ("segment", c_int32),
        ("last_purchase_ms", c_int64),
        ("recency_days", c_int64),
        ("frequency", c_uint64),
        ("monetary", c_double),
        ("r", c_int32),
        ("f", c_int32),
        ("m", c_int32),
        ("reserved", c_uint32),
    ]


class persona_kmeans_options(Structure):
    _init_ = "persona_kmeans_options_init"
    _fields_ = [
        ("struct_size", c_uint32),
        ("k", c_uint32),
        ("max_iter", c_uint32),
        ("n_init", c_uint32),
        ("tol", c_double),
        ("seed", c_uint64),
        ("init_centers", POINTER(c_double)),
        ("algorithm", c_int32),
        ("threads", c_uint32),
        ("batch_size", c_uint32),
        ("reserved", c_uint32),
    ]


class persona_kmeans_info(Structure):
    _init_ = "persona_kmeans_info_init"
    _fields_ = [
        ("struct_size", c_uint32),
        ("k", c_uint32),
        ("d", c_uint64),
        ("n", c_uint64),
        ("inertia", c_double),
        ("iterations", c_uint32),
        ("converged", c_uint32),
        ("n_views", c_uint32),
        ("rounds", c_uint32),
    ]


class persona_kmeans_views(Structure):
    _init_ = "persona_kmeans_views_init"
    _fields_ = [
        ("struct_size", c_uint32),
        ("n_views", c_uint32),
        ("view_of", POINTER(c_uint32)),
        ("weights", POINTER(c_double)),
        ("gamma", c_double),
        ("max_rounds", c_uint32),
    ]


class persona_cluster_scores(Structure):
    _init_ = "persona_cluster_scores_init"
    _fields_ = [
        ("struct_size", c_uint32),
        ("k", c_uint32),
        ("silhouette", c_double),
        ("davies_bouldin", c_double),
        ("calinski_harabasz", c_double),
        ("inertia", c_double),
        ("silhouette_points", c_uint64),
    ]


class persona_hclust_options(Structure):
    _init_ = "persona_hclust_options_init"
    _fields_ = [
        ("struct_size", c_uint32),
        ("method", c_int32),
        ("threads", c_uint32),
    ]


class persona_hclust_info(Structure):
    _init_ = "persona_hclust_info_init"
    _fields_ = [
        ("struct_size", c_uint32),
        ("method", c_int32),
        ("n", c_uint64),
        ("d", c_uint64),
    ]


class persona_features_options(Structure):
    _init_ = "persona_features_options_init"
    _fields_ = [
        ("struct_size", c_uint32),
        ("flags", c_uint32),
        ("as_of_ms", c_int64),
        ("max_levels", c_uint32),
        ("reserved", c_uint32),
    ]


class persona_features_info(Structure):
    _init_ = "persona_features_info_init"
    _fields_ = [
        ("struct_size", c_uint32),
        ("views", c_uint32),
        ("n", c_uint64),
        ("d", c_uint64),
        ("as_of_ms", c_int64),
        ("flags", c_uint32),
        ("reserved", c_uint32),
    ]


class persona_features_column(Structure):
    _init_ = "persona_features_column_init"
    _fields_ = [
        ("struct_size", c_uint32),
        ("view", c_uint32),
        ("transform", c_int32),
        ("standardized", c_uint32),
        ("fill", c_double),
        ("mean", c_double),
        ("sd", c_double),
        ("present", c_uint64),
    ]


class persona_affinity_options(Structure):
    _init_ = "persona_affinity_options_init"
    _fields_ = [
        ("struct_size", c_uint32),
        ("by", c_int32),
        ("session_gap_ms", c_int64),
        ("event_types", POINTER(c_char_p)),
        ("n_event_types", c_size_t),
        ("consent_purpose", c_char_p),
        ("category_source", c_int32),
        ("reserved", c_uint32),
        ("category_prop", c_char_p),
    ]


class persona_affinity_info(Structure):
    _init_ = "persona_affinity_info_init"
    _fields_ = [
        ("struct_size", c_uint32),
        ("by", c_int32),
        ("units", c_uint64),
        ("items", c_uint64),
        ("pairs", c_uint64),
        ("users", c_uint64),
        ("categories", c_uint64),
        ("entries", c_uint64),
    ]


class persona_affinity_pair_info(Structure):
    _init_ = "persona_affinity_pair_info_init"
    _fields_ = [
        ("struct_size", c_uint32),
        ("reserved", c_uint32),
        ("count_ab", c_uint64),
        ("count_a", c_uint64),
        ("count_b", c_uint64),
        ("units", c_uint64),
        ("support", c_double),
        ("confidence", c_double),
        ("lift", c_double),
        ("jaccard", c_double),
        ("cosine", c_double),
        ("conviction", c_double),
        ("leverage", c_double),
    ]


class persona_itemsets_options(Structure):
    _init_ = "persona_itemsets_options_init"
    _fields_ = [
        ("struct_size", c_uint32),
        ("target", c_int32),
        ("min_support", c_double),
        ("min_count", c_uint64),
        ("max_itemsets", c_uint64),
        ("max_size", c_uint32),
        ("threads", c_uint32),
    ]


class persona_assoc_rules_options(Structure):
    _init_ = "persona_assoc_rules_options_init"
    _fields_ = [
        ("struct_size", c_uint32),
        ("sort_by", c_int32),
        ("min_confidence", c_double),
        ("min_lift", c_double),
        ("top", c_uint64),
        ("max_rules", c_uint64),
        ("antecedent_items", POINTER(c_uint32)),
        ("n_antecedent_items", c_size_t),
        ("consequent_items", POINTER(c_uint32)),
        ("n_consequent_items", c_size_t),
    ]


class persona_assoc_rule(Structure):
    _init_ = "persona_assoc_rule_init"
    _fields_ = [
        ("struct_size", c_uint32),
        ("n_antecedent", c_uint32),
        ("n_consequent", c_uint32),
        ("reserved", c_uint32),
        ("count", c_uint64),
        ("support", c_double),
        ("confidence", c_double),
        ("lift", c_double),
        ("conviction", c_double),
        ("leverage", c_double),
        ("jaccard", c_double),
        ("cosine", c_double),
        ("antecedent_support", c_double),
        ("consequent_support", c_double),
    ]


class persona_path_rule(Structure):
    _init_ = "persona_path_rule_init"
    _fields_ = [
        ("struct_size", c_uint32),
        ("reserved", c_uint32),
        ("pattern", c_char_p),
        ("state", c_char_p),
    ]


class persona_path_options(Structure):
    _init_ = "persona_path_options_init"
    _fields_ = [
        ("struct_size", c_uint32),
        ("order", c_int32),
        ("session_gap_ms", c_int64),
        ("session_prop", c_char_p),
        ("state_prop", c_char_p),
        ("rules", POINTER(persona_path_rule)),
        ("n_rules", c_size_t),
        ("consent_purpose", c_char_p),
    ]


class persona_path_info(Structure):
    _init_ = "persona_path_info_init"
    _fields_ = [
        ("struct_size", c_uint32),
        ("order", c_int32),
        ("states", c_uint64),
        ("sessions", c_uint64),
        ("users", c_uint64),
        ("events", c_uint64),
        ("skipped", c_uint64),
        ("contexts", c_uint64),
        ("transitions", c_uint64),
    ]


class persona_path_query(Structure):
    _init_ = "persona_path_query_init"
    _fields_ = [
        ("struct_size", c_uint32),
        ("kind", c_int32),
        ("start_state", c_char_p),
        ("end_state", c_char_p),
        ("goal_state", c_char_p),
        ("exclude", POINTER(c_char_p)),
        ("n_exclude", c_size_t),
        ("max_steps", c_uint32),
        ("reserved", c_uint32),
        ("top", c_uint64),
    ]




class persona_attribution_options(Structure):
    _init_ = "persona_attribution_options_init"
    _fields_ = [
        ("struct_size", c_uint32),
        ("reserved", c_uint32),
        ("channel_prop", c_char_p),
        ("conversion_types", POINTER(c_char_p)),
        ("n_conversion_types", c_size_t),
        ("touch_types", POINTER(c_char_p)),
        ("n_touch_types", c_size_t),
        ("lookback_ms", c_int64),
        ("half_life_ms", c_int64),
        ("consent_purpose", c_char_p),
    ]


class persona_attribution_journeys(Structure):
    _init_ = "persona_attribution_journeys_init"
    _fields_ = [
        ("struct_size", c_uint32),
        ("reserved", c_uint32),
        ("channels", POINTER(c_char_p)),
        ("n_channels", c_size_t),
        ("n_journeys", c_size_t),
        ("offsets", POINTER(c_uint64)),
        ("touch_channels", POINTER(c_uint32)),
        ("conversions", POINTER(c_uint64)),
        ("values", POINTER(c_double)),
        ("nulls", POINTER(c_uint64)),
        ("touch_ages_ms", POINTER(c_int64)),
        ("half_life_ms", c_int64),
    ]


class persona_attribution_model_options(Structure):
    _init_ = "persona_attribution_model_options_init"
    _fields_ = [
        ("struct_size", c_uint32),
        ("model", c_int32),
        ("order", c_int32),
        ("reserved", c_uint32),
        ("position_first", c_double),
        ("position_middle", c_double),
        ("position_last", c_double),
    ]


class persona_attribution_info(Structure):
    _init_ = "persona_attribution_info_init"
    _fields_ = [
        ("struct_size", c_uint32),
        ("reserved", c_uint32),
        ("channels", c_uint64),
        ("paths", c_uint64),
        ("conversions", c_uint64),
        ("nulls", c_uint64),
        ("touchpoints", c_uint64),
        ("value", c_double),
        ("conversions_without_touch", c_uint64),
        ("value_without_touch", c_double),
        ("half_life_ms", c_int64),
    ]


class persona_metrics(Structure):
    _init_ = "persona_metrics_init"
    _fields_ = [
        ("struct_size", c_uint32),
        ("reserved", c_uint32),
        ("rows", c_uint64),
        ("positives", c_uint64),
        ("roc_auc", c_double),
        ("pr_auc", c_double),
        ("log_loss", c_double),
        ("brier", c_double),
        ("threshold", c_double),
        ("accuracy", c_double),
        ("precision", c_double),
        ("recall", c_double),
        ("f1", c_double),
        ("best_f1", c_double),
        ("best_f1_threshold", c_double),
    ]


ALL_STRUCTS = (
    persona_allocator, persona_event, persona_ingest_stats, persona_ingest_options,
    persona_attribute, persona_store_options, persona_store_info, persona_profile_info,
    persona_source_vtable, persona_mapping, persona_csv_options, persona_event_arrays,
    persona_erase_receipt, persona_identifier, persona_alias_result, persona_cohort_options,
    persona_funnel_step, persona_funnel_exclusion, persona_funnel_options,
    persona_segment_options, persona_eval_context, persona_rfm_options, persona_rfm_entry,
    persona_kmeans_options, persona_kmeans_info, persona_kmeans_views, persona_cluster_scores,
    persona_hclust_options, persona_hclust_info, persona_features_options,
    persona_features_info, persona_features_column, persona_affinity_options,
    persona_affinity_info, persona_affinity_pair_info, persona_itemsets_options,
    persona_assoc_rules_options, persona_assoc_rule, persona_path_rule, persona_path_options,
    persona_path_info, persona_path_query, persona_attribution_options,
    persona_attribution_journeys, persona_attribution_model_options, persona_attribution_info,
    persona_metrics,
)

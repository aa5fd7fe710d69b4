/* ABI layout test (CONVENTIONS §5, §10, §11; TESTING §9).
 *
 * Pins, as literal numbers for x86_64 / LP64, the size of every public struct and the
 * offset and size of each of its fields, and the value of every PERSONA_* constant
 * (result codes, value types, periods, reject reasons, limits, flags, export formats):
 * all of them are ABI. A released value never changes; when a field or constant is
 * appended, add its line here (tests/abi/check_layout_coverage.py fails until you do).
 *
 * Also checks that each persona_*_init() sets struct_size and zeroes every other byte,
 * rejects NULL and a zero struct_size, and that each PERSONA_*_INIT macro gives the same
 * bytes (memcmp) as the init function, or as "struct_size set, the rest zero" for structs
 * without one. Links against libpersona.so. Exit 77 (skip) on a non-LP64 target.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "persona.h"

static int failures;
static int checks;

static void check_num(const char *what, long long got, long long want, int line)
{
    checks++;
    if (got != want) {
        failures++;
        fprintf(stderr, "test_layout.c:%d: %s is %lld, pinned ABI value is %lld\n", line, what,
                got, want);
    }
}

#define SIZE(T, n) check_num("sizeof(" #T ")", (long long)sizeof(T), (n), __LINE__)
#define FIELD(T, f, off, size)                                                             \
    do {                                                                                   \
        check_num("offsetof(" #T ", " #f ")", (long long)offsetof(T, f), (off), __LINE__);  \
        check_num("sizeof(" #T "." #f ")", (long long)sizeof(((T *)0)->f), (size), __LINE__); \
    } while (0)
#define CONST(name, value) check_num(#name, (long long)(name), (value), __LINE__)
/* A string constant: its bytes are pinned (0 when equal). */
#define STRCONST(name, value) check_num(#name, (long long)strcmp((name), (value)), 0, __LINE__)

static void layout(void)
{
    SIZE(persona_allocator, 40);
    FIELD(persona_allocator, struct_size, 0, 4);
    FIELD(persona_allocator, reserved, 4, 4);
    FIELD(persona_allocator, ctx, 8, 8);
    FIELD(persona_allocator, allocate, 16, 8);
    FIELD(persona_allocator, reallocate, 24, 8);
    FIELD(persona_allocator, deallocate, 32, 8);

    SIZE(persona_event, 88);
    FIELD(persona_event, struct_size, 0, 4);
    FIELD(persona_event, reserved, 4, 4);
    FIELD(persona_event, user, 8, 8);
    FIELD(persona_event, time_ms, 16, 8);
    FIELD(persona_event, type, 24, 8);
    FIELD(persona_event, item, 32, 8);
    FIELD(persona_event, value, 40, 8);
    FIELD(persona_event, event_id, 48, 8);
    FIELD(persona_event, basket, 56, 8);
    FIELD(persona_event, prop_names, 64, 8);
    FIELD(persona_event, prop_values, 72, 8);
    FIELD(persona_event, n_props, 80, 8);

    SIZE(persona_ingest_stats, 1328);
    FIELD(persona_ingest_stats, struct_size, 0, 4);
    FIELD(persona_ingest_stats, reserved, 4, 4);
    FIELD(persona_ingest_stats, rows_read, 8, 8);
    FIELD(persona_ingest_stats, bytes_read, 16, 8);
    FIELD(persona_ingest_stats, events_accepted, 24, 8);
    FIELD(persona_ingest_stats, events_rejected, 32, 8);
    FIELD(persona_ingest_stats, rejected, 40, 256);
    FIELD(persona_ingest_stats, example_lines, 296, 1024);
    FIELD(persona_ingest_stats, users_created, 1320, 8);

    SIZE(persona_ingest_options, 32);
    FIELD(persona_ingest_options, struct_size, 0, 4);
    FIELD(persona_ingest_options, flags, 4, 4);
    FIELD(persona_ingest_options, progress, 8, 8);
    FIELD(persona_ingest_options, progress_ctx, 16, 8);
    FIELD(persona_ingest_options, progress_every, 24, 8);

    SIZE(persona_attribute, 56);
    FIELD(persona_attribute, struct_size, 0, 4);
    FIELD(persona_attribute, type, 4, 4);
    FIELD(persona_attribute, user, 8, 8);
    FIELD(persona_attribute, name, 16, 8);
    FIELD(persona_attribute, num, 24, 8);
    FIELD(persona_attribute, str, 32, 8);
    FIELD(persona_attribute, time_ms, 40, 8);
    FIELD(persona_attribute, boolean, 48, 4);
    FIELD(persona_attribute, reserved, 52, 4);

    SIZE(persona_cohort_options, 128);
    FIELD(persona_cohort_options, struct_size, 0, 4);
    FIELD(persona_cohort_options, kind, 4, 4);
    FIELD(persona_cohort_options, period, 8, 4);
    FIELD(persona_cohort_options, row_period, 12, 4);
    FIELD(persona_cohort_options, window_ms, 16, 8);
    FIELD(persona_cohort_options, utc_offset_minutes, 24, 4);
    FIELD(persona_cohort_options, cohort_by, 28, 4);
    FIELD(persona_cohort_options, cohort_event, 32, 8);
    FIELD(persona_cohort_options, cohort_property, 40, 8);
    FIELD(persona_cohort_options, retention, 48, 4);
    FIELD(persona_cohort_options, metrics, 52, 4);
    FIELD(persona_cohort_options, active_types, 56, 8);
    FIELD(persona_cohort_options, n_active_types, 64, 8);
    FIELD(persona_cohort_options, brackets, 72, 8);
    FIELD(persona_cohort_options, n_brackets, 80, 8);
    FIELD(persona_cohort_options, periods, 88, 4);
    FIELD(persona_cohort_options, min_users, 92, 4);
    FIELD(persona_cohort_options, consent_purpose, 96, 8);
    FIELD(persona_cohort_options, from_ms, 104, 8);
    FIELD(persona_cohort_options, to_ms, 112, 8);
    FIELD(persona_cohort_options, threads, 120, 4);

    SIZE(persona_store_options, 32);
    FIELD(persona_store_options, struct_size, 0, 4);
    FIELD(persona_store_options, flags, 4, 4);
    FIELD(persona_store_options, session_gap_ms, 8, 8);
    FIELD(persona_store_options, decay_half_life_ms, 16, 8);
    FIELD(persona_store_options, hash_seed, 24, 8);

    SIZE(persona_erase_receipt, 48);
    FIELD(persona_erase_receipt, struct_size, 0, 4);
    FIELD(persona_erase_receipt, reserved, 4, 4);
    FIELD(persona_erase_receipt, events, 8, 8);
    FIELD(persona_erase_receipt, identifiers, 16, 8);
    FIELD(persona_erase_receipt, attributes, 24, 8);
    FIELD(persona_erase_receipt, consents, 32, 8);
    FIELD(persona_erase_receipt, stale_models, 40, 8);
    SIZE(persona_identifier, 16);
    FIELD(persona_identifier, struct_size, 0, 4);
    FIELD(persona_identifier, type, 4, 4);
    FIELD(persona_identifier, value, 8, 8);
    SIZE(persona_alias_result, 40);
    FIELD(persona_alias_result, struct_size, 0, 4);
    FIELD(persona_alias_result, outcome, 4, 4);
    FIELD(persona_alias_result, merged, 8, 4);
    FIELD(persona_alias_result, added, 12, 4);
    FIELD(persona_alias_result, same, 16, 4);
    FIELD(persona_alias_result, blocked, 20, 4);
    FIELD(persona_alias_result, blocked_type, 24, 4);
    FIELD(persona_alias_result, reserved, 28, 4);
    FIELD(persona_alias_result, events_replayed, 32, 8);
    SIZE(persona_store_info, 88);
    FIELD(persona_store_info, struct_size, 0, 4);
    FIELD(persona_store_info, reserved, 4, 4);
    FIELD(persona_store_info, users, 8, 8);
    FIELD(persona_store_info, events, 16, 8);
    FIELD(persona_store_info, event_types, 24, 8);
    FIELD(persona_store_info, items, 32, 8);
    FIELD(persona_store_info, baskets, 40, 8);
    FIELD(persona_store_info, first_time_ms, 48, 8);
    FIELD(persona_store_info, last_time_ms, 56, 8);
    FIELD(persona_store_info, bytes_events, 64, 8);
    FIELD(persona_store_info, bytes_profiles, 72, 8);
    FIELD(persona_store_info, bytes_total, 80, 8);

    SIZE(persona_profile_info, 72);
    FIELD(persona_profile_info, struct_size, 0, 4);
    FIELD(persona_profile_info, reserved, 4, 4);
    FIELD(persona_profile_info, events, 8, 8);
    FIELD(persona_profile_info, first_seen_ms, 16, 8);
    FIELD(persona_profile_info, last_seen_ms, 24, 8);
    FIELD(persona_profile_info, value_sum, 32, 8);
    FIELD(persona_profile_info, orders, 40, 8);
    FIELD(persona_profile_info, sessions, 48, 8);
    FIELD(persona_profile_info, event_types, 56, 8);
    FIELD(persona_profile_info, attributes, 64, 8);

    SIZE(persona_source_vtable, 40);
    FIELD(persona_source_vtable, struct_size, 0, 4);
    FIELD(persona_source_vtable, reserved, 4, 4);
    FIELD(persona_source_vtable, next, 8, 8);
    FIELD(persona_source_vtable, rewind, 16, 8);
    FIELD(persona_source_vtable, next_attributes, 24, 8);
    FIELD(persona_source_vtable, close, 32, 8);

    SIZE(persona_mapping, 104);
    FIELD(persona_mapping, struct_size, 0, 4);
    FIELD(persona_mapping, time_offset_minutes, 4, 4);
    FIELD(persona_mapping, user, 8, 8);
    FIELD(persona_mapping, time, 16, 8);
    FIELD(persona_mapping, time_format, 24, 8);
    FIELD(persona_mapping, event, 32, 8);
    FIELD(persona_mapping, event_const, 40, 8);
    FIELD(persona_mapping, item, 48, 8);
    FIELD(persona_mapping, basket, 56, 8);
    FIELD(persona_mapping, event_id, 64, 8);
    FIELD(persona_mapping, value, 72, 8);
    FIELD(persona_mapping, prop_names, 80, 8);
    FIELD(persona_mapping, prop_columns, 88, 8);
    FIELD(persona_mapping, n_props, 96, 8);

    SIZE(persona_csv_options, 24);
    FIELD(persona_csv_options, struct_size, 0, 4);
    FIELD(persona_csv_options, delimiter, 4, 4);
    FIELD(persona_csv_options, flags, 8, 4);
    FIELD(persona_csv_options, reserved, 12, 4);
    FIELD(persona_csv_options, max_row_bytes, 16, 8);

    SIZE(persona_event_arrays, 96);
    FIELD(persona_event_arrays, struct_size, 0, 4);
    FIELD(persona_event_arrays, reserved, 4, 4);
    FIELD(persona_event_arrays, count, 8, 8);
    FIELD(persona_event_arrays, user, 16, 8);
    FIELD(persona_event_arrays, time_ms, 24, 8);
    FIELD(persona_event_arrays, type, 32, 8);
    FIELD(persona_event_arrays, item, 40, 8);
    FIELD(persona_event_arrays, value, 48, 8);
    FIELD(persona_event_arrays, event_id, 56, 8);
    FIELD(persona_event_arrays, basket, 64, 8);
    FIELD(persona_event_arrays, n_props, 72, 8);
    FIELD(persona_event_arrays, prop_names, 80, 8);
    FIELD(persona_event_arrays, prop_values, 88, 8);

    /* Funnels (funnel.h). */
    SIZE(persona_funnel_step, 56);
    FIELD(persona_funnel_step, struct_size, 0, 4);
    FIELD(persona_funnel_step, event_type, 8, 8);
    FIELD(persona_funnel_step, where_property, 16, 8);
    FIELD(persona_funnel_step, where_value, 24, 8);
    FIELD(persona_funnel_step, where_op, 32, 4);
    FIELD(persona_funnel_step, min_ms, 40, 8);
    FIELD(persona_funnel_step, max_ms, 48, 8);
    SIZE(persona_funnel_exclusion, 24);
    FIELD(persona_funnel_exclusion, struct_size, 0, 4);
    FIELD(persona_funnel_exclusion, from_step, 4, 4);
    FIELD(persona_funnel_exclusion, to_step, 8, 4);
    FIELD(persona_funnel_exclusion, event, 16, 8);
    SIZE(persona_funnel_options, 96);
    FIELD(persona_funnel_options, struct_size, 0, 4);
    FIELD(persona_funnel_options, steps, 8, 8);
    FIELD(persona_funnel_options, n_steps, 16, 8);
    FIELD(persona_funnel_options, exclusions, 24, 8);
    FIELD(persona_funnel_options, n_exclusions, 32, 8);
    FIELD(persona_funnel_options, window_ms, 40, 8);
    FIELD(persona_funnel_options, order, 48, 4);
    FIELD(persona_funnel_options, count, 52, 4);
    FIELD(persona_funnel_options, hold_property, 56, 8);
    FIELD(persona_funnel_options, trend_period, 64, 4);
    FIELD(persona_funnel_options, utc_offset_minutes, 68, 4);
    FIELD(persona_funnel_options, consent_purpose, 72, 8);
    FIELD(persona_funnel_options, from_ms, 80, 8);
    FIELD(persona_funnel_options, to_ms, 88, 8);

    /* Segments (segment.h). */
    SIZE(persona_segment_options, 8);
    FIELD(persona_segment_options, struct_size, 0, 4);
    FIELD(persona_segment_options, mode, 4, 4);
    SIZE(persona_eval_context, 40);
    FIELD(persona_eval_context, struct_size, 0, 4);
    FIELD(persona_eval_context, hour, 4, 4);
    FIELD(persona_eval_context, now_ms, 8, 8);
    FIELD(persona_eval_context, count, 16, 8);
    FIELD(persona_eval_context, names, 24, 8);
    FIELD(persona_eval_context, values, 32, 8);

    SIZE(persona_rfm_options, 48);
    FIELD(persona_rfm_options, struct_size, 0, 4);
    FIELD(persona_rfm_options, bins, 4, 4);
    FIELD(persona_rfm_options, purchase_type, 8, 8);
    FIELD(persona_rfm_options, return_type, 16, 8);
    FIELD(persona_rfm_options, reference_ms, 24, 8);
    FIELD(persona_rfm_options, from_ms, 32, 8);
    FIELD(persona_rfm_options, consent_purpose, 40, 8);

    SIZE(persona_rfm_entry, 56);
    FIELD(persona_rfm_entry, struct_size, 0, 4);
    FIELD(persona_rfm_entry, segment, 4, 4);
    FIELD(persona_rfm_entry, last_purchase_ms, 8, 8);
    FIELD(persona_rfm_entry, recency_days, 16, 8);
    FIELD(persona_rfm_entry, frequency, 24, 8);
    FIELD(persona_rfm_entry, monetary, 32, 8);
    FIELD(persona_rfm_entry, r, 40, 4);
    FIELD(persona_rfm_entry, f, 44, 4);
    FIELD(persona_rfm_entry, m, 48, 4);
    FIELD(persona_rfm_entry, reserved, 52, 4);

    SIZE(persona_kmeans_options, 56);
    FIELD(persona_kmeans_options, struct_size, 0, 4);
    FIELD(persona_kmeans_options, k, 4, 4);
    FIELD(persona_kmeans_options, max_iter, 8, 4);
    FIELD(persona_kmeans_options, n_init, 12, 4);
    FIELD(persona_kmeans_options, tol, 16, 8);
    FIELD(persona_kmeans_options, seed, 24, 8);
    FIELD(persona_kmeans_options, init_centers, 32, 8);
    FIELD(persona_kmeans_options, algorithm, 40, 4);
    FIELD(persona_kmeans_options, threads, 44, 4);
    FIELD(persona_kmeans_options, batch_size, 48, 4);
    FIELD(persona_kmeans_options, reserved, 52, 4);

    SIZE(persona_kmeans_info, 48);
    FIELD(persona_kmeans_info, struct_size, 0, 4);
    FIELD(persona_kmeans_info, k, 4, 4);
    FIELD(persona_kmeans_info, d, 8, 8);
    FIELD(persona_kmeans_info, n, 16, 8);
    FIELD(persona_kmeans_info, inertia, 24, 8);
    FIELD(persona_kmeans_info, iterations, 32, 4);
    FIELD(persona_kmeans_info, converged, 36, 4);
    FIELD(persona_kmeans_info, n_views, 40, 4);
    FIELD(persona_kmeans_info, rounds, 44, 4);

    SIZE(persona_features_options, 24);
    FIELD(persona_features_options, struct_size, 0, 4);
    FIELD(persona_features_options, flags, 4, 4);
    FIELD(persona_features_options, as_of_ms, 8, 8);
    FIELD(persona_features_options, max_levels, 16, 4);
    FIELD(persona_features_options, reserved, 20, 4);

    SIZE(persona_features_info, 40);
    FIELD(persona_features_info, struct_size, 0, 4);
    FIELD(persona_features_info, views, 4, 4);
    FIELD(persona_features_info, n, 8, 8);
    FIELD(persona_features_info, d, 16, 8);
    FIELD(persona_features_info, as_of_ms, 24, 8);
    FIELD(persona_features_info, flags, 32, 4);
    FIELD(persona_features_info, reserved, 36, 4);

    SIZE(persona_features_column, 48);
    FIELD(persona_features_column, struct_size, 0, 4);
    FIELD(persona_features_column, view, 4, 4);
    FIELD(persona_features_column, transform, 8, 4);
    FIELD(persona_features_column, standardized, 12, 4);
    FIELD(persona_features_column, fill, 16, 8);
    FIELD(persona_features_column, mean, 24, 8);
    FIELD(persona_features_column, sd, 32, 8);
    FIELD(persona_features_column, present, 40, 8);

    SIZE(persona_cluster_scores, 48);
    FIELD(persona_cluster_scores, struct_size, 0, 4);
    FIELD(persona_cluster_scores, k, 4, 4);
    FIELD(persona_cluster_scores, silhouette, 8, 8);
    FIELD(persona_cluster_scores, davies_bouldin, 16, 8);
    FIELD(persona_cluster_scores, calinski_harabasz, 24, 8);
    FIELD(persona_cluster_scores, inertia, 32, 8);
    FIELD(persona_cluster_scores, silhouette_points, 40, 8);

    SIZE(persona_kmeans_views, 40);
    FIELD(persona_kmeans_views, struct_size, 0, 4);
    FIELD(persona_kmeans_views, n_views, 4, 4);
    FIELD(persona_kmeans_views, view_of, 8, 8);
    FIELD(persona_kmeans_views, weights, 16, 8);
    FIELD(persona_kmeans_views, gamma, 24, 8);
    FIELD(persona_kmeans_views, max_rounds, 32, 4);

    SIZE(persona_hclust_options, 12);
    FIELD(persona_hclust_options, struct_size, 0, 4);
    FIELD(persona_hclust_options, method, 4, 4);
    FIELD(persona_hclust_options, threads, 8, 4);

    SIZE(persona_hclust_info, 24);
    FIELD(persona_hclust_info, struct_size, 0, 4);
    FIELD(persona_hclust_info, method, 4, 4);
    FIELD(persona_hclust_info, n, 8, 8);
    FIELD(persona_hclust_info, d, 16, 8);

    SIZE(persona_affinity_options, 56);
    FIELD(persona_affinity_options, struct_size, 0, 4);
    FIELD(persona_affinity_options, by, 4, 4);
    FIELD(persona_affinity_options, session_gap_ms, 8, 8);
    FIELD(persona_affinity_options, event_types, 16, 8);
    FIELD(persona_affinity_options, n_event_types, 24, 8);
    FIELD(persona_affinity_options, consent_purpose, 32, 8);
    FIELD(persona_affinity_options, category_source, 40, 4);
    FIELD(persona_affinity_options, reserved, 44, 4);
    FIELD(persona_affinity_options, category_prop, 48, 8);

    SIZE(persona_affinity_info, 56);
    FIELD(persona_affinity_info, struct_size, 0, 4);
    FIELD(persona_affinity_info, by, 4, 4);
    FIELD(persona_affinity_info, units, 8, 8);
    FIELD(persona_affinity_info, items, 16, 8);
    FIELD(persona_affinity_info, pairs, 24, 8);
    FIELD(persona_affinity_info, users, 32, 8);
    FIELD(persona_affinity_info, categories, 40, 8);
    FIELD(persona_affinity_info, entries, 48, 8);

    SIZE(persona_affinity_pair_info, 96);
    FIELD(persona_affinity_pair_info, struct_size, 0, 4);
    FIELD(persona_affinity_pair_info, reserved, 4, 4);
    FIELD(persona_affinity_pair_info, count_ab, 8, 8);
    FIELD(persona_affinity_pair_info, count_a, 16, 8);
    FIELD(persona_affinity_pair_info, count_b, 24, 8);
    FIELD(persona_affinity_pair_info, units, 32, 8);
    FIELD(persona_affinity_pair_info, support, 40, 8);
    FIELD(persona_affinity_pair_info, confidence, 48, 8);
    FIELD(persona_affinity_pair_info, lift, 56, 8);
    FIELD(persona_affinity_pair_info, jaccard, 64, 8);
    FIELD(persona_affinity_pair_info, cosine, 72, 8);
    FIELD(persona_affinity_pair_info, conviction, 80, 8);
    FIELD(persona_affinity_pair_info, leverage, 88, 8);
    SIZE(persona_attribution_options, 72);
    FIELD(persona_attribution_options, struct_size, 0, 4);
    FIELD(persona_attribution_options, reserved, 4, 4);
    FIELD(persona_attribution_options, channel_prop, 8, 8);
    FIELD(persona_attribution_options, conversion_types, 16, 8);
    FIELD(persona_attribution_options, n_conversion_types, 24, 8);
    FIELD(persona_attribution_options, touch_types, 32, 8);
    FIELD(persona_attribution_options, n_touch_types, 40, 8);
    FIELD(persona_attribution_options, lookback_ms, 48, 8);
    FIELD(persona_attribution_options, half_life_ms, 56, 8);
    FIELD(persona_attribution_options, consent_purpose, 64, 8);

    SIZE(persona_attribution_journeys, 88);
    FIELD(persona_attribution_journeys, struct_size, 0, 4);
    FIELD(persona_attribution_journeys, reserved, 4, 4);
    FIELD(persona_attribution_journeys, channels, 8, 8);
    FIELD(persona_attribution_journeys, n_channels, 16, 8);
    FIELD(persona_attribution_journeys, n_journeys, 24, 8);
    FIELD(persona_attribution_journeys, offsets, 32, 8);
    FIELD(persona_attribution_journeys, touch_channels, 40, 8);
    FIELD(persona_attribution_journeys, conversions, 48, 8);
    FIELD(persona_attribution_journeys, values, 56, 8);
    FIELD(persona_attribution_journeys, nulls, 64, 8);
    FIELD(persona_attribution_journeys, touch_ages_ms, 72, 8);
    FIELD(persona_attribution_journeys, half_life_ms, 80, 8);

    SIZE(persona_attribution_model_options, 40);
    FIELD(persona_attribution_model_options, struct_size, 0, 4);
    FIELD(persona_attribution_model_options, model, 4, 4);
    FIELD(persona_attribution_model_options, order, 8, 4);
    FIELD(persona_attribution_model_options, reserved, 12, 4);
    FIELD(persona_attribution_model_options, position_first, 16, 8);
    FIELD(persona_attribution_model_options, position_middle, 24, 8);
    FIELD(persona_attribution_model_options, position_last, 32, 8);

    SIZE(persona_attribution_info, 80);
    FIELD(persona_attribution_info, struct_size, 0, 4);
    FIELD(persona_attribution_info, reserved, 4, 4);
    FIELD(persona_attribution_info, channels, 8, 8);
    FIELD(persona_attribution_info, paths, 16, 8);
    FIELD(persona_attribution_info, conversions, 24, 8);
    FIELD(persona_attribution_info, nulls, 32, 8);
    FIELD(persona_attribution_info, touchpoints, 40, 8);
    FIELD(persona_attribution_info, value, 48, 8);
    FIELD(persona_attribution_info, conversions_without_touch, 56, 8);
    FIELD(persona_attribution_info, value_without_touch, 64, 8);
    FIELD(persona_attribution_info, half_life_ms, 72, 8);

    SIZE(persona_itemsets_options, 40);
    FIELD(persona_itemsets_options, struct_size, 0, 4);
    FIELD(persona_itemsets_options, target, 4, 4);
    FIELD(persona_itemsets_options, min_support, 8, 8);
    FIELD(persona_itemsets_options, min_count, 16, 8);
    FIELD(persona_itemsets_options, max_itemsets, 24, 8);
    FIELD(persona_itemsets_options, max_size, 32, 4);
    FIELD(persona_itemsets_options, threads, 36, 4);

    SIZE(persona_assoc_rules_options, 72);
    FIELD(persona_assoc_rules_options, struct_size, 0, 4);
    FIELD(persona_assoc_rules_options, sort_by, 4, 4);
    FIELD(persona_assoc_rules_options, min_confidence, 8, 8);
    FIELD(persona_assoc_rules_options, min_lift, 16, 8);
    FIELD(persona_assoc_rules_options, top, 24, 8);
    FIELD(persona_assoc_rules_options, max_rules, 32, 8);
    FIELD(persona_assoc_rules_options, antecedent_items, 40, 8);
    FIELD(persona_assoc_rules_options, n_antecedent_items, 48, 8);
    FIELD(persona_assoc_rules_options, consequent_items, 56, 8);
    FIELD(persona_assoc_rules_options, n_consequent_items, 64, 8);

    SIZE(persona_assoc_rule, 96);
    FIELD(persona_assoc_rule, struct_size, 0, 4);
    FIELD(persona_assoc_rule, n_antecedent, 4, 4);
    FIELD(persona_assoc_rule, n_consequent, 8, 4);
    FIELD(persona_assoc_rule, reserved, 12, 4);
    FIELD(persona_assoc_rule, count, 16, 8);
    FIELD(persona_assoc_rule, support, 24, 8);
    FIELD(persona_assoc_rule, confidence, 32, 8);
    FIELD(persona_assoc_rule, lift, 40, 8);
    FIELD(persona_assoc_rule, conviction, 48, 8);
    FIELD(persona_assoc_rule, leverage, 56, 8);
    FIELD(persona_assoc_rule, jaccard, 64, 8);
    FIELD(persona_assoc_rule, cosine, 72, 8);
    FIELD(persona_assoc_rule, antecedent_support, 80, 8);
    FIELD(persona_assoc_rule, consequent_support, 88, 8);

    SIZE(persona_path_rule, 24);
    FIELD(persona_path_rule, struct_size, 0, 4);
    FIELD(persona_path_rule, reserved, 4, 4);
    FIELD(persona_path_rule, pattern, 8, 8);
    FIELD(persona_path_rule, state, 16, 8);
    SIZE(persona_path_options, 56);
    FIELD(persona_path_options, struct_size, 0, 4);
    FIELD(persona_path_options, order, 4, 4);
    FIELD(persona_path_options, session_gap_ms, 8, 8);
    FIELD(persona_path_options, session_prop, 16, 8);
    FIELD(persona_path_options, state_prop, 24, 8);
    FIELD(persona_path_options, rules, 32, 8);
    FIELD(persona_path_options, n_rules, 40, 8);
    FIELD(persona_path_options, consent_purpose, 48, 8);
    SIZE(persona_path_info, 64);
    FIELD(persona_path_info, struct_size, 0, 4);
    FIELD(persona_path_info, order, 4, 4);
    FIELD(persona_path_info, states, 8, 8);
    FIELD(persona_path_info, sessions, 16, 8);
    FIELD(persona_path_info, users, 24, 8);
    FIELD(persona_path_info, events, 32, 8);
    FIELD(persona_path_info, skipped, 40, 8);
    FIELD(persona_path_info, contexts, 48, 8);
    FIELD(persona_path_info, transitions, 56, 8);
    SIZE(persona_path_query, 64);
    FIELD(persona_path_query, struct_size, 0, 4);
    FIELD(persona_path_query, kind, 4, 4);
    FIELD(persona_path_query, start_state, 8, 8);
    FIELD(persona_path_query, end_state, 16, 8);
    FIELD(persona_path_query, goal_state, 24, 8);
    FIELD(persona_path_query, exclude, 32, 8);
    FIELD(persona_path_query, n_exclude, 40, 8);
    FIELD(persona_path_query, max_steps, 48, 4);
    FIELD(persona_path_query, reserved, 52, 4);
    FIELD(persona_path_query, top, 56, 8);
    SIZE(persona_metrics, 112);
    FIELD(persona_metrics, struct_size, 0, 4);
    FIELD(persona_metrics, reserved, 4, 4);
    FIELD(persona_metrics, rows, 8, 8);
    FIELD(persona_metrics, positives, 16, 8);
    FIELD(persona_metrics, roc_auc, 24, 8);
    FIELD(persona_metrics, pr_auc, 32, 8);
    FIELD(persona_metrics, log_loss, 40, 8);
    FIELD(persona_metrics, brier, 48, 8);
    FIELD(persona_metrics, threshold, 56, 8);
    FIELD(persona_metrics, accuracy, 64, 8);
    FIELD(persona_metrics, precision, 72, 8);
    FIELD(persona_metrics, recall, 80, 8);
    FIELD(persona_metrics, f1, 88, 8);
    FIELD(persona_metrics, best_f1, 96, 8);
    FIELD(persona_metrics, best_f1_threshold, 104, 8);
}


static void constants(void)
{
    /* Result codes. */
    CONST(PERSONA_ATTRIBUTION_MARKOV, 0);
    CONST(PERSONA_ATTRIBUTION_FIRST, 1);
    CONST(PERSONA_ATTRIBUTION_LAST, 2);
    CONST(PERSONA_ATTRIBUTION_LINEAR, 3);
    CONST(PERSONA_ATTRIBUTION_POSITION, 4);
    CONST(PERSONA_ATTRIBUTION_DECAY, 5);
    CONST(PERSONA_ATTRIBUTION_MODELS, 6);
    CONST(PERSONA_ATTRIBUTION_MAX_ORDER, 4);
    CONST(PERSONA_OK, 0);
    CONST(PERSONA_EINVAL, -1);
    CONST(PERSONA_ENOMEM, -2);
    CONST(PERSONA_EBUFS, -3);
    CONST(PERSONA_ENOTFOUND, -4);
    CONST(PERSONA_EPARSE, -5);
    CONST(PERSONA_EIO, -6);
    CONST(PERSONA_ECORRUPT, -7);
    CONST(PERSONA_EVERSION, -8);
    CONST(PERSONA_EUNSUPPORTED, -9);
    CONST(PERSONA_EBUSY, -10);
    CONST(PERSONA_ECALLBACK, -11);
    CONST(PERSONA_EMISUSE, -12);
    CONST(PERSONA_EINTERNAL, -13);

    /* Value types. */
    CONST(PERSONA_NULL, 0);
    CONST(PERSONA_NUM, 1);
    CONST(PERSONA_STR, 2);
    CONST(PERSONA_BOOL, 3);
    CONST(PERSONA_TIME, 4);

    /* Calendar periods. */
    CONST(PERSONA_PERIOD_HOUR, 1);
    CONST(PERSONA_PERIOD_DAY, 2);
    CONST(PERSONA_PERIOD_WEEK, 3);
    CONST(PERSONA_PERIOD_MONTH, 4);
    CONST(PERSONA_PERIOD_QUARTER, 5);
    CONST(PERSONA_PERIOD_YEAR, 6);
    CONST(PERSONA_COHORT_RETENTION, 0);
    CONST(PERSONA_COHORT_LIFECYCLE, 1);
    CONST(PERSONA_COHORT_STICKINESS, 2);
    CONST(PERSONA_PERIOD_ROLLING, 7);
    CONST(PERSONA_COHORT_BY_FIRST_EVENT, 0);
    CONST(PERSONA_COHORT_BY_FIRST_OF_TYPE, 1);
    CONST(PERSONA_COHORT_BY_PROPERTY, 2);
    CONST(PERSONA_RETENTION_CLASSIC, 0);
    CONST(PERSONA_RETENTION_UNBOUNDED, 1);
    CONST(PERSONA_COHORT_USERS, 0);
    CONST(PERSONA_COHORT_EVENTS, 1);
    CONST(PERSONA_COHORT_REVENUE, 2);
    CONST(PERSONA_COHORT_RATE, 3);
    CONST(PERSONA_COHORT_LTV, 4);
    CONST(PERSONA_LIFECYCLE_NEW, 0);
    CONST(PERSONA_LIFECYCLE_RETURNING, 1);
    CONST(PERSONA_LIFECYCLE_RESURRECTING, 2);
    CONST(PERSONA_LIFECYCLE_DORMANT, 3);
    CONST(PERSONA_COHORT_EXPORT_CSV, 1);
    CONST(PERSONA_COHORT_EXPORT_JSON, 2);
    CONST(PERSONA_COHORT_MAX_BRACKETS, 1024);

    /* Accepted time range and key length. */
    CONST(PERSONA_TIME_MIN, -62135596800000LL);
    CONST(PERSONA_TIME_MAX, 253402300799999LL);
    CONST(PERSONA_MAX_KEY_LEN, 4096);
    CONST(PERSONA_ANON_KEY_LEN, 21);
    CONST(PERSONA_ID_KEY, 0);
    CONST(PERSONA_ID_COOKIE, 1);
    CONST(PERSONA_ID_EMAIL, 2);
    CONST(PERSONA_ID_PHONE, 3);
    CONST(PERSONA_ID_CUSTOMER, 4);
    CONST(PERSONA_ID_HOST, 100);
    CONST(PERSONA_LINK_MERGED, 1);
    CONST(PERSONA_LINK_ADDED, 2);
    CONST(PERSONA_LINK_SAME, 3);
    CONST(PERSONA_LINK_BLOCKED_VALUE, 4);
    CONST(PERSONA_LINK_BLOCKED_LIMIT, 5);

    /* Reject reasons (indexes into persona_ingest_stats.rejected). */
    CONST(PERSONA_REJECT_MISSING_USER, 0);
    CONST(PERSONA_REJECT_BAD_TIME, 1);
    CONST(PERSONA_REJECT_BAD_NUMBER, 2);
    CONST(PERSONA_REJECT_BAD_UTF8, 3);
    CONST(PERSONA_REJECT_FIELD_COUNT, 4);
    CONST(PERSONA_REJECT_DUPLICATE_ID, 5);
    CONST(PERSONA_REJECT_TOO_LONG, 6);
    CONST(PERSONA_REJECT_MISSING_EVENT, 7);
    CONST(PERSONA_REJECT_BAD_QUOTE, 8);
    CONST(PERSONA_REJECT_BAD_JSON, 9);
    CONST(PERSONA_REJECT_WRONG_TYPE, 10);
    CONST(PERSONA_REJECT_NUL_BYTE, 11);
    CONST(PERSONA_REJECT_SUPPRESSED, 12);
    CONST(PERSONA_REJECT_BAD_IDENTIFIER, 13);
    CONST(PERSONA_REJECT_BAD_CONSENT, 14);
    CONST(PERSONA_REJECT_COUNT, 15);
    CONST(PERSONA_REJECT_SLOTS, 32);
    CONST(PERSONA_REJECT_EXAMPLES, 4);

    /* Flags and export formats. */
    CONST(PERSONA_INGEST_STRICT, 1);
    CONST(PERSONA_EXPORT_PROFILES_CSV, 1);
    CONST(PERSONA_EXPORT_PROFILES_JSONL, 2);

    /* Funnel constants (funnel.h). */
    CONST(PERSONA_FUNNEL_LOOSE, 0);
    CONST(PERSONA_FUNNEL_STRICT, 1);
    CONST(PERSONA_FUNNEL_ANY_ORDER, 2);
    CONST(PERSONA_FUNNEL_USERS, 0);
    CONST(PERSONA_FUNNEL_TOTALS, 1);
    CONST(PERSONA_FUNNEL_SESSIONS, 2);
    CONST(PERSONA_WHERE_EQ, 0);
    CONST(PERSONA_WHERE_NE, 1);
    CONST(PERSONA_FUNNEL_EXPORT_CSV, 1);
    CONST(PERSONA_FUNNEL_EXPORT_JSON, 2);
    CONST(PERSONA_FUNNEL_EXPORT_STAGES_CSV, 3);
    CONST(PERSONA_FUNNEL_MAX_STEPS, 32);
    CONST(PERSONA_FUNNEL_TIME_BUCKETS, 8);

    /* RFM constants (rfm.h). */
    CONST(PERSONA_RFM_CHAMPIONS, 0);
    CONST(PERSONA_RFM_LOYAL, 1);
    CONST(PERSONA_RFM_POTENTIAL_LOYALIST, 2);
    CONST(PERSONA_RFM_NEW, 3);
    CONST(PERSONA_RFM_PROMISING, 4);
    CONST(PERSONA_RFM_NEED_ATTENTION, 5);
    CONST(PERSONA_RFM_ABOUT_TO_SLEEP, 6);
    CONST(PERSONA_RFM_AT_RISK, 7);
    CONST(PERSONA_RFM_CANT_LOSE_THEM, 8);
    CONST(PERSONA_RFM_HIBERNATING, 9);
    CONST(PERSONA_RFM_LOST, 10);
    CONST(PERSONA_RFM_SEGMENTS, 11);
    CONST(PERSONA_RFM_MIN_BINS, 2);
    CONST(PERSONA_RFM_MAX_BINS, 10);
    CONST(PERSONA_RFM_EXPORT_CSV, 1);
    CONST(PERSONA_RFM_EXPORT_SUMMARY_CSV, 2);
    CONST(PERSONA_RFM_EXPORT_JSON, 3);
    /* k-means. */
    CONST(PERSONA_AFFINITY_BY_BASKET, 0);
    CONST(PERSONA_AFFINITY_BY_SESSION, 1);
    CONST(PERSONA_AFFINITY_BY_USER, 2);
    CONST(PERSONA_AFFINITY_LIFT, 0);
    CONST(PERSONA_AFFINITY_JACCARD, 1);
    CONST(PERSONA_AFFINITY_COSINE, 2);
    CONST(PERSONA_AFFINITY_CONFIDENCE, 3);
    CONST(PERSONA_AFFINITY_SUPPORT, 4);
    CONST(PERSONA_AFFINITY_CONVICTION, 5);
    CONST(PERSONA_AFFINITY_LEVERAGE, 6);
    CONST(PERSONA_AFFINITY_COUNT, 7);
    CONST(PERSONA_AFFINITY_MEASURES, 8);
    CONST(PERSONA_AFFINITY_CATEGORY_PROP, 0);
    CONST(PERSONA_AFFINITY_CATEGORY_ITEM, 1);
    CONST(PERSONA_PATH_TOP, 0);
    CONST(PERSONA_PATH_GOAL, 1);
    CONST(PERSONA_PATH_DROPOFF, 2);
    CONST(PERSONA_PATH_MAX_ORDER, 4);
    CONST(PERSONA_PATH_NO_STATE, UINT32_MAX);
    STRCONST(PERSONA_PATH_START, "(start)");
    STRCONST(PERSONA_PATH_END, "(end)");
    STRCONST(PERSONA_PATH_NONE, "(none)");
    CONST(PERSONA_KMEANS_AUTO, 0);
    CONST(PERSONA_KMEANS_LLOYD, 1);
    CONST(PERSONA_KMEANS_HAMERLY, 2);
    CONST(PERSONA_KMEANS_ELKAN, 3);
    CONST(PERSONA_KMEANS_MINIBATCH, 4);
    CONST(PERSONA_KMEANS_MAX_K, 65536);
    CONST(PERSONA_KMEANS_MAX_D, 4096);
    /* Features. */
    CONST(PERSONA_FEATURES_MAX_SPEC, 65536);
    CONST(PERSONA_FEATURES_MAX_COLUMNS, 4096);
    CONST(PERSONA_FEATURES_MAX_LEVELS, 1000);
    CONST(PERSONA_FEATURES_DEFAULT_LEVELS, 10);
    CONST(PERSONA_FEATURES_RAW, 1);
    CONST(PERSONA_FEATURES_IDENTITY, 0);
    CONST(PERSONA_FEATURES_LOG1P, 1);
    CONST(PERSONA_FEATURES_SLOG1P, 2);
    CONST(PERSONA_LINKAGE_WARD, 0);
    CONST(PERSONA_LINKAGE_AVERAGE, 1);
    CONST(PERSONA_LINKAGE_COMPLETE, 2);
    CONST(PERSONA_LINKAGE_SINGLE, 3);
    CONST(PERSONA_HCLUST_MAX_N, 1000000);
    CONST(PERSONA_HCLUST_MAX_D, 4096);
    CONST(PERSONA_ITEMSETS_ALL, 0);
    CONST(PERSONA_ITEMSETS_CLOSED, 1);
    CONST(PERSONA_ITEMSETS_MAXIMAL, 2);
    CONST(PERSONA_ITEMSETS_DEFAULT_LIMIT, 50000000);
    CONST(PERSONA_RULE_CONFIDENCE, 0);
    CONST(PERSONA_RULE_LIFT, 1);
    CONST(PERSONA_RULE_SUPPORT, 2);
    CONST(PERSONA_RULE_CONVICTION, 3);
    CONST(PERSONA_RULE_LEVERAGE, 4);

    /* Segment constants (segment.h). */
    CONST(PERSONA_SEGMENT_FIRST_MATCH, 0);
    CONST(PERSONA_SEGMENT_ALL_MATCHES, 1);
    CONST(PERSONA_RULE_MAX_TEXT, 1048576);
    CONST(PERSONA_RULE_MAX_DEPTH, 64);
    CONST(PERSONA_RULE_MAX_STRING, 1024);
    CONST(PERSONA_RULE_MAX_LIST, 1024);
    CONST(PERSONA_RULE_MAX_STEPS, 16);
    CONST(PERSONA_RULE_MAX_FEATURES, 256);
    CONST(PERSONA_RULE_MAX_NAMES, 1024);
    CONST(PERSONA_SEGMENT_MAX, 4096);
    CONST(PERSONA_SEGMENT_MAX_NAME, 128);
    CONST(PERSONA_NOW_STORE, INT64_MIN);
    CONST(PERSONA_LIVE_SEGMENT_MAX, 64);

    /* Versions: the major is the SONAME; the others change per release, so they are
     * checked for consistency (header == loaded library), not pinned. */
    CONST(PERSONA_VERSION_MAJOR, 1);
    CONST(PERSONA_VERSION_NUMBER, PERSONA_VERSION_MAJOR * 1000000LL +
                                      PERSONA_VERSION_MINOR * 1000LL + PERSONA_VERSION_PATCH);
    CONST(persona_version_number(), PERSONA_VERSION_NUMBER);
    char want[32];
    snprintf(want, sizeof want, "%d.%d.%d", PERSONA_VERSION_MAJOR, PERSONA_VERSION_MINOR,
             PERSONA_VERSION_PATCH);
    CONST(strcmp(PERSONA_VERSION_STRING, want), 0);
    CONST(strcmp(persona_version_string(), PERSONA_VERSION_STRING), 0);
}

/* struct_size first, then only zero bytes. */
static void check_zeroed(const char *what, const void *p, size_t size, int line)
{
    uint32_t struct_size;
    memcpy(&struct_size, p, sizeof struct_size);
    check_num(what, (long long)struct_size, (long long)size, line);
    const unsigned char *b = (const unsigned char *)p;
    size_t nonzero = 0;
    for (size_t i = sizeof struct_size; i < size; i++)
        nonzero += b[i] != 0;
    checks++;
    if (nonzero) {
        failures++;
        fprintf(stderr, "test_layout.c:%d: %s left %zu non-zero byte(s) after struct_size\n",
                line, what, nonzero);
    }
}

static void check_same_bytes(const char *what, const void *a, const void *b, size_t size,
                             int line)
{
    checks++;
    if (memcmp(a, b, size) != 0) {
        failures++;
        fprintf(stderr, "test_layout.c:%d: %s differ\n", line, what);
    }
}

/* persona_X_init(): OK with sizeof, struct_size set and the rest zeroed over garbage;
 * EINVAL for NULL and for struct_size 0; the _INIT macro gives the same bytes. */
#define INIT_FN_AND_MACRO(T, fn, MACRO)                                                    \
    do {                                                                                   \
        T s_;                                                                              \
        memset(&s_, 0xA5, sizeof s_);                                                      \
        CONST(fn(&s_, (uint32_t)sizeof s_), PERSONA_OK);                                   \
        check_zeroed(#fn "() result", &s_, sizeof s_, __LINE__);                           \
        T m_ = MACRO;                                                                      \
        check_same_bytes(#MACRO " and " #fn "()", &m_, &s_, sizeof s_, __LINE__);          \
        CONST(fn(NULL, (uint32_t)sizeof s_), PERSONA_EINVAL);                              \
        CONST(fn(&s_, 0), PERSONA_EINVAL);                                                 \
    } while (0)

/* As INIT_FN_AND_MACRO for a struct whose defaults are not all zero: the function and the
 * macro give the same bytes. */
#define INIT_FN_AND_MACRO_DEFAULTS(T, fn, MACRO)                                           \
    do {                                                                                   \
        T s_;                                                                              \
        memset(&s_, 0xA5, sizeof s_);                                                      \
        CONST(fn(&s_, (uint32_t)sizeof s_), PERSONA_OK);                                   \
        T m_ = MACRO;                                                                      \
        check_same_bytes(#MACRO " and " #fn "()", &m_, &s_, sizeof s_, __LINE__);          \
        CONST(fn(NULL, (uint32_t)sizeof s_), PERSONA_EINVAL);                              \
        CONST(fn(&s_, 0), PERSONA_EINVAL);                                                 \
    } while (0)

/* A struct with an _INIT macro but no init function: struct_size set, the rest zero. */
#define INIT_MACRO_ONLY(T, MACRO)                                                          \
    do {                                                                                   \
        T m_ = MACRO;                                                                      \
        check_zeroed(#MACRO, &m_, sizeof m_, __LINE__);                                    \
    } while (0)

static void initializers(void)
{
    INIT_FN_AND_MACRO(persona_store_options, persona_store_options_init, PERSONA_STORE_OPTIONS_INIT);
    INIT_FN_AND_MACRO(persona_event, persona_event_init, PERSONA_EVENT_INIT);
    INIT_FN_AND_MACRO(persona_ingest_stats, persona_ingest_stats_init, PERSONA_INGEST_STATS_INIT);
    INIT_FN_AND_MACRO(persona_ingest_options, persona_ingest_options_init, PERSONA_INGEST_OPTIONS_INIT);
    INIT_FN_AND_MACRO(persona_mapping, persona_mapping_init, PERSONA_MAPPING_INIT);
    INIT_FN_AND_MACRO(persona_csv_options, persona_csv_options_init, PERSONA_CSV_OPTIONS_INIT);
    INIT_FN_AND_MACRO(persona_store_info, persona_store_info_init, PERSONA_STORE_INFO_INIT);
    INIT_FN_AND_MACRO(persona_erase_receipt, persona_erase_receipt_init,
                      PERSONA_ERASE_RECEIPT_INIT);
    INIT_FN_AND_MACRO(persona_alias_result, persona_alias_result_init,
                      PERSONA_ALIAS_RESULT_INIT);
    INIT_FN_AND_MACRO(persona_profile_info, persona_profile_info_init, PERSONA_PROFILE_INFO_INIT);
    INIT_FN_AND_MACRO(persona_attribute, persona_attribute_init, PERSONA_ATTRIBUTE_INIT);
    INIT_FN_AND_MACRO(persona_source_vtable, persona_source_vtable_init, PERSONA_SOURCE_VTABLE_INIT);
    INIT_FN_AND_MACRO(persona_event_arrays, persona_event_arrays_init, PERSONA_EVENT_ARRAYS_INIT);
    INIT_FN_AND_MACRO(persona_allocator, persona_allocator_init, PERSONA_ALLOCATOR_INIT);
    INIT_FN_AND_MACRO(persona_funnel_step, persona_funnel_step_init, PERSONA_FUNNEL_STEP_INIT);
    INIT_FN_AND_MACRO(persona_funnel_exclusion, persona_funnel_exclusion_init,
                      PERSONA_FUNNEL_EXCLUSION_INIT);
    INIT_FN_AND_MACRO(persona_funnel_options, persona_funnel_options_init,
                      PERSONA_FUNNEL_OPTIONS_INIT);
    INIT_FN_AND_MACRO(persona_cohort_options, persona_cohort_options_init,
                      PERSONA_COHORT_OPTIONS_INIT);
    INIT_FN_AND_MACRO(persona_segment_options, persona_segment_options_init,
                      PERSONA_SEGMENT_OPTIONS_INIT);
    INIT_FN_AND_MACRO(persona_rfm_options, persona_rfm_options_init, PERSONA_RFM_OPTIONS_INIT);
    INIT_FN_AND_MACRO(persona_rfm_entry, persona_rfm_entry_init, PERSONA_RFM_ENTRY_INIT);
    INIT_FN_AND_MACRO(persona_kmeans_options, persona_kmeans_options_init, PERSONA_KMEANS_OPTIONS_INIT);
    INIT_FN_AND_MACRO(persona_kmeans_info, persona_kmeans_info_init, PERSONA_KMEANS_INFO_INIT);
    INIT_FN_AND_MACRO(persona_cluster_scores, persona_cluster_scores_init, PERSONA_CLUSTER_SCORES_INIT);
    INIT_FN_AND_MACRO(persona_kmeans_views, persona_kmeans_views_init, PERSONA_KMEANS_VIEWS_INIT);
    INIT_FN_AND_MACRO(persona_features_options, persona_features_options_init,
                      PERSONA_FEATURES_OPTIONS_INIT);
    INIT_FN_AND_MACRO(persona_features_info, persona_features_info_init,
                      PERSONA_FEATURES_INFO_INIT);
    INIT_FN_AND_MACRO(persona_features_column, persona_features_column_init,
                      PERSONA_FEATURES_COLUMN_INIT);
    INIT_FN_AND_MACRO(persona_affinity_options, persona_affinity_options_init,
                      PERSONA_AFFINITY_OPTIONS_INIT);
    INIT_FN_AND_MACRO(persona_affinity_info, persona_affinity_info_init, PERSONA_AFFINITY_INFO_INIT);
    INIT_FN_AND_MACRO(persona_affinity_pair_info, persona_affinity_pair_info_init,
                      PERSONA_AFFINITY_PAIR_INFO_INIT);
    INIT_FN_AND_MACRO(persona_attribution_options, persona_attribution_options_init,
                      PERSONA_ATTRIBUTION_OPTIONS_INIT);
    INIT_FN_AND_MACRO(persona_attribution_journeys, persona_attribution_journeys_init,
                      PERSONA_ATTRIBUTION_JOURNEYS_INIT);
    INIT_FN_AND_MACRO(persona_attribution_model_options, persona_attribution_model_options_init,
                      PERSONA_ATTRIBUTION_MODEL_OPTIONS_INIT);
    INIT_FN_AND_MACRO(persona_attribution_info, persona_attribution_info_init,
                      PERSONA_ATTRIBUTION_INFO_INIT);
    INIT_FN_AND_MACRO(persona_hclust_options, persona_hclust_options_init, PERSONA_HCLUST_OPTIONS_INIT);
    INIT_FN_AND_MACRO(persona_hclust_info, persona_hclust_info_init, PERSONA_HCLUST_INFO_INIT);
    INIT_FN_AND_MACRO(persona_itemsets_options, persona_itemsets_options_init,
                      PERSONA_ITEMSETS_OPTIONS_INIT);
    INIT_FN_AND_MACRO(persona_assoc_rules_options, persona_assoc_rules_options_init,
                      PERSONA_ASSOC_RULES_OPTIONS_INIT);
    INIT_FN_AND_MACRO(persona_assoc_rule, persona_assoc_rule_init, PERSONA_ASSOC_RULE_INIT);
    INIT_FN_AND_MACRO(persona_path_options, persona_path_options_init, PERSONA_PATH_OPTIONS_INIT);
    INIT_FN_AND_MACRO(persona_path_rule, persona_path_rule_init, PERSONA_PATH_RULE_INIT);
    INIT_FN_AND_MACRO(persona_path_info, persona_path_info_init, PERSONA_PATH_INFO_INIT);
    INIT_FN_AND_MACRO(persona_path_query, persona_path_query_init, PERSONA_PATH_QUERY_INIT);
    INIT_FN_AND_MACRO(persona_metrics, persona_metrics_init, PERSONA_METRICS_INIT);
    /* The evaluation context's defaults are not zero (no hour, the store's clock). */
    INIT_FN_AND_MACRO_DEFAULTS(persona_eval_context, persona_eval_context_init,
                               PERSONA_EVAL_CONTEXT_INIT);
    persona_eval_context c = PERSONA_EVAL_CONTEXT_INIT;
    CONST(c.hour, -1);
    CONST(c.now_ms == PERSONA_NOW_STORE, 1);
    CONST(c.count, 0);
}

int main(void)
{
    if (sizeof(void *) != 8 || sizeof(size_t) != 8 || sizeof(double) != 8) {
        fprintf(stderr, "test_layout: literals are for LP64 (x86_64); skipping\n");
        return 77;
    }
    layout();
    constants();
    initializers();
    fprintf(stderr, "test_layout: %d checks, %d failed\n", checks, failures);
    return failures ? 1 : 0;
}

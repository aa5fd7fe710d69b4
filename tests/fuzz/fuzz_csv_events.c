/* Fuzz target: CSV events -> persona_source_open_csv_memory -> persona_store_load.
 *
 * Input layout
 *   byte 0  bits 0-1  delimiter: 0 ',', 1 ';', 2 TAB, 3 '|'
 *           bit  2    strict load (PERSONA_INGEST_STRICT) for the primary load
 *           bits 3-4  mapping variant:
 *                     0  defaults: user_id, timestamp, event (if present), value (if present)
 *                     1  defaults + value qty*price + props category=category, country=country
 *                     2  defaults + item=item, basket=basket, event id=id (deduplication)
 *                     3  Online Retail: user CustomerID, time InvoiceDate, item StockCode,
 *                        basket InvoiceNo, value Quantity*UnitPrice, prop country=Country,
 *                        event-const purchase (examples/data/online_retail_sample.csv)
 *           bits 5-6  time format: 0 auto, 1 "iso", 2 "unix_s", 3 "%d/%m/%Y %H:%M"
 *           bit  7    UTC offset of zone-less times: +01:30 (else 0)
 *   byte 1  bits 0-2  block size of the record-stream check: 1, 2, 3, 4, 7, 16, 64, 1024
 *           bits 3-4  max_row_bytes: 0 (default 1 MiB), 40, 300, 4200
 *           bit  5    run check 3 (JSONL export, determinism)
 *           bits 6-7  both set: run check 5 (record stream)
 *   rest    the CSV text (header row first)
 * Inputs shorter than 2 bytes are ignored. Seeds are made by make_seeds.py.
 *
 * Check 3 runs for half of the inputs, check 5 for a quarter (libFuzzer mutates the option
 * bytes like any other), which keeps a run at >= 10 k exec/s: each costs about a load.
 *
 * Per input:
 *  1. open; the result must be PERSONA_OK, PERSONA_EPARSE (no header, or a header that is
 *     not valid CSV / UTF-8: the error names line 1) or PERSONA_EINVAL (a mapped column
 *     missing from the header: the message says "is not in the header");
 *  2. the primary load in the mode of bit 2: stats and store invariants (fuzz_common.h);
 *  3. (byte 1 bit 5) the JSONL export of the store (fuzz_common.h), and a second open +
 *     load in the same mode into a fresh store: byte-identical CSV export;
 *  4. persona_source_rewind() of the first source and a load in the other mode: strict
 *     succeeds exactly when non-strict rejects nothing, else fails at the first rejected
 *     line; on clean input both stores export the same;
 *  5. (byte 1 bits 6-7) the record stream of the library's CSV reader read whole and in small
 *     blocks is the same (fields, line numbers, reject reasons), and its row count (header
 *     and blank lines excluded) equals the load's rows_read. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include "source/csv_reader.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char delimiters[4] = { ',', ';', '\t', '|' };
static const size_t block_sizes[8] = { 1, 2, 3, 4, 7, 16, 64, 1024 };
static const size_t row_limits[4] = { 0, 40, 300, 4200 };
static const char *const time_formats[4] = { NULL, "iso", "unix_s", "%d/%m/%Y %H:%M" };

static const char *const props1_names[] = { "category", "country" };
static const char *const props1_cols[] = { "category", "country" };
static const char *const props3_names[] = { "country" };
static const char *const props3_cols[] = { "Country" };

static void make_mapping(persona_mapping *m, unsigned variant, unsigned opt)
{
    persona_mapping_init(m, sizeof *m);
    m->time_format = time_formats[(opt >> 5) & 3];
    m->time_offset_minutes = (opt & 0x80) ? 90 : 0;
    switch (variant) {
    case 1:
        m->value = "qty*price";
        m->prop_names = props1_names;
        m->prop_columns = props1_cols;
        m->n_props = 2;
        break;
    case 2:
        m->item = "item";
        m->basket = "basket";
        m->event_id = "id";
        break;
    case 3:
        m->user = "CustomerID";
        m->time = "InvoiceDate";
        m->item = "StockCode";
        m->basket = "InvoiceNo";
        m->value = "Quantity*UnitPrice";
        m->event_const = "purchase";
        m->prop_names = props3_names;
        m->prop_columns = props3_cols;
        m->n_props = 1;
        break;
    default:
        break;
    }
}

typedef struct load_result {
    int open_rc;
    int rc;
    persona_ingest_stats st;
    persona_store *store;
    persona_source *src;
    uint64_t err_line;
} load_result;

/* Open the input and load it in the given mode (the source is kept for a rewind). */
static void open_and_load(load_result *lr, const char *text, size_t len,
                          const persona_csv_options *csv, const persona_mapping *map, int strict)
{
    memset(lr, 0, sizeof *lr);
    lr->open_rc = persona_source_open_csv_memory(&lr->src, text, len, csv, map);
    if (lr->open_rc != PERSONA_OK) {
        FUZZ_ASSERT(lr->src == NULL, "failed open left a source");
        uint64_t line = 0, col = 0;
        if (lr->open_rc == PERSONA_EPARSE) {
            FUZZ_ASSERT(persona_error_position(&line, &col) == PERSONA_OK && line == 1,
                        "header error at line %llu", (unsigned long long)line);
            FUZZ_ASSERT(strstr(persona_errmsg(), "header") != NULL, "message: %s",
                        persona_errmsg());
        } else {
            FUZZ_ASSERT(lr->open_rc == PERSONA_EINVAL, "open returned %d (%s)", lr->open_rc,
                        persona_strerror(lr->open_rc));
            FUZZ_ASSERT(strstr(persona_errmsg(), "is not in the header") != NULL,
                        "message: %s", persona_errmsg());
        }
        return;
    }
    FUZZ_OK(persona_store_new(&lr->store, NULL));
    persona_ingest_options opts = PERSONA_INGEST_OPTIONS_INIT;
    opts.flags = strict ? PERSONA_INGEST_STRICT : 0;
    persona_ingest_stats_init(&lr->st, sizeof lr->st);
    lr->rc = persona_store_load(&lr->st, lr->store, lr->src, &opts);
    if (lr->rc == PERSONA_EPARSE) {
        uint64_t col = 0;
        FUZZ_ASSERT(persona_error_position(&lr->err_line, &col) == PERSONA_OK &&
                        lr->err_line >= 2,
                    "strict failure at line %llu", (unsigned long long)lr->err_line);
    }
}

static void load_free(load_result *lr)
{
    persona_source_free(lr->src);
    persona_store_free(lr->store);
    lr->src = NULL;
    lr->store = NULL;
}

static void reload_after_rewind(load_result *out, load_result *from, int strict)
{
    memset(out, 0, sizeof *out);
    FUZZ_OK(persona_source_rewind(from->src));
    FUZZ_OK(persona_store_new(&out->store, NULL));
    persona_ingest_options opts = PERSONA_INGEST_OPTIONS_INIT;
    opts.flags = strict ? PERSONA_INGEST_STRICT : 0;
    persona_ingest_stats_init(&out->st, sizeof out->st);
    out->rc = persona_store_load(&out->st, out->store, from->src, &opts);
    if (out->rc == PERSONA_EPARSE) {
        uint64_t col = 0;
        FUZZ_ASSERT(persona_error_position(&out->err_line, &col) == PERSONA_OK,
                    "strict failure without a position");
    }
}

/* Records of the reader whole vs in blocks; returns the number of data rows (records
 * after the header that the source does not skip as blank). */
static uint64_t check_record_stream(const char *text, size_t len, char delim, size_t max_row,
                                    size_t block)
{
    persona__csv_reader *a = NULL, *b = NULL;
    FUZZ_OK(persona__csv_reader_open_memory(&a, text, len, delim, max_row));
    FUZZ_OK(persona__csv_reader_open_memory(&b, text, len, delim, max_row));
    persona__csv_reader_set_block_size(b, block);
    uint64_t records = 0, rows = 0, last_line = 0;
    size_t n_header = 0;
    for (;;) {
        const persona__csv_field *fa, *fb;
        size_t na = 0, nb = 0;
        uint64_t la = 0, lb = 0;
        int ra = -2, rb = -2;
        int rca = persona__csv_reader_next(a, &fa, &na, &la, &ra);
        int rcb = persona__csv_reader_next(b, &fb, &nb, &lb, &rb);
        FUZZ_ASSERT(rca == rcb, "record %llu: rc %d whole, %d in blocks of %zu",
                    (unsigned long long)records, rca, rcb, block);
        FUZZ_ASSERT(rca == 0 || rca == 1, "reader returned %d", rca);
        if (rca == 0)
            break;
        FUZZ_ASSERT(na == nb && la == lb && ra == rb,
                    "record %llu: %zu fields line %llu reject %d whole, %zu fields line %llu "
                    "reject %d in blocks of %zu",
                    (unsigned long long)records, na, (unsigned long long)la, ra, nb,
                    (unsigned long long)lb, rb, block);
        FUZZ_ASSERT(la > last_line, "line %llu after line %llu", (unsigned long long)la,
                    (unsigned long long)last_line);
        last_line = la;
        FUZZ_ASSERT((ra < 0) == (na > 0), "reject %d with %zu fields", ra, na);
        size_t total = 0;
        for (size_t i = 0; i < na; i++) {
            FUZZ_ASSERT(fa[i].len == fb[i].len &&
                            (fa[i].len == 0 || memcmp(fa[i].ptr, fb[i].ptr, fa[i].len) == 0),
                        "record %llu field %zu differs in blocks of %zu",
                        (unsigned long long)records, i, block);
            FUZZ_ASSERT(fa[i].len == 0 || memchr(fa[i].ptr, 0, fa[i].len) == NULL,
                        "NUL byte in a good field");
            total += fa[i].len;
        }
        FUZZ_ASSERT(total <= (max_row ? max_row : PERSONA__CSV_DEFAULT_MAX_ROW),
                    "a good record of %zu bytes is over the limit", total);
        if (records == 0) {
            n_header = na;
        } else if (!(ra < 0 && na == 1 && fa[0].len == 0 && n_header > 1)) {
            rows++;
        }
        records++;
    }
    FUZZ_ASSERT(persona__csv_reader_bytes(a) == len && persona__csv_reader_bytes(b) == len,
                "consumed %llu / %llu of %zu bytes",
                (unsigned long long)persona__csv_reader_bytes(a),
                (unsigned long long)persona__csv_reader_bytes(b), len);
    persona__csv_reader_free(a);
    persona__csv_reader_free(b);
    return rows;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_install_allocator();
    if (size < 2)
        return 0;
    const unsigned opt = data[0], opt2 = data[1];
    const char *text = (const char *)data + 2;
    const size_t len = size - 2;
    const int strict = (opt >> 2) & 1;

    persona_csv_options csv = PERSONA_CSV_OPTIONS_INIT;
    csv.delimiter = (unsigned char)delimiters[opt & 3];
    csv.max_row_bytes = row_limits[(opt2 >> 3) & 3];
    persona_mapping map;
    make_mapping(&map, (opt >> 3) & 3, opt);

    const uint64_t lines = fuzz_line_count(text, len);

    /* 1-2. Primary load. */
    load_result l1;
    open_and_load(&l1, text, len, &csv, &map, strict);
    if (l1.open_rc != PERSONA_OK)
        return 0; /* header problems: nothing to load (checked in open_and_load) */
    fuzz_check_stats(&l1.st, l1.rc, strict, 2, lines);
    fuzz_check_store(l1.store, &l1.st, 1);

    /* 3. The JSONL export; determinism: the same input into a fresh store. */
    if (opt2 & 0x20) {
        fuzz_check_jsonl_export(l1.store);
        load_result l2;
        open_and_load(&l2, text, len, &csv, &map, strict);
        FUZZ_ASSERT(l2.open_rc == PERSONA_OK && l2.rc == l1.rc,
                    "second load: open %d, load %d vs %d", l2.open_rc, l2.rc, l1.rc);
        FUZZ_ASSERT(memcmp(&l1.st, &l2.st, sizeof l1.st) == 0, "second load: different stats");
        FUZZ_ASSERT(fuzz_same_export(l1.store, l2.store), "second load: different CSV export");
        load_free(&l2);
    }

    /* 4. Rewind, the other mode. */
    load_result l3;
    reload_after_rewind(&l3, &l1, !strict);
    fuzz_check_stats(&l3.st, l3.rc, !strict, 2, lines);
    fuzz_check_store(l3.store, &l3.st, 1);
    const load_result *lenient = strict ? &l3 : &l1, *strict_lr = strict ? &l1 : &l3;
    fuzz_check_modes(strict_lr->rc, strict_lr->err_line, &strict_lr->st, strict_lr->store,
                     &lenient->st, lenient->store);

    /* 5. The reader's record stream, whole vs in blocks, and rows_read. */
    if ((opt2 & 0xC0) == 0xC0) {
        uint64_t rows = check_record_stream(text, len, (char)csv.delimiter, csv.max_row_bytes,
                                            block_sizes[opt2 & 7]);
        FUZZ_ASSERT(rows == lenient->st.rows_read,
                    "the reader has %llu data rows, the non-strict load read %llu",
                    (unsigned long long)rows, (unsigned long long)lenient->st.rows_read);
    }

    load_free(&l1);
    load_free(&l3);
    return 0;
}

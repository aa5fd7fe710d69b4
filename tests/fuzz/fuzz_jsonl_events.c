/* Fuzz target: JSON Lines events -> persona_source_open_jsonl_memory -> persona_store_load.
 *
 * Input layout
 *   byte 0  bits 0-1  mapping variant (members instead of columns):
 *                     0  defaults: user_id, timestamp, event (if present), value (if present)
 *                     1  defaults + value qty*price + props category=category, country=country
 *                     2  defaults + item=item, basket=basket, event id=id (deduplication)
 *                     3  Online Retail names: user CustomerID, time InvoiceDate, item
 *                        StockCode, basket InvoiceNo, value Quantity*UnitPrice,
 *                        prop country=Country, event-const purchase
 *           bit  2    strict load (PERSONA_INGEST_STRICT) for the primary load
 *           bits 3-4  time format: 0 auto, 1 "iso", 2 "unix_ms", 3 "%d/%m/%Y %H:%M"
 *           bit  5    UTC offset of zone-less times: -05:00 (else 0)
 *           bits 6-7  unused
 *   byte 1  bits 0-2  block size of the line-stream check: 1, 2, 3, 4, 7, 16, 64, 1024
 *           bits 3-4  max_line_bytes of the line-stream check: 0 (1 MiB, as the source), 40,
 *                     300, 4200
 *           bit  5    run check 3 (JSONL export, determinism)
 *           bit  6    run check 5 (line stream)
 *           bit  7    unused
 *   rest    the JSON Lines text
 * Inputs shorter than 2 bytes are ignored. Seeds are made by make_seeds.py.
 *
 * Checks 3 and 5 run for half of the inputs each (libFuzzer mutates the option bytes like
 * any other), which keeps a run at >= 10 k exec/s: each one costs as much as a load.
 *
 * Per input:
 *  1. open: must succeed (the mapping is valid, JSONL has no header);
 *  2. the primary load in the mode of bit 0x04: stats and store invariants (fuzz_common.h);
 *  3. (byte 1 bit 5) the JSONL export of the store (fuzz_common.h), and a second open +
 *     load in the same mode into a fresh store: byte-identical CSV export;
 *  4. persona_source_rewind() of the first source and a load in the other mode: strict
 *     succeeds exactly when non-strict rejects nothing, else fails at the first rejected
 *     line; on clean input both stores export the same;
 *  5. (byte 1 bit 6) the library's JSONL reader read whole and in small blocks gives the same lines
 *     (members, line numbers, reject reasons); with the source's line limit its line count
 *     equals the load's rows_read. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const size_t block_sizes[8] = { 1, 2, 3, 4, 7, 16, 64, 1024 };
static const size_t line_limits[4] = { 0, 40, 300, 4200 };
static const char *const time_formats[4] = { NULL, "iso", "unix_ms", "%d/%m/%Y %H:%M" };

static const char *const props1_names[] = { "category", "country" };
static const char *const props1_cols[] = { "category", "country" };
static const char *const props3_names[] = { "country" };
static const char *const props3_cols[] = { "Country" };

static void make_mapping(persona_mapping *m, unsigned opt)
{
    persona_mapping_init(m, sizeof *m);
    m->time_format = time_formats[(opt >> 3) & 3];
    m->time_offset_minutes = (opt & 0x20) ? -300 : 0;
    switch (opt & 3) {
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
    int rc;
    persona_ingest_stats st;
    persona_store *store;
    persona_source *src;
    uint64_t err_line;
} load_result;

static void finish_load(load_result *lr, int strict)
{
    FUZZ_OK(persona_store_new(&lr->store, NULL));
    persona_ingest_options opts = PERSONA_INGEST_OPTIONS_INIT;
    opts.flags = strict ? PERSONA_INGEST_STRICT : 0;
    persona_ingest_stats_init(&lr->st, sizeof lr->st);
    lr->rc = persona_store_load(&lr->st, lr->store, lr->src, &opts);
    if (lr->rc == PERSONA_EPARSE) {
        uint64_t col = 0;
        FUZZ_ASSERT(persona_error_position(&lr->err_line, &col) == PERSONA_OK &&
                        lr->err_line >= 1,
                    "strict failure at line %llu", (unsigned long long)lr->err_line);
    }
}

static void open_and_load(load_result *lr, const char *text, size_t len,
                          const persona_mapping *map, int strict)
{
    memset(lr, 0, sizeof *lr);
    FUZZ_OK(persona_source_open_jsonl_memory(&lr->src, text, len, map));
    finish_load(lr, strict);
}

static void reload_after_rewind(load_result *out, load_result *from, int strict)
{
    memset(out, 0, sizeof *out);
    FUZZ_OK(persona_source_rewind(from->src));
    out->src = from->src;
    finish_load(out, strict);
    out->src = NULL; /* still owned by `from` */
}

static void load_free(load_result *lr)
{
    persona_source_free(lr->src);
    persona_store_free(lr->store);
    lr->src = NULL;
    lr->store = NULL;
}

static int same_member(const persona__json_member *a, const persona__json_member *b)
{
    return a->type == b->type && a->key_len == b->key_len && a->val_len == b->val_len &&
           (a->key_len == 0 || memcmp(a->key, b->key, a->key_len) == 0) &&
           (a->val_len == 0 || memcmp(a->val, b->val, a->val_len) == 0);
}

/* Lines of the reader whole vs in blocks; returns the number of lines it returned. */
static uint64_t check_line_stream(const char *text, size_t len, size_t max_line, size_t block)
{
    persona__jsonl_reader *a = NULL, *b = NULL;
    FUZZ_OK(persona__jsonl_reader_open_memory(&a, text, len, max_line));
    FUZZ_OK(persona__jsonl_reader_open_memory(&b, text, len, max_line));
    persona__jsonl_reader_set_block_size(b, block);
    uint64_t lines = 0, last_line = 0;
    for (;;) {
        const persona__json_member *ma, *mb;
        size_t na = 0, nb = 0;
        uint64_t la = 0, lb = 0;
        int ra = -2, rb = -2;
        int rca = persona__jsonl_reader_next(a, &ma, &na, &la, &ra);
        int rcb = persona__jsonl_reader_next(b, &mb, &nb, &lb, &rb);
        FUZZ_ASSERT(rca == rcb, "line %llu: rc %d whole, %d in blocks of %zu",
                    (unsigned long long)lines, rca, rcb, block);
        FUZZ_ASSERT(rca == 0 || rca == 1, "reader returned %d", rca);
        if (rca == 0)
            break;
        FUZZ_ASSERT(na == nb && la == lb && ra == rb,
                    "%zu members line %llu reject %d whole, %zu members line %llu reject %d "
                    "in blocks of %zu",
                    na, (unsigned long long)la, ra, nb, (unsigned long long)lb, rb, block);
        FUZZ_ASSERT(la > last_line, "line %llu after line %llu", (unsigned long long)la,
                    (unsigned long long)last_line);
        last_line = la;
        FUZZ_ASSERT(ra < 0 || na == 0, "reject %d with %zu members", ra, na);
        for (size_t i = 0; i < na; i++) {
            FUZZ_ASSERT(same_member(&ma[i], &mb[i]), "line %llu member %zu differs in blocks of %zu",
                        (unsigned long long)la, i, block);
            FUZZ_ASSERT(ma[i].type >= PERSONA__JSON_STRING && ma[i].type <= PERSONA__JSON_ARRAY,
                        "member type %d", ma[i].type);
            FUZZ_ASSERT(ma[i].type != PERSONA__JSON_STRING || ma[i].val_len == 0 ||
                            memchr(ma[i].val, 0, ma[i].val_len) == NULL,
                        "NUL byte in a good string");
        }
        lines++;
    }
    FUZZ_ASSERT(persona__jsonl_reader_bytes(a) == len && persona__jsonl_reader_bytes(b) == len,
                "consumed %llu / %llu of %zu bytes",
                (unsigned long long)persona__jsonl_reader_bytes(a),
                (unsigned long long)persona__jsonl_reader_bytes(b), len);
    persona__jsonl_reader_free(a);
    persona__jsonl_reader_free(b);
    return lines;
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
    persona_mapping map;
    make_mapping(&map, opt);
    const uint64_t lines = fuzz_line_count(text, len);

    /* 1-2. Primary load. */
    load_result l1;
    open_and_load(&l1, text, len, &map, strict);
    fuzz_check_stats(&l1.st, l1.rc, strict, 1, lines);
    fuzz_check_store(l1.store, &l1.st, 1);

    /* 3. The JSONL export; determinism. */
    if (opt2 & 0x20) {
        fuzz_check_jsonl_export(l1.store);
        load_result l2;
        open_and_load(&l2, text, len, &map, strict);
        FUZZ_ASSERT(l2.rc == l1.rc, "second load: %d vs %d", l2.rc, l1.rc);
        FUZZ_ASSERT(memcmp(&l1.st, &l2.st, sizeof l1.st) == 0, "second load: different stats");
        FUZZ_ASSERT(fuzz_same_export(l1.store, l2.store), "second load: different CSV export");
        load_free(&l2);
    }

    /* 4. Rewind, the other mode. */
    load_result l3;
    reload_after_rewind(&l3, &l1, !strict);
    fuzz_check_stats(&l3.st, l3.rc, !strict, 1, lines);
    fuzz_check_store(l3.store, &l3.st, 1);
    const load_result *lenient = strict ? &l3 : &l1, *strict_lr = strict ? &l1 : &l3;
    fuzz_check_modes(strict_lr->rc, strict_lr->err_line, &strict_lr->st, strict_lr->store,
                     &lenient->st, lenient->store);

    /* 5. The reader's line stream, whole vs in blocks, and rows_read. */
    if (opt2 & 0x40) {
        const size_t max_line = line_limits[(opt2 >> 3) & 3];
        uint64_t rows = check_line_stream(text, len, max_line, block_sizes[opt2 & 7]);
        if (max_line == 0)
            FUZZ_ASSERT(rows == lenient->st.rows_read,
                        "the reader returned %llu lines, the non-strict load read %llu",
                        (unsigned long long)rows, (unsigned long long)lenient->st.rows_read);
    }

    load_free(&l1);
    load_free(&l3);
    return 0;
}

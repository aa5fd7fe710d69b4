/* The matrix's units handed to the itemset miner as a basket set (affinity.h). */
#include "affinity/affinity_internal.h"
#include "core/alloc.h"
#include "core/error.h"

PERSONA_API int persona_affinity_baskets(persona_baskets **out,
                                         const persona_affinity_matrix *matrix)
{
    if (out)
        *out = NULL;
    if (!out || !matrix)
        return persona__fail(PERSONA_EINVAL, "%s is NULL", out ? "matrix" : "out");
    size_t n_items = matrix->items.count;
    /* the keys by index, borrowed from the matrix: the basket set copies them */
    const char **names = persona__realloc_array(NULL, n_items ? n_items : 1, sizeof *names);
    if (!names)
        return persona__fail_nomem();
    for (size_t i = 0; i < n_items; i++)
        names[i] = persona__intern_str(&matrix->items, (uint32_t)i);
    int rc = persona_baskets_from_csr(out, matrix->unit_start, (size_t)matrix->n_units,
                                      matrix->unit_items, names, n_items);
    persona__free(names);
    return rc;
}

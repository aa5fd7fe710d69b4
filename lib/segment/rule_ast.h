/* The syntax tree of one rule between parsing (rule_parse.c) and code generation
 * (rule_emit.c). Nodes live in one array; children are indexes. Constants, features and
 * name slots are already in the model when a node refers to them. */
#ifndef PERSONA_SEGMENT_RULE_AST_H
#define PERSONA_SEGMENT_RULE_AST_H

#include "segment/rule_internal.h"
#include "segment/rule_lex.h"

enum {
    A_NUM,        /* a: nums index */
    A_STR,        /* a: strs index */
    A_BOOL,       /* op: the value */
    A_NOW,
    A_FEAT,       /* a: feature */
    A_ATTR,       /* a: slot; op 1 = numbers only (score) */
    A_CTX,        /* a: strs index of the field name */
    A_CTX_HOUR,
    A_EXISTS_ATTR, A_EXISTS_CTX, A_EXISTS_HOUR,
    A_CONSENT,    /* a: slot */
    A_INSEG,      /* a: strs index of the segment name */
    A_NEG,        /* a */
    A_ARITH,      /* op: OP_ADD..OP_MOD; a, b */
    A_CMP,        /* op: CMP_*; a, b */
    A_IN,         /* a; b: list; neg */
    A_CONTAINS, A_STARTS, A_ENDS, /* a, b; neg */
    A_MATCHES,    /* a; b: strs index of the glob */
    A_BETWEEN,    /* a, b, c; neg */
    A_AND, A_OR,  /* a, b */
    A_NOT,        /* a */
    A_NEXT,       /* next_event() */
};

typedef struct ast {
    uint8_t kind, type, op, neg;
    uint32_t a, b, c;
    uint32_t off, end;  /* source span: bytes of the text */
    uint32_t line, col; /* where an error about this node points */
} ast;

typedef struct rule_parser {
    rule_lexer lx;
    token tok; /* lookahead */
    persona_segment_model *m;
    uint32_t seg;         /* index the segment being compiled will have */
    const char *seg_name; /* for messages; NULL for a lone rule */
    ast *nodes;
    size_t n_nodes, nodes_cap;
    int depth;
    size_t last_end;      /* end offset of the last consumed token */
} rule_parser;

#define AST_NONE UINT32_MAX

/* Parse one expression starting at p->tok (types checked, constants / features / slots
 * added to p->m); p->tok is left at the token after it. Returns the root node, or AST_NONE
 * with the error recorded (EPARSE with position, or ENOMEM: *rc). */
uint32_t persona__parse_rule(rule_parser *p, int *rc);
/* Record a parse error at a token / a node. Returns PERSONA_EPARSE. */
int persona__parse_error_tok(rule_parser *p, const token *t, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Generate the logic tree, leaves and code of a parsed rule; appends a segment named
 * `name` with `source`. PERSONA_OK, EPARSE (the rule is too deep for the VM), ENOMEM. */
int persona__emit_rule(rule_parser *p, uint32_t root, const char *name, const char *source,
                       size_t source_len);
void persona__parser_free(rule_parser *p);
/* Whether an identifier is a keyword, a trait or a function name. */
int persona__rule_word_reserved(const char *s, size_t n);

#endif

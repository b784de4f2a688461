/*
 * hotpe: a small JSON writer for `--json` output: one document, correct string escaping,
 * commas placed by the writer. Nesting is bounded; deeper nesting is a programming error.
 */
#ifndef HOTPE_JSON_H
#define HOTPE_JSON_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "outbuf.h"

#define HP_JSON_MAX_DEPTH 16

typedef struct hp_json {
    FILE *out;
    hp_outbuf *mem;                          /* non-NULL: out's bytes are kept there */
    unsigned depth;
    bool need_comma[HP_JSON_MAX_DEPTH + 1]; /* a value was written at this level */
    bool after_key;                          /* the next value belongs to a key just written */
} hp_json;

/* Every document's "schema": raised when a key changes meaning or goes away; added keys keep
 * it. */
#define HP_JSON_SCHEMA 1

/** Start a document on out: its object, and its "schema" first. Ends with hp_json_doc_end. */
void hp_json_doc_begin(hp_json *j, FILE *out);
/** Close the document hp_json_doc_begin opened. */
void hp_json_doc_end(hp_json *j);

/** Start a document on out. */
void hp_json_init(hp_json *j, FILE *out);
void hp_json_object_begin(hp_json *j);
void hp_json_object_end(hp_json *j);
void hp_json_array_begin(hp_json *j);
void hp_json_array_end(hp_json *j);
/** An object key; the next call writes its value. */
void hp_json_key(hp_json *j, const char *key);
/** A string value, escaped; NULL writes null. */
void hp_json_str(hp_json *j, const char *s);
void hp_json_u64(hp_json *j, uint64_t v);
void hp_json_i64(hp_json *j, int64_t v);
/** Bytes as one string of lowercase hex digit pairs, no separators: the one style of bytes in
 * every document. */
void hp_json_hex(hp_json *j, const uint8_t *bytes, size_t n);
void hp_json_bool(hp_json *j, bool v);
void hp_json_null(hp_json *j);
/** End the document with a newline. */
void hp_json_finish(hp_json *j);

/** A writer for values of j's current array (one process's element) kept in mem, while j
 * goes on elsewhere; hp_json_join places them. */
void hp_json_part(hp_json *part, const hp_json *j, hp_outbuf *mem);
/** Right before part's kept bytes are written to j's stream: the comma between j's values
 * and part's, when both have some. */
void hp_json_join(hp_json *j, const hp_json *part);

#endif

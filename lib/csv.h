/* Private: a strict RFC 4180 reader with line numbers for messages.
 *
 * The whole input is held in memory and fields are unescaped in place, so
 * a record's fields are NUL-terminated strings valid until the next call.
 * Tolerates a UTF-8 BOM at the start, LF, CRLF or CR-only line ends, quoted
 * fields (with "" for a quote, and commas or newlines inside) and blank
 * lines, which are skipped. A BOM anywhere else is an error that names it.
 * Numbers are parsed in the C locale whatever the process locale.
 *
 * Files: only regular files are read (a FIFO, device, directory or socket
 * is refused without blocking), of at most DGN_CSV_MAX_BYTES.
 */
#ifndef DGN_LIB_CSV_H
#define DGN_LIB_CSV_H

#include <locale.h>
#include <stddef.h>

#include "dgn/common.h"

typedef struct dgn_csv {
    char *buf;          /* the input plus a terminating NUL */
    size_t len, pos;
    char *name;         /* path or label used in messages */
    size_t line;        /* line of the next unread character */
    size_t record_line; /* line on which the current record starts */
    char **field;
    size_t n_field, cap_field;
    locale_t c_locale;
} dgn_csv;

/* The largest file dgn_csv_open_file reads: 1 GiB, checked against the
 * file's size before reading and again while reading (a file that grows). */
#define DGN_CSV_MAX_BYTES ((size_t)1 << 30)

dgn_status dgn_csv_open_file(dgn_csv *r, const char *path);
/* The same with a smaller cap (tests). */
dgn_status dgn_csv_open_file_capped(dgn_csv *r, const char *path, size_t max_bytes);
/* Reads from a copy of data; name labels messages. */
dgn_status dgn_csv_open_buffer(dgn_csv *r, const char *name,
                               const char *data, size_t len);
void dgn_csv_close(dgn_csv *r);

/* Next non-blank record into r->field[0 .. r->n_field). *got is 0 at the
 * end of the input. */
dgn_status dgn_csv_next(dgn_csv *r, int *got);

typedef enum dgn_csv_number {
    DGN_CSV_NUMBER = 0,
    DGN_CSV_EMPTY,      /* empty or only white space */
    DGN_CSV_NOT_NUMBER, /* anything strtod does not consume whole */
    DGN_CSV_NONFINITE   /* nan, inf and overflowing values */
} dgn_csv_number;

/* Parse a field as a decimal number; surrounding spaces and tabs are
 * allowed. */
dgn_csv_number dgn_csv_parse_number(const dgn_csv *r, const char *text,
                                    double *value);

/* Header names compare with surrounding white space ignored. Refuses a
 * header whose fields first .. n_field−1 hold two equal names (in linear
 * time: a hash of the trimmed names) or, unless allow_empty, an empty one;
 * messages name both columns. */
dgn_status dgn_csv_check_header(const dgn_csv *r, size_t first, int allow_empty);

/* Index in names[first, n) of `name`: an exact match wins, then a unique
 * match on the last space-separated words of both ("SiO2" finds
 * "W% SiO2", and "W% SiO2" finds "SiO2"); surrounding white space is
 * ignored in both.
 * Messages start with `where`, call the thing a `role` (e.g. "component")
 * and the list entries `kind`s ("column"), numbered from 1. */
dgn_status dgn_find_name(const char *const *names, size_t first, size_t n,
                         const char *name, const char *where, const char *role,
                         const char *kind, size_t *idx);

/* The same lookups in constant time, for many names against one list:
 * build an index of names[first, n) (borrowed: they must outlive it). */
typedef struct dgn_names {
    const char *const *names;
    size_t first, n, size;
    size_t *slot; /* [3][size]: full names, last words, second last-word match */
} dgn_names;

dgn_status dgn_names_build(dgn_names *ix, const char *const *names, size_t first, size_t n);
dgn_status dgn_names_find(const dgn_names *ix, const char *name, const char *where,
                          const char *role, const char *kind, size_t *idx);
void dgn_names_free(dgn_names *ix);

/* dgn_find_name over the current record's fields; role names the
 * column's use in messages. */
dgn_status dgn_csv_find_column(const dgn_csv *r, size_t first, const char *name,
                               const char *role, size_t *col);

#endif

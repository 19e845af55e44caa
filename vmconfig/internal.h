/* Internals of the vmconfig module: the document model (one record per line,
 * its text kept as written) shared by the lexer, checks, editor and writer. */
#ifndef OSIO_VMCONFIG_INTERNAL_H
#define OSIO_VMCONFIG_INTERNAL_H

#include "vmconfig/schema.h"
#include "vmconfig/vmconfig.h"

#include <stdbool.h>
#include <stddef.h>

enum vc_kind {
	VC_BLANK,   /* nothing but spaces and tabs */
	VC_COMMENT, /* a comment, maybe indented */
	VC_SECTION, /* [type] or [type "name"] */
	VC_KEY,	    /* key = value */
};

struct vc_line {
	char *text; /* as written, without its line end; NUL-terminated */
	size_t len;
	char eol[3]; /* "", "\n" or "\r\n" */
	enum vc_kind kind;
	size_t at; /* VC_SECTION: offset of '['; VC_KEY: of the key */
	/* VC_SECTION */
	char *type;
	char *name; /* NULL when unnamed */
	/* VC_KEY */
	char *key;
	char *value;		    /* unquoted, unescaped */
	size_t value_at, value_end; /* the value's token (quotes included) in text */
	bool quoted;
};

struct vmconfig {
	char *path; /* NULL when not tied to a file */
	bool bom;   /* the text began with a UTF-8 byte order mark */
	struct vc_line *lines;
	size_t nlines, cap;
};

/* error.c */
/* Fills err (which may be NULL): file from path (NULL: ""), line and column
 * 1-based or 0 for none. */
void vc_error(struct vmconfig_error *err, const char *path, unsigned line, unsigned column,
	      const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/* 1-based column (in characters) of byte offset at in a UTF-8 line. */
unsigned vc_column(const char *text, size_t at);
/* "[disk \"system\"]" or "[vm]" into buf. */
void vc_section_label(const char *type, const char *name, char *buf, size_t size);
/* A value fit for a message: at most about 60 characters, cut on a
 * character boundary with "..." added. */
void vc_value_excerpt(const char *value, char *buf, size_t size);

/* lex.c */
/* Checks that a line is UTF-8 text without control characters other than
 * tab (and newline when newline_ok); 0, or -EINVAL with *at and msg set. */
int vc_check_text(const char *text, size_t len, bool newline_ok, size_t *at, char *msg,
		  size_t msglen);
/* Splits a checked line into its parts (line->text and len set by the
 * caller). 0, -ENOMEM, or -EINVAL with *at and msg set. Knows nothing of
 * the schema. */
int vc_lex_line(struct vc_line *line, size_t *at, char *msg, size_t msglen);
/* Whether a value is written in quotes: when it is empty or holds spaces,
 * tabs, newlines, quotes, '#' or ';'. */
bool vc_needs_quotes(const char *value);
/* The value as written in a file: bare, or in quotes with escapes when
 * quoted or needed. malloc'd, NULL when out of memory. */
char *vc_encode_value(const char *value, bool quoted);
void vc_line_clear(struct vc_line *line);
/* The offset in line->text of byte off of its (unescaped) value. */
size_t vc_value_offset(const struct vc_line *line, size_t off);

/* values.c */
/* Most entries in a VMCONFIG_T_LIST value (and choices of its key). */
#define VC_LIST_MAX 8
/* The words of [boot] order, in the order of enum boot_device. */
extern const char *const vc_boot_devices[];
/* A list of distinct choices (any case) separated by commas, spaces and
 * tabs around them ignored: their indexes into idx (room for VC_LIST_MAX),
 * their number into *n. 0, or -EINVAL with why and *at, the offset of the
 * entry at fault in s. */
int vc_parse_list(const char *s, const char *const *choices, int *idx, unsigned *n, size_t *at,
		  char *why, size_t whylen);

/* suggest.c */
/* Optimal string alignment distance (Damerau-Levenshtein with adjacent
 * transpositions); words longer than 64 bytes are "far". */
unsigned vc_distance(const char *a, const char *b);
/* The closest candidate close enough to be a likely typo of word, or NULL:
 * one that differs only in case, else distance at most 2 and at most a third
 * of the longer word's length (but 1 is always close enough). */
const char *vc_suggest(const char *word, const char *const *cands, size_t n);

/* schema.c */
/* Looks up a section type and checks the name it is given; msg is the whole
 * message ("unknown section [dsk]; did you mean [disk]?"). */
int vc_check_section(const char *type, const char *name, const struct vmconfig_section_info **out,
		     char *msg, size_t msglen);
/* Looks up a key of a section; msg says what is wrong and the fix. */
int vc_find_key_info(const struct vmconfig_section_info *s, const char *key,
		     const struct vmconfig_key_info **out, char *msg, size_t msglen);
/* Checks a value against its key's type and range; msg is the whole
 * message ("memory = '2X': not a size; ..."), *where (when not NULL) the
 * offset in value of the part at fault (0: the whole value). */
int vc_check_key_value(const struct vmconfig_key_info *k, const char *value, size_t *where,
		       char *msg, size_t msglen);
/* Index of value in a key's choices (any case), or -1. */
int vc_choice_index(const struct vmconfig_key_info *k, const char *value);

/* drives.c */
/* Places the IDE drives ([disk] on bus = ide and [dvd]) at their positions
 * (controller * 2 + location): pos[i] is the header line of the section at
 * position i, or -1. 0, or -EINVAL with err naming the section that does
 * not fit. */
int vc_place_drives(const struct vmconfig *cfg, long pos[VM_IDE_DRIVES],
		    struct vmconfig_error *err);

/* nic.c */
/* The rules of one [nic] (header at h, the index-th adapter): at most
 * VM_NICS_MAX, a name that fits a device id, queues with virtio only. */
int vc_check_nic(const struct vmconfig *cfg, size_t h, unsigned index, const char *label,
		 struct vmconfig_error *err);
/* The adapters into spec->nics in file order (all of them when the file has
 * any); dirlen: the vmconfig's directory part of its path, for tftp. */
int vc_fill_nics(const struct vmconfig *cfg, struct vm_spec *spec, size_t dirlen,
		 struct vmconfig_error *err);

/* document.c */
/* Index of the header line of a section, or -1. name NULL or "": unnamed. */
long vc_find_section(const struct vmconfig *cfg, const char *type, const char *name);
/* Index of the first line after a section (the next header or nlines). */
size_t vc_section_end(const struct vmconfig *cfg, size_t header);
/* Index of a key's line within the section at header, or -1. */
long vc_find_key(const struct vmconfig *cfg, size_t header, const char *key);
/* The line end new lines get: the first one in the file, or "\n". */
const char *vc_default_eol(const struct vmconfig *cfg);
/* Room for n more lines: 0 or -ENOMEM. */
int vc_reserve(struct vmconfig *cfg, size_t n);
/* Inserts a line at index at, taking over what *line holds (text and lexed
 * fields, malloc'd); its line end is chosen here. 0 or -ENOMEM (nothing
 * taken). */
int vc_insert_line(struct vmconfig *cfg, size_t at, struct vc_line *line);
void vc_remove_lines(struct vmconfig *cfg, size_t from, size_t to);

#endif
